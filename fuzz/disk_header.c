/*
 * disk_header.c -- fuzz target: a whole hosted sparse (or streamOptimized)
 * extent file.  The input becomes a memfd, opened as a posix byte source
 * (file.h) through /proc/self/fd; the extent is opened through the
 * backend (header, footer, grain directory and tables checked) and a few
 * ranges are mapped and read, so damaged grain tables and compressed grains
 * are exercised as well.  Any crash, leak or unbounded allocation is a bug.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"
#include "disk/disk.h"
#include "disk/extent.h"
#include "disk/file.h"
#include "disk/grain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static uint8_t buf[64 * 512];
  struct sparse_header h;
  struct extent e;
  char name[64];
  int fd, i;

  fuzz_quiet_logs();
  fd = memfd_create("fuzz", 0);
  if (fd < 0)
    return 0;
  memset(&e, 0, sizeof e);
  snprintf(name, sizeof name, "/proc/self/fd/%d", fd);
  if (write(fd, data, size) != (ssize_t)size ||
      disk_vfs_posix()->open(disk_vfs_posix(), name, 0, &e.file) != DISK_OK) {
    close(fd);
    return 0;
  }
  e.type = DESC_EXT_SPARSE;
  e.sectors = 1; /* widened to the header's capacity below */
  if (size >= 512 && sparse_header_decode(&h, data, "fuzz") == DISK_OK)
    e.sectors = h.capacity;
  if (e.sectors && sparse_open(&e) == DISK_OK) {
    for (i = 0; i < 16; i++) {
      uint64_t s = e.sectors / 16 * (uint64_t)i, n = e.sectors - s;
      struct extent_map m;

      if (n > 64)
        n = 64;
      if (!n || e.ops->map(&e, s, n, &m) != DISK_OK)
        continue;
      if (m.kind == MAP_CODED)
        (void)e.ops->read(&e, s, m.len, buf);
      else if (m.kind == MAP_DATA)
        (void)disk_file_pread(e.file, buf, (size_t)(m.len * 512), m.offset,
                              NULL);
    }
    e.ops->close(&e);
  }
  disk_file_close(e.file);
  close(fd);
  return 0;
}
