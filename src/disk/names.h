/*
 * names.h -- the names a disk's files and descriptors carry: file-name
 * helpers (base name, extent names, renamed extents, parentFileNameHint),
 * the createType table, and content IDs.  Pure functions on strings, shared
 * by link.c, create.c, manage.c and attach.c (names.c).
 */
#ifndef FVX_DISK_NAMES_H
#define FVX_DISK_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "disk/disk.h"

/* The part of path after its last '/' (path itself when it has none); a
 * pointer into path.  Can't fail. */
const char *disk_base_name(const char *path);

/* parentFileNameHint for a child called child whose parent is called
 * parent: the parent's base name when both share a directory, else parent
 * itself (a pointer into parent).  Can't fail. */
const char *disk_parent_hint(const char *child, const char *parent);

/* Extent file name number i (1-based) of a link called path, as VMware
 * names them: "<stem>-s001.vmdk" for tag 's', "-f001" for 'f', and
 * "<stem>-flat.vmdk" for i == 0 (stem: the base name without ".vmdk").
 * malloc'd (the caller frees it); NULL with DISK_E_NOMEM recorded. */
char *disk_extent_name(const char *path, char tag, unsigned i);

/* New name of an extent file 'file' when its link moves from src to dst:
 * src's stem in front of the name becomes dst's ("a-s001.vmdk" ->
 * "b-s001.vmdk"); other names are kept.  malloc'd; NULL with DISK_E_NOMEM
 * recorded. */
char *disk_renamed_extent(const char *src, const char *dst, const char *file);

/* The descriptor's name of a metadata key into out (len bytes): VDDK names
 * keys without the "ddb." prefix ("adapterType"), the descriptor with it;
 * both forms are accepted.  DISK_E_ARG (nothing recorded) when the result
 * does not fit or names no key ("ddb." alone). */
int disk_ddb_key(const char *key, char *out, size_t len);

/* A fresh random content ID (never 0xffffffff or 0xfffffffe).  Can't
 * fail. */
uint32_t disk_new_cid(void);

/* Kind named by a createType (case-insensitive): DISK_OK with *out set
 * (DISK_KIND_UNKNOWN for known types without a VixDiskLibDiskType: custom,
 * devices), or DISK_E_UNSUPPORTED naming it (detail recorded with 'what')
 * for a createType VMware's format does not list.  And back: the name
 * freevix writes (NULL for a kind without one, DISK_KIND_UNKNOWN
 * included).  Static. */
int disk_kind_lookup(const char *create_type, enum disk_kind *out,
                     const char *what);
const char *disk_create_type(enum disk_kind kind);

#endif
