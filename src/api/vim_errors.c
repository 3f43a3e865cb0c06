/*
 * vim_errors.c -- the one table from vSphere faults and transport failures
 * to VixError codes (mirrored in docs/errors.md; keep both in step).
 *
 * VDDK documents few of these: 3014 for missing Disable/EnableMethods
 * privileges (seen in the field), VMODL_TYPE_VIM_FAULT_METHOD_ALREADY_
 * DISABLED_FAULT for a held RelocateVM_Task (the programming guide's
 * sample).  The rest follow the nearest VIX_E_* meaning; the log line always
 * carries the detail (fault type, holder, privilege, expected thumbprint).
 */
#include "api/vim_errors.h"

#include "api/api.h"
#include "api/disk_api.h"

struct fault_map {
  enum vim_fault_kind kind;
  VixError code;
};

static const struct fault_map fault_table[] = {
  {VIM_FAULT_METHOD_ALREADY_DISABLED,
   VMODL_TYPE_VIM_FAULT_METHOD_ALREADY_DISABLED_FAULT},
  {VIM_FAULT_METHOD_DISABLED, VIX_E_OBJECT_IS_BUSY},
  {VIM_FAULT_NO_PERMISSION, VIX_E_HOST_USER_PERMISSIONS},
  {VIM_FAULT_INVALID_LOGIN, VIX_E_AUTHENTICATION_FAIL},
  {VIM_FAULT_NOT_AUTHENTICATED, VIX_E_INVALID_AUTHENTICATION_SESSION},
  {VIM_FAULT_MANAGED_OBJECT_NOT_FOUND, VIX_E_OBJECT_NOT_FOUND},
  {VIM_FAULT_INVALID_ARGUMENT, VIX_E_INVALID_ARG},
  {VIM_FAULT_NOT_SUPPORTED, VIX_E_NOT_SUPPORTED},
  {VIM_FAULT_METHOD_NOT_FOUND, VIX_E_NOT_SUPPORTED},
  {VIM_FAULT_NOT_IMPLEMENTED, VIX_E_NOT_SUPPORTED},
};

struct status_map {
  enum vim_status status;
  VixError code;
};

static const struct status_map status_table[] = {
  {VIM_OK, VIX_OK},
  {VIM_E_NOMEM, VIX_E_OUT_OF_MEMORY},
  {VIM_E_INVALID_ARG, VIX_E_INVALID_ARG},
  {VIM_E_RESOLVE, VIX_E_HOST_SERVER_NOT_FOUND},
  {VIM_E_CONNECT, VIX_E_HOST_NETWORK_CONN_REFUSED},
  {VIM_E_TLS, VIX_E_HOST_NETBLKDEV_HANDSHAKE},
  {VIM_E_THUMBPRINT, VIX_E_HOST_NETBLKDEV_HANDSHAKE},
  {VIM_E_CERT, VIX_E_HOST_NETBLKDEV_HANDSHAKE},
  {VIM_E_TIMEOUT, VIX_E_HOST_TCP_SOCKET_ERROR},
  {VIM_E_HTTP, VIX_E_HOST_TCP_SOCKET_ERROR},
  {VIM_E_PROTOCOL, VIX_E_INVALID_MESSAGE_BODY},
  {VIM_E_TOO_BIG, VIX_E_INVALID_MESSAGE_BODY},
  {VIM_E_NOT_FOUND, VIX_E_OBJECT_NOT_FOUND},
  {VIM_E_SESSION_LOST, VIX_E_HOST_CONNECTION_LOST},
  {VIM_E_DEADLINE, VIX_E_CANCELLED},
};

VixError fvx_vim_to_vix(const struct vim_error *err)
{
  if (err->status == VIM_E_FAULT || err->status == VIM_E_TASK) {
    for (size_t i = 0; i < sizeof fault_table / sizeof fault_table[0]; i++)
      if (fault_table[i].kind == err->fault.kind)
        return fault_table[i].code;
    return VIX_E_FAIL;
  }
  for (size_t i = 0; i < sizeof status_table / sizeof status_table[0]; i++)
    if (status_table[i].status == err->status)
      return status_table[i].code;
  return VIX_E_FAIL;
}

