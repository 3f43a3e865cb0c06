/*
 * create.c -- new disks: base disks of every hosted type, and children.
 *
 * Layouts follow what VMware and qemu write, so both read our disks:
 *   monolithicSparse   one sparse file, descriptor embedded (20 sectors)
 *   monolithicFlat     descriptor + "<name>-flat.vmdk"
 *   twoGbMaxExtent*    descriptor + "<name>-s001.vmdk"... / "-f001..." of
 *                      SPLIT_EXTENT_SECTORS each
 *   vmfs               descriptor + "<name>-flat.vmdk" as a VMFS extent
 *   streamOptimized    one compressed sparse file (stream.c's writer)
 * A sparse extent gets header, descriptor area, redundant directory and
 * tables, directory and tables, all tables preallocated (as VMware does),
 * grains starting at a grain-aligned overhead.  Flat extents are sized with
 * a truncate, so they start sparse on the host file system.  Files are made
 * through file_posix.h and written through the byte-source wrappers; every
 * file an operation made is removed again when the operation fails.
 */
#include "disk/create.h"

#include <endian.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "disk/chain.h"
#include "disk/error.h"
#include "disk/file.h"
#include "disk/file_posix.h"
#include "disk/grain.h"
#include "disk/names.h"
#include "disk/stream.h"

#define CREATE_DESC_SECTORS 20u

void created_undo(struct created *c)
{
  size_t i;

  for (i = 0; i < c->n; i++)
    disk_posix_discard(c->paths[i]);
  created_keep(c);
}

void created_keep(struct created *c)
{
  size_t i;

  for (i = 0; i < c->n; i++)
    free(c->paths[i]);
  free(c->paths);
  c->paths = NULL;
  c->n = 0;
}

/* Records path (taken: freed with the list, or now on failure). */
static int created_add(struct created *c, char *path)
{
  char **np = realloc(c->paths, (c->n + 1) * sizeof *np);

  if (!np) {
    disk_posix_discard(path);
    free(path);
    return disk_fail(DISK_E_NOMEM, "out of memory");
  }
  c->paths = np;
  c->paths[c->n++] = path;
  return DISK_OK;
}

/* Writes, syncs and closes a file made by create; removes it on failure. */
static int finish_file(struct disk_file *f, int st)
{
  if (!st)
    st = disk_file_sync(f);
  if (st)
    disk_posix_discard(f->name);
  disk_file_close(f);
  return st;
}

