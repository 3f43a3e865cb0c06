/*
 * common.c -- library set-up, error reporting and exit codes for the
 * freevix command, and what prepare/end/run/status share: opening an
 * access handle with a wait display, printing per-VM results.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int verbose = -1;

static bool is_verbose(void)
{
  if (verbose < 0) {
    const char *d = getenv("FREEVIX_DEBUG");

    verbose = d && *d && strcmp(d, "0") != 0;
  }
  return verbose;
}

/* Library messages: warnings always, the rest only when debugging. */
static void cli_log(const char *fmt, va_list ap)
{
  if (!is_verbose())
    return;
  fputs("freevix: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

static void cli_warn(const char *fmt, va_list ap)
{
  fputs("freevix: ", stderr);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

bool cli_init_library(const struct cli_opts *o)
{
  VixError err;

  if (o->insecure && freevix_set_config("freevix.insecure", "1") != VIX_OK)
    return false;
  err = VixDiskLib_InitEx(VIXDISKLIB_VERSION_MAJOR, VIXDISKLIB_VERSION_MINOR,
                          cli_log, cli_warn, NULL, NULL, NULL);
  if (err != VIX_OK) {
    cli_report("init", "VixDiskLib_InitEx", err);
    return false;
  }
  return true;
}

int cli_exit_code(VixError err)
{
  switch (VIX_ERROR_CODE(err)) {
  case VIX_OK:
    return EXIT_OK;
  case VMODL_TYPE_VIM_FAULT_METHOD_ALREADY_DISABLED_FAULT:
  case VIX_E_OBJECT_IS_BUSY:
    return EXIT_HELD;
  case VIX_E_AUTHENTICATION_FAIL:
  case VIX_E_HOST_USER_PERMISSIONS:
  case VIX_E_INVALID_AUTHENTICATION_SESSION:
    return EXIT_AUTH;
  case VIX_E_HOST_SERVER_NOT_FOUND:
  case VIX_E_HOST_NETWORK_CONN_REFUSED:
  case VIX_E_HOST_NETBLKDEV_HANDSHAKE:
  case VIX_E_HOST_TCP_SOCKET_ERROR:
  case VIX_E_HOST_TCP_CONN_LOST:
  case VIX_E_HOST_CONNECTION_LOST:
  case VIX_E_HOST_NOT_CONNECTED:
  case VIX_E_INVALID_MESSAGE_BODY:
    return EXIT_CONNECT;
  case VIX_E_INVALID_ARG:
  case VIX_E_INVALID_PROPERTY_VALUE:
  case VIX_E_MISSING_REQUIRED_PROPERTY:
  case VIX_E_ARGUMENT_TOO_BIG:
  case VIX_E_INVALID_UTF8_STRING:
    return EXIT_USAGE;
  default:
    return EXIT_FAILURE_OTHER;
  }
}

void cli_report(const char *cmd, const char *what, VixError err)
{
  char *text = VixDiskLib_GetErrorText(err, NULL);

  fprintf(stderr, "freevix %s: %s failed: %s (error %llu)\n", cmd, what,
          text ? text : "?", (unsigned long long)VIX_ERROR_CODE(err));
  VixDiskLib_FreeErrorText(text);
}

void cli_json_string(FILE *f, const char *s)
{
  fputc('"', f);
  for (; s && *s; s++) {
    unsigned char c = (unsigned char)*s;

    if (c == '"' || c == '\\')
      fprintf(f, "\\%c", c);
    else if (c < 0x20)
      fprintf(f, "\\u%04x", c);
    else
      fputc(c, f);
  }
  fputc('"', f);
}

/* The wait display: a bar redrawn in place on a terminal, a plain line at
 * most every two seconds otherwise (logs, CI). */
struct wait_display {
  bool tty;
  uint32 last_ms;
  bool drawn;
};

static struct wait_display wait_display;

static void show_wait(void *data, const char *vm, const char *holder,
                      uint32 waited, uint32 budget, int task)
{
  struct wait_display *d = data;
  char taskbuf[32] = "";

  if (task >= 0)
    snprintf(taskbuf, sizeof taskbuf, ", its task %d%%", task);
  if (d->tty) {
    int width = 24;
    int fill = budget ? (int)((uint64)waited * width / budget) : width;

    if (fill > width)
      fill = width;
    fprintf(stderr, "\r%s held by %.40s%s [%.*s%*s] %.1fs/%.0fs ", vm, holder,
            taskbuf, fill, "########################", width - fill, "",
            waited / 1000.0, budget / 1000.0);
    d->drawn = true;
  } else if (!d->drawn || waited >= d->last_ms + 2000) {
    fprintf(stderr, "freevix: waiting for %s, held by '%s'%s (%.1f s of "
            "%.0f s)\n", vm, holder, taskbuf, waited / 1000.0,
            budget / 1000.0);
    d->last_ms = waited;
    d->drawn = true;
  }
  fflush(stderr);
}

static void lease_lost(void *data, const char *detail)
{
  (void)data;
  fprintf(stderr, "freevix: LEASE LOST: %s -- vCenter dropped the session "
          "and its disables; the VMs may be migrated now\n", detail);
}

unsigned cli_lease_mode(const struct cli_opts *o, unsigned fallback)
{
  if (!o->lease)
    return fallback;
  if (strcmp(o->lease, "session") == 0)
    return FREEVIX_LEASE_SESSION;
  if (strcmp(o->lease, "journal") == 0)
    return FREEVIX_LEASE_JOURNAL;
  return FREEVIX_LEASE_NONE;
}

int cli_access_open(const struct cli_opts *o, const char *cmd,
                    const char *lease, bool process_owned,
                    freevix_access **out)
{
  freevix_access_options ao;
  VixDiskLibConnectParams p;
  VixError err;

  memset(&ao, 0, sizeof ao);
  ao.identity = o->identity;
  ao.reason = o->reason;
  ao.methods = o->methods;
  ao.batchSize = o->batch_size;
  ao.waitMs = (uint32)o->wait_ms;
  ao.lease = cli_lease_mode(o, FREEVIX_LEASE_NONE);
  if (lease)
    ao.lease = cli_lease_mode(o, strcmp(lease, "session") == 0
                                     ? FREEVIX_LEASE_SESSION
                                 : strcmp(lease, "journal") == 0
                                     ? FREEVIX_LEASE_JOURNAL
                                     : FREEVIX_LEASE_NONE);
  ao.ttlSec = (uint32)((o->ttl_ms + 999) / 1000);
  ao.processOwned = process_owned;
  ao.checkPrivileges = 1;
  ao.keepAliveMs = (uint32)o->keepalive_ms;
  ao.stateDir = o->state_dir;
  wait_display.tty = isatty(STDERR_FILENO);
  ao.waitFunc = show_wait;
  ao.leaseLostFunc = lease_lost;
  ao.clientData = &wait_display;
  cli_params(o, (size_t)-1, &p);
  err = freevix_access_open(&p, &ao, out);
  if (err != VIX_OK) {
    cli_report(cmd, "connecting", err);
    return cli_exit_code(err);
  }
  return EXIT_OK;
}

void cli_print_result(const struct cli_opts *o, const char *cmd,
                      const char *spec, const freevix_vm_result *r,
                      bool prepare)
{
  if (wait_display.tty && wait_display.drawn) {
    fputc('\n', stderr);
    wait_display.drawn = false;
  }
  if (o->json) {
    char *text = VixDiskLib_GetErrorText(r->error, NULL);

    fputs("{\"vm\":", stdout);
    cli_json_string(stdout, spec);
    fputs(",\"moref\":", stdout);
    cli_json_string(stdout, r->moref);
    printf(",\"ok\":%s,\"error\":%llu,\"text\":",
           r->error == VIX_OK ? "true" : "false",
           (unsigned long long)r->error);
    cli_json_string(stdout, text);
    fputs(",\"holder\":", stdout);
    cli_json_string(stdout, r->holder);
    printf(",\"already_held\":%s}\n", r->alreadyHeld ? "true" : "false");
    VixDiskLib_FreeErrorText(text);
    return;
  }
  if (r->error == VIX_OK) {
    printf("%s: %s%s\n", spec,
           prepare ? "migration disabled" : "migration allowed",
           prepare && r->alreadyHeld ? " (already held by this identity)"
                                     : "");
  } else if (r->error == VIX_E_CANCELLED) {
    printf("%s: not changed (another VM of the batch failed)\n", spec);
  } else {
    char what[600];

    if (r->holder[0])
      snprintf(what, sizeof what, "%s (held by '%s')", spec, r->holder);
    else
      snprintf(what, sizeof what, "%s", spec);
    cli_report(cmd, what, r->error);
  }
}

int cli_batch_exit(VixError err, const freevix_vm_result *r, size_t n)
{
  size_t ok = 0;
  VixError first = VIX_OK;

  for (size_t i = 0; i < n; i++) {
    if (r[i].error == VIX_OK)
      ok++;
    else if (!first && r[i].error != VIX_E_CANCELLED)
      first = r[i].error;
  }
  if (err == VIX_OK)
    return EXIT_OK;
  if (ok)
    return EXIT_PARTIAL;
  return cli_exit_code(first ? first : err);
}
