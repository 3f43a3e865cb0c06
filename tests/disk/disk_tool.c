/*
 * disk_tool.c -- a small command driving the public disk API, for the shell
 * interop tests and the benchmark script.
 *
 *   disk_tool create TYPE PATH SECTORS      TYPE: 1..8 (VixDiskLibDiskType)
 *   disk_tool fill PATH SEED PERCENT        random 64 KiB blocks and sectors
 *   disk_tool dump PATH OUT [single]        whole disk to a (sparse) raw file
 *   disk_tool clone SRC DST TYPE
 *   disk_tool child PARENT CHILD
 *   disk_tool grow PATH SECTORS
 *   disk_tool check PATH [repair]
 *   disk_tool setmeta PATH KEY VALUE
 *   disk_tool zero PATH START SECTORS       write zeros (allocates grains)
 *   disk_tool shrink PATH
 *   disk_tool defrag PATH
 * Exit 0 on success, 1 with a message on failure.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vixDiskLib.h"

static VixDiskLibConnection conn;

static int fail(const char *what, VixError err)
{
  char *t = VixDiskLib_GetErrorText(err, NULL);

  fprintf(stderr, "disk_tool: %s: %s (%llu)\n", what, t ? t : "?",
          (unsigned long long)err);
  VixDiskLib_FreeErrorText(t);
  return 1;
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
  rng_state ^= rng_state << 13;
  rng_state ^= rng_state >> 7;
  rng_state ^= rng_state << 17;
  return rng_state;
}

static int cmd_fill(const char *path, uint64_t seed, unsigned percent)
{
  VixDiskLibHandle h;
  VixDiskLibInfo *info;
  static uint8 buf[65536];
  uint64_t cap, blocks, i, j;
  VixError err = VixDiskLib_Open(conn, path, 0, &h);

  if (err)
    return fail("open", err);
  VixDiskLib_GetInfo(h, &info);
  cap = info->capacity;
  VixDiskLib_FreeInfo(info);
  rng_state = seed * 2654435761u + 1;
  blocks = cap / 128;
  for (i = 0; i < blocks; i++) {
    if (rnd() % 100 >= percent)
      continue;
    for (j = 0; j < sizeof buf / 8; j++)
      ((uint64_t *)buf)[j] = rnd();
    if (rnd() % 8 == 0)
      memset(buf, 0, sizeof buf); /* an allocated block of zeros */
    err = VixDiskLib_Write(h, i * 128, 128, buf);
    if (err)
      return fail("write", err);
  }
  for (i = 0; i < 64 && cap; i++) { /* scattered single sectors */
    uint64_t s = rnd() % cap;

    for (j = 0; j < 64; j++)
      ((uint64_t *)buf)[j] = rnd();
    err = VixDiskLib_Write(h, s, 1, buf);
    if (err)
      return fail("write", err);
  }
  err = VixDiskLib_Close(h);
  return err ? fail("close", err) : 0;
}

static int cmd_dump(const char *path, const char *out, int single)
{
  VixDiskLibHandle h;
  VixDiskLibInfo *info;
  uint64_t cap, pos;
  uint8 *buf = malloc(1 << 20);
  static const uint8 zero[1 << 20];
  int fd;
  VixError err = VixDiskLib_Open(
      conn, path,
      VIXDISKLIB_FLAG_OPEN_READ_ONLY |
          (single ? VIXDISKLIB_FLAG_OPEN_SINGLE_LINK : 0),
      &h);

  if (err)
    return fail("open", err);
  VixDiskLib_GetInfo(h, &info);
  cap = info->capacity;
  VixDiskLib_FreeInfo(info);
  fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || !buf) {
    perror(out);
    return 1;
  }
  for (pos = 0; pos < cap; pos += 2048) {
    uint64_t n = cap - pos < 2048 ? cap - pos : 2048;

    err = VixDiskLib_Read(h, pos, n, buf);
    if (err)
      return fail("read", err);
    if (memcmp(buf, zero, n * 512) != 0 &&
        pwrite(fd, buf, n * 512, (off_t)(pos * 512)) != (ssize_t)(n * 512)) {
      perror("write");
      return 1;
    }
  }
  if (ftruncate(fd, (off_t)(cap * 512)) != 0) {
    perror("ftruncate");
    return 1;
  }
  close(fd);
  free(buf);
  err = VixDiskLib_Close(h);
  return err ? fail("close", err) : 0;
}

static int cmd_zero(const char *path, uint64_t start, uint64_t n)
{
  static const uint8 zero[2048 * 512];
  VixDiskLibHandle h;
  VixError err = VixDiskLib_Open(conn, path, 0, &h);

  if (err)
    return fail("open", err);
  while (!err && n) {
    uint64_t k = n < 2048 ? n : 2048;

    err = VixDiskLib_Write(h, start, k, zero);
    start += k;
    n -= k;
  }
  if (err) {
    VixDiskLib_Close(h);
    return fail("write", err);
  }
  err = VixDiskLib_Close(h);
  return err ? fail("close", err) : 0;
}