int create_sparse_file(const char *path, uint64_t capacity,
                       const char *desc_text)
{
  struct sparse_header h;
  uint8_t raw[DISK_SECTOR];
  uint64_t num_gts, gd_sectors, gts, i, dlen = 0, rgt, gt;
  struct disk_file *f;
  uint32_t *dir = NULL;
  char *area = NULL;
  int st;

  memset(&h, 0, sizeof h);
  h.version = 1;
  h.flags = SPARSE_FLAG_NL_TEST | SPARSE_FLAG_RGD;
  h.capacity = capacity;
  h.grain = 128;
  h.gtes = 512;
  if (capacity > SPARSE_CREATE_MAX)
    return disk_fail(DISK_E_TOOBIG,
                     "%s: %" PRIu64 " sectors is more than a sparse extent "
                     "holds (%u)",
                     path, capacity, SPARSE_CREATE_MAX);
  num_gts = sparse_num_gts(&h);
  gts = sparse_gt_sectors(&h);
  gd_sectors = sparse_entry_sectors(num_gts);
  if (desc_text) {
    dlen = strlen(desc_text);
    h.desc_offset = 1;
    h.desc_size = (dlen + DISK_SECTOR - 1) / DISK_SECTOR;
    if (h.desc_size < CREATE_DESC_SECTORS)
      h.desc_size = CREATE_DESC_SECTORS;
  }
  h.rgd_offset = 1 + h.desc_size;
  rgt = h.rgd_offset + gd_sectors;
  h.gd_offset = rgt + num_gts * gts;
  gt = h.gd_offset + gd_sectors;
  h.overhead = (gt + num_gts * gts + h.grain - 1) / h.grain * h.grain;
  st = disk_posix_create(path, &f);
  if (st)
    return st;
  dir = malloc((size_t)(num_gts ? num_gts : 1) * 4);
  area = calloc(1, (size_t)(h.desc_size * DISK_SECTOR + 1));
  if (!dir || !area) {
    st = disk_fail(DISK_E_NOMEM, "%s: out of memory", path);
    goto out;
  }
  sparse_header_encode(&h, raw);
  st = disk_file_pwrite(f, raw, sizeof raw, 0);
  if (!st && desc_text) {
    memcpy(area, desc_text, (size_t)dlen);
    st = disk_file_pwrite(f, area, (size_t)(h.desc_size * DISK_SECTOR),
                          DISK_SECTOR);
  }
  for (i = 0; i < num_gts; i++)
    dir[i] = htole32((uint32_t)(rgt + i * gts));
  if (!st)
    st = disk_file_pwrite(f, dir, (size_t)(num_gts * 4),
                          h.rgd_offset * DISK_SECTOR);
  for (i = 0; i < num_gts; i++)
    dir[i] = htole32((uint32_t)(gt + i * gts));
  if (!st)
    st = disk_file_pwrite(f, dir, (size_t)(num_gts * 4),
                          h.gd_offset * DISK_SECTOR);
  if (!st)
    st = disk_file_truncate(f, h.overhead * DISK_SECTOR);
out:
  free(dir);
  free(area);
  return finish_file(f, st);
}

int create_flat_file(const char *path, uint64_t sectors)
{
  struct disk_file *f;
  int st = disk_posix_create(path, &f);

  if (st)
    return st;
  return finish_file(f, disk_file_truncate(f, sectors * DISK_SECTOR));
}

static void geometry(enum disk_adapter ad, uint64_t cap, uint32_t *c,
                     uint32_t *h, uint32_t *s)
{
  uint64_t cyl;

  if (ad == DISK_ADAPTER_IDE) {
    *h = 16;
    *s = 63;
  } else if (cap < 2097152) { /* < 1 GiB */
    *h = 64;
    *s = 32;
  } else if (cap < 4194304) {
    *h = 128;
    *s = 32;
  } else {
    *h = 255;
    *s = 63;
  }
  cyl = cap / ((uint64_t)*h * *s);
  if (ad == DISK_ADAPTER_IDE && cyl > 16383)
    cyl = 16383;
  if (cyl > UINT32_MAX)
    cyl = UINT32_MAX;
  *c = (uint32_t)cyl;
}

int create_fill_desc(struct descriptor *desc,
                     const struct disk_create_params *p)
{
  static const char *const adapters[] = {NULL, "ide", "buslogic",
                                         "lsilogic"};
  uint8_t u[16];
  char num[32], uuid[64];
  uint32_t c, h, s;
  int st;

  desc->version = 1;
  desc->cid = disk_new_cid();
  desc->parent_cid = DESC_CID_NONE;
  geometry(p->adapter, p->capacity, &c, &h, &s);
  if (getrandom(u, sizeof u, 0) != (ssize_t)sizeof u)
    memset(u, 0x5a, sizeof u);
  snprintf(uuid, sizeof uuid,
           "60 00 C2 %02x %02x %02x %02x %02x-%02x %02x %02x %02x %02x %02x "
           "%02x %02x",
           u[0], u[1], u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10],
           u[11], u[12]);
  snprintf(num, sizeof num, "%u", p->hw_version ? p->hw_version : 4);
  st = desc_ddb_set(desc, "ddb.virtualHWVersion", num);
  snprintf(num, sizeof num, "%" PRIu32, c);
  if (!st)
    st = desc_ddb_set(desc, "ddb.geometry.cylinders", num);
  snprintf(num, sizeof num, "%" PRIu32, h);
  if (!st)
    st = desc_ddb_set(desc, "ddb.geometry.heads", num);
  snprintf(num, sizeof num, "%" PRIu32, s);
  if (!st)
    st = desc_ddb_set(desc, "ddb.geometry.sectors", num);
  if (!st)
    st = desc_ddb_set(desc, "ddb.adapterType", adapters[p->adapter]);
  if (!st)
    st = desc_ddb_set(desc, "ddb.uuid", uuid);
  if (!st && p->logical_sector_size != 512) {
    snprintf(num, sizeof num, "%" PRIu32, p->logical_sector_size);
    st = desc_ddb_set(desc, "ddb.logicalSectorSize", num);
  }
  if (!st && p->physical_sector_size != 512) {
    snprintf(num, sizeof num, "%" PRIu32, p->physical_sector_size);
    st = desc_ddb_set(desc, "ddb.physicalSectorSize", num);
  }
  return st;
}

