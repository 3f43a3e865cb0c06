/*
 * params.c -- VixDiskLib_ConnectParams ownership: Allocate, Get, Free.
 *
 * Two kinds of struct leave the library, and FreeConnectParams must tell
 * them apart without reading caller memory it may not own:
 *   - AllocateConnectParams: a zeroed struct whose string fields the
 *     *caller* fills with its own pointers (nbdkit, VMware's JNI binding).
 *     Freeing it frees the struct only.
 *   - GetConnectParams: a deep copy; freeing it wipes and frees the strings.
 * A registry of the live pointers we handed out records which is which.
 * Anything not in the registry was not allocated by us: FreeConnectParams
 * refuses it (one error line) instead of corrupting the heap.
 *
 * Programs also pass structs they allocated themselves, possibly in the
 * pre-6.7 80-byte layout that ends at vimApiVer, so fvx_params_copy reads
 * the fields past vimApiVer only from registered structs.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "util/mem.h"

enum params_kind { PARAMS_ALLOCATED, PARAMS_COPY };

struct params_entry {
  const VixDiskLibConnectParams *p;
  enum params_kind kind;
};

static pthread_mutex_t registry_lock = PTHREAD_MUTEX_INITIALIZER;
static struct params_entry *registry;
static size_t registry_len, registry_alloc;

static bool registry_add(const VixDiskLibConnectParams *p, enum params_kind k)
{
  bool ok = true;

  pthread_mutex_lock(&registry_lock);
  if (registry_len == registry_alloc) {
    size_t want = registry_alloc ? registry_alloc * 2 : 16;
    struct params_entry *r = realloc(registry, want * sizeof *r);

    if (r) {
      registry = r;
      registry_alloc = want;
    } else {
      ok = false;
    }
  }
  if (ok) {
    registry[registry_len].p = p;
    registry[registry_len].kind = k;
    registry_len++;
  }
  pthread_mutex_unlock(&registry_lock);
  return ok;
}

/* Removes p; returns its kind in *kind, false when p is not registered. */
static bool registry_remove(const VixDiskLibConnectParams *p,
                            enum params_kind *kind)
{
  bool found = false;

  pthread_mutex_lock(&registry_lock);
  for (size_t i = 0; i < registry_len; i++) {
    if (registry[i].p == p) {
      *kind = registry[i].kind;
      registry[i] = registry[--registry_len];
      found = true;
      break;
    }
  }
  if (registry_len == 0) {
    free(registry);
    registry = NULL;
    registry_alloc = 0;
  }
  pthread_mutex_unlock(&registry_lock);
  return found;
}

bool fvx_params_allocated_by_us(const VixDiskLibConnectParams *p)
{
  bool found = false;

  pthread_mutex_lock(&registry_lock);
  for (size_t i = 0; i < registry_len && !found; i++)
    found = registry[i].p == p;
  pthread_mutex_unlock(&registry_lock);
  return found;
}

/* Frees the strings a deep copy owns, wiping the secrets. */
static void free_strings(VixDiskLibConnectParams *p)
{
  free(p->vmxSpec);
  free(p->serverName);
  free(p->thumbPrint);
  free(p->vimApiVer);
  if (p->credType == VIXDISKLIB_CRED_UID) {
    free(p->creds.uid.userName);
    fvx_free_secret(p->creds.uid.password);
  } else if (p->credType == VIXDISKLIB_CRED_SESSIONID) {
    fvx_free_secret(p->creds.sessionId.cookie);
    free(p->creds.sessionId.userName);
    fvx_free_secret(p->creds.sessionId.key);
  }
  if (p->specType == VIXDISKLIB_SPEC_VSTORAGE_OBJECT) {
    free(p->spec.vStorageObjSpec.id);
    free(p->spec.vStorageObjSpec.datastoreMoRef);
    free(p->spec.vStorageObjSpec.ssId);
  } else if (p->specType == VIXDISKLIB_SPEC_DATASTORE) {
    free(p->spec.dsSpec.datastoreMoRef);
    free(p->spec.dsSpec.diskFolder);
  }
}

void fvx_params_free_copy(VixDiskLibConnectParams *p)
{
  if (!p)
    return;
  free_strings(p);
  fvx_wipe(p, sizeof *p);
  free(p);
}

/* strdup that tells "NULL in" from "out of memory". */
static bool dup_field(char **dst, const char *src)
{
  *dst = NULL;
  if (!src)
    return true;
  *dst = strdup(src);
  return *dst != NULL;
}

