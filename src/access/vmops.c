/*
 * vmops.c -- relocate, always on a session of its own, as an operator or
 * Storage DRS would be: that is what PrepareForAccess must block.  (The
 * backup's own VM calls, snapshots on pooled sessions that are exempt from
 * their own disables, are in snapshot.c.)
 */
#include <string.h>

#include "access/pool.h"
#include "access/target.h"
#include "access/vmops.h"
#include "util/log.h"

static long task_deadline(long timeout_ms)
{
  return timeout_ms > 0 ? timeout_ms : ACCESS_TASK_TIMEOUT_MS;
}

int access_relocate(const struct access_conninfo *ci, const char *datastore,
                    long timeout_ms, struct access_result *res)
{
  struct access_target_vm t;
  struct vim_moref task, ds;
  struct vim_error err;
  int r;

  memset(&t, 0, sizeof t);
  if (datastore && !vim_moref_set(&ds, "Datastore", datastore))
    return access_fail(res, ACCESS_E_VMXSPEC, "bad datastore reference");
  {
    char why[256];

    if (!vmxspec_parse(ci->vmx_spec, &t.spec, why, sizeof why))
      return access_fail(res, ACCESS_E_VMXSPEC, "%s", why);
  }
  if (pool_open_session(ci, &t.session, res) != ACCESS_OK)
    return res->status;
  if (access_target_resolve(&t, res) != ACCESS_OK) {
    vim_session_free(t.session);
    return res->status;
  }
  r = vim_relocate(t.session, &t.vm, datastore ? &ds : NULL, &task, &err);
  if (r == VIM_OK)
    r = vim_task_wait(t.session, &task, task_deadline(timeout_ms), NULL, NULL,
                      NULL, &err);
  vim_session_free(t.session);
  if (r != VIM_OK)
    return access_target_fail(&t, &err, res);
  fvx_info("%s relocated", t.vm.value);
  res->status = ACCESS_OK;
  return ACCESS_OK;
}
