/*
 * delta_images.c -- hand-built vmfsSparse and SEsparse chains
 * (delta_images.h).  Every field is written here from the documented
 * layout, with nothing from src/disk, so the reader is checked against an
 * independent writer (and, in the interop test, against qemu-img).
 */
#include "delta_images.h"

#include <endian.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SECTOR 512u
#define GTES 4096u
#define COWD_GT_SECTORS 32u
#define SE_GRAIN 8u
#define SE_GT_SECTORS 64u
#define SE_FIRST_GRAIN 3000u /* grain indexes pass 4096: both index halves */

static uint64_t mix(uint64_t x)
{
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdull;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ull;
  x ^= x >> 33;
  return x;
}

enum dimg_kind dimg_kind(uint64_t g, unsigned seed, bool se)
{
  uint64_t t = g / GTES, h;

  if (t == 1 || t == 3)
    return DIMG_HOLE; /* table 1: none; table 3: a table of holes */
  if (g % 64 < 16)
    return DIMG_DATA; /* runs of allocated grains */
  h = mix(g * 31 + seed) % 8;
  if (h < 2)
    return DIMG_DATA;
  if (h == 2 && se)
    return DIMG_ZERO;
  if (h == 3 && se)
    return DIMG_UNMAPPED;
  return DIMG_HOLE;
}

/* Base content: every third 64-sector chunk holds data, the rest zeros. */
static void base_sector(uint64_t s, uint8_t *buf)
{
  size_t i;

  if ((s / 64) % 3) {
    memset(buf, 0, SECTOR);
    return;
  }
  for (i = 0; i < SECTOR; i += 8) {
    uint64_t v = mix(s * 64 + i + 1);

    memcpy(buf + i, &v, 8);
  }
}

static void grain_data(uint64_t g, unsigned seed, uint8_t *buf, size_t bytes)
{
  size_t i;

  for (i = 0; i < bytes; i += 8) {
    uint64_t v = mix((g << 20) + i + seed * 0x10001ull + 7);

    memcpy(buf + i, &v, 8);
  }
}

void dimg_expected(uint8_t *out, uint64_t cap, uint32_t grain,
                   unsigned seed, bool se)
{
  uint64_t s;
  uint8_t *gbuf = malloc((size_t)grain * SECTOR);
  uint64_t cached = UINT64_MAX;

  for (s = 0; s < cap; s++) {
    uint64_t g = s / grain;
    uint8_t *p = out + s * SECTOR;

    switch (dimg_kind(g, seed, se)) {
    case DIMG_HOLE:
      base_sector(s, p);
      break;
    case DIMG_ZERO:
    case DIMG_UNMAPPED:
      memset(p, 0, SECTOR);
      break;
    case DIMG_DATA:
      if (cached != g) {
        grain_data(g, seed, gbuf, (size_t)grain * SECTOR);
        cached = g;
      }
      memcpy(p, gbuf + (s % grain) * SECTOR, SECTOR);
      break;
    }
  }
  free(gbuf);
}

static int put(int fd, const void *buf, size_t len, uint64_t off,
               const char *what)
{
  if (pwrite(fd, buf, len, (off_t)off) != (ssize_t)len) {
    perror(what);
    return -1;
  }
  return 0;
}

static int write_text(const char *path, const char *text)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644), r;

  if (fd < 0) {
    perror(path);
    return -1;
  }
  r = put(fd, text, strlen(text), 0, path);
  close(fd);
  return r;
}

static int descriptor(const char *dir, const char *name, uint32_t cid,
                      uint32_t parent, const char *type, const char *ext,
                      const char *file, uint64_t cap)
{
  char path[4096], text[2048];

  snprintf(path, sizeof path, "%s/%s.vmdk", dir, name);
  snprintf(text, sizeof text,
           "# Disk DescriptorFile\nversion=1\nencoding=\"UTF-8\"\n"
           "CID=%08x\nparentCID=%08x\ncreateType=\"%s\"\n%s\n"
           "# Extent description\nRW %" PRIu64 " %s \"%s\"%s\n\n"
           "# The Disk Data Base\n#DDB\n\n"
           "ddb.adapterType = \"lsilogic\"\n"
           "ddb.geometry.cylinders = \"%" PRIu64 "\"\n"
           "ddb.geometry.heads = \"255\"\nddb.geometry.sectors = \"63\"\n"
           "ddb.virtualHWVersion = \"13\"\n",
           cid, parent, type,
           parent == 0xffffffffu ? "" : "parentFileNameHint=\"base.vmdk\"\n",
           cap, ext, file, strcmp(ext, "FLAT") == 0 ? " 0" : "",
           cap / (255 * 63));
  return write_text(path, text);
}

