/*
 * cmd_restore.c -- `freevix restore DIR --to FILE`: a point in time of a
 * VM's disk as one local file (restore.c writes and checks it), for each
 * disk the options choose.  Restoring into vCenter is out of scope: the
 * datastore HTTPS interface has no ranged writes (docs/backup.md).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "points.h"
#include "restore.h"

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

/* Restores one disk to target; prints the outcome.  Returns an exit
 * code. */
static int restore_disk(const struct cli_opts *o, VixDiskLibConnection c,
                        const struct backup_dir *d, const struct manifest *m,
                        const struct manifest_disk *k, const char *target,
                        bool raw)
{
  char src[4300], got[65] = "", what[600] = "";
  VixError err;

  bdir_file(d, k->file, src, sizeof src);
  err = restore_file(c, src, target, raw, k->sha256, got, what, sizeof what);
  if (err != VIX_OK) {
    char *text = VixDiskLib_GetErrorText(err, NULL);

    fprintf(stderr, "freevix restore: point %u disk %d: %s: %s\n", m->point,
            (int)k->key, what, text ? text : "?");
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
