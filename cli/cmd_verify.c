/*
 * cmd_verify.c -- `freevix verify DIR`: re-reads every point (or --point
 * N) through VixDiskLib, each disk through its chain of child VMDKs, and
 * compares the SHA-256 of its whole content with the manifest's.  With
 * --deep it also reads the point's snapshot on the server, when the
 * snapshot still exists (backups remove theirs; one whose removal failed,
 * or an operator's kept one, can be compared).  Given a repository, it
 * verifies each VM directory in it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "diskhash.h"
#include "points.h"

#define VERIFY_OPTIONS "point,deep,json,server,port,user,password-file," \
                       "thumbprint,insecure,transport"

struct tally {
  unsigned ok, bad, skipped;
};

static void report(const struct cli_opts *o, const struct manifest *m,
                   const struct manifest_disk *k, const char *where,
                   const char *got, const char *problem)
{
  bool ok = !problem && strcmp(got, k->sha256) == 0;

  if (o->json) {
    fputs("{\"vm\":", stdout);
    cli_json_string(stdout, m->vm_name);
    printf(",\"point\":%u,\"disk\":%d,\"where\":\"%s\",\"ok\":%s,"
           "\"expected\":\"%s\",\"got\":", m->point, (int)k->key, where,
           ok ? "true" : "false", k->sha256);
    cli_json_string(stdout, got);
    fputs(",\"problem\":", stdout);
    cli_json_string(stdout, problem ? problem : "");
    fputs("}\n", stdout);
  } else if (ok) {
    printf("point %u disk %d (%s): ok, sha256 %s\n", m->point, (int)k->key,
           where, got);
  } else if (problem) {
    printf("point %u disk %d (%s): FAILED: %s\n", m->point, (int)k->key,
           where, problem);
  } else {
    printf("point %u disk %d (%s): MISMATCH: the manifest says %s, the "
           "data gives %s\n", m->point, (int)k->key, where, k->sha256, got);
  }
}

/* Hashes an open disk and reports it against k. */
static void check(const struct cli_opts *o, const struct manifest *m,
                  const struct manifest_disk *k, const char *where,
                  VixDiskLibHandle h, uint64_t capacity, struct tally *t)
{
  struct dh_job hs;
  char problem[512];
  VixError err;

  if (capacity * VIXDISKLIB_SECTOR_SIZE != k->capacity) {
    snprintf(problem, sizeof problem, "%llu sectors, the manifest says %llu "
             "bytes", (unsigned long long)capacity,
             (unsigned long long)k->capacity);
    report(o, m, k, where, "", problem);
    t->bad++;
    return;
  }
  memset(&hs, 0, sizeof hs);
  hs.fd = -1;
  err = dh_hash(h, capacity, &hs);
  if (err != VIX_OK) {
    char *text = VixDiskLib_GetErrorText(err, NULL);

    snprintf(problem, sizeof problem, "%s: %s", hs.what, text ? text : "?");
    VixDiskLib_FreeErrorText(text);
    report(o, m, k, where, "", problem);
    t->bad++;
    return;
  }
  report(o, m, k, where, hs.sha256, NULL);
  if (strcmp(hs.sha256, k->sha256) == 0)
    t->ok++;
  else
    t->bad++;
}

static void open_failed(const struct cli_opts *o, const struct manifest *m,
                        const struct manifest_disk *k, const char *where,
                        const char *what, VixError err, struct tally *t)
{
  char *text = VixDiskLib_GetErrorText(err, NULL);
  char problem[512];

  snprintf(problem, sizeof problem, "%s: %s", what, text ? text : "?");
  VixDiskLib_FreeErrorText(text);
  report(o, m, k, where, "", problem);
  t->bad++;
}

static void verify_local(const struct cli_opts *o, const struct backup_dir *d,
                         VixDiskLibConnection local, const struct manifest *m,
                         struct tally *t)
{
  for (size_t i = 0; i < m->n_disks; i++) {
    const struct manifest_disk *k = &m->disks[i];
    VixDiskLibHandle h;
    uint64_t capacity;
    char path[4300];
    VixError err;

    bdir_file(d, k->file, path, sizeof path);
    err = dh_open(local, path, VIXDISKLIB_FLAG_OPEN_READ_ONLY, &h,
                  &capacity);
    if (err != VIX_OK) {
      open_failed(o, m, k, "local", "opening the files", err, t);
      continue;
    }
    check(o, m, k, "local", h, capacity, t);
    VixDiskLib_Close(h);
  }
}

/* Compares with the snapshot on the server, if it is still there. */
static void verify_deep(const struct cli_opts *o, const struct manifest *m,
                        struct tally *t)
{
  VixDiskLibConnectParams p;
  VixDiskLibConnection conn;
  freevix_disk *disks = NULL;
  uint32 n = 0;
  char spec[128];
  VixError err;

