/*
 * grain.h -- hosted sparse extent metadata: header, grain directory, grain
 * tables (shared by sparse.c and stream.c, and the fuzz targets).
 *
 * Layout of a hosted sparse extent (VMware "Virtual Disk Format 1.1"): a
 * 512-byte header, an optional embedded descriptor, a grain directory (GD,
 * one 32-bit sector offset per grain table, 0 = none) and its redundant
 * copy, grain tables (GT, numGTEsPerGT 32-bit entries: 0 = not allocated,
 * 1 = zeroed grain, else the grain's sector), then grains.
 *
 * Everything read from the file is checked before use: header fields are
 * range-checked (grain size a power of two up to SPARSE_MAX_GRAIN sectors,
 * at most SPARSE_MAX_GTES entries per table, a directory of at most
 * SPARSE_MAX_GD_BYTES), every table must lie inside the file and outside the
 * header and the directories, tables must not overlap each other, and every
 * table entry is checked against the file size when the table is loaded.
 * Grain tables are cached in a bounded direct-mapped cache of
 * SPARSE_GT_CACHE slots.
 */
#ifndef FVX_DISK_GRAIN_H
#define FVX_DISK_GRAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "disk/extent.h"

#define SPARSE_MAGIC 0x564d444bu /* "KDMV" little-endian */
#define SPARSE_GD_AT_END UINT64_MAX
#define SPARSE_FLAG_NL_TEST 0x1u
#define SPARSE_FLAG_RGD 0x2u
#define SPARSE_FLAG_ZERO_GTE 0x4u
#define SPARSE_FLAG_COMPRESSED 0x10000u
#define SPARSE_FLAG_MARKERS 0x20000u
#define SPARSE_COMPRESS_DEFLATE 1u
#define SPARSE_MAX_GRAIN 2048u          /* sectors (1 MiB) */
#define SPARSE_MAX_GTES 4096u
#define SPARSE_MAX_GD_BYTES (16u << 20)
#define SPARSE_GT_CACHE 256u
#define SPARSE_MAX_SECTOR UINT32_MAX    /* grain/table offsets are 32-bit */

struct sparse_header {
  uint32_t version, flags;
  uint64_t capacity, grain, desc_offset, desc_size;
  uint32_t gtes;
  uint64_t rgd_offset, gd_offset, overhead;
  uint8_t unclean;
  uint16_t compress;
};

/* Decodes and range-checks a raw header (no file-size checks).
 * DISK_E_CORRUPT / DISK_E_VERSION / DISK_E_UNSUPPORTED, the detail naming
 * 'what' recorded (error.h).  Every failure below records its detail the
 * same way. */
int sparse_header_decode(struct sparse_header *h, const uint8_t raw[512],
                         const char *what);
/* Checks the header's regions against a file of file_size bytes
 * (DISK_E_CORRUPT).  A GD at end is accepted (the stream footer has it). */
int sparse_header_check_file(const struct sparse_header *h,
                             uint64_t file_size, const char *what);
void sparse_header_encode(const struct sparse_header *h, uint8_t raw[512]);

/* Grain tables needed for the capacity, and sectors one table takes. */
uint64_t sparse_num_gts(const struct sparse_header *h);
uint64_t sparse_gt_sectors(const struct sparse_header *h);
/* Sectors that n 32-bit entries (a table or a directory) take. */
uint64_t sparse_entry_sectors(uint64_t n);

/* Checks directory entries: each table inside the file (file_sectors), not
 * over sector 0 or over either directory, and no two tables overlapping
 * (gd and rgd together; rgd may be NULL).  DISK_E_NEEDSREPAIR or
 * DISK_E_NOMEM. */
int sparse_gd_check(const struct sparse_header *h, const uint32_t *gd,
                    const uint32_t *rgd, uint64_t n, uint64_t file_sectors,
                    const char *what);
/* Checks one table's entries: 0, 1, or a sector in [overhead, file end).
 * DISK_E_NEEDSREPAIR. */
int sparse_gt_check(const struct sparse_header *h, const uint32_t *gt,
                    uint64_t file_sectors, const char *what);

struct stream_writer; /* stream.c */

struct sparse {
  struct sparse_header h;
  uint64_t num_gts;
  uint64_t gt_sectors;
  uint64_t grain_bytes;
  uint32_t *gd;  /* host order */
  uint32_t *rgd; /* NULL without a redundant directory */
  uint64_t next_sector; /* where the next grain or table is appended */
  struct gt_slot {
    uint64_t idx; /* table index, valid when gt != NULL */
    uint32_t *gt; /* host order, gtes entries */
  } cache[SPARSE_GT_CACHE];
  uint8_t *grain_buf; /* scratch grain, allocated on first need */
  /* stream.c */
  uint8_t *zbuf;
  size_t zcap;
  uint64_t cached_grain; /* grain index decoded in grain_buf */
  bool cached_valid;
  struct stream_writer *writer; /* append mode (stream.c frees it) */
};

/* Loads the directories of a checked header from f (whose size bounds
 * everything) and checks them.  *out is the caller's (sparse_free). */
struct disk_file;
int sparse_load(struct sparse **out, struct disk_file *f,
                const struct sparse_header *h);
void sparse_free(struct sparse *sp);

/* Returns the table 'idx' of the extent file f (NULL through *out when the
 * directory entry is 0) from the cache, loading and checking it on a miss.
 * The pointer lives until the next call; callers reading concurrently hold
 * the extent's lock (extent.h). */
int sparse_gt_get(struct sparse *sp, struct disk_file *f, uint64_t idx,
                  uint32_t **out);

/* Sets entry j of table idx to val in the table and its redundant copy, on
 * disk and in the cache; allocates the table(s) at next_sector when the
 * directory entry is 0. */
int sparse_gte_set(struct sparse *sp, struct disk_file *f, uint64_t idx,
                   uint32_t j, uint32_t val);

/* Allocates the scratch grain buffer if needed. */
int sparse_grain_buf(struct sparse *sp);

/* ---- shared by the sparse and stream backends ---------------------------- */

/* Grain-table entry of grain g of extent e (0 when its table is not
 * allocated). */
int sparse_entry(struct extent *e, uint64_t g, uint32_t *out);
/* map() over grain-table entries: runs of unallocated grains are HOLE, of
 * zeroed grains ZERO, of allocated grains 'alloc' -- for MAP_DATA only
 * grains lying back to back in the file form one run (offset set), for
 * MAP_CODED any allocated grains do (offset 0). */
int sparse_map_run(struct extent *e, uint64_t sector, uint64_t n,
                   enum map_kind alloc, struct extent_map *out);
/* The backends' close(): frees e->sp. */
void sparse_extent_close(struct extent *e);

/* True when the len bytes at buf are all zero (Shrink's and Clone's test
 * for a grain worth keeping).  Can't fail. */
bool disk_all_zero(const void *buf, size_t len);

#endif
