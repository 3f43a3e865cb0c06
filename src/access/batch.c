/*
 * batch.c -- DisableMethods / EnableMethods for many VMs, see batch.h.
 *
 * A batch is up to batch_size VMs.  Each batch costs two round trips:
 *
 *  1. read disabledMethod of its VMs (one RetrievePropertiesEx).  This
 *     finds unknown VMs before anything changes, and tells which methods
 *     were already disabled before the call.  If DisableMethods then
 *     succeeds for a VM whose method was already disabled, the holder can
 *     only be this identity (another source would have made the call
 *     fail), so that method was not taken by this call and is never given
 *     back by a rollback.
 *  2. DisableMethods on all of them.
 *
 * A MethodAlreadyDisabledFault names the holder but not the VM.  The VM
 * must be one whose method was already disabled in step 1, so each of
 * those is probed alone (a DisableMethods that is idempotent for our own
 * disables and faults, changing nothing, for someone else's).  Under the
 * alternative same-source assumption (vCenter faults a re-disable by the
 * same source, naming that source), the probes find our own VMs instead;
 * the batch is then retried without them.
 *
 * On failure every VM this call took is given back with EnableMethods
 * under the same sourceId, which cannot touch another source's disable.
 * With assume_atomic false, the failing batch itself is given back as
 * well (only methods that step 1 found free), in case vCenter applied it
 * in part.
 */
#include "access/batch.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/pool.h"
#include "util/log.h"

#define PROBE_MAX 64

static unsigned all_methods(const struct batch_params *p)
{
  return (1u << p->n_methods) - 1;
}

static size_t chunk_size(const struct batch_params *p)
{
  if (p->batch_size == 0)
    return BATCH_DEFAULT_SIZE;
  return p->batch_size > BATCH_MAX_SIZE ? BATCH_MAX_SIZE : p->batch_size;
}

static size_t find_vm(const struct batch_vm *v, size_t n, const char *obj)
{
  struct vim_moref ref;

  if (vim_moref_parse(&ref, obj) != VIM_OK)
    return (size_t)-1;
  for (size_t i = 0; i < n; i++)
    if (strcmp(v[i].vm.value, ref.value) == 0)
      return i;
  return (size_t)-1;
}

static int not_found(struct batch_vm *v, size_t i, size_t *failed,
                     struct access_result *res)
{
  v[i].state = BATCH_VM_NOT_FOUND;
  *failed = i;
  return access_fail(res, ACCESS_E_VM_NOT_FOUND,
                     "no VM %s on this server (ManagedObjectNotFound)",
                     v[i].vm.value);
}

/* Step 1: pre[i] = the methods of p already disabled on v[i]. */
static int pre_read(struct vim_session *s, struct batch_vm *v, size_t m,
                    const struct batch_params *p, unsigned *pre,
                    size_t *failed, struct access_result *res)
{
  static const char *const paths[] = {"disabledMethod"};
  struct vim_moref *refs = malloc(m * sizeof *refs);
  struct vim_objects *objs = NULL;
  struct vim_error err;
  int r;

  if (!refs)
    return access_fail(res, ACCESS_E_NOMEM, "out of memory");
  for (size_t i = 0; i < m; i++)
    refs[i] = v[i].vm;
  r = vim_retrieve(s, refs, m, paths, 1, &objs, &err);
  free(refs);
  if (r == VIM_E_FAULT &&
      err.fault.kind == VIM_FAULT_MANAGED_OBJECT_NOT_FOUND) {
    size_t i = find_vm(v, m, err.fault.object);

    if (i != (size_t)-1)
      return not_found(v, i, failed, res);
  }
  if (r != VIM_OK)
    return access_fail_vim(res, &err);
  for (size_t i = 0; i < m; i++) {
    const struct vim_object *o = vim_objects_find(objs, &v[i].vm);
    const struct vim_prop *pr = o ? vim_object_prop(o, paths[0]) : NULL;

    pre[i] = 0;
    if (!o || o->missing) {
      vim_objects_free(objs);
      return not_found(v, i, failed, res);
    }
    for (size_t k = 0; pr && k < pr->n; k++) {
      const char *name = pr->kind == VIM_PROP_STRINGS ? pr->strs[k]
                         : pr->kind == VIM_PROP_STRING ? pr->str
                                                       : "";
      for (size_t j = 0; j < p->n_methods; j++)
        if (strcmp(name, p->methods[j]) == 0)
          pre[i] |= 1u << j;
    }
  }
  vim_objects_free(objs);
  return ACCESS_OK;
}

static int disable(struct vim_session *s, const struct vim_moref *refs,
                   size_t k, const struct batch_params *p,
                   struct vim_error *err)
{
  struct vim_disabled_method dm[BATCH_MAX_METHODS];

  for (size_t j = 0; j < p->n_methods; j++) {
    dm[j].method = p->methods[j];
    dm[j].reason_id = p->reason;
  }
  return vim_disable_methods(s, refs, k, dm, p->n_methods, p->identity,
                             p->session_scope, err);
}

