/*
 * create.h -- making new links (create.c), shared with manage.c.
 */
#ifndef FVX_DISK_CREATE_H
#define FVX_DISK_CREATE_H

#include <stdint.h>

#include "disk/descriptor.h"
#include "disk/disk.h"

/* Sectors per extent of twoGbMaxExtent* disks (VMware's 2 GB - 1 MB). */
#define SPLIT_EXTENT_SECTORS 4192256u
/* Largest capacity of a single sparse extent we create (32-bit offsets). */
#define SPARSE_CREATE_MAX 0xff000000u

/* Creates a sparse extent file at path (O_EXCL) for capacity sectors, with
 * desc_text (NULL: none) embedded.  The file is removed on failure. */
int create_sparse_file(const char *path, uint64_t capacity,
                       const char *desc_text);

/* Creates the files of a new link at path of the given kind and capacity:
 * the extents (added to *desc, named after path) and the descriptor (from
 * *desc: header fields and ddb as filled by the caller).  Nothing is left
 * behind on failure. */
int create_link(const char *path, enum disk_kind kind, uint64_t capacity,
                struct descriptor *desc);

/* Fills desc's header and ddb for a new base disk. */
int create_fill_desc(struct descriptor *desc, const struct disk_create_params *p);

/* Extent file name number i (1-based) of a link at path: "<stem>-s001.vmdk"
 * for 's', "-f001" for 'f', "-flat" for i == 0.  malloc'd, NULL on ENOMEM. */
char *create_extent_name(const char *path, char tag, unsigned i);

#endif
