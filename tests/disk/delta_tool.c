/*
 * delta_tool.c -- writes the hand-built chains and stream disks of the
 * interop test (interop_delta.sh), with the bytes they must read as, so
 * qemu-img and freevix can each be compared with a model neither wrote.
 *
 *   delta_tool cowd DIR SECTORS GRAIN SEED   DIR/base.vmdk + DIR/cowd.vmdk
 *   delta_tool se DIR SECTORS SEED           DIR/base.vmdk + DIR/se.vmdk
 *   delta_tool stream PATH SECTORS SEED      Create (streamOptimized) and
 *                                            sequential Writes, then Close
 * Each writes the expected disk content to DIR/expected.raw (stream:
 * PATH.raw).  Exit 0, or 1 with a message.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "delta_images.h"
#include "seq_write.h"
#include "vixDiskLib.h"

static int save(const char *path, const uint8_t *buf, uint64_t len)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  uint64_t done = 0;

  if (fd < 0) {
    perror(path);
    return 1;
  }
  while (done < len) {
    ssize_t w = write(fd, buf + done, (size_t)(len - done));

    if (w <= 0) {
      perror(path);
      close(fd);
      return 1;
    }
    done += (uint64_t)w;
  }
  close(fd);
  return 0;
}

static int chain(const char *dir, uint64_t cap, uint32_t grain, unsigned seed,
                 bool se)
{
  struct dimg_info info;
  uint8_t *want = malloc((size_t)cap * 512);
  char path[4096];
  int rc;

  if (!want || dimg_make_base(dir, cap) ||
      (se ? dimg_make_sesparse(dir, "se", cap, seed, &info)
          : dimg_make_cowd(dir, "cowd", cap, grain, seed, &info))) {
    free(want);
    return 1;
  }
  dimg_expected(want, cap, grain, seed, se);
  snprintf(path, sizeof path, "%s/expected.raw", dir);
  rc = save(path, want, cap * 512);
  free(want);
  return rc;
}

static int fail(const char *what, VixError err)
{
  char *t = VixDiskLib_GetErrorText(err, NULL);

  fprintf(stderr, "delta_tool: %s: %s\n", what, t ? t : "?");
  VixDiskLib_FreeErrorText(t);
  return 1;
}

static int stream(const char *path, uint64_t cap, unsigned seed)
{
  VixDiskLibConnection conn;
  VixDiskLibCreateParams p;
  VixDiskLibHandle h;
  uint8_t *model = calloc((size_t)cap, 512);
  char raw[4096];
  VixError err;
  int rc = 1;

  if (!model)
    return 1;
  memset(&p, 0, sizeof p);
  p.diskType = VIXDISKLIB_DISK_STREAM_OPTIMIZED;
  p.adapterType = VIXDISKLIB_ADAPTER_SCSI_LSILOGIC;
  p.hwVersion = VIXDISKLIB_HWVERSION_WORKSTATION_5;
  p.capacity = cap;
  err = VixDiskLib_InitEx(8, 0, NULL, NULL, NULL, NULL, NULL);
  if (!err)
    err = VixDiskLib_Connect(NULL, &conn);
  if (err) {
    free(model);
    return fail("init", err);
  }
  err = VixDiskLib_Create(conn, path, &p, NULL, NULL);
  if (!err)
    err = VixDiskLib_Open(conn, path, 0, &h);
  if (!err) {
    err = seq_write(h, cap, seed, model);
    if (!err)
      err = VixDiskLib_Close(h);
    else
      VixDiskLib_Close(h);
  }
  if (err) {
    rc = fail("stream", err);
  } else {
    snprintf(raw, sizeof raw, "%s.raw", path);
    rc = save(raw, model, cap * 512);
  }
  free(model);
  VixDiskLib_Disconnect(conn);
  VixDiskLib_Exit();
  return rc;
}

int main(int argc, char **argv)
{
  if (argc == 6 && strcmp(argv[1], "cowd") == 0)
    return chain(argv[2], strtoull(argv[3], NULL, 0),
                 (uint32_t)strtoul(argv[4], NULL, 0),
                 (unsigned)atoi(argv[5]), false);
  if (argc == 5 && strcmp(argv[1], "se") == 0)
    return chain(argv[2], strtoull(argv[3], NULL, 0), 8,
                 (unsigned)atoi(argv[4]), true);
  if (argc == 5 && strcmp(argv[1], "stream") == 0)
    return stream(argv[2], strtoull(argv[3], NULL, 0),
                  (unsigned)atoi(argv[4]));
  fprintf(stderr, "usage: delta_tool cowd DIR SECTORS GRAIN SEED | "
                  "se DIR SECTORS SEED | stream PATH SECTORS SEED\n");
  return 1;
}