/* Enables the methods in 'mask' on every VM of v whose taken bits equal
 * mask (when by_taken) or on all of v; a batch per round trip. */
static int enable_mask(struct vim_session *s, struct batch_vm *v, size_t n,
                       const struct batch_params *p, unsigned mask,
                       bool by_taken, struct vim_error *err)
{
  const char *names[BATCH_MAX_METHODS];
  size_t n_names = 0, size = chunk_size(p), k = 0;
  struct vim_moref *refs = malloc(size * sizeof *refs);
  int r = VIM_OK;

  if (!refs)
    return vim_error_set(err, VIM_E_NOMEM, "out of memory");
  for (size_t j = 0; j < p->n_methods; j++)
    if (mask & (1u << j))
      names[n_names++] = p->methods[j];
  for (size_t i = 0; i <= n && r == VIM_OK; i++) {
    if (i < n && (!by_taken || v[i].taken == mask))
      refs[k++] = v[i].vm;
    if (k && (k == size || i == n)) {
      r = vim_enable_methods(s, refs, k, names, n_names, p->identity, err);
      k = 0;
    }
  }
  free(refs);
  return r;
}

/* Gives back what this call took on v (by taken mask).  On failure the
 * VMs keep their taken bits and the failure is logged. */
static void give_back(struct vim_session *s, struct batch_vm *v, size_t n,
                      const struct batch_params *p, const bool *skip)
{
  unsigned *saved = skip ? calloc(n, sizeof *saved) : NULL;

  if (skip && !saved)
    return; /* out of memory: they stay recorded as taken */
  for (size_t i = 0; skip && i < n; i++)
    if (skip[i]) {
      saved[i] = v[i].taken;
      v[i].taken = 0;
    }
  for (unsigned mask = 1; mask <= all_methods(p); mask++) {
    struct vim_error err;
    bool any = false;

    for (size_t i = 0; i < n && !any; i++)
      any = v[i].taken == mask;
    if (!any)
      continue;
    if (enable_mask(s, v, n, p, mask, true, &err) != VIM_OK) {
      fvx_error("could not give back the VMs this call disabled for '%s' "
                "(%s): they stay disabled until `freevix end` or a sweep",
                p->identity, err.detail);
      continue;
    }
    for (size_t i = 0; i < n; i++)
      if (v[i].taken == mask) {
        v[i].taken = 0;
        if (v[i].state == BATCH_VM_OK)
          v[i].state = BATCH_VM_PENDING;
      }
  }
  for (size_t i = 0; skip && i < n; i++)
    if (skip[i])
      v[i].taken = saved[i];
  free(saved);
}

/* A MethodAlreadyDisabledFault for the batch v[0..m): probes the VMs whose
 * methods were already disabled.  Returns ACCESS_OK when every culprit
 * proved to be ours (their excluded[] set: retry without them), or the
 * failure with *failed = the VM another source holds. */
static int find_holder(struct vim_session *s, struct batch_vm *v, size_t m,
                       const struct batch_params *p, const unsigned *pre,
                       bool *excluded, const struct vim_error *fault,
                       size_t *failed, struct access_result *res)
{
  size_t probes = 0;
  bool ours = false;

  for (size_t i = 0; i < m; i++) {
    struct vim_error err;
    int r;

    if (!pre[i] || excluded[i])
      continue;
    if (++probes > PROBE_MAX)
      break;
    r = disable(s, &v[i].vm, 1, p, &err);
    if (r == VIM_OK ||
        (r == VIM_E_FAULT &&
         err.fault.kind == VIM_FAULT_METHOD_ALREADY_DISABLED &&
         strcmp(err.fault.source, p->identity) == 0)) {
      excluded[i] = true;
      ours = true;
      v[i].held = pre[i];
      v[i].taken = r == VIM_OK ? all_methods(p) & ~pre[i] : 0;
      v[i].state = BATCH_VM_OK;
      continue;
    }
    if (r == VIM_E_FAULT &&
        err.fault.kind == VIM_FAULT_METHOD_ALREADY_DISABLED) {
      v[i].state = BATCH_VM_HELD;
      snprintf(v[i].holder, sizeof v[i].holder, "%s", err.fault.source);
      *failed = i;
      return access_fail_vim(res, &err);
    }
    v[i].state = BATCH_VM_FAILED;
    *failed = i;
    return access_fail_vim(res, &err);
  }
  if (ours && strcmp(fault->fault.source, p->identity) == 0)
    return ACCESS_OK;
  /* The holder let go meanwhile, or too many candidates: say who held
   * what we could not pin down. */
  *failed = (size_t)-1;
  return access_fail_vim(res, fault);
}

/* Steps 1 and 2 for v[0..m). */
static int try_batch(struct vim_session *s, struct batch_vm *v, size_t m,
                     const struct batch_params *p, size_t *failed,
                     struct access_result *res)
{
  unsigned *pre = calloc(m, sizeof *pre);
  bool *excluded = calloc(m, sizeof *excluded);
  struct vim_moref *refs = malloc(m * sizeof *refs);
  int r;

