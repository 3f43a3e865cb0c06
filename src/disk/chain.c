/*
 * chain.c -- chains: opening a disk (a link and its parents), routing
 * reads, writes and allocation queries to extents and down to parents.
 *
 * A chain is the opened link plus its parents, found by parentFileNameHint
 * (resolved by the link's vfs, relative to the child's file); each parent's
 * CID must equal the child's parentCID, the chain may not revisit a file
 * (disk_file ids), and it may hold at most DISK_MAX_LINKS links.  Parents
 * are always read-only.
 *
 * Reads ask the top link's extent to map the range and act on the leading
 * run: DATA is one pread into the caller's buffer, ZERO a memset, HOLE the
 * same read one link down (zeros below the base), CODED the backend's read.
 * Writes go to the top link only; the first write after open gives the link
 * a new CID, as VMware and qemu do, so children made from the old content
 * notice the change (raw disks have no CID).
 *
 * THREADS.  A disk opened read-only may be read (disk_read,
 * disk_block_status) from several threads at once: the only state a read
 * changes is an extent's (grain-table cache, scratch grain, decoded stream
 * grain), so each extent has a mutex held just around map() and a CODED
 * read(); the DATA pread runs outside it when the extent's file is
 * DISK_FILE_CONCURRENT, inside it (serialising that file) otherwise.  There
 * is no lock per disk and none global.  Writable disks keep VDDK's rule of
 * one thread at a time per handle.
 */
#include "disk/chain.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "disk/error.h"
#include "disk/file.h"
#include "disk/names.h"

struct link *disk_top(struct disk *d)
{
  return d->links[0];
}

int disk_close(struct disk *d)
{
  size_t i;
  int st = DISK_OK;

  if (!d)
    return DISK_OK;
  for (i = 0; i < d->n; i++) {
    int r = link_finish(d->links[i]);

    if (r && !st)
      st = r;
  }
  if (d->n && d->links[0]->writable) {
    int r = link_flush(d->links[0]);

    if (r && !st)
      st = r;
  }
  for (i = 0; i < d->n; i++)
    link_close(d->links[i]);
  free(d);
  return st;
}

static struct disk *disk_new(unsigned flags)
{
  struct disk *d = calloc(1, sizeof *d);

  if (!d)
    disk_fail(DISK_E_NOMEM, "out of memory");
  else
    d->flags = flags;
  return d;
}

/* Opens the parent of the bottom link of d and appends it. */
static int open_parent(struct disk *d)
{
  struct link *child = d->links[d->n - 1], *p;
  char *ppath;
  size_t i;
  int st;

  if (d->n == DISK_MAX_LINKS)
    return disk_fail(DISK_E_TOODEEP, "%s: more than %d links in the chain",
                     d->links[0]->path, DISK_MAX_LINKS);
  ppath = child->vfs->resolve(child->vfs, child->path, child->desc.parent_hint,
                              &st);
  if (!ppath)
    return st;
  st = link_open(&p, child->vfs, ppath, false);
  if (st == DISK_E_NOTFOUND)
    st = disk_fail(DISK_E_PARENT, "%s: parent %s not found", child->path,
                   ppath);
  free(ppath);
  if (st)
    return st;
  for (i = 0; i < d->n; i++)
    if (link_same_file(d->links[i], p)) {
      st = disk_fail(DISK_E_CHAIN, "%s: parent chain loops back to %s",
                     d->links[0]->path, d->links[i]->path);
      link_close(p);
      return st;
    }
  if (p->desc.cid != child->desc.parent_cid) {
    st = disk_fail(DISK_E_CID,
                   "%s: parent %s has CID %08x, the child "
                   "expects %08x",
                   child->path, p->path, p->desc.cid, child->desc.parent_cid);
    link_close(p);
    return st;
  }
  d->links[d->n++] = p;
  return DISK_OK;
}

int disk_open_vfs(struct disk **out, const struct disk_vfs *vfs,
                  const char *path, unsigned flags)
{
  struct disk *d;
  int st;

  *out = NULL;
  d = disk_new(flags);
  if (!d)
    return DISK_E_NOMEM;
  st = link_open(&d->links[0], vfs, path, !(flags & DISK_OPEN_READONLY));
  if (!st)
    d->n = 1;
  while (!st && !(flags & DISK_OPEN_SINGLE_LINK) &&
         d->links[d->n - 1]->desc.parent_hint)
    st = open_parent(d);
  if (st) {
    disk_close(d);
    return st;
  }
  *out = d;
  return DISK_OK;
}

int disk_open(struct disk **out, const char *path, unsigned flags)
{
  return disk_open_vfs(out, disk_vfs_posix(), path, flags);
}

