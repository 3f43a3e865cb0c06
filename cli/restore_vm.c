/*
 * restore_vm.c -- see restore_vm.h.
 *
 * The order is VDDK's for a restore: PrepareForAccess (a journal lease, so
 * a crash is swept), ConnectEx read-write, for each disk Open without
 * READ_ONLY, Write, Flush, Close, then Disconnect and EndAccess, the last
 * one also after an error or a signal.  The library sends writable opens
 * to NFC (HTTPS cannot write) and refuses a disk the host will not let it
 * write; the VM is checked to be powered off first, so the usual refusal
 * is a clear message before anything changes.
 *
 * What goes over the wire: the backup's allocated blocks, and zeros where
 * the target holds data the backup does not (the target's own allocated
 * blocks, asked before the first write), so the whole disk becomes the
 * point without writing its holes.  A target whose disk is a delta chain
 * is written whole: its leaf's allocation says nothing of its parents'.
 *
 * Exact bytes or a clear error: the backup chain is hashed before anything
 * is written (a damaged backup is refused while the VM is untouched), the
 * copy hashes what it reads again, and the disk is read back over the
 * network and compared with the manifest (unless --no-verify).
 *
 * The steps of the test hook (steps.h), named by the VM's moref:
 *   prepared   PrepareForAccess held (a journal lease: `freevix sweep`
 *              ends it after a crash)
 *   writing    the first bytes of the first disk are written
 *   written    every disk is written, flushed and read back; EndAccess
 *              is next
 */
#include "restore_vm.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "copy.h"
#include "diskhash.h"
#include "spans.h"
#include "steps.h"

#define CHUNK 2048u /* sectors per request: 1 MiB */
#define DEPTH 4u    /* reads of the local backup in flight */

/* One disk of the point and the VM disk it goes to. */
struct target {
  const struct manifest_disk *k;
  const freevix_disk *t;
};

struct restore {
  const struct cli_opts *o;
  const struct backup_dir *d;
  const struct manifest *m;
  VixDiskLibConnection local, conn;
  volatile sig_atomic_t *cancel;
  freevix_vm_info info;
  freevix_disk *disks;
  uint32 n_disks;
  struct target *targets;
  size_t n_targets;
  bool touched;    /* a disk of the VM has been written to */
  bool writing;    /* the step "writing" was passed */
};

