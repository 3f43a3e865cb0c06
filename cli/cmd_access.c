/*
 * cmd_access.c -- `freevix prepare` and `freevix end`: disable or allow
 * migration of the --vm list, a batch per vCenter round trip, all or
 * nothing for prepare.
 *
 * prepare records its disables in the lease journal by default, with an
 * expiry (--ttl, default 24 h), because the command exits at once: nobody
 * would otherwise be left to undo them after a crash of whatever was going
 * to call `freevix end`.  `freevix sweep` undoes them once expired.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define ACCESS_OPTIONS "server,port,user,password-file,thumbprint,vm,vm-file," \
                       "identity,insecure,json,lease,ttl,state-dir,method," \
                       "reason,batch-size"

static void help(const char *cmd)
{
  bool prepare = strcmp(cmd, "prepare") == 0;

  printf("usage: freevix %s --server HOST --user USER --identity NAME "
         "--vm VM... [OPTIONS]\n\n%s\n\n", cmd,
         prepare ? "Disables migration (RelocateVM_Task) of every VM, all or "
                   "nothing: if one VM fails,\nnothing is left disabled by "
                   "this command and the VM and its holder are named."
                 : "Allows migration again of every VM for the identity "
                   "(other sources' disables stay).");
  printf("  --server HOST         vCenter\n"
         "  --port N              HTTPS port (443)\n"
         "  --user USER           vCenter user; the password comes from\n"
         "  --password-file FILE  or the FREEVIX_PASSWORD environment variable\n"
         "  --thumbprint HEX      the server certificate's SHA-1 or SHA-256\n"
         "  --insecure            do not verify the certificate at all\n"
         "  --vm VM               vm-42, a VM name, an inventory path\n"
         "                        (/DC/vm/folder/name) or a vmxSpec (moref=vm-42,\n"
         "                        dir/x.vmx?dcPath=DC&dsName=DS); repeatable\n"
         "  --vm-file FILE        one VM per line ('-': stdin)\n"
         "  --identity NAME       who holds the VMs (1-50 characters)\n"
         "  --method M            relocate (default) or migrate; repeatable\n"
         "  --batch-size N        VMs per vCenter call (500)\n"
         "  --lease journal|none  record the disables in the lease journal "
         "(default journal)\n"
         "  --state-dir DIR       journal directory (FREEVIX_STATE_DIR)\n"
         "  --json                one JSON object per VM on stdout\n");
  if (prepare)
    printf("  --ttl DURATION        journal grants expire after this (24h); "
           "then `freevix sweep` ends them\n"
           "  --wait DURATION       wait that long for VMs another source "
           "holds (a Storage vMotion)\n"
           "  --reason TEXT         reason shown in vCenter\n");
}

static int run(int argc, char **argv, const char *cmd, bool prepare)
{
  struct cli_opts o;
  freevix_access *a = NULL;
  freevix_vm_result *results = NULL;
  int rc;
  VixError err;

  rc = cli_begin(argc, argv, cmd,
                 prepare ? ACCESS_OPTIONS ",wait" : ACCESS_OPTIONS, help, &o);
  if (rc >= 0)
    return rc;
  if (!o.server || !o.user || !o.n_vms || !o.identity || !o.password ||
      argc > o.rest) {
    fprintf(stderr, "freevix %s: --server, --user, --vm, --identity and a "
            "password (--password-file or FREEVIX_PASSWORD) are required, "
            "and nothing else\n", cmd);
    cli_opts_free(&o);
    return EXIT_USAGE;
  }
  if (cli_check_identity(cmd, o.identity) != EXIT_OK) {
    cli_opts_free(&o);
    return EXIT_USAGE;
  }
  if (cli_lease_mode(&o, FREEVIX_LEASE_JOURNAL) == FREEVIX_LEASE_SESSION) {
    fprintf(stderr, "freevix %s: a session lease would end when this command "
            "exits; use `freevix run --lease session -- COMMAND`\n", cmd);
    cli_opts_free(&o);
    return EXIT_USAGE;
  }
  results = calloc(o.n_vms, sizeof *results);
  if (!results || !cli_init_library(&o)) {
    free(results);
    cli_opts_free(&o);
    return EXIT_FAILURE_OTHER;
  }
  rc = cli_resolve_vms(&o, cmd);
  if (rc == EXIT_OK)
    rc = cli_access_open(&o, cmd, "journal", false, &a);
  if (rc == EXIT_OK) {
    err = prepare
              ? freevix_access_prepare(a, o.specs, (uint32)o.n_vms, results)
              : freevix_access_end(a, o.specs, (uint32)o.n_vms, results);
    for (size_t i = 0; i < o.n_vms; i++)
      cli_print_result(&o, cmd, o.vms[i], &results[i], prepare);
    rc = cli_batch_exit(err, results, o.n_vms);
    freevix_access_close(a);
  }
  free(results);
  VixDiskLib_Exit();
  cli_opts_free(&o);
  return rc;
}

int cmd_prepare(int argc, char **argv)
{
  return run(argc, argv, "prepare", true);
}

int cmd_end(int argc, char **argv)
{
  return run(argc, argv, "end", false);
}
