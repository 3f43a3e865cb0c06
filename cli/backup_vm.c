/*
 * backup_vm.c -- one VM's backup, see backup.h.
 *
 * Everything the backup acquires is recorded in struct vmrun as it is
 * acquired, and finish() releases it in the one safe order whatever
 * happened: disks and connections, then the local files of a point that
 * was not committed, then RemoveSnapshot, then EndAccess.  Nothing is
 * changed on the server before the local side is known to be usable (the
 * directory is locked and every manifest in it checked), and nothing
 * local looks like a point before its manifest is in place.
 *
 * Crash safety comes from the library: the PrepareForAccess grant and the
 * snapshot are recorded in the lease journal, owned by this process,
 * before they are made, so after a kill -9 `freevix sweep` removes the
 * snapshot and re-enables migration; the next backup into the directory
 * removes the interrupted point's files.
 */
#include "backup.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "backupdir.h"
#include "copy.h"
#include "spans.h"
#include "steps.h"

#define TASK_TIMEOUT_S 3600u

/* What one disk of the snapshot becomes. */
struct disk_work {
  const freevix_disk *d;
  const struct manifest_disk *parent; /* incremental: the previous point's */
  VixDiskLibHandle src;
  uint64_t capacity;                  /* sectors */
  VixDiskLibAdapterType adapter;
  struct spans spans;                 /* what to read */
  char path[4300];                    /* the point's file */
  bool created;                       /* path exists and is ours */
};

struct vmrun {
  const struct backup_ctx *c;
  struct backup_result *r;
  const char *given;                 /* the spec as given */
  unsigned bar;
  char name[256];                    /* for messages */
  char spec[128];                    /* "moref=vm-42" once resolved */
  VixDiskLibConnectParams p;
  freevix_vm_info info;
  struct backup_dir dir;
  bool dir_open;
  struct manifest prev;              /* the latest point, if any */
  bool have_prev;
  freevix_access *access;
  bool prepared;
  char snapshot_name[81];
  char *snapshot;
  freevix_disk *disks;
  uint32 n_disks;
  struct disk_work *work;
  size_t n_work;
  VixDiskLibConnection conn, local;
  bool incremental;
  bool read_started;
  uint64_t total, done_before;       /* bytes to read; read by done disks */
  time_t started;
};

/* The test hook (steps.h), naming the VM by its moref once known. */
static void step(struct vmrun *v, const char *name)
{
  cli_step(v->info.moref[0] ? v->info.moref : v->given, name);
}

/* ---- outcomes ------------------------------------------------------------ */

static void say(struct vmrun *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(struct vmrun *v, const char *fmt, ...)
{
  char text[1024];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  progress_say(v->c->prog, v->bar, "%s", text);
}

/* Records the failure (the first one counts) and returns false. */
static bool failed(struct vmrun *v, VixError err, int code, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));
static bool failed(struct vmrun *v, VixError err, int code, const char *fmt,
                   ...)
{
  va_list ap;

  if (v->r->exit_code != EXIT_OK)
    return false;
  v->r->err = err ? err : VIX_E_FAIL;
  v->r->exit_code = code;
  va_start(ap, fmt);
  vsnprintf(v->r->error, sizeof v->r->error, fmt, ap);
  va_end(ap);
  return false;
}

/* A library failure: the text of err after what failed. */
static bool lib_failed(struct vmrun *v, VixError err, const char *what)
{
  char *text = VixDiskLib_GetErrorText(err, NULL);
  int code = cli_exit_code(err);
  bool r;

  if (code == EXIT_USAGE) /* the command line was fine: the server said no */
    code = EXIT_FAILURE_OTHER;
  r = failed(v, err, code, "%s: %s (error %llu)", what, text ? text : "?",
             (unsigned long long)VIX_ERROR_CODE(err));
  VixDiskLib_FreeErrorText(text);
  return r;
}

static bool cancelled(struct vmrun *v)
{
  int sig = v->c->cancel ? (int)*v->c->cancel : 0;

  if (!sig)
    return false;
  failed(v, VIX_E_CANCELLED, 128 + sig, "interrupted by signal %d", sig);
  return true;
}

