/*
 * grain.c -- hosted sparse metadata: header codec, directory and table
 * checks, the bounded grain-table cache, and the entry lookup, run mapping
 * and close that the sparse and stream backends share.  See grain.h for the
 * layout and the invariants every loaded structure satisfies.  Everything
 * is read and written through the extent's byte source (file.h); failures
 * are recorded with disk_fail() naming the file, the field and the value.
 */
#include "disk/grain.h"

#include <endian.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "disk/delta.h"
#include "disk/disk.h"
#include "disk/error.h"
#include "disk/extent.h"
#include "disk/file.h"
#include "util/le.h"

uint64_t sparse_entry_sectors(uint64_t n)
{
  return (n * 4 + DISK_SECTOR - 1) / DISK_SECTOR;
}

uint64_t sparse_gt_sectors(const struct sparse_header *h)
{
  return sparse_entry_sectors(h->gtes);
}

uint64_t sparse_num_gts(const struct sparse_header *h)
{
  uint64_t grains = h->capacity / h->grain + (h->capacity % h->grain != 0);

  return grains / h->gtes + (grains % h->gtes != 0);
}

int sparse_header_decode(struct sparse_header *h, const uint8_t raw[512],
                         const char *what)
{
  memset(h, 0, sizeof *h);
  if (fvx_le32(raw) != SPARSE_MAGIC)
    return disk_fail(DISK_E_CORRUPT,
                     "%s: not a hosted sparse extent (bad magic)", what);
  h->version = fvx_le32(raw + 4);
  h->flags = fvx_le32(raw + 8);
  h->capacity = fvx_le64(raw + 12);
  h->grain = fvx_le64(raw + 20);
  h->desc_offset = fvx_le64(raw + 28);
  h->desc_size = fvx_le64(raw + 36);
  h->gtes = fvx_le32(raw + 44);
  h->rgd_offset = fvx_le64(raw + 48);
  h->gd_offset = fvx_le64(raw + 56);
  h->overhead = fvx_le64(raw + 64);
  h->unclean = raw[72];
  h->compress = (uint16_t)(raw[77] | raw[78] << 8);
  if (h->version < 1 || h->version > 3)
    return disk_fail(DISK_E_VERSION,
                     "%s: sparse header version %" PRIu32 " is not supported",
                     what, h->version);
  if (h->grain == 0 || h->grain > SPARSE_MAX_GRAIN ||
      (h->grain & (h->grain - 1)))
    return disk_fail(DISK_E_CORRUPT,
                     "%s: grain size %" PRIu64 " sectors is invalid", what,
                     h->grain);
  if (h->gtes == 0 || h->gtes > SPARSE_MAX_GTES)
    return disk_fail(DISK_E_CORRUPT,
                     "%s: %" PRIu32 " entries per grain table is invalid",
                     what, h->gtes);
  if (h->capacity > DISK_MAX_SECTORS ||
      sparse_num_gts(h) > SPARSE_MAX_GD_BYTES / 4)
    return disk_fail(DISK_E_CORRUPT,
                     "%s: capacity %" PRIu64
                     " sectors is beyond what a sparse "
                     "extent can hold",
                     what, h->capacity);
  if ((h->flags & SPARSE_FLAG_NL_TEST) && (raw[73] != '\n' || raw[74] != ' ' ||
                                           raw[75] != '\r' || raw[76] != '\n'))
    return disk_fail(
        DISK_E_CORRUPT,
        "%s: newline test bytes damaged (file transferred as text?)", what);
  if ((h->flags & SPARSE_FLAG_COMPRESSED) &&
      h->compress != SPARSE_COMPRESS_DEFLATE)
    return disk_fail(DISK_E_UNSUPPORTED,
                     "%s: compression algorithm %u is not supported", what,
                     h->compress);
  if (h->desc_size > DESC_MAX_BYTES / DISK_SECTOR ||
      h->desc_offset > SPARSE_MAX_SECTOR)
    return disk_fail(DISK_E_CORRUPT, "%s: embedded descriptor area is invalid",
                     what);
  return DISK_OK;
}

/* True when [off, off+len) sectors lies within file_sectors. */
static bool in_file(uint64_t off, uint64_t len, uint64_t file_sectors)
{
  uint64_t end;

  return !__builtin_add_overflow(off, len, &end) && end <= file_sectors;
}

