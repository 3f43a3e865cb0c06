/*
 * restore_vm.h -- a backup point written back into the disks of a VM on
 * vCenter, through VDDK's network transport (NFC writes): what `freevix
 * restore DIR --vm SPEC` does.  docs/backup.md ("Restoring into vCenter")
 * tells the workflow and its guarantees.
 */
#ifndef FREEVIX_CLI_RESTORE_VM_H
#define FREEVIX_CLI_RESTORE_VM_H

#include <signal.h>

#include "backupdir.h"
#include "cli.h"
#include "manifest.h"

/* Restores the disks of point m (those o->disk chooses: one, or all) of
 * the backup directory d into the VM named by vmxSpec spec on the server
 * of the options, reading the backup on the local connection local.  The
 * VM must be powered off and have a disk of the same device key and
 * capacity for each; everything is checked before anything is written.
 * identity is the PrepareForAccess identity.  Each disk's outcome is
 * printed (a line, or a JSON object with --json).  Stops as soon as
 * *cancel is set.  Returns an exit code. */
int restore_vm(const struct cli_opts *o, const struct backup_dir *d,
               const struct manifest *m, const char *spec,
               const char *identity, VixDiskLibConnection local,
               volatile sig_atomic_t *cancel);

#endif