  if (!pre || !excluded || !refs) {
    r = access_fail(res, ACCESS_E_NOMEM, "out of memory");
    goto out;
  }
  r = pre_read(s, v, m, p, pre, failed, res);
  while (r == ACCESS_OK) {
    struct vim_error err;
    size_t k = 0;

    for (size_t i = 0; i < m; i++)
      if (!excluded[i])
        refs[k++] = v[i].vm;
    if (k == 0)
      break;
    if (disable(s, refs, k, p, &err) == VIM_OK) {
      for (size_t i = 0; i < m; i++) {
        if (excluded[i])
          continue;
        v[i].held = pre[i];
        v[i].taken = all_methods(p) & ~pre[i];
        v[i].state = BATCH_VM_OK;
      }
      break;
    }
    if (!p->assume_atomic) /* it may have taken some: give them back */
      for (size_t i = 0; i < m; i++)
        if (!excluded[i])
          v[i].taken = all_methods(p) & ~pre[i];
    if (err.status == VIM_E_FAULT &&
        err.fault.kind == VIM_FAULT_MANAGED_OBJECT_NOT_FOUND &&
        find_vm(v, m, err.fault.object) != (size_t)-1) {
      r = not_found(v, find_vm(v, m, err.fault.object), failed, res);
    } else if (err.status == VIM_E_FAULT &&
               err.fault.kind == VIM_FAULT_METHOD_ALREADY_DISABLED) {
      if (!p->assume_atomic)
        give_back(s, v, m, p, excluded);
      r = find_holder(s, v, m, p, pre, excluded, &err, failed, res);
    } else {
      *failed = (size_t)-1;
      r = access_fail_vim(res, &err);
    }
  }
  if (r != ACCESS_OK)
    give_back(s, v, m, p, NULL);
out:
  free(pre);
  free(excluded);
  free(refs);
  return r;
}

static bool is_held(const struct access_result *res)
{
  return res->status == ACCESS_E_VIM && res->vim.status == VIM_E_FAULT &&
         res->vim.fault.kind == VIM_FAULT_METHOD_ALREADY_DISABLED;
}

int batch_disable(struct vim_session *s, struct batch_vm *v, size_t n,
                  const struct batch_params *p, size_t *failed,
                  struct access_result *res)
{
  size_t size = chunk_size(p);
  struct wait_state w;

  *failed = (size_t)-1;
  wait_init(&w, p->wait_ms, p->progress, p->opaque);
  for (size_t start = 0; start < n; start += size) {
    size_t m = n - start < size ? n - start : size;

    for (;;) {
      size_t bad = (size_t)-1;

      if (try_batch(s, v + start, m, p, &bad, res) == ACCESS_OK)
        break;
      if (bad != (size_t)-1)
        *failed = start + bad;
      if (p->wait_ms > 0 && is_held(res) && bad != (size_t)-1 &&
          wait_for_vm(s, &v[start + bad].vm, v[start + bad].holder, &w) ==
              VIM_OK) {
        v[start + bad].state = BATCH_VM_PENDING;
        *failed = (size_t)-1;
        continue;
      }
      give_back(s, v, start, p, NULL);
      return res->status;
    }
  }
  res->status = ACCESS_OK;
  return ACCESS_OK;
}

int batch_enable(struct vim_session *s, struct batch_vm *v, size_t n,
                 const struct batch_params *p, struct access_result *res)
{
  size_t size = chunk_size(p);
  bool any_failed = false;

  res->status = ACCESS_OK;
  for (size_t start = 0; start < n; start += size) {
    size_t m = n - start < size ? n - start : size;
    struct batch_vm *b = v + start;

    for (;;) {
      struct vim_error err;
      size_t i;
      int r;

      /* by_taken with taken == all: only VMs not yet marked. */
      for (i = 0; i < m; i++)
        b[i].taken = b[i].state == BATCH_VM_PENDING ? all_methods(p) : 0;
      r = enable_mask(s, b, m, p, all_methods(p), true, &err);
      for (i = 0; i < m; i++)
        b[i].taken = 0;
      if (r == VIM_OK) {
        for (i = 0; i < m; i++)
          if (b[i].state == BATCH_VM_PENDING)
            b[i].state = BATCH_VM_OK;
        break;
      }
      i = err.status == VIM_E_FAULT &&
                  err.fault.kind == VIM_FAULT_MANAGED_OBJECT_NOT_FOUND
              ? find_vm(b, m, err.fault.object)
              : (size_t)-1;
      if (i != (size_t)-1 && b[i].state == BATCH_VM_PENDING) {
        size_t ignored;

        if (!any_failed)
          not_found(b, i, &ignored, res);
        b[i].state = BATCH_VM_NOT_FOUND;
        any_failed = true;
        continue; /* again without it */
      }
      for (i = 0; i < m; i++)
        if (b[i].state == BATCH_VM_PENDING)
          b[i].state = BATCH_VM_FAILED;
      if (!any_failed)
        access_fail_vim(res, &err);
      any_failed = true;
      break;
    }
  }
  return res->status;
}
