/*
 * snapshot.c -- taking and removing backup snapshots with a journal
 * record, see snapshot.h.
 *
 * The record is written before CreateSnapshot_Task for the same reason a
 * grant is written before DisableMethods (lease.c): a crash in between
 * leaves a record for a snapshot that may not exist, which the sweep
 * resolves by name (none found: the record is dropped), while the other
 * order could leave a snapshot nobody knows about.
 */
#include "access/snapshot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access/pool.h"
#include "access/target.h"
#include "util/log.h"

#define DEFAULT_RECORD_TTL_MS (24L * 3600 * 1000)
#define DEFAULT_DESCRIPTION "freevix backup snapshot"

static long task_deadline(const struct access_snapshot_opts *o)
{
  return o && o->timeout_ms > 0 ? o->timeout_ms : ACCESS_TASK_TIMEOUT_MS;
}

static unsigned port_of(const struct access_conninfo *ci)
{
  return ci->port ? ci->port : 443;
}

/* The record the taker writes for (ci's server, vm, o->name). */
static void record_of(const struct access_conninfo *ci, const char *vm,
                      const struct access_snapshot_opts *o,
                      struct journal_snapshot *s)
{
  long ttl_ms = o->ttl_ms;

  memset(s, 0, sizeof *s);
  snprintf(s->server, sizeof s->server, "%s", ci->server);
  s->port = port_of(ci);
  snprintf(s->vm, sizeof s->vm, "%s", vm);
  snprintf(s->name, sizeof s->name, "%s", o->name);
  snprintf(s->source, sizeof s->source, "%s",
           o->identity && *o->identity ? o->identity : "freevix");
  if (o->process_owned && !journal_self(&s->pid, &s->pid_start)) {
    s->pid = 0; /* no /proc: the record must expire instead */
    s->pid_start = 0;
  }
  if (!s->pid && !ttl_ms)
    ttl_ms = DEFAULT_RECORD_TTL_MS;
  s->created = (int64_t)time(NULL);
  s->expires = ttl_ms ? s->created + (ttl_ms + 999) / 1000 : 0;
}

/* What to do to the journal: add rec, set the moref of rec's record, or
 * drop the record(s) of rec (by name, or by moref when rec has one). */
enum record_edit { RECORD_ADD, RECORD_SET_MOREF, RECORD_DROP };

static bool same_place(const struct journal_snapshot *a,
                       const struct journal_snapshot *b)
{
  return a->port == b->port && strcmp(a->server, b->server) == 0 &&
         strcmp(a->vm, b->vm) == 0;
}

static int record_edit(const char *state_dir, enum record_edit what,
                       const struct journal_snapshot *rec,
                       struct access_result *res)
{
  struct journal j;
  size_t i;
  bool changed = false;

  if (journal_open(&j, state_dir, res) != ACCESS_OK)
    return res->status;
  switch (what) {
  case RECORD_ADD:
    changed = journal_add_snapshot(&j, rec, res) == ACCESS_OK;
    break;
  case RECORD_SET_MOREF:
    i = journal_find_snapshot(&j, rec);
    if (i != (size_t)-1) {
      snprintf(j.snaps[i].snapshot, sizeof j.snaps[i].snapshot, "%s",
               rec->snapshot);
      changed = true;
    }
    break;
  case RECORD_DROP:
    for (i = 0; i < j.n_snaps;) {
      const struct journal_snapshot *s = &j.snaps[i];
      bool match = same_place(s, rec) &&
                   (rec->snapshot[0] ? strcmp(s->snapshot, rec->snapshot) == 0
                                     : strcmp(s->name, rec->name) == 0);

      if (match) {
        journal_remove_snapshot(&j, i);
        changed = true;
      } else {
        i++;
      }
    }
    break;
  }
  res->status = ACCESS_OK;
  if (changed)
    journal_commit(&j, res);
  journal_close(&j);
  return res->status;
}

/* Fills a DuplicateName failure for name, held by snapshot 'holder'. */
static int duplicate_name(struct access_result *res, const char *vm,
                          const char *name, const char *holder)
{
  struct vim_error e;

  memset(&e, 0, sizeof e);
  e.status = VIM_E_FAULT;
  snprintf(e.fault.type, sizeof e.fault.type, "DuplicateName");
  snprintf(e.fault.message, sizeof e.fault.message, "%s already has a "
           "snapshot named \"%.100s\" (%s)", vm, name, holder);
  snprintf(e.detail, sizeof e.detail, "%s", e.fault.message);
  return access_fail_vim(res, &e);
}

/* Checks that no snapshot of t's VM is called name. */
static int check_unique(struct access_target_vm *t, const char *name,
                        bool *duplicate, struct vim_error *err,
                        struct access_result *res)
{
  struct vim_snapshot_entry *list;
  size_t n;
  int r = vim_snapshots_get(t->session, &t->vm, &list, &n, err);

