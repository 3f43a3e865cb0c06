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

/* The longest identity (PrepareForAccess, freevix_access_options) in
 * characters.  Longer ones are refused, never cut: the identity is the
 * disable's sourceId on vCenter. */
#define FREEVIX_IDENTITY_MAX_CHARS 50

/* Checks an identity as PrepareForAccess does, without logging: VIX_OK,
 * VIX_E_INVALID_ARG (NULL or empty), VIX_E_INVALID_UTF8_STRING, or
 * VIX_E_ARGUMENT_TOO_BIG (longer than FREEVIX_IDENTITY_MAX_CHARS).
 * *numChars (may be NULL) receives its length in characters (for valid
 * UTF-8; in bytes past 64 KiB). */
VixError freevix_check_identity(const char *identity, uint32 *numChars);

/* ---------------------------------------------------------------------
 * VMs as operators name them.
 *
 * freevix_vm_lookup turns what people type for a VM into the vmxSpec the
 * other calls take:
 *   vm-42                    a bare managed object id (govc, the vSphere
 *                            UI) -> "moref=vm-42"; a VM literally named
 *                            so is reached by its path
 *   /DC0/vm/folder/name      an inventory path (govc's form; a '/' inside
 *                            a name is written %2f, as vCenter stores it)
 *   name                     a VM name; it must name exactly one VM
 *   moref=vm-42, moid=vm-42, vm=moref=vm-42, dir/x.vmx?dcPath=DC&dsName=DS
 *                            vmxSpecs, passed on unchanged
 * Names and paths are resolved with one walk over the vCenter's inventory
 * (a property-collector pass over a container view), however many there
 * are; the other forms need no server.  Whether a moref names an existing
 * VM is left to the call that uses it.
 * --------------------------------------------------------------------- */

#define FREEVIX_VM_CANDIDATES_LISTED 20

typedef struct freevix_vm_match {
  VixError error;          /* VIX_OK; VIX_E_VM_NOT_FOUND: no VM has that
                              name or path; VIX_E_DUPLICATE_NAME: several
                              do (see candidates); VIX_E_INVALID_ARG: empty,
                              control characters, not UTF-8, too long */
  const char *vmxSpec;     /* what to pass on, e.g. "moref=vm-42"; "" on
                              failure */
  const char *moref;       /* "vm-42" when known, else "" */
  const char *path;        /* its inventory path when the walk found it,
                              else "" */
  uint32 numCandidates;    /* VIX_E_DUPLICATE_NAME: VMs with that name */
  uint32 numListed;        /* how many of them candidates[] shows (at most
                              FREEVIX_VM_CANDIDATES_LISTED) */
  const char *const *candidates; /* "vm-42 /DC0/vm/a/x": moref and path */
} freevix_vm_match;

/* Resolves vms[0..numVms) (at most 100,000) on the vCenter of
 * connectParams (vmxSpec ignored).  On success *matches is an array of
 * numVms entries in the order of vms, one allocation holding every string,
 * freed with freevix_free; it is set whenever the server could be asked,
 * also when some VM did not resolve: then the first such VM's error is
 * returned and each entry says why.  Returns VIX_OK, that per-VM error, or
 * a connection error with *matches NULL. */
VixError freevix_vm_lookup(const VixDiskLibConnectParams *connectParams,
                           const char *const *vms, uint32 numVms,
                           freevix_vm_match **matches);

/* ---------------------------------------------------------------------
 * VM operations around a backup.  Each takes VDDK connection params naming
 * the VM in vmxSpec, like PrepareForAccess, and runs on a pooled vCenter
 * session (so it is exempt from disables that session made), except
 * freevix_relocate, which always uses a session of its own.
 * --------------------------------------------------------------------- */

/* Takes a snapshot of the VM (no memory, not quiesced, no journal record)
 * named 'name' and waits at most timeoutSec seconds for it (0: 600).  On
 * success *snapshotRef is the snapshot's managed object id
 * ("snapshot-12"), to be freed with freevix_free.  Same as
 * freevix_snapshot_create_ex with only name and timeoutSec set. */
