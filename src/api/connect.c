/*
 * connect.c -- VixDiskLib_Connect / ConnectEx / Disconnect / Cleanup /
 * ListTransportModes: the connection object.
 *
 * A connection is local (hosted disks: NULL params or NULL serverName) or
 * remote.  A remote ConnectEx logs in right away, so bad credentials, an
 * unreachable host or a thumbprint mismatch fail here with a clear error
 * (real VDDK defers the thumbprint check to Open and returns a bare
 * VIX_E_FAIL; nbdkit has to guess).  With a vmxSpec it also finds the VM,
 * checks the snapshot and reads the disks (remote/remote.h), so an unknown
 * snapshotRef fails at ConnectEx, not later; without one it only checks
 * the login and gives the session back to the pool.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "access/access.h"
#include "api/api.h"
#include "api/remote_params.h"
#include "api/vim_errors.h"
#include "remote/remote.h"

/* Transport modes freevix moves data with: "file" for local disks; for
 * remote ones VDDK's NFC transports "nbdssl" and "nbd", and "https" (the
 * datastore HTTP interface, freevix's name).  ConnectEx also accepts
 * "san" and "hotadd" in its list and skips them. */
static const char transport_modes[] = "file:nbdssl:nbd:https";

bool fvx_conn_valid(const struct VixDiskLibConnectParam *c)
{
  return c && c->magic == FVX_CONN_MAGIC;
}

VixError fvx_check_local_path(const char *fn, const char *what,
                              const char *path)
{
  if (!path) {
    fvx_error("%s: %s is NULL", fn, what);
    return VIX_E_INVALID_ARG;
  }
  if (!*path || strnlen(path, PATH_MAX) >= PATH_MAX) {
    fvx_error("%s: %s is empty or longer than %d bytes", fn, what,
              PATH_MAX - 1);
    return VIX_E_FILE_NAME_INVALID;
  }
  if (path[0] != '/') {
    fvx_error("%s: %s \"%s\" is not an absolute path (local disks need one)",
              fn, what, path);
    return VIX_E_FILE_NAME_INVALID;
  }
  return VIX_OK;
}

/* Checks a transport mode list: colon-separated names we know. */
static VixError check_modes(const char *modes)
{
  const char *p = modes;

  if (strlen(modes) > 256)
    return VIX_E_INVALID_ARG;
  while (*p) {
    size_t len = strcspn(p, ":");
    const char *known[] = {"file", "nbd", "nbdssl", "san", "hotadd", "https"};
    bool ok = false;

    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
      ok = ok || (strlen(known[i]) == len && strncmp(p, known[i], len) == 0);
    if (!ok)
      return VIX_E_INVALID_ARG;
    p += len;
    if (*p == ':')
      p++;
  }
  return VIX_OK;
}

static VixError connect_remote(const VixDiskLibConnectParams *params,
                               const char *snapshot_ref, const char *modes,
                               struct VixDiskLibConnectParam *conn)
{
  struct access_conninfo ci;
  struct access_result res;
  VixError err;

  /* The connection keeps a copy of the params; the remote side borrows its
   * strings for as long as the connection lives. */
  conn->params = fvx_params_copy(params, fvx_params_allocated_by_us(params));
  if (!conn->params)
    return VIX_E_OUT_OF_MEMORY;
  err = fvx_remote_params("VixDiskLib_ConnectEx", conn->params, false, &ci);
  if (err)
    return err;
  if (!ci.vmx_spec || !*ci.vmx_spec) {
    if (snapshot_ref && *snapshot_ref) {
      fvx_error("VixDiskLib_ConnectEx: snapshotRef \"%.100s\" given without "
                "a vmxSpec naming its VM", snapshot_ref);
      return VIX_E_MISSING_REQUIRED_PROPERTY;
    }
    if (access_check_login(&ci, &res) != ACCESS_OK)
      return fvx_map_access_result("VixDiskLib_ConnectEx", &res);
    return VIX_OK;
  }
  if (remote_connect(&conn->remote, &ci, conn->params->nfcHostPort,
                     snapshot_ref, modes, conn->read_only, &res) != ACCESS_OK)
    return fvx_map_access_result("VixDiskLib_ConnectEx", &res);
  return VIX_OK;
}

/*
 * The external interface.
 */

