/*
 * link.h -- one link of a chain: a descriptor and its extents, opened
 * through a vfs (link.c), shared by chain.c, attach.c, info.c, create.c and
 * manage.c.
 */
#ifndef FVX_DISK_LINK_H
#define FVX_DISK_LINK_H

#include <stdbool.h>
#include <stdint.h>

#include "disk/descriptor.h"
#include "disk/disk.h"
#include "disk/extent.h"
#include "disk/file.h"

struct link {
  char *path; /* the vfs's name of the descriptor (or sparse) file */
  const struct disk_vfs *vfs; /* where it and its extents come from */
  struct disk_file *file;     /* that file, owned; carries the writer lock */
  bool writable;
  bool embedded;     /* descriptor inside a sparse extent's text area */
  bool synthetic;    /* sparse extent without descriptor: nothing to write */
  bool raw;          /* disk_open_raw: a flat file, descriptor in memory
                        only (never written, no CID) */
  uint64_t desc_off; /* bytes, embedded only */
  uint64_t desc_cap; /* bytes, embedded only */
  struct descriptor desc;
  struct extent *ext;
  size_t n_ext;
  uint64_t capacity;
  enum disk_kind kind;
  bool cid_fresh; /* CID already renewed since open */
};

/* Opens the link called path through vfs; writable opens it for writing
 * (the file and every RW extent must have DISK_FILE_CAN_WRITE, and a text
 * descriptor file DISK_FILE_CAN_TRUNCATE, else DISK_E_NOTCAPABLE before
 * anything is written) and takes the writer lock
 * when the file can lock (DISK_E_LOCKED when another writer holds it; a
 * source that cannot lock leaves locking to its server).  A sparse file
 * with an embedded descriptor, or without one, is its own single extent,
 * whatever name the descriptor gives it.  *out is the caller's, freed with
 * link_close; NULL on failure, with nothing left open. */
int link_open(struct link **out, const struct disk_vfs *vfs, const char *path,
              bool writable);

/* A link of one flat extent over f (logical bytes, f->size / 512 sectors),
 * with the ddb pairs of ddb (NULL or NULL-terminated key, value, ...) and
 * kind.  f is the link's whatever the result (closed on failure).
 * writable needs DISK_FILE_CAN_WRITE (DISK_E_NOTCAPABLE); DISK_E_ARG for
 * a bad ddb key or value, or a file without a whole sector. */
int link_open_raw(struct link **out, struct disk_file *f,
                  const char *const *ddb, enum disk_kind kind, bool writable);

/* Closes extents and the link's file (dropping the lock); NULL ok. */
void link_close(struct link *l);

/* Rewrites the link's descriptor from l->desc (in place; embedded areas are
 * zero-padded).  DISK_E_NOSPACE when it outgrows an embedded area,
 * DISK_E_NOTCAPABLE for a raw link. */
int link_write_desc(struct link *l);

/* Syncs every file of a writable link once (extents, then the descriptor
 * file when it is not also an extent). */
int link_flush(struct link *l);

/* Runs the extents' finish (a stream writer completes its file); the first
 * failure is returned, every extent is tried.  Before link_flush at close. */
int link_finish(struct link *l);

/* True when e's file is the link's own file (closed with the link). */
bool link_owns_extent_file(const struct link *l, const struct extent *e);

/* True when a and b were opened from the same file (equal disk_file ids):
 * the chain-loop and attach checks.  Can't fail. */
bool link_same_file(const struct link *a, const struct link *b);

#endif
