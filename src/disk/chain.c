/*
 * chain.c -- links and chains: opening a disk, routing reads, writes and
 * allocation queries to extents and down to parents, metadata, locking.
 *
 * A link is one descriptor and its extents (chain.h).  A chain is the
 * opened link plus its parents, found by parentFileNameHint (relative to
 * the child's directory); each parent's CID must equal the child's
 * parentCID, the chain may not revisit a file (device + inode), and it may
 * hold at most DISK_MAX_LINKS links.  Parents are always read-only.
 *
 * Reads ask the top link's extent to map the range and act on the leading
 * run: DATA is one pread into the caller's buffer, ZERO a memset, HOLE the
 * same read one link down (zeros below the base), CODED the backend's read.
 * Writes go to the top link only; the first write after open gives the link
 * a new CID, as VMware and qemu do, so children made from the old content
 * notice the change.
 *
 * Attach (VDDK's VixDiskLib_Attach) appends a second chain's links below a
 * chain whose bottom link names a parent it did not open (a redo log opened
 * SINGLE_LINK): the same capacity and CID rules as an open apply.
 *
 * Locking: a writable open takes an OFD write lock (fcntl F_OFD_SETLK) on one
 * byte far beyond the end of the descriptor file (byte DISK_LOCK_BYTE, so it
 * never meets qemu's own locks at bytes 100-299); a second writable open, in
 * this process or another, fails with DISK_E_LOCKED.  Read-only opens take
 * no lock: readers coexist with each other and with a writer (they may see
 * the writer's updates, as when reading a disk that is in use).
 */
#include "disk/chain.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk/delta.h"
#include "disk/error.h"
#include "disk/grain.h"
#include "util/buf.h"
#include "util/log.h"

#define DISK_LOCK_BYTE (1ll << 62)

struct disk {
  struct link *links[DISK_MAX_LINKS];
  size_t n;
  unsigned flags;
};

struct link *disk_top(struct disk *d)
{
  return d->links[0];
}

/* ---- helpers ------------------------------------------------------------ */

char *disk_path_resolve(const char *base, const char *name)
{
  const char *slash = strrchr(base, '/');
  size_t dl = slash ? (size_t)(slash - base) : 0;
  char *p;

  if (name[0] == '/' || !slash)
    return strdup(name);
  p = malloc(dl + 1 + strlen(name) + 1);
  if (p) {
    memcpy(p, base, dl);
    p[dl] = '/';
    strcpy(p + dl + 1, name);
  }
  return p;
}

int disk_lock_writer(int fd, const char *what)
{
  struct flock fl;

  memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = DISK_LOCK_BYTE;
  fl.l_len = 1;
  if (fcntl(fd, F_OFD_SETLK, &fl) == 0)
    return DISK_OK;
  if (errno == EAGAIN || errno == EACCES) {
    fvx_info("%s: already opened for writing elsewhere", what);
    return DISK_E_LOCKED;
  }
  fvx_error("%s: cannot lock: %s", what, strerror(errno));
  return DISK_E_IO;
}

const char *disk_parent_hint(const char *child_path, const char *ppath)
{
  const char *cs = strrchr(child_path, '/'), *ps = strrchr(ppath, '/');

  if (cs && ps && cs - child_path == ps - ppath &&
      strncmp(child_path, ppath, (size_t)(cs - child_path)) == 0)
    return ps + 1;
  return ppath;
}

uint32_t disk_new_cid(void)
{
  uint32_t cid = 0;

  do {
    if (getrandom(&cid, sizeof cid, 0) != (ssize_t)sizeof cid)
      cid ^= (uint32_t)getpid() * 2654435761u ^ (uint32_t)time(NULL);
  } while (cid >= 0xfffffffeu);
  return cid;
}

/* Every createType VMware's format documents (libvmdk's list), and the
 * kind GetInfo reports for it.  The first name of a kind is the one freevix
 * writes.  SEsparse has no VixDiskLibDiskType of its own: it reports
 * VMFS_SPARSE, the other ESXi snapshot delta (an assumption: VDDK's own
 * answer is not documented).  The device and custom types have no kind;
 * their extents decide whether they open (raw devices are refused there). */
