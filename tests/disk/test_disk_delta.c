/*
 * test_disk_delta.c -- vmfsSparse (COWD) and SEsparse deltas, read-only.
 *
 * Chains are built field by field from the published layouts
 * (delta_images.c): a flat base and a delta with allocated grains (some
 * back to back in the file, some not), holes, tables that are absent or
 * hold only holes, and for SEsparse zero and unmapped grains.  Every byte
 * read through VixDiskLib is compared with the model; allocation queries
 * on the delta alone must report exactly its holes.  Then every header
 * field and table entry the readers use is corrupted in turn: each gives
 * its specific error (and a detail naming what is wrong), never a crash;
 * random damage to the metadata must not crash either.  Writes are refused
 * with nothing changed, and unknown createTypes are named.
 */
#include <endian.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "delta_images.h"
#include "disk/delta.h"
#include "disk/disk.h"
#include "disk/error.h"
#include "disk_test.h"
#include "testutil.h"
#include "vixDiskLib.h"

#define CHUNK 777u /* sectors per read: crosses grains and tables */

static void read_all(const char *path, uint64_t cap, const uint8_t *want)
{
  VixDiskLibHandle h = NULL;
  uint8_t *buf = malloc(CHUNK * 512);
  uint64_t s;

  assert_non_null(buf);
  assert_int_equal(VixDiskLib_Open(dt_conn, path,
                                   VIXDISKLIB_FLAG_OPEN_READ_ONLY, &h),
                   VIX_OK);
  for (s = 0; s < cap; s += CHUNK) {
    uint64_t n = cap - s < CHUNK ? cap - s : CHUNK;

    assert_int_equal(VixDiskLib_Read(h, s, n, buf), VIX_OK);
    if (memcmp(buf, want + s * 512, (size_t)n * 512) != 0)
      fail_msg("%s: sectors %llu..%llu differ from the model", path,
               (unsigned long long)s, (unsigned long long)(s + n));
  }
  assert_int_equal(VixDiskLib_Close(h), VIX_OK);
  free(buf);
}

/* The delta alone (SINGLE_LINK): every run disk_block_status reports is
 * allocated exactly where the grains are not holes. */
static void check_holes(const char *path, uint64_t cap, uint32_t grain,
                        unsigned seed, bool se)
{
  struct disk *d;
  uint64_t s = 0, holes = 0;

  assert_int_equal(disk_open(&d, path,
                             DISK_OPEN_READONLY | DISK_OPEN_SINGLE_LINK),
                   DISK_OK);
  while (s < cap) {
    uint64_t len, x;
    bool alloc;

    assert_int_equal(disk_block_status(d, s, cap - s, &len, &alloc),
                     DISK_OK);
    assert_true(len >= 1 && len <= cap - s);
    for (x = s; x < s + len; x++)
      if ((dimg_kind(x / grain, seed, se) != DIMG_HOLE) != alloc)
        fail_msg("%s: sector %llu reported %s", path, (unsigned long long)x,
                 alloc ? "allocated" : "a hole");
    holes += alloc ? 0 : len;
    s += len;
  }
  assert_true(holes > 0 && holes < cap);
  disk_close(d);
}

static void check_info(const char *path)
{
  VixDiskLibHandle h = NULL;
  VixDiskLibInfo *info = NULL;
  struct disk_info di;
  struct disk *d;

  assert_int_equal(VixDiskLib_Open(dt_conn, path,
                                   VIXDISKLIB_FLAG_OPEN_READ_ONLY, &h),
                   VIX_OK);
  assert_int_equal(VixDiskLib_GetInfo(h, &info), VIX_OK);
  assert_int_equal(info->numLinks, 2);
  assert_string_equal(info->parentFileNameHint, "base.vmdk");
  VixDiskLib_FreeInfo(info);
  VixDiskLib_Close(h);
  /* the kind Clone(UNKNOWN) and the space estimates see */
  assert_int_equal(disk_open(&d, path, DISK_OPEN_READONLY), DISK_OK);
  disk_get_info(d, &di);
  assert_int_equal(di.kind, DISK_KIND_VMFS_SPARSE);
  disk_close(d);
}

