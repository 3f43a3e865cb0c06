/*
 * vmquery.c -- a VM's description, disks and Changed Block Tracking for
 * the backup workflow, see vmquery.h.
 *
 * Every call is the same three steps: find the VM on a pooled session
 * (access_target_open), one or a few vim calls, give the session back.
 * Changed areas are the only one with a loop: vCenter pages the answer of
 * QueryChangedDiskAreas by disk range (about 2000 areas a page,
 * remote-disk.md §4), so the next call starts where the last answer's
 * coverage ended, and never at the end of the disk, where the call
 * faults.  A page that covers nothing is the server making no progress:
 * the loop stops there instead of spinning.
 */
#include "access/vmquery.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/pool.h"
#include "access/target.h"
#include "util/log.h"

/* Closes the target after a vim call that gave err (r its status). */
static int close_target(const struct access_conninfo *ci,
                        struct access_target_vm *t, int r,
                        const struct vim_error *err,
                        struct access_result *res)
{
  access_target_close(ci, t, r == VIM_OK || access_session_reusable(err));
  if (r == VIM_E_NOT_FOUND)
    return access_fail(res, ACCESS_E_VM_NOT_FOUND, "no VM %s on this server",
                       t->vm.value);
  if (r != VIM_OK)
    return access_target_fail(t, err, res);
  res->status = ACCESS_OK;
  return ACCESS_OK;
}

int access_vm_describe(const struct access_conninfo *ci,
                       struct access_vm_desc *out, struct access_result *res)
{
  struct access_target_vm t;
  struct vim_error err;
  int r;

  memset(out, 0, sizeof *out);
  if (access_target_begin(ci, &t, res) != ACCESS_OK)
    return res->status;
  r = vim_vm_place_get(t.session, &t.vm, &out->place, &err);
  snprintf(out->moref, sizeof out->moref, "%s", t.vm.value);
  return close_target(ci, &t, r, &err, res);
}

/* Checks that snap exists and belongs to t's VM: ACCESS_E_SNAPSHOT
 * otherwise. */
static int check_snapshot_vm(struct access_target_vm *t,
                             const struct vim_moref *snap,
                             struct access_result *res)
{
  struct vim_moref owner;
  struct vim_error err;
  int r = vim_snapshot_vm(t->session, snap, &owner, &err);

  if (r == VIM_E_NOT_FOUND)
    return access_fail(res, ACCESS_E_SNAPSHOT, "no snapshot %s on the "
                       "server", snap->value);
  if (r != VIM_OK)
    return access_fail_vim(res, &err);
  if (strcmp(owner.value, t->vm.value) != 0)
    return access_fail(res, ACCESS_E_SNAPSHOT, "snapshot %s belongs to %s, "
                       "not to %s", snap->value, owner.value, t->vm.value);
  return ACCESS_OK;
}

/* The snapshot moref for ref (NULL or "": none); false when malformed. */
static bool snapshot_moref(const char *ref, struct vim_moref *out,
                           bool *given)
{
  *given = ref && *ref;
  return !*given || vim_moref_set(out, "VirtualMachineSnapshot", ref);
}

int access_vm_disks(const struct access_conninfo *ci, const char *snapshot_ref,
                    struct vim_disk **out, size_t *n,
                    struct access_result *res)
{
  struct access_target_vm t;
  struct vim_moref snap;
  struct vim_error err;
  bool given;
  int r;

  *out = NULL;
  *n = 0;
  if (!snapshot_moref(snapshot_ref, &snap, &given))
    return access_fail(res, ACCESS_E_VMXSPEC, "bad snapshot reference");
  if (access_target_begin(ci, &t, res) != ACCESS_OK)
    return res->status;
  if (given && check_snapshot_vm(&t, &snap, res) != ACCESS_OK) {
    access_target_close(ci, &t, res->status != ACCESS_E_VIM ||
                                    access_session_reusable(&res->vim));
    return res->status; /* the snapshot, not the VM */
  }
  r = vim_disks_get(t.session, given ? &snap : &t.vm, out, n, &err);
  return close_target(ci, &t, r, &err, res);
}

int access_set_change_tracking(const struct access_conninfo *ci, bool enable,
                               long timeout_ms, bool *was,
                               struct access_result *res)
{
  struct access_target_vm t;
  struct vim_vm_place place;
  struct vim_moref task;
  struct vim_error err;
  int r;

  if (access_target_begin(ci, &t, res) != ACCESS_OK)
    return res->status;
  r = vim_vm_place_get(t.session, &t.vm, &place, &err);
  if (r == VIM_OK && was)
    *was = place.change_tracking;
  if (r == VIM_OK && place.change_tracking != enable) {
    r = vim_set_change_tracking(t.session, &t.vm, enable, &task, &err);
    if (r == VIM_OK)
      r = vim_task_wait(t.session, &task,
                        timeout_ms > 0 ? timeout_ms : ACCESS_TASK_TIMEOUT_MS,
                        NULL, NULL, NULL, &err);
    if (r == VIM_OK)
      fvx_info("change tracking %s on %s", enable ? "enabled" : "disabled",
               t.vm.value);
  }
  return close_target(ci, &t, r, &err, res);
}

