/*
 * link.c -- opening one link: its file (through a vfs), the writer lock,
 * the descriptor (loaded and rewritten) and the extents behind it.
 *
 * A link is a text descriptor file naming its extent files, or a sparse
 * file that is its own extent: with an embedded descriptor (monolithicSparse,
 * streamOptimized) or without one (a bare twoGbMaxExtentSparse part, which
 * gets a synthetic descriptor).  A sparse file is always read from itself,
 * never through the name its embedded descriptor gives the extent: that
 * name is what the file was called when it was made, and a copied or
 * renamed disk still carries it (qemu-img does the same; opening by that
 * name would read, write and lock another disk).  Extent and parent names
 * are resolved by the link's vfs, relative to the link's file, and every
 * file is opened through it; a link never calls the file system itself.
 *
 * Writable links check, before anything is written, that every file they
 * will write can be written (DISK_E_NOTCAPABLE otherwise), and take the
 * writer lock on the descriptor file when its source can lock.  A raw link
 * (disk_open_raw) is one flat extent over a file whose bytes are the
 * disk's; its descriptor lives in memory only and is never written.
 */
#include "disk/link.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "disk/delta.h"
#include "disk/error.h"
#include "disk/grain.h"
#include "disk/names.h"

const char *extent_name(const struct extent *e)
{
  return e->file ? e->file->name : "ZERO extent";
}

int extent_sync(struct extent *e)
{
  return disk_file_sync(e->file);
}

int extent_no_flush(struct extent *e)
{
  (void)e;
  return DISK_OK;
}

bool link_owns_extent_file(const struct link *l, const struct extent *e)
{
  return e->file && e->file == l->file;
}

bool link_same_file(const struct link *a, const struct link *b)
{
  return strcmp(a->file->id, b->file->id) == 0;
}

/* Opens path through vfs; a writable open must give a writable file. */
static int open_file(const struct disk_vfs *vfs, const char *path,
                     bool writable, struct disk_file **out)
{
  int st = vfs->open(vfs, path, writable ? DISK_VFS_WRITE : 0, out);

  if (st)
    return st;
  if (writable && !((*out)->caps & DISK_FILE_CAN_WRITE)) {
    st = disk_fail(DISK_E_NOTCAPABLE,
                   "%s: opened for writing, but its %s source cannot write",
                   path, (*out)->ops->name);
    disk_file_close(*out);
    *out = NULL;
  }
  return st;
}

/* Describes a sparse file that has no descriptor of its own. */
static int synthesize(struct link *l, const struct sparse_header *h)
{
  int st;

  l->synthetic = true;
  l->desc.version = 1;
  l->desc.cid = 0xfffffffeu;
  l->desc.parent_cid = DESC_CID_NONE;
  st = desc_set_str(&l->desc.create_type, "monolithicSparse");
  if (!st)
    st = desc_add_extent(&l->desc, DESC_RW, h->capacity, DESC_EXT_SPARSE,
                         disk_base_name(l->path), 0);
  return st;
}

/* Reads the text of a descriptor of len bytes at off, and parses it. */
static int parse_text(struct link *l, size_t len, uint64_t off)
{
  char *text = malloc(len + 1);
  size_t tl, i;
  int st;

  if (!text)
    return disk_fail(DISK_E_NOMEM, "%s: out of memory", l->path);
  st = disk_file_pread(l->file, text, len, off, NULL);
  if (st) {
    free(text);
    return st;
  }
  /* Embedded areas are NUL-padded, and qemu pads descriptor files to a
   * sector: the text ends at the first NUL, and only NULs may follow -- or
   * blanks: qemu-img writes a stray "\n" after the NUL when the CID it
   * picked has fewer than 8 hex digits (about 1 disk in 16). */
  tl = strnlen(text, len);
  for (i = tl; i < len && !st; i++)
    if (text[i] != '\0' && text[i] != '\n' && text[i] != '\r' &&
        text[i] != ' ' && text[i] != '\t')
      st = disk_fail(DISK_E_DESCRIPTOR,
                     "%s: descriptor holds binary data after its text",
                     l->path);
  if (!st)
    st = desc_parse(&l->desc, text, tl, l->path);
  free(text);
  return st;
}

