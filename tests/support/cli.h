/*
 * cli.h -- running the freevix command from C tests.
 *
 * CTest names the command in FREEVIX_CLI (the ASan build in .asan twins)
 * and, in .valgrind twins, a checker to run it under in
 * FREEVIX_CLI_WRAPPER (words separated by blanks, no quoting), so the
 * command's own processes are checked like the test's.  A checker finding
 * makes the command exit with FVX_CLI_CHECKER_EXIT, which
 * fvx_cli_exit_status() turns into a test failure.
 */
#ifndef FVX_TEST_CLI_H
#define FVX_TEST_CLI_H

#include <stddef.h>
#include <sys/types.h>

#include "sim.h"

#define FVX_CLI_CHECKER_EXIT 99

/* $FREEVIX_CLI; calls fvx_test_skip() when unset or not executable. */
const char *fvx_cli_path(void);

/* Puts the wrapper's words and the command's path at argv[0..], at most
 * max entries; returns how many.  The strings live until the process
 * exits. */
size_t fvx_cli_prefix(const char **argv, size_t max);

/* True when the command runs under a checker (FREEVIX_CLI_WRAPPER set):
 * each run then takes seconds to start, and timed scenarios must allow
 * for it. */
int fvx_cli_slow(void);

/* Starts `freevix args[0]` with the options that reach sim as its
 * privileged user (--server, --port, --thumbprint, --user; the password
 * in FREEVIX_PASSWORD), then args[1..] (NULL-ended), behind the wrapper,
 * with stdout and stderr to the file out_path, in a process group of its
 * own.  Returns its pid (the test fails if it cannot fork). */
pid_t fvx_cli_start(const struct fvx_sim *sim, const char *const *args,
                    const char *out_path);

/* Waits for the process started by fvx_cli_start; returns
 * fvx_cli_exit_status of it. */
int fvx_cli_finish(pid_t pid);

/* The exit status of a finished freevix process (waitpid's status): its
 * exit code, or 128+N when signal N killed it.  Fails the test when a
 * sanitizer or valgrind reported an error in it. */
int fvx_cli_exit_status(int wait_status);

#endif
