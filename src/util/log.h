/*
 * log.h -- the one place every layer sends its messages.
 *
 * Lower layers (vim/, disk/, access/) call fvx_log(); they do not know about
 * VixDiskLib's log/warn/panic callbacks.  The api layer installs a sink at
 * InitEx that routes each level to the matching callback; before that (and in
 * unit tests) messages go to stderr.  Messages are one line, without a
 * trailing newline, and never contain secrets: callers mask passwords and
 * cookies before formatting.
 *
 * Thread-safe: the sink is swapped under a lock and called under a read lock,
 * so a sink may be invoked from several threads at once.
 */
#ifndef FVX_UTIL_LOG_H
#define FVX_UTIL_LOG_H

#include <stdarg.h>

enum fvx_log_level {
  FVX_LOG_DEBUG,  /* call tracing, routine detail: VixDiskLib "log" callback */
  FVX_LOG_INFO,   /* noteworthy but expected: "log" callback */
  FVX_LOG_WARN,   /* something the user should act on: "warn" callback */
  FVX_LOG_ERROR,  /* an operation failed: "warn" callback */
};

/* A sink receives one formatted line (no newline).  'msg' lives only for the
 * duration of the call. */
typedef void fvx_log_sink_fn(void *opaque, enum fvx_log_level level,
                             const char *msg);

/* Installs 'sink' (NULL restores the stderr default).  Returns nothing; can't
 * fail. */
void fvx_log_set_sink(fvx_log_sink_fn *sink, void *opaque);

/* Minimum level passed to the sink (default FVX_LOG_INFO; FREEVIX_DEBUG=1 in
 * the environment, or the config key "freevix.debug", lowers it to DEBUG). */
void fvx_log_set_level(enum fvx_log_level min);
int fvx_log_enabled(enum fvx_log_level level);

/* Forgets a level set with fvx_log_set_level: the next message decides
 * again from FREEVIX_DEBUG (what VixDiskLib_Exit does, so a
 * "freevix.debug" of one InitEx does not outlive its Exit).  Can't fail. */
void fvx_log_reset_level(void);

void fvx_log(enum fvx_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void fvx_logv(enum fvx_log_level level, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

#define fvx_debug(...) fvx_log(FVX_LOG_DEBUG, __VA_ARGS__)
#define fvx_info(...) fvx_log(FVX_LOG_INFO, __VA_ARGS__)
#define fvx_warn(...) fvx_log(FVX_LOG_WARN, __VA_ARGS__)
#define fvx_error(...) fvx_log(FVX_LOG_ERROR, __VA_ARGS__)

#endif