/* Shrink or Defragment; the progress must only go up and end at 100. */
static int last_pct = -1, pct_bad;

static Bool on_progress(void *data, int pct)
{
  (void)data;
  if (pct < last_pct)
    pct_bad = 1;
  last_pct = pct;
  return TRUE;
}

static int cmd_compact(const char *path, int shrink)
{
  VixDiskLibHandle h;
  VixError err = VixDiskLib_Open(conn, path, 0, &h);

  if (err)
    return fail("open", err);
  err = shrink ? VixDiskLib_Shrink(h, on_progress, NULL)
               : VixDiskLib_Defragment(h, on_progress, NULL);
  if (err) {
    VixDiskLib_Close(h);
    return fail(shrink ? "shrink" : "defragment", err);
  }
  err = VixDiskLib_Close(h);
  if (err)
    return fail("close", err);
  if (pct_bad || last_pct != 100) {
    fprintf(stderr, "disk_tool: progress went back or did not end at 100\n");
    return 1;
  }
  return 0;
}

int main(int argc, char **argv)
{
  VixError err;
  int rc = 2;

  if (argc < 3) {
    fprintf(stderr, "usage: see disk_tool.c\n");
    return 2;
  }
  err = VixDiskLib_InitEx(8, 0, NULL, NULL, NULL, NULL, NULL);
  if (!err)
    err = VixDiskLib_Connect(NULL, &conn);
  if (err)
    return fail("init", err);
  if (!strcmp(argv[1], "create") && argc == 5) {
    VixDiskLibCreateParams p;

    memset(&p, 0, sizeof p);
    p.diskType = (VixDiskLibDiskType)atoi(argv[2]);
    p.adapterType = VIXDISKLIB_ADAPTER_SCSI_LSILOGIC;
    p.hwVersion = VIXDISKLIB_HWVERSION_WORKSTATION_6;
    p.capacity = strtoull(argv[4], NULL, 0);
    err = VixDiskLib_Create(conn, argv[3], &p, NULL, NULL);
    rc = err ? fail("create", err) : 0;
  } else if (!strcmp(argv[1], "fill") && argc == 5) {
    rc = cmd_fill(argv[2], strtoull(argv[3], NULL, 0),
                  (unsigned)atoi(argv[4]));
  } else if (!strcmp(argv[1], "dump") && argc >= 4) {
    rc = cmd_dump(argv[2], argv[3], argc > 4);
  } else if (!strcmp(argv[1], "clone") && argc == 5) {
    VixDiskLibCreateParams p;

    memset(&p, 0, sizeof p);
    p.diskType = (VixDiskLibDiskType)atoi(argv[4]);
    p.adapterType = VIXDISKLIB_ADAPTER_SCSI_LSILOGIC;
    p.hwVersion = VIXDISKLIB_HWVERSION_WORKSTATION_6;
    err = VixDiskLib_Clone(conn, argv[3], conn, argv[2], &p, NULL, NULL,
                           FALSE);
    rc = err ? fail("clone", err) : 0;
  } else if (!strcmp(argv[1], "child") && argc == 4) {
    VixDiskLibHandle h;

    err = VixDiskLib_Open(conn, argv[2], VIXDISKLIB_FLAG_OPEN_READ_ONLY, &h);
    if (!err) {
      err = VixDiskLib_CreateChild(h, argv[3],
                                   VIXDISKLIB_DISK_MONOLITHIC_SPARSE, NULL,
                                   NULL);
      VixDiskLib_Close(h);
    }
    rc = err ? fail("child", err) : 0;
  } else if (!strcmp(argv[1], "grow") && argc == 4) {
    err = VixDiskLib_Grow(conn, argv[2], strtoull(argv[3], NULL, 0), TRUE,
                          NULL, NULL);
    rc = err ? fail("grow", err) : 0;
  } else if (!strcmp(argv[1], "check") && argc >= 3) {
    err = VixDiskLib_CheckRepair(conn, argv[2], argc > 3);
    rc = err ? fail("check", err) : 0;
  } else if (!strcmp(argv[1], "setmeta") && argc == 5) {
    VixDiskLibHandle h;

    err = VixDiskLib_Open(conn, argv[2], 0, &h);
    if (!err) {
      err = VixDiskLib_WriteMetadata(h, argv[3], argv[4]);
      VixDiskLib_Close(h);
    }
    rc = err ? fail("setmeta", err) : 0;
  } else if (!strcmp(argv[1], "zero") && argc == 5) {
    rc = cmd_zero(argv[2], strtoull(argv[3], NULL, 0),
                  strtoull(argv[4], NULL, 0));
  } else if (!strcmp(argv[1], "shrink") && argc == 3) {
    rc = cmd_compact(argv[2], 1);
  } else if (!strcmp(argv[1], "defrag") && argc == 3) {
    rc = cmd_compact(argv[2], 0);
  } else {
    fprintf(stderr, "disk_tool: bad command\n");
  }
  VixDiskLib_Disconnect(conn);
  VixDiskLib_Exit();
  return rc;
}
