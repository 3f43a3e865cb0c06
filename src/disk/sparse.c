/*
 * sparse.c -- hosted sparse extents (monolithicSparse, twoGbMaxExtentSparse
 * extents, redo logs): the uncompressed grain backend.
 *
 * map() walks grain-table entries from the bounded cache (grain.c) and
 * returns runs: consecutive unallocated grains are one HOLE, zeroed grains
 * one ZERO, and grains that lie back to back in the file one DATA run, so a
 * sequential read of a disk written in order is one pread per request.
 *
 * write() overwrites allocated grains in place.  An unallocated grain is
 * appended at the end of the file: the write's sectors plus, for a partial
 * grain, what lies below (parent or zeros) fill one whole grain, written
 * before its grain-table entry (and the redundant entry) so a crash leaves
 * at worst an unreferenced grain, never a table pointing at garbage.
 */
#include <endian.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "disk/disk.h"
#include "disk/extent.h"
#include "disk/grain.h"
#include "disk/stream.h"
#include "util/log.h"

/* Entry of grain g (0 when its table is not allocated). */
static int lookup(struct extent *e, uint64_t g, uint32_t *out)
{
  struct sparse *sp = e->sp;
  uint32_t *gt;
  int st;

  st = sparse_gt_get(sp, e->fd, e->file_size, g / sp->h.gtes, &gt, e->path);
  if (st)
    return st;
  *out = gt ? gt[g % sp->h.gtes] : 0;
  return DISK_OK;
}

static enum map_kind entry_kind(uint32_t v)
{
  return v == 0 ? MAP_HOLE : v == 1 ? MAP_ZERO : MAP_DATA;
}

static int sparse_map(struct extent *e, uint64_t sector, uint64_t n,
                      struct extent_map *out)
{
  uint64_t grain = e->sp->h.grain;
  uint64_t g = sector / grain, in = sector % grain, len;
  uint32_t v, first;
  int st;

  st = lookup(e, g, &first);
  if (st)
    return st;
  len = grain - in;
  out->kind = entry_kind(first);
  out->offset = ((uint64_t)first + in) * DISK_SECTOR;
  while (len < n) {
    st = lookup(e, g + 1, &v);
    if (st)
      return st;
    if (entry_kind(v) != out->kind ||
        (out->kind == MAP_DATA && v != first + (g + 1 - sector / grain) *
                                               grain))
      break;
    g++;
    len += grain;
  }
  out->len = len < n ? len : n;
  return DISK_OK;
}

static int sparse_write(struct extent *e, uint64_t sector, uint64_t n,
                        const uint8_t *buf, const struct below *below)
{
  struct sparse *sp = e->sp;
  uint64_t grain = sp->h.grain;
  int st;

  while (n) {
    uint64_t g = sector / grain, in = sector % grain;
    uint64_t m = grain - in < n ? grain - in : n;
    const uint8_t *src = buf;
    uint64_t at;
    uint32_t v;

    st = lookup(e, g, &v);
    if (st)
      return st;
    if (v > 1) {
      st = disk_pwrite(e->fd, buf, (size_t)(m * DISK_SECTOR),
                       ((uint64_t)v + in) * DISK_SECTOR, e->path);
      if (st)
        return st;
    } else {
      if (m != grain) {
        uint64_t valid = e->sectors - g * grain;

        if (valid > grain)
          valid = grain;
        st = sparse_grain_buf(sp);
        if (st)
          return st;
        memset(sp->grain_buf, 0, (size_t)sp->grain_bytes);
        if (v == 0 && below) {
          st = below->read(below->opaque, g * grain, valid, sp->grain_buf);
          if (st)
            return st;
        }
        memcpy(sp->grain_buf + in * DISK_SECTOR, buf,
               (size_t)(m * DISK_SECTOR));
        src = sp->grain_buf;
      }
      at = sp->next_sector;
      if (at + grain > SPARSE_MAX_SECTOR) {
        fvx_error("%s: sparse extent is full (32-bit sector offsets)",
                  e->path);
        return DISK_E_NOSPACE;
      }
      st = disk_pwrite(e->fd, src, (size_t)sp->grain_bytes,
                       at * DISK_SECTOR, e->path);
      if (st)
        return st;
      sp->next_sector += grain;
      if (sp->next_sector * DISK_SECTOR > e->file_size)
        e->file_size = sp->next_sector * DISK_SECTOR;
      st = sparse_gte_set(sp, e->fd, g / sp->h.gtes,
                          (uint32_t)(g % sp->h.gtes), (uint32_t)at, e->path);
      if (st)
        return st;
      if (sp->next_sector * DISK_SECTOR > e->file_size)
        e->file_size = sp->next_sector * DISK_SECTOR;
    }
    sector += m;
    n -= m;
    buf += m * DISK_SECTOR;
  }
  return DISK_OK;
}

