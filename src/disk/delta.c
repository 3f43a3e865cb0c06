/*
 * delta.c -- what the two read-only delta formats (vmfsSparse, SEsparse)
 * share: checked decoding of directories and tables into normalised
 * entries, the run mapper, the directory load, the bounded table cache and
 * the extent ops.  See delta.h for the invariants every decoded entry
 * satisfies.
 *
 * The decoders are pure: they take the bytes as read from the file and the
 * layout the format's header decoder produced, so the fuzz targets and unit
 * tests drive them without a file.  Only delta_read() touches the file.
 */
#include "disk/delta.h"

#include <endian.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "disk/disk.h"
#include "disk/error.h"
#include "disk/file.h"

struct delta {
  struct delta_layout l;
  const struct delta_format *f;
  uint64_t *gd; /* table sector per directory entry, 0 = none */
  struct delta_slot {
    uint64_t idx; /* table index, valid when gt != NULL */
    uint64_t *gt; /* DELTA_GTES normalised entries */
  } cache[DELTA_GT_CACHE];
  uint8_t *raw; /* one raw table, allocated with the first load */
};

static uint64_t rd_entry(const uint8_t *p, unsigned bytes)
{
  uint64_t v64;
  uint32_t v32;

  if (bytes == 4) {
    memcpy(&v32, p, 4);
    return le32toh(v32);
  }
  memcpy(&v64, p, 8);
  return le64toh(v64);
}

/* True when [at, at+len) sectors lies in [lo, hi), inside the file, past
 * the headers and off the directory. */
static bool span_ok(const struct delta_layout *l, uint64_t at, uint64_t len,
                    uint64_t lo, uint64_t hi)
{
  uint64_t end;

  if (__builtin_add_overflow(at, len, &end))
    return false;
  return at >= lo && end <= hi && at >= l->meta_end &&
         end <= l->file_sectors &&
         (end <= l->gd_offset || at >= l->gd_offset + l->gd_sectors);
}

static int cmp_u64(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

  return x < y ? -1 : x > y;
}

int delta_gd_decode(const struct delta_layout *l,
                    const struct delta_format *f, const uint8_t *raw,
                    uint64_t n, uint64_t *out, const char *what)
{
  uint64_t i, m = 0, *sorted;
  int st = DISK_OK;

  sorted = malloc((size_t)(n ? n : 1) * sizeof *sorted);
  if (!sorted)
    return disk_fail(DISK_E_NOMEM, "%s: no memory for a %" PRIu64
                     "-entry grain directory", what, n);
  for (i = 0; i < n && !st; i++) {
    uint64_t v = rd_entry(raw + i * l->entry_bytes, l->entry_bytes);

    if (f->gde(l, v, &out[i]))
      st = disk_fail(DISK_E_NEEDSREPAIR, "%s: %s grain directory entry %"
                     PRIu64 " (0x%" PRIx64 ") is not a table reference",
                     what, f->name, i, v);
    else if (out[i] && !span_ok(l, out[i], l->gt_sectors, l->gt_lo,
                                l->gt_hi))
      st = disk_fail(DISK_E_NEEDSREPAIR, "%s: %s grain table %" PRIu64
                     " at sector %" PRIu64 " lies outside the file, its "
                     "table area or over metadata", what, f->name, i,
                     out[i]);
    else if (out[i])
      sorted[m++] = out[i];
  }
  if (!st)
    qsort(sorted, (size_t)m, sizeof *sorted, cmp_u64);
  for (i = 1; i < m && !st; i++)
    if (sorted[i - 1] + l->gt_sectors > sorted[i])
      st = disk_fail(DISK_E_NEEDSREPAIR, "%s: %s grain tables at sectors %"
                     PRIu64 " and %" PRIu64 " overlap", what, f->name,
                     sorted[i - 1], sorted[i]);
  free(sorted);
  return st;
}

int delta_gt_decode(const struct delta_layout *l,
                    const struct delta_format *f, const uint8_t *raw,
                    uint64_t table, uint64_t *out, const char *what)
{
  uint32_t j;

  for (j = 0; j < DELTA_GTES; j++) {
    uint64_t v = rd_entry(raw + (size_t)j * l->entry_bytes, l->entry_bytes);

    if (f->gte(l, v, &out[j]))
      return disk_fail(DISK_E_NEEDSREPAIR, "%s: %s grain table %" PRIu64
                       " entry %" PRIu32 " (0x%" PRIx64 ") has an invalid "
                       "encoding", what, f->name, table, j, v);
    if (out[j] > DELTA_ZERO &&
        !span_ok(l, out[j], l->grain, l->grain_lo, l->grain_hi))
      return disk_fail(DISK_E_NEEDSREPAIR, "%s: %s grain table %" PRIu64
                       " entry %" PRIu32 " points at sector %" PRIu64
                       ", outside the file, its grain area or over metadata",
                       what, f->name, table, j, out[j]);
  }
  return DISK_OK;
}

static enum map_kind entry_kind(uint64_t v, enum map_kind alloc)
{
  return v == DELTA_HOLE ? MAP_HOLE : v == DELTA_ZERO ? MAP_ZERO : alloc;
}

