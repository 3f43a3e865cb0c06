/*
 * cmd_demo.c -- `freevix demo`: the whole PrepareForAccess / EndAccess
 * story against the simulator, narrated step by step.
 *
 *  1. a Storage vMotion of the VM is running (started on another session);
 *  2. PrepareForAccess meets MethodAlreadyDisabledFault, retries the way the
 *     VDDK guide's sample does (every second here, every 60 s there) and
 *     succeeds once the move ends;
 *  3. a migration from another session is refused, naming the identity;
 *  4. `freevix backup` of the VM while access is held: a snapshot, the
 *     disks read into local VMDKs, the snapshot removed; then each disk
 *     restored from the backup and checked against its SHA-256;
 *  5. EndAccess; 6. the migration now succeeds;
 *  7. the same PrepareForAccess against an ESXi host gets VDDK's message.
 */
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup.h"
#include "cli.h"
#include "restore.h"
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

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
  (void)st;
  (void)flag;
  (void)ftw;
  remove(path);
  return 0;
}

/* Step 4: `freevix backup` of the VM (its access is already held by step
 * 2) into a temporary directory, then every disk restored from it and
 * re-read against the manifest's SHA-256; the directory is removed. */
static int demo_backup(const struct simproc *vc)
{
  char tmp[] = "/tmp/freevix-demo-XXXXXX", repo[64], state[64];
  VixDiskLibConnection local = NULL;
  struct backup_result r;
  struct backup_ctx c;
  struct cli_opts o;
  int failures = 0;

  if (!mkdtemp(tmp)) {
    printf("      cannot create a temporary directory: %s\n",
           strerror(errno));
    return 1;
  }
  snprintf(repo, sizeof repo, "%s/repo", tmp);
  snprintf(state, sizeof state, "%s/state", tmp);
  memset(&o, 0, sizeof o);
  o.server = vc->host;
  o.port = vc->port;
  o.thumbprint = vc->thumbprint_sha1;
  o.user = "admin";
  o.password = (char *)"freevix";
  o.to = repo;
  o.state_dir = state;
  memset(&c, 0, sizeof c);
  c.o = &o;
  c.prog = progress_new(stdout, "      ", false);
  c.identity = IDENTITY;
  c.access_held = true;
  if (!c.prog)
    return 1;
  backup_vm(&c, VMX, &r);
  progress_free(c.prog);
  if (!r.committed) {
    printf("      backup failed: %s\n", r.error);
    failures++;
  }
  if (r.cleanup[0]) {
    printf("      clean-up failed: %s\n", r.cleanup);
    failures++;
  }
  if (r.committed && VixDiskLib_Connect(NULL, &local) != VIX_OK)
    failures++;
  for (size_t i = 0; r.committed && local && i < r.m.n_disks; i++) {
    const struct manifest_disk *k = &r.m.disks[i];
    char src[4400], target[128], got[65], what[600];
    VixError err;

    snprintf(src, sizeof src, "%s/%s", r.dir, k->file);
    snprintf(target, sizeof target, "%s/restored-%d.vmdk", tmp, (int)k->key);
    err = restore_file(local, src, target, false, k->sha256, got, what,
                       sizeof what);
    if (err == VIX_OK) {
      printf("      restored disk %d (%s) from point %u and read it back: "
             "SHA-256 %.16s... as in the manifest\n", (int)k->key,
             k->transport, r.m.point, got);
    } else {
      printf("      restore of disk %d failed: %s: %s\n", (int)k->key, what,
             text_of(err));
      failures++;
    }
  }
  if (local)
    VixDiskLib_Disconnect(local);
  manifest_free(&r.m);
  nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
  return failures;
}

static int run_demo(const char *sim_path)
{
  static const char *const vc_args[] = {"--relocate-seconds", SVMOTION_SECONDS,
                                        NULL};
  struct simproc vc, esx;
  VixDiskLibConnectParams p;
  struct mover mover;
  pthread_t thread;
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
  failures += demo_backup(&vc) != 0;

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

static void help(const char *cmd)
{
  (void)cmd;
  printf("usage: freevix demo [--sim PATH-TO-freevix-sim]\n"
         "Without --sim: $FREEVIX_SIM, else freevix-sim from $PATH.\n");
}

int cmd_demo(int argc, char **argv)
{
  struct cli_opts o;
  int rc;

  rc = cli_begin(argc, argv, "demo", "sim", help, &o);
  if (rc >= 0)
    return rc;
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