VixError freevix_snapshot_create(const VixDiskLibConnectParams *connectParams,
                                 const char *name, uint32 timeoutSec,
                                 char **snapshotRef);

/* Removes the snapshot (consolidating its disks) and waits at most
 * timeoutSec seconds (0: 600).  A snapshot that no longer exists counts as
 * removed. */
VixError freevix_snapshot_remove(const VixDiskLibConnectParams *connectParams,
                                 const char *snapshotRef, uint32 timeoutSec);

/* Relocates the VM (to datastore, a datastore moref such as
 * "datastore-61", or NULL for "where it is": a pure Storage vMotion test) on
 * a fresh session of its own, as an operator or another tool would, and
 * waits at most timeoutSec seconds (0: 600).  While a backup holds the VM
 * this fails with VIX_E_OBJECT_IS_BUSY and the log names the holder. */
VixError freevix_relocate(const VixDiskLibConnectParams *connectParams,
                          const char *datastore, uint32 timeoutSec);

/* ---------------------------------------------------------------------
 * The backup workflow's VM calls: what a VM and its disks are, Changed
 * Block Tracking, and snapshots that `freevix sweep` removes if their
 * taker dies.  Each takes connection params naming the VM in vmxSpec (as
 * PrepareForAccess) and runs on a pooled vCenter session.  `freevix
 * backup` is built on these and VixDiskLib alone; docs/backup.md tells the
 * workflow.
 * --------------------------------------------------------------------- */

/* A VM as a backup records it.  Strings are NUL-terminated; one that
 * would not fit fails the call rather than being cut. */
typedef struct freevix_vm_info {
  char moref[80];        /* "vm-42" */
  char name[256];
  char powerState[32];   /* "poweredOn", "poweredOff", "suspended" */
  Bool changeTracking;   /* config.changeTrackingEnabled: as configured; a
                            change takes effect at the next snapshot (or
                            power-on), see freevix_change_tracking */
  char vmxPath[1024];    /* "[ds] dir/x.vmx" */
  char host[256];        /* the name of the host running it, "" unknown */
} freevix_vm_info;

/* Fills *info (caller's memory).  Returns VIX_OK, VIX_E_VM_NOT_FOUND, or
 * a connection error (*info zeroed). */
VixError freevix_vm_describe(const VixDiskLibConnectParams *connectParams,
                             freevix_vm_info *info);

/* One virtual disk of a VM or of a snapshot's configuration. */
typedef struct freevix_disk {
  int32 key;             /* device key (2000 is the first disk) */
  char label[128];       /* "Hard disk 1" */
  uint64 capacity;       /* bytes */
  char path[1024];       /* the head of its chain, "[ds] dir/x-000001.vmdk":
                            what VixDiskLib_Open takes on a ConnectEx to
                            this VM (or snapshot) */
  char basePath[1024];   /* the base of the chain, "[ds] dir/x.vmdk" */
  uint32 chainLength;    /* files in the chain (1: no delta) */
  char changeId[128];    /* CBT's changeId of this state; "" when CBT gives
                            none (off, or not in effect yet) */
  char diskMode[64];     /* "persistent", "independent_persistent",
                            "independent_nonpersistent", ...; independent
                            disks are not part of snapshots */
  char backing[64];      /* backing type, e.g.
                            "VirtualDiskFlatVer2BackingInfo" */
  char deltaFormat[32];  /* the head's deltaDiskFormat ("" for a base) */
  char uuid[64];         /* backing uuid, "" when unset */
  Bool thin;             /* the head is thin provisioned */
} freevix_disk;

/* The disks of the VM's current configuration (snapshotRef NULL) or of
 * its snapshot snapshotRef ("snapshot-12"), in the server's order.
 * *disks (one allocation of *numDisks entries, NULL when there are none)
 * is freed with freevix_free.  Returns VIX_OK, VIX_E_VM_NOT_FOUND,
 * VIX_E_SNAPSHOT_NOTFOUND (no such snapshot, or one of another VM),
 * VIX_E_BUFFER_TOOSMALL (a string that does not fit the struct), or a
 * connection error, with *disks NULL. */
