/*
 * vmquery.h -- what a backup asks vCenter about one VM besides access:
 * its identity and power state, its disks (now or in a snapshot), Changed
 * Block Tracking on or off, and what changed since a changeId.
 *
 * Each call takes the VM from ci->vmx_spec on a pooled session and
 * returns ACCESS_OK or fills res (state on the server unchanged on
 * failure, except where a task may have run: said below).
 */
#ifndef FVX_ACCESS_VMQUERY_H
#define FVX_ACCESS_VMQUERY_H

#include <stddef.h>
#include <stdint.h>

#include "access/access.h"

/* What a backup records about a VM. */
struct access_vm_desc {
  char moref[80];
  struct vim_vm_place place; /* name, power state, CBT, vmx path, host */
};

/* One round trip more than resolving the VM (vim_vm_place_get).
 * ACCESS_E_VM_NOT_FOUND for an unknown VM. */
int access_vm_describe(const struct access_conninfo *ci,
                       struct access_vm_desc *out, struct access_result *res);

/* The disks of the VM's current configuration (snapshot_ref NULL) or of
 * its snapshot snapshot_ref ("snapshot-12"), which must exist and belong
 * to the VM (ACCESS_E_SNAPSHOT otherwise).  *out (n
 * entries) is the caller's, freed with vim_disks_free. */
int access_vm_disks(const struct access_conninfo *ci, const char *snapshot_ref,
                    struct vim_disk **out, size_t *n,
                    struct access_result *res);

/* ReconfigVM_Task(changeTrackingEnabled = enable) and waits at most
 * timeout_ms (0: 600 s).  *was (may be NULL) receives the setting before
 * the call; nothing is sent when it already is 'enable'.  A deadline
 * that passes leaves the task running (ACCESS_E_VIM, VIM_E_DEADLINE). */
int access_set_change_tracking(const struct access_conninfo *ci, bool enable,
                               long timeout_ms, bool *was,
                               struct access_result *res);

/* Every area of disk device_key in [start, start + length) that changed
 * since change_id ("*": that is allocated) up to snapshot_ref's state,
 * from as many QueryChangedDiskAreas pages as the server cuts the answer
 * into.  The areas come back sorted, coalesced and clipped to the range;
 * *out (n entries; NULL when none) is the caller's, freed with free().
 * More than max_areas areas after coalescing fail with ACCESS_E_VIM,
 * VIM_E_TOO_BIG.  The CBT faults come back as the server sent them
 * (ACCESS_E_VIM): FileFault for a changeId the disk cannot answer for,
 * InvalidArgument{changeId} for one it cannot parse. */
int access_changed_areas(const struct access_conninfo *ci,
                         const char *snapshot_ref, int32_t device_key,
                         uint64_t start, uint64_t length,
                         const char *change_id, size_t max_areas,
                         struct vim_disk_area **out, size_t *n,
                         struct access_result *res);

#endif
