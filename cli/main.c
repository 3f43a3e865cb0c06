/*
 * main.c -- the freevix command: one table of subcommands.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

struct command {
  const char *name;
  int (*run)(int argc, char **argv);
  const char *summary;
};

static const struct command commands[] = {
  {"prepare", cmd_prepare, "disable migration of VMs (PrepareForAccess)"},
  {"end", cmd_end, "allow migration again (EndAccess)"},
  {"run", cmd_run, "prepare, run a backup command, end access however it ends"},
  {"status", cmd_status, "show disabled methods and their holders"},
  {"sweep", cmd_sweep, "end journal grants whose owner is gone or expired"},
  {"relocate", cmd_relocate, "move a VM (Storage vMotion), as an operator would"},
  {"backup", cmd_backup, "back up VMs: snapshot, full or incremental (CBT), manifest"},
  {"verify", cmd_verify, "check a backup's SHA-256s (--deep: against the server)"},
  {"restore", cmd_restore, "write a backup point to a local VMDK or raw image"},
  {"list", cmd_list, "a backup directory's points, sizes, changeIds"},
  {"prune", cmd_prune, "remove a backup directory's oldest chains, keeping N"},
  {"demo", cmd_demo, "narrated PrepareForAccess/EndAccess demo on the simulator"},
};

static void usage(FILE *f)
{
  fprintf(f, "usage: freevix COMMAND [OPTIONS]   (freevix COMMAND --help)\n\n");
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].summary);
  fprintf(f, "\nExit codes: 0 ok, 1 other failure, 2 usage, 3 held by another "
             "source,\n4 authentication/permission, 5 connection, 6 partial "
             "batch failure.\n");
}

int main(int argc, char **argv)
{
  if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
      strcmp(argv[1], "help") == 0) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? EXIT_USAGE : EXIT_OK;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("freevix %s\n", freevix_version());
    return EXIT_OK;
  }
  for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
    if (strcmp(argv[1], commands[i].name) == 0)
      return commands[i].run(argc - 1, argv + 1);
  fprintf(stderr, "freevix: unknown command \"%s\"\n", argv[1]);
  usage(stderr);
  return EXIT_USAGE;
}
