/*
 * vmops.c -- VM operations a backup needs around its disk reads:
 * snapshot create/remove (on a pooled session, exempt from its own
 * disables) and relocate (always on a session of its own, as an operator or
 * Storage DRS would be: that is what PrepareForAccess must block).
 */
#include <stdlib.h>
#include <string.h>

#include "access/pool.h"
#include "access/target.h"
#include "access/vmops.h"
#include "util/log.h"

#define DEFAULT_TASK_TIMEOUT_MS (600 * 1000L)

static long task_deadline(long timeout_ms)
{
  return timeout_ms > 0 ? timeout_ms : DEFAULT_TASK_TIMEOUT_MS;
}

int access_snapshot_create(const struct access_conninfo *ci, const char *name,
                           long timeout_ms, char **snapshot_ref,
                           struct access_result *res)
{
  struct access_target_vm t;
  struct vim_moref task, snap;
  struct vim_error err;
  int r;

  *snapshot_ref = NULL;
  if (access_target_open_any(ci, &t, res) != ACCESS_OK) {
    access_target_close(ci, &t, false);
    return res->status;
  }
  r = vim_create_snapshot(t.session, &t.vm, name, "freevix backup snapshot",
                          false, false, &task, &err);
  if (r == VIM_OK)
    r = vim_task_wait(t.session, &task, task_deadline(timeout_ms), NULL, NULL,
                      &snap, &err);
  access_target_close(ci, &t, access_session_reusable(&err));
  if (r != VIM_OK)
    return access_target_fail(&t, &err, res);
  *snapshot_ref = strdup(snap.value);
  if (!*snapshot_ref)
    return access_fail(res, ACCESS_E_NOMEM, "out of memory");
  fvx_info("snapshot %s of %s created", snap.value, t.vm.value);
  res->status = ACCESS_OK;
  return ACCESS_OK;
}

int access_snapshot_remove(const struct access_conninfo *ci,
                           const char *snapshot_ref, long timeout_ms,
                           struct access_result *res)
{
  struct access_target_vm t;
  struct vim_moref task, snap;
  struct vim_error err;
  int r;

  if (!vim_moref_set(&snap, "VirtualMachineSnapshot", snapshot_ref))
    return access_fail(res, ACCESS_E_VMXSPEC, "bad snapshot reference");
  if (access_target_open_any(ci, &t, res) != ACCESS_OK) {
    access_target_close(ci, &t, false);
    return res->status;
  }
  r = vim_remove_snapshot(t.session, &snap, false, true, &task, &err);
  if (r == VIM_OK)
    r = vim_task_wait(t.session, &task, task_deadline(timeout_ms), NULL, NULL,
                      NULL, &err);
  access_target_close(ci, &t, access_session_reusable(&err));
  if (r != VIM_OK)
    return access_fail_vim(res, &err);
  fvx_info("snapshot %s removed", snapshot_ref);
  res->status = ACCESS_OK;
  return ACCESS_OK;
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
