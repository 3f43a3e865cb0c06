/*
 * restore.c -- see restore.h.
 */
#include "restore.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "diskhash.h"

static int fsync_dir_of(const char *path)
{
  char copy[PATH_MAX];
  int fd, e = 0;

  snprintf(copy, sizeof copy, "%s", path);
  fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) != 0)
    e = errno ? errno : EIO;
  if (fd >= 0)
    close(fd);
  return e;
}

static VixError restore_vmdk(VixDiskLibConnection c, const char *src,
                             const char *tmp, char got[65], char *what,
                             size_t n)
{
  VixDiskLibCreateParams cp;
  VixDiskLibHandle h;
  uint64_t capacity;
  VixError err = dh_open(c, src, VIXDISKLIB_FLAG_OPEN_READ_ONLY, &h,
                         &capacity);

  if (err != VIX_OK) {
    snprintf(what, n, "opening the backup");
    return err;
  }
  VixDiskLib_Close(h);
  memset(&cp, 0, sizeof cp);
  cp.diskType = VIXDISKLIB_DISK_MONOLITHIC_SPARSE;
  cp.adapterType = VIXDISKLIB_ADAPTER_SCSI_LSILOGIC;
  cp.hwVersion = VIXDISKLIB_HWVERSION_CURRENT;
  cp.capacity = capacity;
  err = VixDiskLib_Clone(c, tmp, c, src, &cp, NULL, NULL, 0);
  if (err != VIX_OK) {
    snprintf(what, n, "VixDiskLib_Clone");
    return err;
  }
  return dh_hash_path(c, tmp, NULL, "the restored file", got, what, n);
}

static VixError restore_raw(VixDiskLibConnection c, const char *src,
                            const char *tmp, char got[65], char *what,
                            size_t n)
{
  struct dh_job hs;
  VixDiskLibHandle h;
  uint64_t capacity;
  VixError err;
  int fd;

  err = dh_open(c, src, VIXDISKLIB_FLAG_OPEN_READ_ONLY, &h, &capacity);
  if (err != VIX_OK) {
    snprintf(what, n, "opening the backup");
    return err;
  }
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0 || ftruncate(fd, (off_t)(capacity * VIXDISKLIB_SECTOR_SIZE))) {
    err = errno == ENOSPC || errno == EFBIG ? VIX_E_DISK_FULL
                                            : VIX_E_FILE_ERROR;
    snprintf(what, n, "creating %s: %s", tmp, strerror(errno));
    if (fd >= 0)
      close(fd);
    VixDiskLib_Close(h);
    return err;
  }
  memset(&hs, 0, sizeof hs);
  hs.fd = fd;
  err = dh_hash(h, capacity, &hs);
  VixDiskLib_Close(h);
  if (err != VIX_OK)
    snprintf(what, n, "%s", hs.what);
  if (err == VIX_OK && fsync(fd) != 0) {
    err = errno == ENOSPC ? VIX_E_DISK_FULL : VIX_E_FILE_ERROR;
    snprintf(what, n, "fsync %s: %s", tmp, strerror(errno));
  }
  if (close(fd) != 0 && err == VIX_OK) {
    err = VIX_E_FILE_ERROR;
    snprintf(what, n, "close %s: %s", tmp, strerror(errno));
  }
  snprintf(got, 65, "%s", hs.sha256);
  return err;
}

VixError restore_file(VixDiskLibConnection c, const char *src,
                      const char *target, bool raw, const char *expected,
                      char got[65], char *what, size_t n)
{
  char tmp[PATH_MAX + 32];
  struct stat st;
  VixError err;

  got[0] = '\0';
  snprintf(tmp, sizeof tmp, "%s.partial%s", target, raw ? "" : ".vmdk");
  if (lstat(target, &st) == 0 || lstat(tmp, &st) == 0) {
    snprintf(what, n, "%s exists: not overwritten%s",
             lstat(target, &st) == 0 ? target : tmp,
             lstat(target, &st) == 0 ? "" : " (an interrupted restore? "
                                            "remove it)");
    return VIX_E_FILE_ALREADY_EXISTS;
  }
  err = raw ? restore_raw(c, src, tmp, got, what, n)
            : restore_vmdk(c, src, tmp, got, what, n);
  if (err == VIX_OK && strcmp(got, expected) != 0) {
    snprintf(what, n, "the restored data's SHA-256 is %s, the manifest's %s",
             got, expected);
    err = VIX_E_DISK_INVALIDDISK;
  }
  if (err == VIX_OK) {
    err = raw ? (rename(tmp, target) == 0 ? VIX_OK : VIX_E_FILE_ERROR)
              : VixDiskLib_Rename(tmp, target);
    if (err == VIX_OK && fsync_dir_of(target) != 0)
      err = VIX_E_FILE_ERROR;
    if (err != VIX_OK)
      snprintf(what, n, "renaming %s to %s", tmp, target);
  }
  if (err != VIX_OK) {
    if (raw)
      unlink(tmp);
    else
      VixDiskLib_Unlink(c, tmp);
  }
  return err;
}
