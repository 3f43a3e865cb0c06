/*
 * pool.h -- the vCenter session pool between InitEx and Exit.
 *
 * PrepareForAccess takes connection parameters, not a connection, so VDDK
 * logs in for every call.  freevix keeps logged-in sessions, keyed by
 * server, port, user, thumbprint and (a hash of) the password or cookie, so
 * a warm PrepareForAccess or EndAccess costs one round trip.  A caller
 * checks a session out (exclusive use), then checks it back in.  Expired
 * sessions log in again transparently inside src/vim; sessions that fail
 * for other reasons are not returned to the pool.
 */
#ifndef FVX_ACCESS_POOL_H
#define FVX_ACCESS_POOL_H

#include <stdbool.h>

#include "access/access.h"

/* Opens a new, logged-in session for ci that is not part of the pool (the
 * caller frees it with vim_session_free, which logs out).  Fetches the
 * ServiceContent.  Returns ACCESS_OK or fills res. */
int pool_open_session(const struct access_conninfo *ci,
                      struct vim_session **out, struct access_result *res);

/* Takes an idle pooled session for ci, or opens one.  Returns ACCESS_OK
 * with *out set, or fills res (ACCESS_E_SHUTDOWN after access_shutdown). */
int pool_checkout(const struct access_conninfo *ci, struct vim_session **out,
                  struct access_result *res);

/* Gives s back.  reusable = false (or a full pool, or shutdown) logs it out
 * and frees it instead.  s may be NULL. */
void pool_checkin(const struct access_conninfo *ci, struct vim_session *s,
                  bool reusable);

/* A copy of the reasonId InitEx configured (freevix.reasonId, else the
 * default), taken under the pool's lock so that a concurrent Exit cannot
 * free it under the caller; the default after Exit.  The caller frees it
 * with free(); NULL when out of memory. */
char *pool_reason_dup(void);

/* What a data connection (datastore HTTPS, NFC) needs of the settings,
 * copied under the pool's lock: the same certificate policy and connect
 * timeout as the SOAP sessions.  ACCESS_OK, ACCESS_E_SHUTDOWN after
 * access_shutdown, ACCESS_E_NOMEM when the CA path does not fit. */
struct pool_net {
  char ca_file[4096];   /* "" for none */
  bool insecure, allow_http;
  long connect_timeout_ms;
};
int pool_net_settings(struct pool_net *out);

/* Fills res for a failed vim call: status ACCESS_E_VIM plus the error. */
int access_fail_vim(struct access_result *res, const struct vim_error *err);

/* Fills res with a status and a formatted detail line; returns status. */
int access_fail(struct access_result *res, enum access_status status,
                const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
