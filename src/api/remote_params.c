/*
 * remote_params.c -- validation of connect params for vCenter calls, see
 * remote_params.h.  Messages never include the password or cookie.
 */
#include <string.h>

#include "api/api.h"
#include "api/remote_params.h"

#define SERVER_NAME_MAX 255
#define CREDENTIAL_MAX 4096

static bool is_hex(char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
         (c >= 'A' && c <= 'F');
}

/* SHA-1 (20 bytes) or SHA-256 (32 bytes) as colon-separated hex pairs. */
static bool thumbprint_well_formed(const char *t)
{
  size_t len = strlen(t), pairs;

  if (len != 59 && len != 95)
    return false;
  pairs = (len + 1) / 3;
  for (size_t i = 0; i < pairs; i++) {
    const char *p = t + i * 3;

    if (!is_hex(p[0]) || !is_hex(p[1]))
      return false;
    if (i + 1 < pairs && p[2] != ':')
      return false;
  }
  return true;
}

static bool bounded(const char *s, size_t max)
{
  return s && strnlen(s, max + 1) <= max;
}

VixError fvx_remote_params(const char *fn, const VixDiskLibConnectParams *p,
                           bool need_vm, struct access_conninfo *out)
{
  memset(out, 0, sizeof *out);
  if (!p->serverName) {
    fvx_error("%s: serverName is NULL: this call needs a vCenter server "
              "(local disks need no access control)", fn);
    return VIX_E_HOST_NOT_CONNECTED;
  }
  if (!*p->serverName || !bounded(p->serverName, SERVER_NAME_MAX)) {
    fvx_error("%s: serverName is empty or longer than %d bytes", fn,
              SERVER_NAME_MAX);
    return VIX_E_INVALID_ARG;
  }
  if (p->port > 65535) {
    fvx_error("%s: port %u is out of range (0 means 443, or 80 for an "
              "http:// server)", fn, p->port);
    return VIX_E_INVALID_ARG;
  }
  if (p->thumbPrint && *p->thumbPrint &&
      !thumbprint_well_formed(p->thumbPrint)) {
    fvx_error("%s: thumbPrint must be the server certificate's SHA-1 (20) or "
              "SHA-256 (32) digest as colon-separated hex pairs", fn);
    return VIX_E_INVALID_ARG;
  }
  out->server = p->serverName;
  out->port = p->port; /* 0: access_port() picks the default */
  out->thumbprint = (p->thumbPrint && *p->thumbPrint) ? p->thumbPrint : NULL;

  switch (p->credType) {
  case VIXDISKLIB_CRED_UID:
    if (!bounded(p->creds.uid.userName, CREDENTIAL_MAX) ||
        !*p->creds.uid.userName ||
        !bounded(p->creds.uid.password, CREDENTIAL_MAX)) {
      fvx_error("%s: credType is VIXDISKLIB_CRED_UID but userName or password"
                " is missing (or longer than %d bytes)", fn, CREDENTIAL_MAX);
      return VIX_E_INVALID_ARG;
    }
    out->cred = ACCESS_CRED_PASSWORD;
    out->user = p->creds.uid.userName;
    out->password = p->creds.uid.password;
    break;
  case VIXDISKLIB_CRED_SESSIONID:
    if (!bounded(p->creds.sessionId.cookie, CREDENTIAL_MAX) ||
        !*p->creds.sessionId.cookie) {
      fvx_error("%s: credType is VIXDISKLIB_CRED_SESSIONID but the session "
                "cookie is missing (or longer than %d bytes)", fn,
                CREDENTIAL_MAX);
      return VIX_E_INVALID_ARG;
    }
    out->cred = ACCESS_CRED_COOKIE;
    out->cookie = p->creds.sessionId.cookie;
    out->user = bounded(p->creds.sessionId.userName, CREDENTIAL_MAX)
                    ? p->creds.sessionId.userName
                    : NULL;
    break;
  default:
    fvx_error("%s: credType %d is not supported: use VIXDISKLIB_CRED_UID (1) "
              "or VIXDISKLIB_CRED_SESSIONID (2)", fn, (int)p->credType);
    return VIX_E_INVALID_ARG;
  }

  if (need_vm && (!p->vmxSpec || !*p->vmxSpec)) {
    fvx_error("%s: vmxSpec is missing: it must name the VM, e.g. "
              "\"moref=vm-42\"", fn);
    return VIX_E_MISSING_REQUIRED_PROPERTY;
  }
  out->vmx_spec = p->vmxSpec;
  return VIX_OK;
}

VixError fvx_remote_begin(const char *fn, const VixDiskLibConnectParams *p,
                          struct access_conninfo *out)
{
  VixError err = fvx_api_require_init(fn);

  if (err)
    return err;
  if (!p) {
    fvx_error("%s: connectParams is NULL", fn);
    return VIX_E_INVALID_ARG;
  }
  return fvx_remote_params(fn, p, true, out);
}
