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
 * ftruncate, so they start sparse on the host file system.
 */
#include "disk/create.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <unistd.h>

#include "disk/chain.h"
#include "disk/grain.h"
#include "disk/stream.h"
#include "util/buf.h"
#include "util/log.h"

#define CREATE_DESC_SECTORS 20u

static int create_file(const char *path, int *fd)
{
  *fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (*fd < 0) {
    int err = errno;

    if (err != EEXIST)
      fvx_error("%s: cannot create: %s", path, strerror(err));
    return disk_errno_status(err);
  }
  return DISK_OK;
}

int create_sparse_file(const char *path, uint64_t capacity,
                       const char *desc_text)
{
  struct sparse_header h;
  uint8_t raw[DISK_SECTOR];
  uint64_t num_gts, gd_sectors, gts, i, dlen = 0, rgt, gt;
  uint32_t *dir = NULL;
  char *area = NULL;
  int fd, st;

  memset(&h, 0, sizeof h);
  h.version = 1;
  h.flags = SPARSE_FLAG_NL_TEST | SPARSE_FLAG_RGD;
  h.capacity = capacity;
  h.grain = 128;
  h.gtes = 512;
  num_gts = sparse_num_gts(&h);
  gts = sparse_gt_sectors(&h);
  gd_sectors = (num_gts * 4 + DISK_SECTOR - 1) / DISK_SECTOR;
  if (capacity > SPARSE_CREATE_MAX)
    return DISK_E_TOOBIG;
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
  st = create_file(path, &fd);
  if (st)
    return st;
  dir = malloc((size_t)(num_gts ? num_gts : 1) * 4);
  area = calloc(1, (size_t)(h.desc_size * DISK_SECTOR + 1));
  if (!dir || !area) {
    st = DISK_E_NOMEM;
    goto out;
  }
  sparse_header_encode(&h, raw);
  st = disk_pwrite(fd, raw, sizeof raw, 0, path);
  if (!st && desc_text) {
    memcpy(area, desc_text, (size_t)dlen);
    st = disk_pwrite(fd, area, (size_t)(h.desc_size * DISK_SECTOR),
                     DISK_SECTOR, path);
  }
  for (i = 0; i < num_gts; i++)
    dir[i] = htole32((uint32_t)(rgt + i * gts));
  if (!st)
    st = disk_pwrite(fd, dir, (size_t)(num_gts * 4),
                     h.rgd_offset * DISK_SECTOR, path);
  for (i = 0; i < num_gts; i++)
    dir[i] = htole32((uint32_t)(gt + i * gts));
  if (!st)
    st = disk_pwrite(fd, dir, (size_t)(num_gts * 4),
                     h.gd_offset * DISK_SECTOR, path);
  if (!st && ftruncate(fd, (off_t)(h.overhead * DISK_SECTOR)) != 0)
    st = disk_errno_status(errno);
  if (!st && fsync(fd) != 0)
    st = DISK_E_IO;
out:
  free(dir);
  free(area);
  close(fd);
  if (st)
    unlink(path);
  return st;
}

