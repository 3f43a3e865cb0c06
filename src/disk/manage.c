/*
 * manage.c -- whole-disk operations: clone (with type conversion), unlink,
 * rename, grow, shrink and defragment, space estimates, check/repair.
 *
 * Clone reads the source through its chain in 1 MiB chunks, skipping chunks
 * the allocation map says are holes and grains that are all zeros, and
 * writes into a freshly created target (through the normal write path, or
 * the sequential stream writer for streamOptimized targets).  Operations on
 * a named disk open its link writable first, so they fail with
 * DISK_E_LOCKED while someone writes it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk/chain.h"
#include "disk/create.h"
#include "disk/disk.h"
#include "disk/grain.h"
#include "disk/stream.h"
#include "util/buf.h"
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
    return DISK_E_NOMEM;
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

int disk_clone(const char *dst, const char *src,
               const struct disk_create_params *p, bool overwrite,
               disk_progress_fn *progress, void *opaque)
{
  struct disk *s = NULL, *t = NULL;
  struct disk_create_params cp = *p;
  struct disk_info info;
  struct descriptor desc;
  struct stream_writer *w = NULL;
  char *text = NULL;
  bool created = false;
  int st;

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
  if (access(dst, F_OK) == 0) {
    if (!overwrite) {
      st = DISK_E_EXISTS;
      goto out;
    }
    if (disk_unlink(dst) != DISK_OK && unlink(dst) != 0) {
      st = disk_errno_status(errno);
      goto out;
    }
  }
  st = create_fill_desc(&desc, &cp);
  if (st)
    goto out;
  if (cp.kind == DISK_KIND_STREAM) {
    const char *base = strrchr(dst, '/');
    struct fvx_buf b;

    st = desc_set_str(&desc.create_type, "streamOptimized");
    if (!st)
      st = desc_add_extent(&desc, DESC_RW, cp.capacity, DESC_EXT_SPARSE,
                           base ? base + 1 : dst, 0);
    fvx_buf_init(&b, DESC_MAX_BYTES);
    if (!st)
      st = desc_format(&desc, &b);
    if (!st)
      st = (text = fvx_buf_steal(&b)) ? DISK_OK : DISK_E_NOMEM;
    fvx_buf_free(&b);
    if (!st && cp.capacity > SPARSE_CREATE_MAX)
      st = DISK_E_TOOBIG;
    if (!st)
      st = stream_writer_open(&w, dst, cp.capacity, text);
    if (st)
      goto out;
    st = copy_data(s, NULL, w, progress, opaque);
    if (st) {
      stream_writer_abort(w);
      goto out;
    }
    st = stream_writer_finish(w);
    goto out;
  }
  st = create_link(dst, cp.kind, cp.capacity, &desc);
  if (st)
    goto out;
  created = true;
  st = disk_open(&t, dst, DISK_OPEN_SINGLE_LINK);
  if (!st)
    st = copy_data(s, t, NULL, progress, opaque);
  if (t) {
    int cst = disk_close(t);

    if (!st)
      st = cst;
  }
  if (st && created)
    disk_unlink(dst);
out:
  free(text);
  desc_free(&desc);
  disk_close(s);
  return st;
}

int disk_unlink(const char *path)
{
  struct link *l;
  size_t i;
  int st;

  st = link_open(&l, path, true);
  if (st)
    return st;
  for (i = 0; i < l->n_ext; i++)
    if (l->ext[i].path && strcmp(l->ext[i].path, l->path) != 0 &&
        unlink(l->ext[i].path) != 0 && errno != ENOENT) {
      st = disk_errno_status(errno);
      fvx_error("%s: cannot remove: %s", l->ext[i].path, strerror(errno));
    }
  if (!st && unlink(l->path) != 0)
    st = disk_errno_status(errno);
  link_close(l);
  return st;
}

/* New name of an extent file when its disk moves from src to dst: the
 * source's stem in front of the name is replaced by the destination's. */
static char *renamed(const char *src, const char *dst, const char *file)
{
  const char *sb = strrchr(src, '/'), *db = strrchr(dst, '/');
  size_t sl, dl;
  char *out;

  sb = sb ? sb + 1 : src;
  db = db ? db + 1 : dst;
  sl = strlen(sb);
  dl = strlen(db);
  if (sl > 5 && strcasecmp(sb + sl - 5, ".vmdk") == 0)
    sl -= 5;
  if (dl > 5 && strcasecmp(db + dl - 5, ".vmdk") == 0)
    dl -= 5;
  if (strncmp(file, sb, sl) != 0)
    return strdup(file);
  out = malloc(dl + strlen(file + sl) + 1);
  if (out) {
    memcpy(out, db, dl);
    strcpy(out + dl, file + sl);
  }
  return out;
}

