/*
 * log.c -- level filter and pluggable sink for every message of the library.
 *
 * Messages are formatted into a fixed 1 KiB stack buffer (longer ones are cut
 * with "..." rather than allocated: logging must work when memory is short),
 * trailing newlines are trimmed, then handed to the sink.
 */
#include "util/log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FVX_LOG_LINE_MAX 1024

static pthread_rwlock_t sink_lock = PTHREAD_RWLOCK_INITIALIZER;
static fvx_log_sink_fn *sink_fn;
static void *sink_opaque;
static int min_level = -1; /* -1: not decided yet, read FREEVIX_DEBUG */

static const char *level_name(enum fvx_log_level level)
{
  switch (level) {
  case FVX_LOG_DEBUG:
    return "debug";
  case FVX_LOG_INFO:
    return "info";
  case FVX_LOG_WARN:
    return "warning";
  case FVX_LOG_ERROR:
    return "error";
  }
  return "?";
}

static void stderr_sink(void *opaque, enum fvx_log_level level, const char *msg)
{
  (void)opaque;
  fprintf(stderr, "freevix: %s: %s\n", level_name(level), msg);
}

void fvx_log_set_sink(fvx_log_sink_fn *sink, void *opaque)
{
  pthread_rwlock_wrlock(&sink_lock);
  sink_fn = sink;
  sink_opaque = opaque;
  pthread_rwlock_unlock(&sink_lock);
}

void fvx_log_set_level(enum fvx_log_level min)
{
  __atomic_store_n(&min_level, (int)min, __ATOMIC_RELAXED);
}

void fvx_log_reset_level(void)
{
  __atomic_store_n(&min_level, -1, __ATOMIC_RELAXED);
}

int fvx_log_enabled(enum fvx_log_level level)
{
  int min = __atomic_load_n(&min_level, __ATOMIC_RELAXED);

  if (min < 0) {
    const char *env = getenv("FREEVIX_DEBUG");

    min = (env && *env && strcmp(env, "0") != 0) ? FVX_LOG_DEBUG : FVX_LOG_INFO;
    __atomic_store_n(&min_level, min, __ATOMIC_RELAXED);
  }
  return (int)level >= min;
}

void fvx_logv(enum fvx_log_level level, const char *fmt, va_list ap)
{
  char line[FVX_LOG_LINE_MAX];
  int n;
  size_t len;

  if (!fvx_log_enabled(level))
    return;
  n = vsnprintf(line, sizeof line, fmt, ap);
  if (n < 0)
    return;
  if ((size_t)n >= sizeof line)
    memcpy(line + sizeof line - 4, "...", 4);
  len = strlen(line);
  while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
    line[--len] = '\0';

  pthread_rwlock_rdlock(&sink_lock);
  if (sink_fn)
    sink_fn(sink_opaque, level, line);
  else
    stderr_sink(NULL, level, line);
  pthread_rwlock_unlock(&sink_lock);
}

void fvx_log(enum fvx_log_level level, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  fvx_logv(level, fmt, ap);
  va_end(ap);
}
