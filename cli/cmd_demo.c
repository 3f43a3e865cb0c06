/*
 * cmd_demo.c -- `freevix demo`: the whole PrepareForAccess / EndAccess
 * story against the simulator, narrated step by step.
 *
 *  1. a Storage vMotion of the VM is running (started on another session);
 *  2. PrepareForAccess meets MethodAlreadyDisabledFault, retries the way the
 *     VDDK guide's sample does (every second here, every 60 s there) and
 *     succeeds once the move ends;
 *  3. a migration from another session is refused, naming the identity;
 *  4. a snapshot is taken and removed (where a backup reads the disks);
 *  5. EndAccess; 6. the migration now succeeds;
 *  7. the same PrepareForAccess against an ESXi host gets VDDK's message.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "simproc.h"

#define IDENTITY "freevix-demo"
#define VMX "DC0_H0_VM0/DC0_H0_VM0.vmx?dcPath=DC0&dsName=LocalDS_0"
#define SVMOTION_SECONDS "4"
#define RETRY_SECONDS 1
#define RETRIES 10

static char last_warning[1024];

/* The library's warnings, indented under the current step. */
static void demo_warn(const char *fmt, va_list ap)
{
  vsnprintf(last_warning, sizeof last_warning, fmt, ap);
  printf("      library says: %s\n", last_warning);
}

static void demo_log(const char *fmt, va_list ap)
{
  (void)fmt;
  (void)ap;
}

static void step(int n, const char *text)
{
  printf("\n[%d] %s\n", n, text);
  fflush(stdout);
}

static void params_for(const struct simproc *sim, VixDiskLibConnectParams *p)
{
  memset(p, 0, sizeof *p);
  p->serverName = (char *)sim->host;
  p->port = sim->port;
  p->thumbPrint = (char *)sim->thumbprint_sha1;
  p->credType = VIXDISKLIB_CRED_UID;
  p->creds.uid.userName = (char *)"admin";
  p->creds.uid.password = (char *)"freevix";
  p->vmxSpec = (char *)VMX;
}

struct mover {
  VixDiskLibConnectParams params;
  VixError result;
};

static void *move_vm(void *arg)
{
  struct mover *m = arg;

  m->result = freevix_relocate(&m->params, NULL, 60);
  return NULL;
}

static const char *text_of(VixError err)
{
  static char buf[256];
  char *t = VixDiskLib_GetErrorText(err, NULL);

  snprintf(buf, sizeof buf, "%s (%llu)", t ? t : "?",
           (unsigned long long)VIX_ERROR_CODE(err));
  VixDiskLib_FreeErrorText(t);
  return buf;
}