static uint64_t gd_sectors(const struct sparse_header *h)
{
  return sparse_entry_sectors(sparse_num_gts(h));
}

int sparse_header_check_file(const struct sparse_header *h,
                             uint64_t file_size, const char *what)
{
  uint64_t fs = file_size / DISK_SECTOR;
  uint64_t gds = gd_sectors(h);

  if (h->desc_size &&
      (h->desc_offset == 0 || !in_file(h->desc_offset, h->desc_size, fs)))
    return disk_fail(DISK_E_CORRUPT,
                     "%s: embedded descriptor lies outside the file", what);
  if (h->gd_offset != SPARSE_GD_AT_END &&
      (h->gd_offset == 0 || !in_file(h->gd_offset, gds, fs)))
    return disk_fail(DISK_E_CORRUPT,
                     "%s: grain directory at sector %" PRIu64
                     " lies outside the file",
                     what, h->gd_offset);
  if ((h->flags & SPARSE_FLAG_RGD) && h->rgd_offset &&
      h->rgd_offset != SPARSE_GD_AT_END && !in_file(h->rgd_offset, gds, fs))
    return disk_fail(DISK_E_CORRUPT,
                     "%s: redundant grain directory lies outside the file",
                     what);
  return DISK_OK;
}

void sparse_header_encode(const struct sparse_header *h, uint8_t raw[512])
{
  memset(raw, 0, 512);
  fvx_put_le32(raw, SPARSE_MAGIC);
  fvx_put_le32(raw + 4, h->version);
  fvx_put_le32(raw + 8, h->flags);
  fvx_put_le64(raw + 12, h->capacity);
  fvx_put_le64(raw + 20, h->grain);
  fvx_put_le64(raw + 28, h->desc_offset);
  fvx_put_le64(raw + 36, h->desc_size);
  fvx_put_le32(raw + 44, h->gtes);
  fvx_put_le64(raw + 48, h->rgd_offset);
  fvx_put_le64(raw + 56, h->gd_offset);
  fvx_put_le64(raw + 64, h->overhead);
  raw[72] = h->unclean;
  raw[73] = '\n';
  raw[74] = ' ';
  raw[75] = '\r';
  raw[76] = '\n';
  raw[77] = (uint8_t)(h->compress & 0xff);
  raw[78] = (uint8_t)(h->compress >> 8);
}

static int cmp_u32(const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

  return x < y ? -1 : x > y;
}

/* True when [a, a+al) and [b, b+bl) intersect. */
static bool overlaps(uint64_t a, uint64_t al, uint64_t b, uint64_t bl)
{
  return a < b + bl && b < a + al;
}

int sparse_gd_check(const struct sparse_header *h, const uint32_t *gd,
                    const uint32_t *rgd, uint64_t n, uint64_t file_sectors,
                    const char *what)
{
  uint64_t gts = sparse_gt_sectors(h), gds = gd_sectors(h), i, m = 0;
  uint32_t *all;
  int st = DISK_OK;

  all = malloc((size_t)(n ? n : 1) * (rgd ? 2 : 1) * sizeof *all);
  if (!all)
    return disk_fail(DISK_E_NOMEM, "%s: out of memory", what);
  for (i = 0; i < n * (rgd ? 2 : 1); i++) {
    uint32_t e = i < n ? gd[i] : rgd[i - n];

    if (e == 0)
      continue;
    if (!in_file(e, gts, file_sectors) ||
        (h->gd_offset != SPARSE_GD_AT_END &&
         overlaps(e, gts, h->gd_offset, gds)) ||
        (rgd && overlaps(e, gts, h->rgd_offset, gds)) ||
        (h->desc_size && overlaps(e, gts, h->desc_offset, h->desc_size))) {
      st = disk_fail(DISK_E_NEEDSREPAIR,
                     "%s: grain table %" PRIu64 " at sector %" PRIu32
                     " lies outside the file or over metadata",
                     what, i % n, e);
      goto out;
    }
    all[m++] = e;
  }
  qsort(all, (size_t)m, sizeof *all, cmp_u32);
  for (i = 1; i < m; i++)
    if ((uint64_t)all[i - 1] + gts > all[i]) {
      st = disk_fail(DISK_E_NEEDSREPAIR,
                     "%s: grain tables at sectors %" PRIu32 " and %" PRIu32
                     " overlap",
                     what, all[i - 1], all[i]);
      goto out;
    }
out:
  free(all);
  return st;
}