static void iso_time(time_t t, char out[32])
{
  struct tm tm;

  gmtime_r(&t, &tm);
  strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* ---- the steps ------------------------------------------------------------ */

static bool independent(const freevix_disk *d)
{
  return strncmp(d->diskMode, "independent", 11) == 0;
}

/* Refuses a set of disks with nothing to back up, or with independent
 * disks unless --skip-independent.  Checked on the VM before anything
 * changes, and again on the snapshot. */
static bool check_disk_set(struct vmrun *v, const freevix_disk *d, uint32 n)
{
  uint32 usable = 0;

  for (uint32 i = 0; i < n; i++) {
    if (!independent(&d[i])) {
      usable++;
    } else if (!v->c->o->skip_independent) {
      return failed(v, VIX_E_SNAPSHOT_INDEPENDENTDISK, EXIT_FAILURE_OTHER,
                    "disk %d (%s) of %s is %s: snapshots do not cover it, "
                    "so it cannot be backed up consistently; nothing was "
                    "changed. --skip-independent backs up the other disks",
                    (int)d[i].key, d[i].label, v->name, d[i].diskMode);
    }
  }
  if (usable == 0)
    return failed(v, VIX_E_DISK_NODEVICE, EXIT_FAILURE_OTHER,
                  n ? "%s has only independent disks: nothing to back up; "
                      "nothing was changed"
                    : "%s has no virtual disks: nothing to back up; nothing "
                      "was changed",
                  v->name);
  return true;
}

/* The disks of the VM as it is now, before anything changes. */
static bool precheck_disks(struct vmrun *v)
{
  freevix_disk *d = NULL;
  uint32 n = 0;
  VixError err = freevix_vm_disks(&v->p, NULL, &d, &n);
  bool ok;

  if (err != VIX_OK)
    return lib_failed(v, err, "reading the VM's disks");
  ok = check_disk_set(v, d, n);
  freevix_free(d);
  return ok;
}

/* Finds the VM, then locks and checks its directory. */
static bool resolve(struct vmrun *v)
{
  const struct cli_opts *o = v->c->o;
  char dirname[256], why[1024];
  VixError err;
  int rc;

  cli_params(o, (size_t)-1, &v->p);
  v->p.vmxSpec = (char *)v->given;
  err = freevix_vm_describe(&v->p, &v->info);
  if (err != VIX_OK)
    return lib_failed(v, err, "finding the VM");
  snprintf(v->name, sizeof v->name, "%s", v->info.name);
  progress_rename(v->c->prog, v->bar, v->info.name);
  snprintf(v->spec, sizeof v->spec, "moref=%s", v->info.moref);
  v->p.vmxSpec = v->spec;
  if (o->incremental && !v->info.changeTracking && !o->enable_cbt)
    return failed(v, VIX_E_NOT_SUPPORTED, EXIT_FAILURE_OTHER,
                  "%s (%s) has Changed Block Tracking off, so there is no "
                  "incremental backup; add --enable-cbt to switch it on "
                  "(this backup is then full, the next ones incremental)",
                  v->name, v->info.moref);
  if (!precheck_disks(v))
    return false;
  bdir_vm_name(v->info.name, v->info.moref, dirname);
  snprintf(v->r->dir, sizeof v->r->dir, "%s/%s", o->to, dirname);
  rc = bdir_open(&v->dir, v->r->dir, BDIR_CREATE | BDIR_LOCK, why,
                 sizeof why);
  if (rc)
    return failed(v, rc == BDIR_E_BUSY ? VIX_E_OBJECT_IS_BUSY
                                       : VIX_E_FILE_ERROR,
                  rc == BDIR_E_BUSY ? EXIT_HELD : EXIT_FAILURE_OTHER, "%s",
                  why);
  v->dir_open = true;
  if (!bdir_check(&v->dir, o->server, v->info.moref, why, sizeof why))
    return failed(v, VIX_E_INCORRECT_FILE_TYPE, EXIT_FAILURE_OTHER,
                  "%s; nothing was changed: move the file (or the "
                  "directory) away, or back up into another --to", why);
  for (size_t i = 0; i < v->dir.n_leftovers; i++)
    say(v, "removing %s/%s, left by an interrupted backup", v->r->dir,
        v->dir.leftovers[i]);
  if (bdir_remove_leftovers(&v->dir, NULL, NULL))
    return failed(v, VIX_E_FILE_ERROR, EXIT_FAILURE_OTHER,
                  "cannot remove the leftovers of an interrupted backup in "
                  "%s", v->r->dir);
  if (v->dir.n_points) {
    if (!bdir_load(&v->dir, v->dir.points[v->dir.n_points - 1], &v->prev,
                   why, sizeof why))
      return failed(v, VIX_E_INCORRECT_FILE_TYPE, EXIT_FAILURE_OTHER, "%s",
                    why);
    v->have_prev = true;
  }
  step(v, "resolved");
  return !cancelled(v);
}

/* A name no snapshot of the VM has: time and 32 random bits. */
static void snapshot_name(struct vmrun *v, const char *what)
{
  uint32_t rnd = 0;
  char when[32];

  if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
    rnd = (uint32_t)getpid() ^ (uint32_t)time(NULL);
  iso_time(time(NULL), when);
  snprintf(v->snapshot_name, sizeof v->snapshot_name, "freevix-%s %s %08x",
           what, when, rnd);
}

static void snapshot_opts(const struct vmrun *v, freevix_snapshot_options *so)
{
  memset(so, 0, sizeof *so);
  so->name = v->snapshot_name;
  so->quiesce = v->c->o->quiesce;
  so->timeoutSec = TASK_TIMEOUT_S;
  so->lease = FREEVIX_LEASE_JOURNAL;
  so->processOwned = 1;
  so->identity = v->c->identity;
  so->stateDir = v->c->o->state_dir;
}

/* Switches CBT on and applies it: vCenter starts tracking at the next
 * snapshot, and that snapshot's disks have no changeId yet (they describe
 * the state before tracking).  A snapshot taken and removed at once makes
 * the backup's own snapshot the first with changeIds, so the next backup
 * can be incremental. */
static bool enable_cbt(struct vmrun *v)
{
  freevix_snapshot_options so;
  char *ref = NULL;
  VixError err = freevix_change_tracking(&v->p, 1, TASK_TIMEOUT_S, NULL);

  if (err != VIX_OK)
    return lib_failed(v, err, "enabling Changed Block Tracking");
  snapshot_name(v, "cbt");
  snapshot_opts(v, &so);
  err = freevix_snapshot_create_ex(&v->p, &so, &ref);
  if (err != VIX_OK)
    return lib_failed(v, err, "CreateSnapshot (to apply Changed Block "
                      "Tracking)");
  err = freevix_snapshot_remove_ex(&v->p, ref, &so);
  freevix_free(ref);
  if (err != VIX_OK)
    return lib_failed(v, err, "RemoveSnapshot (of the snapshot that "
                      "applied Changed Block Tracking)");
  v->info.changeTracking = 1;
  say(v, "Changed Block Tracking enabled and applied: this backup is full, "
      "the next ones can be incremental");
  return true;
}

static void on_wait(void *data, const char *vm, const char *holder,
                    uint32 waited, uint32 budget, int task)
{
  struct vmrun *v = data;

  if (waited == 0 || waited % 5000 < 1000)
    say(v, "%s is held by '%s'%s; waiting (%.0f of %.0f s)", vm, holder,
        task >= 0 ? " (a Storage vMotion)" : "", waited / 1000.0,
        budget / 1000.0);
}

/* PrepareForAccess with a journal lease owned by this process. */
static bool prepare(struct vmrun *v)
{
  const struct cli_opts *o = v->c->o;
  const char *specs[1] = {v->spec};
  freevix_access_options ao;
  freevix_vm_result res;
  VixDiskLibConnectParams p;
  VixError err;

  if (v->c->access_held) {
    if (o->enable_cbt && !v->info.changeTracking && !enable_cbt(v))
      return false;
    step(v, "prepared");
    return !cancelled(v);
  }
  memset(&ao, 0, sizeof ao);
  ao.identity = v->c->identity;
  ao.methods = FREEVIX_METHOD_RELOCATE;
  ao.waitMs = (uint32)o->wait_ms;
  ao.lease = FREEVIX_LEASE_JOURNAL;
  ao.processOwned = 1;
  ao.checkPrivileges = 1;
  ao.stateDir = o->state_dir;
  ao.waitFunc = on_wait;
  ao.clientData = v;
  cli_params(o, (size_t)-1, &p);
  err = freevix_access_open(&p, &ao, &v->access);
  if (err != VIX_OK)
    return lib_failed(v, err, "connecting");
  err = freevix_access_prepare(v->access, specs, 1, &res);
  if (err != VIX_OK) {
    if (res.holder[0])
      return failed(v, err, EXIT_HELD, "PrepareForAccess: %s is held by '%s'"
                    "%s", v->info.moref, res.holder,
                    o->wait_ms ? " (after --wait)" : "; --wait waits for it");
    return lib_failed(v, err, "PrepareForAccess");
  }
  v->prepared = true;
  say(v, "migration disabled (PrepareForAccess, identity '%s')",
      v->c->identity);
  if (o->enable_cbt && !v->info.changeTracking && !enable_cbt(v))
    return false;
  step(v, "prepared");
  return !cancelled(v);
}

/* The snapshot, and the disks in it. */
static bool take_snapshot(struct vmrun *v)
{
  freevix_snapshot_options so;
  VixError err;

  snapshot_name(v, "backup");
  snapshot_opts(v, &so);
  err = freevix_snapshot_create_ex(&v->p, &so, &v->snapshot);
  if (err != VIX_OK)
    return lib_failed(v, err, "CreateSnapshot");
  say(v, "snapshot %s taken%s", v->snapshot, v->c->o->quiesce
                                                 ? " (quiesced)" : "");
  step(v, "snapshot");
  if (cancelled(v))
    return false;
  err = freevix_vm_disks(&v->p, v->snapshot, &v->disks, &v->n_disks);
  if (err != VIX_OK)
    return lib_failed(v, err, "reading the snapshot's disks");
  return true;
}

/* Which disks of the snapshot are backed up: all but the independent ones
 * (skipped, with --skip-independent, and named in the manifest). */
static bool choose_disks(struct vmrun *v, struct manifest *m)
{
  size_t skipped = 0;

  if (!check_disk_set(v, v->disks, v->n_disks))
    return false;
  v->work = calloc(v->n_disks, sizeof *v->work);
  m->skipped = calloc(v->n_disks, sizeof *m->skipped);
  if (!v->work || !m->skipped)
    return failed(v, VIX_E_OUT_OF_MEMORY, EXIT_FAILURE_OTHER,
                  "out of memory");
  for (uint32 i = 0; i < v->n_disks; i++) {
    const freevix_disk *d = &v->disks[i];
    struct manifest_skipped *s;

    if (!independent(d)) {
      v->work[v->n_work++].d = d;
      continue;
    }
    say(v, "disk %d (%s) is %s: skipped", (int)d->key, d->label,
        d->diskMode);
    s = &m->skipped[skipped++];
    s->key = d->key;
    snprintf(s->label, sizeof s->label, "%s", d->label);
    snprintf(s->disk_mode, sizeof s->disk_mode, "%s", d->diskMode);
    snprintf(s->reason, sizeof s->reason, "independent disks are not in "
             "snapshots");
  }
  m->n_skipped = skipped;
  return true;
}

/* The previous point's record of disk key, or NULL. */
static const struct manifest_disk *prev_disk(const struct vmrun *v,
                                             int32_t key)
{
  for (size_t i = 0; i < v->prev.n_disks; i++)
    if (v->prev.disks[i].key == key)
      return &v->prev.disks[i];
  return NULL;
}

/* Asks CBT for every disk's changes since the previous point; any disk
 * that cannot answer makes the whole point a full one (and says why). */
static bool plan_incremental(struct vmrun *v, struct manifest *m)
{
  if (!v->c->o->incremental)
    return true;
  if (!v->have_prev) {
    snprintf(m->note, sizeof m->note, "no earlier point in %.400s: full "
             "backup", v->r->dir);
    return true;
  }
  if (v->c->o->full_every && v->prev.n_chain >= v->c->o->full_every) {
    snprintf(m->note, sizeof m->note, "point %u ends a chain of %zu "
             "point%s (--full-every %u): full backup", v->prev.point,
             v->prev.n_chain, v->prev.n_chain == 1 ? "" : "s",
             v->c->o->full_every);
    return true;
  }
  for (size_t i = 0; i < v->n_work; i++) {
    struct disk_work *w = &v->work[i];
    const struct manifest_disk *pd = prev_disk(v, w->d->key);
    freevix_area *areas = NULL;
    uint32 n = 0;
    VixError err;

    if (!pd || pd->capacity != w->d->capacity) {
      snprintf(m->note, sizeof m->note, "disk %d is %s since point %u: full "
               "backup", (int)w->d->key, pd ? "resized" : "new",
               v->prev.point);
      return true;
    }
    if (!pd->change_id[0]) {
      snprintf(m->note, sizeof m->note, "point %u has no changeId for disk "
               "%d (Changed Block Tracking was not in effect then): full "
               "backup", v->prev.point, (int)w->d->key);
      return true;
    }
    if (!w->d->changeId[0]) {
      snprintf(m->note, sizeof m->note, "Changed Block Tracking is not in "
               "effect for disk %d at this snapshot: full backup",
               (int)w->d->key);
      return true;
    }
    err = freevix_changed_areas(&v->p, v->snapshot, w->d->key, 0,
                                w->d->capacity, pd->change_id, &areas, &n);
    if (err == VIX_E_NOT_SUPPORTED) {
      snprintf(m->note, sizeof m->note, "Changed Block Tracking cannot say "
               "what changed on disk %d since point %u (it was reset, or "
               "the changeId is unknown): full backup", (int)w->d->key,
               v->prev.point);
      return true;
    }
    if (err != VIX_OK)
      return lib_failed(v, err, "QueryChangedDiskAreas");
    if (!spans_from_areas(areas, n, w->d->capacity / VIXDISKLIB_SECTOR_SIZE,
                          &w->spans)) {
      freevix_free(areas);
      return failed(v, VIX_E_OUT_OF_MEMORY, EXIT_FAILURE_OTHER,
                    "out of memory");
    }
    freevix_free(areas);
    w->parent = pd;
  }
  v->incremental = true;
  return true;
}

/* ConnectEx to the snapshot, every disk opened, the full ones' allocated
 * blocks asked for. */
static bool open_sources(struct vmrun *v, struct manifest *m)
{
  const char *mode = NULL;
  VixError err;

  err = VixDiskLib_ConnectEx(&v->p, 1, v->snapshot, v->c->o->transport,
                             &v->conn);
  if (err != VIX_OK)
    return lib_failed(v, err, "VixDiskLib_ConnectEx to the snapshot");
  err = VixDiskLib_Connect(NULL, &v->local);
  if (err != VIX_OK)
    return lib_failed(v, err, "VixDiskLib_Connect (local)");
  for (size_t i = 0; i < v->n_work; i++) {
    struct disk_work *w = &v->work[i];
    VixDiskLibInfo *info = NULL;
    char what[1200];

    err = VixDiskLib_Open(v->conn, w->d->path, VIXDISKLIB_FLAG_OPEN_READ_ONLY,
                          &w->src);
    if (err != VIX_OK) {
      snprintf(what, sizeof what, "VixDiskLib_Open(\"%s\")", w->d->path);
      return lib_failed(v, err, what);
    }
    err = VixDiskLib_GetInfo(w->src, &info);
    if (err != VIX_OK)
      return lib_failed(v, err, "VixDiskLib_GetInfo");
    w->capacity = info->capacity;
    w->adapter = info->adapterType;
    VixDiskLib_FreeInfo(info);
    if (w->capacity * VIXDISKLIB_SECTOR_SIZE != w->d->capacity)
      return failed(v, VIX_E_DISK_CAPACITY_MISMATCH, EXIT_FAILURE_OTHER,
                    "disk %d: the file has %llu sectors, vCenter says %llu "
                    "bytes", (int)w->d->key,
                    (unsigned long long)w->capacity,
                    (unsigned long long)w->d->capacity);
    snprintf(m->disks[i].transport, sizeof m->disks[i].transport, "%s",
             VixDiskLib_GetTransportMode(w->src));
    if (!mode)
      mode = m->disks[i].transport;
    if (!v->incremental) {
      err = spans_allocated(w->src, w->capacity, VIXDISKLIB_MIN_CHUNK_SIZE,
                            &w->spans);
      if (err != VIX_OK)
        return lib_failed(v, err, "VixDiskLib_QueryAllocatedBlocks");
    }
    v->total += spans_total(&w->spans) * VIXDISKLIB_SECTOR_SIZE;
  }
  say(v, "%zu disk%s over %s, %s to read (%s)", v->n_work,
      v->n_work == 1 ? "" : "s", mode ? mode : "?",
      v->incremental ? "the changed areas" : "the allocated areas",
      v->incremental ? "incremental" : "full");
  progress_total(v->c->prog, v->bar, v->total);
  return true;
}

/* The point's file for w: a new sparse (or streamOptimized) VMDK, or a
 * child of the previous point's. */
static bool create_target(struct vmrun *v, struct disk_work *w,
                          VixDiskLibHandle *dst, unsigned point)
{
  char name[64], parent[4300];
  VixDiskLibHandle ph = NULL;
  VixError err;

  manifest_disk_name(point, w->d->key, name);
  if (!bdir_file(&v->dir, name, w->path, sizeof w->path))
    return failed(v, VIX_E_FILE_NAME_INVALID, EXIT_FAILURE_OTHER,
                  "%s/%s: path too long", v->r->dir, name);
  if (!w->parent) {
    VixDiskLibCreateParams cp;

    memset(&cp, 0, sizeof cp);
    cp.diskType = v->c->stream ? VIXDISKLIB_DISK_STREAM_OPTIMIZED
                               : VIXDISKLIB_DISK_MONOLITHIC_SPARSE;
    cp.adapterType = w->adapter == VIXDISKLIB_ADAPTER_IDE ||
                             w->adapter == VIXDISKLIB_ADAPTER_SCSI_BUSLOGIC
                         ? w->adapter
                         : VIXDISKLIB_ADAPTER_SCSI_LSILOGIC;
    cp.hwVersion = VIXDISKLIB_HWVERSION_CURRENT;
    cp.capacity = w->capacity;
    err = VixDiskLib_Create(v->local, w->path, &cp, NULL, NULL);
  } else {
    if (!bdir_file(&v->dir, w->parent->file, parent, sizeof parent))
      return failed(v, VIX_E_FILE_NAME_INVALID, EXIT_FAILURE_OTHER,
                    "path too long");
    err = VixDiskLib_Open(v->local, parent, VIXDISKLIB_FLAG_OPEN_READ_ONLY,
                          &ph);
    if (err != VIX_OK)
      return lib_failed(v, err, "opening the previous point's disk");
    err = VixDiskLib_CreateChild(ph, w->path,
                                 VIXDISKLIB_DISK_MONOLITHIC_SPARSE, NULL,
                                 NULL);
    VixDiskLib_Close(ph);
  }
  if (err != VIX_OK)
    return lib_failed(v, err, w->parent ? "VixDiskLib_CreateChild"
                                        : "VixDiskLib_Create");
  w->created = true;
  err = VixDiskLib_Open(v->local, w->path, 0, dst);
  if (err != VIX_OK)
    return lib_failed(v, err, "opening the new disk");
  return true;
}

static void on_progress(void *data, uint64_t bytes)
{
  struct vmrun *v = data;

  progress_set(v->c->prog, v->bar, v->done_before + bytes);
  if (!v->read_started && bytes) {
    v->read_started = true;
    step(v, "reading");
  }
}

/* Reads one disk into its file and fills its manifest record. */
static bool copy_disk(struct vmrun *v, struct disk_work *w,
                      struct manifest_disk *md, unsigned point)
{
  VixDiskLibHandle dst = NULL;
  struct spans fill = {NULL, 0, 0};
  struct copy_job j;
  VixError err;
  bool ok;

  if (!create_target(v, w, &dst, point)) {
    if (dst)
      VixDiskLib_Close(dst);
    return false;
  }
  if (w->parent) {
    err = spans_allocated(dst, w->capacity, VIXDISKLIB_MIN_CHUNK_SIZE, &fill);
    if (err != VIX_OK) {
      VixDiskLib_Close(dst);
      return lib_failed(v, err, "reading the previous point's allocation");
    }
  }
  memset(&j, 0, sizeof j);
  j.src = w->src;
  j.capacity = w->capacity;
  j.spans = &w->spans;
  j.fill = w->parent ? COPY_FILL_DST : COPY_FILL_ZERO;
  j.dst = dst;
  j.fill_spans = &fill;
  j.sink = COPY_SINK_DISK;
  j.write_zeros = w->parent != NULL;
  j.cancel = v->c->cancel;
  j.progress = on_progress;
  j.progress_data = v;
  err = copy_run(&j);
  spans_free(&fill);
  if (err == VIX_OK)
    err = VixDiskLib_Flush(dst);
  ok = err == VIX_OK;
  if (!ok && err == VIX_E_CANCELLED)
    cancelled(v);
  else if (!ok)
    lib_failed(v, err, j.what[0] ? j.what : "flushing the backup");
  err = VixDiskLib_Close(dst);
  if (ok && err != VIX_OK)
    return lib_failed(v, err, "closing the backup");
  if (!ok)
    return false;
  v->done_before += j.bytes_read;
  md->key = w->d->key;
  snprintf(md->label, sizeof md->label, "%s", w->d->label);
  md->capacity = w->d->capacity;
  snprintf(md->datastore_path, sizeof md->datastore_path, "%s", w->d->path);
  snprintf(md->disk_mode, sizeof md->disk_mode, "%s", w->d->diskMode);
  snprintf(md->change_id, sizeof md->change_id, "%s", w->d->changeId);
  manifest_disk_name(point, w->d->key, md->file);
  if (w->parent)
    snprintf(md->parent_file, sizeof md->parent_file, "%s", w->parent->file);
  copy_hex(j.sha256, md->sha256);
  md->bytes_read = j.bytes_read;
  md->bytes_written = j.bytes_written;
  md->areas = w->spans.n;
  {
    char r[32], wr[32];

    progress_bytes(j.bytes_read, r);
    progress_bytes(j.bytes_written, wr);
    say(v, "disk %d: %s read, %s written, sha256 %.16s...", (int)md->key, r,
        wr, md->sha256);
  }
  return true;
}

/* The manifest's fields that do not come from the disks. */
static bool fill_manifest(struct vmrun *v, struct manifest *m)
{
  const struct cli_opts *o = v->c->o;
  unsigned point = v->have_prev ? v->prev.point + 1 : 1;
  size_t n_chain = v->incremental ? v->prev.n_chain + 1 : 1;

  if (point > MANIFEST_MAX_POINT || n_chain > MANIFEST_MAX_CHAIN)
    return failed(v, VIX_E_FILE_TOO_BIG, EXIT_FAILURE_OTHER, "%s holds the "
                  "most points a chain can have: start a new directory",
                  v->r->dir);
  m->point = point;
  m->kind = v->incremental ? POINT_INCREMENTAL : POINT_FULL;
  m->parent = v->incremental ? v->prev.point : 0;
  m->chain = calloc(n_chain, sizeof *m->chain);
  m->disks = calloc(v->n_work, sizeof *m->disks);
  if (!m->chain || !m->disks)
    return failed(v, VIX_E_OUT_OF_MEMORY, EXIT_FAILURE_OTHER,
                  "out of memory");
  if (v->incremental)
    memcpy(m->chain, v->prev.chain, v->prev.n_chain * sizeof *m->chain);
  m->chain[n_chain - 1] = point;
  m->n_chain = n_chain;
  m->n_disks = v->n_work;
  snprintf(m->server, sizeof m->server, "%s", o->server);
  m->port = o->port ? o->port : 443;
  snprintf(m->vm_moref, sizeof m->vm_moref, "%s", v->info.moref);
  snprintf(m->vm_name, sizeof m->vm_name, "%s", v->info.name);
  snprintf(m->vm_spec, sizeof m->vm_spec, "%s", v->given);
  snprintf(m->vmx_path, sizeof m->vmx_path, "%s", v->info.vmxPath);
  snprintf(m->power_state, sizeof m->power_state, "%s", v->info.powerState);
  snprintf(m->snapshot_moref, sizeof m->snapshot_moref, "%s", v->snapshot);
  snprintf(m->snapshot_name, sizeof m->snapshot_name, "%s",
           v->snapshot_name);
  m->quiesced = o->quiesce;
  m->cbt = v->info.changeTracking || o->enable_cbt;
  snprintf(m->disk_format, sizeof m->disk_format, "%s",
           v->c->stream ? "stream" : "vmdk");
  snprintf(m->tool_version, sizeof m->tool_version, "%s", freevix_version());
  iso_time(v->started, m->started);
  return true;
}

static bool run_steps(struct vmrun *v, struct manifest *m)
{
  char why[1024];
  struct timespec t0, t1;
  int rc;

  clock_gettime(CLOCK_MONOTONIC, &t0);
  if (!resolve(v) || !prepare(v) || !take_snapshot(v) ||
      !choose_disks(v, m) || !plan_incremental(v, m))
    return false;
  if (m->note[0])
    say(v, "%s", m->note);
  if (!fill_manifest(v, m) || !open_sources(v, m))
    return false;
  for (size_t i = 0; i < v->n_work; i++)
    if (!copy_disk(v, &v->work[i], &m->disks[i], m->point))
      return false;
  if (cancelled(v))
    return false;
  for (size_t i = 0; i < m->n_disks; i++) {
    m->bytes_read += m->disks[i].bytes_read;
    m->bytes_written += m->disks[i].bytes_written;
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  m->duration_ms = (t1.tv_sec - t0.tv_sec) * 1000 +
                   (t1.tv_nsec - t0.tv_nsec) / 1000000;
  iso_time(time(NULL), m->finished);
  rc = manifest_write(v->r->dir, m, why, sizeof why);
  if (rc)
    return failed(v, rc == ENOSPC || rc == EDQUOT ? VIX_E_DISK_FULL
                                                  : VIX_E_FILE_ERROR,
                  EXIT_FAILURE_OTHER, "committing point %u: %s", m->point,
                  why);
  v->r->committed = true;
  say(v, "point %u committed (%s)", m->point,
      m->kind == POINT_FULL ? "full" : "incremental");
  step(v, "committed");
  return true;
}

static void cleanup_failed(struct vmrun *v, const char *what, VixError err)
{
  char *text = VixDiskLib_GetErrorText(err, NULL);
  char hint[4600];
  size_t len = strlen(v->r->cleanup);

  cli_sweep_hint(v->c->o, hint, sizeof hint);
  snprintf(v->r->cleanup + len, sizeof v->r->cleanup - len,
           "%s%s failed (%s); once this command has ended, `%s` finishes "
           "it", len ? "; " : "", what, text ? text : "?", hint);
  VixDiskLib_FreeErrorText(text);
  if (v->r->exit_code == EXIT_OK) {
    v->r->exit_code = EXIT_FAILURE_OTHER;
    v->r->err = err;
  }
}

/* Releases everything, in order: disks and connections, the files of an
 * uncommitted point, the snapshot, the access. */
static void finish(struct vmrun *v)
{
  const char *specs[1] = {v->spec};
  freevix_vm_result res;
  VixError err;

  for (size_t i = 0; i < v->n_work; i++)
    if (v->work[i].src)
      VixDiskLib_Close(v->work[i].src);
  if (v->conn)
    VixDiskLib_Disconnect(v->conn);
  for (size_t i = 0; i < v->n_work && !v->r->committed; i++) {
    if (!v->work[i].created)
      continue;
    if (unlink(v->work[i].path) == 0)
      say(v, "removed %s (not committed)", v->work[i].path);
    else
      say(v, "could not remove %s (%s): it is not part of any point; the "
          "next backup removes it", v->work[i].path, strerror(errno));
  }
  if (v->local)
    VixDiskLib_Disconnect(v->local);
  if (v->snapshot) {
    freevix_snapshot_options so;

    snapshot_opts(v, &so);
    err = freevix_snapshot_remove_ex(&v->p, v->snapshot, &so);
    if (err != VIX_OK) {
      char what[200];

      snprintf(what, sizeof what, "removing snapshot %s of %s", v->snapshot,
               v->info.moref);
      cleanup_failed(v, what, err);
    } else {
      say(v, "snapshot %s removed", v->snapshot);
    }
    step(v, "snapshot-removed");
  }
  if (v->prepared) {
    err = freevix_access_end(v->access, specs, 1, &res);
    if (err != VIX_OK)
      cleanup_failed(v, "EndAccess (allowing migration again)", err);
    else
      say(v, "migration allowed again (EndAccess)");
  }
  if (v->access)
    freevix_access_close(v->access);
  if (v->prepared)
    step(v, "ended");
  for (size_t i = 0; i < v->n_work; i++)
    spans_free(&v->work[i].spans);
  free(v->work);
  freevix_free(v->disks);
  freevix_free(v->snapshot);
  manifest_free(&v->prev);
  if (v->dir_open)
    bdir_close(&v->dir);
}

void backup_vm(const struct backup_ctx *c, const char *spec,
               struct backup_result *r)
{
  struct vmrun v;

  memset(r, 0, sizeof *r);
  memset(&v, 0, sizeof v);
  v.c = c;
  v.r = r;
  v.given = spec;
  v.started = time(NULL);
  snprintf(v.name, sizeof v.name, "%s", spec);
  v.bar = progress_add(c->prog, spec);
  run_steps(&v, &r->m);
  finish(&v);
  if (!r->committed)
    manifest_free(&r->m);
  progress_end(c->prog, v.bar);
}