/* Logs a vSphere failure with the detail that helps the operator most. */
static void log_vim(const char *fn, const struct vim_error *e)
{
  const struct vim_fault *f = &e->fault;

  if (e->status != VIM_E_FAULT && e->status != VIM_E_TASK) {
    fvx_error("%s: %s", fn, e->detail[0] ? e->detail : "vSphere call failed");
    return;
  }
  switch (f->kind) {
  case VIM_FAULT_METHOD_ALREADY_DISABLED:
    fvx_warn("%s: the method is already disabled by source '%s' (another "
             "backup or a Storage vMotion in progress); retry later",
             fn, f->source);
    break;
  case VIM_FAULT_METHOD_DISABLED:
    fvx_warn("%s: the method is disabled by '%s'", fn, f->source);
    break;
  case VIM_FAULT_NO_PERMISSION:
    fvx_error("%s: permission denied: the user lacks privilege %s on %s; "
              "grant Global.DisableMethods and Global.EnableMethods to the "
              "user's role at the vCenter root (not on a datacenter or VM)",
              fn, f->privilege[0] ? f->privilege : "(not named)",
              f->object[0] ? f->object : "the vCenter root");
    break;
  case VIM_FAULT_INVALID_LOGIN:
    fvx_error("%s: login failed: wrong user name or password", fn);
    break;
  case VIM_FAULT_NOT_AUTHENTICATED:
    fvx_error("%s: the vCenter session is not (or no longer) authenticated; "
              "log in again", fn);
    break;
  default:
    fvx_error("%s: vSphere fault %s: %s", fn, f->type[0] ? f->type : "?",
              f->message[0] ? f->message : e->detail);
  }
}

VixError fvx_map_access_result(const char *fn, const struct access_result *res)
{
  switch (res->status) {
  case ACCESS_OK:
    return VIX_OK;
  case ACCESS_E_NOMEM:
    fvx_error("%s: out of memory", fn);
    return VIX_E_OUT_OF_MEMORY;
  case ACCESS_E_VMXSPEC:
    fvx_error("%s: vmxSpec is malformed: %s", fn, res->detail);
    return VIX_E_INVALID_PROPERTY_VALUE;
  case ACCESS_E_NOT_VCENTER:
    /* The access layer has already sent VDDK's exact sentence to the warn
     * callback; nothing to add. */
    return VIX_E_NOT_SUPPORTED;
  case ACCESS_E_VM_NOT_FOUND:
    fvx_error("%s: %s", fn, res->detail);
    return VIX_E_VM_NOT_FOUND;
  case ACCESS_E_DC_NOT_FOUND:
    fvx_error("%s: %s", fn, res->detail);
    return VIX_E_OBJECT_NOT_FOUND;
  case ACCESS_E_SHUTDOWN:
    fvx_error("%s: the library is shutting down", fn);
    return VIX_E_DISK_NOINIT;
  case ACCESS_E_CONFIG:
    fvx_error("%s: %s", fn, res->detail);
    return VIX_E_INVALID_ARG;
  case ACCESS_E_VIM:
    log_vim(fn, &res->vim);
    return fvx_vim_to_vix(&res->vim);
  case ACCESS_E_JOURNAL:
    fvx_error("%s: %s", fn, res->detail);
    return VIX_E_INCORRECT_FILE_TYPE;
  case ACCESS_E_JOURNAL_IO:
    fvx_error("%s: %s", fn, res->detail);
    return VIX_E_FILE_ERROR;
  case ACCESS_E_SNAPSHOT:
    fvx_error("%s: %s", fn, res->detail);
    return VIX_E_SNAPSHOT_NOTFOUND;
  case ACCESS_E_NO_SUCH_DISK:
    fvx_error("%s: %s", fn, res->detail);
    return VIX_E_FILE_NOT_FOUND;
  case ACCESS_E_DISK:
    fvx_error("%s: %s", fn, res->detail);
    return fvx_disk_error(res->disk_status);
  case ACCESS_E_TRANSPORT:
    fvx_error("%s: %s", fn, res->detail);
    return VIX_E_FILE_ACCESS_ERROR;
  }
  return VIX_E_FAIL;
}