char *create_extent_name(const char *path, char tag, unsigned i)
{
  const char *base = strrchr(path, '/');
  size_t len;
  char *out;

  base = base ? base + 1 : path;
  len = strlen(base);
  if (len > 5 && strcasecmp(base + len - 5, ".vmdk") == 0)
    len -= 5;
  out = malloc(len + 16);
  if (!out)
    return NULL;
  if (i == 0)
    snprintf(out, len + 16, "%.*s-flat.vmdk", (int)len, base);
  else
    snprintf(out, len + 16, "%.*s-%c%03u.vmdk", (int)len, base, tag, i);
  return out;
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

static int format_desc(const struct descriptor *desc, char **out)
{
  struct fvx_buf b;
  int st;

  fvx_buf_init(&b, DESC_MAX_BYTES);
  st = desc_format(desc, &b);
  *out = st ? NULL : fvx_buf_steal(&b);
  fvx_buf_free(&b);
  return st ? st : (*out ? DISK_OK : DISK_E_NOMEM);
}

static int create_flat_file(const char *path, uint64_t sectors)
{
  int fd, st = create_file(path, &fd);

  if (st)
    return st;
  if (ftruncate(fd, (off_t)(sectors * DISK_SECTOR)) != 0) {
    st = disk_errno_status(errno);
    fvx_error("%s: cannot size: %s", path, strerror(errno));
  }
  close(fd);
  if (st)
    unlink(path);
  return st;
}

int create_link(const char *path, enum disk_kind kind, uint64_t capacity,
                struct descriptor *desc)
{
  const char *type = disk_create_type(kind);
  char *text = NULL, *name = NULL, *full = NULL;
  char **made = NULL;
  size_t n_made = 0, i;
  uint64_t left = capacity;
  unsigned idx = 0;
  int st, fd;

  if (!type || kind == DISK_KIND_VMFS_THIN || kind == DISK_KIND_VMFS_SPARSE)
    return DISK_E_UNSUPPORTED;
  st = desc_set_str(&desc->create_type, type);
  if (st)
    return st;
  if (kind == DISK_KIND_MONO_SPARSE || kind == DISK_KIND_STREAM) {
    const char *base = strrchr(path, '/');

    if (capacity > SPARSE_CREATE_MAX)
      return DISK_E_TOOBIG;
    st = desc_add_extent(desc, DESC_RW, capacity, DESC_EXT_SPARSE,
                         base ? base + 1 : path, 0);
    if (!st)
      st = format_desc(desc, &text);
    if (st)
      return st;
    if (kind == DISK_KIND_MONO_SPARSE) {
      st = create_sparse_file(path, capacity, text);
    } else {
      struct stream_writer *w;

      st = stream_writer_open(&w, path, capacity, text);
      if (!st)
        st = stream_writer_finish(w);
    }
    free(text);
    return st;
  }
  made = calloc(DESC_MAX_EXTENTS, sizeof *made);
  if (!made)
    return DISK_E_NOMEM;
  do {
    bool split = kind == DISK_KIND_SPLIT_SPARSE || kind == DISK_KIND_SPLIT_FLAT;
    bool sparse = kind == DISK_KIND_SPLIT_SPARSE;
    uint64_t size = split && left > SPLIT_EXTENT_SECTORS ? SPLIT_EXTENT_SECTORS
                                                         : left;

    if (idx >= DESC_MAX_EXTENTS) {
      st = DISK_E_TOOBIG;
      break;
    }
    name = create_extent_name(path, sparse ? 's' : 'f', split ? idx + 1 : 0);
    full = name ? disk_path_resolve(path, name) : NULL;
    if (!full) {
      st = DISK_E_NOMEM;
      break;
    }
    st = sparse ? create_sparse_file(full, size, NULL)
                : create_flat_file(full, size);
    if (!st) {
      made[n_made++] = full;
      full = NULL;
      st = desc_add_extent(desc, DESC_RW, size,
                           sparse                        ? DESC_EXT_SPARSE
                           : kind == DISK_KIND_VMFS_FLAT ? DESC_EXT_VMFS
                                                         : DESC_EXT_FLAT,
                           name, 0);
    }
    free(name);
    free(full);
    name = full = NULL;
    left -= size;
    idx++;
  } while (!st && left);
  if (!st)
    st = format_desc(desc, &text);
  if (!st) {
    st = create_file(path, &fd);
    if (!st) {
      st = disk_pwrite(fd, text, strlen(text), 0, path);
      if (!st && fsync(fd) != 0)
        st = DISK_E_IO;
      close(fd);
      if (st)
        unlink(path);
    }
  }
  free(text);
  for (i = 0; i < n_made; i++) {
    if (st)
      unlink(made[i]);
    free(made[i]);
  }
  free(made);
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
    return DISK_E_ARG;
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
    return DISK_E_ARG;
  if (top->synthetic) {
    fvx_error("%s: a bare sparse extent cannot be a parent", top->path);
    return DISK_E_UNSUPPORTED;
  }
  if (!desc_value_ok(top->path))
    return DISK_E_NAME;
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
