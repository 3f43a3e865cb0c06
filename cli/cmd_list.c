/*
 * cmd_list.c -- `freevix list DIR`: the points of a VM's backup
 * directory, what each is, holds and depends on, and what an interrupted
 * backup left behind.  Reads manifests and file sizes only.  Given a
 * repository, it lists each VM directory in it.
 */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "points.h"
#include "progress.h"

static void print_json(const struct backup_dir *d, const struct manifest *m)
{
  fprintf(stdout, "{\"point\":%u,\"kind\":\"%s\",\"parent\":%u,\"chain\":[",
          m->point, m->kind == POINT_FULL ? "full" : "incremental",
          m->parent);
  for (size_t i = 0; i < m->n_chain; i++)
    printf("%s%u", i ? "," : "", m->chain[i]);
  fputs("],\"vm\":", stdout);
  cli_json_string(stdout, m->vm_name);
  fputs(",\"moref\":", stdout);
  cli_json_string(stdout, m->vm_moref);
  fputs(",\"finished\":", stdout);
  cli_json_string(stdout, m->finished);
  printf(",\"bytes_read\":%llu,\"bytes_written\":%llu,\"on_disk\":%llu,"
         "\"disks\":[", (unsigned long long)m->bytes_read,
         (unsigned long long)m->bytes_written,
         (unsigned long long)bdir_point_bytes(d, m));
  for (size_t i = 0; i < m->n_disks; i++) {
    const struct manifest_disk *k = &m->disks[i];

    printf("%s{\"key\":%d,\"capacity\":%llu,\"file\":", i ? "," : "",
           (int)k->key, (unsigned long long)k->capacity);
    cli_json_string(stdout, k->file);
    fputs(",\"change_id\":", stdout);
    cli_json_string(stdout, k->change_id);
    fputs(",\"sha256\":", stdout);
    cli_json_string(stdout, k->sha256);
    fputs("}", stdout);
  }
  fputs("],\"note\":", stdout);
  cli_json_string(stdout, m->note);
  fputs("}\n", stdout);
}

static void print_text(const struct backup_dir *d, const struct manifest *m)
{
  char rd[32], disk[32], base[16] = "-";

  progress_bytes(m->bytes_read, rd);
  progress_bytes(bdir_point_bytes(d, m), disk);
  if (m->kind == POINT_INCREMENTAL)
    snprintf(base, sizeof base, "%u", m->parent);
  printf("%5u  %-11s  %-20s  %5s  %10s  %10s\n", m->point,
         m->kind == POINT_FULL ? "full" : "incremental", m->finished, base,
         rd, disk);
  for (size_t i = 0; i < m->n_disks; i++) {
    char cap[32];

    progress_bytes(m->disks[i].capacity, cap);
    printf("       disk %-6d %10s  changeId %s\n", (int)m->disks[i].key, cap,
           m->disks[i].change_id[0] ? m->disks[i].change_id : "(none)");
  }
  if (m->note[0])
    printf("       note: %s\n", m->note);
}

static void help(const char *cmd)
{
  (void)cmd;
  printf("usage: freevix list DIR [--json]\n\n"
         "The points of a VM's backup directory (DIR/<VM name> of "
         "`freevix backup --to DIR`;\ngiven the repository DIR, of each "
         "VM in it): number, kind, when, the point it\nbuilds on, bytes "
         "read, bytes on disk, each disk's capacity and changeId; and the\n"
         "files an interrupted backup left.\n");
}

struct lister {
  const struct cli_opts *o;
  bool named; /* a repository: each VM directory's table is headed by it */
};

/* Lists one VM's backup directory (points_vm_fn). */
static int list_dir(void *data, const char *dir)
{
  const struct lister *l = data;
  struct backup_dir d;
  int rc = points_open("list", dir, 0, &d);

  if (rc != EXIT_OK)
    return rc;
  if (!l->o->json) {
    if (l->named)
      printf("%s:\n", d.path);
    printf("%5s  %-11s  %-20s  %5s  %10s  %10s\n", "point", "kind",
           "finished (UTC)", "base", "read", "on disk");
  }
  for (size_t i = 0; i < d.n_points && rc == EXIT_OK; i++) {
    struct manifest m;

    rc = points_load("list", &d, d.points[i], &m);
    if (rc == EXIT_OK) {
      if (l->o->json)
        print_json(&d, &m);
      else
        print_text(&d, &m);
    }
    manifest_free(&m);
  }
  for (size_t i = 0; i < d.n_leftovers; i++)
    fprintf(stderr, "freevix list: %s/%s: left by an interrupted backup, "
            "not a point (the next backup removes it)\n", d.path,
            d.leftovers[i]);
  bdir_close(&d);
  return rc;
}

int cmd_list(int argc, char **argv)
{
  struct cli_opts o;
  struct lister l = {&o, true};
  const char *dir;
  int rc = points_parse(argc, argv, "list", "json", help, &o, &dir);

  if (rc >= 0)
    return rc;
  if (!points_each_vm(dir, list_dir, &l, &rc)) {
    l.named = false;
    rc = list_dir(&l, dir);
  }
  cli_opts_free(&o);
  return rc;
}
