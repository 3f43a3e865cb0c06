/*
 * cmd_list.c -- `freevix list DIR`: the points of a VM's backup
 * directory, what each is, holds and depends on, and what an interrupted
 * backup left behind.  Reads manifests and file sizes only.
 */
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
         "`freevix backup --to DIR`):\nnumber, kind, when, the point "
         "it builds on, bytes read, bytes on disk, each disk's\n"
         "capacity and changeId; and the files an interrupted backup "
         "left.\n");
}

int cmd_list(int argc, char **argv)
{
  struct backup_dir d;
  struct cli_opts o;
  const char *dir;
  int rc = points_parse(argc, argv, "list", "json", help, &o, &dir);

  if (rc >= 0)
    return rc;
  rc = points_open("list", dir, 0, &d);
  if (rc != EXIT_OK) {
    cli_opts_free(&o);
    return rc;
  }
  if (!o.json)
    printf("%5s  %-11s  %-20s  %5s  %10s  %10s\n", "point", "kind",
           "finished (UTC)", "base", "read", "on disk");
  for (size_t i = 0; i < d.n_points && rc == EXIT_OK; i++) {
    struct manifest m;

    rc = points_load("list", &d, d.points[i], &m);
    if (rc == EXIT_OK) {
      if (o.json)
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
  cli_opts_free(&o);
  return rc;
}
