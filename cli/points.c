/*
 * points.c -- see points.h.
 */
#include "points.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int points_parse(int argc, char **argv, const char *cmd, const char *allowed,
                 cli_help_fn *help, struct cli_opts *o, const char **dir)
{
  char **args = calloc((size_t)argc + 1, sizeof *args);
  int n = 1, at = -1, rc = EXIT_OK;

  *dir = NULL;
  if (!args) {
    fprintf(stderr, "freevix %s: out of memory\n", cmd);
    return EXIT_FAILURE_OTHER;
  }
  /* getopt stops at the first operand: DIR is taken out wherever it is
   * and the options are parsed without it. */
  for (int i = 1; i < argc; i++) {
    if (at < 0 && argv[i][0] != '-') {
      at = i;
      continue;
    }
    args[n++] = argv[i];
    if (cli_option_takes_value(argv[i]) && i + 1 < argc)
      args[n++] = argv[++i];
  }
  args[0] = argv[0];
  if (!cli_parse(n, args, cmd, allowed, o)) {
    rc = EXIT_USAGE;
  } else if (o->rest < n) {
    fprintf(stderr, "freevix %s: unexpected argument \"%s\"\n", cmd,
            args[o->rest]);
    rc = EXIT_USAGE;
  } else if (at < 0 && !o->help) {
    fprintf(stderr, "freevix %s: give the VM's backup directory (DIR/<VM "
            "name> of `freevix backup --to DIR`); see freevix %s --help\n",
            cmd, cmd);
    rc = EXIT_USAGE;
  }
  if (at >= 0)
    *dir = argv[at];
  free(args);
  if (rc == EXIT_OK && o->help)
    help(cmd);
  if (rc != EXIT_OK || o->help) {
    cli_opts_free(o);
    return rc;
  }
  return -1;
}

/* Names the subdirectories of dir that hold points: the VMs of a
 * repository, when dir is one. */
static void name_vm_dirs(const char *cmd, const char *dir)
{
  DIR *dp = opendir(dir);
  struct dirent *e;
  unsigned shown = 0;

  if (!dp)
    return;
  while ((e = readdir(dp)) && shown < 20) {
    struct backup_dir sub;
    char path[4200], why[256];

    if (e->d_name[0] == '.' ||
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >=
            (int)sizeof path)
      continue;
    if (bdir_open(&sub, path, 0, why, sizeof why) == 0) {
      if (sub.n_points)
        fprintf(stderr, "freevix %s:   %s (%zu point%s)\n", cmd, path,
                sub.n_points, sub.n_points == 1 ? "" : "s");
      shown += sub.n_points > 0;
      bdir_close(&sub);
    }
  }
  closedir(dp);
}

int points_open(const char *cmd, const char *dir, unsigned flags,
                struct backup_dir *d)
{
  char why[1200];
  int rc = bdir_open(d, dir, flags, why, sizeof why);

  if (rc != 0) {
    fprintf(stderr, "freevix %s: %s\n", cmd, why);
    return rc == BDIR_E_BUSY ? EXIT_HELD : EXIT_FAILURE_OTHER;
  }
  if (!bdir_check(d, NULL, NULL, why, sizeof why)) {
    fprintf(stderr, "freevix %s: %s\n", cmd, why);
    bdir_close(d);
    return EXIT_FAILURE_OTHER;
  }
  if (d->n_points == 0) {
    fprintf(stderr, "freevix %s: %s holds no backup point%s\n", cmd, dir,
            d->n_leftovers ? " (only the leftovers of an interrupted "
                             "backup)"
                           : "");
    name_vm_dirs(cmd, dir);
    bdir_close(d);
    return EXIT_FAILURE_OTHER;
  }
  return EXIT_OK;
}

static bool has_point(const struct backup_dir *d, unsigned point)
{
  for (size_t i = 0; i < d->n_points; i++)
    if (d->points[i] == point)
      return true;
  return false;
}

int points_load(const char *cmd, const struct backup_dir *d, unsigned point,
                struct manifest *m)
{
  char why[1200];

  if (!point)
    point = d->points[d->n_points - 1];
  if (!has_point(d, point)) {
    fprintf(stderr, "freevix %s: %s has no point %u (points %u to %u)\n",
            cmd, d->path, point, d->points[0], d->points[d->n_points - 1]);
    memset(m, 0, sizeof *m);
    return EXIT_FAILURE_OTHER;
  }
  if (!bdir_load(d, point, m, why, sizeof why)) {
    fprintf(stderr, "freevix %s: %s\n", cmd, why);
    return EXIT_FAILURE_OTHER;
  }
  for (size_t i = 0; i < m->n_chain; i++) {
    if (!has_point(d, m->chain[i])) {
      fprintf(stderr, "freevix %s: point %u depends on point %u, which is "
              "missing from %s\n", cmd, point, m->chain[i], d->path);
      return EXIT_FAILURE_OTHER;
    }
  }
  return EXIT_OK;
}
