/*
 * cmd_access.c -- `freevix prepare` and `freevix end`: PrepareForAccess /
 * EndAccess for each --vm, reporting one line per VM.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

#define ACCESS_OPTIONS "server,port,user,password-file,thumbprint,vm,vm-file," \
                       "identity,insecure,json"

static void help(const char *cmd)
{
  printf("usage: freevix %s --server HOST --user USER --vm VMXSPEC... "
         "--identity NAME\n"
         "  --server HOST         vCenter\n"
         "  --port N              HTTPS port (443)\n"
         "  --user USER           vCenter user; the password comes from\n"
         "  --password-file FILE  or the FREEVIX_PASSWORD environment variable\n"
         "  --thumbprint HEX      the server certificate's SHA-1 or SHA-256\n"
         "  --insecure            do not verify the certificate at all\n"
         "  --vm SPEC             moref=vm-42 or dir/x.vmx?dcPath=DC&dsName=DS"
         " (repeatable)\n"
         "  --vm-file FILE        one VM spec per line\n"
         "  --identity NAME       who holds the VMs (1-50 characters)\n"
         "  --json                one JSON object per VM on stdout\n",
         cmd);
}

static int run(int argc, char **argv, const char *cmd, bool prepare)
{
  struct cli_opts o;
  int rc = EXIT_OK;
  size_t failed = 0;

  if (!cli_parse(argc, argv, cmd, ACCESS_OPTIONS, &o)) {
    cli_opts_free(&o);
    return EXIT_USAGE;
  }
  if (o.help) {
    help(cmd);
    cli_opts_free(&o);
    return EXIT_OK;
  }
  if (!o.server || !o.user || !o.n_vms || !o.identity || !o.password) {
    fprintf(stderr, "freevix %s: --server, --user, --vm, --identity and a "
            "password (--password-file or FREEVIX_PASSWORD) are required\n",
            cmd);
    cli_opts_free(&o);
    return EXIT_USAGE;
  }
  if (!cli_init_library(&o)) {
    cli_opts_free(&o);
    return EXIT_FAILURE_OTHER;
  }
  for (size_t i = 0; i < o.n_vms; i++) {
    VixDiskLibConnectParams p;
    VixError err;

    cli_params(&o, i, &p);
    err = prepare ? VixDiskLib_PrepareForAccess(&p, o.identity)
                  : VixDiskLib_EndAccess(&p, o.identity);
    if (o.json) {
      char *text = VixDiskLib_GetErrorText(err, NULL);

      fputs("{\"vm\":", stdout);
      cli_json_string(stdout, o.vms[i]);
      printf(",\"ok\":%s,\"error\":%llu,\"text\":",
             err == VIX_OK ? "true" : "false", (unsigned long long)err);
      cli_json_string(stdout, text);
      fputs("}\n", stdout);
      VixDiskLib_FreeErrorText(text);
    } else if (err == VIX_OK) {
      printf("%s: %s\n", o.vms[i],
             prepare ? "migration disabled" : "migration allowed");
    } else {
      cli_report(cmd, o.vms[i], err);
    }
    if (err != VIX_OK) {
      failed++;
      rc = cli_exit_code(err);
    }
  }
  if (failed && failed < o.n_vms)
    rc = EXIT_PARTIAL;
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
