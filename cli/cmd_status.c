/*
 * cmd_status.c -- `freevix status`: for each VM, the methods vCenter has
 * disabled on it, and who holds them as far as we can honestly tell.
 *
 * vCenter's disabledMethod property does not say who disabled a method
 * (the source only shows in a fault), so the holder comes from this
 * machine's lease journal; otherwise it is printed as "unknown holder"
 * rather than guessed.
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

int cmd_status(int argc, char **argv)
{
  struct cli_opts o;
  freevix_access *a = NULL;
  freevix_vm_status *st = NULL;
  int rc;

  if (!cli_parse(argc, argv, "status",
                 "server,port,user,password-file,thumbprint,vm,vm-file,"
                 "insecure,json,state-dir", &o)) {
    cli_opts_free(&o);
    return EXIT_USAGE;
  }
  if (o.help) {
    printf("usage: freevix status --server HOST --user USER --vm VMXSPEC... "
           "[--json] [--state-dir DIR]\n\n"
           "For each VM: the methods vCenter has disabled, and the holder, "
           "its age, owner\nand expiry when this machine's lease journal "
           "knows it (\"unknown holder\"\notherwise: vCenter does not "
           "say who disabled a method).\n");
    cli_opts_free(&o);
    return EXIT_OK;
  }
  if (!o.server || !o.user || !o.n_vms || !o.password) {
    fprintf(stderr, "freevix status: --server, --user, --vm and a password "
            "are required\n");
    cli_opts_free(&o);
    return EXIT_USAGE;
  }
  o.identity = "freevix-status"; /* never used to disable anything */
  st = calloc(o.n_vms, sizeof *st);
  if (!st || !cli_init_library(&o)) {
    free(st);
    cli_opts_free(&o);
    return EXIT_FAILURE_OTHER;
  }
  rc = cli_access_open(&o, "status", "none", false, &a);
  if (rc == EXIT_OK) {
    VixError err = freevix_access_status(a, o.vms, (uint32)o.n_vms, st);

    for (size_t i = 0; i < o.n_vms && (err == VIX_OK || st[i].moref[0] ||
                                       st[i].error); i++)
      print(&o, o.vms[i], &st[i]);
    if (err != VIX_OK) {
      cli_report("status", "reading the VMs", err);
      rc = cli_exit_code(err);
    }
    freevix_access_close(a);
  }
  free(st);
  VixDiskLib_Exit();
  cli_opts_free(&o);
  return rc;
}
