/*
 * cmd_status.c -- `freevix status`: for each VM, the methods vCenter has
 * disabled on it, and who holds them as far as we can honestly tell;
 * without --vm, every VM of the vCenter that has a disabled method (one
 * walk over the inventory).
 *
 * vCenter's disabledMethod property does not say who disabled a method
 * (the source only shows in a fault), so the holder comes from this
 * machine's lease journal; otherwise it is printed as "unknown holder"
 * rather than guessed.  A VM that does not exist is an error (exit 1),
 * and says "found":false in JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static void age(char *out, size_t n, int64 since)
{
  int64 s = (int64)time(NULL) - since;

  if (s < 120)
    snprintf(out, n, "%llds", (long long)s);
  else if (s < 7200)
    snprintf(out, n, "%lldm", (long long)(s / 60));
  else
    snprintf(out, n, "%lldh", (long long)(s / 3600));
}

static void print(const struct cli_opts *o, const char *spec,
                  const freevix_vm_status *st)
{
  char since[32] = "";

  if (st->sinceUnix)
    age(since, sizeof since, st->sinceUnix);
  if (o->json) {
    fputs("{\"vm\":", stdout);
    cli_json_string(stdout, spec);
    fputs(",\"moref\":", stdout);
    cli_json_string(stdout, st->moref);
    fputs(",\"name\":", stdout);
    cli_json_string(stdout, st->name);
    printf(",\"found\":%s,\"disabled\":", st->error ? "false" : "true");
    cli_json_string(stdout, st->disabledMethods);
    fputs(",\"holder\":", stdout);
    cli_json_string(stdout, st->holder);
    printf(",\"owner_pid\":%u,\"since\":%lld,\"expires\":%lld}\n",
           st->ownerPid, (long long)st->sinceUnix,
           (long long)st->expiresUnix);
    return;
  }
  if (st->error) {
    cli_report("status", spec, st->error);
    return;
  }
  if (!st->disabledMethods[0]) {
    printf("%s (%s, %s): migration allowed\n", spec, st->moref, st->name);
    return;
  }
  printf("%s (%s, %s): disabled %s; ", spec, st->moref, st->name,
         st->disabledMethods);
  if (!st->holder[0]) {
    printf("unknown holder (not in this machine's journal)\n");
    return;
  }
  printf("held by '%s' for %s", st->holder, since);
  if (st->ownerPid)
    printf(", owner pid %u", st->ownerPid);
  if (st->expiresUnix)
    printf(", expires in %llds",
           (long long)(st->expiresUnix - (int64)time(NULL)));
  printf("\n");
}

/* Without --vm: every VM with a disabled method. */
static int list_all(const struct cli_opts *o, freevix_access *a)
{
  freevix_vm_status *st = NULL;
  uint32 n = 0;
  VixError err = freevix_access_status_all(a, &st, &n);

  if (err != VIX_OK) {
    cli_report("status", "listing the VMs", err);
    return cli_exit_code(err);
  }
  for (uint32 i = 0; i < n; i++)
    print(o, st[i].moref, &st[i]);
  if (!o->json)
    printf("%u VM%s with disabled methods\n", n, n == 1 ? "" : "s");
  freevix_free(st);
  return EXIT_OK;
}

/* With --vm: those VMs, in the order given. */
static int show(const struct cli_opts *o, freevix_access *a)
{
  freevix_vm_status *st = calloc(o->n_vms, sizeof *st);
  VixError err;

  if (!st)
    return EXIT_FAILURE_OTHER;
  size_t shown = 0;

  err = freevix_access_status(a, o->specs, (uint32)o->n_vms, st);
  for (; shown < o->n_vms && (err == VIX_OK || st[shown].moref[0] ||
                              st[shown].error); shown++)
    print(o, o->vms[shown], &st[shown]);
  if (err != VIX_OK && !shown)
    cli_report("status", "reading the VMs", err);
  free(st);
  return cli_exit_code(err);
}

static void help(const char *cmd)
{
  (void)cmd;
  printf("usage: freevix status --server HOST --user USER [--vm VM...] "
         "[--json] [--state-dir DIR]\n\n"
         "For each VM: the methods vCenter has disabled, and the holder, "
         "its age, owner\nand expiry when this machine's lease journal "
         "knows it (\"unknown holder\"\notherwise: vCenter does not "
         "say who disabled a method).  Without --vm: every\nVM of the "
         "vCenter that has a disabled method.  A VM is vm-42, a name, an\n"
         "inventory path (/DC/vm/folder/name) or a vmxSpec.  Exit 1 when "
         "a VM does not\nexist.\n");
}

int cmd_status(int argc, char **argv)
{
  struct cli_opts o;
  freevix_access *a = NULL;
  int rc;

  rc = cli_begin(argc, argv, "status",
                 "server,port,user,password-file,thumbprint,vm,vm-file,"
                 "insecure,json,state-dir", help, &o);
  if (rc >= 0)
    return rc;
  if (!o.server || !o.user || !o.password) {
    fprintf(stderr, "freevix status: --server, --user and a password are "
            "required\n");
    cli_opts_free(&o);
    return EXIT_USAGE;
  }
  o.identity = "freevix-status"; /* never used to disable anything */
  if (!cli_init_library(&o)) {
    cli_opts_free(&o);
    return EXIT_FAILURE_OTHER;
  }
  rc = o.n_vms ? cli_resolve_vms(&o, "status") : EXIT_OK;
  if (rc == EXIT_OK)
    rc = cli_access_open(&o, "status", "none", false, &a);
  if (rc == EXIT_OK) {
    rc = o.n_vms ? show(&o, a) : list_all(&o, a);
    freevix_access_close(a);
  }
  VixDiskLib_Exit();
  cli_opts_free(&o);
  return rc;
}