VixError freevix_vm_disks(const VixDiskLibConnectParams *connectParams,
                          const char *snapshotRef, freevix_disk **disks,
                          uint32 *numDisks);

/* Switches Changed Block Tracking on or off (ReconfigVM_Task) and waits at
 * most timeoutSec seconds (0: 600).  vCenter applies the change at the
 * VM's next snapshot (create, remove or revert) or power-on: the snapshot
 * taken right after enabling has no changeId yet, the one after it has.
 * Nothing is sent when the setting already is 'enable'.  *wasEnabled (may
 * be NULL) receives the setting before the call.  Returns VIX_OK,
 * VIX_E_VM_NOT_FOUND, VIX_E_CANCELLED (the task did not end in time; it
 * may still succeed), or another error. */
VixError freevix_change_tracking(const VixDiskLibConnectParams *connectParams,
                                 Bool enable, uint32 timeoutSec,
                                 Bool *wasEnabled);

/* A byte range of a disk. */
typedef struct freevix_area {
  uint64 offset;         /* bytes */
  uint64 length;         /* bytes */
} freevix_area;

/* The most areas freevix_changed_areas returns for one call. */
#define FREEVIX_MAX_AREAS 16777216u

/* The areas of disk deviceKey in [offset, offset + length) -- a range
 * inside the disk -- that changed since changeId (the changeId a previous
 * backup recorded from its snapshot's freevix_disk) up to the state of
 * snapshotRef (NULL: the VM's current state, which vCenter answers only
 * for powered-off VMs); changeId "*" asks for the areas in use.  All of
 * QueryChangedDiskAreas's pages are fetched; the areas come back sorted,
 * coalesced, clipped to the range, at CBT's granularity (they may cover
 * more than was written, never less).  *areas (one allocation, NULL when
 * none changed) is freed with freevix_free.  Returns VIX_OK;
 * VIX_E_NOT_SUPPORTED when CBT cannot answer for this changeId -- not in
 * effect for the disk or snapshot, the changeId unknown, reset or
 * malformed, or a server without the call: take a full copy instead;
 * VIX_E_ARGUMENT_TOO_BIG beyond FREEVIX_MAX_AREAS; VIX_E_VM_NOT_FOUND;
 * VIX_E_INVALID_ARG; or a connection error, with *areas NULL. */
VixError freevix_changed_areas(const VixDiskLibConnectParams *connectParams,
                               const char *snapshotRef, int32 deviceKey,
                               uint64 offset, uint64 length,
                               const char *changeId, freevix_area **areas,
                               uint32 *numAreas);

/* How a snapshot is taken and whether the lease journal records it. */
typedef struct freevix_snapshot_options {
  const char *name;        /* 1-80 bytes, unique among the VM's snapshots
                              (checked) */
  const char *description; /* NULL: "freevix backup snapshot" */
  Bool memory;             /* include a running VM's memory */
  Bool quiesce;            /* quiesce the guest file systems (VMware
                              Tools) */
  uint32 timeoutSec;       /* each task; 0: 600 */
  uint32 lease;            /* FREEVIX_LEASE_NONE, or FREEVIX_LEASE_JOURNAL:
                              a record in the journal from before
                              CreateSnapshot until RemoveSnapshot, so
                              freevix_sweep removes the snapshot once its
                              owner is gone or the record expired */
  Bool processOwned;       /* journal: the calling process owns the record */
  uint32 ttlSec;           /* journal: the record expires after this; 0:
                              never when processOwned, else 86400 */
  const char *identity;    /* journal: who took it (shown by sweep); NULL:
                              "freevix" */
  const char *stateDir;    /* journal directory; NULL: as
                              freevix_access_options.stateDir */
} freevix_snapshot_options;

