/*
 * backup_sample.c -- the backup loop of VMware's VDDK programming guide
 * ("Prepare For Access and End Access"), written against vixDiskLib.h:
 *
 *   PrepareForAccess, retried up to 10 times, 60 s apart, while another
 *   source (typically a Storage vMotion) holds the VM; then snapshot the VM,
 *   read its disks, remove the snapshot, and EndAccess on every path:
 *   success, errors, SIGINT and SIGTERM.
 *
 * The snapshot calls are freevix extensions (a VDDK program would use the
 * vSphere SDK for them).  Usage:
 *
 *   FREEVIX_PASSWORD=... backup_sample HOST[:PORT] USER VMXSPEC THUMBPRINT
 *
 * BACKUP_SAMPLE_RETRY_SECONDS overrides the 60 s interval (for tests).
 * Exit status: 0 on success, 1 on failure, 130/143 after SIGINT/SIGTERM
 * (access ended in every case).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "freevix.h"
#include "vixDiskLib.h"

#define IDENTITY "backup_sample"
#define MAX_RETRIES 10
#define DEFAULT_RETRY_SECONDS 60

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
  stop_signal = sig;
}

static void warn_func(const char *fmt, va_list args)
{
  fprintf(stderr, "backup_sample: ");
  vfprintf(stderr, fmt, args);
  fprintf(stderr, "\n");
}

static void print_error(const char *what, VixError err)
{
  char *text = VixDiskLib_GetErrorText(err, NULL);

  fprintf(stderr, "backup_sample: %s: %s (%llu)\n", what, text ? text : "?",
          (unsigned long long)err);
  VixDiskLib_FreeErrorText(text);
}

/* Sleeps up to 'seconds', waking early for a signal. */
static void pause_for(unsigned seconds)
{
  while (seconds-- > 0 && !stop_signal)
    sleep(1);
}

static VixError prepare_with_retries(const VixDiskLibConnectParams *params,
                                     unsigned retry_seconds)
{
  VixError err = VIX_E_FAIL;
  int i;

  for (i = 0; i < MAX_RETRIES && !stop_signal; i++) {
    err = VixDiskLib_PrepareForAccess(params, IDENTITY);
    if (err != VMODL_TYPE_VIM_FAULT_METHOD_ALREADY_DISABLED_FAULT)
      break;
    printf("PrepareForAccess: the VM is held by another source; retry %d/%d "
           "in %u s\n", i + 1, MAX_RETRIES, retry_seconds);
    fflush(stdout);
    pause_for(retry_seconds);
  }
  return err;
}

int main(int argc, char **argv)
{
  VixDiskLibConnectParams params;
  const char *retry_env = getenv("BACKUP_SAMPLE_RETRY_SECONDS");
  unsigned retry_seconds = retry_env ? (unsigned)atoi(retry_env)
                                     : DEFAULT_RETRY_SECONDS;
  char host[256], *colon;
  char *snapshot = NULL;
  VixError err;
  int status = 1;
  struct sigaction sa;

  if (argc != 5 || !getenv("FREEVIX_PASSWORD")) {
    fprintf(stderr, "usage: FREEVIX_PASSWORD=... %s HOST[:PORT] USER VMXSPEC "
            "THUMBPRINT\n", argv[0]);
    return 2;
  }
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);

  memset(&params, 0, sizeof params);
  snprintf(host, sizeof host, "%s", argv[1]);
  colon = strrchr(host, ':');
  if (colon) {
    *colon = '\0';
    params.port = (uint32)atoi(colon + 1);
  }
  params.serverName = host;
  params.credType = VIXDISKLIB_CRED_UID;
  params.creds.uid.userName = argv[2];
  params.creds.uid.password = getenv("FREEVIX_PASSWORD");
  params.vmxSpec = argv[3];
  params.thumbPrint = argv[4];

  err = VixDiskLib_InitEx(7, 0, NULL, warn_func, NULL, NULL, NULL);
  if (VIX_FAILED(err)) {
    print_error("InitEx", err);
    return 1;
  }

  err = prepare_with_retries(&params, retry_seconds);
  if (VIX_FAILED(err)) {
    print_error("PrepareForAccess", err);
    goto end_access; /* harmless if nothing was disabled: crash cleanup */
  }
  printf("PrepareForAccess: migration of the VM is disabled\n");
  fflush(stdout);

  err = freevix_snapshot_create(&params, "backup_sample", 600, &snapshot);
  if (VIX_FAILED(err)) {
    print_error("snapshot", err);
    goto end_access;
  }
  printf("snapshot %s taken; reading the disks\n", snapshot);
  fflush(stdout);
  /* Disk reads happen here (VixDiskLib_Open on the snapshot's disks); the
   * simulator has no disk contents, so the sample waits instead, which is
   * also where a test sends SIGTERM. */
  pause_for(getenv("BACKUP_SAMPLE_READ_SECONDS")
                ? (unsigned)atoi(getenv("BACKUP_SAMPLE_READ_SECONDS"))
                : 0);

  err = freevix_snapshot_remove(&params, snapshot, 600);
  if (VIX_FAILED(err))
    print_error("snapshot removal", err);
  else
    printf("snapshot %s removed\n", snapshot);
  if (!stop_signal && VIX_SUCCEEDED(err))
    status = 0;

end_access:
  freevix_free(snapshot);
  err = VixDiskLib_EndAccess(&params, IDENTITY);
  if (VIX_FAILED(err)) {
    print_error("EndAccess", err);
    status = 1;
  } else {
    printf("EndAccess: migration of the VM is allowed again\n");
  }
  VixDiskLib_Exit();
  if (stop_signal)
    return 128 + stop_signal;
  return status;
}