int disk_open_raw(struct disk **out, struct disk_file *f,
                  const char *const *ddb, enum disk_kind kind, unsigned flags)
{
  struct disk *d;
  int st;

  *out = NULL;
  d = disk_new(flags | DISK_OPEN_SINGLE_LINK);
  if (!d) {
    disk_file_close(f);
    return DISK_E_NOMEM;
  }
  st =
      link_open_raw(&d->links[0], f, ddb, kind, !(flags & DISK_OPEN_READONLY));
  if (st) {
    free(d);
    return st;
  }
  d->n = 1;
  *out = d;
  return DISK_OK;
}

uint64_t disk_capacity(const struct disk *d)
{
  return d->links[0]->capacity;
}

const char *disk_path(const struct disk *d)
{
  return d->links[0]->path;
}

/* Extent of l holding sector (< l->capacity): binary search. */
static struct extent *find_extent(struct link *l, uint64_t sector)
{
  size_t lo = 0, hi = l->n_ext;

  while (hi - lo > 1) {
    size_t mid = lo + (hi - lo) / 2;

    if (l->ext[mid].start <= sector)
      lo = mid;
    else
      hi = mid;
  }
  return &l->ext[lo];
}

static bool concurrent(const struct extent *e)
{
  return e->file && (e->file->caps & DISK_FILE_CONCURRENT);
}

/* Reads the leading run of [rel, rel+n) of e into buf, except a HOLE
 * (m->kind says which run it was; the caller reads a hole below). */
static int extent_read(struct extent *e, uint64_t rel, uint64_t n,
                       uint8_t *buf, struct extent_map *m)
{
  bool outside = concurrent(e);
  int st;

  pthread_mutex_lock(&e->lock);
  st = e->ops->map(e, rel, n, m);
  if (!st && m->kind == MAP_CODED)
    st = e->ops->read(e, rel, m->len, buf);
  else if (!st && m->kind == MAP_DATA && !outside)
    st = disk_file_pread(e->file, buf, (size_t)(m->len * DISK_SECTOR),
                         m->offset, NULL);
  pthread_mutex_unlock(&e->lock);
  if (!st && m->kind == MAP_DATA && outside)
    st = disk_file_pread(e->file, buf, (size_t)(m->len * DISK_SECTOR),
                         m->offset, NULL);
  if (!st && m->kind == MAP_ZERO)
    memset(buf, 0, (size_t)(m->len * DISK_SECTOR));
  return st;
}

static int link_read(struct disk *d, size_t level, uint64_t sector,
                     uint64_t n, uint8_t *buf)
{
  struct link *l = d->links[level];
  int st;

  while (n) {
    struct extent *e;
    struct extent_map m;
    uint64_t rel, avail;

    if (sector >= l->capacity) {
      memset(buf, 0, (size_t)(n * DISK_SECTOR));
      return DISK_OK;
    }
    e = find_extent(l, sector);
    rel = sector - e->start;
    avail = e->sectors - rel;
    if (avail == 0) { /* empty extent */
      memset(buf, 0, (size_t)(n * DISK_SECTOR));
      return DISK_OK;
    }
    st = extent_read(e, rel, n < avail ? n : avail, buf, &m);
    if (!st && m.kind == MAP_HOLE) {
      if (level + 1 < d->n)
        st = link_read(d, level + 1, sector, m.len, buf);
      else
        memset(buf, 0, (size_t)(m.len * DISK_SECTOR));
    }
    if (st)
      return st;
    sector += m.len;
    n -= m.len;
    buf += m.len * DISK_SECTOR;
  }
  return DISK_OK;
}

static int check_range(const struct disk *d, uint64_t sector, uint64_t n)
{
  uint64_t end;

  if (__builtin_add_overflow(sector, n, &end) || end > disk_capacity(d))
    return disk_fail(DISK_E_RANGE,
                     "%s: sectors %" PRIu64 "+%" PRIu64
                     " pass the capacity of %" PRIu64,
                     disk_path(d), sector, n, disk_capacity(d));
  return DISK_OK;
}

int disk_read(struct disk *d, uint64_t sector, uint64_t n, void *buf)
{
  int st = check_range(d, sector, n);

  return st ? st : link_read(d, 0, sector, n, buf);
}

struct below_ctx {
  struct disk *d;
  uint64_t base;
};

static int below_read(void *opaque, uint64_t sector, uint64_t n,
                      uint8_t *buf)
{
  struct below_ctx *c = opaque;

  if (c->d->n < 2) {
    memset(buf, 0, (size_t)(n * DISK_SECTOR));
    return DISK_OK;
  }
  return link_read(c->d, 1, c->base + sector, n, buf);
}

static int renew_cid(struct link *l)
{
  uint32_t old = l->desc.cid;
  int st;

  if (l->cid_fresh || l->synthetic || l->raw)
    return DISK_OK;
  l->desc.cid = disk_new_cid();
  st = link_write_desc(l);
  if (st) {
    l->desc.cid = old;
    return st;
  }
  l->cid_fresh = true;
  return DISK_OK;
}

