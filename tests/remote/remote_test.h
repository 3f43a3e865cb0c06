/*
 * remote_test.h -- what the remote-disk tests share: a simulator with real
 * disks, VDDK connection params for one of its VMs, the simulator's own
 * view of a disk (its SHA-256, head file and allocation map, computed by
 * its reader: an independent expected value), and a whole-disk read through
 * the public API.
 */
#ifndef FVX_TEST_REMOTE_H
#define FVX_TEST_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim.h"
#include "vixDiskLib.h"

/* The simulator of the test (started by rt_setup). */
extern struct fvx_sim rt_sim;
extern char rt_vms[8][64];

/* Starts the simulator with extra args (NULL-terminated, may be NULL) and
 * InitEx with freevix.connectTo pointing the hosts at their listeners plus
 * the given extra config (NULL-terminated key, value pairs, may be NULL).
 * Returns 0 (cmocka group setup). */
int rt_setup(const char *const *sim_args, const char *const *config);
/* The same with the client API version and log callback InitEx gets. */
int rt_setup_api(const char *const *sim_args, const char *const *config,
                 uint32 major, uint32 minor, VixDiskLibGenericLogFunc *log);
int rt_teardown(void);

/* Connect params for one VM (vmxSpec "moref=<vm>"), as the admin user,
 * pinned to the simulator's SHA-1 thumbprint; p borrows spec. */
struct rt_vm {
  char spec[128];
  VixDiskLibConnectParams p;
};
void rt_params(struct rt_vm *v, const char *vm);

/* The simulator's view of disk key of vm at snapshot (NULL: current):
 * hex SHA-256 (65 bytes) and head file (the datastore path of its
 * descriptor).  Fails the test when the admin endpoint does. */
void rt_sim_disk(const char *vm, int key, const char *snapshot,
                 char sha256[65], char *file, size_t file_len);

/* Writes len bytes of guest data (seeded) at offset into vm's current disk
 * key, through the admin endpoint. */
void rt_guest_write(const char *vm, int key, uint64_t offset, uint64_t len,
                    unsigned seed);

/* Powers vm off (through SOAP, as an operator would). */
void rt_power_off(const char *vm);

/* Turns Changed Block Tracking on for vm (effective at its next
 * snapshot). */
void rt_change_tracking(const char *vm);

/* Takes a snapshot of vm; *ref (size n) receives its moref. */
void rt_snapshot(const char *vm, const char *name, char *ref, size_t n);

/* ConnectEx (read-only unless write) to vm with snapshot (NULL: none) and
 * modes, then Open of the disk the simulator names for (vm, key 2000,
 * snapshot), READ_ONLY unless write.  Returns Open's result; on failure
 * the connection is already closed. */
VixError rt_open(const char *vm, const char *snapshot, const char *modes,
                 bool write, VixDiskLibConnection *conn, VixDiskLibHandle *h);
/* Close and Disconnect, both checked. */
void rt_close(VixDiskLibConnection conn, VixDiskLibHandle h);

/* The simulator's allocation map of vm's disk 2000 at snapshot, at 64 KiB
 * chunks: bit i of map set when an allocated run touches chunk i. */
void rt_sim_chunks(const char *vm, const char *snapshot, uint8_t *map,
                   size_t n_chunks);

/* The same map as QueryAllocatedBlocks reports it through h, asked the way
 * nbdkit asks: the first n_chunks * 128 sectors in 128-sector chunks. */
void rt_allocated_chunks(VixDiskLibHandle h, uint8_t *map, size_t n_chunks);

/* Reads the whole disk through h with Read (async = 0) or ReadAsync with
 * several requests in flight (async = 1) and returns its hex SHA-256. */
void rt_read_sha256(VixDiskLibHandle h, int async, char sha256[65]);

#endif
