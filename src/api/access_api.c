/*
 * access_api.c -- VixDiskLib_PrepareForAccess / VixDiskLib_EndAccess.
 *
 * Thin: checks the identity and the params, delegates to the access layer
 * (src/access/prepare.c), maps the outcome.  The identity rules:
 *   - NULL or empty                 VIX_E_INVALID_ARG
 *   - not valid UTF-8               VIX_E_INVALID_UTF8_STRING
 *   - more than 50 characters       VIX_E_ARGUMENT_TOO_BIG (the log line
 *                                   gives its length and the limit)
 * It is rejected rather than cut, because it becomes the sourceId of the
 * disable: two identities sharing a 50-character prefix must never be able
 * to re-enable each other's protection.
 */
#include <string.h>

#include "access/access.h"
#include "api/api.h"
#include "api/remote_params.h"
#include "api/vim_errors.h"
#include "freevix.h"
#include "util/text.h"

#define IDENTITY_MAX_CHARS FREEVIX_IDENTITY_MAX_CHARS
/* Identities are checked (UTF-8, counted) up to this many bytes; longer
 * ones are refused as too long without a closer look. */
#define IDENTITY_SCAN_MAX 65536

/* The identity rules without a log line; *chars (may be NULL) receives
 * its length in characters (or, past IDENTITY_SCAN_MAX bytes, in bytes). */
static VixError identity_rules(const char *identity, size_t *chars)
{
  size_t len;

  if (chars)
    *chars = 0;
  if (!identity || !*identity)
    return VIX_E_INVALID_ARG;
  len = strnlen(identity, IDENTITY_SCAN_MAX + 1);
  if (len > IDENTITY_SCAN_MAX) {
    if (chars)
      *chars = len;
    return VIX_E_ARGUMENT_TOO_BIG;
  }
  if (!fvx_utf8_valid(identity, len))
    return VIX_E_INVALID_UTF8_STRING;
  len = fvx_utf8_length(identity);
  if (chars)
    *chars = len;
  return len > IDENTITY_MAX_CHARS ? VIX_E_ARGUMENT_TOO_BIG : VIX_OK;
}

VixError fvx_check_identity(const char *fn, const char *identity)
{
  size_t chars;
  VixError err = identity_rules(identity, &chars);

  switch (err) {
  case VIX_OK:
    break;
  case VIX_E_INVALID_ARG:
    fvx_error("%s: identity is %s: pass a short name of the calling "
              "application (1 to %d characters)", fn,
              identity ? "empty" : "NULL", IDENTITY_MAX_CHARS);
    break;
  case VIX_E_INVALID_UTF8_STRING:
    fvx_error("%s: identity is not valid UTF-8", fn);
    break;
  default:
    fvx_error("%s: identity is %s%zu characters long, longer than the limit "
              "of %d; it is not truncated, because it names the disable on "
              "vCenter", fn, chars > IDENTITY_SCAN_MAX ? "over " : "",
              chars > IDENTITY_SCAN_MAX ? (size_t)IDENTITY_SCAN_MAX : chars,
              IDENTITY_MAX_CHARS);
  }
  return err;
}

VixError freevix_check_identity(const char *identity, uint32 *numChars)
{
  size_t chars;
  VixError err = identity_rules(identity, &chars);

  if (numChars)
    *numChars = (uint32)chars;
  return err;
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
