/*
 * cowd.c -- vmfsSparse extents: ESX's COWD redo-log delta
 * (`RW <sectors> VMFSSPARSE "x-000001-delta.vmdk"`), read-only.
 *
 * Layout (libvmdk's format documentation, checked against qemu's
 * block/vmdk.c): a 2048-byte header, all fields 32-bit little-endian --
 *
 *    0 "COWD"          16 grain size (sectors)     28 next free sector
 *    4 version (1)     20 directory sector          32.. geometry or the
 *    8 flags           24 directory entries            parent's file name,
 *   12 capacity (sectors)                              generation, name...
 *
 * then a grain directory of 32-bit table sectors (0: none), grain tables
 * of 4096 32-bit grain sectors (0: not allocated), and grains.  COWD has no
 * zeroed-grain entry: an unallocated grain reads the parent (zeros below
 * the base), as in a hosted sparse child.  The header's geometry, names,
 * generations and dirty flag are not used (the descriptor's
 * parentFileNameHint and CIDs link the chain); everything used is checked
 * against the file size before a byte of data is read.
 */
#include <endian.h>
#include <inttypes.h>
#include <string.h>

#include "disk/delta.h"
#include "disk/disk.h"
#include "disk/error.h"
#include "disk/file.h"
#include "util/le.h"

#define COWD_VERSION 1u
#define COWD_HEADER_SECTORS (COWD_HEADER_BYTES / DISK_SECTOR)
#define COWD_MAX_GRAIN 2048u /* sectors, as for hosted sparse */

int cowd_header_decode(struct delta_layout *l, const uint8_t *raw,
                       uint64_t file_size, const char *what)
{
  uint32_t version = fvx_le32(raw + 4), capacity = fvx_le32(raw + 12);
  uint32_t grain = fvx_le32(raw + 16), gd = fvx_le32(raw + 20);
  uint32_t gd_n = fvx_le32(raw + 24), next_free = fvx_le32(raw + 28);
  uint64_t fs = file_size / DISK_SECTOR, per, need;

  memset(l, 0, sizeof *l);
  if (memcmp(raw, "COWD", 4) != 0)
    return disk_fail(DISK_E_CORRUPT, "%s: not a vmfsSparse (COWD) extent "
                     "(bad magic)", what);
  if (version != COWD_VERSION)
    return disk_fail(DISK_E_VERSION, "%s: COWD version %" PRIu32 " is not "
                     "supported (only %u)", what, version, COWD_VERSION);
  if (file_size < COWD_HEADER_BYTES)
    return disk_fail(DISK_E_CORRUPT, "%s: file of %" PRIu64 " bytes is too "
                     "short for a COWD header", what, file_size);
  if (grain == 0 || grain > COWD_MAX_GRAIN || (grain & (grain - 1)))
    return disk_fail(DISK_E_CORRUPT, "%s: COWD grain size %" PRIu32
                     " sectors is invalid", what, grain);
  per = (uint64_t)DELTA_GTES * grain;
  need = capacity / per + (capacity % per != 0);
  if (gd_n < need || (uint64_t)gd_n * 4 > DELTA_MAX_GD_BYTES)
    return disk_fail(DISK_E_CORRUPT, "%s: COWD grain directory of %" PRIu32
                     " entries cannot describe %" PRIu32 " sectors (%"
                     PRIu64 " needed, at most %u)", what, gd_n, capacity,
                     need, DELTA_MAX_GD_BYTES / 4);
  l->gd_sectors = ((uint64_t)gd_n * 4 + DISK_SECTOR - 1) / DISK_SECTOR;
  if (gd < COWD_HEADER_SECTORS || gd + l->gd_sectors > fs)
    return disk_fail(DISK_E_CORRUPT, "%s: COWD grain directory at sector %"
                     PRIu32 " lies over the header or outside the file",
                     what, gd);
  if (next_free > fs)
    return disk_fail(DISK_E_CORRUPT, "%s: COWD file is truncated: its "
                     "header uses %" PRIu32 " sectors, the file has %"
                     PRIu64, what, next_free, fs);
  l->capacity = capacity;
  l->grain = grain;
  l->gd_offset = gd;
  l->gd_entries = need;
  l->entry_bytes = 4;
  l->gt_sectors = DELTA_GTES * 4 / DISK_SECTOR;
  l->meta_end = COWD_HEADER_SECTORS;
  l->gt_lo = l->grain_lo = COWD_HEADER_SECTORS;
  l->gt_hi = l->grain_hi = UINT64_MAX;
  l->file_sectors = fs;
  return DISK_OK;
}

/* Directory entries are table sectors as they stand. */
static int cowd_gde(const struct delta_layout *l, uint64_t raw,
                    uint64_t *table)
{
  (void)l;
  *table = raw;
  return DISK_OK;
}

/* Table entries are grain sectors; 0 is not allocated.  COWD has no
 * zeroed-grain value: 1 (a header sector) is damage. */
static int cowd_gte(const struct delta_layout *l, uint64_t raw,
                    uint64_t *entry)
{
  (void)l;
  *entry = raw;
  return raw == DELTA_ZERO ? DISK_E_NEEDSREPAIR : DISK_OK;
}

static const struct extent_ops cowd_ops = {
    .name = "vmfsSparse",
    .map = delta_extent_map,
    .flush = delta_extent_flush,
    .close = delta_extent_close,
};

const struct delta_format cowd_format = {
    .name = "vmfsSparse",
    .ops = &cowd_ops,
    .gde = cowd_gde,
    .gte = cowd_gte,
};

int cowd_open(struct extent *e)
{
  uint8_t raw[COWD_HEADER_BYTES];
  struct delta_layout l;
  int st;

  st = delta_read(e, raw, sizeof raw, 0, NULL);
  if (!st)
    st = cowd_header_decode(&l, raw, e->file->size, extent_name(e));
  return st ? st : delta_open(e, &l, &cowd_format);
}
