/*
 * vmfile.h -- the --vm-file reader: one VM per line.
 *
 * Lines are at most VMFILE_LINE_MAX bytes; '#' starts a comment line;
 * blank lines are skipped; blanks around an entry are trimmed.  A line
 * with a control character, or a longer one, stops the reading with its
 * line number.  Kept apart from the option parser so that the fuzz target
 * (fuzz/cli_vmfile.c) runs exactly this code.
 */
#ifndef FREEVIX_CLI_VMFILE_H
#define FREEVIX_CLI_VMFILE_H

#include <stdbool.h>
#include <stdio.h>

#define VMFILE_LINE_MAX 2048

/* Told each entry (trimmed, NUL-terminated, valid for the call only);
 * returns false to stop the reading (vmfile_read then returns false). */
typedef bool vmfile_entry_fn(void *opaque, const char *entry);

/* Reads f to its end, calling add for each entry.  Problems are printed
 * to diag (the command: stderr) as "freevix: NAME:LINE: what", NAME naming
 * f.  Returns true when the whole file was read and every add returned
 * true. */
bool vmfile_read(FILE *f, const char *name, vmfile_entry_fn *add,
                 void *opaque, FILE *diag);

#endif