/* Takes a snapshot of the VM with options (copied for the call).  On
 * success *snapshotRef ("snapshot-12") is freed with freevix_free.  With
 * a journal lease the record is written before CreateSnapshot_Task and
 * completed with the moref after it; if the call fails in a way that may
 * still have made the snapshot (a timeout, a lost connection), the record
 * stays and the sweep finds the snapshot by its name.  Returns VIX_OK,
 * VIX_E_SNAPSHOT_NONUNIQUE_NAME (nothing done), VIX_E_VM_NOT_FOUND,
 * VIX_E_INCORRECT_FILE_TYPE / VIX_E_FILE_ERROR (journal unusable, nothing
 * done), VIX_E_CANCELLED (the task did not end in time), or another
 * error. */
VixError freevix_snapshot_create_ex(
    const VixDiskLibConnectParams *connectParams,
    const freevix_snapshot_options *options, char **snapshotRef);

/* Removes the snapshot (consolidating) and drops its journal record when
 * options (may be NULL: no journal, 600 s) has a journal lease.  A
 * snapshot that no longer exists counts as removed.  On failure the
 * record stays for the sweep.  Returns VIX_OK or the error. */
VixError freevix_snapshot_remove_ex(
    const VixDiskLibConnectParams *connectParams, const char *snapshotRef,
    const freevix_snapshot_options *options);

/* ---------------------------------------------------------------------
 * Access batches, bounded waits and leases.
 *
 * PrepareForAccess for many VMs at once, with three things VDDK lacks:
 * a batch of VMs per vCenter round trip (all or nothing), a bounded wait
 * for VMs another source holds (a Storage vMotion, another backup), and a
 * lease that ends the protection when the holder disappears:
 *
 *   FREEVIX_LEASE_SESSION  the disables belong to a vCenter session of the
 *                          handle's own, kept alive by a background thread;
 *                          if the process dies, vCenter drops them when the
 *                          session times out.
 *   FREEVIX_LEASE_JOURNAL  every disable is recorded in a journal file with
 *                          its owning process (processOwned) and/or expiry
 *                          (ttlSec); freevix_sweep() undoes those whose
 *                          owner is gone or whose time is up.
 *
 * Life cycle: freevix_access_open, then any number of prepare / end /
 * status calls, then freevix_access_close.  A handle is used by one thread
 * at a time.  See docs/cli.md for the journal format and the assumptions.
 * --------------------------------------------------------------------- */

/* Methods to block (bits of freevix_access_options.methods). */
#define FREEVIX_METHOD_RELOCATE 0x1u /* RelocateVM_Task: Storage vMotion */
#define FREEVIX_METHOD_MIGRATE 0x2u  /* MigrateVM_Task: vMotion */

#define FREEVIX_LEASE_NONE 0    /* plain disables, like PrepareForAccess */
#define FREEVIX_LEASE_SESSION 1
#define FREEVIX_LEASE_JOURNAL 2

/* Told while a prepare waits for a held VM: the VM's moref, the holder's
 * sourceId, milliseconds waited and allowed, and the holder's task progress
 * (0..100, -1 when no task is known).  Strings live for the call only.
 * Called on the thread that called freevix_access_prepare. */
typedef void (freevix_wait_func)(void *clientData, const char *vm,
                                 const char *holder, uint32 waitedMs,
                                 uint32 budgetMs, int taskProgress);

/* Told once, from the keep-alive thread, when a session lease is lost
 * while it holds VMs (the session expired or was terminated): vCenter has
 * dropped the disables and the VMs may be migrated.  Nothing is protected
 * again behind the caller's back; later calls on the handle fail with
 * VIX_E_HOST_CONNECTION_LOST.  'detail' lives for the call only. */
typedef void (freevix_lease_lost_func)(void *clientData, const char *detail);

