/* cli.c -- see cli.h. */
#include "cli.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
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
