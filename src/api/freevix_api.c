/*
 * freevix_api.c -- freevix_access_* and freevix_sweep: batches, bounded
 * waits, leases and who holds what (the external interface of
 * src/access/lease.c).
 *
 * Thin, like access_api.c: check the library state, the handle's magic and
 * the arguments, log the call, delegate, and map each outcome through the
 * one table (vim_errors.c).  The per-VM results are filled here from the
 * access layer's batch states.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/lease.h"
#include "access/snapshot.h"
#include "api/api.h"
#include "api/remote_params.h"
#include "api/vim_errors.h"
#include "freevix.h"

#define ACCESS_MAGIC 0x46564158u /* "FVAX" */
#define MAX_VMS 100000u

struct freevix_access {
  uint32_t magic;
  struct lease *lease;
  freevix_access_options opts;
  /* the lost callback and the wait callback get (opaque = this) */
};

static const char *const method_names[] = {"RelocateVM_Task",
                                           "MigrateVM_Task"};

static void on_wait(void *opaque, const char *vm, const char *holder,
                    int64_t waited_ms, int64_t budget_ms, int progress)
{
  struct freevix_access *a = opaque;

  a->opts.waitFunc(a->opts.clientData, vm, holder, (uint32)waited_ms,
                   (uint32)budget_ms, progress);
}

static void on_lost(void *opaque, const char *detail)
{
  struct freevix_access *a = opaque;

  a->opts.leaseLostFunc(a->opts.clientData, detail);
}

static VixError check_options(const char *fn, const freevix_access_options *o)
{
  VixError err;

  if (!o) {
    fvx_error("%s: options is NULL", fn);
    return VIX_E_INVALID_ARG;
  }
  err = fvx_check_identity(fn, o->identity);
  if (err)
    return err;
  if (o->methods & ~(FREEVIX_METHOD_RELOCATE | FREEVIX_METHOD_MIGRATE) ||
      o->batchSize > BATCH_MAX_SIZE || o->lease > FREEVIX_LEASE_JOURNAL ||
      (o->reason && strlen(o->reason) > 1024) ||
      (o->stateDir && (!*o->stateDir || strlen(o->stateDir) > 3000))) {
    fvx_error("%s: bad options: methods must be FREEVIX_METHOD_* bits, "
              "batchSize at most %d, lease a FREEVIX_LEASE_* value, reason "
              "at most 1024 bytes, stateDir a non-empty path", fn,
              BATCH_MAX_SIZE);
    return VIX_E_INVALID_ARG;
  }
  return VIX_OK;
}

VixError freevix_access_open(const VixDiskLibConnectParams *connectParams,
                             const freevix_access_options *options,
                             freevix_access **access)
{
  static const char fn[] = "freevix_access_open";
  struct access_conninfo ci;
  struct access_result res;
  struct lease_opts lo;
  struct freevix_access *a;
  uint32 methods;
  VixError err;

  if (access)
    *access = NULL;
  err = fvx_api_require_init(fn);
  if (err)
    return err;
  if (!connectParams || !access) {
    fvx_error("%s: connectParams and access must not be NULL", fn);
    return VIX_E_INVALID_ARG;
  }
  err = fvx_remote_params(fn, connectParams, false, &ci);
  if (!err)
    err = check_options(fn, options);
  if (err)
    return err;
  FVX_API_TRACE("freevix_access_open", "server=%s, identity=%.200s, "
                "lease=%u, waitMs=%u, batchSize=%u)", ci.server,
                options->identity, options->lease, options->waitMs,
                options->batchSize);
  a = calloc(1, sizeof *a);
  if (!a)
    return VIX_E_OUT_OF_MEMORY;
  a->opts = *options;
  memset(&lo, 0, sizeof lo);
  methods = options->methods ? options->methods : FREEVIX_METHOD_RELOCATE;
  for (size_t i = 0; i < 2; i++)
    if (methods & (1u << i))
      lo.methods[lo.n_methods++] = method_names[i];
  lo.identity = options->identity;
  lo.reason = options->reason;
  lo.batch_size = options->batchSize;
  lo.wait_ms = (long)options->waitMs;
  lo.mode = options->lease == FREEVIX_LEASE_SESSION   ? LEASE_SESSION
            : options->lease == FREEVIX_LEASE_JOURNAL ? LEASE_JOURNAL
                                                      : LEASE_NONE;
  lo.ttl_ms = (long)options->ttlSec * 1000;
  lo.process_owned = options->processOwned;
  lo.assume_atomic = options->assumeAtomicDisable;
  lo.check_privileges = options->checkPrivileges;
  lo.state_dir = options->stateDir;
  lo.keepalive_ms = (long)options->keepAliveMs;
  if (options->waitFunc) {
    lo.progress = on_wait;
    lo.progress_opaque = a;
  }
  if (options->leaseLostFunc) {
    lo.lost = on_lost;
    lo.lost_opaque = a;
  }
  if (lease_open(&ci, &lo, &a->lease, &res) != ACCESS_OK) {
    free(a);
    return fvx_map_access_result(fn, &res);
  }
  /* The strings are the lease's copies from now on; the caller's may go. */
  a->opts.identity = a->opts.reason = a->opts.stateDir = NULL;
  a->magic = ACCESS_MAGIC;
  *access = a;
  return VIX_OK;
}

