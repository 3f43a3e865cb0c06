/*
 * descriptor.h -- the VMDK text descriptor: parse, edit, write.
 *
 * A descriptor is a small text file (or a text area inside a monolithic
 * sparse extent) with three sections: header lines `key=value` (version,
 * CID, parentCID, createType, parentFileNameHint, ...), extent lines
 * `RW 4192256 SPARSE "disk-s001.vmdk"`, and the disk database
 * `ddb.key = "value"`.  The parser is strict: every line must be a comment,
 * blank, or one of those three shapes; keys are [A-Za-z0-9._-], values hold
 * no control characters and no quotes; duplicate keys, NUL bytes, more than
 * DESC_MAX_EXTENTS extents, extent sizes whose sum overflows, or a text
 * larger than DESC_MAX_BYTES are refused.  Header keys we do not know are
 * kept and written back in order.
 */
#ifndef FVX_DISK_DESCRIPTOR_H
#define FVX_DISK_DESCRIPTOR_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define DESC_MAX_BYTES (1u << 20)
#define DESC_MAX_EXTENTS 16384u
#define DESC_MAX_KEYS 4096u
#define DESC_MAX_VALUE 4096u
#define DESC_CID_NONE 0xffffffffu

enum desc_access { DESC_RW, DESC_RDONLY, DESC_NOACCESS };

enum desc_extent_type {
  DESC_EXT_SPARSE,     /* hosted sparse (KDMV), incl. streamOptimized */
  DESC_EXT_FLAT,       /* raw data at an offset of a file */
  DESC_EXT_ZERO,       /* no file, reads zeros */
  DESC_EXT_VMFS,       /* ESX flat file, no offset */
  DESC_EXT_VMFSSPARSE, /* ESX vmfsSparse redo log (COWD), read-only */
  DESC_EXT_VMFSRDM,    /* raw device maps: recognised, not supported */
  DESC_EXT_VMFSRAW,
  DESC_EXT_SESPARSE,   /* VMFS6 SEsparse snapshot delta, read-only */
};

struct desc_extent {
  enum desc_access access;
  uint64_t sectors;
  enum desc_extent_type type;
  char *file;      /* as written (relative to the descriptor); NULL for ZERO */
  uint64_t offset; /* sectors, FLAT only */
};

struct desc_kv {
  char *key;
  char *value; /* without quotes */
};

struct descriptor {
  uint32_t version;
  uint32_t cid, parent_cid;
  char *create_type;
  char *parent_hint;     /* parentFileNameHint or NULL */
  struct desc_kv *extra; /* other header keys, in order */
  size_t n_extra;
  struct desc_extent *ext;
  size_t n_ext;
  struct desc_kv *ddb;   /* ddb.* keys, in order */
  size_t n_ddb;
};

/* Parses len bytes of text (stopping at the first NUL only inside an
 * embedded area, where padding follows: pass the length up to it).  On
 * success *d is filled (free with desc_free); on failure *d is zeroed and
 * the status is DISK_E_DESCRIPTOR (the detail gives the line number) or
 * DISK_E_NOMEM.  'what' names the file in the detail (error.h). */
int desc_parse(struct descriptor *d, const char *text, size_t len,
               const char *what);

/* Appends the text form of d to out.  DISK_E_NOMEM / DISK_E_NOSPACE (cap). */
int desc_format(const struct descriptor *d, struct fvx_buf *out);

/* The text form of d as one malloc'd string (the caller frees it), at most
 * DESC_MAX_BYTES: DISK_E_NOSPACE past that, DISK_E_NOMEM; *out is NULL on
 * failure and the detail (naming 'what') recorded. */
int desc_format_text(const struct descriptor *d, const char *what, char **out);

/* Frees everything d owns and zeroes it; safe on a zeroed descriptor. */
void desc_free(struct descriptor *d);

/* Total capacity in sectors (sum of the extents; checked at parse). */
uint64_t desc_capacity(const struct descriptor *d);

/* DDB lookup: the value or NULL.  Points into d. */
const char *desc_ddb_get(const struct descriptor *d, const char *key);

/* Adds or replaces a ddb key (the key is checked like the parser does:
 * DISK_E_ARG when invalid; DISK_E_NOMEM).  On failure d is unchanged and
 * the detail recorded. */
int desc_ddb_set(struct descriptor *d, const char *key, const char *val);

/* Replaces a string field (create_type, parent_hint, an extent file):
 * frees *slot and stores a copy of val (NULL allowed).  DISK_E_NOMEM leaves
 * *slot unchanged. */
int desc_set_str(char **slot, const char *val);

/* Adds an extent (copying file).  DISK_E_NOMEM leaves d unchanged. */
int desc_add_extent(struct descriptor *d, enum desc_access access,
                    uint64_t sectors, enum desc_extent_type type,
                    const char *file, uint64_t offset);

/* True when s is usable as a file name or value inside quotes. */
int desc_value_ok(const char *s);

#endif