static const struct {
  const char *name;
  enum disk_kind kind;
} kinds[] = {
    {"monolithicSparse", DISK_KIND_MONO_SPARSE},
    {"monolithicFlat", DISK_KIND_MONO_FLAT},
    {"twoGbMaxExtentSparse", DISK_KIND_SPLIT_SPARSE},
    {"twoGbMaxExtentFlat", DISK_KIND_SPLIT_FLAT},
    {"vmfs", DISK_KIND_VMFS_FLAT},
    {"streamOptimized", DISK_KIND_STREAM},
    {"vmfsThin", DISK_KIND_VMFS_THIN},
    {"vmfsSparse", DISK_KIND_VMFS_SPARSE},
    {"seSparse", DISK_KIND_VMFS_SPARSE},
    {"2GbMaxExtentSparse", DISK_KIND_SPLIT_SPARSE},
    {"2GbMaxExtentFlat", DISK_KIND_SPLIT_FLAT},
    {"vmfsPreallocated", DISK_KIND_VMFS_FLAT},
    {"vmfsEagerZeroedThick", DISK_KIND_VMFS_FLAT},
    {"custom", DISK_KIND_UNKNOWN},
    {"fullDevice", DISK_KIND_UNKNOWN},
    {"partitionedDevice", DISK_KIND_UNKNOWN},
    {"vmfsRaw", DISK_KIND_UNKNOWN},
    {"vmfsRDM", DISK_KIND_UNKNOWN},
    {"vmfsRawDeviceMap", DISK_KIND_UNKNOWN},
    {"vmfsRDMP", DISK_KIND_UNKNOWN},
    {"vmfsPassthroughRawDeviceMap", DISK_KIND_UNKNOWN},
};

int disk_kind_lookup(const char *create_type, enum disk_kind *out,
                     const char *what)
{
  size_t i;

  *out = DISK_KIND_UNKNOWN;
  for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (strcasecmp(kinds[i].name, create_type) == 0) {
      *out = kinds[i].kind;
      return DISK_OK;
    }
  return disk_fail(DISK_E_UNSUPPORTED, "%s: createType \"%s\" is not a "
                   "VMDK disk type freevix knows", what, create_type);
}

const char *disk_create_type(enum disk_kind kind)
{
  size_t i;

  for (i = 0; kind != DISK_KIND_UNKNOWN && i < sizeof kinds / sizeof kinds[0];
       i++)
    if (kinds[i].kind == kind)
      return kinds[i].name;
  return NULL;
}

/* ---- links --------------------------------------------------------------- */

static int open_file(const char *path, bool writable, int *fd,
                     struct stat *st)
{
  *fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (*fd < 0) {
    int err = errno;

    fvx_error("%s: cannot open: %s", path, strerror(err));
    return disk_errno_status(err);
  }
  if (fstat(*fd, st) != 0 || !S_ISREG(st->st_mode)) {
    fvx_error("%s: not a regular file", path);
    close(*fd);
    *fd = -1;
    return DISK_E_ARG;
  }
  return DISK_OK;
}

