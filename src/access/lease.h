/*
 * lease.h -- an access holder: one identity's prepare/end on many VMs, with
 * the protection lasting only as long as its lease.
 *
 * Three modes:
 *   LEASE_NONE     plain disables, exactly like PrepareForAccess (pooled
 *                  sessions); they last until someone ends them.
 *   LEASE_SESSION  DisableMethods(sessionScope=true) on a session of the
 *                  holder's own, kept alive by a background thread; if the
 *                  process dies, vCenter drops the disables when the session
 *                  times out.  If the session is lost while held, the holder
 *                  is told (callback, then every call fails) and nothing is
 *                  re-protected behind its back.
 *   LEASE_JOURNAL  plain disables, each recorded in the lease journal
 *                  (journal.h) with its owning process and/or expiry, so
 *                  `freevix sweep` can undo them once the owner is gone or
 *                  the time is up.
 *
 * A struct lease is used by one thread at a time (the keep-alive thread is
 * internal).  It copies everything it is given; secrets are wiped on close.
 */
#ifndef FVX_ACCESS_LEASE_H
#define FVX_ACCESS_LEASE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "access/access.h"
#include "access/batch.h"
#include "access/journal.h"

enum lease_mode { LEASE_NONE = 0, LEASE_SESSION, LEASE_JOURNAL };

/* Called once, from the keep-alive thread, when a session lease is lost
 * while it holds VMs.  detail lives for the call only. */
typedef void lease_lost_fn(void *opaque, const char *detail);

#define LEASE_DEFAULT_TTL_MS (24L * 3600 * 1000)
#define LEASE_DEFAULT_KEEPALIVE_MS 60000L

struct lease_opts {
  const char *identity;           /* sourceId (checked by the caller) */
  const char *reason;             /* NULL: freevix.reasonId */
  const char *methods[BATCH_MAX_METHODS]; /* static strings */
  size_t n_methods;
  size_t batch_size;              /* 0: BATCH_DEFAULT_SIZE */
  long wait_ms;                   /* wait for held VMs; 0: fail at once */
  enum lease_mode mode;
  long ttl_ms;                    /* journal expiry; 0: 24 h unless owned */
  bool process_owned;             /* journal: this process owns the grants */
  bool assume_atomic;             /* see batch.h */
  bool check_privileges;          /* pre-flight HasPrivilegeOnEntities */
  const char *state_dir;          /* journal directory; NULL: default */
  long keepalive_ms;              /* session: 0: 60 s */
  wait_progress_fn *progress;
  void *progress_opaque;
  lease_lost_fn *lost;
  void *lost_opaque;
};

struct lease;

/* Copies ci and o, checks the privileges if asked, and for LEASE_SESSION
 * logs in a session of its own and starts the keep-alive thread.  Returns
 * ACCESS_OK with *out (free with lease_close) or fills res (*out NULL). */
int lease_open(const struct access_conninfo *ci, const struct lease_opts *o,
               struct lease **out, struct access_result *res);

/* Resolves vmx specs to morefs in v (zeroed by this call).  A spec that is
 * malformed or names no VM gets state NOT_FOUND / FAILED; returns the
 * first such failure (with *failed its index) after trying them all. */
int lease_resolve(struct lease *l, const char *const *specs, size_t n,
                  struct batch_vm *v, size_t *failed,
                  struct access_result *res);

/* Disables the methods on every VM of v (see batch_disable), recording
 * journal grants first in LEASE_JOURNAL.  Returns res->status. */
int lease_prepare(struct lease *l, struct batch_vm *v, size_t n,
                  size_t *failed, struct access_result *res);

/* Enables them again (see batch_enable) and drops the journal's grants for
 * the VMs that succeeded. */
int lease_end(struct lease *l, struct batch_vm *v, size_t n,
              struct access_result *res);

/* What one VM looks like: the server's disabledMethod, and who holds it
 * according to the journal (holder "" when it has no grant for it). */
struct lease_vm_status {
  struct vim_moref vm;
  bool found;
  char name[128];
  char disabled[256];   /* comma-separated disabledMethod */
  char holder[256];     /* journal: the grant's identity */
  long owner_pid;       /* journal: 0 when no process owns it */
  int64_t since;        /* journal: Unix seconds, 0 unknown */
  int64_t expires;      /* journal: Unix seconds, 0 none */
};

/* Fills st[0..n) for the resolved VMs of v (state OK after
 * lease_resolve).  A journal that cannot be read is reported in
 * *journal_problem (static-sized, "" when fine), not as a failure. */
int lease_status(struct lease *l, const struct batch_vm *v, size_t n,
                 struct lease_vm_status *st, char *journal_problem,
                 size_t problem_n, struct access_result *res);

/* Every VM of the server with a disabled method, read with one inventory
 * walk, with the journal's holders as in lease_status.  *out (n_out
 * entries, possibly 0) is the caller's, freed with free().  Returns
 * res->status (*out NULL on failure). */
int lease_status_all(struct lease *l, struct lease_vm_status **out,
                     size_t *n_out, char *journal_problem, size_t problem_n,
                     struct access_result *res);

/* Stops the keep-alive thread and frees l; a session lease logs out, which
 * ends its remaining disables.  Returns ACCESS_OK, or the loss (ACCESS_E_VIM,
 * VIM_E_SESSION_LOST) if the lease was lost.  NULL is a harmless no-op. */
int lease_close(struct lease *l, struct access_result *res);

/* The sweep: re-enables every journal grant for ci's server whose owner is
 * gone or whose expiry has passed -- with the grant's own sourceId, so
 * disables by other sources are never touched -- and drops it from the
 * journal.  A stale grant whose disable is also covered by a live grant is
 * only dropped.  report (may be NULL) is told about each stale grant.
 * Returns ACCESS_OK, or the first failure (the others are still tried);
 * a corrupt journal is refused before any change.  sweep.c. */
typedef void sweep_report_fn(void *opaque, const struct journal_grant *g,
                             const char *why, const struct access_result *r);
int lease_sweep(const struct access_conninfo *ci, const char *state_dir,
                bool dry_run, sweep_report_fn *report, void *opaque,
                size_t *n_swept, struct access_result *res);

#endif
