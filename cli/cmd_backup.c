/*
 * cmd_backup.c -- `freevix backup`: back up VMs into a directory, each in
 * a directory of its own, --jobs at a time.
 *
 * This file is the command: options, the workers, signals, the results.
 * One VM's backup is backup_vm.c.  SIGINT, SIGTERM and SIGHUP do not kill
 * the command: they stop every backup at its next step or read, and each
 * one cleans up (RemoveSnapshot, then EndAccess) before the command exits
 * with 128 + the signal.  A second signal changes nothing: the clean-up is
 * what keeps the VMs healthy, so it is not cut short.
 */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backup.h"
#include "cli.h"

#define BACKUP_OPTIONS "server,port,user,password-file,thumbprint,insecure," \
                       "vm,vm-file,to,incremental,quiesce,identity,jobs," \
                       "json,enable-cbt,format,wait,state-dir,transport," \
                       "skip-independent,full-every"
#define DEFAULT_IDENTITY "freevix-backup"

/* Set by the first SIGINT, SIGTERM or SIGHUP (cli_catch_stop_signals). */
static volatile sig_atomic_t *stop;

static void help(const char *cmd)
{
  (void)cmd;
  printf("usage: freevix backup --server HOST --user USER --vm VM... --to DIR "
         "[OPTIONS]\n\n"
         "Backs up each VM into DIR/<VM name>/ as a new point: PrepareForAccess, "
         "a snapshot,\nthe disks read into local VMDKs (full: the allocated "
         "areas; --incremental: what\nChanged Block Tracking says changed "
         "since the previous point, as a child VMDK),\na manifest with the "
         "SHA-256 of every disk, then RemoveSnapshot and EndAccess --\n"
         "also after an error or a signal.  See docs/backup.md.\n\n"
         "  --to DIR              the backup repository\n"
         "  --incremental         only what changed since the previous "
         "point (CBT); a full\n"
         "                        backup when there is none or CBT cannot "
         "say (it says why)\n"
         "  --full-every N        with --incremental: a full backup when "
         "the previous point's\n"
         "                        chain holds N points already (a chain: "
         "a full point and its\n"
         "                        incrementals; `freevix prune` keeps "
         "whole chains)\n"
         "  --enable-cbt          switch CBT on where it is off (in effect "
         "from this snapshot)\n"
         "  --quiesce             quiesce the guest file systems (VMware "
         "Tools)\n"
         "  --format vmdk|stream  full points as monolithicSparse (default) "
         "or streamOptimized\n"
         "  --jobs N              VMs backed up at once (1)\n"
         "  --wait DURATION       wait that long for a Storage vMotion to "
         "end\n"
         "  --identity NAME       who holds the VMs meanwhile "
         "(" DEFAULT_IDENTITY ")\n"
         "  --transport MODES     ConnectEx transport list, e.g. nbdssl:nbd "
         "(library default)\n"
         "  --skip-independent    back up the other disks of a VM with "
         "independent disks\n"
         "  --state-dir DIR       lease journal directory\n"
         "  --json                one JSON object per VM on stdout\n"
         "and --server, --port, --user, --password-file, --thumbprint, "
         "--insecure, --vm (a name,\nan inventory path, a moref or a "
         "vmxSpec), --vm-file as for `freevix prepare`.\n");
}

struct pool {
  struct backup_ctx ctx;
  const char *const *vms;
  size_t n, next;
  struct backup_result *results;
  pthread_mutex_t mu;
};

static void *worker(void *arg)
{
  struct pool *p = arg;

  for (;;) {
    size_t i;

    pthread_mutex_lock(&p->mu);
    i = p->next < p->n && !*stop ? p->next++ : p->n;
    pthread_mutex_unlock(&p->mu);
    if (i == p->n)
      return NULL;
    backup_vm(&p->ctx, p->vms[i], &p->results[i]);
  }
}

static void print_json(const char *spec, const struct backup_result *r)
{
  const struct manifest *m = &r->m;
  char *text = VixDiskLib_GetErrorText(r->err, NULL);

  fputs("{\"vm\":", stdout);
  cli_json_string(stdout, spec);
  printf(",\"ok\":%s,\"exit\":%d,\"error\":%llu,\"text\":",
         r->exit_code == EXIT_OK ? "true" : "false", r->exit_code,
         (unsigned long long)r->err);
  cli_json_string(stdout, r->err ? text : "");
  fputs(",\"message\":", stdout);
  cli_json_string(stdout, r->error);
  fputs(",\"cleanup\":", stdout);
  cli_json_string(stdout, r->cleanup);
  fputs(",\"dir\":", stdout);
  cli_json_string(stdout, r->dir);
  printf(",\"committed\":%s", r->committed ? "true" : "false");
  if (r->committed) {
    printf(",\"point\":%u,\"kind\":\"%s\",\"moref\":", m->point,
           m->kind == POINT_FULL ? "full" : "incremental");
    cli_json_string(stdout, m->vm_moref);
    printf(",\"bytes_read\":%llu,\"bytes_written\":%llu,\"duration_ms\":%lld,"
           "\"note\":", (unsigned long long)m->bytes_read,
           (unsigned long long)m->bytes_written, (long long)m->duration_ms);
    cli_json_string(stdout, m->note);
    fputs(",\"transport\":", stdout);
    cli_json_string(stdout, m->n_disks ? m->disks[0].transport : "");
  }
  fputs("}\n", stdout);
  VixDiskLib_FreeErrorText(text);
}

