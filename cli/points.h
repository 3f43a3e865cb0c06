/*
 * points.h -- what verify, restore and list share: the backup directory
 * operand, opening and checking it, loading a point.  Each helper prints
 * its problem (prefixed "freevix CMD:") and returns an exit code.
 */
#ifndef FREEVIX_CLI_POINTS_H
#define FREEVIX_CLI_POINTS_H

#include <stdbool.h>

#include "backupdir.h"
#include "cli.h"
#include "manifest.h"

/* cli_begin for a command taking one DIR operand anywhere among the
 * options (the first argument that is neither an option nor an option's
 * value); *dir points into argv.  Returns -1 when the command goes on, or
 * the exit code to return with *o freed: EXIT_USAGE after printing why
 * (also when DIR is missing), EXIT_OK after the help. */
int points_parse(int argc, char **argv, const char *cmd, const char *allowed,
                 cli_help_fn *help, struct cli_opts *o, const char **dir);

/* Opens dir (flags: 0, or BDIR_LOCK to hold the writer's lock, EXIT_HELD
 * when a backup holds it) and checks every manifest in it; a directory
 * without points is refused, naming what it holds. */
int points_open(const char *cmd, const char *dir, unsigned flags,
                struct backup_dir *d);

/* A command's work on one VM directory; returns its exit code. */
typedef int points_vm_fn(void *data, const char *vm_dir);

/* When dir is a repository (`backup --to DIR`: no points or leftovers of
 * its own, subdirectories that hold points), runs fn on each of those in
 * name order and returns true with *rc the worst exit code (a failure
 * over a held directory over success).  False when dir is not one: the
 * caller treats it as a VM directory. */
bool points_each_vm(const char *dir, points_vm_fn *fn, void *data, int *rc);

/* Loads point (0: the latest) and checks that every point of its chain
 * is there. */
int points_load(const char *cmd, const struct backup_dir *d, unsigned point,
                struct manifest *m);

#endif
