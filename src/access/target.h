/*
 * target.h -- one VM on one vCenter, reached through a pooled session: the
 * step every per-VM access operation starts with.
 */
#ifndef FVX_ACCESS_TARGET_H
#define FVX_ACCESS_TARGET_H

#include <stdbool.h>

#include "access/access.h"
#include "access/vmxspec.h"

/* How long a VM task (snapshot, reconfigure, relocate) is waited for when
 * the caller gives no limit. */
#define ACCESS_TASK_TIMEOUT_MS (600 * 1000L)

struct access_target_vm {
  struct vmxspec spec;
  struct vim_session *session; /* checked out of the pool; NULL when none */
  struct vim_moref vm;
};

/* Parses ci->vmx_spec, checks a session out, refuses an ESXi host (sending
 * VDDK's sentence to the warn log) and resolves the VM.  On failure t may
 * still hold a session: release it with access_target_close. */
int access_target_open(const struct access_conninfo *ci,
                       struct access_target_vm *t, struct access_result *res);

/* The same on a vCenter or an ESXi host alike: for what a host can do
 * itself (snapshots, disk reads). */
int access_target_open_any(const struct access_conninfo *ci,
                           struct access_target_vm *t,
                           struct access_result *res);

/* Resolves t->spec to t->vm with t->session. */
int access_target_resolve(struct access_target_vm *t,
                          struct access_result *res);

/* Returns the session to the pool (or frees it when !reusable). */
void access_target_close(const struct access_conninfo *ci,
                         struct access_target_vm *t, bool reusable);

/* Maps a failed call on t->vm (ManagedObjectNotFound -> VM not found). */
int access_target_fail(const struct access_target_vm *t,
                       const struct vim_error *err, struct access_result *res);

/* True when a session that produced err may be pooled again. */
bool access_session_reusable(const struct vim_error *err);

/* access_target_open_any (a vCenter or an ESXi host: snapshots, disks and
 * CBT are the host's own business) that also releases the session when it
 * fails, so the caller has nothing to close then.  Returns res->status. */
static inline int access_target_begin(const struct access_conninfo *ci,
                                      struct access_target_vm *t,
                                      struct access_result *res)
{
  if (access_target_open_any(ci, t, res) == ACCESS_OK)
    return ACCESS_OK;
  access_target_close(ci, t, res->status != ACCESS_E_VIM ||
                                 access_session_reusable(&res->vim));
  return res->status;
}

#endif