/* Reads the descriptor: embedded in a sparse file, or a text file. */
static int load_descriptor(struct link *l, uint64_t file_size)
{
  uint8_t raw[DISK_SECTOR];
  size_t got, len;
  char *text;
  int st;

  st = disk_pread(l->fd, raw, sizeof raw, 0, &got, l->path);
  if (st)
    return st;
  if (got >= 4 && memcmp(raw, "KDMV", 4) == 0) {
    struct sparse_header h;
    const char *base;

    if (got < sizeof raw) {
      fvx_error("%s: file too short for a sparse header", l->path);
      return DISK_E_CORRUPT;
    }
    st = sparse_header_decode(&h, raw, l->path);
    if (!st)
      st = sparse_header_check_file(&h, file_size, l->path);
    if (st)
      return st;
    if (h.desc_size == 0) {
      /* A bare extent (twoGbMaxExtentSparse part): describe it. */
      base = strrchr(l->path, '/');
      l->synthetic = true;
      l->desc.version = 1;
      l->desc.cid = 0xfffffffeu;
      l->desc.parent_cid = DESC_CID_NONE;
      st = desc_set_str(&l->desc.create_type, "monolithicSparse");
      if (!st)
        st = desc_add_extent(&l->desc, DESC_RW, h.capacity, DESC_EXT_SPARSE,
                             base ? base + 1 : l->path, 0);
      return st;
    }
    l->embedded = true;
    l->desc_off = h.desc_offset * DISK_SECTOR;
    l->desc_cap = h.desc_size * DISK_SECTOR;
    len = (size_t)l->desc_cap;
  } else if (got >= 8 && (memcmp(raw, "COWD", 4) == 0 ||
                          memcmp(raw, "\xbe\xba\xfe\xca\0\0\0\0", 8) == 0)) {
    return disk_fail(DISK_E_UNSUPPORTED, "%s is a%s extent, not a disk: "
                     "open the descriptor that names it", l->path,
                     raw[0] == 'C' ? " vmfsSparse (COWD)" : "n SEsparse");
  } else {
    if (file_size > DESC_MAX_BYTES) {
      fvx_error("%s: neither a sparse extent nor a descriptor (%" PRIu64
                " bytes of text is too large)", l->path, file_size);
      return DISK_E_DESCRIPTOR;
    }
    len = (size_t)file_size;
  }
  text = malloc(len + 1);
  if (!text)
    return DISK_E_NOMEM;
  st = disk_pread(l->fd, text, len, l->desc_off, NULL, l->path);
  if (!st) {
    /* Embedded areas are NUL-padded, and qemu pads descriptor files to a
     * sector: the text ends at the first NUL, and only NULs may follow --
     * or blanks: qemu-img writes a stray "\n" after the NUL when the CID
     * it picked has fewer than 8 hex digits (about 1 disk in 16). */
    size_t tl = strnlen(text, len), i;

    for (i = tl; i < len && !st; i++)
      if (text[i] != '\0' && text[i] != '\n' && text[i] != '\r' &&
          text[i] != ' ' && text[i] != '\t') {
        fvx_error("%s: descriptor holds binary data after its text",
                  l->path);
        st = DISK_E_DESCRIPTOR;
      }
    if (!st)
      st = desc_parse(&l->desc, text, tl, l->path);
  }
  free(text);
  return st;
}

static int open_extent(struct link *l, struct extent *e,
                       const struct desc_extent *de, uint64_t start)
{
  struct stat sb;
  int st;

  e->fd = -1;
  e->type = de->type;
  e->start = start;
  e->sectors = de->sectors;
  e->writable = l->writable && de->access == DESC_RW;
  if (de->access == DESC_NOACCESS || de->type == DESC_EXT_VMFSRDM ||
      de->type == DESC_EXT_VMFSRAW) {
    fvx_error("%s: extent type or access mode not supported", l->path);
    return DISK_E_UNSUPPORTED;
  }
  if (de->type == DESC_EXT_ZERO)
    return zero_open(e);
  e->path = disk_path_resolve(l->path, de->file);
  if (!e->path)
    return DISK_E_NOMEM;
  st = open_file(e->path, e->writable, &e->fd, &sb);
  if (st)
    return st;
  e->file_size = (uint64_t)sb.st_size;
  if (de->type == DESC_EXT_SPARSE || de->type == DESC_EXT_VMFSSPARSE)
    return sparse_open(e); /* the file's magic picks KDMV or COWD */
  if (de->type == DESC_EXT_SESPARSE)
    return sesparse_open(e);
  return flat_open(e, de->type == DESC_EXT_FLAT ? de->offset : 0);
}

void link_close(struct link *l)
{
  size_t i;

  if (!l)
    return;
  for (i = 0; i < l->n_ext; i++) {
    struct extent *e = &l->ext[i];

    if (e->ops)
      e->ops->close(e);
    if (e->fd >= 0)
      close(e->fd);
    free(e->path);
  }
  free(l->ext);
  desc_free(&l->desc);
  if (l->fd >= 0)
    close(l->fd);
  free(l->path);
  free(l);
}

