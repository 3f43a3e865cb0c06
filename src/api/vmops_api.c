/*
 * vmops_api.c -- freevix_snapshot_create / _remove, freevix_relocate,
 * freevix_free: the VM calls a backup program needs besides VixDiskLib.
 */
#include <stdlib.h>
#include <string.h>

#include "access/vmops.h"
#include "api/api.h"
#include "api/remote_params.h"
#include "api/vim_errors.h"
#include "freevix.h"

#define NAME_MAX_BYTES 80

void freevix_free(void *p)
{
  free(p);
}

VixError freevix_snapshot_create(const VixDiskLibConnectParams *connectParams,
                                 const char *name, uint32 timeoutSec,
                                 char **snapshotRef)
{
  static const char fn[] = "freevix_snapshot_create";
  struct access_conninfo ci;
  struct access_result res;
  VixError err;

  if (snapshotRef)
    *snapshotRef = NULL;
  err = fvx_remote_begin(fn, connectParams, &ci);
  if (err)
    return err;
  if (!name || !*name || strnlen(name, NAME_MAX_BYTES + 1) > NAME_MAX_BYTES ||
      !snapshotRef) {
    fvx_error("%s: name must be 1 to %d bytes and snapshotRef non-NULL", fn,
              NAME_MAX_BYTES);
    return VIX_E_INVALID_ARG;
  }
  FVX_API_TRACE("freevix_snapshot_create", "vmxSpec=%s, name=%s)",
                connectParams->vmxSpec, name);
  if (access_snapshot_create(&ci, name, (long)timeoutSec * 1000, snapshotRef,
                             &res) != ACCESS_OK)
    return fvx_map_access_result(fn, &res);
  return VIX_OK;
}

VixError freevix_snapshot_remove(const VixDiskLibConnectParams *connectParams,
                                 const char *snapshotRef, uint32 timeoutSec)
{
  static const char fn[] = "freevix_snapshot_remove";
  struct access_conninfo ci;
  struct access_result res;
  VixError err = fvx_remote_begin(fn, connectParams, &ci);

  if (err)
    return err;
  if (!snapshotRef || !*snapshotRef) {
    fvx_error("%s: snapshotRef is NULL or empty", fn);
    return VIX_E_INVALID_ARG;
  }
  FVX_API_TRACE("freevix_snapshot_remove", "snapshot=%s)", snapshotRef);
  if (access_snapshot_remove(&ci, snapshotRef, (long)timeoutSec * 1000,
                             &res) != ACCESS_OK)
    return fvx_map_access_result(fn, &res);
  return VIX_OK;
}

VixError freevix_relocate(const VixDiskLibConnectParams *connectParams,
                          const char *datastore, uint32 timeoutSec)
{
  static const char fn[] = "freevix_relocate";
  struct access_conninfo ci;
  struct access_result res;
  VixError err = fvx_remote_begin(fn, connectParams, &ci);

  if (err)
    return err;
  FVX_API_TRACE("freevix_relocate", "vmxSpec=%s, datastore=%s)",
                connectParams->vmxSpec, datastore ? datastore : "(same)");
  if (access_relocate(&ci, datastore, (long)timeoutSec * 1000, &res) !=
      ACCESS_OK)
    return fvx_map_access_result(fn, &res);
  return VIX_OK;
}
