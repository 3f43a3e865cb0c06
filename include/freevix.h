/*
 * freevix.h -- freevix's extensions to the VixDiskLib API.
 *
 * Everything here is prefixed freevix_ and is absent from VMware's VDDK:
 * programs that use it link only against freevix.  vixDiskLib.h stays
 * exactly VDDK's API.  Compiles alone as C89 and C++.
 */
#ifndef FREEVIX_H
#define FREEVIX_H

#include "vixDiskLib.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The library's version, e.g. "8.0.0" (static string, do not free). */
const char *freevix_version(void);

/* Sets a configuration key as if it were in InitEx's configuration file
 * (see docs/config.md), overriding the file.  Only freevix.* keys; call it
 * before VixDiskLib_InitEx; the settings last until VixDiskLib_Exit.
 * Returns VIX_E_INVALID_ARG for an unknown key, VIX_E_OBJECT_IS_BUSY when
 * the library is already initialized. */
VixError freevix_set_config(const char *key, const char *value);

/* Frees memory the freevix_* functions hand out; NULL is a no-op. */
void freevix_free(void *p);

/* ---------------------------------------------------------------------
 * VM operations around a backup.  Each takes VDDK connection params naming
 * the VM in vmxSpec, like PrepareForAccess, and runs on a pooled vCenter
 * session (so it is exempt from disables that session made), except
 * freevix_relocate, which always uses a session of its own.
 * --------------------------------------------------------------------- */

/* Takes a snapshot of the VM (no memory, not quiesced) named 'name' and
 * waits at most timeoutSec seconds for it (0: 600).  On success
 * *snapshotRef is the snapshot's managed object id ("snapshot-12"), to be
 * freed with freevix_free. */
VixError freevix_snapshot_create(const VixDiskLibConnectParams *connectParams,
                                 const char *name, uint32 timeoutSec,
                                 char **snapshotRef);

/* Removes the snapshot (consolidating its disks) and waits at most
 * timeoutSec seconds (0: 600). */
VixError freevix_snapshot_remove(const VixDiskLibConnectParams *connectParams,
                                 const char *snapshotRef, uint32 timeoutSec);

/* Relocates the VM (to datastore, a datastore moref such as
 * "datastore-61", or NULL for "where it is": a pure Storage vMotion test) on
 * a fresh session of its own, as an operator or another tool would, and
 * waits at most timeoutSec seconds (0: 600).  While a backup holds the VM
 * this fails with VIX_E_OBJECT_IS_BUSY and the log names the holder. */
VixError freevix_relocate(const VixDiskLibConnectParams *connectParams,
                          const char *datastore, uint32 timeoutSec);

#ifdef __cplusplus
}
#endif

#endif /* FREEVIX_H */
