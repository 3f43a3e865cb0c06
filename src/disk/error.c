/*
 * error.c -- the disk layer's thread-local failure record (error.h).
 *
 * A minimal implementation written on the nfc-client branch because the
 * disk-seam branch had not landed one yet; it follows error.h exactly.
 */
#include "disk/error.h"

#include <stdarg.h>
#include <string.h>

#include "util/text.h"

static _Thread_local struct disk_error last;

static int record(int status, long http_status, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static int record(int status, long http_status, const char *fmt, va_list ap)
{
  last.status = status;
  last.http_status = http_status;
  fvx_vformat_line(last.detail, sizeof last.detail, fmt, ap);
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