static void say(const struct restore *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void say(const struct restore *r, const char *fmt, ...)
{
  va_list ap;

  fprintf(stderr, "freevix restore: %s: ", r->info.name);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

/* Prints what failed, with the library's text; returns the exit code. */
static int failed(const struct restore *r, VixError err, const char *what)
{
  char *text = VixDiskLib_GetErrorText(err, NULL);
  int rc = cli_exit_code(err);

  fprintf(stderr, "freevix restore: %s: %s: %s\n",
          r->info.name[0] ? r->info.name : "the VM", what, text ? text : "?");
  VixDiskLib_FreeErrorText(text);
  return rc == EXIT_USAGE || rc == EXIT_OK ? EXIT_FAILURE_OTHER : rc;
}

static const freevix_disk *vm_disk(const struct restore *r, int32_t key)
{
  for (uint32 i = 0; i < r->n_disks; i++)
    if (r->disks[i].key == key)
      return &r->disks[i];
  return NULL;
}

/* Pairs the point's disks with the VM's; refuses, before anything
 * changes, a VM that is running or whose disks do not match. */
static int plan(struct restore *r, const char *spec)
{
  const struct cli_opts *o = r->o;
  VixDiskLibConnectParams p;
  VixError err;

  cli_params(o, (size_t)-1, &p);
  p.vmxSpec = (char *)spec;
  err = freevix_vm_describe(&p, &r->info);
  if (err != VIX_OK)
    return failed(r, err, "finding the VM");
  if (strcmp(r->info.powerState, "poweredOff") != 0) {
    fprintf(stderr, "freevix restore: %s (%s) is %s: its disks can be "
            "written only while it is powered off (ESXi refuses writes to "
            "a running VM's disks, as VDDK does); power it off first\n",
            r->info.name, r->info.moref, r->info.powerState);
    return EXIT_FAILURE_OTHER;
  }
  err = freevix_vm_disks(&p, NULL, &r->disks, &r->n_disks);
  if (err != VIX_OK)
    return failed(r, err, "reading the VM's disks");
  r->targets = calloc(r->m->n_disks ? r->m->n_disks : 1, sizeof *r->targets);
  if (!r->targets)
    return failed(r, VIX_E_OUT_OF_MEMORY, "planning");
  for (size_t i = 0; i < r->m->n_disks; i++) {
    const struct manifest_disk *k = &r->m->disks[i];
    const freevix_disk *t;

    if (o->disk_given && k->key != o->disk)
      continue;
    t = vm_disk(r, k->key);
    if (!t) {
      fprintf(stderr, "freevix restore: %s (%s) has no disk %d (\"%s\" of "
              "point %u); restore one disk into another VM with --disk\n",
              r->info.name, r->info.moref, (int)k->key, k->label,
              r->m->point);
      return EXIT_FAILURE_OTHER;
    }
    if (t->capacity != k->capacity) {
      fprintf(stderr, "freevix restore: %s (%s) disk %d holds %llu bytes, "
              "point %u's %llu: a restore needs the same capacity (grow or "
              "create the disk first)\n", r->info.name, r->info.moref,
              (int)k->key, (unsigned long long)t->capacity, r->m->point,
              (unsigned long long)k->capacity);
      return EXIT_FAILURE_OTHER;
    }
    r->targets[r->n_targets].k = k;
    r->targets[r->n_targets++].t = t;
  }
  if (r->n_targets == 0) {
    fprintf(stderr, "freevix restore: point %u has no disk %ld\n",
            r->m->point, o->disk);
    return EXIT_FAILURE_OTHER;
  }
  return EXIT_OK;
}

/* The backup chain of k, hashed before the VM is touched. */
static int check_backup(const struct restore *r, const struct manifest_disk *k)
{
  char path[4300], sha256[65], what[512];
  VixError err;

  bdir_file(r->d, k->file, path, sizeof path);
  err = dh_hash_path(r->local, path, r->cancel, "the backup", sha256, what,
                     sizeof what);
  if (err != VIX_OK)
    return failed(r, err, what);
  if (strcmp(sha256, k->sha256) != 0) {
    fprintf(stderr, "freevix restore: point %u disk %d: the backup's "
            "SHA-256 is %s, the manifest's %s: damaged, nothing written "
            "(freevix verify tells more)\n", r->m->point, (int)k->key,
            sha256, k->sha256);
    return EXIT_FAILURE_OTHER;
  }
  return EXIT_OK;
}

/* What to write into dst: the backup's blocks and the target's. */
static VixError plan_spans(const struct target *g, VixDiskLibHandle src,
                           VixDiskLibHandle dst, uint64_t capacity,
                           struct spans *out)
{
  struct spans a, b;
  VixError err;
  bool ok;

  err = spans_allocated(src, capacity, CHUNK, &a);
  if (err != VIX_OK)
    return err;
  memset(&b, 0, sizeof b);
  if (g->t->chainLength > 1)
    ok = spans_add(&b, 0, capacity);
  else
    ok = (err = spans_allocated(dst, capacity, CHUNK, &b)) == VIX_OK;
  if (ok)
    ok = spans_union(&a, &b, out);
  spans_free(&a);
  spans_free(&b);
  return ok ? VIX_OK : err != VIX_OK ? err : VIX_E_OUT_OF_MEMORY;
}

static void print_done(const struct restore *r, const struct target *g,
                       const char *mode, const struct copy_job *j)
{
  const char *check = r->o->no_verify ? "not read back (--no-verify)"
                                      : "read back as in the manifest";

  if (r->o->json) {
    printf("{\"point\":%u,\"disk\":%d,\"vm\":", r->m->point, (int)g->k->key);
    cli_json_string(stdout, r->info.moref);
    fputs(",\"path\":", stdout);
    cli_json_string(stdout, g->t->path);
    printf(",\"transport\":\"%s\",\"bytes_written\":%llu,\"sha256\":\"%s\","
           "\"verified\":%s}\n", mode,
           (unsigned long long)j->bytes_written, g->k->sha256,
           r->o->no_verify ? "false" : "true");
  } else {
    printf("point %u disk %d restored into %s (%s) %s over %s: %llu bytes "
           "written, sha256 %s %s\n", r->m->point, (int)g->k->key,
           r->info.name, r->info.moref, g->t->path, mode,
           (unsigned long long)j->bytes_written, g->k->sha256, check);
  }
}

static void on_progress(void *data, uint64_t bytes)
{
  struct restore *r = data;

  if (!r->writing && bytes) {
    r->writing = true;
    cli_step(r->info.moref, "writing");
  }
}

/* Writes one disk.  Once the first write may have landed, a failure
 * leaves the disk neither the point nor what it was: said loudly. */
static int restore_disk(struct restore *r, const struct target *g)
{
  VixDiskLibHandle src = NULL, dst = NULL;
  struct spans spans = {0};
  struct copy_job j;
  uint64_t capacity;
  char path[4300], what[512] = "", got[65] = "";
  const char *mode = "";
  VixError err;

  bdir_file(r->d, g->k->file, path, sizeof path);
  err = dh_open(r->local, path, VIXDISKLIB_FLAG_OPEN_READ_ONLY, &src,
                &capacity);
  if (err != VIX_OK)
    return failed(r, err, "opening the backup");
  err = VixDiskLib_Open(r->conn, g->t->path, 0, &dst);
  if (err != VIX_OK) {
    VixDiskLib_Close(src);
    return failed(r, err, "opening the VM's disk for writing");
  }
  mode = VixDiskLib_GetTransportMode(dst);
  err = plan_spans(g, src, dst, capacity, &spans);
  if (err != VIX_OK) {
    VixDiskLib_Close(dst);
    VixDiskLib_Close(src);
    return failed(r, err, "asking which blocks are allocated");
  }
  say(r, "disk %d: writing %llu MiB of point %u into %s over %s",
      (int)g->k->key,
      (unsigned long long)(spans_total(&spans) * VIXDISKLIB_SECTOR_SIZE >> 20),
      r->m->point, g->t->path, mode);
  memset(&j, 0, sizeof j);
  j.src = src;
  j.capacity = capacity;
  j.spans = &spans;
  j.fill = COPY_FILL_ZERO;
  j.dst = dst;
  j.sink = COPY_SINK_DISK;
  j.write_zeros = true; /* zeros over the target's old data */
  j.chunk = CHUNK;
  j.depth = DEPTH;
  j.cancel = r->cancel;
  j.progress = on_progress;
  j.progress_data = r;
  r->touched = true;
  err = copy_run(&j);
  snprintf(what, sizeof what, "%s", j.what);
  if (err == VIX_OK) {
    copy_hex(j.sha256, got);
    if (strcmp(got, g->k->sha256) != 0) {
      snprintf(what, sizeof what, "the backup read %s while writing, the "
               "manifest says %s", got, g->k->sha256);
      err = VIX_E_DISK_INVALIDDISK;
    }
  }
  if (err == VIX_OK && (err = VixDiskLib_Flush(dst)) != VIX_OK)
    snprintf(what, sizeof what, "VixDiskLib_Flush");
  VixDiskLib_Close(src);
  if (VixDiskLib_Close(dst) != VIX_OK && err == VIX_OK) {
    err = VIX_E_FAIL;
    snprintf(what, sizeof what, "closing the VM's disk");
  }
  spans_free(&spans);
  if (err == VIX_OK && !r->o->no_verify) {
    err = dh_hash_path(r->conn, g->t->path, r->cancel, "the restored disk",
                       got, what, sizeof what);
    if (err == VIX_OK && strcmp(got, g->k->sha256) != 0) {
      snprintf(what, sizeof what, "read back, the disk's SHA-256 is %s, the "
               "manifest's %s", got, g->k->sha256);
      err = VIX_E_DISK_INVALIDDISK;
    }
  }
  if (err != VIX_OK) {
    int rc = failed(r, err, what);

    fprintf(stderr, "freevix restore: %s (%s) disk %d (%s) is PARTLY "
            "restored: its content is neither point %u nor what it was; run "
            "the restore again\n", r->info.name, r->info.moref,
            (int)g->k->key, g->t->path, r->m->point);
    return rc;
  }
  print_done(r, g, mode, &j);
  return EXIT_OK;
}

/* PrepareForAccess on the VM (a journal lease owned by this process). */
static int prepare(const struct restore *r, const char *identity,
                   const char *spec, freevix_access **access)
{
  struct cli_opts o = *r->o;
  const char *specs[1] = {spec};
  freevix_vm_result res;
  VixError err;
  int rc;

  o.identity = identity;
  rc = cli_access_open(&o, "restore", "journal", true, access);
  if (rc != EXIT_OK)
    return rc;
  err = freevix_access_prepare(*access, specs, 1, &res);
  if (err != VIX_OK) {
    if (res.holder[0]) {
      fprintf(stderr, "freevix restore: PrepareForAccess: %s is held by "
              "'%s'%s\n", r->info.moref, res.holder,
              r->o->wait_ms ? " (after --wait)" : "; --wait waits for it");
      rc = EXIT_HELD;
    } else {
      rc = failed(r, err, "PrepareForAccess");
    }
    freevix_access_close(*access);
    *access = NULL;
    return rc;
  }
  say(r, "migration disabled (PrepareForAccess, identity '%s')", identity);
  return EXIT_OK;
}

/* EndAccess; a failure is loud and names the command that finishes it. */
static int end_access(const struct restore *r, freevix_access *access,
                      const char *spec)
{
  const char *specs[1] = {spec};
  freevix_vm_result res;
  VixError err = freevix_access_end(access, specs, 1, &res);
  char hint[4600];

  freevix_access_close(access);
  if (err == VIX_OK) {
    say(r, "migration allowed again (EndAccess)");
    return EXIT_OK;
  }
  cli_sweep_hint(r->o, hint, sizeof hint);
  failed(r, err, "EndAccess (allowing migration again)");
  fprintf(stderr, "freevix restore: CLEAN-UP FAILED: %s (%s) cannot be "
          "migrated until `%s` runs (once this command has ended)\n",
          r->info.name, r->info.moref, hint);
  return EXIT_FAILURE_OTHER;
}

int restore_vm(const struct cli_opts *o, const struct backup_dir *d,
               const struct manifest *m, const char *spec,
               const char *identity, VixDiskLibConnection local,
               volatile sig_atomic_t *cancel)
{
  struct restore r;
  freevix_access *access = NULL;
  VixDiskLibConnectParams p;
  char moref_spec[128];
  VixError err;
  int rc, end_rc;

  memset(&r, 0, sizeof r);
  r.o = o;
  r.d = d;
  r.m = m;
  r.local = local;
  r.cancel = cancel;
  rc = plan(&r, spec);
  for (size_t i = 0; i < r.n_targets && rc == EXIT_OK && !*cancel; i++)
    rc = check_backup(&r, r.targets[i].k);
  if (rc == EXIT_OK && !*cancel) {
    /* The moref, not the spec as given: the VM cannot change under a name
     * between the checks and the writes. */
    snprintf(moref_spec, sizeof moref_spec, "moref=%s", r.info.moref);
    rc = prepare(&r, identity, moref_spec, &access);
    if (rc == EXIT_OK)
      cli_step(r.info.moref, "prepared");
  }
  if (rc == EXIT_OK && !*cancel) {
    cli_params(o, (size_t)-1, &p);
    p.vmxSpec = moref_spec;
    err = VixDiskLib_ConnectEx(&p, 0, NULL, o->transport, &r.conn);
    if (err != VIX_OK)
      rc = failed(&r, err, "connecting to the VM's disks");
  }
  for (size_t i = 0; i < r.n_targets && rc == EXIT_OK && !*cancel; i++)
    rc = restore_disk(&r, &r.targets[i]);
  if (rc == EXIT_OK && !*cancel)
    cli_step(r.info.moref, "written");
  if (r.conn)
    VixDiskLib_Disconnect(r.conn);
  if (access) {
    end_rc = end_access(&r, access, moref_spec);
    if (rc == EXIT_OK)
      rc = end_rc;
  }
  if (*cancel && rc == EXIT_OK)
    rc = EXIT_FAILURE_OTHER;
  if (*cancel)
    fprintf(stderr, "freevix restore: interrupted%s\n",
            r.touched ? "" : " before anything was written");
  free(r.targets);
  freevix_free(r.disks);
  return rc;
}
