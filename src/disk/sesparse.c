/*
 * sesparse.c -- SEsparse extents: the VMFS6 snapshot delta
 * (`RW <sectors> SESPARSE "x-000001-sesparse.vmdk"`), read-only.
 *
 * VMware does not document SEsparse.  Every fact here is qemu's
 * (block/vmdk.c, which reads it and calls its checks "strict checks -
 * format not officially documented"); freevix refuses what qemu refuses
 * and additionally checks every region and entry against the file.
 *
 * Sector 0 is the constant header: 64-bit little-endian fields
 *
 *     0 magic 0xcafebabe         80 volatile header  offset, size
 *     8 version 0x200000001      96 journal header   offset, size
 *    16 capacity (sectors)      112 journal          offset, size
 *    24 grain size (8)          128 grain directory  offset, size
 *    32 grain table size (64)   144 grain tables     offset, size
 *    40 flags (0)               160 free bitmap      offset, size
 *    48 4 reserved words (0)    176 back map         offset, size
 *                               192 grains           offset, size
 *
 * (offsets and sizes in sectors) and 304 zero bytes.  The volatile header
 * holds magic 0xcafecafe, the free table number, the next journal
 * transaction and a replay-journal flag, then 480 zero bytes; a set replay
 * flag means the journal holds changes not yet in the tables, which neither
 * qemu nor freevix replays: such a disk is refused (DISK_E_UNSUPPORTED).
 *
 * Directory entries (64-bit): 0 = no table, else 0x10000000 in the top
 * half and a table index below: the table is at grain tables offset +
 * index * 64 sectors.  Table entries (64-bit, 4096 a table): the top
 * nibble is the type -- 0 unallocated (the whole entry must be 0: read the
 * parent), 1 unmapped (SCSI UNMAP) and 2 zero (both read as zeros), 3
 * allocated: the grain index is bits 48-59 as its low 12 bits and bits
 * 0-47 above them, the grain at grains offset + index * 8 sectors.
 */
#include <endian.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "disk/delta.h"
#include "disk/disk.h"
#include "disk/error.h"
#include "disk/file.h"
#include "util/le.h"

#define SE_CONST_MAGIC 0xcafebabeull
#define SE_VOLATILE_MAGIC 0xcafecafeull
#define SE_VERSION 0x200000001ull
#define SE_GRAIN 8u     /* sectors */
#define SE_GT_SIZE 64u  /* sectors: 4096 entries of 8 bytes */
#define SE_GD_ALLOCATED 0x10000000ull
/* Largest capacity: qemu's bound for SEsparse (64 TiB). */
#define SE_MAX_SECTORS (1ull << 37)

static bool all_zero(const uint8_t *p, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (p[i])
      return false;
  return true;
}

/* The regions the constant header declares, in file order. */
enum { R_VOLATILE, R_JHDR, R_JOURNAL, R_GD, R_GT, R_BITMAP, R_BACKMAP,
       R_GRAINS, R_COUNT };
static const char *const region_name[R_COUNT] = {
    "volatile header", "journal header", "journal", "grain directory",
    "grain tables", "free bitmap", "back map", "grains"};

/* Checks the regions: each one with a size starts past sector 0 without
 * its end overflowing, and no two overlap. */
static int check_regions(const uint64_t off[R_COUNT],
                         const uint64_t size[R_COUNT], const char *what)
{
  int i, j;

  for (i = 0; i < R_COUNT; i++) {
    uint64_t end;

    if (size[i] &&
        (off[i] == 0 || __builtin_add_overflow(off[i], size[i], &end)))
      return disk_fail(DISK_E_CORRUPT, "%s: SEsparse %s at sector %" PRIu64
                       " (%" PRIu64 " sectors) is out of range", what,
                       region_name[i], off[i], size[i]);
  }
  for (i = 0; i < R_COUNT; i++)
    for (j = i + 1; j < R_COUNT; j++)
      if (size[i] && size[j] && off[i] < off[j] + size[j] &&
          off[j] < off[i] + size[i])
        return disk_fail(DISK_E_CORRUPT, "%s: SEsparse %s and %s overlap",
                         what, region_name[i], region_name[j]);
  return DISK_OK;
}