int dimg_make_base(const char *dir, uint64_t cap)
{
  char path[4096];
  uint8_t buf[64 * SECTOR];
  uint64_t s;
  int fd, r = 0, i;

  if (descriptor(dir, "base", DIMG_BASE_CID, 0xffffffffu, "monolithicFlat",
                 "FLAT", "base-flat.vmdk", cap))
    return -1;
  snprintf(path, sizeof path, "%s/base-flat.vmdk", dir);
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0 || ftruncate(fd, (off_t)(cap * SECTOR)) != 0) {
    perror(path);
    if (fd >= 0)
      close(fd);
    return -1;
  }
  for (s = 0; s < cap && !r; s += 192) {
    uint64_t n = cap - s < 64 ? cap - s : 64;

    for (i = 0; i < (int)n; i++)
      base_sector(s + (uint64_t)i, buf + i * SECTOR);
    r = put(fd, buf, (size_t)n * SECTOR, s * SECTOR, path);
  }
  close(fd);
  return r;
}

static void le32(uint8_t *p, uint32_t v)
{
  v = htole32(v);
  memcpy(p, &v, 4);
}

static void le64(uint8_t *p, uint64_t v)
{
  v = htole64(v);
  memcpy(p, &v, 8);
}

/* The allocated grains of [0, ngrains) in file order: blocks of eight,
 * every third block reversed.  Returns the count; *out is malloc'd. */
static uint64_t file_order(uint64_t ngrains, unsigned seed, bool se,
                           uint64_t **out)
{
  uint64_t *o = malloc((size_t)(ngrains ? ngrains : 1) * 8), n = 0, b, k;

  for (b = 0; o && b * 8 < ngrains; b++) {
    uint64_t first = n;

    for (k = b * 8; k < b * 8 + 8 && k < ngrains; k++)
      if (dimg_kind(k, seed, se) == DIMG_DATA)
        o[n++] = k;
    if (b % 3 == 2)
      for (k = 0; k < (n - first) / 2; k++) {
        uint64_t t = o[first + k];

        o[first + k] = o[n - 1 - k];
        o[n - 1 - k] = t;
      }
  }
  *out = o;
  return o ? n : 0;
}

int dimg_make_cowd(const char *dir, const char *name, uint64_t cap,
                   uint32_t grain, unsigned seed, struct dimg_info *info)
{
  uint64_t ngrains = (cap + grain - 1) / grain;
  uint64_t ngd = (ngrains + GTES - 1) / GTES, gds = (ngd * 4 + 511) / 512;
  uint64_t pos = 4 + gds, *order = NULL, n, i, t;
  uint32_t *gd = calloc((size_t)ngd, 4), *gt = calloc((size_t)ngd, GTES * 4);
  uint8_t hdr[2048] = {0}, *gbuf = malloc((size_t)grain * SECTOR);
  char file[256], path[4096];
  int fd = -1, r = -1;

  snprintf(file, sizeof file, "%s-delta.vmdk", name);
  snprintf(path, sizeof path, "%s/%s", dir, file);
  n = file_order(ngrains, seed, false, &order);
  if (!gd || !gt || !gbuf || !order)
    goto out;
  memset(info, 0, sizeof *info);
  for (t = 0; t < ngd; t++)
    if (t != 1) { /* table 1 is never allocated */
      gd[t] = htole32((uint32_t)pos);
      pos += COWD_GT_SECTORS;
    }
  info->gd = 4;
  info->gt0 = le32toh(gd[0]);
  info->meta_end = pos;
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    perror(path);
    goto out;
  }
  for (i = 0; i < n; i++) {
    uint64_t g = order[i];

    grain_data(g, seed, gbuf, (size_t)grain * SECTOR);
    if (put(fd, gbuf, (size_t)grain * SECTOR, pos * SECTOR, path))
      goto out;
    gt[g] = htole32((uint32_t)pos);
    pos += grain;
  }
  for (t = 0; t < ngd; t++)
    if (gd[t] && put(fd, gt + t * GTES, GTES * 4,
                     (uint64_t)le32toh(gd[t]) * SECTOR, path))
      goto out;
  memcpy(hdr, "COWD", 4);
  le32(hdr + 4, 1);        /* version */
  le32(hdr + 8, 3);        /* flags, as libvmdk saw them */
  le32(hdr + 12, (uint32_t)cap);
  le32(hdr + 16, grain);
  le32(hdr + 20, 4);       /* directory right after the header */
  le32(hdr + 24, (uint32_t)ngd);
  le32(hdr + 28, (uint32_t)pos); /* next free sector */
  le32(hdr + 1060, 1);     /* generation */
  if (put(fd, hdr, sizeof hdr, 0, path) ||
      put(fd, gd, (size_t)ngd * 4, 4 * SECTOR, path) ||
      ftruncate(fd, (off_t)(pos * SECTOR)) != 0)
    goto out;
  info->file_sectors = pos;
  info->data_entry = 0;
  r = descriptor(dir, name, DIMG_DELTA_CID, DIMG_BASE_CID, "vmfsSparse",
                 "VMFSSPARSE", file, cap);
out:
  if (fd >= 0)
    close(fd);
  free(gd);
  free(gt);
  free(gbuf);
  free(order);
  return r;
}