VixDiskLibConnectParams *fvx_params_copy(const VixDiskLibConnectParams *src,
                                         bool full)
{
  VixDiskLibConnectParams *p = calloc(1, sizeof *p);
  bool ok;

  if (!p)
    return NULL;
  /* Fields up to vimApiVer exist in every layout since 6.5. */
  p->privateUse = src->privateUse;
  p->credType = src->credType;
  p->port = src->port;
  p->nfcHostPort = src->nfcHostPort;
  p->specType = VIXDISKLIB_SPEC_VMX;
  ok = dup_field(&p->vmxSpec, src->vmxSpec) &&
       dup_field(&p->serverName, src->serverName) &&
       dup_field(&p->thumbPrint, src->thumbPrint) &&
       dup_field(&p->vimApiVer, src->vimApiVer);
  if (ok && src->credType == VIXDISKLIB_CRED_UID) {
    ok = dup_field(&p->creds.uid.userName, src->creds.uid.userName) &&
         dup_field(&p->creds.uid.password, src->creds.uid.password);
  } else if (ok && src->credType == VIXDISKLIB_CRED_SESSIONID) {
    ok = dup_field(&p->creds.sessionId.cookie, src->creds.sessionId.cookie) &&
         dup_field(&p->creds.sessionId.userName,
                   src->creds.sessionId.userName) &&
         dup_field(&p->creds.sessionId.key, src->creds.sessionId.key);
  }
  if (ok && full) {
    p->specType = src->specType;
    if (src->specType == VIXDISKLIB_SPEC_VSTORAGE_OBJECT) {
      const VixDiskLibVStorageObjectSpec *s = &src->spec.vStorageObjSpec;

      ok = dup_field(&p->spec.vStorageObjSpec.id, s->id) &&
           dup_field(&p->spec.vStorageObjSpec.datastoreMoRef,
                     s->datastoreMoRef) &&
           dup_field(&p->spec.vStorageObjSpec.ssId, s->ssId);
    } else if (src->specType == VIXDISKLIB_SPEC_DATASTORE) {
      ok = dup_field(&p->spec.dsSpec.datastoreMoRef,
                     src->spec.dsSpec.datastoreMoRef) &&
           dup_field(&p->spec.dsSpec.diskFolder, src->spec.dsSpec.diskFolder);
    }
  }
  if (!ok) {
    fvx_params_free_copy(p);
    return NULL;
  }
  return p;
}

/*
 * The external interface.
 */

VixDiskLibConnectParams *VixDiskLib_AllocateConnectParams(void)
{
  VixDiskLibConnectParams *p = calloc(1, sizeof *p);

  FVX_API_TRACE("VixDiskLib_AllocateConnectParams", ")");
  if (!p)
    return NULL;
  if (!registry_add(p, PARAMS_ALLOCATED)) {
    free(p);
    return NULL;
  }
  return p;
}

void VixDiskLib_FreeConnectParams(VixDiskLibConnectParams *connectParams)
{
  enum params_kind kind;

  if (!connectParams)
    return;
  if (!registry_remove(connectParams, &kind)) {
    fvx_error("VixDiskLib_FreeConnectParams: %p was not allocated by "
              "VixDiskLib_AllocateConnectParams or VixDiskLib_GetConnectParams"
              " (or was freed already); not freed", (void *)connectParams);
    return;
  }
  if (kind == PARAMS_COPY) {
    fvx_params_free_copy(connectParams);
    return;
  }
  /* The strings belong to the caller (nbdkit frees its own). */
  free(connectParams);
}

VixError VixDiskLib_GetConnectParams(const VixDiskLibConnection connection,
                                     VixDiskLibConnectParams **connectParams)
{
  VixDiskLibConnectParams *copy;
  VixError err = fvx_api_require_init("VixDiskLib_GetConnectParams");

  if (err)
    return err;
  FVX_API_TRACE("VixDiskLib_GetConnectParams", "%p)", (void *)connection);
  if (!connectParams) {
    fvx_error("VixDiskLib_GetConnectParams: connectParams (the output) is NULL");
    return VIX_E_INVALID_ARG;
  }
  *connectParams = NULL;
  if (!fvx_conn_valid(connection)) {
    fvx_error("VixDiskLib_GetConnectParams: invalid connection handle");
    return VIX_E_INVALID_ARG;
  }
  if (connection->params) {
    copy = fvx_params_copy(connection->params, true);
  } else {
    copy = calloc(1, sizeof *copy); /* local connection from Connect(NULL) */
  }
  if (!copy)
    return VIX_E_OUT_OF_MEMORY;
  if (!registry_add(copy, PARAMS_COPY)) {
    fvx_params_free_copy(copy);
    return VIX_E_OUT_OF_MEMORY;
  }
  *connectParams = copy;
  return VIX_OK;
}