static int run_demo(const char *sim_path)
{
  static const char *const vc_args[] = {"--relocate-seconds", SVMOTION_SECONDS,
                                        NULL};
  struct simproc vc, esx;
  VixDiskLibConnectParams p;
  struct mover mover;
  pthread_t thread;
  char *snapshot = NULL;
  VixError err;
  int attempt, failures = 0;

  step(0, "Starting freevix-sim as a vCenter on 127.0.0.1");
  if (simproc_start(&vc, sim_path, "vcenter", vc_args) != 0)
    return EXIT_FAILURE_OTHER;
  printf("      https://%s:%u/sdk, certificate SHA-1 %s\n", vc.host, vc.port,
         vc.thumbprint_sha1);
  params_for(&vc, &p);

  step(1, "An operator starts a Storage vMotion of DC0_H0_VM0 "
          "(" SVMOTION_SECONDS " s, on its own session)");
  mover.params = p;
  pthread_create(&thread, NULL, move_vm, &mover);
  /* Let the move reach vCenter first; the demo is about meeting it. */
  usleep(700 * 1000);

  step(2, "Backup calls VixDiskLib_PrepareForAccess(identity \"" IDENTITY
          "\"), retrying like the VDDK guide's sample");
  for (attempt = 1; attempt <= RETRIES; attempt++) {
    err = VixDiskLib_PrepareForAccess(&p, IDENTITY);
    if (err != VMODL_TYPE_VIM_FAULT_METHOD_ALREADY_DISABLED_FAULT)
      break;
    printf("      attempt %d: RelocateVM_Task is held by a Storage vMotion; "
           "retrying in %d s\n", attempt, RETRY_SECONDS);
    sleep(RETRY_SECONDS);
  }
  pthread_join(thread, NULL);
  if (err != VIX_OK) {
    printf("      PrepareForAccess failed: %s\n", text_of(err));
    failures++;
  } else {
    printf("      attempt %d: PrepareForAccess succeeded: the VM cannot be "
           "migrated now\n", attempt);
  }
  printf("      (the Storage vMotion itself finished: %s)\n",
         text_of(mover.result));

  step(3, "The operator tries to migrate the VM again, from another session");
  err = freevix_relocate(&p, NULL, 60);
  if (err == VIX_E_OBJECT_IS_BUSY) {
    printf("      refused, as it should be: %s\n", text_of(err));
  } else {
    printf("      unexpected: %s\n", text_of(err));
    failures++;
  }

  step(4, "Backup takes a snapshot, reads the disks, removes the snapshot");
  err = freevix_snapshot_create(&p, "freevix-demo-backup", 60, &snapshot);
  if (err == VIX_OK) {
    printf("      snapshot %s created\n", snapshot);
    err = freevix_snapshot_remove(&p, snapshot, 60);
    printf("      snapshot %s removed: %s\n", snapshot, text_of(err));
    freevix_free(snapshot);
  }
  if (err != VIX_OK) {
    printf("      snapshot failed: %s\n", text_of(err));
    failures++;
  }

  step(5, "Backup calls VixDiskLib_EndAccess(\"" IDENTITY "\")");
  err = VixDiskLib_EndAccess(&p, IDENTITY);
  printf("      %s\n", err == VIX_OK ? "RelocateVM_Task enabled again"
                                      : text_of(err));
  failures += err != VIX_OK;

  step(6, "The operator migrates the VM again");
  err = freevix_relocate(&p, NULL, 60);
  printf("      %s\n", err == VIX_OK ? "migration succeeded" : text_of(err));
  failures += err != VIX_OK;
  simproc_stop(&vc);

  step(7, "The same PrepareForAccess against an ESXi host (HostAgent)");
  if (simproc_start(&esx, sim_path, "esx", NULL) != 0)
    return EXIT_FAILURE_OTHER;
  params_for(&esx, &p);
  p.vmxSpec = (char *)"moref=vm-1";
  last_warning[0] = '\0';
  err = VixDiskLib_PrepareForAccess(&p, IDENTITY);
  printf("      returned: %s\n", text_of(err));
  failures += err != VIX_E_NOT_SUPPORTED ||
              strcmp(last_warning, "HostAgent is not a vCenter, cannot "
                                   "deactivate svMotion.") != 0;
  simproc_stop(&esx);

  printf("\n%s\n", failures ? "demo: something went wrong (see above)"
                            : "demo: every step behaved as expected");
  return failures ? EXIT_FAILURE_OTHER : EXIT_OK;
}

int cmd_demo(int argc, char **argv)
{
  struct cli_opts o;
  int rc;

  if (!cli_parse(argc, argv, "demo", "sim", &o)) {
    cli_opts_free(&o);
    return EXIT_USAGE;
  }
  if (o.help) {
    printf("usage: freevix demo [--sim PATH-TO-freevix-sim]\n"
           "Without --sim: $FREEVIX_SIM, else freevix-sim from $PATH.\n");
    cli_opts_free(&o);
    return EXIT_OK;
  }
  if (!o.sim)
    o.sim = getenv("FREEVIX_SIM") ? getenv("FREEVIX_SIM") : "freevix-sim";
  setvbuf(stdout, NULL, _IOLBF, 0);
  if (VixDiskLib_InitEx(VIXDISKLIB_VERSION_MAJOR, VIXDISKLIB_VERSION_MINOR,
                        demo_log, demo_warn, NULL, NULL, NULL) != VIX_OK) {
    cli_opts_free(&o);
    return EXIT_FAILURE_OTHER;
  }
  rc = run_demo(o.sim);
  VixDiskLib_Exit();
  cli_opts_free(&o);
  return rc;
}