static void chain(uint64_t cap, uint32_t grain, unsigned seed, bool se)
{
  struct dimg_info info;
  uint8_t *want = malloc((size_t)cap * 512);
  const char *path = dt_path(se ? "se.vmdk" : "cowd.vmdk");

  assert_non_null(want);
  assert_int_equal(dimg_make_base(dt_dir, cap), 0);
  if (se)
    assert_int_equal(dimg_make_sesparse(dt_dir, "se", cap, seed, &info), 0);
  else
    assert_int_equal(
        dimg_make_cowd(dt_dir, "cowd", cap, grain, seed, &info), 0);
  dimg_expected(want, cap, grain, seed, se);
  read_all(path, cap, want);
  check_holes(path, cap, grain, seed, se);
  check_info(path);
  free(want);
}

static void test_cowd_chain(void **state)
{
  (void)state;
  /* 512-byte grains, four tables: the second absent, the fourth all
   * holes, the last partial */
  chain(4 * 4096 - 100, 1, 1, false);
  /* 8 KiB grains, the second (last) table absent and partial */
  chain(65536 + 1003, 16, 2, false);
}

static void test_sesparse_chain(void **state)
{
  (void)state;
  chain(2 * 32768 + 503, 8, 3, true); /* the last table partial */
}

/* ---- the pure decoders ------------------------------------------------- */

static void put64(uint8_t *p, uint64_t v)
{
  v = htole64(v);
  memcpy(p, &v, 8);
}

static void test_decoders(void **state)
{
  uint8_t hdr[512] = {0}, *raw = calloc(DELTA_GTES, 8);
  uint64_t *out = calloc(DELTA_GTES, 8), vs, t;
  struct delta_layout l;

  (void)state;
  assert_non_null(raw);
  assert_non_null(out);
  put64(hdr, 0xcafebabe);
  put64(hdr + 8, 0x200000001ull);
  put64(hdr + 16, 40000); /* two tables */
  put64(hdr + 24, 8);
  put64(hdr + 32, 64);
  put64(hdr + 80, 1);   /* volatile */
  put64(hdr + 88, 1);
  put64(hdr + 128, 2);  /* directory */
  put64(hdr + 136, 1);
  put64(hdr + 144, 3);  /* tables: room for two */
  put64(hdr + 152, 128);
  put64(hdr + 192, 131); /* grains: room for 8192 */
  put64(hdr + 200, 65536);
  assert_int_equal(sesparse_header_decode(&l, hdr, 200000 * 512ull, &vs, "t"),
                   DISK_OK);
  assert_int_equal(vs, 1);
  assert_int_equal(l.gd_entries, 2);
  assert_int_equal(l.grain, 8);
  /* directory: table index 1 is at 3 + 64; index 2 lies past the area */
  put64(raw, 0x1000000000000001ull);
  put64(raw + 8, 0);
  assert_int_equal(delta_gd_decode(&l, &sesparse_format, raw, 2, out, "t"),
                   DISK_OK);
  assert_int_equal(out[0], 3 + 64);
  assert_int_equal(out[1], 0);
  put64(raw, 0x1000000000000002ull);
  assert_int_equal(delta_gd_decode(&l, &sesparse_format, raw, 2, out, "t"),
                   DISK_E_NEEDSREPAIR);
  put64(raw, 0x2000000000000001ull);
  assert_int_equal(delta_gd_decode(&l, &sesparse_format, raw, 2, out, "t"),
                   DISK_E_NEEDSREPAIR);
  assert_non_null(strstr(disk_last_error()->detail, "directory entry 0"));
  /* tables: each type; grain index 0x1abc = low 12 bits in bits 48-59,
   * the rest in bits 0-47 */
  memset(raw, 0, DELTA_GTES * 8);
  put64(raw + 8, 0x1000000000000000ull);
  put64(raw + 16, 0x2000000000000000ull);
  put64(raw + 24, 0x3abc000000000001ull);
  put64(raw + 32, 0x3000000000000000ull);
  assert_int_equal(
      delta_gt_decode(&l, &sesparse_format, raw, 0, out, "t"), DISK_OK);
  assert_int_equal(out[0], DELTA_HOLE);
  assert_int_equal(out[1], DELTA_ZERO);
  assert_int_equal(out[2], DELTA_ZERO);
  assert_int_equal(out[3], 131 + 0x1abc * 8);
  assert_int_equal(out[4], 131);
  for (t = 0; t < 4; t++) {
    static const uint64_t bad[] = {0x0000000000000005ull,
                                   0x4000000000000000ull,
                                   0xf000000000000000ull,
                                   0x3000000000002000ull /* past area */};

    memset(raw, 0, DELTA_GTES * 8);
    put64(raw + 8 * 100, bad[t]);
    assert_int_equal(delta_gt_decode(&l, &sesparse_format, raw, 5, out, "t"),
                     DISK_E_NEEDSREPAIR);
    assert_non_null(strstr(disk_last_error()->detail, "table 5 entry 100"));
  }
  free(raw);
  free(out);
}

