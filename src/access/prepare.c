/*
 * prepare.c -- PrepareForAccess and EndAccess on one VM.
 *
 * Prepare: parse vmxSpec, take a pooled session, refuse an ESXi host with
 * VDDK's exact sentence, find the VM (a moref costs nothing: DisableMethods
 * itself reports an unknown one; a datastore path costs two searches), and
 * DisableMethods(RelocateVM_Task) with sourceId = identity.  End is the
 * same with EnableMethods.  A warm call is one round trip.
 *
 * The identity is the sourceId as given (after the api layer's checks), so
 * vCenter's MethodDisabled and MethodAlreadyDisabledFault name the backup
 * that holds a VM, and two identities never share a disable.  The reasonId
 * is freevix.reasonId (default "Prevent vMotion during backup").
 */
#include <stdio.h>
#include <string.h>

#include "access/access.h"
#include "access/pool.h"
#include "access/target.h"
#include "util/log.h"
#include "util/mem.h"

/* The method PrepareForAccess blocks, as VDDK documents it. */
#define RELOCATE_METHOD "RelocateVM_Task"

/* VDDK's words for an ESXi host, to the letter: scripts match them. */
#define NOT_A_VCENTER "HostAgent is not a vCenter, cannot deactivate svMotion."

/* Parses vmxSpec and checks a session out: the start of both opens. */
static int target_begin(const struct access_conninfo *ci,
                        struct access_target_vm *t, struct access_result *res)
{
  char why[256];

  memset(t, 0, sizeof *t);
  if (!vmxspec_parse(ci->vmx_spec, &t->spec, why, sizeof why))
    return access_fail(res, ACCESS_E_VMXSPEC, "%s", why);
  return pool_checkout(ci, &t->session, res);
}

int access_target_open_any(const struct access_conninfo *ci,
                           struct access_target_vm *t,
                           struct access_result *res)
{
  if (target_begin(ci, t, res) != ACCESS_OK)
    return res->status;
  return access_target_resolve(t, res);
}

int access_target_open(const struct access_conninfo *ci,
                       struct access_target_vm *t, struct access_result *res)
{
  if (target_begin(ci, t, res) != ACCESS_OK)
    return res->status;
  if (!vim_session_is_vcenter(t->session)) {
    fvx_warn("%s", NOT_A_VCENTER);
    pool_checkin(ci, t->session, true);
    t->session = NULL;
    return access_fail(res, ACCESS_E_NOT_VCENTER, NOT_A_VCENTER);
  }
  return access_target_resolve(t, res);
}

int access_target_resolve(struct access_target_vm *t, struct access_result *res)
{
  struct vim_moref dc;
  struct vim_error err;
  char path[VMXSPEC_MAX + 300];
  int r;

  if (t->spec.kind == VMXSPEC_MOREF) {
    vim_moref_set(&t->vm, "VirtualMachine", t->spec.moref);
    return ACCESS_OK;
  }
  r = vim_find_datacenter(t->session, t->spec.dc_path, &dc, &err);
  if (r == VIM_E_NOT_FOUND)
    return access_fail(res, ACCESS_E_DC_NOT_FOUND,
                       "no datacenter at inventory path \"%s\"",
                       t->spec.dc_path);
  if (r != VIM_OK)
    return access_fail_vim(res, &err);
  snprintf(path, sizeof path, "[%s] %s", t->spec.ds_name, t->spec.path);
  r = vim_find_by_datastore_path(t->session, &dc, path, &t->vm, &err);
  if (r == VIM_E_NOT_FOUND)
    return access_fail(res, ACCESS_E_VM_NOT_FOUND,
                       "no VM registered at %s in datacenter %s", path,
                       t->spec.dc_path);
  if (r != VIM_OK)
    return access_fail_vim(res, &err);
  return ACCESS_OK;
}

void access_target_close(const struct access_conninfo *ci,
                         struct access_target_vm *t, bool reusable)
{
  pool_checkin(ci, t->session, reusable);
  t->session = NULL;
}

/* Turns a failed vim call on t's VM into a result: an unknown VM becomes
 * ACCESS_E_VM_NOT_FOUND, the rest stays a vSphere failure. */
int access_target_fail(const struct access_target_vm *t,
                       const struct vim_error *err, struct access_result *res)
{
  if (err->status == VIM_E_FAULT &&
      err->fault.kind == VIM_FAULT_MANAGED_OBJECT_NOT_FOUND)
    return access_fail(res, ACCESS_E_VM_NOT_FOUND,
                       "no VM %s on this server (ManagedObjectNotFound)",
                       t->vm.value);
  return access_fail_vim(res, err);
}

/* Whether a session that saw this error may go back to the pool: transport
 * failures and dead sessions (a borrowed cookie cannot log in again) close
 * it; answers from a healthy server keep it. */
bool access_session_reusable(const struct vim_error *err)
{
  if (err->status == VIM_E_FAULT)
    return err->fault.kind != VIM_FAULT_NOT_AUTHENTICATED;
  return err->status == VIM_OK || err->status == VIM_E_NOT_FOUND ||
         err->status == VIM_E_TASK;
}

int access_prepare(const struct access_conninfo *ci, const char *identity,
                   struct access_result *res)
{
  struct access_target_vm t;
  struct vim_disabled_method m;
  struct vim_error err;
  CLEANUP_FREE char *reason = NULL;

  if (access_target_open(ci, &t, res) != ACCESS_OK) {
    access_target_close(ci, &t, res->status != ACCESS_E_VIM ||
                                    access_session_reusable(&res->vim));
    return res->status;
  }
  /* A copy: Exit may run while this call waits for vCenter. */
  reason = pool_reason_dup();
  if (!reason) {
    access_target_close(ci, &t, true);
    return access_fail(res, ACCESS_E_NOMEM, "out of memory");
  }
  m.method = RELOCATE_METHOD;
  m.reason_id = reason;
  if (vim_disable_methods(t.session, &t.vm, 1, &m, 1, identity, false, &err) !=
      VIM_OK) {
    access_target_close(ci, &t, access_session_reusable(&err));
    return access_target_fail(&t, &err, res);
  }
  fvx_info("%s disabled on %s for '%s'", RELOCATE_METHOD, t.vm.value,
           identity);
  access_target_close(ci, &t, true);
  res->status = ACCESS_OK;
  return ACCESS_OK;
}

int access_end(const struct access_conninfo *ci, const char *identity,
               struct access_result *res)
{
  struct access_target_vm t;
  const char *method = RELOCATE_METHOD;
  struct vim_error err;

  if (access_target_open(ci, &t, res) != ACCESS_OK) {
    access_target_close(ci, &t, res->status != ACCESS_E_VIM ||
                                    access_session_reusable(&res->vim));
    return res->status;
  }
  if (vim_enable_methods(t.session, &t.vm, 1, &method, 1, identity, &err) !=
      VIM_OK) {
    access_target_close(ci, &t, access_session_reusable(&err));
    return access_target_fail(&t, &err, res);
  }
  fvx_info("%s enabled on %s for '%s'", RELOCATE_METHOD, t.vm.value, identity);
  access_target_close(ci, &t, true);
  res->status = ACCESS_OK;
  return ACCESS_OK;
}

int access_check_login(const struct access_conninfo *ci,
                       struct access_result *res)
{
  struct vim_session *s;

  if (pool_checkout(ci, &s, res) != ACCESS_OK)
    return res->status;
  pool_checkin(ci, s, true);
  res->status = ACCESS_OK;
  return ACCESS_OK;
}
