/*
 * manage.c -- whole-disk operations: clone (with type conversion), unlink,
 * rename, grow, shrink and defragment, space estimates, check/repair.
 *
 * Clone reads the source through its chain in 1 MiB chunks, skipping chunks
 * the allocation map says are holes and grains that are all zeros, and
 * writes into a freshly created target (through the normal write path, or
 * the sequential stream writer for streamOptimized targets).  Operations on
 * a named disk open its link writable first, so they fail with
 * DISK_E_LOCKED while someone writes it.  All of them work on the local
 * file system (disk_vfs_posix and file_posix.h); Shrink and Defragment of a
 * disk opened through another vfs are DISK_E_NOTCAPABLE.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "disk/chain.h"
#include "disk/create.h"
#include "disk/disk.h"
#include "disk/error.h"
#include "disk/file_posix.h"
#include "disk/grain.h"
#include "disk/names.h"
#include "disk/stream.h"
#include "util/log.h"

#define CLONE_CHUNK 2048u /* sectors (1 MiB), a multiple of STREAM_GRAIN */

/* True when any sector of [pos, pos+n) is allocated. */
static int any_allocated(struct disk *s, uint64_t pos, uint64_t n, bool *out)
{
  while (n) {
    uint64_t len;
    bool alloc;
    int st = disk_block_status(s, pos, n, &len, &alloc);

    if (st)
      return st;
    if (alloc) {
      *out = true;
      return DISK_OK;
    }
    pos += len;
    n -= len;
  }
  *out = false;
  return DISK_OK;
}

static int copy_data(struct disk *s, struct disk *t, struct stream_writer *w,
                     disk_progress_fn *progress, void *opaque)
{
  uint64_t cap = disk_capacity(s), pos;
  uint8_t *buf = malloc(CLONE_CHUNK * DISK_SECTOR);
  int st = DISK_OK, last = -1;

  if (!buf)
    return disk_fail(DISK_E_NOMEM, "%s: out of memory", disk_path(s));
  for (pos = 0; pos < cap && !st; pos += CLONE_CHUNK) {
    uint64_t n = cap - pos < CLONE_CHUNK ? cap - pos : CLONE_CHUNK, g;
    bool alloc;
    int pct;

    st = any_allocated(s, pos, n, &alloc);
    if (st || !alloc)
      continue;
    memset(buf, 0, CLONE_CHUNK * DISK_SECTOR);
    st = disk_read(s, pos, n, buf);
    for (g = 0; !st && g < n; g += STREAM_GRAIN) {
      uint64_t m = n - g < STREAM_GRAIN ? n - g : STREAM_GRAIN;
      const uint8_t *p = buf + g * DISK_SECTOR;

      if (disk_all_zero(p, (size_t)(STREAM_GRAIN * DISK_SECTOR)))
        continue;
      st = w ? stream_writer_put(w, (pos + g) / STREAM_GRAIN, p)
             : disk_write(t, pos + g, m, p);
    }
    pct = (int)((pos + n) * 100 / cap);
    if (progress && pct != last) {
      progress(opaque, pct);
      last = pct;
    }
  }
  free(buf);
  return st;
}

/* Makes room for a clone at dst: DISK_E_EXISTS without overwrite, else
 * the disk there (or the plain file) is removed. */
static int clear_target(const char *dst, bool overwrite)
{
  if (!disk_posix_exists(dst))
    return DISK_OK;
  if (!overwrite)
    return disk_fail(DISK_E_EXISTS, "%s: already exists", dst);
  if (disk_unlink(dst) == DISK_OK)
    return DISK_OK;
  return disk_posix_unlink(dst); /* not a disk we can open: the file */
}

