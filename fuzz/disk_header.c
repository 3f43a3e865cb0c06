/*
 * disk_header.c -- fuzz target: a whole hosted sparse (or streamOptimized)
 * extent file.  The input becomes a memfd; the extent is opened through the
 * backend (header, footer, grain directory and tables checked) and a few
 * ranges are mapped and read, so damaged grain tables and compressed grains
 * are exercised as well.  Any crash, leak or unbounded allocation is a bug.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "common.h"
#include "disk/disk.h"
#include "disk/extent.h"
#include "disk/grain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static uint8_t buf[64 * 512];
  struct sparse_header h;
  struct extent e;
  int fd, i;

  fuzz_quiet_logs();
  fd = memfd_create("fuzz", 0);
  if (fd < 0)
    return 0;
  if (write(fd, data, size) != (ssize_t)size) {
    close(fd);
    return 0;
  }
  memset(&e, 0, sizeof e);
  e.fd = fd;
  e.path = "fuzz";
  e.type = DESC_EXT_SPARSE;
  e.file_size = size;
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
        (void)disk_pread(fd, buf, (size_t)(m.len * 512), m.offset, NULL,
                         "fuzz");
    }
    e.ops->close(&e);
  }
  close(fd);
  return 0;
}