/* ---- corruption --------------------------------------------------------- */

static void poke(const char *path, uint64_t off, uint64_t v, int width)
{
  int fd = open(path, O_WRONLY);
  uint32_t v32 = htole32((uint32_t)v);
  uint64_t v64 = htole64(v);

  assert_true(fd >= 0);
  assert_int_equal(pwrite(fd, width == 4 ? (void *)&v32 : (void *)&v64,
                          (size_t)width, (off_t)off),
                   width);
  close(fd);
}

enum when { AT_OPEN, AT_READ };

struct damage {
  const char *what;
  uint64_t off; /* bytes from the place 'rel' names */
  enum { ABS, GD, GT0, VOL } rel;
  uint64_t value; /* written, plus what 'base' names (wrapping) */
  int width;
  enum when when;
  VixError err;
  const char *detail; /* substring of the logged line, or NULL */
  enum { V_ABS, V_FILE, V_GT0, V_GD0 } base; /* 0, the file's sectors,
                                    table 0's sector, directory entry 0 */
};

static void apply(const char *dpath, const struct dimg_info *info,
                  const struct damage *c)
{
  uint64_t off = c->off, v = c->value, e0;
  int fd;

  if (c->rel == GD)
    off += info->gd * 512;
  else if (c->rel == GT0)
    off += info->gt0 * 512 + (uint64_t)info->data_entry * (c->width);
  else if (c->rel == VOL)
    off += 512;
  if (c->base == V_FILE)
    v += info->file_sectors;
  else if (c->base == V_GT0)
    v += info->gt0;
  else if (c->base == V_GD0) {
    fd = open(dpath, O_RDONLY);
    assert_true(fd >= 0);
    assert_int_equal(pread(fd, &e0, 8, (off_t)(info->gd * 512)), 8);
    close(fd);
    v += le64toh(e0);
  }
  poke(dpath, off, v, c->width);
}

static void expect_damage(const char *path, const struct damage *c)
{
  VixDiskLibHandle h = NULL;
  uint8_t buf[512 * 16];
  VixError err;

  dt_last_line[0] = '\0';
  err = VixDiskLib_Open(dt_conn, path, VIXDISKLIB_FLAG_OPEN_READ_ONLY, &h);
  if (c->when == AT_READ) {
    assert_int_equal(err, VIX_OK);
    err = VixDiskLib_Read(h, 0, 16, buf);
    VixDiskLib_Close(h);
  } else if (!err) {
    VixDiskLib_Close(h);
  }
  if (err != c->err)
    fail_msg("%s: got VixError %llu, want %llu (%s)", c->what,
             (unsigned long long)err, (unsigned long long)c->err,
             dt_last_line);
  if (c->detail && !strstr(dt_last_line, c->detail))
    fail_msg("%s: detail \"%s\" lacks \"%s\"", c->what,
             dt_last_line, c->detail);
}