int create_extents(const char *path, enum disk_kind kind, uint64_t sectors,
                   unsigned first, struct descriptor *desc,
                   struct created *made)
{
  bool split = kind == DISK_KIND_SPLIT_SPARSE || kind == DISK_KIND_SPLIT_FLAT;
  bool sparse = kind == DISK_KIND_SPLIT_SPARSE;
  enum desc_extent_type type = sparse                        ? DESC_EXT_SPARSE
                               : kind == DISK_KIND_VMFS_FLAT ? DESC_EXT_VMFS
                                                             : DESC_EXT_FLAT;
  unsigned idx = first;
  int st = DISK_OK;

  while (!st && sectors) {
    uint64_t size = split && sectors > SPLIT_EXTENT_SECTORS
                        ? SPLIT_EXTENT_SECTORS
                        : sectors;
    char *name, *full = NULL;

    if (idx >= DESC_MAX_EXTENTS)
      return disk_fail(DISK_E_TOOBIG, "%s: more than %u extents", path,
                       DESC_MAX_EXTENTS);
    name = disk_extent_name(path, sparse ? 's' : 'f', split ? idx + 1 : 0);
    if (!name)
      return DISK_E_NOMEM;
    full = disk_vfs_posix()->resolve(disk_vfs_posix(), path, name, &st);
    if (full)
      st = sparse ? create_sparse_file(full, size, NULL)
                  : create_flat_file(full, size);
    if (!st)
      st = created_add(made, full);
    else
      free(full);
    if (!st)
      st = desc_add_extent(desc, DESC_RW, size, type, name, 0);
    free(name);
    sectors -= size;
    idx++;
  }
  return st;
}

/* Creates path exclusively and writes the text descriptor into it. */
static int create_desc_file(const char *path, const struct descriptor *desc)
{
  struct disk_file *f;
  char *text;
  int st = desc_format_text(desc, path, &text);

  if (!st)
    st = disk_posix_create(path, &f);
  if (!st)
    st = finish_file(f, disk_file_pwrite(f, text, strlen(text), 0));
  free(text);
  return st;
}

/* A monolithicSparse or streamOptimized link: one file, its descriptor
 * embedded. */
static int create_monolithic(const char *path, enum disk_kind kind,
                             uint64_t capacity, struct descriptor *desc)
{
  struct stream_writer *w;
  char *text;
  int st;

  if (capacity > SPARSE_CREATE_MAX)
    return disk_fail(DISK_E_TOOBIG,
                     "%s: %" PRIu64 " sectors is more than a sparse extent "
                     "holds (%u)",
                     path, capacity, SPARSE_CREATE_MAX);
  st = desc_add_extent(desc, DESC_RW, capacity, DESC_EXT_SPARSE,
                       disk_base_name(path), 0);
  if (!st)
    st = desc_format_text(desc, path, &text);
  if (st)
    return st;
  if (kind == DISK_KIND_MONO_SPARSE) {
    st = create_sparse_file(path, capacity, text);
  } else {
    st = stream_writer_open(&w, path, capacity, text);
    if (!st)
      st = stream_writer_finish(w);
  }
  free(text);
  return st;
}

