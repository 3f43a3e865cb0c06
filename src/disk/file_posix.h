/*
 * file_posix.h -- the local file system's file-system operations, for the
 * local-only management code (create.c, manage.c, sparse.c's compaction).
 *
 * Opening, reading and writing files goes through disk_vfs_posix() and the
 * wrappers of file.h like any other source; what a vfs cannot express --
 * creating a file exclusively, temporary files, rename, unlink, directory
 * fsync -- is here, in one file (file_posix.c), so no syscall is scattered
 * over the format code.  Paths are absolute local paths (the api checks).
 * Each function returns DISK_OK or a DISK_E_* status with the detail
 * recorded (error.h), and changes nothing on failure unless said.
 */
#ifndef FVX_DISK_FILE_POSIX_H
#define FVX_DISK_FILE_POSIX_H

#include <stdbool.h>

#include "disk/file.h"

/* Creates path (exclusively, mode 0644) and opens it for writing: a posix
 * disk_file with every capability but CAN_ALLOC.  DISK_E_EXISTS when path
 * exists.  *out is the caller's (disk_file_close), NULL on failure. */
int disk_posix_create(const char *path, struct disk_file **out);

/* Creates a temporary file "<beside>.fvxtmpXXXXXX" in beside's directory,
 * with beside's mode, open for writing.  *out is the caller's; its name is
 * the temporary path.  On failure nothing is left behind. */
int disk_posix_temp(const char *beside, struct disk_file **out);

/* Renames the file of f (a posix file) to 'to', replacing what is there,
 * and renames f with it (f->name becomes 'to').  DISK_E_NOTCAPABLE for a
 * file of another source. */
int disk_posix_rename_file(struct disk_file *f, const char *to);

/* Renames from to to (replacing what is there). */
int disk_posix_rename(const char *from, const char *to);

/* Removes path.  DISK_E_NOTFOUND (detail recorded) when it is not there. */
int disk_posix_unlink(const char *path);

/* Removes path, if it can, after a failed operation that created it: it
 * records nothing, so the failure being reported keeps its detail.  Can't
 * fail. */
void disk_posix_discard(const char *path);

/* True when a directory entry called path exists (a dangling symbolic link
 * counts).  Can't fail: an unreadable directory answers false. */
bool disk_posix_exists(const char *path);

/* fsync of the directory holding path, so a rename or create in it is
 * durable. */
int disk_posix_sync_dir(const char *path);

#endif