int sparse_gt_check(const struct sparse_header *h, const uint32_t *gt,
                    uint64_t file_sectors, const char *what)
{
  uint64_t lo = h->overhead && h->overhead < file_sectors ? h->overhead : 1;
  uint32_t j;

  for (j = 0; j < h->gtes; j++) {
    uint32_t e = gt[j];

    if (e <= 1)
      continue;
    if (e < lo || e >= file_sectors)
      return disk_fail(DISK_E_NEEDSREPAIR,
                       "%s: grain table entry %" PRIu32
                       " points at sector %" PRIu32 ", outside the grain area",
                       what, j, e);
  }
  return DISK_OK;
}

static int read_dir(struct disk_file *f, uint64_t off, uint64_t n,
                    uint32_t **out)
{
  uint32_t *d = malloc((size_t)(n ? n : 1) * 4);
  uint64_t i;
  int st;

  if (!d)
    return disk_fail(DISK_E_NOMEM, "%s: out of memory", f->name);
  st = disk_file_pread(f, d, (size_t)n * 4, off * DISK_SECTOR, NULL);
  if (st) {
    free(d);
    return st;
  }
  for (i = 0; i < n; i++)
    d[i] = le32toh(d[i]);
  *out = d;
  return DISK_OK;
}

int sparse_load(struct sparse **out, struct disk_file *f,
                const struct sparse_header *h)
{
  uint64_t file_size = f->size;
  const char *what = f->name;
  struct sparse *sp;
  int st;

  *out = NULL;
  st = sparse_header_check_file(h, file_size, what);
  if (st)
    return st;
  if (h->gd_offset == SPARSE_GD_AT_END)
    return disk_fail(DISK_E_CORRUPT,
                     "%s: grain directory position unknown (no footer)", what);
  sp = calloc(1, sizeof *sp);
  if (!sp)
    return disk_fail(DISK_E_NOMEM, "%s: out of memory", what);
  sp->h = *h;
  sp->num_gts = sparse_num_gts(h);
  sp->gt_sectors = sparse_gt_sectors(h);
  sp->grain_bytes = h->grain * DISK_SECTOR;
  sp->next_sector = (file_size + DISK_SECTOR - 1) / DISK_SECTOR;
  st = read_dir(f, h->gd_offset, sp->num_gts, &sp->gd);
  if (!st && (h->flags & SPARSE_FLAG_RGD) && h->rgd_offset &&
      h->rgd_offset != SPARSE_GD_AT_END)
    st = read_dir(f, h->rgd_offset, sp->num_gts, &sp->rgd);
  if (!st)
    st = sparse_gd_check(h, sp->gd, sp->rgd, sp->num_gts,
                         file_size / DISK_SECTOR, what);
  if (st) {
    sparse_free(sp);
    return st;
  }
  *out = sp;
  return DISK_OK;
}

void sparse_free(struct sparse *sp)
{
  size_t i;

  if (!sp)
    return;
  for (i = 0; i < SPARSE_GT_CACHE; i++)
    free(sp->cache[i].gt);
  free(sp->gd);
  free(sp->rgd);
  free(sp->grain_buf);
  free(sp->zbuf);
  free(sp);
}

int sparse_grain_buf(struct sparse *sp)
{
  if (!sp->grain_buf) {
    sp->grain_buf = malloc((size_t)sp->grain_bytes);
    if (!sp->grain_buf)
      return disk_fail(DISK_E_NOMEM, "out of memory for a grain buffer");
  }
  return DISK_OK;
}

int sparse_gt_get(struct sparse *sp, struct disk_file *f, uint64_t idx,
                  uint32_t **out)
{
  struct gt_slot *slot = &sp->cache[idx % SPARSE_GT_CACHE];
  uint32_t j;
  int st;

  *out = NULL;
  if (idx >= sp->num_gts || sp->gd[idx] == 0)
    return DISK_OK;
  if (slot->gt && slot->idx == idx) {
    *out = slot->gt;
    return DISK_OK;
  }
  if (!slot->gt) {
    slot->gt = malloc((size_t)sp->h.gtes * 4);
    if (!slot->gt)
      return disk_fail(DISK_E_NOMEM, "%s: out of memory", f->name);
  }
  slot->idx = UINT64_MAX;
  st = disk_file_pread(f, slot->gt, (size_t)sp->h.gtes * 4,
                       (uint64_t)sp->gd[idx] * DISK_SECTOR, NULL);
  if (st)
    return st;
  for (j = 0; j < sp->h.gtes; j++)
    slot->gt[j] = le32toh(slot->gt[j]);
  st = sparse_gt_check(&sp->h, slot->gt, f->size / DISK_SECTOR, f->name);
  if (st)
    return st;
  slot->idx = idx;
  *out = slot->gt;
  return DISK_OK;
}

