/*
 * vmops_api.c -- freevix_snapshot_create / _remove (and their _ex forms
 * with quiesce, memory and a journal record), freevix_relocate,
 * freevix_free: the VM calls a backup program needs besides VixDiskLib.
 */
#include <stdlib.h>
#include <string.h>

#include "access/snapshot.h"
#include "access/vmops.h"
#include "api/api.h"
#include "api/remote_params.h"
#include "api/vim_errors.h"
#include "freevix.h"
#include "util/text.h"

#define NAME_MAX_BYTES 80

void freevix_free(void *p)
{
  free(p);
}

/* Checks the options of a snapshot call and turns them into the access
 * layer's (strings borrowed).  name_required: create. */
static VixError snapshot_opts(const char *fn, const freevix_snapshot_options *o,
                              bool name_required,
                              struct access_snapshot_opts *out)
{
  memset(out, 0, sizeof *out);
  if (!o)
    return VIX_OK;
  if ((name_required &&
       (!o->name || !*o->name ||
        strnlen(o->name, NAME_MAX_BYTES + 1) > NAME_MAX_BYTES ||
        !fvx_utf8_valid(o->name, strlen(o->name)))) ||
      (o->description && strnlen(o->description, 4097) > 4096) ||
      o->lease > FREEVIX_LEASE_JOURNAL || o->lease == FREEVIX_LEASE_SESSION ||
      (o->stateDir && (!*o->stateDir || strlen(o->stateDir) > 3000))) {
    fvx_error("%s: the name must be 1 to %d bytes of UTF-8, the description "
              "at most 4096, lease FREEVIX_LEASE_NONE or _JOURNAL, stateDir "
              "a non-empty path", fn, NAME_MAX_BYTES);
    return VIX_E_INVALID_ARG;
  }
  if (o->lease == FREEVIX_LEASE_JOURNAL && o->identity &&
      fvx_check_identity(fn, o->identity) != VIX_OK)
    return VIX_E_INVALID_ARG;
  out->name = o->name;
  out->description = o->description;
  out->memory = o->memory != 0;
  out->quiesce = o->quiesce != 0;
  out->timeout_ms = (long)o->timeoutSec * 1000;
  out->record = o->lease == FREEVIX_LEASE_JOURNAL;
  out->state_dir = o->stateDir;
  out->identity = o->identity;
  out->process_owned = o->processOwned != 0;
  out->ttl_ms = (long)o->ttlSec * 1000;
  return VIX_OK;
}

VixError freevix_snapshot_create_ex(
    const VixDiskLibConnectParams *connectParams,
    const freevix_snapshot_options *options, char **snapshotRef)
{
  static const char fn[] = "freevix_snapshot_create_ex";
  struct access_snapshot_opts o;
  struct access_conninfo ci;
  struct access_result res;
  bool duplicate;
  VixError err;

  if (snapshotRef)
    *snapshotRef = NULL;
  err = fvx_remote_begin(fn, connectParams, &ci);
  if (err)
    return err;
  if (!options || !snapshotRef) {
    fvx_error("%s: options and snapshotRef must not be NULL", fn);
    return VIX_E_INVALID_ARG;
  }
  err = snapshot_opts(fn, options, true, &o);
  if (err)
    return err;
  FVX_API_TRACE("freevix_snapshot_create_ex", "vmxSpec=%s, name=%s, "
                "quiesce=%d, memory=%d, lease=%u)", connectParams->vmxSpec,
                o.name, (int)o.quiesce, (int)o.memory, options->lease);
  if (access_snapshot_take(&ci, &o, snapshotRef, &duplicate, &res) ==
      ACCESS_OK)
    return VIX_OK;
  if (duplicate) {
    fvx_error("%s: %s", fn, res.vim.detail);
    return VIX_E_SNAPSHOT_NONUNIQUE_NAME;
  }
  return fvx_map_access_result(fn, &res);
}

VixError freevix_snapshot_create(const VixDiskLibConnectParams *connectParams,
                                 const char *name, uint32 timeoutSec,
                                 char **snapshotRef)
{
  freevix_snapshot_options o;

  memset(&o, 0, sizeof o);
  o.name = name;
  o.timeoutSec = timeoutSec;
  return freevix_snapshot_create_ex(connectParams, &o, snapshotRef);
}

VixError freevix_snapshot_remove_ex(
    const VixDiskLibConnectParams *connectParams, const char *snapshotRef,
    const freevix_snapshot_options *options)
{
  static const char fn[] = "freevix_snapshot_remove_ex";
  struct access_snapshot_opts o;
  struct access_conninfo ci;
  struct access_result res;
  VixError err = fvx_remote_begin(fn, connectParams, &ci);

  if (err)
    return err;
  if (!snapshotRef || !*snapshotRef) {
    fvx_error("%s: snapshotRef is NULL or empty", fn);
    return VIX_E_INVALID_ARG;
  }
  err = snapshot_opts(fn, options, false, &o);
  if (err)
    return err;
  FVX_API_TRACE("freevix_snapshot_remove_ex", "snapshot=%s, lease=%u)",
                snapshotRef, options ? options->lease : 0u);
  if (access_snapshot_drop(&ci, snapshotRef, &o, &res) != ACCESS_OK)
    return fvx_map_access_result(fn, &res);
  return VIX_OK;
}

VixError freevix_snapshot_remove(const VixDiskLibConnectParams *connectParams,
                                 const char *snapshotRef, uint32 timeoutSec)
{
  freevix_snapshot_options o;

  memset(&o, 0, sizeof o);
  o.timeoutSec = timeoutSec;
  return freevix_snapshot_remove_ex(connectParams, snapshotRef, &o);
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
