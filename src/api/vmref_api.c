/*
 * vmref_api.c -- freevix_vm_lookup: VMs as operators name them (the
 * external interface of src/access/vmref.c).
 *
 * Thin: checks, delegates, then packs every answer into one allocation
 * (the match array, then the candidate pointer arrays, then the strings)
 * so that the caller frees it with one freevix_free.
 */
#include <stdlib.h>
#include <string.h>

#include "access/vmref.h"
#include "api/api.h"
#include "api/remote_params.h"
#include "api/vim_errors.h"
#include "freevix.h"

#define MAX_VMS 100000u

static VixError code_of(enum vmref_status st)
{
  switch (st) {
  case VMREF_OK:
    return VIX_OK;
  case VMREF_E_BAD:
    return VIX_E_INVALID_ARG;
  case VMREF_E_NOT_FOUND:
    return VIX_E_VM_NOT_FOUND;
  case VMREF_E_AMBIGUOUS:
    return VIX_E_DUPLICATE_NAME;
  }
  return VIX_E_FAIL;
}

static size_t str_size(const char *s)
{
  return (s ? strlen(s) : 0) + 1;
}

/* Copies s ("" for NULL) to *cursor and moves it on. */
static const char *put(char **cursor, const char *s)
{
  char *at = *cursor;
  size_t n = str_size(s);

  memcpy(at, s ? s : "", n);
  *cursor += n;
  return at;
}

/* One allocation for everything in r[0..n); NULL when out of memory. */
static freevix_vm_match *pack(const struct vmref_result *r, uint32 n)
{
  size_t ptrs = 0, bytes = 0, total;
  freevix_vm_match *m;
  const char **slot;
  char *cursor;

  for (uint32 i = 0; i < n; i++) {
    ptrs += r[i].n_listed;
    bytes += str_size(r[i].vmx_spec) + str_size(r[i].moref) +
             str_size(r[i].path);
    for (size_t k = 0; k < r[i].n_listed; k++)
      bytes += str_size(r[i].listed[k]);
  }
  total = n * sizeof *m + ptrs * sizeof(char *) + bytes;
  m = malloc(total);
  if (!m)
    return NULL;
  slot = (const char **)(m + n);
  cursor = (char *)(slot + ptrs);
  for (uint32 i = 0; i < n; i++) {
    m[i].error = code_of(r[i].status);
    m[i].vmxSpec = put(&cursor, r[i].vmx_spec);
    m[i].moref = put(&cursor, r[i].moref);
    m[i].path = put(&cursor, r[i].path);
    m[i].numCandidates = (uint32)r[i].n_candidates;
    m[i].numListed = (uint32)r[i].n_listed;
    m[i].candidates = slot;
    for (size_t k = 0; k < r[i].n_listed; k++)
      *slot++ = put(&cursor, r[i].listed[k]);
  }
  return m;
}

/* Logs the first VM that did not resolve; returns its code. */
static VixError first_failure(const char *fn, const char *const *vms,
                              const struct vmref_result *r, uint32 n)
{
  for (uint32 i = 0; i < n; i++) {
    switch (r[i].status) {
    case VMREF_OK:
      continue;
    case VMREF_E_BAD:
      fvx_error("%s: VM %u: %s", fn, i + 1, r[i].why);
      break;
    case VMREF_E_NOT_FOUND:
      fvx_error("%s: no VM has the %s \"%.300s\"", fn,
                vms[i][0] == '/' ? "inventory path" : "name", vms[i]);
      break;
    case VMREF_E_AMBIGUOUS:
      fvx_error("%s: %zu VMs are named \"%.300s\"; name one by its "
                "inventory path or moref", fn, r[i].n_candidates, vms[i]);
      break;
    }
    return code_of(r[i].status);
  }
  return VIX_OK;
}

/*
 * The external interface.
 */

VixError freevix_vm_lookup(const VixDiskLibConnectParams *connectParams,
                           const char *const *vms, uint32 numVms,
                           freevix_vm_match **matches)
{
  static const char fn[] = "freevix_vm_lookup";
  struct access_conninfo ci;
  struct access_result res;
  struct vmref_result *r;
  VixError err;

  if (matches)
    *matches = NULL;
  err = fvx_api_require_init(fn);
  if (err)
    return err;
  if (!connectParams || !vms || !matches || numVms == 0 || numVms > MAX_VMS) {
    fvx_error("%s: give connectParams, 1 to %u VMs and the output", fn,
              MAX_VMS);
    return VIX_E_INVALID_ARG;
  }
  err = fvx_remote_params(fn, connectParams, false, &ci);
  if (err)
    return err;
  FVX_API_TRACE("freevix_vm_lookup", "server=%s, numVms=%u, first=%.200s)",
                ci.server, numVms, vms[0] ? vms[0] : "(null)");
  r = calloc(numVms, sizeof *r);
  if (!r)
    return VIX_E_OUT_OF_MEMORY;
  if (vmref_resolve(&ci, vms, numVms, r, &res) != ACCESS_OK) {
    vmref_results_free(r, numVms);
    free(r);
    return fvx_map_access_result(fn, &res);
  }
  *matches = pack(r, numVms);
  err = *matches ? first_failure(fn, vms, r, numVms) : VIX_E_OUT_OF_MEMORY;
  vmref_results_free(r, numVms);
  free(r);
  return err;
}
