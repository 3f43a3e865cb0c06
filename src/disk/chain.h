/*
 * chain.h -- an open disk: the chain of links (chain.c), shared with
 * attach.c, info.c, create.c and manage.c.
 */
#ifndef FVX_DISK_CHAIN_H
#define FVX_DISK_CHAIN_H

#include <stddef.h>

#include "disk/disk.h"
#include "disk/link.h"

/* links[0] is the opened (top) link, links[n-1] the bottom one. */
struct disk {
  struct link *links[DISK_MAX_LINKS]; /* owned */
  size_t n;
  unsigned flags; /* DISK_OPEN_* */
};

/* Top link of an open disk.  Can't fail. */
struct link *disk_top(struct disk *d);

#endif
