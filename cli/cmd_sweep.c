/*
 * cmd_sweep.c -- `freevix sweep`: end the journal's grants for this server
 * whose owning process is gone or whose expiry has passed, and only those.
 *
 * Each is re-enabled with its own sourceId, so a disable made by another
 * identity, an administrator or a Storage vMotion is never touched.  A
 * journal that is corrupt or written by something else is refused before
 * any change (exit 1, the message says which file and what to do).
 */
#include <stdio.h>

#include "cli.h"

static void report(void *data, const char *vm, const char *method,
                   const char *identity, const char *why, VixError result)
{
  const struct cli_opts *o = data;

  if (o->json) {
    fputs("{\"vm\":", stdout);
    cli_json_string(stdout, vm);
    fputs(",\"method\":", stdout);
    cli_json_string(stdout, method);
    fputs(",\"identity\":", stdout);
    cli_json_string(stdout, identity);
    fputs(",\"why\":", stdout);
    cli_json_string(stdout, why);
    printf(",\"ok\":%s,\"error\":%llu,\"dry_run\":%s}\n",
           result == VIX_OK ? "true" : "false", (unsigned long long)result,
           o->dry_run ? "true" : "false");
    return;
  }
  if (result != VIX_OK) {
    char what[600];

    snprintf(what, sizeof what, "re-enabling %s on %s for '%s'", method, vm,
             identity);
    cli_report("sweep", what, result);
    return;
  }
  printf("%s: %s %s for '%s' (%s)\n", vm, o->dry_run ? "would re-enable"
                                                     : "re-enabled",
         method, identity, why);
}

int cmd_sweep(int argc, char **argv)
{
  struct cli_opts o;
  VixDiskLibConnectParams p;
  uint32 swept = 0;
  int rc = EXIT_OK;
  VixError err;

  if (!cli_parse(argc, argv, "sweep",
                 "server,port,user,password-file,thumbprint,insecure,json,"
                 "state-dir,dry-run", &o)) {
    cli_opts_free(&o);
    return EXIT_USAGE;
  }
  if (o.help) {
    printf("usage: freevix sweep --server HOST --user USER [--dry-run] "
           "[--state-dir DIR] [--json]\n\n"
           "Re-enables the lease journal's grants for HOST whose owning "
           "process is gone or\nwhose expiry (--ttl) has passed, each with "
           "its own identity as sourceId: other\nsources' disables are never "
           "touched.  --dry-run only lists them.\n");
    cli_opts_free(&o);
    return EXIT_OK;
  }
  if (!o.server || !o.user || !o.password || o.n_vms) {
    fprintf(stderr, "freevix sweep: --server, --user and a password are "
            "required (and no --vm)\n");
    cli_opts_free(&o);
    return EXIT_USAGE;
  }
  if (!cli_init_library(&o)) {
    cli_opts_free(&o);
    return EXIT_FAILURE_OTHER;
  }
  cli_params(&o, (size_t)-1, &p);
  err = freevix_sweep(&p, o.state_dir, o.dry_run, report, &o, &swept);
  if (err != VIX_OK) {
    cli_report("sweep", "sweeping the lease journal", err);
    rc = cli_exit_code(err);
    if (rc == EXIT_USAGE)
      rc = EXIT_FAILURE_OTHER;
  } else if (!o.json) {
    printf("%u grant%s %s\n", swept, swept == 1 ? "" : "s",
           o.dry_run ? "would be swept" : "swept");
  }
  VixDiskLib_Exit();
  cli_opts_free(&o);
  return rc;
}