static const struct damage cowd_damage[] = {
    {"magic", 0, ABS, 0x44574f58, 4, AT_OPEN, VIX_E_DISK_INVALIDDISK, NULL,
     V_ABS},
    {"version", 4, ABS, 2, 4, AT_OPEN, VIX_E_DISK_UNSUPPORTEDDISKVERSION,
     "COWD version 2", V_ABS},
    {"grain size", 16, ABS, 3, 4, AT_OPEN, VIX_E_DISK_INVALIDDISK,
     "grain size", V_ABS},
    {"grain size 0", 16, ABS, 0, 4, AT_OPEN, VIX_E_DISK_INVALIDDISK,
     "grain size", V_ABS},
    {"directory too small", 24, ABS, 1, 4, AT_OPEN, VIX_E_DISK_INVALIDDISK,
     "cannot describe", V_ABS},
    {"directory too large", 24, ABS, 0x7fffffff, 4, AT_OPEN,
     VIX_E_DISK_INVALIDDISK, "cannot describe", V_ABS},
    {"directory outside", 20, ABS, 0, 4, AT_OPEN, VIX_E_DISK_INVALIDDISK,
     "directory at sector", V_FILE},
    {"directory over header", 20, ABS, 2, 4, AT_OPEN, VIX_E_DISK_INVALIDDISK,
     "directory at sector", V_ABS},
    {"next free past the end", 28, ABS, 1, 4, AT_OPEN,
     VIX_E_DISK_INVALIDDISK, "truncated", V_FILE},
    {"capacity below the descriptor", 12, ABS, 100, 4, AT_OPEN,
     VIX_E_DISK_INVAL, "exceeds", V_ABS},
    {"table outside", 0, GD, 0, 4, AT_OPEN, VIX_E_DISK_NEEDSREPAIR,
     "grain table 0", V_FILE},
    {"table over the directory", 0, GD, 4, 4, AT_OPEN,
     VIX_E_DISK_NEEDSREPAIR, "grain table 0", V_ABS},
    {"table in the header", 0, GD, 1, 4, AT_OPEN, VIX_E_DISK_NEEDSREPAIR,
     "grain table 0", V_ABS},
    {"tables overlap", 8, GD, 1, 4, AT_OPEN, VIX_E_DISK_NEEDSREPAIR,
     "overlap", V_GT0},
    {"grain outside", 0, GT0, 0, 4, AT_READ, VIX_E_DISK_NEEDSREPAIR,
     "entry 0 points", V_FILE},
    {"grain crossing the end", 0, GT0, (uint64_t)-1, 4, AT_READ,
     VIX_E_DISK_NEEDSREPAIR, "entry 0 points", V_FILE}, /* 2-sector grains */
    {"grain at sector 1", 0, GT0, 1, 4, AT_READ, VIX_E_DISK_NEEDSREPAIR,
     "invalid encoding", V_ABS},
    {"grain over the directory", 0, GT0, 4, 4, AT_READ,
     VIX_E_DISK_NEEDSREPAIR, "entry 0 points", V_ABS},
};

/* Applies each damage in turn to one delta over one base, its metadata
 * restored before each. */
static void damage_all(bool se, const struct damage *list, size_t n)
{
  const char *path = dt_path(se ? "se.vmdk" : "cowd.vmdk");
  const char *dpath = dt_path(se ? "se-sesparse.vmdk" : "cowd-delta.vmdk");
  uint64_t cap = se ? 2 * 32768 + 503 : 3 * 8192;
  struct dimg_info info;
  uint8_t *meta;
  size_t i, len;
  int fd;

  assert_int_equal(dimg_make_base(dt_dir, cap), 0);
  if (se)
    assert_int_equal(dimg_make_sesparse(dt_dir, "se", cap, 6, &info), 0);
  else
    assert_int_equal(dimg_make_cowd(dt_dir, "cowd", cap, 2, 5, &info), 0);
  len = (size_t)info.meta_end * 512;
  meta = malloc(len);
  fd = open(dpath, O_RDWR);
  assert_true(meta && fd >= 0);
  assert_int_equal(pread(fd, meta, len, 0), (ssize_t)len);
  for (i = 0; i < n; i++) {
    assert_int_equal(pwrite(fd, meta, len, 0), (ssize_t)len);
    apply(dpath, &info, &list[i]);
    expect_damage(path, &list[i]);
  }
  close(fd);
  free(meta);
}

