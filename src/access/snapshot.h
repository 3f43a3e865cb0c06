/*
 * snapshot.h -- backup snapshots that survive their taker: taken and
 * removed with a record in the lease journal, swept when the taker died.
 *
 * A backup that is killed between CreateSnapshot and RemoveSnapshot leaves
 * a snapshot whose delta grows until someone notices.  So the taker writes
 * "about to snapshot VM v as name n" to the journal (journal.h) *before*
 * CreateSnapshot_Task, adds the snapshot's moref once the task has given
 * it, and drops the record after RemoveSnapshot_Task.  The sweep removes
 * the snapshots of records whose owner is gone or whose expiry passed: by
 * moref, or -- when the taker died before the moref was recorded -- by the
 * name, which the taker checked was unique on the VM.  A snapshot without
 * a record (an operator's, another product's) is never touched.
 */
#ifndef FVX_ACCESS_SNAPSHOT_H
#define FVX_ACCESS_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "access/access.h"
#include "access/journal.h"

struct access_snapshot_opts {
  const char *name;        /* unique on the VM (checked); 1-80 bytes */
  const char *description; /* NULL: "freevix backup snapshot" */
  bool memory;             /* include the memory of a running VM */
  bool quiesce;            /* ask VMware Tools to quiesce the guest */
  long timeout_ms;         /* each task; 0: 600 s */
  bool record;             /* keep a journal record (below: its fields) */
  const char *state_dir;   /* journal directory; NULL: the default */
  const char *identity;    /* recorded as the taker; NULL: "freevix" */
  bool process_owned;      /* the calling process owns the record */
  long ttl_ms;             /* the record expires; 0: never if owned, else
                              24 h */
};

/* Takes the snapshot of ci's VM.  *snapshot_ref (malloc'd, the caller
 * frees it) is e.g. "snapshot-12".  A name some snapshot of the VM already
 * has fails with *duplicate set (ACCESS_E_VIM, fault type
 * "DuplicateName"), before anything changes.  With o->record the journal
 * holds a record from before the call; it is dropped again when the
 * server refused the call or the task failed (no snapshot exists), and
 * kept, for the sweep, when the outcome is unknown (a timeout, a lost
 * connection).  Returns ACCESS_OK or fills res. */
int access_snapshot_take(const struct access_conninfo *ci,
                         const struct access_snapshot_opts *o,
                         char **snapshot_ref, bool *duplicate,
                         struct access_result *res);

/* Removes snapshot_ref (consolidating) and, with o->record, drops its
 * journal record.  A snapshot that no longer exists counts as removed.
 * o may be NULL (600 s, no record).  On failure the record stays. */
int access_snapshot_drop(const struct access_conninfo *ci,
                         const char *snapshot_ref,
                         const struct access_snapshot_opts *o,
                         struct access_result *res);

/* Told about each stale snapshot record a sweep found: what it names, why
 * it is stale (and what was done), and the outcome. */
typedef void sweep_snapshot_fn(void *opaque, const struct journal_snapshot *s,
                               const char *why, const struct access_result *r);

/* Removes the snapshots of the journal's stale records for ci's server
 * (see the top of this file) and drops the records; with dry_run only
 * reports them.  The journal is not locked while a snapshot is removed
 * (consolidation may take minutes).  *n_swept receives the number of
 * snapshots removed (dry run: that would be).  Returns ACCESS_OK or the
 * first failure (the others are still tried); a corrupt journal is
 * refused before any change.  snapsweep.c. */
int snapshot_sweep(const struct access_conninfo *ci, const char *state_dir,
                   bool dry_run, sweep_snapshot_fn *report, void *opaque,
                   size_t *n_swept, struct access_result *res);

#endif