/* A streamOptimized clone of s at dst, through the sequential writer. */
static int clone_stream(struct disk *s, const char *dst,
                        struct descriptor *desc, uint64_t capacity,
                        disk_progress_fn *progress, void *opaque)
{
  struct stream_writer *w;
  char *text = NULL;
  int st = desc_set_str(&desc->create_type, "streamOptimized");

  if (!st)
    st = desc_add_extent(desc, DESC_RW, capacity, DESC_EXT_SPARSE,
                         disk_base_name(dst), 0);
  if (!st)
    st = desc_format_text(desc, dst, &text);
  if (!st && capacity > SPARSE_CREATE_MAX)
    st = disk_fail(DISK_E_TOOBIG,
                   "%s: %" PRIu64 " sectors is more than a stream holds (%u)",
                   dst, capacity, SPARSE_CREATE_MAX);
  if (!st)
    st = stream_writer_open(&w, dst, capacity, text);
  free(text);
  if (st)
    return st;
  st = copy_data(s, NULL, w, progress, opaque);
  if (st) {
    stream_writer_abort(w);
    return st;
  }
  return stream_writer_finish(w);
}

int disk_clone(const char *dst, const char *src,
               const struct disk_create_params *p, bool overwrite,
               disk_progress_fn *progress, void *opaque)
{
  struct disk *s = NULL, *t = NULL;
  struct disk_create_params cp = *p;
  struct disk_info info;
  struct descriptor desc;
  int st, cst;

  memset(&desc, 0, sizeof desc);
  st = disk_open(&s, src, DISK_OPEN_READONLY);
  if (st)
    return st;
  disk_get_info(s, &info);
  cp.capacity = info.capacity;
  if (cp.kind == DISK_KIND_UNKNOWN)
    cp.kind = info.kind == DISK_KIND_UNKNOWN ? DISK_KIND_MONO_SPARSE
                                             : info.kind;
  if (cp.adapter == DISK_ADAPTER_UNKNOWN)
    cp.adapter = info.adapter == DISK_ADAPTER_UNKNOWN ? DISK_ADAPTER_LSILOGIC
                                                      : info.adapter;
  st = clear_target(dst, overwrite);
  if (!st)
    st = create_fill_desc(&desc, &cp);
  if (st)
    goto out;
  if (cp.kind == DISK_KIND_STREAM) {
    st = clone_stream(s, dst, &desc, cp.capacity, progress, opaque);
    goto out;
  }
  st = create_link(dst, cp.kind, cp.capacity, &desc);
  if (st)
    goto out;
  st = disk_open(&t, dst, DISK_OPEN_SINGLE_LINK);
  if (!st)
    st = copy_data(s, t, NULL, progress, opaque);
  cst = disk_close(t);
  if (!st)
    st = cst;
  if (st) { /* remove the half-made clone, keeping the failure's detail */
    struct disk_error failure = *disk_last_error();

    disk_unlink(dst);
    disk_fail(failure.status, "%s", failure.detail);
  }
out:
  desc_free(&desc);
  disk_close(s);
  return st;
}

int disk_unlink(const char *path)
{
  struct link *l;
  size_t i;
  int st, r;

  st = link_open(&l, disk_vfs_posix(), path, true);
  if (st)
    return st;
  for (i = 0; i < l->n_ext; i++) {
    struct extent *e = &l->ext[i];

    if (!e->file || link_owns_extent_file(l, e))
      continue;
    r = disk_posix_unlink(e->file->name);
    if (r && r != DISK_E_NOTFOUND && !st)
      st = r;
  }
  if (!st)
    st = disk_posix_unlink(l->path);
  link_close(l);
  return st;
}

/* The extents of l to move when it is renamed from src to dst: from[i] ->
 * to[i] (NULL where the extent stays: ZERO extents, the link's own file,
 * which moves last), the descriptor's names updated. */
