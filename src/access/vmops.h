/*
 * vmops.h -- snapshot and relocate for one VM (the backup workflow's other
 * vCenter calls).  Each returns ACCESS_OK or fills res.
 */
#ifndef FVX_ACCESS_VMOPS_H
#define FVX_ACCESS_VMOPS_H

#include "access/access.h"

/* *snapshot_ref (malloc'd, freed by the caller) is e.g. "snapshot-12". */
int access_snapshot_create(const struct access_conninfo *ci, const char *name,
                           long timeout_ms, char **snapshot_ref,
                           struct access_result *res);
int access_snapshot_remove(const struct access_conninfo *ci,
                           const char *snapshot_ref, long timeout_ms,
                           struct access_result *res);
/* On a fresh, unpooled session; datastore NULL keeps the VM's datastore. */
int access_relocate(const struct access_conninfo *ci, const char *datastore,
                    long timeout_ms, struct access_result *res);

#endif
