/*
 * error.c -- the disk layer's per-thread error detail (error.h): the last
 * failure's status and its one-line detail, recorded where the failure is
 * found and read once by the layer above.
 *
 * The record is a thread-local struct; formatting is cut at the detail's
 * size and newlines are replaced by blanks so the detail stays one line.
 */
#include "disk/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local struct disk_error last;

static int record(int status, long http_status, const char *fmt, va_list ap)
{
  char *p;

  last.status = status;
  last.http_status = http_status;
  vsnprintf(last.detail, sizeof last.detail, fmt, ap);
  for (p = last.detail; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  return status;
}

int disk_fail(int status, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  record(status, 0, fmt, ap);
  va_end(ap);
  return status;
}

int disk_fail_http(int status, long http_status, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  record(status, http_status, fmt, ap);
  va_end(ap);
  return status;
}

const struct disk_error *disk_last_error(void)
{
  return &last;
}

void disk_error_clear(void)
{
  memset(&last, 0, sizeof last);
}