int create_link(const char *path, enum disk_kind kind, uint64_t capacity,
                struct descriptor *desc)
{
  const char *type = disk_create_type(kind);
  struct created made = {NULL, 0};
  int st;

  if (!type || kind == DISK_KIND_VMFS_THIN || kind == DISK_KIND_VMFS_SPARSE)
    return disk_fail(DISK_E_UNSUPPORTED, "%s: cannot create %s disks", path,
                     type ? type : "such");
  st = desc_set_str(&desc->create_type, type);
  if (st)
    return st;
  if (kind == DISK_KIND_MONO_SPARSE || kind == DISK_KIND_STREAM)
    return create_monolithic(path, kind, capacity, desc);
  st = create_extents(path, kind, capacity, 0, desc, &made);
  if (!st)
    st = create_desc_file(path, desc);
  if (st)
    created_undo(&made);
  else
    created_keep(&made);
  return st;
}

static int check_params(const struct disk_create_params *p)
{
  if (p->capacity == 0 || p->capacity > DISK_MAX_SECTORS ||
      (p->adapter != DISK_ADAPTER_IDE && p->adapter != DISK_ADAPTER_BUSLOGIC &&
       p->adapter != DISK_ADAPTER_LSILOGIC) ||
      (p->logical_sector_size != 512 && p->logical_sector_size != 4096) ||
      (p->physical_sector_size != 512 && p->physical_sector_size != 4096) ||
      (p->logical_sector_size == 4096 && p->capacity % 8))
    return disk_fail(DISK_E_ARG,
                     "create parameters: capacity %" PRIu64 " sectors, "
                     "adapter %d, sector sizes %" PRIu32 "/%" PRIu32
                     " (want 1..2^55 sectors, ide/buslogic/lsilogic, "
                     "512 or 4096 bytes)",
                     p->capacity, (int)p->adapter, p->logical_sector_size,
                     p->physical_sector_size);
  return DISK_OK;
}

int disk_create(const char *path, const struct disk_create_params *p)
{
  struct descriptor desc;
  int st = check_params(p);

  if (st)
    return st;
  memset(&desc, 0, sizeof desc);
  st = create_fill_desc(&desc, p);
  if (!st)
    st = create_link(path, p->kind, p->capacity, &desc);
  desc_free(&desc);
  return st;
}

int disk_create_child(struct disk *d, const char *path, enum disk_kind kind)
{
  struct link *top = disk_top(d);
  struct descriptor desc;
  size_t i;
  int st = DISK_OK;

  if (kind != DISK_KIND_MONO_SPARSE && kind != DISK_KIND_SPLIT_SPARSE)
    return disk_fail(DISK_E_ARG,
                     "%s: a child is monolithicSparse or "
                     "twoGbMaxExtentSparse, not kind %d",
                     path, (int)kind);
  if (top->synthetic || top->raw)
    return disk_fail(DISK_E_UNSUPPORTED, "%s: a %s cannot be a parent",
                     top->path, top->raw ? "raw disk" : "bare sparse extent");
  if (top->vfs != disk_vfs_posix())
    return disk_fail(DISK_E_UNSUPPORTED,
                     "%s: children are made of local disks only", top->path);
  if (!desc_value_ok(top->path))
    return disk_fail(DISK_E_NAME,
                     "%s: the name cannot be a parentFileNameHint (quotes "
                     "or control characters)",
                     top->path);
  memset(&desc, 0, sizeof desc);
  desc.version = 1;
  desc.cid = disk_new_cid();
  desc.parent_cid = top->desc.cid;
  for (i = 0; !st && i < top->desc.n_ddb; i++)
    st = desc_ddb_set(&desc, top->desc.ddb[i].key, top->desc.ddb[i].value);
  if (!st)
    st = desc_set_str(&desc.parent_hint, disk_parent_hint(path, top->path));
  if (!st)
    st = create_link(path, kind, top->capacity, &desc);
  desc_free(&desc);
  return st;
}
