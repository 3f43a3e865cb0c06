/*
 * chain.h -- links (one descriptor and its extents) and the writer lock,
 * shared by chain.c, create.c and manage.c.
 */
#ifndef FVX_DISK_CHAIN_H
#define FVX_DISK_CHAIN_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "disk/descriptor.h"
#include "disk/disk.h"
#include "disk/extent.h"

struct link {
  char *path;        /* absolute path of the descriptor (or sparse) file */
  int fd;            /* that file; carries the writer lock when writable */
  bool writable;
  bool embedded;     /* descriptor inside a sparse extent's text area */
  bool synthetic;    /* sparse extent without descriptor: nothing to write */
  uint64_t desc_off; /* bytes, embedded only */
  uint64_t desc_cap; /* bytes, embedded only */
  struct descriptor desc;
  struct extent *ext;
  size_t n_ext;
  uint64_t capacity;
  enum disk_kind kind;
  dev_t dev;
  ino_t ino;
  bool cid_fresh;    /* CID already renewed since open */
};

/* Opens a link; writable takes the writer lock (DISK_E_LOCKED).  *out is
 * the caller's, freed with link_close. */
int link_open(struct link **out, const char *path, bool writable);
/* Closes extents and the descriptor file (dropping the lock); NULL ok. */
void link_close(struct link *l);
/* Rewrites the link's descriptor from l->desc (in place; embedded areas are
 * zero-padded).  DISK_E_NOSPACE when it outgrows an embedded area. */
int link_write_desc(struct link *l);
/* Resolves 'name' relative to the directory of 'base'.  malloc'd or NULL. */
char *disk_path_resolve(const char *base, const char *name);
/* Takes the writer lock on fd (DISK_E_LOCKED when held elsewhere). */
int disk_lock_writer(int fd, const char *what);
/* parentFileNameHint for a child at child_path whose parent is at ppath:
 * the parent's file name when both share a directory, else ppath itself
 * (a pointer into ppath). */
const char *disk_parent_hint(const char *child_path, const char *ppath);
/* A fresh random content ID (never 0xffffffff or 0xfffffffe). */
uint32_t disk_new_cid(void);
/* Kind named by a createType: DISK_OK with *out set (DISK_KIND_UNKNOWN for
 * known types without a VixDiskLibDiskType: custom, devices), or
 * DISK_E_UNSUPPORTED naming it (detail recorded with 'what') for a
 * createType VMware's format does not list. */
int disk_kind_lookup(const char *create_type, enum disk_kind *out,
                     const char *what);
/* The createType freevix writes for a kind (NULL for DISK_KIND_UNKNOWN). */
const char *disk_create_type(enum disk_kind kind);
/* Flushes every extent of a link (fdatasync). */
int link_flush(struct link *l);
/* Top link of an open disk (chain.c). */
struct link *disk_top(struct disk *d);

#endif
