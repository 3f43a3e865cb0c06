/*
 * nfc_error.c -- the NFC client's statuses: one sentence per status and
 * the one-line detail of struct nfc_error.
 *
 * Statuses are only ever added (curl's rule); the detail says what failed
 * and never holds the ticket's session id.
 */
#include "nfc/nfc_internal.h"

#include <stdarg.h>
#include <string.h>

#include "util/text.h"

const char *nfc_status_str(int status)
{
  switch (status) {
  case NFC_OK: return "success";
  case NFC_E_NOMEM: return "out of memory";
  case NFC_E_ARG: return "invalid argument";
  case NFC_E_RESOLVE: return "host name does not resolve";
  case NFC_E_CONNECT: return "connection refused, reset or lost";
  case NFC_E_TLS: return "TLS handshake failed";
  case NFC_E_PIN: return "host certificate does not match the thumbprint";
  case NFC_E_TIMEOUT: return "no answer in time";
  case NFC_E_AUTH: return "the host refused the ticket";
  case NFC_E_PROTOCOL: return "malformed or unexpected NFC message";
  case NFC_E_SERVER: return "the host answered with an NFC error";
  case NFC_E_READONLY: return "the file is open read-only";
  case NFC_E_LOCKED: return "the file is locked";
  case NFC_E_NOTFOUND: return "no such file";
  case NFC_E_RANGE: return "offset or length outside the disk or misaligned";
  }
  return "unrecognised NFC status";
}

int nfc_fail(struct nfc_error *err, int status, const char *fmt, ...)
{
  va_list ap;

  if (!err)
    return status;
  err->status = status;
  va_start(ap, fmt);
  fvx_vformat_line(err->detail, sizeof err->detail, fmt, ap);
  va_end(ap);
  return status;
}

void nfc_error_clear(struct nfc_error *err)
{
  if (err)
    memset(err, 0, sizeof *err);
}
