/*
 * common.c -- library set-up, error reporting and exit codes for the
 * freevix command, and what prepare/end/run/status share: opening an
 * access handle with a wait display, printing per-VM results.
 */
#include <limits.h>
#include <signal.h>
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
  /* The library's configuration file (docs/config.md), as VDDK programs
   * pass one to InitEx: transport settings such as freevix.connectTo. */
  const char *config = getenv("FREEVIX_CONFIG");
  VixError err;

  if (o->insecure && freevix_set_config("freevix.insecure", "1") != VIX_OK)
    return false;
  err = VixDiskLib_InitEx(VIXDISKLIB_VERSION_MAJOR, VIXDISKLIB_VERSION_MINOR,
                          cli_log, cli_warn, NULL, NULL,
                          config && *config ? config : NULL);
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
  case VIX_E_DUPLICATE_NAME:
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

int cli_check_identity(const char *cmd, const char *identity)
{
  uint32 chars = 0;

  switch (freevix_check_identity(identity, &chars)) {
  case VIX_OK:
    return EXIT_OK;
  case VIX_E_INVALID_UTF8_STRING:
    fprintf(stderr, "freevix %s: --identity is not valid UTF-8\n", cmd);
    break;
  case VIX_E_ARGUMENT_TOO_BIG:
    fprintf(stderr, "freevix %s: --identity \"%.60s...\" is %s%u characters "
            "long; the limit is %d (it becomes the disable's sourceId on "
            "vCenter and is never cut)\n", cmd, identity,
            chars > 65536 ? "over " : "", chars > 65536 ? 65536 : chars,
            FREEVIX_IDENTITY_MAX_CHARS);
    break;
  default:
    fprintf(stderr, "freevix %s: --identity is empty\n", cmd);
  }
  return EXIT_USAGE;
}

/* One VM that did not resolve: a line (and its candidates), or a JSON
 * object. */
static void print_unresolved(const struct cli_opts *o, const char *cmd,
                             const char *vm, const freevix_vm_match *m)
{
  char *text = VixDiskLib_GetErrorText(m->error, NULL);

  if (o->json) {
    fputs("{\"vm\":", stdout);
    cli_json_string(stdout, vm);
    printf(",\"ok\":false,\"found\":false,\"error\":%llu,\"text\":",
           (unsigned long long)m->error);
    cli_json_string(stdout, text);
    printf(",\"candidates\":[");
    for (uint32 k = 0; k < m->numListed; k++) {
      const char *c = m->candidates[k], *sp = strchr(c, ' ');
      char moref[96];

      snprintf(moref, sizeof moref, "%.*s", sp ? (int)(sp - c) : (int)strlen(c),
               c);
      fputs(k ? ",{\"moref\":" : "{\"moref\":", stdout);
      cli_json_string(stdout, moref);
      fputs(",\"path\":", stdout);
      cli_json_string(stdout, sp ? sp + 1 : "");
      fputc('}', stdout);
    }
    printf("],\"num_candidates\":%u}\n", m->numCandidates);
  } else if (m->error == VIX_E_DUPLICATE_NAME) {
    fprintf(stderr, "freevix %s: \"%s\" names %u VMs; give one by moref or "
            "inventory path:\n", cmd, vm, m->numCandidates);
    for (uint32 k = 0; k < m->numListed; k++)
      fprintf(stderr, "  %s\n", m->candidates[k]);
    if (m->numListed < m->numCandidates)
      fprintf(stderr, "  ... and %u more\n", m->numCandidates - m->numListed);
  } else if (m->error == VIX_E_VM_NOT_FOUND) {
    fprintf(stderr, "freevix %s: no VM has the %s \"%s\"\n", cmd,
            vm[0] == '/' ? "inventory path" : "name", vm);
  } else {
    fprintf(stderr, "freevix %s: VM \"%s\": %s (a VM is given as vm-42, a "
            "name, an inventory path /DC/vm/folder/name, or a vmxSpec)\n",
            cmd, vm, text ? text : "?");
  }
  VixDiskLib_FreeErrorText(text);
}

int cli_resolve_vms(struct cli_opts *o, const char *cmd)
{
  VixDiskLibConnectParams p;
  VixError err, first = VIX_OK;

  o->specs = calloc(o->n_vms ? o->n_vms : 1, sizeof *o->specs);
  if (!o->specs)
    return EXIT_FAILURE_OTHER;
  cli_params(o, (size_t)-1, &p);
  err = freevix_vm_lookup(&p, o->vms, (uint32)o->n_vms, &o->matches);
  if (!o->matches) {
    cli_report(cmd, "looking up the VMs", err);
    return cli_exit_code(err);
  }
  for (size_t i = 0; i < o->n_vms; i++) {
    o->specs[i] = o->matches[i].vmxSpec;
    if (o->matches[i].error) {
      print_unresolved(o, cmd, o->vms[i], &o->matches[i]);
      if (!first)
        first = o->matches[i].error;
    }
  }
  return first ? cli_exit_code(first) : EXIT_OK;
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

void cli_sweep_hint(const struct cli_opts *o, char *out, size_t n)
{
  char port[32] = "", dir[4200] = "";

  if (o->port)
    snprintf(port, sizeof port, " --port %u", o->port);
  if (o->state_dir)
    snprintf(dir, sizeof dir, " --state-dir %s", o->state_dir);
  snprintf(out, n, "freevix sweep --server %s%s --user %s%s", o->server,
           port, o->user, dir);
}

bool cli_absolute_path(const char *path, char *out, size_t n)
{
  char cwd[PATH_MAX];

  if (path[0] == '/')
    return snprintf(out, n, "%s", path) < (int)n;
  if (!getcwd(cwd, sizeof cwd))
    return false;
  return snprintf(out, n, "%s/%s", cwd, path) < (int)n;
}

static volatile sig_atomic_t stop_signal;

static void on_stop_signal(int sig)
{
  if (!stop_signal)
    stop_signal = sig;
}

void cli_on_stop_signals(void (*handler)(int))
{
  struct sigaction sa;

  memset(&sa, 0, sizeof sa);
  sa.sa_handler = handler;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigaction(SIGHUP, &sa, NULL);
}

volatile sig_atomic_t *cli_catch_stop_signals(void)
{
  cli_on_stop_signals(on_stop_signal);
  return &stop_signal;
}