/* Every extent under [sector, sector+n) (n >= 1, within the capacity) can
 * be written: checked before anything is, so a refused write (a read-only
 * format such as vmfsSparse or SEsparse, a streamOptimized disk with data,
 * a RDONLY extent) changes nothing. */
static int check_writable(struct link *l, uint64_t sector, uint64_t n)
{
  uint64_t end = sector + n;

  while (sector < end) {
    struct extent *e = find_extent(l, sector);

    if (!e->ops->write)
      return disk_fail(DISK_E_UNSUPPORTED,
                       "%s: %s extents cannot be written in place",
                       e->file ? e->file->name : l->path, e->ops->name);
    if (!e->writable)
      return disk_fail(DISK_E_READONLY, "%s: extent %s is read-only", l->path,
                       extent_name(e));
    sector = e->start + e->sectors;
  }
  return DISK_OK;
}

int disk_write(struct disk *d, uint64_t sector, uint64_t n, const void *buf)
{
  struct link *l = d->links[0];
  const uint8_t *p = buf;
  int st = check_range(d, sector, n);

  if (st)
    return st;
  if (!l->writable)
    return disk_fail(DISK_E_READONLY, "%s: opened read-only", l->path);
  if (n)
    st = check_writable(l, sector, n);
  while (!st && n) {
    struct extent *e = find_extent(l, sector);
    uint64_t rel = sector - e->start, m = e->sectors - rel;
    struct below_ctx c = {d, e->start};
    struct below below = {below_read, &c};

    if (m > n)
      m = n;
    st = renew_cid(l); /* once per open; a no-op afterwards */
    if (!st)
      st = e->ops->write(e, rel, m, p, &below);
    sector += m;
    n -= m;
    p += m * DISK_SECTOR;
  }
  return st;
}

int disk_flush(struct disk *d)
{
  return d->links[0]->writable ? link_flush(d->links[0]) : DISK_OK;
}

/* Narrows a DATA run of a flat extent at the bottom of the chain to what
 * its file says is allocated (sources with DISK_FILE_CAN_ALLOC): a sector
 * partly allocated counts as allocated. */
static int file_allocation(struct extent *e, struct extent_map *m,
                           bool *allocated)
{
  uint64_t run, sectors;
  bool a;
  int st =
      disk_file_allocated(e->file, m->offset, m->len * DISK_SECTOR, &run, &a);

  if (st)
    return st;
  sectors = a ? (run + DISK_SECTOR - 1) / DISK_SECTOR : run / DISK_SECTOR;
  if (sectors == 0) { /* a hole ending inside the first sector */
    sectors = 1;
    a = true;
  }
  if (sectors < m->len)
    m->len = sectors;
  *allocated = a;
  return DISK_OK;
}

static bool asks_file(const struct extent *e)
{
  return (e->type == DESC_EXT_FLAT || e->type == DESC_EXT_VMFS) && e->file &&
         (e->file->caps & DISK_FILE_CAN_ALLOC);
}

static int link_status(struct disk *d, size_t level, uint64_t sector,
                       uint64_t n, uint64_t *len, bool *allocated)
{
  struct link *l = d->links[level];
  struct extent *e;
  struct extent_map m;
  uint64_t rel, avail;
  bool bottom = level + 1 == d->n;
  int st;

  if (sector >= l->capacity) {
    *len = n;
    *allocated = false;
    return DISK_OK;
  }
  e = find_extent(l, sector);
  rel = sector - e->start;
  avail = e->sectors - rel;
  if (avail == 0) {
    *len = n;
    *allocated = false;
    return DISK_OK;
  }
  *allocated = true;
  pthread_mutex_lock(&e->lock);
  st = e->ops->map(e, rel, n < avail ? n : avail, &m);
  /* A hole of a flat file reads as zeros: "not allocated" at the bottom,
   * but above it those zeros hide the parent's data. */
  if (!st && m.kind == MAP_DATA && bottom && asks_file(e))
    st = file_allocation(e, &m, allocated);
  pthread_mutex_unlock(&e->lock);
  if (st)
    return st;
  if (m.kind == MAP_HOLE && !bottom)
    return link_status(d, level + 1, sector, m.len, len, allocated);
  *len = m.len;
  if (m.kind == MAP_HOLE)
    *allocated = false;
  return DISK_OK;
}

int disk_block_status(struct disk *d, uint64_t sector, uint64_t n,
                      uint64_t *len, bool *allocated)
{
  int st = check_range(d, sector, n);

  if (!st && n == 0)
    st = disk_fail(DISK_E_ARG, "%s: block status of no sectors", disk_path(d));
  return st ? st : link_status(d, 0, sector, n, len, allocated);
}
