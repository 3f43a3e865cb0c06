/*
 * backup.h -- one VM's backup, as `freevix backup` runs it for each VM
 * (cmd_backup.c runs several at once with --jobs).
 *
 * The steps, each named in the step lines and the test hook:
 *   resolved   the VM is found, its backup directory locked and checked
 *   prepared   PrepareForAccess held (a journal lease owned by this
 *              process), CBT switched on if asked
 *   snapshot   the snapshot is taken (recorded in the journal first)
 *   reading    the first data of the first disk is in
 *   committed  every disk is written and flushed, the manifest renamed
 *              into place: the point exists
 *   snapshot-removed, ended   the clean-up: RemoveSnapshot, then
 *              EndAccess, whatever happened before (also on SIGINT and
 *              SIGTERM, which stop the reads)
 * FREEVIX_BACKUP_STEP_FD="W,R" (for tests, steps.h) makes each step write
 * "MOREF STEP\n" to descriptor W and wait for a line on descriptor R.
 */
#ifndef FREEVIX_CLI_BACKUP_H
#define FREEVIX_CLI_BACKUP_H

#include <signal.h>
#include <stdbool.h>

#include "cli.h"
#include "manifest.h"
#include "progress.h"

/* What every VM's backup shares (read-only while jobs run). */
struct backup_ctx {
  const struct cli_opts *o;
  struct progress *prog;
  volatile sig_atomic_t *cancel;   /* the signal number that stops us */
  const char *identity;            /* --identity or "freevix-backup" */
  bool stream;                     /* --format stream */
  bool access_held;                /* the caller holds PrepareForAccess
                                      on the VMs (the demo): neither
                                      prepare nor end it */
};

/* One VM's outcome. */
struct backup_result {
  int exit_code;                   /* EXIT_* as the other commands */
  VixError err;                    /* VIX_OK or what failed */
  char error[1024];                /* one line when it failed */
  char cleanup[1024];              /* one line when the clean-up failed:
                                      what is left and the command that
                                      finishes it */
  char dir[4096];                  /* the VM's backup directory */
  bool committed;                  /* the point exists */
  struct manifest m;               /* the point (when committed) */
};

/* Backs up the VM named by spec.  Fills *r (zeroed first; free r->m with
 * manifest_free). */
void backup_vm(const struct backup_ctx *c, const char *spec,
               struct backup_result *r);

#endif