static int sparse_flush(struct extent *e)
{
  if (fdatasync(e->fd) != 0) {
    fvx_error("%s: fdatasync failed", e->path);
    return DISK_E_IO;
  }
  return DISK_OK;
}

static void sparse_close(struct extent *e)
{
  sparse_free(e->sp);
  e->sp = NULL;
}

static const struct extent_ops sparse_ops = {
    .name = "sparse",
    .map = sparse_map,
    .write = sparse_write,
    .flush = sparse_flush,
    .close = sparse_close,
};

int sparse_open(struct extent *e)
{
  struct sparse_header h;
  uint8_t raw[512];
  size_t got;
  int st;

  st = disk_pread(e->fd, raw, sizeof raw, 0, &got, e->path);
  if (st)
    return st;
  if (got < sizeof raw) {
    fvx_error("%s: file too short for a sparse header", e->path);
    return DISK_E_CORRUPT;
  }
  st = sparse_header_decode(&h, raw, e->path);
  if (st)
    return st;
  if (e->sectors > h.capacity) {
    fvx_error("%s: descriptor extent of %" PRIu64 " sectors exceeds the "
              "file's capacity of %" PRIu64, e->path, e->sectors,
              h.capacity);
    return DISK_E_DESCRIPTOR;
  }
  if (h.flags & SPARSE_FLAG_COMPRESSED)
    return stream_open(e, &h);
  st = sparse_load(&e->sp, e->fd, &h, e->file_size, e->path);
  if (st)
    return st;
  e->ops = &sparse_ops;
  return DISK_OK;
}

/* ---- maintenance ---------------------------------------------------------- */

static int write_dir(struct extent *e, const uint32_t *dir, uint64_t n,
                     uint64_t at)
{
  uint32_t *le = calloc(1, (size_t)((n * 4 + DISK_SECTOR) / DISK_SECTOR *
                                    DISK_SECTOR));
  uint64_t i;
  int st;

  if (!le)
    return DISK_E_NOMEM;
  for (i = 0; i < n; i++)
    le[i] = htole32(dir[i]);
  st = disk_pwrite(e->fd, le, (size_t)((n * 4 + DISK_SECTOR - 1) /
                                       DISK_SECTOR * DISK_SECTOR),
                   at * DISK_SECTOR, e->path);
  free(le);
  return st;
}

int sparse_grow(struct extent *e, uint64_t capacity)
{
  struct sparse *sp = e->sp;
  struct sparse_header h = sp->h;
  uint64_t old_secs = (sp->num_gts * 4 + DISK_SECTOR - 1) / DISK_SECTOR;
  uint64_t n, new_secs;
  uint32_t *gd = NULL, *rgd = NULL;
  uint8_t raw[DISK_SECTOR];
  int st;

  if (e->ops != &sparse_ops)
    return DISK_E_UNSUPPORTED;
  h.capacity = capacity;
  n = sparse_num_gts(&h);
  if (n * 4 > SPARSE_MAX_GD_BYTES)
    return DISK_E_TOOBIG;
  new_secs = (n * 4 + DISK_SECTOR - 1) / DISK_SECTOR;
  gd = calloc((size_t)n, 4);
  rgd = sp->rgd ? calloc((size_t)n, 4) : NULL;
  if (!gd || (sp->rgd && !rgd)) {
    st = DISK_E_NOMEM;
    goto out;
  }
  memcpy(gd, sp->gd, (size_t)sp->num_gts * 4);
  if (rgd)
    memcpy(rgd, sp->rgd, (size_t)sp->num_gts * 4);
  if (new_secs > old_secs) {
    /* Move the directories to the end of the file. */
    h.gd_offset = sp->next_sector;
    h.rgd_offset = rgd ? h.gd_offset + new_secs : 0;
    if (h.gd_offset + 2 * new_secs > SPARSE_MAX_SECTOR) {
      st = DISK_E_NOSPACE;
      goto out;
    }
    sp->next_sector += (rgd ? 2 : 1) * new_secs;
    if (!rgd)
      h.flags &= ~SPARSE_FLAG_RGD;
  }
  st = write_dir(e, gd, n, h.gd_offset);
  if (!st && rgd)
    st = write_dir(e, rgd, n, h.rgd_offset);
  if (!st) {
    sparse_header_encode(&h, raw);
    st = disk_pwrite(e->fd, raw, sizeof raw, 0, e->path);
  }
  if (st)
    goto out;
  free(sp->gd);
  free(sp->rgd);
  sp->gd = gd;
  sp->rgd = rgd;
  gd = rgd = NULL;
  sp->h = h;
  sp->num_gts = n;
  e->sectors = capacity;
out:
  free(gd);
  free(rgd);
  return st;
}

