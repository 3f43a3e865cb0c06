/*
 * access_api.c -- VixDiskLib_PrepareForAccess / VixDiskLib_EndAccess.
 *
 * Thin: checks the identity and the params, delegates to the access layer
 * (src/access/prepare.c), maps the outcome.  The identity rules:
 *   - NULL or empty                 VIX_E_INVALID_ARG
 *   - not valid UTF-8               VIX_E_INVALID_UTF8_STRING
 *   - more than 50 characters       VIX_E_ARGUMENT_TOO_BIG
 * It is rejected rather than cut, because it becomes the sourceId of the
 * disable: two identities sharing a 50-character prefix must never be able
 * to re-enable each other's protection.
 */
#include <string.h>

#include "access/access.h"
#include "api/api.h"
#include "api/remote_params.h"
#include "api/vim_errors.h"
#include "util/text.h"

#define IDENTITY_MAX_CHARS 50
#define IDENTITY_MAX_BYTES (IDENTITY_MAX_CHARS * 4)

VixError fvx_check_identity(const char *fn, const char *identity)
{
  size_t len;

  if (!identity || !*identity) {
    fvx_error("%s: identity is %s: pass a short name of the calling "
              "application (1 to %d characters)", fn,
              identity ? "empty" : "NULL", IDENTITY_MAX_CHARS);
    return VIX_E_INVALID_ARG;
  }
  len = strnlen(identity, IDENTITY_MAX_BYTES + 1);
  if (len <= IDENTITY_MAX_BYTES && !fvx_utf8_valid(identity, len)) {
    fvx_error("%s: identity is not valid UTF-8", fn);
    return VIX_E_INVALID_UTF8_STRING;
  }
  if (len > IDENTITY_MAX_BYTES || fvx_utf8_length(identity) > IDENTITY_MAX_CHARS) {
    fvx_error("%s: identity is longer than %d characters; it is not "
              "truncated, because it names the disable on vCenter",
              fn, IDENTITY_MAX_CHARS);
    return VIX_E_ARGUMENT_TOO_BIG;
  }
  return VIX_OK;
}

typedef int access_fn(const struct access_conninfo *ci, const char *identity,
                      struct access_result *res);

static VixError run(const char *fn, access_fn *op,
                    const VixDiskLibConnectParams *params, const char *identity)
{
  struct access_conninfo ci;
  struct access_result res;
  VixError err;

  fvx_debug("%s(server=%s, vmxSpec=%s, identity=%.200s)", fn,
            params && params->serverName ? params->serverName : "(null)",
            params && params->vmxSpec ? params->vmxSpec : "(null)",
            identity ? identity : "(null)");
  err = fvx_remote_begin(fn, params, &ci);
  if (err)
    return err;
  err = fvx_check_identity(fn, identity);
  if (err)
    return err;
  if (op(&ci, identity, &res) != ACCESS_OK)
    return fvx_map_access_result(fn, &res);
  return VIX_OK;
}

/*
 * The external interface.
 */

VixError VixDiskLib_PrepareForAccess(const VixDiskLibConnectParams *connectParams,
                                     const char *identity)
{
  return run("VixDiskLib_PrepareForAccess", access_prepare, connectParams,
             identity);
}

VixError VixDiskLib_EndAccess(const VixDiskLibConnectParams *connectParams,
                              const char *identity)
{
  return run("VixDiskLib_EndAccess", access_end, connectParams, identity);
}