int disk_rename(const char *src, const char *dst)
{
  struct link *l;
  char **from = NULL, **to = NULL;
  size_t i, done = 0;
  int st;

  if (access(dst, F_OK) == 0)
    return DISK_E_EXISTS;
  st = link_open(&l, src, true);
  if (st)
    return st;
  if (l->synthetic) {
    link_close(l);
    return DISK_E_UNSUPPORTED;
  }
  from = calloc(l->n_ext + 1, sizeof *from);
  to = calloc(l->n_ext + 1, sizeof *to);
  if (!from || !to) {
    st = DISK_E_NOMEM;
    goto out;
  }
  for (i = 0; !st && i < l->n_ext; i++) {
    struct desc_extent *de = &l->desc.ext[i];
    char *name;

    if (!de->file)
      continue;
    name = renamed(src, dst, de->file);
    if (!name || desc_set_str(&de->file, name)) {
      free(name);
      st = DISK_E_NOMEM;
      break;
    }
    free(name);
    if (strcmp(l->ext[i].path, l->path) == 0)
      continue; /* the embedded descriptor's own file moves last */
    from[i] = strdup(l->ext[i].path);
    to[i] = disk_path_resolve(dst, de->file);
    if (!from[i] || !to[i])
      st = DISK_E_NOMEM;
    else if (access(to[i], F_OK) == 0)
      st = DISK_E_EXISTS;
  }
  if (st)
    goto out;
  for (i = 0; !st && i < l->n_ext; i++) {
    if (from[i] && rename(from[i], to[i]) != 0) {
      st = disk_errno_status(errno);
      fvx_error("%s: cannot rename: %s", from[i], strerror(errno));
    }
    if (!st)
      done = i + 1;
  }
  if (!st)
    st = link_write_desc(l);
  if (!st && rename(src, dst) != 0) {
    st = disk_errno_status(errno);
    fvx_error("%s: cannot rename: %s", src, strerror(errno));
  }
  if (st) /* put back what moved; the descriptor keeps the old names */
    for (i = 0; i < done; i++)
      if (from[i])
        rename(to[i], from[i]);
out:
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

int disk_grow(const char *path, uint64_t capacity, bool update_geometry,
              disk_progress_fn *progress, void *opaque)
{
  struct link *l;
  struct extent *last;
  uint64_t delta;
  int st;

  st = link_open(&l, path, true);
  if (st)
    return st;
  if (capacity < l->capacity) {
    st = DISK_E_ARG;
    goto out;
  }
  if (capacity == l->capacity)
    goto out;
  if (capacity > DISK_MAX_SECTORS) {
    st = DISK_E_TOOBIG;
    goto out;
  }
  delta = capacity - l->capacity;
  last = &l->ext[l->n_ext - 1];
  if (l->synthetic || l->kind == DISK_KIND_STREAM ||
      l->kind == DISK_KIND_UNKNOWN) {
    fvx_error("%s: growing %s disks is not supported", path,
              l->desc.create_type);
    st = DISK_E_UNSUPPORTED;
  } else if (l->kind == DISK_KIND_SPLIT_SPARSE ||
             l->kind == DISK_KIND_SPLIT_FLAT) {
    struct descriptor *d = &l->desc;
    bool sparse = l->kind == DISK_KIND_SPLIT_SPARSE;

    while (!st && delta) {
      uint64_t size = delta > SPLIT_EXTENT_SECTORS ? SPLIT_EXTENT_SECTORS
                                                   : delta;
      char *name = create_extent_name(path, sparse ? 's' : 'f',
                                      (unsigned)d->n_ext + 1);
      char *full = name ? disk_path_resolve(path, name) : NULL;

      st = !full ? DISK_E_NOMEM : sparse ? create_sparse_file(full, size, NULL)
                                         : DISK_OK;
      if (!st && !sparse) {
        FILE *f = fopen(full, "wx");

        st = !f ? disk_errno_status(errno)
             : ftruncate(fileno(f), (off_t)(size * DISK_SECTOR)) ? DISK_E_IO
                                                                 : DISK_OK;
        if (f)
          fclose(f);
      }
      if (!st)
        st = desc_add_extent(d, DESC_RW, size,
                             sparse ? DESC_EXT_SPARSE : DESC_EXT_FLAT, name,
                             0);
      free(name);
      free(full);
      delta -= size;
    }
  } else if (last->type == DESC_EXT_SPARSE) {
    if (last->sectors + delta > SPARSE_CREATE_MAX)
      st = DISK_E_TOOBIG;
    else
      st = sparse_grow(last, last->sectors + delta);
    if (!st)
      l->desc.ext[l->n_ext - 1].sectors += delta;
  } else if (last->type == DESC_EXT_FLAT || last->type == DESC_EXT_VMFS) {
    uint64_t end = last->flat_offset + (last->sectors + delta) * DISK_SECTOR;

    if (end > last->file_size && ftruncate(last->fd, (off_t)end) != 0)
      st = disk_errno_status(errno);
    if (!st)
      l->desc.ext[l->n_ext - 1].sectors += delta;
  } else {
    st = DISK_E_UNSUPPORTED;
  }
  if (!st && update_geometry)
    st = set_geometry(l, capacity);
  if (!st)
    st = link_write_desc(l);
  if (!st)
    st = link_flush(l);
  if (!st && progress)
    progress(opaque, 100);
out:
  link_close(l);
  return st;
}

/* Shrink and Defragment: every sparse extent of the top link is compacted
 * (sparse.c); where the extent file is the link's own (monolithicSparse),
 * the link's descriptor and lock move to the new file with it. */
static int compact(struct disk *d, bool shrink, disk_progress_fn *progress,
                   void *opaque)
{
  struct link *l = disk_top(d);
  struct compact_progress pr = {progress, opaque, 0, 0, -1};
  const char *op = shrink ? "shrink" : "defragment";
  size_t i, n_sparse = 0;
  int st = DISK_OK;

  if (!l->writable)
    return DISK_E_READONLY;
  if (shrink && l->desc.parent_hint) {
    fvx_error("%s: a child (redo log) cannot be shrunk: its zero grains "
              "hide the parent's data", l->path);
    return DISK_E_CANTSHRINK;
  }
  for (i = 0; i < l->n_ext; i++) {
    struct extent *e = &l->ext[i];

    if (e->type != DESC_EXT_SPARSE)
      continue;
    if (!e->ops->write || !e->writable) {
      fvx_error("%s: cannot %s %s extents", e->path, op, e->ops->name);
      return e->ops->write ? DISK_E_READONLY : DISK_E_UNSUPPORTED;
    }
    n_sparse++;
    pr.total += e->sp->num_gts * e->sp->h.gtes;
  }
  if (n_sparse == 0) {
    if (!shrink)
      goto done; /* flat disks are as contiguous as the host makes them */
    fvx_error("%s: only sparse disks can be shrunk (this one is %s)",
              l->path, l->desc.create_type);
    return DISK_E_UNSUPPORTED;
  }
  for (i = 0; !st && i < l->n_ext; i++) {
    struct extent *e = &l->ext[i];
    struct stat sb;
    bool own;
    int lfd;

    if (e->type != DESC_EXT_SPARSE)
      continue;
    own = fstat(e->fd, &sb) == 0 && sb.st_dev == l->dev &&
          sb.st_ino == l->ino;
    st = sparse_compact(e, shrink, own, &lfd, &pr);
    if (lfd >= 0) {
      close(l->fd);
      l->fd = lfd;
      if (fstat(lfd, &sb) == 0) {
        l->dev = sb.st_dev;
        l->ino = sb.st_ino;
      }
      if (l->embedded)
        l->desc_off = e->sp->h.desc_offset * DISK_SECTOR;
    }
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

  st = link_open(&l, path, repair);
  if (st == DISK_E_NEEDSREPAIR)
    return repair ? DISK_E_CANTREPAIR : DISK_E_NEEDSREPAIR;
  if (st)
    return st;
  for (i = 0; !st && i < l->n_ext; i++) {
    uint64_t b = 0;

    if (l->ext[i].type == DESC_EXT_SPARSE)
      st = sparse_check(&l->ext[i], repair, &b);
    bad += b;
  }
  if (!st && bad) {
    fvx_info("%s: %" PRIu64 " grain table entries are damaged%s", path, bad,
             repair ? ", cleared" : "");
    st = repair ? link_flush(l) : DISK_E_NEEDSREPAIR;
  }
  link_close(l);
  return st;
}
