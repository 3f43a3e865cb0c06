/*
 * backup_test.h -- what the backup tests ask the simulator about a VM: its
 * snapshots, the true SHA-256 of a disk, guest writes, CBT resets.  Every
 * helper fails the test (cmocka) when the simulator does not answer.
 */
#ifndef FVX_BACKUP_TEST_H
#define FVX_BACKUP_TEST_H

#include <stddef.h>
#include <stdint.h>

#include "sim.h"
#include "vixDiskLib.h"

/* Connect params for the simulator's privileged user and the VM spec
 * (borrowed; NULL for none). */
void bt_params(const struct fvx_sim *sim, const char *spec,
               VixDiskLibConnectParams *p);

/* The VM's snapshots as GET /vms lists them: up to max morefs into refs
 * (may be NULL); returns how many it has. */
int bt_snapshots(const struct fvx_sim *sim, const char *vm, char refs[][64],
                 int max);

/* SHA-256 (64 hex digits) of the VM's disk key, now (snapshot NULL or "")
 * or at a snapshot, from GET /disk/sha256. */
void bt_disk_sha256(const struct fvx_sim *sim, const char *vm, int key,
                    const char *snapshot, char out[65]);

/* POST /guest/write of the seed's bytes at [offset, offset + length). */
void bt_guest_write(const struct fvx_sim *sim, const char *vm, int key,
                    uint64_t offset, uint64_t length, uint64_t seed);

/* POST /cbt/reset: every changeId of the VM faults from now on. */
void bt_cbt_reset(const struct fvx_sim *sim, const char *vm);

/* The VM's current changeId of disk key ("" without CBT in effect). */
void bt_change_id(const struct fvx_sim *sim, const char *vm, int key,
                  char *out, size_t n);

/* A sim integer statistic, top-level (folder_bytes) or of "nfc"
 * (bytes_read), from GET /stats; -1 when absent. */
long long bt_stat(const struct fvx_sim *sim, const char *section,
                  const char *key);

/* Quiet log callbacks for InitEx. */
void bt_quiet(const char *fmt, va_list ap);

#endif
