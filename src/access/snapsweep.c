/*
 * snapsweep.c -- removing the snapshots of backups that died, see
 * snapshot_sweep() in snapshot.h.
 *
 * Three passes, so the journal is not locked while vCenter consolidates:
 * copy the stale records (locked), remove their snapshots (unlocked), then
 * drop the records that are done (locked again, matching every field, so a
 * record written meanwhile is never dropped by mistake).  A record is done
 * when its snapshot was removed, is gone already, or never came to exist
 * (no moref was recorded and no snapshot of the VM has the name).  A
 * snapshot is only ever removed when the record names it: by moref, after
 * checking it belongs to the record's VM, or by the recorded name when
 * exactly one snapshot of that VM carries it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access/pool.h"
#include "access/snapshot.h"
#include "access/target.h"
#include "util/log.h"

static bool same_record(const struct journal_snapshot *a,
                        const struct journal_snapshot *b)
{
  return a->port == b->port && a->pid == b->pid &&
         a->pid_start == b->pid_start && a->created == b->created &&
         a->expires == b->expires && strcmp(a->server, b->server) == 0 &&
         strcmp(a->vm, b->vm) == 0 && strcmp(a->name, b->name) == 0 &&
         strcmp(a->source, b->source) == 0;
}

/* One stale record and what became of it. */
struct stale {
  struct journal_snapshot rec;
  char why[256];
  bool done;    /* drop the record */
  bool removed; /* this sweep removed the snapshot */
};

/* Copies the stale records of (server, port) out of the journal. */
static int collect(const struct access_conninfo *ci, const char *state_dir,
                   struct stale **out, size_t *n, struct access_result *res)
{
  unsigned port = ci->port ? ci->port : 443;
  int64_t now = (int64_t)time(NULL);
  struct journal j;

  *out = NULL;
  *n = 0;
  if (journal_open(&j, state_dir, res) != ACCESS_OK)
    return res->status;
  if (j.n_snaps) {
    *out = calloc(j.n_snaps, sizeof **out);
    if (!*out) {
      journal_close(&j);
      return access_fail(res, ACCESS_E_NOMEM, "out of memory");
    }
  }
  for (size_t i = 0; i < j.n_snaps; i++) {
    const struct journal_snapshot *s = &j.snaps[i];
    struct stale *st = &(*out)[*n];

    if (s->port != port || strcmp(s->server, ci->server) != 0 ||
        !journal_owner_stale(s->pid, s->pid_start, s->expires, now, st->why,
                             sizeof st->why))
      continue;
    st->rec = *s;
    ++*n;
  }
  journal_close(&j);
  res->status = ACCESS_OK;
  return ACCESS_OK;
}

/* A record the sweep leaves alone: reported as a fault of type 'type'
 * (VIX_E_FAIL; the message says why). */
static int left_alone(struct vim_error *err, const char *type)
{
  snprintf(err->fault.type, sizeof err->fault.type, "%s", type);
  snprintf(err->fault.message, sizeof err->fault.message, "%s", err->detail);
  err->status = VIM_E_FAULT;
  err->fault.kind = VIM_FAULT_OTHER;
  return VIM_E_FAULT;
}

static void append_why(struct stale *st, const char *text)
{
  size_t len = strlen(st->why);

  snprintf(st->why + len, sizeof st->why - len, "; %s", text);
}

/* Finds the snapshot st's record names: its moref after checking its VM,
 * else the only snapshot of the VM with its name.  Returns VIM_OK with
 * *snap set, VIM_OK with snap->value "" when there is nothing to remove
 * (st->done set), or a failure. */
static int find(struct vim_session *s, struct stale *st,
                struct vim_moref *snap, struct vim_error *err)
{
  struct vim_moref vm, owner;
  struct vim_snapshot_entry *list;
  size_t n, hits = 0;
  int r;