/* The areas collected so far: sorted and coalesced while the server
 * answers in order (it does), sorted at the end otherwise. */
struct area_list {
  struct vim_disk_area *v;
  size_t n, alloc, max;
  bool unsorted;
};

static int area_add(struct area_list *l, uint64_t start, uint64_t len,
                    struct vim_error *err)
{
  if (l->n) {
    struct vim_disk_area *last = &l->v[l->n - 1];

    if (start >= last->start && start <= last->start + last->length) {
      if (start + len > last->start + last->length)
        last->length = start + len - last->start;
      return VIM_OK;
    }
    if (start < last->start)
      l->unsorted = true;
  }
  if (l->n == l->max)
    return vim_error_set(err, VIM_E_TOO_BIG, "QueryChangedDiskAreas: more "
                         "changed areas than freevix keeps for one disk");
  if (l->n == l->alloc) {
    size_t alloc = l->alloc ? 2 * l->alloc : 256;
    struct vim_disk_area *v;

    if (alloc > l->max)
      alloc = l->max;
    v = realloc(l->v, alloc * sizeof *v);
    if (!v)
      return vim_error_set(err, VIM_E_NOMEM, "out of memory");
    l->v = v;
    l->alloc = alloc;
  }
  l->v[l->n].start = start;
  l->v[l->n].length = len;
  l->n++;
  return VIM_OK;
}

static int by_start(const void *a, const void *b)
{
  const struct vim_disk_area *x = a, *y = b;

  return x->start < y->start ? -1 : x->start > y->start;
}

/* Sorts an out-of-order list and merges what then touches. */
static void area_normalize(struct area_list *l)
{
  size_t k = 0;

  if (!l->unsorted || l->n < 2)
    return;
  qsort(l->v, l->n, sizeof *l->v, by_start);
  for (size_t i = 1; i < l->n; i++) {
    struct vim_disk_area *last = &l->v[k];
    uint64_t end = last->start + last->length;

    if (l->v[i].start <= end) {
      if (l->v[i].start + l->v[i].length > end)
        last->length = l->v[i].start + l->v[i].length - last->start;
    } else {
      l->v[++k] = l->v[i];
    }
  }
  l->n = k + 1;
}

/* Adds the areas of one page, clipped to [lo, hi). */
static int add_page(struct area_list *l, const struct vim_changed_areas *p,
                    uint64_t lo, uint64_t hi, struct vim_error *err)
{
  for (size_t i = 0; i < p->n; i++) {
    uint64_t s = p->areas[i].start, e = s + p->areas[i].length;
    int r;

    if (s < lo)
      s = lo;
    if (e > hi)
      e = hi;
    if (e <= s)
      continue;
    r = area_add(l, s, e - s, err);
    if (r != VIM_OK)
      return r;
  }
  return VIM_OK;
}

int access_changed_areas(const struct access_conninfo *ci,
                         const char *snapshot_ref, int32_t device_key,
                         uint64_t start, uint64_t length,
                         const char *change_id, size_t max_areas,
                         struct vim_disk_area **out, size_t *n,
                         struct access_result *res)
{
  struct access_target_vm t;
  struct area_list l = {NULL, 0, 0, max_areas, false};
  struct vim_moref snap;
  struct vim_error err;
  uint64_t pos = start, end;
  bool given;
  int r = VIM_OK;

  *out = NULL;
  *n = 0;
  if (length > UINT64_MAX - start)
    return access_fail(res, ACCESS_E_VMXSPEC, "range overflows");
  end = start + length;
  if (!snapshot_moref(snapshot_ref, &snap, &given))
    return access_fail(res, ACCESS_E_VMXSPEC, "bad snapshot reference");
  if (access_target_begin(ci, &t, res) != ACCESS_OK)
    return res->status;
  while (r == VIM_OK && pos < end) {
    struct vim_changed_areas page;

    r = vim_query_changed_areas(t.session, &t.vm, given ? &snap : NULL,
                                device_key, pos, change_id, &page, &err);
    if (r != VIM_OK)
      break;
    r = add_page(&l, &page, start, end, &err);
    if (page.start > pos || page.length == 0 ||
        page.length > UINT64_MAX - page.start) {
      vim_changed_areas_free(&page);
      break; /* no progress (or a gap we would skip): stop here */
    }
    pos = page.start + page.length;
    vim_changed_areas_free(&page);
  }
  if (r == VIM_OK && pos < end)
    r = vim_error_set(&err, VIM_E_PROTOCOL, "QueryChangedDiskAreas stopped "
                      "before the end of the range: the server made no "
                      "progress");
  if (r != VIM_OK) {
    free(l.v);
    return close_target(ci, &t, r, &err, res);
  }
  area_normalize(&l);
  *out = l.v;
  *n = l.n;
  return close_target(ci, &t, VIM_OK, &err, res);
}