typedef struct freevix_access_options {
  const char *identity;  /* the disables' sourceId, 1-50 characters; copied */
  const char *reason;    /* reasonId; NULL: freevix.reasonId; copied */
  uint32 methods;        /* FREEVIX_METHOD_* bits; 0: RELOCATE */
  uint32 batchSize;      /* VMs per round trip; 0: 500; at most 5000 */
  uint32 waitMs;         /* how long prepare waits for held VMs; 0: no wait */
  uint32 lease;          /* FREEVIX_LEASE_* */
  uint32 ttlSec;         /* journal: grants expire after this; 0: 86400
                            unless processOwned (then: no expiry) */
  Bool processOwned;     /* journal: the calling process owns the grants */
  Bool checkPrivileges;  /* open: check Global.DisableMethods and
                            Global.EnableMethods on the vCenter root first */
  Bool assumeAtomicDisable; /* trust that a failed DisableMethods changed
                            nothing (saves a round trip on failure; FALSE
                            is always safe) */
  uint32 keepAliveMs;    /* session lease: keep-alive period; 0: 60000 */
  const char *stateDir;  /* journal directory; NULL: $FREEVIX_STATE_DIR,
                            /var/lib/freevix (root), $XDG_STATE_HOME/freevix;
                            copied */
  freevix_wait_func *waitFunc;           /* may be NULL */
  freevix_lease_lost_func *leaseLostFunc; /* may be NULL */
  void *clientData;                      /* passed to both */
} freevix_access_options;

/* One VM's outcome, filled by prepare and end. */
typedef struct freevix_vm_result {
  VixError error;      /* VIX_OK; the reason for the VM at fault;
                          VIX_E_CANCELLED for VMs given back or not tried
                          because another VM of the call failed */
  char moref[80];      /* "vm-42" once resolved, else "" */
  char holder[256];    /* the source holding it, when one was found */
  Bool alreadyHeld;    /* prepare: the identity held it before the call */
} freevix_vm_result;

/* One VM as the server and the journal see it. */
typedef struct freevix_vm_status {
  VixError error;         /* VIX_OK or why this VM could not be read */
  char moref[80];
  char name[128];
  char disabledMethods[256]; /* comma-separated; "" when none */
  char holder[256];       /* from this machine's journal; "" unknown */
  uint32 ownerPid;        /* journal: owning process, 0 none */
  int64 sinceUnix;        /* journal: when granted, 0 unknown */
  int64 expiresUnix;      /* journal: when it expires, 0 never/unknown */
} freevix_vm_status;

typedef struct freevix_access freevix_access;

/* Opens a handle on the vCenter of connectParams (vmxSpec is ignored) with
 * the options (copied).  A session lease logs in a session of its own and
 * starts its keep-alive thread.  On success *access is the handle, freed
 * by freevix_access_close; on failure it is NULL.  Returns VIX_OK,
 * VIX_E_INVALID_ARG (bad options), VIX_E_HOST_USER_PERMISSIONS (missing
 * privilege, with checkPrivileges) or a connection error. */
VixError freevix_access_open(const VixDiskLibConnectParams *connectParams,
                             const freevix_access_options *options,
                             freevix_access **access);

/* Disables the methods on numVms VMs (vmxSpec strings), a batch per round
 * trip, waiting up to waitMs for held VMs.  All or nothing: on failure,
 * every VM this call disabled is enabled again (never one the identity
 * held before the call) and the result of the VM at fault says why.
 * results (numVms entries, caller's memory) may be NULL.  Returns VIX_OK
 * or the error of the VM at fault (e.g.
 * VMODL_TYPE_VIM_FAULT_METHOD_ALREADY_DISABLED_FAULT, holder named in its
 * result and the log). */
VixError freevix_access_prepare(freevix_access *access,
                                const char *const *vmxSpecs, uint32 numVms,
                                freevix_vm_result *results);

/* Enables the methods again for the identity on numVms VMs; every VM is
 * attempted.  Returns VIX_OK or the first failure. */
VixError freevix_access_end(freevix_access *access,
                            const char *const *vmxSpecs, uint32 numVms,
                            freevix_vm_result *results);

