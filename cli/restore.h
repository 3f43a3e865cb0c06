/*
 * restore.h -- one backed-up disk (a point's VMDK and its chain) written as
 * one local file, a flat monolithicSparse VMDK (VixDiskLib_Clone through
 * the chain) or a raw image (holes kept), and checked bit for bit: the
 * SHA-256 of what was written must be the expected one, or the file is
 * removed.  It is written under a ".partial" name and renamed into place
 * once checked, so the target exists only when it is right.
 */
#ifndef FREEVIX_CLI_RESTORE_H
#define FREEVIX_CLI_RESTORE_H

#include <stdbool.h>
#include <stddef.h>

#include "freevix.h"

/* Restores src (absolute) to target (absolute, must not exist) on the
 * local connection c.  Returns VIX_OK (got: the SHA-256, as expected), or
 * the error with what saying what failed; nothing is left at target then.
 * An existing target, or an existing ".partial" file, is refused
 * (VIX_E_FILE_ALREADY_EXISTS). */
VixError restore_file(VixDiskLibConnection c, const char *src,
                      const char *target, bool raw, const char *expected,
                      char got[65], char *what, size_t n);

#endif