static void test_cowd_damage(void **state)
{
  const char *path = dt_path("cowd.vmdk");
  struct dimg_info info;

  (void)state;
  damage_all(false, cowd_damage, sizeof cowd_damage / sizeof cowd_damage[0]);
  /* a file cut inside its header */
  assert_int_equal(dimg_make_cowd(dt_dir, "cowd", 3 * 8192, 2, 5, &info), 0);
  assert_int_equal(truncate(dt_path("cowd-delta.vmdk"), 1000), 0);
  dt_last_line[0] = '\0';
  assert_int_equal(dt_open_err(path, VIXDISKLIB_FLAG_OPEN_READ_ONLY),
                   VIX_E_DISK_INVALIDDISK);
  assert_non_null(strstr(dt_last_line, "too short"));
}

static const struct damage se_damage[] = {
    {"magic", 0, ABS, 0xcafebabf, 8, AT_OPEN, VIX_E_DISK_INVALIDDISK,
     "constant header magic", V_ABS},
    {"version", 8, ABS, 0x100000001ull, 8, AT_OPEN,
     VIX_E_DISK_UNSUPPORTEDDISKVERSION, "version", V_ABS},
    {"capacity", 16, ABS, 1ull << 40, 8, AT_OPEN, VIX_E_DISK_INVALIDDISK,
     "64 TiB", V_ABS},
    {"grain size", 24, ABS, 16, 8, AT_OPEN, VIX_E_DISK_NOTSUPPORTED,
     "grain", V_ABS},
    {"table size", 32, ABS, 32, 8, AT_OPEN, VIX_E_DISK_NOTSUPPORTED,
     "tables of 32", V_ABS},
    {"flags", 40, ABS, 1, 8, AT_OPEN, VIX_E_DISK_NOTSUPPORTED, "flags", V_ABS},
    {"reserved", 64, ABS, 1, 8, AT_OPEN, VIX_E_DISK_NOTSUPPORTED,
     "reserved", V_ABS},
    {"padding", 400, ABS, 1, 8, AT_OPEN, VIX_E_DISK_NOTSUPPORTED,
     "reserved", V_ABS},
    {"journal over the directory", 112, ABS, 12, 8, AT_OPEN,
     VIX_E_DISK_INVALIDDISK, "overlap", V_ABS},
    {"region end overflows", 200, ABS, UINT64_MAX - 10, 8, AT_OPEN,
     VIX_E_DISK_INVALIDDISK, "out of range", V_ABS},
    {"volatile header outside", 80, ABS, 1ull << 40, 8, AT_OPEN,
     VIX_E_DISK_INVALIDDISK, "volatile header at", V_ABS},
    {"directory too small", 136, ABS, 0, 8, AT_OPEN, VIX_E_DISK_INVALIDDISK,
     "cannot describe", V_ABS},
    {"capacity below the descriptor", 16, ABS, 100, 8, AT_OPEN,
     VIX_E_DISK_INVAL, "exceeds", V_ABS},
    {"volatile magic", 0, VOL, 0xcafecaff, 8, AT_OPEN,
     VIX_E_DISK_INVALIDDISK, "volatile header magic", V_ABS},
    {"journal needs replay", 24, VOL, 1, 8, AT_OPEN, VIX_E_DISK_NOTSUPPORTED,
     "journal needs replay", V_ABS},
    {"volatile padding", 100, VOL, 7, 8, AT_OPEN, VIX_E_DISK_NOTSUPPORTED,
     "reserved", V_ABS},
    {"directory entry type", 0, GD, 0x2000000000000000ull, 8, AT_OPEN,
     VIX_E_DISK_NEEDSREPAIR, "not a table reference", V_ABS},
    {"table past its area", 0, GD, 0x1000000000000004ull, 8, AT_OPEN,
     VIX_E_DISK_NEEDSREPAIR, "grain table 0", V_ABS},
    {"tables share one index", 16, GD, 0, 8, AT_OPEN, VIX_E_DISK_NEEDSREPAIR,
     "overlap", V_GD0},
    {"entry type 4", 0, GT0, 0x4000000000000000ull, 8, AT_READ,
     VIX_E_DISK_NEEDSREPAIR, "invalid encoding", V_ABS},
    {"unallocated with bits", 0, GT0, 0x0000000000000009ull, 8, AT_READ,
     VIX_E_DISK_NEEDSREPAIR, "invalid encoding", V_ABS},
    {"grain past the file", 0, GT0, 0x3000000000100000ull, 8, AT_READ,
     VIX_E_DISK_NEEDSREPAIR, "entry 0 points", V_ABS},
};