/* The library is up and a is a live handle; logs and returns the code
 * otherwise. */
static VixError check_handle(const char *fn, const freevix_access *a)
{
  VixError err = fvx_api_require_init(fn);

  if (err)
    return err;
  if (!a || a->magic != ACCESS_MAGIC) {
    fvx_error("%s: not a handle from freevix_access_open (or already "
              "closed)", fn);
    return VIX_E_INVALID_HANDLE;
  }
  return VIX_OK;
}

/* The checks every call on a handle and a list of VMs starts with. */
static VixError begin(const char *fn, freevix_access *a,
                      const char *const *specs, uint32 n, const void *out,
                      bool out_required)
{
  VixError err = check_handle(fn, a);

  if (err)
    return err;
  if (!specs || n == 0 || n > MAX_VMS || (out_required && !out)) {
    fvx_error("%s: give 1 to %u vmxSpecs%s", fn, MAX_VMS,
              out_required ? " and an output array" : "");
    return VIX_E_INVALID_ARG;
  }
  for (uint32 i = 0; i < n; i++)
    if (!specs[i] || !*specs[i]) {
      fvx_error("%s: vmxSpecs[%u] is NULL or empty", fn, i);
      return VIX_E_MISSING_REQUIRED_PROPERTY;
    }
  fvx_debug("%s(numVms=%u, first=%.200s)", fn, n, specs[0]);
  return VIX_OK;
}

/* Fills the per-VM results of a prepare (or end): the VM at fault gets
 * 'failure', the others what happened to them. */
static void fill_results(freevix_vm_result *out, const struct batch_vm *v,
                         uint32 n, size_t failed, VixError failure,
                         bool prepare)
{
  if (!out)
    return;
  for (uint32 i = 0; i < n; i++) {
    freevix_vm_result *r = &out[i];

    memset(r, 0, sizeof *r);
    snprintf(r->moref, sizeof r->moref, "%s", v[i].vm.value);
    snprintf(r->holder, sizeof r->holder, "%s", v[i].holder);
    r->alreadyHeld = v[i].held != 0;
    if (i == failed) {
      r->error = failure;
      continue;
    }
    switch (v[i].state) {
    case BATCH_VM_OK: /* after a failed prepare: taken = not given back */
      r->error = prepare && failure && !v[i].taken ? VIX_E_CANCELLED : VIX_OK;
      break;
    case BATCH_VM_PENDING:
      r->error = VIX_E_CANCELLED;
      break;
    case BATCH_VM_NOT_FOUND:
      r->error = VIX_E_VM_NOT_FOUND;
      break;
    case BATCH_VM_HELD:
      r->error = VMODL_TYPE_VIM_FAULT_METHOD_ALREADY_DISABLED_FAULT;
      break;
    case BATCH_VM_FAILED:
      r->error = !v[i].vm.value[0] ? VIX_E_INVALID_PROPERTY_VALUE
                 : failure         ? failure
                                   : VIX_E_FAIL;
      break;
    }
  }
}

