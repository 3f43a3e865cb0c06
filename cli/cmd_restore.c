/*
 * cmd_restore.c -- `freevix restore DIR --to FILE`: a point in time of a
 * VM's disk as one local file (restore.c writes and checks it), for each
 * disk the options choose; `freevix restore DIR --vm SPEC`: the point
 * written back into a powered-off VM's disks on vCenter over NFC
 * (restore_vm.c).
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
#include "restore_vm.h"

#define RESTORE_OPTIONS "point,disk,to,format,json,vm,server,port,user," \
                        "password-file,thumbprint,insecure,transport," \
                        "identity,wait,state-dir,no-verify"
#define DEFAULT_IDENTITY "freevix-restore"

static void help(const char *cmd)
{
  (void)cmd;
  printf("usage: freevix restore DIR [--point N] [--disk KEY] --to FILE "
         "[--format vmdk|raw]\n\n"
         "Writes point N (default: the latest) of a VM's backup directory "
         "as one file:\na monolithicSparse VMDK (default) or a raw image, "
         "checked against the manifest's\nSHA-256.  A VM with several "
         "disks: --disk KEY, or --to an existing directory\n(one file per "
         "disk, <VM>-disk-KEY.vmdk or .img).  An existing file is never\n"
         "overwritten.\n\n"
         "       freevix restore DIR [--point N] [--disk KEY] --vm SPEC "
         "--server HOST\n"
         "               --user USER [--transport nbdssl|nbd] [--identity "
         "ID] [--wait T]\n"
         "               [--no-verify] [--json]\n\n"
         "Writes the point back into the disks of a powered-off VM on "
         "vCenter (a disk of\nthe same device key and capacity for each), "
         "over NFC, between\nPrepareForAccess and EndAccess (identity "
         DEFAULT_IDENTITY " unless --identity);\neach disk is then read "
         "back and compared with the manifest (unless --no-verify).\n"
         "A VM's disks are overwritten: what was on them is gone.\n");
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

  if (!cli_absolute_path(o->to, to, sizeof to)) {
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

/* --to FILE or --vm SPEC (with a server), and what goes with each. */
static bool check_options(const struct cli_opts *o)
{
  if ((o->to != NULL) == (o->n_vms != 0) || o->n_vms > 1) {
    fprintf(stderr, "freevix restore: give --to FILE (a local file) or "
            "--vm SPEC (one VM on the server)\n");
    return false;
  }
  if (o->format && strcmp(o->format, "vmdk") != 0 &&
      strcmp(o->format, "raw") != 0) {
    fprintf(stderr, "freevix restore: --format is vmdk or raw\n");
    return false;
  }
  if (o->to && (o->server || o->no_verify || o->identity || o->transport)) {
    fprintf(stderr, "freevix restore: --server, --transport, --identity and "
            "--no-verify go with --vm\n");
    return false;
  }
  if (o->n_vms && o->format) {
    fprintf(stderr, "freevix restore: --format goes with --to\n");
    return false;
  }
  if (o->n_vms && (!o->server || !o->user || !o->password)) {
    fprintf(stderr, "freevix restore: --vm needs --server, --user and a "
            "password (--password-file or FREEVIX_PASSWORD)\n");
    return false;
  }
  return !o->identity || cli_check_identity("restore", o->identity) ==
                             EXIT_OK;
}

/* The point into a VM: its name resolved, signals caught. */
static int into_vm(struct cli_opts *o, VixDiskLibConnection c,
                   const struct backup_dir *d, const struct manifest *m)
{
  volatile sig_atomic_t *stop;
  int rc = cli_resolve_vms(o, "restore");

  if (rc != EXIT_OK)
    return rc;
  stop = cli_catch_stop_signals();
  rc = restore_vm(o, d, m, o->specs[0],
                  o->identity ? o->identity : DEFAULT_IDENTITY, c, stop);
  return *stop ? 128 + *stop : rc;
}

int cmd_restore(int argc, char **argv)
{
  VixDiskLibConnection c = NULL;
  struct backup_dir d;
  struct manifest m;
  struct cli_opts o;
  const char *dir;
  bool raw;
  int rc = points_parse(argc, argv, "restore", RESTORE_OPTIONS, help, &o, &dir);

  if (rc >= 0)
    return rc;
  if (!check_options(&o)) {
    cli_opts_free(&o);
    return EXIT_USAGE;
  }
  raw = o.format && strcmp(o.format, "raw") == 0;
  rc = points_open("restore", dir, 0, &d);
  if (rc != EXIT_OK) {
    cli_opts_free(&o);
    return rc;
  }
  rc = points_load("restore", &d, o.point, &m);
  if (rc == EXIT_OK && (!cli_init_library(&o) ||
                        VixDiskLib_Connect(NULL, &c) != VIX_OK))
    rc = EXIT_FAILURE_OTHER;
  if (rc == EXIT_OK && o.n_vms)
    rc = into_vm(&o, c, &d, &m);
  else if (rc == EXIT_OK)
    rc = restore_point(&o, c, &d, &m, raw);
  if (c)
    VixDiskLib_Disconnect(c);
  VixDiskLib_Exit();
  manifest_free(&m);
  bdir_close(&d);
  cli_opts_free(&o);
  return rc;
}
