/*
 * journal.h -- the lease journal: a crash-safe record of the disables this
 * machine's freevix users made, so `freevix sweep` can undo exactly the ones
 * whose owner is gone or whose time is up.
 *
 * A journal is one directory holding "journal" (the grants) and
 * "journal.lock" (flock'ed for the whole time a struct journal is open).
 * journal_open() locks and loads; the caller edits the in-memory list and
 * journal_commit() replaces the file atomically (temp file, fsync, rename,
 * fsync of the directory); journal_close() unlocks and frees.  The format
 * is in docs/cli.md ("Journal"): a magic first line, then one
 * tab-separated, %-escaped record per line: grants (disables) and, since
 * version 2, snapshots a backup took.  A file that is not exactly that
 * is refused as a whole, never half-trusted or overwritten.
 */
#ifndef FVX_ACCESS_JOURNAL_H
#define FVX_ACCESS_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "access/access.h"

/* Version 2 adds snapshot records; a journal without them is written as
 * version 1, and both are read. */
#define JOURNAL_MAGIC "freevix-journal 2"
#define JOURNAL_MAGIC_V1 "freevix-journal 1"
/* The snapshot field of a record whose snapshot moref is not known yet. */
#define JOURNAL_NO_SNAPSHOT "-"

/* One disable this machine made: (server, port, vm, method, source) names
 * it on vCenter; the rest says when it may be undone. */
struct journal_grant {
  char server[256];
  unsigned port;
  char vm[80];              /* moref value, e.g. "vm-42" */
  char method[64];          /* e.g. "RelocateVM_Task" */
  char source[256];         /* the identity: the disable's sourceId */
  long pid;                 /* owning process, 0: none */
  uint64_t pid_start;       /* its start time (/proc/<pid>/stat field 22) */
  int64_t created;          /* Unix seconds */
  int64_t expires;          /* Unix seconds, 0: never (owned grants) */
};

/* A snapshot a backup is taking or holds: (server, port, vm, name) names
 * it before vCenter has answered, snapshot once it has.  Written before
 * CreateSnapshot, completed with the moref after it, removed after
 * RemoveSnapshot; the owner fields are a grant's. */
struct journal_snapshot {
  char server[256];
  unsigned port;
  char vm[80];              /* moref value of the VM */
  char name[128];           /* the snapshot's name, unique on the VM */
  char snapshot[80];        /* its moref value; "" until known */
  char source[256];         /* who took it (the backup's identity) */
  long pid;                 /* owning process, 0: none */
  uint64_t pid_start;
  int64_t created;
  int64_t expires;          /* 0: never */
};

struct journal {
  char dir[4096];
  char path[4200];          /* dir + "/journal" */
  int lock_fd;
  struct journal_grant *grants;
  size_t n, alloc;
  struct journal_snapshot *snaps;
  size_t n_snaps, alloc_snaps;
};

/* The journal directory: $FREEVIX_STATE_DIR, else /var/lib/freevix for
 * root, else $XDG_STATE_HOME/freevix, else $HOME/.local/state/freevix.
 * dir (NULL: that default) is copied into out (size n).  False when no
 * location can be found or it does not fit. */
bool journal_dir(const char *dir, char *out, size_t n);

/* Creates the directory (0700) if needed, takes the lock (waiting for
 * other freevix processes) and loads the grants into *j.  Returns
 * ACCESS_OK; ACCESS_E_JOURNAL when the file is corrupt or foreign (res
 * names the file, the line and how to fix it; the lock is released),
 * ACCESS_E_JOURNAL_IO or ACCESS_E_NOMEM.  On failure *j needs no close. */
int journal_open(struct journal *j, const char *dir, struct access_result *res);

/* Parses a journal file's contents (len bytes; text[len] must be '\0')
 * and appends its grants to j (j->path names the file in messages).
 * Returns ACCESS_OK, ACCESS_E_JOURNAL (res names the line and the fix) or
 * ACCESS_E_NOMEM; on failure j may hold the grants before the bad line.
 * journal_open uses it; exposed for the fuzz target. */
int journal_parse(struct journal *j, const char *text, size_t len,
                  struct access_result *res);

/* Appends a copy of g.  Returns ACCESS_OK or ACCESS_E_NOMEM (unchanged). */
int journal_add(struct journal *j, const struct journal_grant *g,
                struct access_result *res);

/* Removes grant i (the order of the others is kept).  Can't fail. */
void journal_remove(struct journal *j, size_t i);

/* Appends a copy of s.  Returns ACCESS_OK or ACCESS_E_NOMEM (unchanged). */
int journal_add_snapshot(struct journal *j, const struct journal_snapshot *s,
                         struct access_result *res);

/* Removes snapshot record i (the order of the others is kept).  Can't
 * fail. */
void journal_remove_snapshot(struct journal *j, size_t i);

/* The index of the record for the same (server, port, vm, name) as s, or
 * (size_t)-1. */
size_t journal_find_snapshot(const struct journal *j,
                             const struct journal_snapshot *s);

/* Writes the grants atomically.  Returns ACCESS_OK or ACCESS_E_JOURNAL_IO
 * (the old file is left intact). */
int journal_commit(struct journal *j, struct access_result *res);

/* Unlocks and frees; a journal that failed to open or was closed already
 * is a harmless no-op. */
void journal_close(struct journal *j);

/* This process as a grant owner: pid and /proc start time.  False when
 * /proc cannot tell (then grants must carry an expiry). */
bool journal_self(long *pid, uint64_t *start);

/* Why a record with these owner fields may be swept at Unix time now (see
 * journal_grant_stale). */
bool journal_owner_stale(long pid, uint64_t pid_start, int64_t expires,
                         int64_t now, char *why, size_t n);

/* Why g may be swept at Unix time now: "owner process 123 is gone",
 * "expired 2025-..."; false (why untouched) while it is still live. */
bool journal_grant_stale(const struct journal_grant *g, int64_t now,
                         char *why, size_t n);

/* True when (server, port, vm, method, source) of a and b are equal: the
 * same disable on vCenter. */
bool journal_same_disable(const struct journal_grant *a,
                          const struct journal_grant *b);

#endif