static int plan_rename(struct link *l, const char *src, const char *dst,
                       char **from, char **to)
{
  const struct disk_vfs *vfs = disk_vfs_posix();
  size_t i;
  int st = DISK_OK;

  for (i = 0; !st && i < l->n_ext; i++) {
    struct desc_extent *de = &l->desc.ext[i];
    char *name;

    if (!de->file)
      continue;
    name = disk_renamed_extent(src, dst, de->file);
    if (!name)
      return DISK_E_NOMEM;
    st = desc_set_str(&de->file, name);
    free(name);
    if (st || link_owns_extent_file(l, &l->ext[i]))
      continue;
    from[i] = strdup(l->ext[i].file->name);
    if (!from[i])
      return disk_fail(DISK_E_NOMEM, "%s: out of memory", src);
    to[i] = vfs->resolve(vfs, dst, de->file, &st);
    if (to[i] && disk_posix_exists(to[i]))
      st = disk_fail(DISK_E_EXISTS, "%s: already exists", to[i]);
  }
  return st;
}

int disk_rename(const char *src, const char *dst)
{
  struct link *l;
  char **from = NULL, **to = NULL;
  size_t i, done = 0;
  int st;

  if (disk_posix_exists(dst))
    return disk_fail(DISK_E_EXISTS, "%s: already exists", dst);
  st = link_open(&l, disk_vfs_posix(), src, true);
  if (st)
    return st;
  if (l->synthetic) {
    link_close(l);
    return disk_fail(DISK_E_UNSUPPORTED,
                     "%s: a bare sparse extent cannot be renamed on its own",
                     src);
  }
  from = calloc(l->n_ext + 1, sizeof *from);
  to = calloc(l->n_ext + 1, sizeof *to);
  if (!from || !to)
    st = disk_fail(DISK_E_NOMEM, "%s: out of memory", src);
  else
    st = plan_rename(l, src, dst, from, to);
  for (i = 0; !st && i < l->n_ext; i++) {
    if (from[i])
      st = disk_posix_rename(from[i], to[i]);
    if (!st)
      done = i + 1;
  }
  if (!st)
    st = link_write_desc(l);
  if (!st)
    st = disk_posix_rename(src, dst);
  if (st) { /* put back what moved; the descriptor keeps the old names */
    struct disk_error failure = *disk_last_error();

    for (i = 0; i < done; i++)
      if (from[i])
        disk_posix_rename(to[i], from[i]);
    disk_fail(failure.status, "%s", failure.detail);
  }
  if (from && to)
    for (i = 0; i < l->n_ext; i++) {
      free(from[i]);
      free(to[i]);
    }
  free(from);
  free(to);
  link_close(l);
  return st;
}

static int set_geometry(struct link *l, uint64_t capacity)
{
  struct disk_create_params p;
  struct descriptor tmp;
  const char *ad = desc_ddb_get(&l->desc, "ddb.adapterType");
  size_t i;
  int st;

  memset(&p, 0, sizeof p);
  memset(&tmp, 0, sizeof tmp);
  p.capacity = capacity;
  p.adapter = ad && strcasecmp(ad, "ide") == 0 ? DISK_ADAPTER_IDE
                                               : DISK_ADAPTER_LSILOGIC;
  p.logical_sector_size = p.physical_sector_size = 512;
  st = create_fill_desc(&tmp, &p);
  for (i = 0; !st && i < tmp.n_ddb; i++)
    if (strncmp(tmp.ddb[i].key, "ddb.geometry.", 13) == 0)
      st = desc_ddb_set(&l->desc, tmp.ddb[i].key, tmp.ddb[i].value);
  desc_free(&tmp);
  return st;
}