/* Appends a zeroed grain table and points directory entry idx of the
 * directory at dir_off (in memory: dir) to it. */
static int alloc_gt(struct sparse *sp, struct disk_file *f, uint32_t *dir,
                    uint64_t dir_off, uint64_t idx)
{
  uint64_t at = sp->next_sector;
  uint8_t le[4];
  void *zero;
  int st;

  if (at + sp->gt_sectors > SPARSE_MAX_SECTOR)
    return disk_fail(DISK_E_NOSPACE,
                     "%s: sparse extent is full (32-bit sector offsets)",
                     f->name);
  zero = calloc(1, (size_t)(sp->gt_sectors * DISK_SECTOR));
  if (!zero)
    return disk_fail(DISK_E_NOMEM, "%s: out of memory", f->name);
  st = disk_file_pwrite(f, zero, (size_t)(sp->gt_sectors * DISK_SECTOR),
                        at * DISK_SECTOR);
  free(zero);
  if (st)
    return st;
  sp->next_sector += sp->gt_sectors;
  fvx_put_le32(le, (uint32_t)at);
  st = disk_file_pwrite(f, le, 4, dir_off * DISK_SECTOR + idx * 4);
  if (st)
    return st;
  dir[idx] = (uint32_t)at;
  return DISK_OK;
}

int sparse_gte_set(struct sparse *sp, struct disk_file *f, uint64_t idx,
                   uint32_t j, uint32_t val)
{
  struct gt_slot *slot = &sp->cache[idx % SPARSE_GT_CACHE];
  uint8_t le[4];
  int st;

  if (sp->gd[idx] == 0) {
    st = alloc_gt(sp, f, sp->gd, sp->h.gd_offset, idx);
    if (st)
      return st;
  }
  if (sp->rgd && sp->rgd[idx] == 0) {
    st = alloc_gt(sp, f, sp->rgd, sp->h.rgd_offset, idx);
    if (st)
      return st;
  }
  fvx_put_le32(le, val);
  st = disk_file_pwrite(f, le, 4,
                        (uint64_t)sp->gd[idx] * DISK_SECTOR + j * 4ull);
  if (!st && sp->rgd)
    st = disk_file_pwrite(f, le, 4,
                          (uint64_t)sp->rgd[idx] * DISK_SECTOR + j * 4ull);
  if (st)
    return st;
  if (slot->gt && slot->idx == idx)
    slot->gt[j] = val;
  return DISK_OK;
}

/* ---- shared by the sparse and stream backends ------------------------------ */

int sparse_entry(struct extent *e, uint64_t g, uint32_t *out)
{
  struct sparse *sp = e->sp;
  uint32_t *gt;
  int st;

  st = sparse_gt_get(sp, e->file, g / sp->h.gtes, &gt);
  if (st)
    return st;
  *out = gt ? gt[g % sp->h.gtes] : 0;
  return DISK_OK;
}

/* sparse_entry for delta_map_run: entries 0 and 1 mean what DELTA_HOLE and
 * DELTA_ZERO mean. */
static int entry_of(void *ctx, uint64_t g, uint64_t *out)
{
  uint32_t v;
  int st = sparse_entry(ctx, g, &v);

  if (!st) /* v is not set on failure */
    *out = v;
  return st;
}

int sparse_map_run(struct extent *e, uint64_t sector, uint64_t n,
                   enum map_kind alloc, struct extent_map *out)
{
  return delta_map_run(e->sp->h.grain, sector, n, entry_of, e, alloc, out);
}

void sparse_extent_close(struct extent *e)
{
  sparse_free(e->sp);
  e->sp = NULL;
}

bool disk_all_zero(const void *buf, size_t len)
{
  static const uint8_t zero[4096];
  const uint8_t *p = buf;

  while (len >= sizeof zero) {
    if (memcmp(p, zero, sizeof zero))
      return false;
    p += sizeof zero;
    len -= sizeof zero;
  }
  return memcmp(p, zero, len) == 0;
}
