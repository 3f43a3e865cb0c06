/*
 * cmd_restore.c -- `freevix restore DIR --to FILE`: a point in time of a
 * VM's disk as one local file, a flat monolithicSparse VMDK
 * (VixDiskLib_Clone through the chain) or a raw image (holes kept), and
 * checked bit for bit: the SHA-256 of what was written must be the
 * manifest's, or the file is removed.  The file is written under a
 * ".partial" name and renamed into place once checked, so FILE exists
 * only when it is right.  Restoring into vCenter is out of scope: the
 * datastore HTTPS interface has no ranged writes (docs/backup.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "diskhash.h"
#include "points.h"

#define RESTORE_OPTIONS "point,disk,to,format,json"

static void help(void)
{
  printf("usage: freevix restore DIR [--point N] [--disk KEY] --to FILE "
         "[--format vmdk|raw]\n\n"
         "Writes point N (default: the latest) of a VM's backup directory "
         "as one file:\na monolithicSparse VMDK (default) or a raw image, "
         "checked against the manifest's\nSHA-256.  A VM with several "
         "disks: --disk KEY, or --to an existing directory\n(one file per "
         "disk, <VM>-disk-KEY.vmdk or .img).  An existing file is never\n"
         "overwritten.\n");
}

/* path made absolute (VixDiskLib takes absolute paths only). */
static bool absolute(const char *path, char *out, size_t n)
{
  char cwd[PATH_MAX];

  if (path[0] == '/')
    return snprintf(out, n, "%s", path) < (int)n;
  if (!getcwd(cwd, sizeof cwd))
    return false;
  return snprintf(out, n, "%s/%s", cwd, path) < (int)n;
}

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

/* Hashes the file just written (a VMDK) and compares. */
static VixError check_vmdk(VixDiskLibConnection c, const char *path,
                           char got[65], char *what, size_t n)
{
  struct dh_job hs;
  VixDiskLibHandle h;
  uint64_t capacity;
  VixError err = dh_open(c, path, VIXDISKLIB_FLAG_OPEN_READ_ONLY, &h,
                         &capacity);

  if (err != VIX_OK) {
    snprintf(what, n, "opening the restored file");
    return err;
  }
  memset(&hs, 0, sizeof hs);
  hs.fd = -1;
  err = dh_hash(h, capacity, &hs);
  VixDiskLib_Close(h);
  snprintf(got, 65, "%s", hs.sha256);
  if (err != VIX_OK)
    snprintf(what, n, "%s", hs.what);
  return err;
}