/* Grows the last extent of l (sparse or flat) by delta sectors. */
static int grow_last(struct link *l, uint64_t delta)
{
  struct extent *last = &l->ext[l->n_ext - 1];
  uint64_t end;
  int st;

  if (last->type == DESC_EXT_SPARSE) {
    if (last->sectors + delta > SPARSE_CREATE_MAX)
      return disk_fail(DISK_E_TOOBIG,
                       "%s: %" PRIu64 " sectors is more than a sparse "
                       "extent holds (%u)",
                       extent_name(last), last->sectors + delta,
                       SPARSE_CREATE_MAX);
    st = sparse_grow(last, last->sectors + delta);
  } else if (last->type == DESC_EXT_FLAT || last->type == DESC_EXT_VMFS) {
    end = last->flat_offset + (last->sectors + delta) * DISK_SECTOR;
    st =
        end > last->file->size ? disk_file_truncate(last->file, end) : DISK_OK;
  } else {
    return disk_fail(DISK_E_UNSUPPORTED, "%s: its last extent cannot grow",
                     l->path);
  }
  if (!st)
    l->desc.ext[l->n_ext - 1].sectors += delta;
  return st;
}

int disk_grow(const char *path, uint64_t capacity, bool update_geometry,
              disk_progress_fn *progress, void *opaque)
{
  struct created made = {NULL, 0};
  struct link *l;
  bool written = false;
  int st;

  st = link_open(&l, disk_vfs_posix(), path, true);
  if (st)
    return st;
  if (capacity < l->capacity)
    st = disk_fail(DISK_E_ARG,
                   "%s: %" PRIu64 " sectors is less than the capacity %" PRIu64
                   " (a disk does not shrink)",
                   path, capacity, l->capacity);
  else if (capacity > DISK_MAX_SECTORS)
    st = disk_fail(DISK_E_TOOBIG, "%s: %" PRIu64 " sectors is too large", path,
                   capacity);
  else if (capacity == l->capacity)
    goto out;
  else if (l->synthetic || l->kind == DISK_KIND_STREAM ||
           l->kind == DISK_KIND_UNKNOWN)
    st = disk_fail(DISK_E_UNSUPPORTED, "%s: growing %s disks is not supported",
                   path,
                   l->synthetic ? "bare sparse extent" : l->desc.create_type);
  else if (l->kind == DISK_KIND_SPLIT_SPARSE ||
           l->kind == DISK_KIND_SPLIT_FLAT)
    st = create_extents(path, l->kind, capacity - l->capacity,
                        (unsigned)l->desc.n_ext, &l->desc, &made);
  else
    st = grow_last(l, capacity - l->capacity);
  if (!st && update_geometry)
    st = set_geometry(l, capacity);
  if (!st)
    st = link_write_desc(l);
  written = !st;
  if (!st)
    st = link_flush(l);
  if (!st && progress)
    progress(opaque, 100);
out:
  /* Extents this call made are the descriptor's once it is written; before
   * that they belong to nothing and go. */
  if (written)
    created_keep(&made);
  else
    created_undo(&made);
  link_close(l);
  return st;
}

/* Shrink and Defragment: every sparse extent of the top link is compacted
 * (sparse.c); where the extent file is the link's own (monolithicSparse),
 * the link's file and lock move to the new file with it. */