  if (r != VIM_OK)
    return r;
  for (size_t i = 0; i < n; i++) {
    if (strcmp(list[i].name, name) == 0) {
      *duplicate = true;
      duplicate_name(res, t->vm.value, name, list[i].ref.value);
      free(list);
      return VIM_E_FAULT;
    }
  }
  free(list);
  return VIM_OK;
}

int access_snapshot_take(const struct access_conninfo *ci,
                         const struct access_snapshot_opts *o,
                         char **snapshot_ref, bool *duplicate,
                         struct access_result *res)
{
  struct access_target_vm t;
  struct journal_snapshot rec;
  struct vim_moref task, snap;
  struct vim_error err;
  int r;

  *snapshot_ref = NULL;
  *duplicate = false;
  if (access_target_begin(ci, &t, res) != ACCESS_OK)
    return res->status;
  r = check_unique(&t, o->name, duplicate, &err, res);
  if (r != VIM_OK) {
    access_target_close(ci, &t, *duplicate || access_session_reusable(&err));
    if (*duplicate)
      return res->status;
    return access_target_fail(&t, &err, res);
  }
  record_of(ci, t.vm.value, o, &rec);
  if (o->record && record_edit(o->state_dir, RECORD_ADD, &rec, res) !=
                       ACCESS_OK) {
    access_target_close(ci, &t, true);
    return res->status;
  }
  r = vim_create_snapshot(t.session, &t.vm, o->name,
                          o->description ? o->description
                                         : DEFAULT_DESCRIPTION,
                          o->memory, o->quiesce, &task, &err);
  if (r == VIM_OK)
    r = vim_task_wait(t.session, &task, task_deadline(o), NULL, NULL, &snap,
                      &err);
  access_target_close(ci, &t, access_session_reusable(&err));
  if (r != VIM_OK) {
    struct access_result ignored;

    /* A fault answer or a failed task made no snapshot; anything else may
     * have, and the record stays for the sweep. */
    if (o->record && (r == VIM_E_FAULT || r == VIM_E_TASK))
      record_edit(o->state_dir, RECORD_DROP, &rec, &ignored);
    else if (o->record)
      fvx_warn("snapshot \"%s\" of %s may exist although the call failed; "
               "`freevix sweep` removes it once this process has ended",
               o->name, t.vm.value);
    return access_target_fail(&t, &err, res);
  }
  *snapshot_ref = strdup(snap.value);
  if (!*snapshot_ref)
    return access_fail(res, ACCESS_E_NOMEM, "out of memory");
  if (o->record) {
    struct access_result jr;

    snprintf(rec.snapshot, sizeof rec.snapshot, "%s", snap.value);
    if (record_edit(o->state_dir, RECORD_SET_MOREF, &rec, &jr) != ACCESS_OK)
      fvx_warn("snapshot %s: its moref is not in the journal (%s); a sweep "
               "finds it by its name \"%s\"", snap.value, jr.detail, o->name);
  }
  fvx_info("snapshot %s (\"%s\") of %s created", snap.value, o->name,
           t.vm.value);
  res->status = ACCESS_OK;
  return ACCESS_OK;
}

int access_snapshot_drop(const struct access_conninfo *ci,
                         const char *snapshot_ref,
                         const struct access_snapshot_opts *o,
                         struct access_result *res)
{
  struct access_target_vm t;
  struct journal_snapshot rec;
  struct vim_moref task, snap;
  struct vim_error err;
  int r;

  if (!vim_moref_set(&snap, "VirtualMachineSnapshot", snapshot_ref))
    return access_fail(res, ACCESS_E_VMXSPEC, "bad snapshot reference");
  if (access_target_begin(ci, &t, res) != ACCESS_OK)
    return res->status;
  r = vim_remove_snapshot(t.session, &snap, false, true, &task, &err);
  if (r == VIM_OK)
    r = vim_task_wait(t.session, &task, task_deadline(o), NULL, NULL, NULL,
                      &err);
  access_target_close(ci, &t, access_session_reusable(&err));
  if (r == VIM_E_FAULT &&
      err.fault.kind == VIM_FAULT_MANAGED_OBJECT_NOT_FOUND) {
    fvx_info("snapshot %s was already gone", snapshot_ref);
    r = VIM_OK;
  }
  if (r != VIM_OK)
    return access_fail_vim(res, &err);
  fvx_info("snapshot %s removed", snapshot_ref);
  if (o && o->record) {
    struct access_snapshot_opts ro = *o;

    ro.name = "";
    record_of(ci, t.vm.value, &ro, &rec);
    snprintf(rec.snapshot, sizeof rec.snapshot, "%s", snapshot_ref);
    if (record_edit(o->state_dir, RECORD_DROP, &rec, res) != ACCESS_OK)
      return res->status; /* removed, but the record stays: say so */
  }
  res->status = ACCESS_OK;
  return ACCESS_OK;
}