/* Reads the descriptor: embedded in a sparse file, or a text file. */
static int load_descriptor(struct link *l)
{
  uint64_t file_size = l->file->size;
  uint8_t raw[DISK_SECTOR];
  struct sparse_header h;
  size_t got;
  int st;

  st = disk_file_pread(l->file, raw, sizeof raw, 0, &got);
  if (st)
    return st;
  if (got >= 8 && (memcmp(raw, "COWD", 4) == 0 ||
                    memcmp(raw, "\xbe\xba\xfe\xca\0\0\0\0", 8) == 0))
    return disk_fail(DISK_E_UNSUPPORTED,
                     "%s is a%s extent, not a disk: open the descriptor "
                     "that names it", l->path,
                     raw[0] == 'C' ? " vmfsSparse (COWD)" : "n SEsparse");
  if (got < 4 || memcmp(raw, "KDMV", 4) != 0) {
    if (file_size > DESC_MAX_BYTES)
      return disk_fail(DISK_E_DESCRIPTOR,
                       "%s: neither a sparse extent nor a descriptor "
                       "(%" PRIu64 " bytes of text is too large)",
                       l->path, file_size);
    return parse_text(l, (size_t)file_size, 0);
  }
  if (got < sizeof raw)
    return disk_fail(DISK_E_CORRUPT, "%s: file too short for a sparse header",
                     l->path);
  st = sparse_header_decode(&h, raw, l->path);
  if (!st)
    st = sparse_header_check_file(&h, file_size, l->path);
  if (st)
    return st;
  if (h.desc_size == 0)
    return synthesize(l, &h);
  l->embedded = true;
  l->desc_off = h.desc_offset * DISK_SECTOR;
  l->desc_cap = h.desc_size * DISK_SECTOR;
  st = parse_text(l, (size_t)l->desc_cap, l->desc_off);
  if (!st && (l->desc.n_ext != 1 || l->desc.ext[0].type != DESC_EXT_SPARSE))
    st = disk_fail(DISK_E_DESCRIPTOR,
                   "%s: an embedded descriptor must describe its own file "
                   "(one SPARSE extent), this one has %zu extents",
                   l->path, l->desc.n_ext);
  return st;
}

static int open_extent(struct link *l, struct extent *e,
                       const struct desc_extent *de, uint64_t start)
{
  char *name;
  int st;

  e->type = de->type;
  e->start = start;
  e->sectors = de->sectors;
  e->writable = l->writable && de->access == DESC_RW;
  if (de->access == DESC_NOACCESS || de->type == DESC_EXT_VMFSRDM ||
      de->type == DESC_EXT_VMFSRAW)
    return disk_fail(DISK_E_UNSUPPORTED,
                     "%s: extent \"%s\": type or access mode not supported",
                     l->path, de->file ? de->file : "");
  if (de->type == DESC_EXT_ZERO)
    return zero_open(e);
  if (l->embedded || l->synthetic) {
    e->file = l->file; /* the sparse file is its own extent */
  } else {
    name = l->vfs->resolve(l->vfs, l->path, de->file, &st);
    if (!name)
      return st;
    st = open_file(l->vfs, name, e->writable, &e->file);
    free(name);
    if (st)
      return st;
  }
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
    if (!link_owns_extent_file(l, e))
      disk_file_close(e->file);
    pthread_mutex_destroy(&e->lock);
  }
  free(l->ext);
  desc_free(&l->desc);
  disk_file_close(l->file);
  free(l->path);
  free(l);
}

/* Allocates l->ext for n extents, their locks set up (link_close tears
 * them down). */
static int alloc_extents(struct link *l, size_t n)
{
  size_t i;

  l->ext = calloc(n ? n : 1, sizeof *l->ext);
  if (!l->ext)
    return disk_fail(DISK_E_NOMEM, "%s: out of memory", l->path);
  for (i = 0; i < n; i++)
    pthread_mutex_init(&l->ext[i].lock, NULL);
  l->n_ext = n;
  return DISK_OK;
}

static struct link *link_new(const struct disk_vfs *vfs, const char *path,
                             bool writable)
{
  struct link *l = calloc(1, sizeof *l);

  if (l)
    l->path = strdup(path);
  if (!l || !l->path) {
    free(l);
    disk_fail(DISK_E_NOMEM, "%s: out of memory", path);
    return NULL;
  }
  l->vfs = vfs;
  l->writable = writable;
  return l;
}

int link_open(struct link **out, const struct disk_vfs *vfs, const char *path,
              bool writable)
{
  struct link *l;
  uint64_t start = 0;
  size_t i;
  int st;

  *out = NULL;
  l = link_new(vfs, path, writable);
  if (!l)
    return DISK_E_NOMEM;
  st = open_file(vfs, path, writable, &l->file);
  if (!st && writable && (l->file->caps & DISK_FILE_CAN_LOCK))
    st = disk_file_lock(l->file);
  if (!st)
    st = load_descriptor(l);
  if (!st && writable && !l->embedded && !l->synthetic &&
      !(l->file->caps & DISK_FILE_CAN_TRUNCATE))
    st = disk_fail(DISK_E_NOTCAPABLE,
                   "%s: opened for writing, but its %s source cannot "
                   "rewrite the descriptor (no truncate)",
                   path, l->file->ops->name);
  if (!st)
    st = disk_kind_lookup(l->desc.create_type, &l->kind, path);
  if (!st)
    st = alloc_extents(l, l->desc.n_ext);
  for (i = 0; !st && i < l->n_ext; i++) {
    st = open_extent(l, &l->ext[i], &l->desc.ext[i], start);
    start += l->desc.ext[i].sectors;
  }
  if (st) {
    link_close(l);
    return st;
  }
  l->capacity = start;
  *out = l;
  return DISK_OK;
}