static VixError restore_vmdk(VixDiskLibConnection c, const char *src,
                             const char *tmp, const struct manifest_disk *k,
                             char got[65], char *what, size_t n)
{
  VixDiskLibCreateParams cp;
  VixError err;

  memset(&cp, 0, sizeof cp);
  cp.diskType = VIXDISKLIB_DISK_MONOLITHIC_SPARSE;
  cp.adapterType = VIXDISKLIB_ADAPTER_SCSI_LSILOGIC;
  cp.hwVersion = VIXDISKLIB_HWVERSION_CURRENT;
  cp.capacity = k->capacity / VIXDISKLIB_SECTOR_SIZE;
  err = VixDiskLib_Clone(c, tmp, c, src, &cp, NULL, NULL, 0);
  if (err != VIX_OK) {
    snprintf(what, n, "VixDiskLib_Clone");
    return err;
  }
  return check_vmdk(c, tmp, got, what, n);
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

/* Restores one disk to target; prints the outcome.  Returns an exit
 * code. */
static int restore_disk(const struct cli_opts *o, VixDiskLibConnection c,
                        const struct backup_dir *d, const struct manifest *m,
                        const struct manifest_disk *k, const char *target,
                        bool raw)
{
  char src[4300], tmp[PATH_MAX + 32], got[65] = "", what[512] = "";
  struct stat st;
  VixError err;

  if (lstat(target, &st) == 0) {
    fprintf(stderr, "freevix restore: %s exists: not overwritten\n", target);
    return EXIT_FAILURE_OTHER;
  }
  bdir_file(d, k->file, src, sizeof src);
  snprintf(tmp, sizeof tmp, "%s.partial%s", target, raw ? "" : ".vmdk");
  if (lstat(tmp, &st) == 0) {
    fprintf(stderr, "freevix restore: %s exists (an interrupted restore?): "
            "remove it first\n", tmp);
    return EXIT_FAILURE_OTHER;
  }
  err = raw ? restore_raw(c, src, tmp, got, what, sizeof what)
            : restore_vmdk(c, src, tmp, k, got, what, sizeof what);
  if (err == VIX_OK && strcmp(got, k->sha256) != 0) {
    snprintf(what, sizeof what, "the restored data's SHA-256 is %s, the "
             "manifest's %s", got, k->sha256);
    err = VIX_E_DISK_INVALIDDISK;
  }
  if (err == VIX_OK) {
    err = raw ? (rename(tmp, target) == 0 ? VIX_OK : VIX_E_FILE_ERROR)
              : VixDiskLib_Rename(tmp, target);
    if (err == VIX_OK && fsync_dir_of(target) != 0)
      err = VIX_E_FILE_ERROR;
    if (err != VIX_OK)
      snprintf(what, sizeof what, "renaming %s to %s", tmp, target);
  }
  if (err != VIX_OK) {
    char *text = VixDiskLib_GetErrorText(err, NULL);

    if (raw)
      unlink(tmp);
    else
      VixDiskLib_Unlink(c, tmp);
    fprintf(stderr, "freevix restore: point %u disk %d: %s: %s; nothing "
            "was left at %s\n", m->point, (int)k->key, what, text ? text : "?",
            target);
    VixDiskLib_FreeErrorText(text);
    return cli_exit_code(err) == EXIT_USAGE ? EXIT_FAILURE_OTHER
                                            : cli_exit_code(err);
  }
  if (o->json) {
    printf("{\"point\":%u,\"disk\":%d,\"file\":", m->point, (int)k->key);
    cli_json_string(stdout, target);
    printf(",\"format\":\"%s\",\"sha256\":\"%s\"}\n", raw ? "raw" : "vmdk",
           got);
  } else {
    printf("point %u disk %d restored to %s (%s), sha256 %s as in the "
           "manifest\n", m->point, (int)k->key, target, raw ? "raw" : "vmdk",
           got);
  }
  return EXIT_OK;
}

/* Restores the chosen disks of m; returns an exit code. */
static int restore_point(const struct cli_opts *o, VixDiskLibConnection c,
                         const struct backup_dir *d, const struct manifest *m,
                         bool raw)
{
  char to[PATH_MAX], target[PATH_MAX + 300], vm[256];
  struct stat st;
  bool several;
  int rc = EXIT_OK;

  if (!absolute(o->to, to, sizeof to)) {
    fprintf(stderr, "freevix restore: --to %s: path too long\n", o->to);
    return EXIT_USAGE;
  }
  several = !o->disk_given && m->n_disks > 1;
  if (several && (stat(to, &st) != 0 || !S_ISDIR(st.st_mode))) {
    fprintf(stderr, "freevix restore: point %u has %zu disks: give --disk "
            "KEY, or --to an existing directory for all of them\n", m->point,
            m->n_disks);
    return EXIT_USAGE;
  }
  bdir_vm_name(m->vm_name, m->vm_moref, vm);
  for (size_t i = 0; i < m->n_disks && rc == EXIT_OK; i++) {
    const struct manifest_disk *k = &m->disks[i];

    if (o->disk_given && k->key != o->disk)
      continue;
    if (several)
      snprintf(target, sizeof target, "%s/%s-disk-%d.%s", to, vm, (int)k->key,
               raw ? "img" : "vmdk");
    else
      snprintf(target, sizeof target, "%s", to);
    rc = restore_disk(o, c, d, m, k, target, raw);
    if (o->disk_given)
      return rc;
  }
  if (o->disk_given && rc == EXIT_OK) {
    fprintf(stderr, "freevix restore: point %u has no disk %ld\n", m->point,
            o->disk);
    return EXIT_FAILURE_OTHER;
  }
  return rc;
}

int cmd_restore(int argc, char **argv)
{
  VixDiskLibConnection c = NULL;
  struct backup_dir d;
  struct manifest m;
  struct cli_opts o;
  const char *dir;
  bool raw;
  int rc = points_parse(argc, argv, "restore", RESTORE_OPTIONS, &o, &dir);

  if (rc != EXIT_OK || o.help) {
    if (o.help)
      help();
    cli_opts_free(&o);
    return o.help ? EXIT_OK : rc;
  }
  if (!o.to || (o.format && strcmp(o.format, "vmdk") != 0 &&
                strcmp(o.format, "raw") != 0)) {
    fprintf(stderr, "freevix restore: --to FILE is required; --format is "
            "vmdk or raw\n");
    cli_opts_free(&o);
    return EXIT_USAGE;
  }
  raw = o.format && strcmp(o.format, "raw") == 0;
  rc = points_open("restore", dir, &d);
  if (rc != EXIT_OK) {
    cli_opts_free(&o);
    return rc;
  }
  rc = points_load("restore", &d, o.point, &m);
  if (rc == EXIT_OK && (!cli_init_library(&o) ||
                        VixDiskLib_Connect(NULL, &c) != VIX_OK))
    rc = EXIT_FAILURE_OTHER;
  if (rc == EXIT_OK)
    rc = restore_point(&o, c, &d, &m, raw);
  if (c)
    VixDiskLib_Disconnect(c);
  VixDiskLib_Exit();
  manifest_free(&m);
  bdir_close(&d);
  cli_opts_free(&o);
  return rc;
}
