/*
 * error.c -- the disk layer's error record (error.h) and the names of its
 * statuses.
 *
 * disk_fail() formats into a stack buffer first and then copies, so a
 * detail may quote the previous one ("%s", disk_last_error()->detail)
 * without overlapping writes; newlines and other control characters become
 * blanks, so the detail is always one line.  The record is thread-local:
 * threads reading one disk concurrently each see their own failures.
 */
#include "disk/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "disk/disk.h"

static _Thread_local struct disk_error last_error;

static int record(int status, long http_status, const char *fmt, va_list ap)
{
  char line[sizeof last_error.detail];
  size_t i;

  if (vsnprintf(line, sizeof line, fmt, ap) < 0)
    snprintf(line, sizeof line, "%s", disk_status_str(status));
  for (i = 0; line[i]; i++)
    if ((unsigned char)line[i] < 0x20 || line[i] == 0x7f)
      line[i] = ' ';
  last_error.status = status;
  last_error.http_status = http_status;
  memcpy(last_error.detail, line, sizeof line);
  return status;
}

int disk_fail(int status, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  status = record(status, 0, fmt, ap);
  va_end(ap);
  return status;
}

int disk_fail_http(int status, long http_status, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  status = record(status, http_status, fmt, ap);
  va_end(ap);
  return status;
}

const struct disk_error *disk_last_error(void)
{
  return &last_error;
}

void disk_error_clear(void)
{
  memset(&last_error, 0, sizeof last_error);
}

const char *disk_status_str(int status)
{
  switch ((enum disk_status)status) {
  case DISK_OK:
    return "success";
  case DISK_E_NOMEM:
    return "out of memory";
  case DISK_E_IO:
    return "I/O error";
  case DISK_E_NOTFOUND:
    return "file not found";
  case DISK_E_ACCESS:
    return "permission denied";
  case DISK_E_EXISTS:
    return "file exists";
  case DISK_E_LOCKED:
    return "disk locked by another writer";
  case DISK_E_READONLY:
    return "disk is read-only";
  case DISK_E_NOSPACE:
    return "no space left";
  case DISK_E_ARG:
    return "invalid argument";
  case DISK_E_RANGE:
    return "sectors out of range";
  case DISK_E_DESCRIPTOR:
    return "invalid descriptor";
  case DISK_E_CORRUPT:
    return "invalid sparse header";
  case DISK_E_NEEDSREPAIR:
    return "damaged sparse metadata";
  case DISK_E_VERSION:
    return "unsupported format version";
  case DISK_E_UNSUPPORTED:
    return "unsupported disk feature";
  case DISK_E_CID:
    return "parent content ID mismatch";
  case DISK_E_CHAIN:
    return "parent chain loops";
  case DISK_E_TOODEEP:
    return "parent chain too long";
  case DISK_E_PARENT:
    return "parent disk missing";
  case DISK_E_KEY:
    return "metadata key not found";
  case DISK_E_TOOSMALL:
    return "buffer too small";
  case DISK_E_TOOBIG:
    return "capacity too large";
  case DISK_E_CANTREPAIR:
    return "damage cannot be repaired";
  case DISK_E_NAME:
    return "unusable file name";
  case DISK_E_CANTSHRINK:
    return "a child disk cannot be shrunk";
  case DISK_E_CAPACITY:
    return "parent and child capacities differ";
  case DISK_E_ROOTLINK:
    return "the child is a base disk, not a redo log";
  case DISK_E_NOTCAPABLE:
    return "the file's source cannot do this";
  case DISK_E_NET_RESOLVE:
    return "host name does not resolve";
  case DISK_E_NET_CONNECT:
    return "cannot reach the host";
  case DISK_E_NET_TLS:
    return "TLS handshake failed";
  case DISK_E_NET_PIN:
    return "certificate does not match the thumbprint";
  case DISK_E_NET_TIMEOUT:
    return "the server did not answer in time";
  case DISK_E_NET_HTTP:
    return "the server answered with an HTTP error";
  case DISK_E_NET_PROTOCOL:
    return "malformed answer from the server";
  case DISK_E_AUTH:
    return "the server refused the credentials or ticket";
  case DISK_E_REMOTE:
    return "the server refused the operation";
  case DISK_E_NOTSEQUENTIAL:
    return "streamOptimized disks are written in increasing sector order";
  }
  return "unknown status";
}
