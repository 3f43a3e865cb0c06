/*
 * cmd_prune.c -- `freevix prune DIR --keep N`: retention for one VM's
 * backup directory.
 *
 * A chain is a full point and the incrementals built on it, each a child
 * VMDK of the one before (a manifest's "chain" names them, its base
 * first).  The newest N chains stay whole; every point of the older ones
 * is removed, so a point is never removed while a kept point reads it,
 * and the latest point, on which the next incremental builds, always
 * stays.  Before anything is removed every manifest is read and every
 * chain checked (all its points present, all on the same base): a
 * directory freevix cannot fully account for is left as it is.
 *
 * Points go newest first, each by its manifest first (bdir_remove_point),
 * so whatever moment a crash or an error stops the prune at, what is left
 * of a chain is still its full point and the incrementals up to some
 * point, each with everything it depends on; the disk files of a point
 * whose manifest went are leftovers, which the next backup or prune
 * removes.  The directory's writer lock is held throughout, so no backup
 * writes to it meanwhile; --dry-run takes no lock and changes nothing.
 * Given a repository (a directory without points whose subdirectories
 * have some), each VM directory in it is pruned in name order.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "points.h"
#include "progress.h"

/* What prune knows of each point: the base of its chain. */
struct plan {
  unsigned *base;   /* base[i]: the full point d.points[i] builds on */
  size_t n_chains;  /* distinct bases */
  unsigned first_kept; /* the oldest kept base: points below it go */
};

static void help(const char *cmd)
{
  (void)cmd;
  printf("usage: freevix prune DIR --keep N [--dry-run] [--json]\n\n"
         "Removes the oldest backup chains of a VM's backup directory "
         "(DIR/<VM name>\nof `freevix backup --to DIR`; given the "
         "repository DIR itself, of each VM in it),\nkeeping the newest "
         "N: a chain is a full point and the incrementals built on it\n"
         "(`backup --full-every` bounds its length). Points go newest "
         "first, each by its\nmanifest first, so an interrupted prune "
         "leaves every remaining point readable.\nWhat interrupted "
         "backups left goes too. --dry-run says what would go, changing\n"
         "nothing.\n");
}

/* Base of point d->points[i], from its manifest; checks that its chain is
 * whole and on one base.  Bases of earlier points are in p->base. */
static int read_base(const struct backup_dir *d, size_t i, struct plan *p)
{
  struct manifest m;
  int rc = points_load("prune", d, d->points[i], &m);

  /* (The manifest reader guarantees a chain of 1 or more points, ending
   * with this one, that of a full point being just itself.) */
  for (size_t k = 0; rc == EXIT_OK && k + 1 < m.n_chain; k++) {
    for (size_t j = 0; j < i; j++) {
      if (d->points[j] == m.chain[k] && p->base[j] != m.chain[0]) {
        fprintf(stderr, "freevix prune: %s: point %u names point %u in its "
                "chain, which builds on point %u, not %u; nothing was "
                "removed\n", d->path, m.point, m.chain[k], p->base[j],
                m.chain[0]);
        rc = EXIT_FAILURE_OTHER;
      }
    }
  }
  if (rc == EXIT_OK)
    p->base[i] = m.chain[0];
  manifest_free(&m);
  return rc;
}

static int make_plan(const struct backup_dir *d, unsigned keep,
                     struct plan *p)
{
  size_t seen = 0;

  memset(p, 0, sizeof *p);
  p->base = calloc(d->n_points, sizeof *p->base);
  if (!p->base) {
    fprintf(stderr, "freevix prune: out of memory\n");
    return EXIT_FAILURE_OTHER;
  }
  for (size_t i = 0; i < d->n_points; i++) {
    int rc = read_base(d, i, p);

    if (rc != EXIT_OK)
      return rc;
  }
  /* Points ascend and a chain's points follow its base, so counting the
   * bases from the newest point back finds the N newest chains. */
  for (size_t i = d->n_points; i-- > 0;) {
    if (d->points[i] != p->base[i])
      continue;
    p->n_chains++;
    if (++seen == keep)
      p->first_kept = d->points[i];
  }
  if (seen < keep)
    p->first_kept = d->points[0];
  /* freevix never interleaves chains (an incremental builds on the latest
   * point); a directory that does would lose a kept point's base. */
  for (size_t i = 0; i < d->n_points; i++) {
    if (d->points[i] >= p->first_kept && p->base[i] < p->first_kept) {
      fprintf(stderr, "freevix prune: %s: point %u builds on point %u, "
              "older than the chains kept; nothing was removed\n", d->path,
              d->points[i], p->base[i]);
      return EXIT_FAILURE_OTHER;
    }
  }
  return EXIT_OK;
}

struct removal {
  const struct cli_opts *o;
  const char *dir;
};

static void on_file(void *data, const char *file, int err)
{
  struct removal *r = data;

  if (!err)
    return;
  fprintf(stderr, "freevix prune: cannot remove %s/%s: %s\n", r->dir, file,
          strerror(err));
}

