/*
 * delta.h -- read-only two-level delta extents: ESXi's vmfsSparse (COWD)
 * redo logs (cowd.c) and VMFS6's SEsparse snapshots (sesparse.c).
 *
 * Both formats find a grain through a grain directory (GD) of table
 * references and grain tables (GT) of DELTA_GTES entries.  What differs is
 * the header and how one directory or table entry is encoded; that is all
 * a format file provides: a header decoder filling struct delta_layout, and
 * two entry decoders.  The rest lives in delta.c:
 *
 *   pure (byte buffers in, checked values out; fuzzed, unit-tested without
 *   files): delta_gd_decode, delta_gt_decode, delta_map_run;
 *   glue: loading the directory, the bounded direct-mapped table cache
 *   (DELTA_GT_CACHE tables of DELTA_GTES normalised entries, at most
 *   DELTA_GT_CACHE * DELTA_GTES * 8 bytes = 1 MiB per extent, allocated on
 *   first use) and the extent ops (map, flush, close; no write).
 *
 * A normalised entry is DELTA_HOLE (not in this link: the parent's data),
 * DELTA_ZERO (reads as zeros), or the sector of the grain in the file.
 * Every entry is checked when decoded: a table lies wholly inside the file,
 * inside the layout's table area and off the header and the directory, and
 * no two tables overlap; a grain lies wholly inside the file, inside the
 * grain area and off the header and the directory.  Anything else is
 * DISK_E_NEEDSREPAIR with the entry named in the detail.
 */
#ifndef FVX_DISK_DELTA_H
#define FVX_DISK_DELTA_H

#include <stdint.h>

#include "disk/extent.h"

#define DELTA_HOLE 0u
#define DELTA_ZERO 1u
#define DELTA_GTES 4096u   /* entries per grain table, both formats */
#define DELTA_GT_CACHE 32u /* cached tables per extent */
#define DELTA_MAX_GD_BYTES (32u << 20) /* largest directory read */

/* What a format's header decoder finds (all in 512-byte sectors). */
struct delta_layout {
  uint64_t capacity;      /* sectors the extent describes */
  uint64_t grain;         /* sectors per grain, 1..2048 */
  uint64_t gd_offset;     /* first sector of the directory */
  uint64_t gd_entries;    /* directory entries read: ceil(capacity / GT) */
  uint64_t gd_sectors;    /* sectors the directory takes in the file */
  unsigned entry_bytes;   /* 4 or 8: size of a GD and a GT entry */
  uint64_t gt_sectors;    /* sectors one table takes */
  uint64_t meta_end;      /* sectors [0, meta_end) hold headers */
  uint64_t gt_lo, gt_hi;  /* tables lie in [gt_lo, gt_hi) */
  uint64_t grain_lo, grain_hi; /* grains lie in [grain_lo, grain_hi) */
  uint64_t file_sectors;  /* whole sectors in the file */
};

/* How a format encodes entries.  Each decoder turns one raw entry (host
 * order) into a table sector (0: none) or a normalised grain entry, or
 * returns DISK_E_NEEDSREPAIR (no detail: the caller names the entry) for
 * an encoding the format does not allow. */
struct delta_format {
  const char *name; /* "vmfsSparse", "SEsparse": for details */
  const struct extent_ops *ops; /* installed by delta_open */
  int (*gde)(const struct delta_layout *l, uint64_t raw, uint64_t *table);
  int (*gte)(const struct delta_layout *l, uint64_t raw, uint64_t *entry);
};

/* Decodes n raw directory entries (n * entry_bytes little-endian bytes)
 * into out[n] table sectors and checks them (inside the file and the table
 * area, off the header and directory, no overlaps).  DISK_OK,
 * DISK_E_NEEDSREPAIR or DISK_E_NOMEM, detail recorded with 'what'. */
int delta_gd_decode(const struct delta_layout *l,
                    const struct delta_format *f, const uint8_t *raw,
                    uint64_t n, uint64_t *out, const char *what);