int delta_map_run(uint64_t grain, uint64_t sector, uint64_t n,
                  delta_entry_fn *entry, void *ctx, enum map_kind alloc,
                  struct extent_map *out)
{
  uint64_t g0 = sector / grain, g = g0, len = grain - sector % grain;
  uint64_t first, v;
  int st;

  st = entry(ctx, g, &first);
  if (st)
    return st;
  out->kind = entry_kind(first, alloc);
  out->offset = out->kind == MAP_DATA
                    ? (first + sector % grain) * DISK_SECTOR
                    : 0;
  while (len < n) {
    st = entry(ctx, g + 1, &v);
    if (st)
      return st;
    if (entry_kind(v, alloc) != out->kind ||
        (out->kind == MAP_DATA && v != first + (g + 1 - g0) * grain))
      break;
    g++;
    len += grain;
  }
  out->len = len < n ? len : n;
  return DISK_OK;
}

/* ---- glue: the directory, the table cache, the extent ops ---------------- */

int delta_read(struct extent *e, void *buf, size_t len, uint64_t off,
               size_t *got)
{
  return disk_file_pread(e->file, buf, len, off, got);
}

static size_t gt_bytes(const struct delta_layout *l)
{
  return (size_t)DELTA_GTES * l->entry_bytes;
}

/* The cached table idx (its directory entry is set), loading it on a miss;
 * the pointer lives until the next call. */
static int table_get(struct extent *e, uint64_t idx, uint64_t **out)
{
  struct delta *d = e->delta;
  struct delta_slot *s = &d->cache[idx % DELTA_GT_CACHE];
  int st;

  if (s->gt && s->idx == idx) {
    *out = s->gt;
    return DISK_OK;
  }
  if (!d->raw)
    d->raw = malloc(gt_bytes(&d->l));
  if (!s->gt)
    s->gt = malloc(DELTA_GTES * sizeof *s->gt);
  if (!d->raw || !s->gt)
    return disk_fail(DISK_E_NOMEM, "%s: no memory for a grain table",
                     extent_name(e));
  s->idx = UINT64_MAX;
  st = delta_read(e, d->raw, gt_bytes(&d->l), d->gd[idx] * DISK_SECTOR,
                  NULL);
  if (!st)
    st = delta_gt_decode(&d->l, d->f, d->raw, idx, s->gt, extent_name(e));
  if (st)
    return st;
  s->idx = idx;
  *out = s->gt;
  return DISK_OK;
}

static int entry_of(void *ctx, uint64_t g, uint64_t *out)
{
  struct extent *e = ctx;
  struct delta *d = e->delta;
  uint64_t idx = g / DELTA_GTES, *gt = NULL;
  int st;

  *out = DELTA_HOLE;
  if (idx >= d->l.gd_entries || d->gd[idx] == 0)
    return DISK_OK;
  st = table_get(e, idx, &gt);
  if (!st)
    *out = gt[g % DELTA_GTES];
  return st;
}

int delta_extent_map(struct extent *e, uint64_t sector, uint64_t n,
                     struct extent_map *out)
{
  return delta_map_run(e->delta->l.grain, sector, n, entry_of, e, MAP_DATA,
                       out);
}

int delta_extent_flush(struct extent *e)
{
  (void)e; /* read-only: nothing to make durable */
  return DISK_OK;
}

static void delta_free(struct delta *d)
{
  size_t i;

  if (!d)
    return;
  for (i = 0; i < DELTA_GT_CACHE; i++)
    free(d->cache[i].gt);
  free(d->gd);
  free(d->raw);
  free(d);
}

void delta_extent_close(struct extent *e)
{
  delta_free(e->delta);
  e->delta = NULL;
}

int delta_open(struct extent *e, const struct delta_layout *l,
               const struct delta_format *f)
{
  size_t bytes = (size_t)(l->gd_entries * l->entry_bytes);
  struct delta *d;
  uint8_t *raw;
  int st;

  if (e->sectors > l->capacity)
    return disk_fail(DISK_E_DESCRIPTOR, "%s: descriptor extent of %" PRIu64
                     " sectors exceeds the %s file's capacity of %" PRIu64,
                     extent_name(e), e->sectors, f->name, l->capacity);
  d = calloc(1, sizeof *d);
  raw = malloc(bytes ? bytes : 1);
  if (d)
    d->gd = malloc((size_t)(l->gd_entries ? l->gd_entries : 1) *
                   sizeof *d->gd);
  if (!d || !raw || !d->gd) {
    free(raw);
    delta_free(d);
    return disk_fail(DISK_E_NOMEM, "%s: no memory for the grain directory",
                     extent_name(e));
  }
  d->l = *l;
  d->f = f;
  st = delta_read(e, raw, bytes, l->gd_offset * DISK_SECTOR, NULL);
  if (!st)
    st = delta_gd_decode(l, f, raw, l->gd_entries, d->gd, extent_name(e));
  free(raw);
  if (st) {
    delta_free(d);
    return st;
  }
  e->delta = d;
  e->ops = f->ops;
  return DISK_OK;
}