static void test_sesparse_damage(void **state)
{
  (void)state;
  damage_all(true, se_damage, sizeof se_damage / sizeof se_damage[0]);
}

/* Random damage to the metadata (the first meta_bytes of the delta file):
 * any status, no crash, no leak.  Each table's first sectors are read
 * (a read loads and checks the whole table). */
static void flip_and_read(const char *path, const char *dpath,
                          size_t meta_bytes, uint64_t cap, uint64_t span,
                          unsigned iters)
{
  uint8_t *pristine = malloc(meta_bytes), *img = malloc(meta_bytes);
  uint8_t *buf = malloc(1024 * 512);
  uint64_t rng = 88172645463325252ull;
  unsigned it;
  int fd = open(dpath, O_RDWR);

  assert_true(fd >= 0);
  assert_true(pristine && img && buf);
  assert_int_equal(pread(fd, pristine, meta_bytes, 0), (ssize_t)meta_bytes);
  for (it = 0; it < iters; it++) {
    struct disk *d;
    int k;

    memcpy(img, pristine, meta_bytes);
    for (k = 0; k < 1 + (int)(it % 4); k++) {
      rng ^= rng << 13;
      rng ^= rng >> 7;
      rng ^= rng << 17;
      img[(rng >> 8) % meta_bytes] ^= (uint8_t)(1u << (rng % 8));
    }
    assert_int_equal(pwrite(fd, img, meta_bytes, 0), (ssize_t)meta_bytes);
    if (disk_open(&d, path, DISK_OPEN_READONLY) == DISK_OK) {
      uint64_t s;

      for (s = 0; s < cap; s += span)
        (void)disk_read(d, s, cap - s < 1024 ? cap - s : 1024, buf);
      disk_close(d);
    }
  }
  assert_int_equal(pwrite(fd, pristine, meta_bytes, 0), (ssize_t)meta_bytes);
  close(fd);
  free(pristine);
  free(img);
  free(buf);
}

static void test_random_damage(void **state)
{
  unsigned iters = fvx_test_under_valgrind() ? 40 : 400;
  struct dimg_info info;

  (void)state;
  assert_int_equal(dimg_make_base(dt_dir, 3 * 32768), 0);
  assert_int_equal(dimg_make_cowd(dt_dir, "cowd", 3 * 4096, 1, 7, &info), 0);
  /* header, directory and the tables */
  flip_and_read(dt_path("cowd.vmdk"), dt_path("cowd-delta.vmdk"),
                (size_t)(info.gt0 + 3 * 32) * 512, 3 * 4096, 4096, iters);
  assert_int_equal(dimg_make_sesparse(dt_dir, "se", 3 * 32768, 8, &info),
                   0);
  flip_and_read(dt_path("se.vmdk"), dt_path("se-sesparse.vmdk"),
                (size_t)info.grains * 512, 3 * 32768, 32768, iters);
}

/* ---- writes, names ------------------------------------------------------- */