static int compact(struct disk *d, bool shrink, disk_progress_fn *progress,
                   void *opaque)
{
  struct link *l = disk_top(d);
  struct compact_progress pr = {progress, opaque, 0, 0, -1};
  const char *op = shrink ? "shrink" : "defragment";
  size_t i, n_sparse = 0;
  int st = DISK_OK;

  if (!l->writable)
    return disk_fail(DISK_E_READONLY, "%s: opened read-only", l->path);
  if (shrink && l->desc.parent_hint)
    return disk_fail(DISK_E_CANTSHRINK,
                     "%s: a child (redo log) cannot be shrunk: its zero "
                     "grains hide the parent's data",
                     l->path);
  for (i = 0; i < l->n_ext; i++) {
    struct extent *e = &l->ext[i];

    if (e->type != DESC_EXT_SPARSE)
      continue;
    if (!e->ops->write || !e->writable)
      return disk_fail(e->ops->write ? DISK_E_READONLY : DISK_E_UNSUPPORTED,
                       "%s: cannot %s %s extents", extent_name(e), op,
                       e->ops->name);
    n_sparse++;
    pr.total += e->sp->num_gts * e->sp->h.gtes;
  }
  if (n_sparse == 0) {
    if (!shrink)
      goto done; /* flat disks are as contiguous as the host makes them */
    return disk_fail(DISK_E_UNSUPPORTED,
                     "%s: only sparse disks can be shrunk (this one is %s)",
                     l->path, l->desc.create_type);
  }
  if (l->vfs != disk_vfs_posix())
    return disk_fail(DISK_E_NOTCAPABLE,
                     "%s: only local disks can be rewritten", l->path);
  for (i = 0; !st && i < l->n_ext; i++) {
    struct extent *e = &l->ext[i];
    struct disk_file *old;
    bool own = link_owns_extent_file(l, e);

    if (e->type != DESC_EXT_SPARSE)
      continue;
    st = sparse_compact(e, shrink, own, &old, &pr);
    if (old && own) {
      l->file = e->file;
      if (l->embedded)
        l->desc_off = e->sp->h.desc_offset * DISK_SECTOR;
    }
    disk_file_close(old);
  }
  if (st)
    return st;
done:
  if (progress && pr.last != 100)
    progress(opaque, 100);
  return DISK_OK;
}

int disk_shrink(struct disk *d, disk_progress_fn *progress, void *opaque)
{
  return compact(d, true, progress, opaque);
}

int disk_defragment(struct disk *d, disk_progress_fn *progress, void *opaque)
{
  return compact(d, false, progress, opaque);
}

int disk_space_for_clone(struct disk *d, enum disk_kind kind, uint64_t *out)
{
  struct disk_info info;
  uint64_t cap = disk_capacity(d), pos = 0, used = 0, meta;
  int st;

  disk_get_info(d, &info);
  if (kind == DISK_KIND_UNKNOWN)
    kind = info.kind;
  while (pos < cap) {
    uint64_t len;
    bool alloc;

    st = disk_block_status(d, pos, cap - pos, &len, &alloc);
    if (st)
      return st;
    if (alloc)
      used += len;
    pos += len;
  }
  /* Tables for both directories, directory sectors, header, descriptor. */
  meta = ((cap / 65536 + 1) * 2 * 4 + 64) * DISK_SECTOR;
  switch (kind) {
  case DISK_KIND_MONO_FLAT:
  case DISK_KIND_SPLIT_FLAT:
  case DISK_KIND_VMFS_FLAT:
    *out = cap * DISK_SECTOR + 4096;
    break;
  default:
    /* Allocated data rounded up to whole grains (compression only makes
     * it less), plus the metadata. */
    *out = (used + 128) / 128 * 128 * DISK_SECTOR + meta;
    break;
  }
  return DISK_OK;
}

int disk_check(const char *path, bool repair)
{
  struct link *l;
  uint64_t bad = 0;
  size_t i;
  int st;

  st = link_open(&l, disk_vfs_posix(), path, repair);
  if (st == DISK_E_NEEDSREPAIR && repair)
    return disk_fail(DISK_E_CANTREPAIR, "%s (cannot be repaired)",
                     disk_last_error()->detail);
  if (st)
    return st;
  for (i = 0; !st && i < l->n_ext; i++) {
    uint64_t b = 0;

    if (l->ext[i].type == DESC_EXT_SPARSE)
      st = sparse_check(&l->ext[i], repair, &b);
    bad += b;
  }
  if (!st && bad && repair) {
    fvx_debug("%s: %" PRIu64 " damaged grain table entries cleared", path,
              bad);
    st = link_flush(l);
  } else if (!st && bad) {
    st = disk_fail(DISK_E_NEEDSREPAIR,
                   "%s: %" PRIu64 " grain table entries are damaged", path,
                   bad);
  }
  link_close(l);
  return st;
}