/* Reads each VM's disabledMethod (one round trip) and its holder from the
 * journal.  statuses: numVms entries of the caller's memory, all filled.
 * Returns VIX_OK, or the error of the first VM that could not be read
 * (e.g. VIX_E_VM_NOT_FOUND; each entry has its own), or a connection
 * error.  A journal that cannot be trusted is reported in the log, not as
 * a failure. */
VixError freevix_access_status(freevix_access *access,
                               const char *const *vmxSpecs, uint32 numVms,
                               freevix_vm_status *statuses);

/* Every VM of the vCenter that has a disabled method, with its holder as
 * far as this machine's journal knows (as freevix_access_status): one walk
 * over the inventory, however many VMs there are.  *statuses (one
 * allocation, freed with freevix_free) receives *numVms entries, possibly
 * none; NULL on failure.  Returns VIX_OK or a connection error. */
VixError freevix_access_status_all(freevix_access *access,
                                   freevix_vm_status **statuses,
                                   uint32 *numVms);

/* Stops the keep-alive thread, logs out a session lease (vCenter then ends
 * what it still holds) and frees the handle.  Returns VIX_OK, or
 * VIX_E_HOST_CONNECTION_LOST when a session lease was lost while held.
 * NULL is a harmless no-op. */
VixError freevix_access_close(freevix_access *access);

/* Told about each journal grant a sweep found stale: VM, method, the
 * grant's identity, why it is stale, and what re-enabling it gave. */
typedef void (freevix_sweep_func)(void *clientData, const char *vm,
                                  const char *method, const char *identity,
                                  const char *why, VixError result);

/* Removes the snapshots of stale journal records (see freevix_sweep_ex,
 * which also reports them), then re-enables the journal grants for the
 * server of connectParams whose owning process is gone or whose expiry
 * has passed, each with its own sourceId (another source's disable is
 * never touched), and drops them from the journal; with dryRun only
 * reports them.  *numSwept (may be NULL) receives the number re-enabled
 * plus the snapshots removed.  A corrupt or foreign journal is refused
 * before any change: VIX_E_INCORRECT_FILE_TYPE, the log names the file and
 * the fix. */
VixError freevix_sweep(const VixDiskLibConnectParams *connectParams,
                       const char *stateDir, Bool dryRun,
                       freevix_sweep_func *report, void *clientData,
                       uint32 *numSwept);

/* Told about each stale snapshot record a sweep found: the VM, the
 * snapshot (snapshotRef "" when its taker died before learning it), its
 * name, the taker's identity, why it is stale and what was done, and the
 * outcome.  Strings live for the call only. */
typedef void (freevix_sweep_snapshot_func)(void *clientData, const char *vm,
                                           const char *snapshotRef,
                                           const char *name,
                                           const char *identity,
                                           const char *why, VixError result);

typedef struct freevix_sweep_options {
  const char *stateDir;  /* NULL: the default journal directory */
  Bool dryRun;           /* only report */
  freevix_sweep_func *grantFunc;             /* may be NULL */
  freevix_sweep_snapshot_func *snapshotFunc; /* may be NULL */
  void *clientData;                          /* passed to both */
} freevix_sweep_options;

/* freevix_sweep, and first the snapshots: removes the snapshots of stale
 * journal records (freevix_snapshot_create_ex) for the server of
 * connectParams -- by the recorded moref, or by the recorded name when the
 * taker died before the moref was known -- and drops the records; a
 * snapshot freevix did not record is never touched.  Then re-enables the
 * stale grants.  *numGrants and *numSnapshots (may be NULL) receive what
 * was (dry run: would be) re-enabled and removed.  Both kinds are tried
 * whatever the other gave; returns VIX_OK, the first failure, or
 * VIX_E_INCORRECT_FILE_TYPE for a corrupt or foreign journal (nothing
 * done). */
VixError freevix_sweep_ex(const VixDiskLibConnectParams *connectParams,
                          const freevix_sweep_options *options,
                          uint32 *numGrants, uint32 *numSnapshots);

#ifdef __cplusplus
}
#endif

#endif /* FREEVIX_H */
