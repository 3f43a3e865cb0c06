/*
 * vmops.h -- relocate one VM, as an operator would (snapshots: snapshot.h).
 * Returns ACCESS_OK or fills res.
 */
#ifndef FVX_ACCESS_VMOPS_H
#define FVX_ACCESS_VMOPS_H

#include "access/access.h"

/* On a fresh, unpooled session; datastore NULL keeps the VM's datastore. */
int access_relocate(const struct access_conninfo *ci, const char *datastore,
                    long timeout_ms, struct access_result *res);

#endif
