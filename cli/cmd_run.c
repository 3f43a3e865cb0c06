/*
 * cmd_run.c -- `freevix run ... -- COMMAND`: prepare, run the backup
 * command, and end access whatever happens to it.
 *
 * The command runs as our child.  SIGINT, SIGTERM and SIGHUP sent to
 * freevix are forwarded to it (and do not kill freevix), so an operator's
 * Ctrl-C or a scheduler's stop still ends access.  They are caught from
 * the start: one that arrives while access is being prepared means the
 * command is not started at all, and access is ended (status 128 + N).  Its exit status passes
 * through; a command killed by signal N gives 128 + N, as in the shell.
 * If freevix itself is killed with SIGKILL nothing can run, which is what
 * the leases are for: a journal grant owned by this process (the default)
 * is swept once the process is gone, and a session lease (--lease session)
 * ends when vCenter times the session out.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"

#define RUN_OPTIONS "server,port,user,password-file,thumbprint,vm,vm-file," \
                    "identity,insecure,json,lease,ttl,state-dir,method," \
                    "reason,batch-size,wait,keepalive"

static volatile sig_atomic_t forward_pid;
static volatile sig_atomic_t got_signal;

static void forward(int sig)
{
  got_signal = sig;
  if (forward_pid > 0)
    kill((pid_t)forward_pid, sig);
}

static void help(const char *cmd)
{
  (void)cmd;
  printf("usage: freevix run --server HOST --user USER --identity NAME "
         "--vm VM... [OPTIONS] -- COMMAND [ARGS...]\n\n"
         "Disables migration of the VMs, runs COMMAND, then allows migration "
         "again however\nCOMMAND ends (exit, crash, signal).  SIGINT, SIGTERM "
         "and SIGHUP are forwarded to\nCOMMAND.  Exit status: COMMAND's "
         "(128+N if killed by signal N); if access\ncannot be prepared, "
         "COMMAND is not run and the status is freevix's.\n\n"
         "  --lease journal       (default) grants owned by this process: if "
         "freevix is\n"
         "                        killed, `freevix sweep` ends them\n"
         "  --lease session       session-scoped disables on a session kept "
         "alive while\n"
         "                        COMMAND runs; vCenter ends them if freevix "
         "dies\n"
         "  --lease none          plain disables\n"
         "  --keepalive DURATION  session lease keep-alive period (60s)\n"
         "  --ttl DURATION        journal grants also expire after this\n"
         "  --wait DURATION       wait for VMs another source holds\n"
         "and the options of `freevix prepare --help`.\n");
}

/* Runs argv, forwarding signals; returns its shell-style status.  A
 * signal that came before (while access was prepared) means argv is not
 * run. */
static int run_child(char **argv)
{
  sigset_t block, old;
  int status;
  pid_t pid;

  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigaddset(&block, SIGHUP);
  sigprocmask(SIG_BLOCK, &block, &old);
  if (got_signal) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    fprintf(stderr, "freevix run: signal %d before the command started: "
            "not running it\n", (int)got_signal);
    return 128 + got_signal;
  }
  fflush(NULL);
  pid = fork();
  if (pid == 0) {
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGHUP, SIG_DFL);
    sigprocmask(SIG_SETMASK, &old, NULL);
    execvp(argv[0], argv);
    fprintf(stderr, "freevix run: cannot run %s: %s\n", argv[0],
            strerror(errno));
    _exit(127);
  }
  if (pid < 0) {
    sigprocmask(SIG_SETMASK, &old, NULL);
    fprintf(stderr, "freevix run: fork: %s\n", strerror(errno));
    return 126;
  }
  forward_pid = pid;
  sigprocmask(SIG_SETMASK, &old, NULL);
  if (got_signal) /* arrived while blocked, before we knew the child */
    kill(pid, got_signal);
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR)
      return 126;
  forward_pid = 0;
  if (WIFSIGNALED(status))
    return 128 + WTERMSIG(status);
  return WEXITSTATUS(status);
}

int cmd_run(int argc, char **argv)
{
  struct cli_opts o;
  freevix_access *a = NULL;
  freevix_vm_result *results = NULL;
  int rc, status;
  VixError err;

  rc = cli_begin(argc, argv, "run", RUN_OPTIONS, help, &o);
  if (rc >= 0)
    return rc;
  if (!o.server || !o.user || !o.n_vms || !o.identity || !o.password ||
      o.rest >= argc || strcmp(argv[o.rest - 1], "--") != 0) {
    fprintf(stderr, "freevix run: --server, --user, --vm, --identity, a "
            "password and `-- COMMAND` are required (freevix run --help)\n");
    cli_opts_free(&o);
    return EXIT_USAGE;
  }
  if (cli_check_identity("run", o.identity) != EXIT_OK) {
    cli_opts_free(&o);
    return EXIT_USAGE;
  }
  /* From here on SIGINT, SIGTERM and SIGHUP are noted (and forwarded to
   * the child once there is one) instead of killing freevix. */
  cli_on_stop_signals(forward);
  results = calloc(o.n_vms, sizeof *results);
  if (!results || !cli_init_library(&o)) {
    free(results);
    cli_opts_free(&o);
    return EXIT_FAILURE_OTHER;
  }
  rc = cli_resolve_vms(&o, "run");
  if (rc == EXIT_OK)
    rc = cli_access_open(&o, "run", "journal", true, &a);
  if (rc != EXIT_OK)
    goto out;
  err = freevix_access_prepare(a, o.specs, (uint32)o.n_vms, results);
  if (err != VIX_OK) {
    for (size_t i = 0; i < o.n_vms; i++)
      if (results[i].error != VIX_OK && results[i].error != VIX_E_CANCELLED)
        cli_print_result(&o, "run", o.vms[i], &results[i], true);
    rc = cli_batch_exit(err, results, o.n_vms);
    freevix_access_close(a);
    goto out;
  }
  if (!o.json)
    fprintf(stderr, "freevix run: migration of %zu VM%s disabled for '%s'\n",
            o.n_vms, o.n_vms == 1 ? "" : "s", o.identity);
  status = run_child(argv + o.rest);
  err = freevix_access_end(a, o.specs, (uint32)o.n_vms, results);
  if (err != VIX_OK)
    for (size_t i = 0; i < o.n_vms; i++)
      if (results[i].error != VIX_OK)
        cli_print_result(&o, "run", o.vms[i], &results[i], false);
  if (freevix_access_close(a) != VIX_OK && status == 0)
    status = EXIT_FAILURE_OTHER; /* the lease was lost: say so */
  if (err != VIX_OK && status == 0)
    status = cli_batch_exit(err, results, o.n_vms);
  if (err == VIX_OK && !o.json)
    fprintf(stderr, "freevix run: migration allowed again\n");
  rc = status;
out:
  free(results);
  VixDiskLib_Exit();
  cli_opts_free(&o);
  return rc;
}
