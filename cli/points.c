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

/* The VM directories of a repository dir: its subdirectories that hold
 * points, in name order, each with its number of points. */
static void each_vm_dir(const char *dir,
                        void (*fn)(void *data, const char *path, size_t n),
                        void *data)
{
  struct dirent **names = NULL;
  int n = scandir(dir, &names, NULL, alphasort);

  for (int i = 0; i < n; i++) {
    struct backup_dir sub;
    char path[4200], why[256];

    if (names[i]->d_name[0] != '.' &&
        snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name) <
            (int)sizeof path &&
        bdir_open(&sub, path, 0, why, sizeof why) == 0) {
      size_t points = sub.n_points;

      bdir_close(&sub);
      if (points)
        fn(data, path, points);
    }
    free(names[i]);
  }
  free(names);
}

struct shown {
  const char *cmd;
  unsigned n;
};

static void show_vm_dir(void *data, const char *path, size_t n)
{
  struct shown *s = data;

  if (s->n++ < 20)
    fprintf(stderr, "freevix %s:   %s (%zu point%s)\n", s->cmd, path, n,
            n == 1 ? "" : "s");
}

/* Names the VM directories of dir, when it is a repository. */
static void name_vm_dirs(const char *cmd, const char *dir)
{
  struct shown s = {cmd, 0};

  each_vm_dir(dir, show_vm_dir, &s);
}

struct each {
  points_vm_fn *fn;
  void *data;
  int rc;
  bool any;
};

static void run_vm_dir(void *data, const char *path, size_t n)
{
  struct each *e = data;
  int rc = e->fn(e->data, path);

  (void)n;
  e->any = true;
  /* the worst: a failure over a held directory over success */
  if (rc == EXIT_FAILURE_OTHER || e->rc == EXIT_OK)
    e->rc = rc;
}

bool points_each_vm(const char *dir, points_vm_fn *fn, void *data, int *rc)
{
  struct backup_dir d;
  struct each e = {fn, data, EXIT_OK, false};
  char why[256];
  bool own;

  if (bdir_open(&d, dir, 0, why, sizeof why) != 0)
    return false;
  own = d.n_points || d.n_leftovers;
  bdir_close(&d);
  if (own)
    return false;
  each_vm_dir(dir, run_vm_dir, &e);
  *rc = e.rc;
  return e.any;
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
