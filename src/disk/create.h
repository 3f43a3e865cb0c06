/*
 * create.h -- making new links and their files (create.c), shared with
 * manage.c.  Local file system only (file_posix.h).
 */
#ifndef FVX_DISK_CREATE_H
#define FVX_DISK_CREATE_H

#include <stddef.h>
#include <stdint.h>

#include "disk/descriptor.h"
#include "disk/disk.h"

/* Sectors per extent of twoGbMaxExtent* disks (VMware's 2 GB - 1 MB). */
#define SPLIT_EXTENT_SECTORS 4192256u
/* Largest capacity of a single sparse extent we create (32-bit offsets). */
#define SPARSE_CREATE_MAX 0xff000000u

/* Files made by an operation that may still fail: undone (removed) or kept
 * as a whole.  Zero-initialise; created_undo or created_keep frees it. */
struct created {
  char **paths; /* malloc'd */
  size_t n;
};
/* Removes every file recorded (recording nothing, so the failure being
 * reported keeps its detail), then frees the list.  Can't fail. */
void created_undo(struct created *c);
/* Frees the list, keeping the files.  Can't fail. */
void created_keep(struct created *c);

/* Creates a sparse extent file at path (exclusively) for capacity sectors,
 * with desc_text (NULL: none) embedded.  The file is removed on failure. */
int create_sparse_file(const char *path, uint64_t capacity,
                       const char *desc_text);

/* Creates a flat extent file at path (exclusively), sized to sectors with
 * a truncate (sparse on the host).  The file is removed on failure. */
int create_flat_file(const char *path, uint64_t sectors);

/* Creates the extent files for 'sectors' more sectors of a link of kind
 * (split kinds: numbered first+1, first+2... in SPLIT_EXTENT_SECTORS
 * pieces; other flat kinds: "<name>-flat.vmdk"), named after path and
 * added to *desc, each recorded in *made as it is created.  On failure the
 * files made so far stay recorded: the caller undoes them. */
int create_extents(const char *path, enum disk_kind kind, uint64_t sectors,
                   unsigned first, struct descriptor *desc,
                   struct created *made);

/* Creates the files of a new link at path of the given kind and capacity:
 * the extents (added to *desc, named after path) and the descriptor (from
 * *desc: header fields and ddb as filled by the caller).  Nothing is left
 * behind on failure. */
int create_link(const char *path, enum disk_kind kind, uint64_t capacity,
                struct descriptor *desc);

/* Fills desc's header and ddb for a new base disk. */
int create_fill_desc(struct descriptor *desc, const struct disk_create_params *p);

#endif
