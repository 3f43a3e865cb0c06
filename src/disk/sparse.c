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
 *
 * Maintenance: grow (directory extended or moved), check/repair (entries
 * outside the grain area or sharing a grain), and compaction for Shrink and
 * Defragment: the extent is rewritten into a temporary file beside it with
 * the referenced grains in logical order, fsynced, checked by loading it,
 * and renamed over the old file (then the directory is fsynced), so a crash
 * at any point leaves either the old file or the new one, each whole; a
 * leftover "<extent>.fvxtmpXXXXXX" is the only trace of an interrupted run.
 */
#include <endian.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "disk/delta.h"
#include "disk/disk.h"
#include "disk/error.h"
#include "disk/extent.h"
#include "disk/file.h"
#include "disk/file_posix.h"
#include "disk/grain.h"
#include "disk/stream.h"
#include "util/log.h"

static int sparse_map(struct extent *e, uint64_t sector, uint64_t n,
                      struct extent_map *out)
{
  return sparse_map_run(e, sector, n, MAP_DATA, out);
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

    st = sparse_entry(e, g, &v);
    if (st)
      return st;
    if (v > 1) {
      st = disk_file_pwrite(e->file, buf, (size_t)(m * DISK_SECTOR),
                            ((uint64_t)v + in) * DISK_SECTOR);
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
      if (at + grain > SPARSE_MAX_SECTOR)
        return disk_fail(DISK_E_NOSPACE,
                         "%s: sparse extent is full (32-bit sector offsets)",
                         extent_name(e));
      st = disk_file_pwrite(e->file, src, (size_t)sp->grain_bytes,
                            at * DISK_SECTOR);
      if (st)
        return st;
      sp->next_sector += grain;
      st = sparse_gte_set(sp, e->file, g / sp->h.gtes,
                          (uint32_t)(g % sp->h.gtes), (uint32_t)at);
      if (st)
        return st;
    }
    sector += m;
    n -= m;
    buf += m * DISK_SECTOR;
  }
  return DISK_OK;
}

static const struct extent_ops sparse_ops = {
    .name = "sparse",
    .map = sparse_map,
    .write = sparse_write,
    .flush = extent_sync,
    .close = sparse_extent_close,
};

int sparse_open(struct extent *e)
{
  struct sparse_header h;
  uint8_t raw[512];
  size_t got;
  int st;

  st = disk_file_pread(e->file, raw, sizeof raw, 0, &got);
  if (st)
    return st;
  if (got >= 4 && memcmp(raw, "COWD", 4) == 0)
    return cowd_open(e); /* a vmfsSparse redo log (qemu: either magic) */
  if (got < sizeof raw)
    return disk_fail(DISK_E_CORRUPT, "%s: file too short for a sparse header",
                     extent_name(e));
  st = sparse_header_decode(&h, raw, extent_name(e));
  if (st)
    return st;
  if (e->sectors > h.capacity)
    return disk_fail(DISK_E_DESCRIPTOR,
                     "%s: descriptor extent of %" PRIu64 " sectors exceeds "
                     "the file's capacity of %" PRIu64,
                     extent_name(e), e->sectors, h.capacity);
  if (h.flags & SPARSE_FLAG_COMPRESSED)
    return stream_open(e, &h);
  st = sparse_load(&e->sp, e->file, &h);
  if (st)
    return st;
  e->ops = &sparse_ops;
  return DISK_OK;
}

/* ---- maintenance ---------------------------------------------------------- */

/* Writes a directory of n entries (host order) at sector 'at' of f. */
static int write_dir(struct disk_file *f, const uint32_t *dir, uint64_t n,
                     uint64_t at)
{
  uint64_t bytes = sparse_entry_sectors(n) * DISK_SECTOR;
  uint32_t *le = calloc(1, (size_t)(bytes ? bytes : DISK_SECTOR));
  uint64_t i;
  int st;

  if (!le)
    return disk_fail(DISK_E_NOMEM, "%s: out of memory", f->name);
  for (i = 0; i < n; i++)
    le[i] = htole32(dir[i]);
  st = disk_file_pwrite(f, le, (size_t)bytes, at * DISK_SECTOR);
  free(le);
  return st;
}