/* The start of prepare, end and status: begin()'s checks, then every spec
 * resolved to a VM (*out, freed by the caller; NULL on failure).  A spec
 * that does not resolve is not a failure of this function: it comes back
 * in *first (and its VM's state), so the caller can report it per VM. */
static VixError start(const char *fn, freevix_access *a,
                      const char *const *specs, uint32 n, const void *results,
                      bool results_required, struct batch_vm **out,
                      size_t *failed, VixError *first)
{
  struct access_result res;
  struct batch_vm *v;
  VixError err = begin(fn, a, specs, n, results, results_required);

  *out = NULL;
  *first = VIX_OK;
  if (err)
    return err;
  v = calloc(n, sizeof *v);
  if (!v)
    return VIX_E_OUT_OF_MEMORY;
  *out = v;
  if (lease_resolve(a->lease, specs, n, v, failed, &res) != ACCESS_OK)
    *first = fvx_map_access_result(fn, &res);
  return VIX_OK;
}

VixError freevix_access_prepare(freevix_access *access,
                                const char *const *vmxSpecs, uint32 numVms,
                                freevix_vm_result *results)
{
  static const char fn[] = "freevix_access_prepare";
  struct access_result res;
  struct batch_vm *v;
  size_t failed = (size_t)-1;
  VixError first;
  VixError err = start(fn, access, vmxSpecs, numVms, results, false, &v,
                       &failed, &first);

  if (err)
    return err;
  if (first) {
    err = first; /* nothing changed: every spec is checked first */
  } else if (lease_prepare(access->lease, v, numVms, &failed, &res) !=
             ACCESS_OK) {
    err = fvx_map_access_result(fn, &res);
    if (failed != (size_t)-1)
      fvx_error("%s: VM %s (vmxSpec \"%.200s\") failed; every VM this call "
                "disabled was enabled again", fn, v[failed].vm.value,
                vmxSpecs[failed]);
  }
  fill_results(results, v, numVms, failed, err, true);
  free(v);
  return err;
}

VixError freevix_access_end(freevix_access *access,
                            const char *const *vmxSpecs, uint32 numVms,
                            freevix_vm_result *results)
{
  static const char fn[] = "freevix_access_end";
  struct access_result res;
  struct batch_vm *v;
  size_t failed = (size_t)-1;
  VixError first;
  VixError err = start(fn, access, vmxSpecs, numVms, results, false, &v,
                       &failed, &first);

  if (err)
    return err;
  /* Ends every VM that resolved (batch_enable acts on PENDING ones). */
  if (lease_end(access->lease, v, numVms, &res) != ACCESS_OK) {
    err = fvx_map_access_result(fn, &res);
    if (!first)
      first = err;
  }
  fill_results(results, v, numVms, failed, first, false);
  free(v);
  return first;
}

/* One VM's status from the access layer's (moref set by the caller). */
static void fill_status(freevix_vm_status *s, const struct lease_vm_status *st)
{
  s->error = st->found ? VIX_OK : VIX_E_VM_NOT_FOUND;
  snprintf(s->name, sizeof s->name, "%s", st->name);
  snprintf(s->disabledMethods, sizeof s->disabledMethods, "%s", st->disabled);
  snprintf(s->holder, sizeof s->holder, "%s", st->holder);
  s->ownerPid = (uint32)st->owner_pid;
  s->sinceUnix = st->since;
  s->expiresUnix = st->expires;
}

