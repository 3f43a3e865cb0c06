/*
 * status.c -- status sentences, the error struct, and MoRef helpers.
 *
 * One switch gives each vim_status a short sentence (curl's strerror.c
 * habit); vim_fail() is the single place that fills a struct vim_error, so
 * every failure path reports status and detail together.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/text.h"
#include "vim/internal.h"

const char *vim_status_str(int status)
{
  switch ((enum vim_status)status) {
  case VIM_OK: return "no error";
  case VIM_E_NOMEM: return "out of memory";
  case VIM_E_INVALID_ARG: return "invalid argument";
  case VIM_E_RESOLVE: return "host name does not resolve";
  case VIM_E_CONNECT: return "cannot connect to the server";
  case VIM_E_TLS: return "TLS handshake failed";
  case VIM_E_THUMBPRINT: return "server certificate does not match the thumbprint";
  case VIM_E_CERT: return "server certificate verification failed";
  case VIM_E_TIMEOUT: return "the server did not answer in time";
  case VIM_E_HTTP: return "unexpected HTTP answer";
  case VIM_E_PROTOCOL: return "malformed SOAP answer";
  case VIM_E_TOO_BIG: return "answer exceeds the size or depth limit";
  case VIM_E_FAULT: return "the server returned a fault";
  case VIM_E_NOT_FOUND: return "object not found";
  case VIM_E_SESSION_LOST: return "session lost together with its session-scoped disables";
  case VIM_E_TASK: return "the task failed";
  case VIM_E_DEADLINE: return "deadline passed";
  }
  return "unknown vim status";
}

void vim_error_clear(struct vim_error *err)
{
  if (err)
    memset(err, 0, sizeof *err);
}

static int vfail(struct vim_error *err, int status, const char *fmt,
                 va_list ap)
{
  if (!err)
    return status;
  err->status = (enum vim_status)status;
  vsnprintf(err->detail, sizeof err->detail, fmt, ap);
  /* One line: a server's text may carry newlines. */
  for (char *p = err->detail; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  return status;
}

int vim_fail(struct vim_error *err, int status, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  status = vfail(err, status, fmt, ap);
  va_end(ap);
  return status;
}

int vim_error_set(struct vim_error *err, int status, const char *fmt, ...)
{
  va_list ap;

  vim_error_clear(err);
  va_start(ap, fmt);
  status = vfail(err, status, fmt, ap);
  va_end(ap);
  return status;
}

bool vim_moref_set(struct vim_moref *out, const char *type, const char *value)
{
  struct vim_moref tmp;

  if (!type || !value || !*type || !*value)
    return false;
  if (!fvx_strlcpy(tmp.type, type, sizeof tmp.type) ||
      !fvx_strlcpy(tmp.value, value, sizeof tmp.value))
    return false;
  *out = tmp;
  return true;
}

int vim_moref_parse(struct vim_moref *out, const char *s)
{
  const char *colon;
  char type[sizeof out->type];
  size_t tl;

  if (!out || !s)
    return VIM_E_INVALID_ARG;
  colon = strchr(s, ':');
  if (!colon)
    return VIM_E_INVALID_ARG;
  tl = (size_t)(colon - s);
  if (tl == 0 || tl >= sizeof type)
    return VIM_E_INVALID_ARG;
  memcpy(type, s, tl);
  type[tl] = '\0';
  return vim_moref_set(out, type, colon + 1) ? VIM_OK : VIM_E_INVALID_ARG;
}