/* Adds a ddb pair of disk_open_raw's array ("ddb." prefixed if needed). */
static int raw_key(struct link *l, const char *key, const char *val)
{
  char k[300];

  if (!val || disk_ddb_key(key, k, sizeof k))
    return disk_fail(DISK_E_ARG,
                     "%s: metadata key \"%.64s\" is unusable "
                     "or has no value",
                     l->path, key);
  return desc_ddb_set(&l->desc, k, val);
}

int link_open_raw(struct link **out, struct disk_file *f,
                  const char *const *ddb, enum disk_kind kind, bool writable)
{
  uint64_t sectors = f->size / DISK_SECTOR;
  struct link *l;
  size_t i;
  int st = DISK_OK;

  *out = NULL;
  l = link_new(NULL, f->name, writable);
  if (!l) {
    disk_file_close(f);
    return DISK_E_NOMEM;
  }
  l->file = f;
  l->raw = true;
  l->kind = kind;
  l->desc.version = 1;
  l->desc.cid = DESC_CID_NONE;
  l->desc.parent_cid = DESC_CID_NONE;
  if (writable && !(f->caps & DISK_FILE_CAN_WRITE))
    st = disk_fail(DISK_E_NOTCAPABLE,
                   "%s: opened for writing, but its %s source cannot write",
                   f->name, f->ops->name);
  else if (sectors == 0)
    st = disk_fail(DISK_E_ARG, "%s: %" PRIu64 " bytes hold no whole sector",
                   f->name, f->size);
  for (i = 0; !st && ddb && ddb[i]; i += 2)
    st = raw_key(l, ddb[i], ddb[i + 1]);
  if (!st)
    st = desc_set_str(&l->desc.create_type, disk_create_type(kind));
  if (!st)
    st = desc_add_extent(&l->desc, writable ? DESC_RW : DESC_RDONLY, sectors,
                         DESC_EXT_FLAT, f->name, 0);
  if (!st)
    st = alloc_extents(l, 1);
  if (!st) {
    struct extent *e = &l->ext[0];

    e->type = DESC_EXT_FLAT;
    e->sectors = sectors;
    e->writable = writable;
    e->file = f;
    st = flat_open(e, 0);
  }
  if (st) {
    link_close(l);
    return st;
  }
  l->capacity = sectors;
  *out = l;
  return DISK_OK;
}

int link_write_desc(struct link *l)
{
  char *text = NULL, *area;
  size_t len;
  int st;

  if (l->raw)
    return disk_fail(DISK_E_NOTCAPABLE,
                     "%s: the disk's metadata lives on its server and "
                     "cannot be changed here",
                     l->path);
  if (l->synthetic)
    return disk_fail(DISK_E_UNSUPPORTED,
                     "%s: a bare sparse extent has no descriptor to update",
                     l->path);
  if (!l->writable)
    return disk_fail(DISK_E_READONLY, "%s: opened read-only", l->path);
  st = desc_format_text(&l->desc, l->path, &text);
  if (st)
    return st;
  len = strlen(text);
  if (!l->embedded) {
    st = disk_file_pwrite(l->file, text, len, 0);
    if (!st)
      st = disk_file_truncate(l->file, len);
  } else if (len > l->desc_cap) {
    st = disk_fail(DISK_E_NOSPACE,
                   "%s: descriptor (%zu bytes) outgrows its %" PRIu64
                   "-byte area",
                   l->path, len, l->desc_cap);
  } else {
    area = calloc(1, (size_t)l->desc_cap);
    if (area) {
      memcpy(area, text, len);
      st = disk_file_pwrite(l->file, area, (size_t)l->desc_cap, l->desc_off);
      free(area);
    } else {
      st = disk_fail(DISK_E_NOMEM, "%s: out of memory", l->path);
    }
  }
  free(text);
  return st;
}

int link_finish(struct link *l)
{
  size_t i;
  int st = DISK_OK, r;

  for (i = 0; i < l->n_ext; i++)
    if (l->ext[i].ops && l->ext[i].ops->finish) {
      r = l->ext[i].ops->finish(&l->ext[i]);
      if (r && !st)
        st = r;
    }
  return st;
}

int link_flush(struct link *l)
{
  bool desc_is_extent = false;
  size_t i;
  int st = DISK_OK, r;

  for (i = 0; i < l->n_ext; i++) {
    r = l->ext[i].ops->flush(&l->ext[i]);
    if (r && !st)
      st = r;
    desc_is_extent |= link_owns_extent_file(l, &l->ext[i]);
  }
  if (l->writable && !desc_is_extent) {
    r = disk_file_sync(l->file);
    if (r && !st)
      st = r;
  }
  return st;
}
