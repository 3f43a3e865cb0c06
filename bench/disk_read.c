/*
 * disk_read.c -- read benchmark for local VMDK disks through the public
 * API.
 *
 *   disk_read PATH seq [CHUNK_SECTORS]     read the whole disk in order
 *   disk_read PATH alloc [CHUNK_SECTORS]   the same, but only the ranges
 *                                          QueryAllocatedBlocks lists (what
 *                                          a backup program does)
 *   disk_read PATH rand COUNT [SEED]       COUNT random 4 KiB reads
 *
 * Prints one line: mode, bytes, seconds, MiB/s (seq) or IOPS (rand), and
 * the peak resident set size (getrusage ru_maxrss).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "vixDiskLib.h"

static double now(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
  VixDiskLibConnection conn;
  VixDiskLibHandle h;
  VixDiskLibInfo *info;
  struct rusage ru;
  uint64_t cap, done = 0, i, chunk = 2048, count, rs;
  uint8 *buf;
  double t0, t;
  VixError err;

  if (argc < 3) {
    fprintf(stderr, "usage: disk_read PATH seq [CHUNK] | rand COUNT [SEED]\n");
    return 2;
  }
  if (VixDiskLib_InitEx(8, 0, NULL, NULL, NULL, NULL, NULL) ||
      VixDiskLib_Connect(NULL, &conn))
    return 1;
  err = VixDiskLib_Open(conn, argv[1], VIXDISKLIB_FLAG_OPEN_READ_ONLY, &h);
  if (err) {
    fprintf(stderr, "open failed: %llu\n", (unsigned long long)err);
    return 1;
  }
  VixDiskLib_GetInfo(h, &info);
  cap = info->capacity;
  VixDiskLib_FreeInfo(info);
  if (strcmp(argv[2], "rand") && argc > 3)
    chunk = strtoull(argv[3], NULL, 0);
  buf = malloc(chunk * 512 > 4096 ? chunk * 512 : 4096);
  t0 = now();
  if (!strcmp(argv[2], "seq")) {
    for (i = 0; i < cap && !err; i += chunk) {
      uint64_t n = cap - i < chunk ? cap - i : chunk;

      err = VixDiskLib_Read(h, i, n, buf);
      done += n * 512;
    }
  } else if (!strcmp(argv[2], "alloc")) {
    uint64_t q;

    for (q = 0; q < cap && !err; q += 65536 * 128) {
      uint64_t qn = cap - q < 65536 * 128 ? cap - q : 65536 * 128, b;
      VixDiskLibBlockList *bl;

      qn = (qn + 127) / 128 * 128;
      err = VixDiskLib_QueryAllocatedBlocks(h, q, qn, 128, &bl);
      for (b = 0; !err && b < bl->numBlocks; b++)
        for (i = bl->blocks[b].offset;
             !err && i < bl->blocks[b].offset + bl->blocks[b].length;
             i += chunk) {
          uint64_t end = bl->blocks[b].offset + bl->blocks[b].length;
          uint64_t n = end - i < chunk ? end - i : chunk;

          err = VixDiskLib_Read(h, i, n, buf);
          done += n * 512;
        }
      if (!err)
        VixDiskLib_FreeBlockList(bl);
    }
  } else {
    count = argc > 3 ? strtoull(argv[3], NULL, 0) : 10000;
    rs = argc > 4 ? strtoull(argv[4], NULL, 0) : 1;
    for (i = 0; i < count && !err; i++) {
      rs ^= rs << 13;
      rs ^= rs >> 7;
      rs ^= rs << 17;
      err = VixDiskLib_Read(h, rs % (cap / 8) * 8, 8, buf);
      done += 4096;
    }
  }
  t = now() - t0;
  getrusage(RUSAGE_SELF, &ru);
  if (err) {
    fprintf(stderr, "read failed: %llu\n", (unsigned long long)err);
    return 1;
  }
  if (strcmp(argv[2], "rand"))
    printf("freevix %s: %llu bytes in %.3f s = %.0f MiB/s, maxrss %ld KiB\n",
           argv[2], (unsigned long long)done, t,
           (double)done / t / 1048576.0, ru.ru_maxrss);
  else
    printf("freevix rand: %llu x 4 KiB in %.3f s = %.0f IOPS, maxrss %ld KiB\n",
           (unsigned long long)(done / 4096), t, (double)(done / 4096) / t,
           ru.ru_maxrss);
  free(buf);
  VixDiskLib_Close(h);
  VixDiskLib_Disconnect(conn);
  VixDiskLib_Exit();
  return 0;
}