/* Decodes raw table number 'table' (DELTA_GTES entries) into
 * out[DELTA_GTES] and checks every grain.  DISK_OK or DISK_E_NEEDSREPAIR
 * (detail recorded with 'what'). */
int delta_gt_decode(const struct delta_layout *l,
                    const struct delta_format *f, const uint8_t *raw,
                    uint64_t table, uint64_t *out, const char *what);

/* Looks up the normalised entry of grain g. */
typedef int delta_entry_fn(void *ctx, uint64_t g, uint64_t *entry);

/* The map() of grain-table formats (hosted sparse and stream extents use it
 * too, through sparse_map_run): the leading run of [sector, sector+n)
 * whose grains share one state -- HOLE, ZERO, or allocated ('alloc'): for
 * MAP_DATA only grains back to back in the file form one run (offset set
 * to the byte of 'sector'), for MAP_CODED any allocated grains do (offset
 * 0).  Entries come from entry(ctx, g); its failure is returned. */
int delta_map_run(uint64_t grain, uint64_t sector, uint64_t n,
                  delta_entry_fn *entry, void *ctx, enum map_kind alloc,
                  struct extent_map *out);

/* Reads len bytes at byte offset off of e's file (zeros past its end; *got,
 * which may be NULL, receives the bytes really there).  The one place the
 * delta formats do I/O. */
int delta_read(struct extent *e, void *buf, size_t len, uint64_t off,
               size_t *got);

/* The extent ops both formats share (a format's ops table names them). */
int delta_extent_map(struct extent *e, uint64_t sector, uint64_t n,
                     struct extent_map *out);
int delta_extent_flush(struct extent *e);
void delta_extent_close(struct extent *e);

/* Loads the directory of layout l through e (whose file is open and
 * file_size set) and installs the read-only delta ops for format f; on
 * failure e->ops stays NULL and nothing is kept.  The layout must come
 * from the format's header decoder (checked against the file). */
int delta_open(struct extent *e, const struct delta_layout *l,
               const struct delta_format *f);

/* Format openers (cowd.c, sesparse.c): read and check the header(s) of
 * e's file and call delta_open.  DISK_E_CORRUPT (not such a file, fields
 * out of range), DISK_E_VERSION, DISK_E_UNSUPPORTED (a feature we refuse:
 * an SEsparse journal that needs replay), DISK_E_DESCRIPTOR (the
 * descriptor's extent is larger than the file's capacity), or the
 * directory's DISK_E_NEEDSREPAIR. */
int cowd_open(struct extent *e);
int sesparse_open(struct extent *e);

/* ---- the format decoders, exposed for tests and fuzz targets ---------- */

#define COWD_HEADER_BYTES 2048u
#define SESPARSE_HEADER_BYTES 512u

/* Decodes a COWD header (the first COWD_HEADER_BYTES of a file of
 * file_size bytes) into *l.  DISK_E_CORRUPT / DISK_E_VERSION, detail
 * recorded with 'what'. */
int cowd_header_decode(struct delta_layout *l, const uint8_t *raw,
                       uint64_t file_size, const char *what);
extern const struct delta_format cowd_format;

/* Decodes the SEsparse constant header (sector 0 of a file of file_size
 * bytes) into *l and gives the sector of the volatile header, which
 * sesparse_volatile_check then checks (magic, padding, and the journal:
 * DISK_E_UNSUPPORTED when it needs replay).  DISK_E_CORRUPT /
 * DISK_E_VERSION / DISK_E_UNSUPPORTED, detail recorded with 'what'. */
int sesparse_header_decode(struct delta_layout *l, const uint8_t *raw,
                           uint64_t file_size, uint64_t *volatile_sector,
                           const char *what);
int sesparse_volatile_check(const uint8_t *raw, const char *what);
extern const struct delta_format sesparse_format;

#endif