struct grain_ref {
  uint32_t sector;
  uint32_t gt;  /* table index */
  uint32_t j;   /* entry */
};

static int cmp_ref(const void *a, const void *b)
{
  const struct grain_ref *x = a, *y = b;

  return x->sector < y->sector ? -1 : x->sector > y->sector;
}

/* True when a grain at v overlaps one of the sorted tables. */
static bool hits_table(const uint32_t *tabs, uint64_t nt, uint64_t gts,
                       uint32_t v, uint64_t grain)
{
  uint64_t lo = 0, hi = nt;

  /* First table starting at or after v + grain; the one before it is the
   * only candidate (tables do not overlap each other). */
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;

    if (tabs[mid] < (uint64_t)v + grain)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo > 0 && (uint64_t)tabs[lo - 1] + gts > v;
}

static int cmp_u32s(const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

  return x < y ? -1 : x > y;
}

int sparse_check(struct extent *e, bool repair, uint64_t *bad)
{
  struct sparse *sp = e->sp;
  uint64_t fs = e->file_size / DISK_SECTOR, cap = fs / sp->h.grain + 1;
  uint64_t n = 0, nt = 0, i, lo = sp->h.overhead ? sp->h.overhead : 1;
  struct grain_ref *refs = NULL;
  uint32_t *gt = NULL, *tabs = NULL;
  int st = DISK_OK;

  *bad = 0;
  if (e->ops != &sparse_ops)
    return DISK_OK; /* stream entries are checked when loaded */
  if (cap > 1048576)
    cap = 1048576;
  gt = malloc((size_t)sp->h.gtes * 4);
  refs = malloc((size_t)cap * sizeof *refs);
  tabs = malloc((size_t)(sp->num_gts + 1) * 2 * 4);
  if (!gt || !refs || !tabs) {
    st = DISK_E_NOMEM;
    goto out;
  }
  for (i = 0; i < sp->num_gts; i++) {
    if (sp->gd[i])
      tabs[nt++] = sp->gd[i];
    if (sp->rgd && sp->rgd[i])
      tabs[nt++] = sp->rgd[i];
  }
  qsort(tabs, (size_t)nt, 4, cmp_u32s);
  for (i = 0; i < sp->num_gts && !st; i++) {
    uint32_t j;

    if (!sp->gd[i])
      continue;
    st = disk_pread(e->fd, gt, (size_t)sp->h.gtes * 4,
                    (uint64_t)sp->gd[i] * DISK_SECTOR, NULL, e->path);
    for (j = 0; !st && j < sp->h.gtes; j++) {
      uint32_t v = le32toh(gt[j]);

      if (v <= 1)
        continue;
      if (v < lo || v >= fs || n == cap ||
          hits_table(tabs, nt, sp->gt_sectors, v, sp->h.grain)) {
        (*bad)++;
        if (repair)
          st = sparse_gte_set(sp, e->fd, i, j, 0, e->path);
        continue;
      }
      refs[n].sector = v;
      refs[n].gt = (uint32_t)i;
      refs[n].j = j;
      n++;
    }
  }
  if (!st)
    qsort(refs, (size_t)n, sizeof *refs, cmp_ref);
  for (i = 1; !st && i < n; i++)
    if ((uint64_t)refs[i - 1].sector + sp->h.grain > refs[i].sector) {
      (*bad)++;
      if (repair)
        st = sparse_gte_set(sp, e->fd, refs[i].gt, refs[i].j, 0, e->path);
    }
out:
  free(gt);
  free(refs);
  free(tabs);
  return st;
}
