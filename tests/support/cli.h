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

/* The exit status of a finished freevix process (waitpid's status): its
 * exit code, or 128+N when signal N killed it.  Fails the test when a
 * sanitizer or valgrind reported an error in it. */
int fvx_cli_exit_status(int wait_status);

#endif