static void print_text(const char *spec, const struct backup_result *r)
{
  const struct manifest *m = &r->m;

  if (r->committed) {
    char rd[32], wr[32];

    progress_bytes(m->bytes_read, rd);
    progress_bytes(m->bytes_written, wr);
    printf("%s: point %u (%s) in %s: %zu disk%s, %s read, %s written, "
           "%.1f s, over %s\n", m->vm_name, m->point,
           m->kind == POINT_FULL ? "full" : "incremental", r->dir, m->n_disks,
           m->n_disks == 1 ? "" : "s", rd, wr, m->duration_ms / 1000.0,
           m->n_disks ? m->disks[0].transport : "?");
  }
  if (r->exit_code != EXIT_OK && r->error[0])
    fprintf(stderr, "freevix backup: %s: %s\n", spec, r->error);
  if (r->cleanup[0])
    fprintf(stderr, "freevix backup: %s: CLEAN-UP FAILED: %s\n", spec,
            r->cleanup);
}

/* 0 when every VM is fine, 6 when some are, else the first failure's. */
static int overall(const struct backup_result *r, size_t n)
{
  size_t ok = 0;
  int first = EXIT_OK;

  for (size_t i = 0; i < n; i++) {
    if (r[i].exit_code == EXIT_OK)
      ok++;
    else if (first == EXIT_OK)
      first = r[i].exit_code;
  }
  if (*stop)
    return 128 + *stop;
  if (first == EXIT_OK)
    return EXIT_OK;
  return ok ? EXIT_PARTIAL : first;
}

static bool check_options(const struct cli_opts *o)
{
  if (!o->server || !o->user || !o->password || !o->n_vms || !o->to) {
    fprintf(stderr, "freevix backup: --server, --user, a password "
            "(--password-file or FREEVIX_PASSWORD), --vm and --to are "
            "required (freevix backup --help)\n");
    return false;
  }
  if (o->full_every && !o->incremental) {
    fprintf(stderr, "freevix backup: --full-every limits the chains of "
            "--incremental backups; without --incremental every backup is "
            "full\n");
    return false;
  }
  if (o->format && strcmp(o->format, "vmdk") != 0 &&
      strcmp(o->format, "stream") != 0) {
    fprintf(stderr, "freevix backup: --format is vmdk or stream\n");
    return false;
  }
  return true;
}

int cmd_backup(int argc, char **argv)
{
  struct cli_opts o;
  struct pool p;
  char to[PATH_MAX];
  pthread_t threads[64];
  unsigned jobs, started = 0;
  int rc;

  rc = cli_begin(argc, argv, "backup", BACKUP_OPTIONS, help, &o);
  if (rc >= 0)
    return rc;
  if (argc > o.rest || !check_options(&o) ||
      (o.identity && cli_check_identity("backup", o.identity) != EXIT_OK)) {
    if (argc > o.rest)
      fprintf(stderr, "freevix backup: unexpected argument \"%s\"\n",
              argv[o.rest]);
    cli_opts_free(&o);
    return EXIT_USAGE;
  }
  /* The repository's files are created through VixDiskLib, which takes
   * absolute paths only. */
  if (!cli_absolute_path(o.to, to, sizeof to)) {
    fprintf(stderr, "freevix backup: --to %s: path too long\n", o.to);
    cli_opts_free(&o);
    return EXIT_USAGE;
  }
  o.to = to;
  memset(&p, 0, sizeof p);
  p.results = calloc(o.n_vms, sizeof *p.results);
  if (!p.results || !cli_init_library(&o)) {
    free(p.results);
    cli_opts_free(&o);
    return EXIT_FAILURE_OTHER;
  }
  /* Names, inventory paths and bare morefs become vmxSpecs, all at once:
   * a VM that names nothing (or several) stops the run before anything. */
  rc = cli_resolve_vms(&o, "backup");
  if (rc != EXIT_OK) {
    free(p.results);
    VixDiskLib_Exit();
    cli_opts_free(&o);
    return rc;
  }
  stop = cli_catch_stop_signals();
  p.ctx.o = &o;
  p.ctx.prog = progress_new(stderr, "freevix: ",
                            isatty(STDERR_FILENO) && !o.json);
  p.ctx.cancel = stop;
  p.ctx.identity = o.identity ? o.identity : DEFAULT_IDENTITY;
  p.ctx.stream = o.format && strcmp(o.format, "stream") == 0;
  p.vms = o.specs;
  p.n = o.n_vms;
  pthread_mutex_init(&p.mu, NULL);
  jobs = o.jobs ? o.jobs : 1;
  if (jobs > o.n_vms)
    jobs = (unsigned)o.n_vms;
  if (!p.ctx.prog) {
    rc = EXIT_FAILURE_OTHER;
    goto out;
  }
  for (unsigned i = 1; i < jobs; i++)
    if (pthread_create(&threads[started], NULL, worker, &p) == 0)
      started++;
  worker(&p);
  for (unsigned i = 0; i < started; i++)
    pthread_join(threads[i], NULL);
  progress_free(p.ctx.prog);
  p.ctx.prog = NULL;
  for (size_t i = 0; i < o.n_vms; i++) {
    if (i >= p.next)
      snprintf(p.results[i].error, sizeof p.results[i].error,
               "not started: interrupted by signal %d", (int)*stop);
    if (i >= p.next)
      p.results[i].exit_code = 128 + *stop;
    if (o.json)
      print_json(o.vms[i], &p.results[i]);
    else
      print_text(o.vms[i], &p.results[i]);
  }
  rc = overall(p.results, o.n_vms);
out:
  progress_free(p.ctx.prog);
  for (size_t i = 0; i < o.n_vms; i++)
    manifest_free(&p.results[i].m);
  free(p.results);
  pthread_mutex_destroy(&p.mu);
  VixDiskLib_Exit();
  cli_opts_free(&o);
  return rc;
}