VixError freevix_access_status(freevix_access *access,
                               const char *const *vmxSpecs, uint32 numVms,
                               freevix_vm_status *statuses)
{
  static const char fn[] = "freevix_access_status";
  struct lease_vm_status *st = NULL;
  struct access_result res;
  struct batch_vm *v = NULL, *ok = NULL;
  size_t failed, n_ok = 0;
  char problem[600];
  VixError first;
  VixError err = start(fn, access, vmxSpecs, numVms, statuses, true, &v,
                       &failed, &first);

  if (err)
    return err;
  memset(statuses, 0, numVms * sizeof *statuses);
  ok = calloc(numVms, sizeof *ok);
  st = calloc(numVms, sizeof *st);
  if (!ok || !st) {
    err = VIX_E_OUT_OF_MEMORY;
    goto out;
  }
  for (uint32 i = 0; i < numVms; i++)
    if (v[i].state == BATCH_VM_PENDING)
      ok[n_ok++] = v[i];
  if (n_ok && lease_status(access->lease, ok, n_ok, st, problem,
                           sizeof problem, &res) != ACCESS_OK) {
    err = fvx_map_access_result(fn, &res);
    goto out;
  }
  if (n_ok && problem[0])
    fvx_warn("%s: holders unknown: %s", fn, problem);
  for (uint32 i = 0, k = 0; i < numVms; i++) {
    freevix_vm_status *s = &statuses[i];

    snprintf(s->moref, sizeof s->moref, "%s", v[i].vm.value);
    if (v[i].state != BATCH_VM_PENDING) {
      s->error = v[i].state == BATCH_VM_NOT_FOUND ? VIX_E_VM_NOT_FOUND
                                                  : VIX_E_INVALID_ARG;
    } else {
      fill_status(s, &st[k++]);
    }
    if (!first && s->error) {
      first = s->error;
      fvx_error("%s: VM %s (vmxSpec \"%.200s\") %s", fn, s->moref,
                vmxSpecs[i], s->error == VIX_E_VM_NOT_FOUND
                                 ? "does not exist on this server"
                                 : "could not be read");
    }
  }
  err = first;
out:
  free(v);
  free(ok);
  free(st);
  return err;
}

VixError freevix_access_status_all(freevix_access *access,
                                   freevix_vm_status **statuses,
                                   uint32 *numVms)
{
  static const char fn[] = "freevix_access_status_all";
  struct lease_vm_status *st = NULL;
  struct access_result res;
  freevix_vm_status *out;
  char problem[600];
  size_t n = 0;
  VixError err;

  if (statuses)
    *statuses = NULL;
  if (numVms)
    *numVms = 0;
  err = check_handle(fn, access);
  if (err)
    return err;
  if (!statuses || !numVms) {
    fvx_error("%s: statuses and numVms must not be NULL", fn);
    return VIX_E_INVALID_ARG;
  }
  FVX_API_TRACE("freevix_access_status_all", ")");
  if (lease_status_all(access->lease, &st, &n, problem, sizeof problem,
                       &res) != ACCESS_OK)
    return fvx_map_access_result(fn, &res);
  if (n && problem[0])
    fvx_warn("%s: holders unknown: %s", fn, problem);
  out = calloc(n ? n : 1, sizeof *out);
  if (!out) {
    free(st);
    return VIX_E_OUT_OF_MEMORY;
  }
  for (size_t i = 0; i < n; i++) {
    snprintf(out[i].moref, sizeof out[i].moref, "%s", st[i].vm.value);
    fill_status(&out[i], &st[i]);
  }
  free(st);
  *statuses = out;
  *numVms = (uint32)n;
  return VIX_OK;
}

VixError freevix_access_close(freevix_access *access)
{
  static const char fn[] = "freevix_access_close";
  struct access_result res;

  if (!access)
    return VIX_OK;
  if (access->magic != ACCESS_MAGIC) {
    fvx_error("%s: not a handle from freevix_access_open", fn);
    return VIX_E_INVALID_HANDLE;
  }
  access->magic = 0;
  lease_close(access->lease, &res);
  free(access);
  if (res.status != ACCESS_OK)
    return fvx_map_access_result(fn, &res);
  return VIX_OK;
}

