/*
 * dirs.h -- creating directory paths, for the lease journal (src/access) and
 * the backup directories of the freevix command (cli/backupdir.c, which
 * compiles dirs.c itself: the command links only the library's public ABI).
 */
#ifndef FVX_UTIL_DIRS_H
#define FVX_UTIL_DIRS_H

#include <sys/types.h>

/* mkdir -p: creates path and its missing parents with the given mode (an
 * existing directory is fine and keeps its mode).  Returns 0, or the errno
 * of the failed mkdir (ENAMETOOLONG when path has 4096 bytes or more);
 * the parents created before a failure stay. */
int fvx_mkdirs(const char *path, mode_t mode);

#endif
