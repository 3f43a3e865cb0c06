/*
 * remote_params.h -- checking VixDiskLibConnectParams for a remote call and
 * turning them into the access layer's access_conninfo.
 */
#ifndef FVX_API_REMOTE_PARAMS_H
#define FVX_API_REMOTE_PARAMS_H

#include <stdbool.h>

#include "access/conninfo.h"
#include "vixDiskLib.h"

/* Fills *out from p (borrowing p's strings) after checking the server name,
 * port, thumbprint and credentials; with need_vm also that vmxSpec is
 * present.  Each problem is logged once, naming fn and the field, and
 * returns its own code:
 *   serverName NULL                      VIX_E_HOST_NOT_CONNECTED
 *   serverName empty/too long, bad thumbprint, bad credType,
 *   missing user/password/cookie         VIX_E_INVALID_ARG
 *   vmxSpec NULL or empty (need_vm)      VIX_E_MISSING_REQUIRED_PROPERTY
 * Only fields up to vimApiVer are read. */
VixError fvx_remote_params(const char *fn, const VixDiskLibConnectParams *p,
                           bool need_vm, struct access_conninfo *out);

/* The start of every call that acts on a VM through vCenter: library
 * initialized, params non-NULL, then fvx_remote_params(need_vm = true). */
VixError fvx_remote_begin(const char *fn, const VixDiskLibConnectParams *p,
                          struct access_conninfo *out);

#endif