int link_open(struct link **out, const char *path, bool writable)
{
  struct link *l;
  struct stat sb;
  uint64_t start = 0;
  size_t i;
  int st;

  *out = NULL;
  l = calloc(1, sizeof *l);
  if (!l)
    return DISK_E_NOMEM;
  l->fd = -1;
  l->writable = writable;
  l->path = strdup(path);
  if (!l->path) {
    st = DISK_E_NOMEM;
    goto fail;
  }
  st = open_file(path, writable, &l->fd, &sb);
  if (st)
    goto fail;
  l->dev = sb.st_dev;
  l->ino = sb.st_ino;
  if (writable) {
    st = disk_lock_writer(l->fd, path);
    if (st)
      goto fail;
  }
  st = load_descriptor(l, (uint64_t)sb.st_size);
  if (st)
    goto fail;
  st = disk_kind_lookup(l->desc.create_type, &l->kind, path);
  if (st)
    goto fail;
  l->ext = calloc(l->desc.n_ext, sizeof *l->ext);
  if (!l->ext) {
    st = DISK_E_NOMEM;
    goto fail;
  }
  for (i = 0; i < l->desc.n_ext; i++) {
    l->n_ext = i + 1;
    st = open_extent(l, &l->ext[i], &l->desc.ext[i], start);
    if (st)
      goto fail;
    start += l->desc.ext[i].sectors;
  }
  l->capacity = start;
  *out = l;
  return DISK_OK;
fail:
  link_close(l);
  return st;
}

int link_write_desc(struct link *l)
{
  struct fvx_buf b;
  int st;

  if (l->synthetic) {
    fvx_error("%s: a bare sparse extent has no descriptor to update",
              l->path);
    return DISK_E_UNSUPPORTED;
  }
  if (!l->writable)
    return DISK_E_READONLY;
  fvx_buf_init(&b, DESC_MAX_BYTES);
  st = desc_format(&l->desc, &b);
  if (!st && l->embedded) {
    if (b.len > l->desc_cap) {
      fvx_error("%s: descriptor (%zu bytes) outgrows its %" PRIu64
                "-byte area", l->path, b.len, l->desc_cap);
      st = DISK_E_NOSPACE;
    } else {
      char *area = calloc(1, (size_t)l->desc_cap);

      st = area ? DISK_OK : DISK_E_NOMEM;
      if (area) {
        memcpy(area, b.data, b.len);
        st = disk_pwrite(l->fd, area, (size_t)l->desc_cap, l->desc_off,
                         l->path);
        free(area);
      }
    }
  } else if (!st) {
    st = disk_pwrite(l->fd, b.data, b.len, 0, l->path);
    if (!st && ftruncate(l->fd, (off_t)b.len) != 0)
      st = disk_errno_status(errno);
  }
  fvx_buf_free(&b);
  return st;
}

/* Runs the extents' finish (stream writers complete their files). */
static int link_finish(struct link *l)
{
  size_t i;
  int st = DISK_OK, r;

  for (i = 0; i < l->n_ext; i++)
    if (l->ext[i].ops->finish) {
      r = l->ext[i].ops->finish(&l->ext[i]);
      if (r && !st)
        st = r;
    }
  return st;
}

int link_flush(struct link *l)
{
  size_t i;
  int st = DISK_OK, r;

  for (i = 0; i < l->n_ext; i++) {
    r = l->ext[i].ops->flush(&l->ext[i]);
    if (r && !st)
      st = r;
  }
  if (l->writable && fsync(l->fd) != 0 && !st)
    st = DISK_E_IO;
  return st;
}

/* ---- chains -------------------------------------------------------------- */

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

