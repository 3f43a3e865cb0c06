/*
 * cli.h -- what the freevix command's files share: parsed options, exit
 * codes, output helpers.
 */
#ifndef FREEVIX_CLI_H
#define FREEVIX_CLI_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "freevix.h"

/* Exit codes (documented in freevix(1) and docs/cli.md). */
enum cli_exit {
  EXIT_OK = 0,
  EXIT_FAILURE_OTHER = 1, /* anything not listed below */
  EXIT_USAGE = 2,         /* bad command line */
  EXIT_HELD = 3,          /* the VM is held by another source */
  EXIT_AUTH = 4,          /* authentication or permission */
  EXIT_CONNECT = 5,       /* cannot reach or trust the server */
  EXIT_PARTIAL = 6,       /* a batch failed for some VMs */
};

#define CLI_MAX_VMS 100000

struct cli_opts {
  const char *server;
  unsigned port;
  const char *user;
  char *password;          /* from --password-file or FREEVIX_PASSWORD; wiped */
  const char *thumbprint;
  const char **vms;        /* --vm values and --vm-file lines, owned */
  size_t n_vms;
  const char **specs;      /* vms resolved to vmxSpecs (cli_resolve_vms);
                              point into 'matches' */
  freevix_vm_match *matches; /* freevix_vm_lookup's answer, owned */
  const char *identity;
  long wait_ms;            /* --wait; 0: do not wait */
  long ttl_ms;             /* --ttl */
  const char *lease;       /* session | journal | none; NULL: not given */
  const char *reason;      /* --reason */
  const char *state_dir;   /* --state-dir (else FREEVIX_STATE_DIR, ...) */
  unsigned methods;        /* --method bits (FREEVIX_METHOD_*); 0: relocate */
  unsigned batch_size;     /* --batch-size; 0: library default */
  long keepalive_ms;       /* --keepalive */
  bool dry_run;            /* sweep --dry-run */
  const char *datastore;   /* relocate --datastore */
  const char *sim;         /* demo --sim PATH */
  bool insecure;
  bool json;
  bool help;
  int rest;                /* index in argv of the first operand after -- */
  /* backup, verify, restore, list */
  const char *to;          /* backup: repository; restore: output file */
  bool incremental;        /* backup --incremental */
  bool quiesce;            /* backup --quiesce */
  bool enable_cbt;         /* backup --enable-cbt */
  bool skip_independent;   /* backup --skip-independent */
  bool deep;               /* verify --deep */
  bool no_verify;          /* restore --vm --no-verify */
  const char *format;      /* backup: vmdk|stream; restore: vmdk|raw */
  const char *transport;   /* ConnectEx transport modes, e.g. "nbdssl" */
  unsigned jobs;           /* backup --jobs; 0: 1 */
  unsigned point;          /* --point; 0: the latest */
  unsigned keep;           /* prune --keep; 0: not given */
  unsigned full_every;     /* backup --full-every: points per chain; 0:
                              no limit */
  long disk;               /* --disk KEY */
  bool disk_given;
};

/* Parses argv (after the subcommand name) into *o.  'allowed' is a string
 * of the long options the subcommand takes, e.g. "server,port,vm".  Prints
 * the problem and returns false on bad usage. */
bool cli_parse(int argc, char **argv, const char *cmd, const char *allowed,
               struct cli_opts *o);
void cli_opts_free(struct cli_opts *o);

/* Prints a subcommand's --help text (cmd: its name). */
typedef void cli_help_fn(const char *cmd);

/* Every subcommand's start: cli_parse, then --help answered with help.
 * Returns -1 when the command goes on with *o, else the exit code to
 * return (EXIT_USAGE after bad usage, EXIT_OK after the help), *o freed. */
int cli_begin(int argc, char **argv, const char *cmd, const char *allowed,
              cli_help_fn *help, struct cli_opts *o);

/* True when arg is one of the long options ("--server") that takes its
 * value in the next argument. */
bool cli_option_takes_value(const char *arg);

/* Fills VDDK connect params from the options (strings borrowed from o) for
 * VM number i, resolved (o->specs; or no VM when i == (size_t)-1). */
void cli_params(const struct cli_opts *o, size_t i,
                VixDiskLibConnectParams *p);

/* Initializes the library with freevix's log callbacks: warnings go to
 * stderr, debug only with --verbose / FREEVIX_DEBUG. */
bool cli_init_library(const struct cli_opts *o);

/* Checks --identity (freevix_check_identity); prints what is wrong with
 * it, its length and the limit.  Returns EXIT_OK or EXIT_USAGE. */
int cli_check_identity(const char *cmd, const char *identity);

/* Resolves o->vms (names, inventory paths, bare morefs, vmxSpecs) to
 * o->specs with one freevix_vm_lookup.  A VM that names nothing, or
 * several VMs (the candidates are listed), is printed and nothing else
 * happens.  Returns EXIT_OK or the exit code. */
int cli_resolve_vms(struct cli_opts *o, const char *cmd);

/* Maps a VixError to the command's exit code. */
int cli_exit_code(VixError err);

/* Prints "freevix CMD: <text of err>" to stderr. */
void cli_report(const char *cmd, const char *what, VixError err);

/* Writes s as a JSON string literal (quotes, escapes). */
void cli_json_string(FILE *f, const char *s);

/* Parses durations like "10s", "500ms", "2m", "1h" into milliseconds. */
bool cli_parse_duration(const char *s, long *out_ms);

/* Opens an access handle for the options (identity, methods, reason,
 * batch size, wait with a progress display on stderr, lease mode 'lease',
 * journal ownership).  Prints the failure and returns its exit code, or
 * EXIT_OK with *out set. */
int cli_access_open(const struct cli_opts *o, const char *cmd,
                    const char *lease, bool process_owned,
                    freevix_access **out);

/* The lease mode named by --lease, or 'fallback' when not given. */
unsigned cli_lease_mode(const struct cli_opts *o, unsigned fallback);

/* Prints one VM's result of prepare/end (a line, or a JSON object). */
void cli_print_result(const struct cli_opts *o, const char *cmd,
                      const char *spec, const freevix_vm_result *r,
                      bool prepare);

/* The exit code of a batch call: 0 when every VM is fine, 6 when some
 * are and some are not, else the first failure's. */
int cli_batch_exit(VixError err, const freevix_vm_result *r, size_t n);

/* path made absolute against the working directory (VixDiskLib takes
 * absolute paths only) into out; false when it does not fit. */
bool cli_absolute_path(const char *path, char *out, size_t n);

/* The command that finishes a clean-up a run could not do (re-enabling
 * migration, removing its snapshot): `freevix sweep` with the options'
 * server, port, user and state directory. */
void cli_sweep_hint(const struct cli_opts *o, char *out, size_t n);

/* Catches SIGINT, SIGTERM and SIGHUP from now on: the first one's number
 * goes into the flag returned (0 until then), which long commands poll to
 * stop cleanly; a second signal changes nothing. */
volatile sig_atomic_t *cli_catch_stop_signals(void);

/* Sends SIGINT, SIGTERM and SIGHUP to handler from now on (what
 * cli_catch_stop_signals does with its own). */
void cli_on_stop_signals(void (*handler)(int));

/* Subcommands. */
int cmd_prepare(int argc, char **argv);
int cmd_end(int argc, char **argv);
int cmd_relocate(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_backup(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_restore(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_prune(int argc, char **argv);

#endif