  memset(snap, 0, sizeof *snap);
  vim_moref_set(&vm, "VirtualMachine", st->rec.vm);
  if (st->rec.snapshot[0]) {
    vim_moref_set(snap, "VirtualMachineSnapshot", st->rec.snapshot);
    r = vim_snapshot_vm(s, snap, &owner, err);
    if (r == VIM_E_NOT_FOUND) {
      append_why(st, "the snapshot is gone already");
      snap->value[0] = '\0';
      st->done = true;
      return VIM_OK;
    }
    if (r == VIM_OK && strcmp(owner.value, st->rec.vm) != 0) {
      memset(err, 0, sizeof *err);
      snprintf(err->detail, sizeof err->detail, "snapshot %s belongs to %s, "
               "not to %s as recorded: left alone", snap->value, owner.value,
               st->rec.vm);
      return left_alone(err, "SnapshotOfAnotherVM");
    }
    return r;
  }
  r = vim_snapshots_get(s, &vm, &list, &n, err);
  if (r == VIM_E_NOT_FOUND) {
    append_why(st, "the VM no longer exists");
    st->done = true;
    return VIM_OK;
  }
  if (r != VIM_OK)
    return r;
  for (size_t i = 0; i < n; i++)
    if (strcmp(list[i].name, st->rec.name) == 0 && hits++ == 0)
      *snap = list[i].ref;
  free(list);
  if (hits == 0) {
    append_why(st, "no snapshot has its name: it was never taken");
    snap->value[0] = '\0';
    st->done = true;
    return VIM_OK;
  }
  if (hits > 1) {
    memset(err, 0, sizeof *err);
    snprintf(err->detail, sizeof err->detail, "%zu snapshots of %s are "
             "named \"%.100s\": left alone, remove the right one by hand",
             hits, st->rec.vm, st->rec.name);
    return left_alone(err, "DuplicateName");
  }
  snprintf(st->rec.snapshot, sizeof st->rec.snapshot, "%s", snap->value);
  append_why(st, "found by its name");
  return VIM_OK;
}

/* Removes st's snapshot on s; fills r. */
static void sweep_one(struct vim_session *s, struct stale *st,
                      struct access_result *r)
{
  struct vim_moref snap, task;
  struct vim_error err;
  int rc = find(s, st, &snap, &err);

  r->status = ACCESS_OK;
  if (rc == VIM_OK && snap.value[0]) {
    rc = vim_remove_snapshot(s, &snap, false, true, &task, &err);
    if (rc == VIM_OK)
      rc = vim_task_wait(s, &task, ACCESS_TASK_TIMEOUT_MS, NULL, NULL, NULL,
                         &err);
    st->removed = rc == VIM_OK;
    if (rc == VIM_E_FAULT &&
        err.fault.kind == VIM_FAULT_MANAGED_OBJECT_NOT_FOUND) {
      append_why(st, "the snapshot is gone already");
      rc = VIM_OK;
    }
    st->done = rc == VIM_OK;
  }
  if (rc != VIM_OK)
    access_fail_vim(r, &err);
}

/* Drops the records of the done entries. */
static int drop_done(const char *state_dir, const struct stale *v, size_t n,
                     struct access_result *res)
{
  struct journal j;
  size_t removed = 0;

  if (journal_open(&j, state_dir, res) != ACCESS_OK)
    return res->status;
  for (size_t i = 0; i < j.n_snaps;) {
    bool drop = false;

    for (size_t k = 0; k < n && !drop; k++)
      drop = v[k].done && same_record(&j.snaps[i], &v[k].rec);
    if (drop) {
      journal_remove_snapshot(&j, i);
      removed++;
    } else {
      i++;
    }
  }
  res->status = ACCESS_OK;
  if (removed)
    journal_commit(&j, res);
  journal_close(&j);
  return res->status;
}

int snapshot_sweep(const struct access_conninfo *ci, const char *state_dir,
                   bool dry_run, sweep_snapshot_fn *report, void *opaque,
                   size_t *n_swept, struct access_result *res)
{
  struct vim_session *s = NULL;
  struct access_result first;
  struct stale *v;
  size_t n;
  bool healthy = true;

  *n_swept = 0;
  if (collect(ci, state_dir, &v, &n, res) != ACCESS_OK)
    return res->status;
  first.status = ACCESS_OK;
  for (size_t i = 0; i < n; i++) {
    struct access_result r;

    r.status = ACCESS_OK;
    if (dry_run) {
      ++*n_swept;
    } else {
      if (!s && pool_checkout(ci, &s, &r) != ACCESS_OK) {
        *res = r;
        free(v);
        return res->status;
      }
      sweep_one(s, &v[i], &r);
      if (v[i].removed)
        ++*n_swept;
      if (r.status != ACCESS_OK) {
        healthy = healthy && access_session_reusable(&r.vim);
        if (first.status == ACCESS_OK)
          first = r;
      }
    }
    if (report)
      report(opaque, &v[i].rec, v[i].why, &r);
  }
  if (s)
    pool_checkin(ci, s, healthy);
  if (!dry_run && drop_done(state_dir, v, n, res) != ACCESS_OK) {
    free(v);
    return res->status;
  }
  free(v);
  *res = first;
  return res->status;
}