int sparse_grow(struct extent *e, uint64_t capacity)
{
  struct sparse *sp = e->sp;
  struct sparse_header h = sp->h;
  uint64_t old_secs = sparse_entry_sectors(sp->num_gts);
  uint64_t n, new_secs;
  uint32_t *gd = NULL, *rgd = NULL;
  uint8_t raw[DISK_SECTOR];
  int st;

  if (e->ops != &sparse_ops)
    return disk_fail(DISK_E_UNSUPPORTED, "%s: %s extents cannot grow",
                     extent_name(e), e->ops->name);
  h.capacity = capacity;
  n = sparse_num_gts(&h);
  if (n * 4 > SPARSE_MAX_GD_BYTES)
    return disk_fail(DISK_E_TOOBIG,
                     "%s: %" PRIu64 " sectors need a grain directory larger "
                     "than %u bytes",
                     extent_name(e), capacity, SPARSE_MAX_GD_BYTES);
  new_secs = sparse_entry_sectors(n);
  gd = calloc((size_t)n, 4);
  rgd = sp->rgd ? calloc((size_t)n, 4) : NULL;
  if (!gd || (sp->rgd && !rgd)) {
    st = disk_fail(DISK_E_NOMEM, "%s: out of memory", extent_name(e));
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
      st = disk_fail(DISK_E_NOSPACE,
                     "%s: sparse extent is full (32-bit sector offsets)",
                     extent_name(e));
      goto out;
    }
    sp->next_sector += (rgd ? 2 : 1) * new_secs;
    if (!rgd)
      h.flags &= ~SPARSE_FLAG_RGD;
  }
  st = write_dir(e->file, gd, n, h.gd_offset);
  if (!st && rgd)
    st = write_dir(e->file, rgd, n, h.rgd_offset);
  if (!st) {
    sparse_header_encode(&h, raw);
    st = disk_file_pwrite(e->file, raw, sizeof raw, 0);
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
  uint64_t fs = e->file->size / DISK_SECTOR, cap = fs / sp->h.grain + 1;
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
    st = disk_fail(DISK_E_NOMEM, "%s: out of memory", extent_name(e));
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
    st = disk_file_pread(e->file, gt, (size_t)sp->h.gtes * 4,
                         (uint64_t)sp->gd[i] * DISK_SECTOR, NULL);
    for (j = 0; !st && j < sp->h.gtes; j++) {
      uint32_t v = le32toh(gt[j]);

      if (v <= 1)
        continue;
      if (v < lo || v >= fs || n == cap ||
          hits_table(tabs, nt, sp->gt_sectors, v, sp->h.grain)) {
        (*bad)++;
        if (repair)
          st = sparse_gte_set(sp, e->file, i, j, 0);
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
        st = sparse_gte_set(sp, e->file, refs[i].gt, refs[i].j, 0);
    }
out:
  free(gt);
  free(refs);
  free(tabs);
  return st;
}

/* ---- compaction (Shrink, Defragment) --------------------------------------- */

static void tick(struct compact_progress *pr, uint64_t n)
{
  int pct;

  pr->done += n;
  pct = pr->total ? (int)(pr->done * 100 / pr->total) : 100;
  if (pct > 100)
    pct = 100;
  if (pr->fn && pct != pr->last) {
    pr->fn(pr->opaque, pct);
    pr->last = pct;
  }
}

/* Copies the grains table tab (host order, the table's entries)
 * references into the new file nf from *pos on, rewriting tab to the new
 * places. */
static int copy_grains(struct extent *e, struct disk_file *nf, uint32_t *tab,
                       bool drop_zero, uint64_t *pos)
{
  struct sparse *sp = e->sp;
  uint32_t j;
  int st;

  for (j = 0; j < sp->h.gtes; j++) {
    if (tab[j] <= 1)
      continue;
    st = disk_file_pread(e->file, sp->grain_buf, (size_t)sp->grain_bytes,
                         (uint64_t)tab[j] * DISK_SECTOR, NULL);
    if (st)
      return st;
    if (drop_zero && disk_all_zero(sp->grain_buf, (size_t)sp->grain_bytes)) {
      tab[j] = 0;
      continue;
    }
    if (*pos + sp->h.grain > SPARSE_MAX_SECTOR)
      return disk_fail(DISK_E_NOSPACE,
                       "%s: sparse extent is full (32-bit sector offsets)",
                       nf->name);
    st = disk_file_pwrite(nf, sp->grain_buf, (size_t)sp->grain_bytes,
                          *pos * DISK_SECTOR);
    if (st)
      return st;
    tab[j] = (uint32_t)*pos;
    *pos += sp->h.grain;
  }
  return DISK_OK;
}

int sparse_compact(struct extent *e, bool drop_zero, bool lock,
                   struct disk_file **old, struct compact_progress *pr)
{
  struct sparse *sp = e->sp, *nsp = NULL;
  struct sparse_header h;
  uint64_t gds, gts, ntab = 0, i, k = 0, pos, gd_tabs, rgd_tabs = 0;
  uint32_t *ngd = NULL, *nrgd = NULL, *tab = NULL, *gt;
  uint8_t raw[DISK_SECTOR], *area = NULL;
  struct disk_file *nf = NULL;
  uint64_t old_size = e->file->size;
  int st;

  *old = NULL;
  if (e->ops != &sparse_ops)
    return disk_fail(DISK_E_UNSUPPORTED, "%s: %s extents cannot be compacted",
                     extent_name(e), e->ops->name);
  if (!e->writable)
    return disk_fail(DISK_E_READONLY, "%s: opened read-only", extent_name(e));
  /* New layout: header, descriptor area, redundant directory and its
   * tables, directory and its tables, grains from a grain-aligned overhead;
   * only the tables the old directory has are kept (qemu never allocates
   * one, so its files stay writable by qemu). */
  h = sp->h;
  gds = sparse_entry_sectors(sp->num_gts);
  gts = sp->gt_sectors;
  for (i = 0; i < sp->num_gts; i++)
    ntab += sp->gd[i] != 0;
  h.desc_offset = h.desc_size ? 1 : 0;
  pos = 1 + h.desc_size;
  if (sp->rgd) {
    h.rgd_offset = pos;
    rgd_tabs = pos + gds;
    pos = rgd_tabs + ntab * gts;
  } else {
    h.rgd_offset = 0;
    h.flags &= ~SPARSE_FLAG_RGD;
  }
  h.gd_offset = pos;
  gd_tabs = pos + gds;
  h.overhead = (gd_tabs + ntab * gts + h.grain - 1) / h.grain * h.grain;
  h.unclean = 0;
  pos = h.overhead;
  if (pos > SPARSE_MAX_SECTOR)
    return disk_fail(DISK_E_NOSPACE,
                     "%s: sparse extent is full (32-bit sector offsets)",
                     extent_name(e));

  ngd = calloc((size_t)(sp->num_gts ? sp->num_gts : 1), 4);
  nrgd = sp->rgd ? calloc((size_t)(sp->num_gts ? sp->num_gts : 1), 4) : NULL;
  tab = calloc(1, (size_t)(gts * DISK_SECTOR));
  area = h.desc_size ? malloc((size_t)(h.desc_size * DISK_SECTOR)) : NULL;
  st = sparse_grain_buf(sp);
  if (!ngd || (sp->rgd && !nrgd) || !tab || (h.desc_size && !area))
    st = disk_fail(DISK_E_NOMEM, "%s: out of memory", extent_name(e));
  if (!st)
    st = disk_posix_temp(extent_name(e), &nf);
  if (st)
    goto out;
  if (h.desc_size) {
    st = disk_file_pread(e->file, area, (size_t)(h.desc_size * DISK_SECTOR),
                         sp->h.desc_offset * DISK_SECTOR, NULL);
    if (!st)
      st = disk_file_pwrite(nf, area, (size_t)(h.desc_size * DISK_SECTOR),
                            DISK_SECTOR);
  }
  for (i = 0; !st && i < sp->num_gts; i++) {
    if (sp->gd[i]) {
      uint32_t j;

      st = sparse_gt_get(sp, e->file, i, &gt);
      if (st)
        break;
      memcpy(tab, gt, (size_t)sp->h.gtes * 4);
      st = copy_grains(e, nf, tab, drop_zero, &pos);
      for (j = 0; j < sp->h.gtes; j++)
        tab[j] = htole32(tab[j]);
      ngd[i] = (uint32_t)(gd_tabs + k * gts);
      if (!st)
        st = disk_file_pwrite(nf, tab, (size_t)(gts * DISK_SECTOR),
                              ngd[i] * DISK_SECTOR);
      if (nrgd) {
        nrgd[i] = (uint32_t)(rgd_tabs + k * gts);
        if (!st)
          st = disk_file_pwrite(nf, tab, (size_t)(gts * DISK_SECTOR),
                                nrgd[i] * DISK_SECTOR);
      }
      k++;
    }
    if (!st)
      tick(pr, sp->h.gtes);
  }
  if (!st)
    st = write_dir(nf, ngd, sp->num_gts, h.gd_offset);
  if (!st && nrgd)
    st = write_dir(nf, nrgd, sp->num_gts, h.rgd_offset);
  if (!st) {
    sparse_header_encode(&h, raw);
    st = disk_file_pwrite(nf, raw, sizeof raw, 0);
  }
  if (!st)
    st = disk_file_truncate(nf, pos * DISK_SECTOR);
  if (!st)
    st = disk_file_sync(nf);
  /* Load the new file as an open would (every check applies) before it
   * replaces the old one. */
  if (!st)
    st = sparse_load(&nsp, nf, &h);
  if (!st && lock)
    st = disk_file_lock(nf);
  if (!st)
    st = disk_posix_rename_file(nf, extent_name(e));
  if (st)
    goto out;
  /* Committed: the new file is in place. */
  fvx_debug("%s: rewritten, %" PRIu64 " -> %" PRIu64 " bytes", extent_name(e),
            old_size, pos * DISK_SECTOR);
  *old = e->file;
  e->file = nf;
  nf = NULL;
  sparse_free(e->sp);
  e->sp = nsp;
  nsp = NULL;
  st = disk_posix_sync_dir(extent_name(e));
out:
  if (nf) {
    disk_posix_discard(nf->name);
    disk_file_close(nf);
  }
  sparse_free(nsp);
  free(ngd);
  free(nrgd);
  free(tab);
  free(area);
  return st;
}
