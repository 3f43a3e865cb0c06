/*
 * common.c -- library set-up, error reporting and exit codes for the
 * freevix command.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