int disk_open(struct disk **out, const char *path, unsigned flags)
{
  struct disk *d;
  int st;

  *out = NULL;
  d = calloc(1, sizeof *d);
  if (!d)
    return DISK_E_NOMEM;
  d->flags = flags;
  st = link_open(&d->links[0], path, !(flags & DISK_OPEN_READONLY));
  if (st)
    goto fail;
  d->n = 1;
  while (!(flags & DISK_OPEN_SINGLE_LINK) && d->links[d->n - 1]->desc.parent_hint) {
    struct link *child = d->links[d->n - 1], *p;
    char *ppath;
    size_t i;

    if (d->n == DISK_MAX_LINKS) {
      fvx_error("%s: more than %d links in the chain", path, DISK_MAX_LINKS);
      st = DISK_E_TOODEEP;
      goto fail;
    }
    ppath = disk_path_resolve(child->path, child->desc.parent_hint);
    if (!ppath) {
      st = DISK_E_NOMEM;
      goto fail;
    }
    st = link_open(&p, ppath, false);
    if (st == DISK_E_NOTFOUND) {
      fvx_error("%s: parent %s not found", child->path, ppath);
      st = DISK_E_PARENT;
    }
    free(ppath);
    if (st)
      goto fail;
    for (i = 0; i < d->n; i++)
      if (d->links[i]->dev == p->dev && d->links[i]->ino == p->ino) {
        fvx_error("%s: parent chain loops back to %s", path,
                  d->links[i]->path);
        link_close(p);
        st = DISK_E_CHAIN;
        goto fail;
      }
    if (p->desc.cid != child->desc.parent_cid) {
      fvx_error("%s: parent %s has CID %08x, the child expects %08x",
                child->path, p->path, p->desc.cid, child->desc.parent_cid);
      link_close(p);
      st = DISK_E_CID;
      goto fail;
    }
    d->links[d->n++] = p;
  }
  *out = d;
  return DISK_OK;
fail:
  disk_close(d);
  return st;
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
    st = e->ops->map(e, rel, n < avail ? n : avail, &m);
    if (st)
      return st;
    switch (m.kind) {
    case MAP_DATA:
      st = disk_pread(e->fd, buf, (size_t)(m.len * DISK_SECTOR), m.offset,
                      NULL, e->path);
      break;
    case MAP_ZERO:
      memset(buf, 0, (size_t)(m.len * DISK_SECTOR));
      break;
    case MAP_HOLE:
      if (level + 1 < d->n)
        st = link_read(d, level + 1, sector, m.len, buf);
      else
        memset(buf, 0, (size_t)(m.len * DISK_SECTOR));
      break;
    case MAP_CODED:
      st = e->ops->read(e, rel, m.len, buf);
      break;
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
    return DISK_E_RANGE;
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

  if (l->cid_fresh || l->synthetic)
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
      return disk_fail(DISK_E_UNSUPPORTED, "%s: %s extents cannot be "
                       "written in place", e->path ? e->path : l->path,
                       e->ops->name);
    if (!e->writable)
      return disk_fail(DISK_E_READONLY, "%s: the extent is read-only",
                       e->path ? e->path : l->path);
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
    return DISK_E_READONLY;
  if (n == 0)
    return DISK_OK;
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

static int link_status(struct disk *d, size_t level, uint64_t sector,
                       uint64_t n, uint64_t *len, bool *allocated)
{
  struct link *l = d->links[level];
  struct extent *e;
  struct extent_map m;
  uint64_t rel, avail;
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
  st = e->ops->map(e, rel, n < avail ? n : avail, &m);
  if (st)
    return st;
  if (m.kind == MAP_HOLE && level + 1 < d->n)
    return link_status(d, level + 1, sector, m.len, len, allocated);
  *len = m.len;
  *allocated = m.kind != MAP_HOLE;
  return DISK_OK;
}

int disk_block_status(struct disk *d, uint64_t sector, uint64_t n,
                      uint64_t *len, bool *allocated)
{
  int st = check_range(d, sector, n);

  if (!st && n == 0)
    st = DISK_E_ARG;
  return st ? st : link_status(d, 0, sector, n, len, allocated);
}

/* ---- attach ------------------------------------------------------------------ */

int disk_attach_check(const struct disk *parent, const struct disk *child)
{
  const struct link *bottom, *ptop;
  size_t i, j;

  if (!parent || !child || parent == child || !parent->n || !child->n)
    return DISK_E_ARG;
  bottom = child->links[child->n - 1];
  ptop = parent->links[0];
  if (!bottom->desc.parent_hint) {
    fvx_error("%s: a base disk (no parentFileNameHint) cannot continue into "
              "%s: attach a redo log opened SINGLE_LINK", bottom->path,
              ptop->path);
    return DISK_E_ROOTLINK;
  }
  if (disk_capacity(child) != disk_capacity(parent)) {
    fvx_error("%s: capacity %" PRIu64 " sectors, its parent %s has %" PRIu64,
              bottom->path, disk_capacity(child), ptop->path,
              disk_capacity(parent));
    return DISK_E_CAPACITY;
  }
  if (bottom->desc.parent_cid != ptop->desc.cid) {
    fvx_error("%s: parent %s has CID %08x, the child expects %08x",
              bottom->path, ptop->path, ptop->desc.cid,
              bottom->desc.parent_cid);
    return DISK_E_CID;
  }
  if (child->n + parent->n > DISK_MAX_LINKS) {
    fvx_error("%s: attaching makes more than %d links", bottom->path,
              DISK_MAX_LINKS);
    return DISK_E_TOODEEP;
  }
  for (i = 0; i < child->n; i++)
    for (j = 0; j < parent->n; j++)
      if (child->links[i]->dev == parent->links[j]->dev &&
          child->links[i]->ino == parent->links[j]->ino) {
        fvx_error("%s is in both chains", parent->links[j]->path);
        return DISK_E_CHAIN;
      }
  return DISK_OK;
}

/* Points bottom's parentFileNameHint at ptop when it leads elsewhere (the
 * parent moved, or was opened under another name); only a writable bottom
 * link can be updated, else the attachment holds in memory only. */
static int fix_hint(struct link *bottom, const struct link *ptop)
{
  char *resolved = disk_path_resolve(bottom->path, bottom->desc.parent_hint);
  char *old, *hint;
  struct stat sb;
  bool same;
  int st;

  if (!resolved)
    return DISK_E_NOMEM;
  same = stat(resolved, &sb) == 0 && sb.st_dev == ptop->dev &&
         sb.st_ino == ptop->ino;
  free(resolved);
  if (same)
    return DISK_OK;
  if (!bottom->writable || bottom->synthetic || !desc_value_ok(ptop->path)) {
    fvx_info("%s: parentFileNameHint \"%s\" does not lead to %s; attached "
             "for this handle only", bottom->path, bottom->desc.parent_hint,
             ptop->path);
    return DISK_OK;
  }
  hint = strdup(disk_parent_hint(bottom->path, ptop->path));
  if (!hint)
    return DISK_E_NOMEM;
  old = bottom->desc.parent_hint;
  bottom->desc.parent_hint = hint;
  st = link_write_desc(bottom);
  if (st) {
    bottom->desc.parent_hint = old;
    free(hint);
    return st;
  }
  fvx_info("%s: parentFileNameHint \"%s\" -> \"%s\"", bottom->path, old,
           hint);
  free(old);
  return DISK_OK;
}

int disk_attach(struct disk *parent, struct disk *child)
{
  struct link *ptop;
  size_t i;
  int st;

  if (!parent || !child || parent == child)
    return DISK_E_ARG;
  st = disk_attach_check(parent, child);
  if (!st)
    st = fix_hint(child->links[child->n - 1], parent->links[0]);
  ptop = parent->links[0];
  if (!st && ptop->writable)
    st = link_finish(ptop);
  if (!st && ptop->writable)
    st = link_flush(ptop);
  if (st) {
    disk_close(parent);
    return st;
  }
  /* Parents are read-only; a writer lock the parent held stays with its
   * file descriptor until child closes. */
  ptop->writable = false;
  for (i = 0; i < parent->n; i++)
    child->links[child->n++] = parent->links[i];
  parent->n = 0;
  free(parent);
  child->flags &= ~DISK_OPEN_SINGLE_LINK;
  return DISK_OK;
}

/* ---- info and metadata ---------------------------------------------------- */

static uint32_t ddb_u32(const struct descriptor *desc, const char *key,
                        uint32_t dflt)
{
  const char *v = desc_ddb_get(desc, key);
  char *end;
  unsigned long x;

  if (!v || !*v)
    return dflt;
  errno = 0;
  x = strtoul(v, &end, 10);
  if (errno || *end || x > UINT32_MAX)
    return dflt;
  return (uint32_t)x;
}

void disk_get_info(const struct disk *d, struct disk_info *out)
{
  const struct link *l = d->links[0];
  const struct descriptor *desc = &l->desc;
  const char *ad = desc_ddb_get(desc, "ddb.adapterType");

  memset(out, 0, sizeof *out);
  out->capacity = l->capacity;
  out->phys.cylinders = ddb_u32(desc, "ddb.geometry.cylinders", 0);
  out->phys.heads = ddb_u32(desc, "ddb.geometry.heads", 0);
  out->phys.sectors = ddb_u32(desc, "ddb.geometry.sectors", 0);
  out->bios.cylinders =
      ddb_u32(desc, "ddb.geometry.biosCylinders", out->phys.cylinders);
  out->bios.heads = ddb_u32(desc, "ddb.geometry.biosHeads", out->phys.heads);
  out->bios.sectors =
      ddb_u32(desc, "ddb.geometry.biosSectors", out->phys.sectors);
  out->adapter = !ad                            ? DISK_ADAPTER_UNKNOWN
                 : strcasecmp(ad, "ide") == 0      ? DISK_ADAPTER_IDE
                 : strcasecmp(ad, "buslogic") == 0 ? DISK_ADAPTER_BUSLOGIC
                 : strcasecmp(ad, "lsilogic") == 0 ? DISK_ADAPTER_LSILOGIC
                                                   : DISK_ADAPTER_UNKNOWN;
  out->kind = l->kind;
  out->num_links = (int)d->n;
  out->parent_hint = desc->parent_hint;
  out->uuid = desc_ddb_get(desc, "ddb.uuid");
  out->logical_sector_size = ddb_u32(desc, "ddb.logicalSectorSize", 512);
  out->physical_sector_size = ddb_u32(desc, "ddb.physicalSectorSize", 512);
}

/* VDDK names metadata keys without the "ddb." prefix; both are accepted. */
static int full_key(const char *key, char *out, size_t len)
{
  int n = strncmp(key, "ddb.", 4) == 0 ? snprintf(out, len, "%s", key)
                                       : snprintf(out, len, "ddb.%s", key);

  return n > 0 && (size_t)n < len ? DISK_OK : DISK_E_ARG;
}

int disk_meta_get(const struct disk *d, const char *key, const char **out)
{
  char k[300];

  *out = NULL;
  if (full_key(key, k, sizeof k))
    return DISK_E_KEY;
  *out = desc_ddb_get(&d->links[0]->desc, k);
  return *out ? DISK_OK : DISK_E_KEY;
}

int disk_meta_keys(const struct disk *d, char *buf, size_t len, size_t *need)
{
  const struct descriptor *desc = &d->links[0]->desc;
  size_t total = 1, i, pos = 0;

  for (i = 0; i < desc->n_ddb; i++)
    total += strlen(desc->ddb[i].key) - 4 + 1;
  *need = total;
  if (!buf || len < total)
    return DISK_E_TOOSMALL;
  for (i = 0; i < desc->n_ddb; i++) {
    size_t kl = strlen(desc->ddb[i].key) - 4 + 1;

    memcpy(buf + pos, desc->ddb[i].key + 4, kl);
    pos += kl;
  }
  buf[pos] = '\0';
  return DISK_OK;
}

int disk_meta_set(struct disk *d, const char *key, const char *val)
{
  struct link *l = d->links[0];
  struct descriptor saved;
  char k[300];
  size_t i;
  int st;

  if (!l->writable)
    return DISK_E_READONLY;
  if (full_key(key, k, sizeof k) || !desc_value_ok(val))
    return DISK_E_ARG;
  /* Keep a copy of the ddb so a failed rewrite leaves the state as it was. */
  memset(&saved, 0, sizeof saved);
  for (i = 0; i < l->desc.n_ddb; i++) {
    st = desc_ddb_set(&saved, l->desc.ddb[i].key, l->desc.ddb[i].value);
    if (st) {
      desc_free(&saved);
      return st;
    }
  }
  st = desc_ddb_set(&l->desc, k, val);
  if (!st)
    st = link_write_desc(l);
  if (st) {
    struct desc_kv *tmp = l->desc.ddb;
    size_t tn = l->desc.n_ddb;

    l->desc.ddb = saved.ddb;
    l->desc.n_ddb = saved.n_ddb;
    saved.ddb = tmp;
    saved.n_ddb = tn;
  }
  desc_free(&saved);
  return st;
}