static void write_refused(const char *path, const char *dpath,
                          const char *format)
{
  size_t l0, l1, d0, d1;
  char *f0 = fvx_test_read_file(dpath, &l0), *f1;
  char *t0 = fvx_test_read_file(path, &d0), *t1;
  VixDiskLibHandle h = NULL;
  uint8_t buf[512 * 8];

  memset(buf, 0x5a, sizeof buf);
  assert_int_equal(VixDiskLib_Open(dt_conn, path, 0, &h), VIX_OK);
  dt_last_line[0] = '\0';
  assert_int_equal(VixDiskLib_Write(h, 3, 8, buf), VIX_E_DISK_NOTSUPPORTED);
  assert_non_null(strstr(dt_last_line, format));
  assert_int_equal(VixDiskLib_Read(h, 3, 8, buf), VIX_OK);
  assert_int_equal(VixDiskLib_Close(h), VIX_OK);
  f1 = fvx_test_read_file(dpath, &l1);
  t1 = fvx_test_read_file(path, &d1);
  assert_true(l0 == l1 && memcmp(f0, f1, l0) == 0);
  assert_true(d0 == d1 && memcmp(t0, t1, d0) == 0); /* CID unchanged */
  free(f0);
  free(f1);
  free(t0);
  free(t1);
}

static void test_writes_refused(void **state)
{
  struct dimg_info info;
  uint64_t cap = 2 * 32768;

  (void)state;
  assert_int_equal(dimg_make_base(dt_dir, cap), 0);
  assert_int_equal(dimg_make_cowd(dt_dir, "cowd", cap, 1, 9, &info), 0);
  assert_int_equal(dimg_make_sesparse(dt_dir, "se", cap, 9, &info), 0);
  write_refused(dt_path("cowd.vmdk"), dt_path("cowd-delta.vmdk"),
                "vmfsSparse extents cannot be written");
  write_refused(dt_path("se.vmdk"), dt_path("se-sesparse.vmdk"),
                "SEsparse extents cannot be written");
  /* the extent files alone are not disks */
  dt_last_line[0] = '\0';
  assert_int_equal(dt_open_err(dt_path("cowd-delta.vmdk"),
                               VIXDISKLIB_FLAG_OPEN_READ_ONLY),
                   VIX_E_DISK_NOTSUPPORTED);
  assert_non_null(strstr(dt_last_line, "open the descriptor"));
  assert_int_equal(dt_open_err(dt_path("se-sesparse.vmdk"),
                               VIXDISKLIB_FLAG_OPEN_READ_ONLY),
                   VIX_E_DISK_NOTSUPPORTED);
  assert_non_null(strstr(dt_last_line, "SEsparse"));
}

static void test_create_types(void **state)
{
  const char *path = dt_path("t.vmdk");
  static const char *const known[] = {"custom", "vmfsPreallocated",
                                      "2GbMaxExtentFlat", "VMFSSPARSE"};
  char text[256];
  size_t i;
  int fd;

  (void)state;
  for (i = 0; i < sizeof known / sizeof known[0]; i++) {
    snprintf(text, sizeof text, "CID=1\ncreateType=\"%s\"\nRW 8 ZERO\n",
             known[i]);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    assert_int_equal(dt_open_err(path, VIXDISKLIB_FLAG_OPEN_READ_ONLY),
                     VIX_OK);
  }
  snprintf(text, sizeof text,
           "CID=1\ncreateType=\"vmfsSuperSparse\"\nRW 8 ZERO\n");
  fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  dt_last_line[0] = '\0';
  assert_int_equal(dt_open_err(path, VIXDISKLIB_FLAG_OPEN_READ_ONLY),
                   VIX_E_DISK_NOTSUPPORTED);
  assert_non_null(strstr(dt_last_line, "\"vmfsSuperSparse\""));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cowd_chain),
      cmocka_unit_test(test_sesparse_chain),
      cmocka_unit_test(test_decoders),
      cmocka_unit_test(test_cowd_damage),
      cmocka_unit_test(test_sesparse_damage),
      cmocka_unit_test(test_random_damage),
      cmocka_unit_test(test_writes_refused),
      cmocka_unit_test(test_create_types),
  };

  return cmocka_run_group_tests(tests, dt_setup_logged, dt_teardown);
}