struct sweep_ctx {
  freevix_sweep_func *grant_fn;
  freevix_sweep_snapshot_func *snapshot_fn;
  void *data;
};

static VixError outcome(const struct access_result *r)
{
  return r->status == ACCESS_OK ? VIX_OK
                                : fvx_map_access_result("freevix_sweep", r);
}

static void on_swept(void *opaque, const struct journal_grant *g,
                     const char *why, const struct access_result *r)
{
  struct sweep_ctx *c = opaque;
  VixError err = outcome(r);

  if (c->grant_fn)
    c->grant_fn(c->data, g->vm, g->method, g->source, why, err);
}

static void on_snapshot_swept(void *opaque, const struct journal_snapshot *s,
                              const char *why, const struct access_result *r)
{
  struct sweep_ctx *c = opaque;
  VixError err = outcome(r);

  if (c->snapshot_fn)
    c->snapshot_fn(c->data, s->vm, s->snapshot, s->name, s->source, why, err);
}

VixError freevix_sweep_ex(const VixDiskLibConnectParams *connectParams,
                          const freevix_sweep_options *options,
                          uint32 *numGrants, uint32 *numSnapshots)
{
  static const char fn[] = "freevix_sweep_ex";
  struct access_conninfo ci;
  struct access_result res, gres;
  struct sweep_ctx ctx;
  size_t grants = 0, snaps = 0;
  VixError err;

  if (numGrants)
    *numGrants = 0;
  if (numSnapshots)
    *numSnapshots = 0;
  err = fvx_api_require_init(fn);
  if (err)
    return err;
  if (!connectParams || !options) {
    fvx_error("%s: connectParams and options must not be NULL", fn);
    return VIX_E_INVALID_ARG;
  }
  err = fvx_remote_params(fn, connectParams, false, &ci);
  if (err)
    return err;
  if (options->stateDir &&
      (!*options->stateDir || strlen(options->stateDir) > 3000)) {
    fvx_error("%s: stateDir must be a non-empty path", fn);
    return VIX_E_INVALID_ARG;
  }
  FVX_API_TRACE("freevix_sweep_ex", "server=%s, dryRun=%d)", ci.server,
                (int)options->dryRun);
  ctx.grant_fn = options->grantFunc;
  ctx.snapshot_fn = options->snapshotFunc;
  ctx.data = options->clientData;
  /* Snapshots first, as a backup ends: RemoveSnapshot, then EndAccess. */
  snapshot_sweep(&ci, options->stateDir, options->dryRun != 0,
                 on_snapshot_swept, &ctx, &snaps, &res);
  if (numSnapshots)
    *numSnapshots = (uint32)snaps;
  if (res.status == ACCESS_E_JOURNAL)
    return fvx_map_access_result(fn, &res);
  lease_sweep(&ci, options->stateDir, options->dryRun != 0, on_swept, &ctx,
              &grants, &gres);
  if (numGrants)
    *numGrants = (uint32)grants;
  if (res.status != ACCESS_OK)
    return fvx_map_access_result(fn, &res);
  if (gres.status != ACCESS_OK)
    return fvx_map_access_result(fn, &gres);
  return VIX_OK;
}

VixError freevix_sweep(const VixDiskLibConnectParams *connectParams,
                       const char *stateDir, Bool dryRun,
                       freevix_sweep_func *report, void *clientData,
                       uint32 *numSwept)
{
  freevix_sweep_options o;
  uint32 grants = 0, snaps = 0;
  VixError err;

  memset(&o, 0, sizeof o);
  o.stateDir = stateDir;
  o.dryRun = dryRun;
  o.grantFunc = report;
  o.clientData = clientData;
  err = freevix_sweep_ex(connectParams, &o, &grants, &snaps);
  if (numSwept)
    *numSwept = grants + snaps;
  return err;
}
