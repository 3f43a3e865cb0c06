/*
 * backupdir.h -- one VM's backup directory: its points, its leftovers, its
 * lock.
 *
 * Layout (docs/backup.md): point-NNNN.json is the manifest of point N and
 * its commit record; point-NNNN-disk-K.vmdk are its disks (an incremental
 * one a child of point N-1's, named by a plain parentFileNameHint, so the
 * directory can be moved or copied whole); .freevix.lock is flock'ed by a
 * backup writing to the directory.  Disk files of a point without a
 * manifest, and temporary manifests, are leftovers of an interrupted
 * backup: never a point, listed by `freevix list`, removed by the next
 * backup.  Other files are left alone.
 */
#ifndef FREEVIX_CLI_BACKUPDIR_H
#define FREEVIX_CLI_BACKUPDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "manifest.h"

#define BDIR_CREATE 0x1u /* create the directory (0700) if missing */
#define BDIR_LOCK 0x2u   /* take the writer's lock (fails when held) */

/* Outcomes of bdir_open besides 0 and errno values. */
#define BDIR_E_BUSY -1   /* another backup holds the lock */
#define BDIR_E_MANY -2   /* more points or leftovers than handled */

#define BDIR_MAX_ENTRIES 65536u

struct backup_dir {
  char path[4096];
  int lock_fd;           /* -1 unless locked */
  unsigned *points;      /* committed points, ascending */
  size_t n_points;
  char (*leftovers)[128]; /* file names */
  size_t n_leftovers;
};

/* Opens (and with flags creates, locks) the directory and scans it.
 * Returns 0, an errno value, BDIR_E_BUSY or BDIR_E_MANY, with a line in
 * why; on failure nothing needs closing. */
int bdir_open(struct backup_dir *d, const char *path, unsigned flags,
              char *why, size_t why_n);

/* Unlocks and frees; a closed or failed directory is a no-op. */
void bdir_close(struct backup_dir *d);

/* Reads point's manifest and checks it says it is that point. */
bool bdir_load(const struct backup_dir *d, unsigned point, struct manifest *m,
               char *why, size_t why_n);

/* Reads every manifest and checks it is sound and belongs to the VM moref
 * of server (either may be NULL: not checked).  False with the first
 * problem (file and reason) in why. */
bool bdir_check(const struct backup_dir *d, const char *server,
                const char *moref, char *why, size_t why_n);

/* Removes the leftovers (the lock must be held), calling report for each
 * with 0 or the errno of its removal.  Returns how many stay. */
size_t bdir_remove_leftovers(struct backup_dir *d,
                             void (*report)(void *data, const char *file,
                                            int err),
                             void *data);

/* Removes point m->point (the lock must be held): its manifest first,
 * made durable by an fsync of the directory, so from then on the point is
 * gone even after a power loss and its disk files are mere leftovers; then
 * its disk files.  report (may be NULL) is called for each file with 0 or
 * the errno of its removal.  Returns 0, or the manifest's errno (nothing
 * removed, the point stays), or the first disk file's (the point is gone,
 * the file is a leftover). */
int bdir_remove_point(struct backup_dir *d, const struct manifest *m,
                      void (*report)(void *data, const char *file, int err),
                      void *data);

/* Bytes the point's disk files take on the local disk (st_blocks). */
uint64_t bdir_point_bytes(const struct backup_dir *d,
                          const struct manifest *m);

/* path/name into out (size n); false when it does not fit. */
bool bdir_file(const struct backup_dir *d, const char *name, char *out,
               size_t n);

/* A directory name for a VM: its name with anything but letters, digits,
 * '.', '-' and '_' turned into '_' and no leading '.', or the moref when
 * nothing is left.  out must hold 256 bytes. */
void bdir_vm_name(const char *vm_name, const char *moref, char out[256]);

#endif