static void report(const struct removal *r, const struct manifest *m,
                   uint64_t bytes, int err)
{
  char size[32], base[32] = "";

  if (r->o->json) {
    fputs("{\"dir\":", stdout);
    cli_json_string(stdout, r->dir);
    printf(",\"point\":%u,\"kind\":\"%s\",\"base\":%u,\"bytes\":%llu,"
           "\"removed\":%s,\"dry_run\":%s,\"error\":", m->point,
           m->kind == POINT_FULL ? "full" : "incremental", m->chain[0],
           (unsigned long long)bytes,
           !err && !r->o->dry_run ? "true" : "false",
           r->o->dry_run ? "true" : "false");
    cli_json_string(stdout, err ? strerror(err) : "");
    fputs("}\n", stdout);
    return;
  }
  progress_bytes(bytes, size);
  if (m->kind == POINT_INCREMENTAL)
    snprintf(base, sizeof base, " of %u", m->parent);
  printf("%s: %s point %u (%s%s, finished %s, %s)\n", r->dir,
         err ? "could not remove"
             : r->o->dry_run ? "would remove" : "removed",
         m->point, m->kind == POINT_FULL ? "full" : "incremental", base,
         m->finished, size);
}

/* Removes (or, dry, names) the points below p->first_kept, newest first.
 * Returns the exit code. */
static int remove_old(struct backup_dir *d, const struct plan *p,
                      struct removal *r, size_t *removed, uint64_t *freed)
{
  /* d->points shrinks as points go: walk a copy. */
  size_t n = d->n_points;
  unsigned *points = malloc(n * sizeof *points);

  if (!points) {
    fprintf(stderr, "freevix prune: out of memory\n");
    return EXIT_FAILURE_OTHER;
  }
  memcpy(points, d->points, n * sizeof *points);
  for (size_t i = n; i-- > 0;) {
    struct manifest m;
    uint64_t bytes;
    int err = 0;

    if (points[i] >= p->first_kept)
      continue;
    if (points_load("prune", d, points[i], &m) != EXIT_OK) {
      manifest_free(&m);
      free(points);
      return EXIT_FAILURE_OTHER;
    }
    bytes = bdir_point_bytes(d, &m);
    if (!r->o->dry_run)
      err = bdir_remove_point(d, &m, on_file, r);
    report(r, &m, bytes, err);
    manifest_free(&m);
    if (err) {
      fprintf(stderr, "freevix prune: stopped at point %u; the points "
              "left are whole, and files left without a manifest go with "
              "the next backup or prune\n", points[i]);
      free(points);
      return EXIT_FAILURE_OTHER;
    }
    (*removed)++;
    *freed += bytes;
  }
  free(points);
  return EXIT_OK;
}

/* Prunes one VM's backup directory (points_vm_fn, opts the cli_opts);
 * its exit code. */
static int prune_dir(void *opts, const char *dir)
{
  const struct cli_opts *o = opts;
  struct backup_dir d;
  struct plan p = {0};
  struct removal r;
  size_t removed = 0, kept;
  uint64_t freed = 0;
  int rc = points_open("prune", dir, o->dry_run ? 0 : BDIR_LOCK, &d);

  if (rc != EXIT_OK)
    return rc;
  memset(&r, 0, sizeof r);
  r.o = o;
  r.dir = d.path;
  rc = make_plan(&d, o->keep, &p);
  if (rc == EXIT_OK && !o->dry_run) {
    for (size_t i = 0; i < d.n_leftovers && !o->json; i++)
      printf("%s: removing %s, left by an interrupted backup\n", d.path,
             d.leftovers[i]);
    if (bdir_remove_leftovers(&d, on_file, &r))
      rc = EXIT_FAILURE_OTHER;
  }
  if (rc == EXIT_OK)
    rc = remove_old(&d, &p, &r, &removed, &freed);
  kept = p.n_chains < o->keep ? p.n_chains : o->keep;
  if (rc == EXIT_OK && !o->json) {
    char size[32];

    progress_bytes(freed, size);
    printf("%s: %s %zu point%s (%s); kept %zu chain%s, points %u to %u\n",
           d.path, o->dry_run ? "would remove" : "removed", removed,
           removed == 1 ? "" : "s", size, kept, kept == 1 ? "" : "s",
           p.first_kept, d.points[d.n_points - 1]);
  }
  free(p.base);
  bdir_close(&d);
  return rc;
}

int cmd_prune(int argc, char **argv)
{
  struct cli_opts o;
  const char *dir;
  int rc = points_parse(argc, argv, "prune", "keep,dry-run,json", help, &o,
                        &dir);

  if (rc >= 0)
    return rc;
  if (!o.keep) {
    fprintf(stderr, "freevix prune: give --keep N, the number of newest "
            "chains (a full point and its incrementals) to keep\n");
    cli_opts_free(&o);
    return EXIT_USAGE;
  }
  if (points_each_vm(dir, prune_dir, &o, &rc)) {
    cli_opts_free(&o);
    return rc;
  }
  rc = prune_dir(&o, dir);
  cli_opts_free(&o);
  return rc;
}