VixError VixDiskLib_ConnectEx(const VixDiskLibConnectParams *connectParams,
                              Bool readOnly, const char *snapshotRef,
                              const char *transportModes,
                              VixDiskLibConnection *connection)
{
  struct VixDiskLibConnectParam *conn;
  VixError err = fvx_api_require_init("VixDiskLib_ConnectEx");

  if (err)
    return err;
  FVX_API_TRACE("VixDiskLib_ConnectEx", "server=%s, vmxSpec=%s, readOnly=%d, "
                "snapshotRef=%s, transportModes=%s)",
                connectParams && connectParams->serverName
                    ? connectParams->serverName : "(local)",
                connectParams && connectParams->vmxSpec
                    ? connectParams->vmxSpec : "(null)",
                readOnly ? 1 : 0, snapshotRef ? snapshotRef : "(null)",
                transportModes ? transportModes : "(default)");
  if (!connection) {
    fvx_error("VixDiskLib_ConnectEx: connection (the output) is NULL");
    return VIX_E_INVALID_ARG;
  }
  *connection = NULL;
  if (transportModes && check_modes(transportModes) != VIX_OK) {
    fvx_error("VixDiskLib_ConnectEx: transportModes \"%.256s\" is not a "
              "colon-separated list of %s", transportModes, transport_modes);
    return VIX_E_INVALID_ARG;
  }

  conn = calloc(1, sizeof *conn);
  if (!conn)
    return VIX_E_OUT_OF_MEMORY;
  conn->magic = FVX_CONN_MAGIC;
  conn->read_only = readOnly != 0;
  conn->local = !connectParams || !connectParams->serverName;
  if (conn->local) {
    if (connectParams) {
      conn->params = fvx_params_copy(connectParams,
                                     fvx_params_allocated_by_us(connectParams));
      if (!conn->params)
        err = VIX_E_OUT_OF_MEMORY;
    }
  } else {
    err = connect_remote(connectParams, snapshotRef, transportModes, conn);
  }
  if (err) {
    remote_disconnect(conn->remote);
    fvx_params_free_copy(conn->params);
    free(conn);
    return err;
  }
  *connection = conn;
  return VIX_OK;
}

VixError VixDiskLib_Connect(const VixDiskLibConnectParams *connectParams,
                            VixDiskLibConnection *connection)
{
  return VixDiskLib_ConnectEx(connectParams, FALSE, NULL, NULL, connection);
}

VixError VixDiskLib_Disconnect(VixDiskLibConnection connection)
{
  VixError err = fvx_api_require_init("VixDiskLib_Disconnect");
  unsigned open_handles;

  if (err)
    return err;
  FVX_API_TRACE("VixDiskLib_Disconnect", "%p)", (void *)connection);
  if (!fvx_conn_valid(connection)) {
    fvx_error("VixDiskLib_Disconnect: invalid connection handle (NULL, "
              "already disconnected, or not a connection)");
    return VIX_E_INVALID_ARG;
  }
  open_handles = __atomic_load_n(&connection->open_handles, __ATOMIC_ACQUIRE);
  if (open_handles) {
    fvx_warn("VixDiskLib_Disconnect: %u disk(s) still open on this "
             "connection; close them first", open_handles);
    return VIX_E_OBJECT_IS_BUSY;
  }
  connection->magic = 0;
  remote_disconnect(connection->remote);
  fvx_params_free_copy(connection->params);
  free(connection);
  return VIX_OK;
}

const char *VixDiskLib_ListTransportModes(void)
{
  return transport_modes;
}

VixError VixDiskLib_Cleanup(const VixDiskLibConnectParams *connectParams,
                            uint32 *numCleanedUp, uint32 *numRemaining)
{
  VixError err = fvx_api_require_init("VixDiskLib_Cleanup");

  if (err)
    return err;
  FVX_API_TRACE("VixDiskLib_Cleanup", "server=%s)",
                connectParams && connectParams->serverName
                    ? connectParams->serverName : "(local)");
  /* freevix's transports leave nothing behind on the server (no hotadd
   * mounts, no NFC tickets): there is never anything to clean up.  Stale
   * method disables are a different matter: EndAccess / freevix sweep. */
  if (numCleanedUp)
    *numCleanedUp = 0;
  if (numRemaining)
    *numRemaining = 0;
  return VIX_OK;
}
