/*
 * cmd_sweep.c -- `freevix sweep`: remove the backup snapshots and end the
 * grants the journal records for this server whose owning process is gone
 * or whose expiry has passed, and only those.
 *
 * Each is re-enabled with its own sourceId, so a disable made by another
 * identity, an administrator or a Storage vMotion is never touched.  A
 * journal that is corrupt or written by something else is refused before
 * any change (exit 1, the message says which file and what to do).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* One JSON line for a swept item: the string fields (name, value pairs in
 * fields[0..n)), then whether it worked and whether it was a dry run. */
static void json_line(const struct cli_opts *o, const char *const *fields,
                      size_t n, VixError result)
{
  for (size_t i = 0; i + 1 < n; i += 2) {
    printf("%s\"%s\":", i ? "," : "{", fields[i]);
    cli_json_string(stdout, fields[i + 1]);
  }
  printf(",\"ok\":%s,\"error\":%llu,\"dry_run\":%s}\n",
         result == VIX_OK ? "true" : "false", (unsigned long long)result,
         o->dry_run ? "true" : "false");
}

static void report(void *data, const char *vm, const char *method,
                   const char *identity, const char *why, VixError result)
{
  const struct cli_opts *o = data;

  if (o->json) {
    const char *const fields[] = {"vm", vm, "method", method,
                                  "identity", identity, "why", why};

    json_line(o, fields, sizeof fields / sizeof fields[0], result);
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

static void report_snapshot(void *data, const char *vm,
                            const char *snapshot, const char *name,
                            const char *identity, const char *why,
                            VixError result)
{
  const struct cli_opts *o = data;

  if (o->json) {
    const char *const fields[] = {"vm", vm, "snapshot", snapshot, "name",
                                  name, "identity", identity, "why", why};

    json_line(o, fields, sizeof fields / sizeof fields[0], result);
    return;
  }
  if (result != VIX_OK) {
    char what[800];

    snprintf(what, sizeof what, "removing snapshot %s \"%s\" of %s for "
             "'%s' (%s)", snapshot[0] ? snapshot : "(by name)", name, vm,
             identity, why);
    cli_report("sweep", what, result);
    return;
  }
  printf("%s: %s snapshot %s \"%s\" of '%s' (%s)\n", vm,
         o->dry_run ? "would remove" : "removed",
         snapshot[0] ? snapshot : "(found by name)", name, identity, why);
}

static void help(const char *cmd)
{
  (void)cmd;
  printf("usage: freevix sweep --server HOST --user USER [--dry-run] "
         "[--state-dir DIR] [--json]\n\n"
         "Removes the backup snapshots and re-enables the grants the lease "
         "journal records\nfor HOST whose owning process is gone or whose "
         "expiry (--ttl) has passed, each\ngrant with its own identity as "
         "sourceId: other sources' disables, and snapshots\nfreevix did "
         "not take, are never touched.  --dry-run only lists them.\n");
}

int cmd_sweep(int argc, char **argv)
{
  struct cli_opts o;
  VixDiskLibConnectParams p;
  freevix_sweep_options so;
  uint32 swept = 0, snaps = 0;
  int rc;
  VixError err;

  rc = cli_begin(argc, argv, "sweep",
                 "server,port,user,password-file,thumbprint,insecure,json,"
                 "state-dir,dry-run", help, &o);
  if (rc >= 0)
    return rc;
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
  memset(&so, 0, sizeof so);
  so.stateDir = o.state_dir;
  so.dryRun = o.dry_run;
  so.grantFunc = report;
  so.snapshotFunc = report_snapshot;
  so.clientData = &o;
  rc = EXIT_OK;
  err = freevix_sweep_ex(&p, &so, &swept, &snaps);
  if (err != VIX_OK) {
    cli_report("sweep", "sweeping the lease journal", err);
    rc = cli_exit_code(err);
    if (rc == EXIT_USAGE)
      rc = EXIT_FAILURE_OTHER;
  } else if (!o.json) {
    printf("%u grant%s %s\n", swept, swept == 1 ? "" : "s",
           o.dry_run ? "would be swept" : "swept");
    if (snaps)
      printf("%u backup snapshot%s %s\n", snaps, snaps == 1 ? "" : "s",
             o.dry_run ? "would be removed" : "removed");
  }
  VixDiskLib_Exit();
  cli_opts_free(&o);
  return rc;
}
