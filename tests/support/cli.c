/* cli.c -- see cli.h. */
#include "cli.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

const char *fvx_cli_path(void)
{
  const char *cli = getenv("FREEVIX_CLI");

  if (!cli || access(cli, X_OK) != 0)
    fvx_test_skip("FREEVIX_CLI is not set to the freevix command");
  return cli;
}

size_t fvx_cli_prefix(const char **argv, size_t max)
{
  static char *words;          /* the wrapper, cut into words once */
  static const char *word[64];
  static size_t n_words;
  const char *wrapper = getenv("FREEVIX_CLI_WRAPPER");
  size_t n = 0;

  if (!words && wrapper && *wrapper) {
    char *save = NULL;

    words = strdup(wrapper);
    assert_non_null(words);
    for (char *w = strtok_r(words, " ", &save); w && n_words < 64;
         w = strtok_r(NULL, " ", &save))
      word[n_words++] = w;
  }
  for (; n < n_words && n + 1 < max; n++)
    argv[n] = word[n];
  if (n < max)
    argv[n++] = fvx_cli_path();
  return n;
}

int fvx_cli_slow(void)
{
  const char *wrapper = getenv("FREEVIX_CLI_WRAPPER");

  return wrapper && *wrapper;
}

int fvx_cli_exit_status(int status)
{
  int rc = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);

  if (rc == FVX_CLI_CHECKER_EXIT)
    fail_msg("the freevix process exited with %d: a sanitizer or valgrind "
             "reported an error in it (see the test output)",
             FVX_CLI_CHECKER_EXIT);
  return rc;
}

pid_t fvx_cli_start(const struct fvx_sim *sim, const char *const *args,
                    const char *out_path)
{
  size_t n_args = 0, max, n;
  const char **argv;
  char port[16];
  pid_t pid;

  while (args[n_args])
    n_args++;
  max = 64 + 8 + n_args + 1;
  argv = calloc(max, sizeof *argv);
  assert_non_null(argv);
  snprintf(port, sizeof port, "%d", sim->port);
  n = fvx_cli_prefix(argv, 64);
  argv[n++] = args[0];
  argv[n++] = "--server";
  argv[n++] = sim->host;
  argv[n++] = "--port";
  argv[n++] = port;
  argv[n++] = "--thumbprint";
  argv[n++] = sim->thumbprint_sha1;
  argv[n++] = "--user";
  argv[n++] = sim->user;
  for (size_t i = 1; i < n_args; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  fflush(NULL);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    setpgid(0, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    setenv("FREEVIX_PASSWORD", "freevix", 1);
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  free(argv);
  return pid;
}

int fvx_cli_finish(pid_t pid)
{
  int status;

  while (waitpid(pid, &status, 0) < 0)
    assert_int_equal(errno, EINTR);
  return fvx_cli_exit_status(status);
}