int dimg_make_sesparse(const char *dir, const char *name, uint64_t cap,
                       unsigned seed, struct dimg_info *info)
{
  uint64_t ngrains = (cap + SE_GRAIN - 1) / SE_GRAIN;
  uint64_t ngd = (ngrains + GTES - 1) / GTES, *order = NULL, n, i, t, k;
  uint64_t gd_off = 12, gd_size = (ngd * 8 + 511) / 512 + 1;
  uint64_t gt_off = gd_off + gd_size, gt_size = ngd * SE_GT_SECTORS;
  uint64_t bm_off = gt_off + gt_size, bk_off = bm_off + 1;
  uint64_t gr_off = bk_off + 1, gr_size = (SE_FIRST_GRAIN + ngrains) * 8;
  uint64_t *gd = calloc((size_t)ngd, 8), *gt = calloc((size_t)ngd, GTES * 8);
  uint64_t ntab = 0, g;
  uint8_t hdr[SECTOR] = {0}, vol[SECTOR] = {0}, gbuf[SE_GRAIN * SECTOR];
  char file[256], path[4096];
  int fd = -1, r = -1;

  snprintf(file, sizeof file, "%s-sesparse.vmdk", name);
  snprintf(path, sizeof path, "%s/%s", dir, file);
  n = file_order(ngrains, seed, true, &order);
  if (!gd || !gt || !order)
    goto out;
  memset(info, 0, sizeof *info);
  for (t = 0; t < ngd; t++)
    ntab += t != 1;
  /* Tables get indexes in reverse order of their directory entries. */
  for (t = 0, k = ntab; t < ngd; t++)
    if (t != 1)
      gd[t] = htole64(0x1000000000000000ull | --k);
  for (g = 0; g < ngrains; g++) {
    enum dimg_kind kind = dimg_kind(g, seed, true);

    if (kind == DIMG_ZERO)
      gt[g] = htole64(0x2000000000000000ull);
    else if (kind == DIMG_UNMAPPED)
      gt[g] = htole64(0x1000000000000000ull);
  }
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    perror(path);
    goto out;
  }
  for (i = 0; i < n; i++) {
    uint64_t idx = SE_FIRST_GRAIN + i;

    g = order[i];
    grain_data(g, seed, gbuf, sizeof gbuf);
    if (put(fd, gbuf, sizeof gbuf, (gr_off + idx * SE_GRAIN) * SECTOR,
            path))
      goto out;
    gt[g] = htole64(0x3000000000000000ull | (idx & 0xfff) << 48 |
                    idx >> 12);
  }
  for (t = 0; t < ngd; t++)
    if (gd[t] &&
        put(fd, gt + t * GTES, GTES * 8,
            (gt_off + (le64toh(gd[t]) & 0xffffffffu) * SE_GT_SECTORS) *
                SECTOR,
            path))
      goto out;
  le64(hdr, 0xcafebabeull);
  le64(hdr + 8, 0x200000001ull);
  le64(hdr + 16, cap);
  le64(hdr + 24, SE_GRAIN);
  le64(hdr + 32, SE_GT_SECTORS);
  le64(hdr + 80, 1);  /* volatile header */
  le64(hdr + 88, 1);
  le64(hdr + 96, 2);  /* journal header */
  le64(hdr + 104, 2);
  le64(hdr + 112, 4); /* journal */
  le64(hdr + 120, 8);
  le64(hdr + 128, gd_off);
  le64(hdr + 136, gd_size);
  le64(hdr + 144, gt_off);
  le64(hdr + 152, gt_size);
  le64(hdr + 160, bm_off);
  le64(hdr + 168, 1);
  le64(hdr + 176, bk_off);
  le64(hdr + 184, 1);
  le64(hdr + 192, gr_off);
  le64(hdr + 200, gr_size);
  le64(vol, 0xcafecafeull);
  le64(vol + 8, ntab);  /* free grain table number */
  le64(vol + 16, 1);    /* next transaction */
  if (put(fd, hdr, sizeof hdr, 0, path) ||
      put(fd, vol, sizeof vol, SECTOR, path) ||
      put(fd, gd, (size_t)ngd * 8, gd_off * SECTOR, path) ||
      ftruncate(fd, (off_t)((gr_off + (SE_FIRST_GRAIN + n) * SE_GRAIN) *
                            SECTOR)) != 0)
    goto out;
  info->file_sectors = gr_off + (SE_FIRST_GRAIN + n) * SE_GRAIN;
  info->gd = gd_off;
  info->gt0 = gt_off + (le64toh(gd[0]) & 0xffffffffu) * SE_GT_SECTORS;
  info->data_entry = 0;
  info->grains = gr_off;
  info->meta_end = gr_off;
  r = descriptor(dir, name, DIMG_DELTA_CID, DIMG_BASE_CID, "seSparse",
                 "SESPARSE", file, cap);
out:
  if (fd >= 0)
    close(fd);
  free(gd);
  free(gt);
  free(order);
  return r;
}