int sesparse_header_decode(struct delta_layout *l, const uint8_t *raw,
                           uint64_t file_size, uint64_t *volatile_sector,
                           const char *what)
{
  uint64_t magic = fvx_le64(raw), version = fvx_le64(raw + 8);
  uint64_t capacity = fvx_le64(raw + 16), grain = fvx_le64(raw + 24);
  uint64_t gt_size = fvx_le64(raw + 32), flags = fvx_le64(raw + 40);
  uint64_t off[R_COUNT], size[R_COUNT], fs = file_size / DISK_SECTOR;
  uint64_t need, per = (uint64_t)DELTA_GTES * SE_GRAIN;
  int i, st;

  memset(l, 0, sizeof *l);
  *volatile_sector = 0;
  if (magic != SE_CONST_MAGIC)
    return disk_fail(DISK_E_CORRUPT, "%s: not an SEsparse extent (constant "
                     "header magic 0x%" PRIx64 ")", what, magic);
  if (version != SE_VERSION)
    return disk_fail(DISK_E_VERSION, "%s: SEsparse version 0x%" PRIx64
                     " is not supported (only 0x%llx)", what, version,
                     SE_VERSION);
  if (grain != SE_GRAIN || gt_size != SE_GT_SIZE)
    return disk_fail(DISK_E_UNSUPPORTED, "%s: SEsparse grain of %" PRIu64
                     " sectors and tables of %" PRIu64 " sectors are not "
                     "supported (only %u and %u)", what, grain, gt_size,
                     SE_GRAIN, SE_GT_SIZE);
  if (flags != 0 || !all_zero(raw + 48, 32) || !all_zero(raw + 208, 304))
    return disk_fail(DISK_E_UNSUPPORTED, "%s: SEsparse flags 0x%" PRIx64
                     " or non-zero reserved bytes are not supported", what,
                     flags);
  if (capacity > SE_MAX_SECTORS)
    return disk_fail(DISK_E_CORRUPT, "%s: SEsparse capacity of %" PRIu64
                     " sectors is beyond the format's 64 TiB", what,
                     capacity);
  for (i = 0; i < R_COUNT; i++) {
    off[i] = fvx_le64(raw + 80 + 16 * i);
    size[i] = fvx_le64(raw + 88 + 16 * i);
  }
  st = check_regions(off, size, what);
  if (st)
    return st;
  if (size[R_VOLATILE] == 0 || off[R_VOLATILE] >= fs)
    return disk_fail(DISK_E_CORRUPT, "%s: SEsparse volatile header at "
                     "sector %" PRIu64 " lies outside the file", what,
                     off[R_VOLATILE]);
  need = capacity / per + (capacity % per != 0);
  l->gd_sectors = (need * 8 + DISK_SECTOR - 1) / DISK_SECTOR;
  if (l->gd_sectors > size[R_GD] ||
      off[R_GD] + l->gd_sectors > fs)
    return disk_fail(DISK_E_CORRUPT, "%s: SEsparse grain directory (%"
                     PRIu64 " sectors at %" PRIu64 ") cannot describe %"
                     PRIu64 " sectors within the file", what, size[R_GD],
                     off[R_GD], capacity);
  l->capacity = capacity;
  l->grain = SE_GRAIN;
  l->gd_offset = off[R_GD];
  l->gd_entries = need;
  l->entry_bytes = 8;
  l->gt_sectors = SE_GT_SIZE;
  l->meta_end = 2; /* the constant header, and no grain at sector 1 */
  l->gt_lo = off[R_GT];
  l->gt_hi = off[R_GT] + size[R_GT];
  l->grain_lo = off[R_GRAINS];
  l->grain_hi = off[R_GRAINS] + size[R_GRAINS];
  l->file_sectors = fs;
  *volatile_sector = off[R_VOLATILE];
  return DISK_OK;
}

int sesparse_volatile_check(const uint8_t *raw, const char *what)
{
  uint64_t magic = fvx_le64(raw), replay = fvx_le64(raw + 24);

  if (magic != SE_VOLATILE_MAGIC)
    return disk_fail(DISK_E_CORRUPT, "%s: SEsparse volatile header magic "
                     "0x%" PRIx64 " is wrong", what, magic);
  if (replay != 0)
    return disk_fail(DISK_E_UNSUPPORTED, "%s: the SEsparse journal needs "
                     "replay (the disk was not closed cleanly); freevix does "
                     "not replay journals: let ESXi open or consolidate the "
                     "disk first", what);
  if (!all_zero(raw + 32, 480))
    return disk_fail(DISK_E_UNSUPPORTED, "%s: SEsparse volatile header has "
                     "non-zero reserved bytes", what);
  return DISK_OK;
}

static int se_gde(const struct delta_layout *l, uint64_t raw,
                  uint64_t *table)
{
  *table = 0;
  if (raw == 0)
    return DISK_OK;
  if (raw >> 32 != SE_GD_ALLOCATED ||
      __builtin_add_overflow(l->gt_lo, (raw & 0xffffffffu) * SE_GT_SIZE,
                             table))
    return DISK_E_NEEDSREPAIR;
  return DISK_OK;
}

static int se_gte(const struct delta_layout *l, uint64_t raw,
                  uint64_t *entry)
{
  uint64_t idx;

  *entry = DELTA_HOLE;
  switch (raw >> 60) {
  case 0: /* unallocated: the whole entry is 0 */
    return raw == 0 ? DISK_OK : DISK_E_NEEDSREPAIR;
  case 1: /* unmapped */
  case 2: /* zero */
    *entry = DELTA_ZERO;
    return DISK_OK;
  case 3:
    idx = (raw & 0x0fff000000000000ull) >> 48 |
          (raw & 0x0000ffffffffffffull) << 12;
    if (__builtin_add_overflow(l->grain_lo, idx * SE_GRAIN, entry))
      return DISK_E_NEEDSREPAIR;
    return DISK_OK;
  default:
    return DISK_E_NEEDSREPAIR;
  }
}

static const struct extent_ops se_ops = {
    .name = "SEsparse",
    .map = delta_extent_map,
    .flush = delta_extent_flush,
    .close = delta_extent_close,
};

const struct delta_format sesparse_format = {
    .name = "SEsparse",
    .ops = &se_ops,
    .gde = se_gde,
    .gte = se_gte,
};

int sesparse_open(struct extent *e)
{
  uint8_t raw[SESPARSE_HEADER_BYTES];
  struct delta_layout l;
  uint64_t vs;
  int st;

  st = delta_read(e, raw, sizeof raw, 0, NULL);
  if (!st)
    st = sesparse_header_decode(&l, raw, e->file->size, &vs, extent_name(e));
  if (!st)
    st = delta_read(e, raw, sizeof raw, vs * DISK_SECTOR, NULL);
  if (!st)
    st = sesparse_volatile_check(raw, extent_name(e));
  return st ? st : delta_open(e, &l, &sesparse_format);
}