  cli_params(o, (size_t)-1, &p);
  snprintf(spec, sizeof spec, "moref=%s", m->vm_moref);
  p.vmxSpec = spec;
  err = freevix_vm_disks(&p, m->snapshot_moref, &disks, &n);
  freevix_free(disks);
  if (err == VIX_E_SNAPSHOT_NOTFOUND || err == VIX_E_VM_NOT_FOUND) {
    printf("point %u: %s %s no longer exists on the server: not compared\n",
           m->point, err == VIX_E_VM_NOT_FOUND ? "VM" : "snapshot",
           err == VIX_E_VM_NOT_FOUND ? m->vm_moref : m->snapshot_moref);
    t->skipped += (unsigned)m->n_disks;
    return;
  }
  if (err == VIX_OK)
    err = VixDiskLib_ConnectEx(&p, 1, m->snapshot_moref, o->transport, &conn);
  if (err != VIX_OK) {
    for (size_t i = 0; i < m->n_disks; i++)
      open_failed(o, m, &m->disks[i], "server", "connecting to the snapshot",
                  err, t);
    return;
  }
  for (size_t i = 0; i < m->n_disks; i++) {
    const struct manifest_disk *k = &m->disks[i];
    VixDiskLibHandle h;
    uint64_t capacity;

    err = dh_open(conn, k->datastore_path, VIXDISKLIB_FLAG_OPEN_READ_ONLY,
                  &h, &capacity);
    if (err != VIX_OK) {
      open_failed(o, m, k, "server", "opening the snapshot's disk", err, t);
      continue;
    }
    check(o, m, k, "server", h, capacity, t);
    VixDiskLib_Close(h);
  }
  VixDiskLib_Disconnect(conn);
}

static void help(const char *cmd)
{
  (void)cmd;
  printf("usage: freevix verify DIR [--point N] [--deep --server HOST --user "
         "USER ...] [--json]\n\n"
         "Reads every point of a VM's backup directory (or point N; given "
         "the repository\nDIR of `freevix backup --to DIR`, of each VM in "
         "it) through VixDiskLib and\ncompares the SHA-256 of each disk with its "
         "manifest.  --deep also reads the\npoint's snapshot on the server "
         "when it still exists.  Exit status 0 when every\ndisk matches, 1 "
         "otherwise.\n");
}

struct run {
  const struct cli_opts *o;
  VixDiskLibConnection local;
  struct tally t;
  bool named; /* a repository: each VM directory's lines are headed by it */
};

/* Verifies one VM's backup directory (points_vm_fn). */
static int verify_dir(void *data, const char *dir)
{
  struct run *r = data;
  const struct cli_opts *o = r->o;
  struct tally before = r->t;
  struct backup_dir d;
  int rc = points_open("verify", dir, 0, &d);

  if (rc != EXIT_OK)
    return rc;
  if (r->named && !o->json)
    printf("%s:\n", d.path);
  for (size_t i = 0; i < d.n_points; i++) {
    struct manifest m;

    if (o->point && d.points[i] != o->point)
      continue;
    if (points_load("verify", &d, d.points[i], &m) != EXIT_OK) {
      r->t.bad++;
      manifest_free(&m);
      continue;
    }
    verify_local(o, &d, r->local, &m, &r->t);
    if (o->deep)
      verify_deep(o, &m, &r->t);
    manifest_free(&m);
  }
  if (o->point && r->t.ok + r->t.bad + r->t.skipped ==
                      before.ok + before.bad + before.skipped) {
    fprintf(stderr, "freevix verify: %s has no point %u\n", d.path,
            o->point);
    rc = EXIT_FAILURE_OTHER;
  }
  bdir_close(&d);
  if (rc == EXIT_OK && r->t.bad > before.bad)
    rc = EXIT_FAILURE_OTHER;
  return rc;
}

int cmd_verify(int argc, char **argv)
{
  struct run r;
  struct cli_opts o;
  const char *dir;
  int rc = points_parse(argc, argv, "verify", VERIFY_OPTIONS, help, &o, &dir);

  if (rc >= 0)
    return rc;
  if (o.deep && (!o.server || !o.user || !o.password)) {
    fprintf(stderr, "freevix verify: --deep needs --server, --user and a "
            "password\n");
    cli_opts_free(&o);
    return EXIT_USAGE;
  }
  memset(&r, 0, sizeof r);
  r.o = &o;
  r.named = true; /* points_each_vm calls verify_dir for repositories only */
  if (!cli_init_library(&o)) {
    cli_opts_free(&o);
    return EXIT_FAILURE_OTHER;
  }
  if (VixDiskLib_Connect(NULL, &r.local) != VIX_OK) {
    VixDiskLib_Exit();
    cli_opts_free(&o);
    return EXIT_FAILURE_OTHER;
  }
  if (!points_each_vm(dir, verify_dir, &r, &rc)) {
    r.named = false;
    rc = verify_dir(&r, dir);
  }
  if (!o.json)
    fprintf(stderr, "freevix verify: %u disk%s ok, %u failed%s\n", r.t.ok,
            r.t.ok == 1 ? "" : "s", r.t.bad,
            r.t.skipped ? ", some not compared with the server" : "");
  VixDiskLib_Disconnect(r.local);
  VixDiskLib_Exit();
  cli_opts_free(&o);
  return rc;
}
