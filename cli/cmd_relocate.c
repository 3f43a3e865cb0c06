/*
 * cmd_relocate.c -- `freevix relocate`: move a VM (RelocateVM_Task) on a
 * session of its own, as an operator or Storage DRS would.  Refused while
 * a backup holds the VM, naming the holder.
 */
#include <stdio.h>

#include "cli.h"

static void help(const char *cmd)
{
  (void)cmd;
  printf("usage: freevix relocate --server HOST --user USER --vm VM "
         "[--datastore datastore-NN] [--wait DURATION]\n"
         "Moves the VM (Storage vMotion; without --datastore it stays on "
         "its datastore)\nand waits for the task (--wait, default 10m).\n");
}

int cmd_relocate(int argc, char **argv)
{
  struct cli_opts o;
  int rc;

  rc = cli_begin(argc, argv, "relocate",
                 "server,port,user,password-file,thumbprint,vm,insecure,"
                 "datastore,wait", help, &o);
  if (rc >= 0)
    return rc;
  if (!o.server || !o.user || o.n_vms != 1 || !o.password) {
    fprintf(stderr, "freevix relocate: --server, --user, exactly one --vm "
            "and a password are required\n");
    cli_opts_free(&o);
    return EXIT_USAGE;
  }
  if (!cli_init_library(&o)) {
    cli_opts_free(&o);
    return EXIT_FAILURE_OTHER;
  }
  rc = cli_resolve_vms(&o, "relocate");
  if (rc == EXIT_OK) {
    VixDiskLibConnectParams p;
    uint32 timeout = o.wait_ms ? (uint32)((o.wait_ms + 999) / 1000) : 600;
    VixError err;

    cli_params(&o, 0, &p);
    err = freevix_relocate(&p, o.datastore, timeout);
    if (err == VIX_OK) {
      printf("%s: relocated\n", o.vms[0]);
    } else {
      cli_report("relocate", o.vms[0], err);
      rc = cli_exit_code(err);
    }
  }
  VixDiskLib_Exit();
  cli_opts_free(&o);
  return rc;
}
