/*
 * test_disk_compact.c -- VixDiskLib_Shrink, VixDiskLib_Defragment,
 * VixDiskLib_IsAttachPossible and VixDiskLib_Attach on local disks.
 *
 * Every rewrite is checked against an in-memory model of the disk (bit
 * exact, through the same handle and after a reopen), the files are
 * inspected directly (sizes, grain-table entries in logical order, no
 * temporary file left), and the handle stays usable afterwards (writes,
 * metadata, the writer lock).  Attach is checked for the chain it builds
 * and for each specific refusal.
 */
#include <dirent.h>
#include <endian.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "disk_test.h"
#include "testutil.h"
#include "vixDiskLib.h"

#define GRAIN 128u /* sectors, what freevix creates */

static VixDiskLibHandle open_h(const char *path, uint32 flags)
{
  VixDiskLibHandle h = NULL;

  assert_int_equal(VixDiskLib_Open(dt_conn, path, flags, &h), VIX_OK);
  return h;
}

static uint64_t file_size(const char *path)
{
  struct stat sb;

  assert_int_equal(stat(path, &sb), 0);
  return (uint64_t)sb.st_size;
}

/* No "*.fvxtmp*" file is left in the test directory. */
static void no_temp_files(void)
{
  DIR *d = opendir(dt_dir);
  struct dirent *de;
  int found = 0;

  assert_non_null(d);
  while ((de = readdir(d)) != NULL)
    found += strstr(de->d_name, ".fvxtmp") != NULL;
  closedir(d);
  assert_int_equal(found, 0);
}

/* Grain-table entries of grains [0, n) of a sparse extent file. */
static void grain_entries(const char *path, uint32_t *out, uint64_t n)
{
  int fd = open(path, O_RDONLY);
  uint32_t gtes, gde, v;
  uint64_t gd, g;

  assert_true(fd >= 0);
  assert_int_equal(pread(fd, &gtes, 4, 44), 4);
  assert_int_equal(pread(fd, &gd, 8, 56), 8);
  gtes = le32toh(gtes);
  gd = le64toh(gd);
  for (g = 0; g < n; g++) {
    assert_int_equal(pread(fd, &gde, 4, (off_t)(gd * 512 + g / gtes * 4)), 4);
    gde = le32toh(gde);
    v = 0;
    if (gde)
      assert_int_equal(
          pread(fd, &v, 4, (off_t)((uint64_t)gde * 512 + g % gtes * 4)), 4);
    out[g] = le32toh(v);
  }
  close(fd);
}

/* ---- a model of the disk -------------------------------------------------- */

struct model {
  uint8_t *data;
  uint64_t cap;
};

/* Writes n sectors at s: random bytes, or zeros when zero is set. */
static void put(VixDiskLibHandle h, struct model *m, uint64_t s, uint64_t n,
                int zero)
{
  uint8_t *p = m->data + s * 512;
  uint64_t i;

  for (i = 0; i < n * 64; i++)
    ((uint64_t *)p)[i] = zero ? 0 : dt_rand();
  assert_int_equal(VixDiskLib_Write(h, s, n, p), VIX_OK);
}

/* Reads [s, s+n) in 1 MiB pieces and compares with the model. */
static void same(VixDiskLibHandle h, const struct model *m, uint64_t s,
                 uint64_t n)
{
  uint8_t *b = malloc(2048 * 512);
  int ok = 1;

  assert_non_null(b);
  while (n && ok) {
    uint64_t k = n < 2048 ? n : 2048;

    assert_int_equal(VixDiskLib_Read(h, s, k, b), VIX_OK);
    ok = memcmp(b, m->data + s * 512, k * 512) == 0;
    s += k;
    n -= k;
  }
  free(b);
  assert_true(ok);
}

/* ---- progress ---------------------------------------------------------------- */

struct prog {
  int calls, last, backwards;
};

static Bool on_progress(void *data, int pct)
{
  struct prog *p = data;

  if (pct < p->last || pct < 0 || pct > 100)
    p->backwards++;
  p->last = pct;
  p->calls++;
  return TRUE;
}

static void progress_ok(const struct prog *p)
{
  assert_true(p->calls >= 1);
  assert_int_equal(p->backwards, 0);
  assert_int_equal(p->last, 100);
}

/* ---- Shrink ------------------------------------------------------------------- */

static void test_shrink_monolithic(void **state)
{
  const char *path = dt_path("shrink.vmdk");
  struct model m = {NULL, 80 * GRAIN};
  struct prog pr = {0, -1, 0};
  VixDiskLibHandle h;
  VixDiskLibBlockList *bl;
  uint64_t before, after, g;
  char buf[64];

  (void)state;
  m.data = calloc(m.cap, 512);
  dt_create(path, VIXDISKLIB_DISK_MONOLITHIC_SPARSE, m.cap);
  h = open_h(path, 0);
  for (g = 40; g-- > 0;) /* data, written backwards */
    put(h, &m, g * GRAIN, GRAIN, 0);
  put(h, &m, 0, 5 * GRAIN, 1);          /* data overwritten with zeros */
  put(h, &m, 50 * GRAIN, 10 * GRAIN, 1); /* zeros written: allocated */
  put(h, &m, 60 * GRAIN + 7, 1, 0);     /* one sector in a zero grain */
  put(h, &m, 70 * GRAIN + 3, 2, 1);     /* a partial zero write */
  before = file_size(path);
  assert_int_equal(VixDiskLib_Shrink(h, on_progress, &pr), VIX_OK);
  progress_ok(&pr);
  after = file_size(path);
  /* 5 + 10 + 1 zero grains dropped */
  assert_true(before - after >= 16ull * GRAIN * 512);
  no_temp_files();
  same(h, &m, 0, m.cap);
  /* the handle is still the writer: lock held, writes and metadata work */
  assert_int_equal(dt_open_err(path, 0), VIX_E_FILE_ALREADY_LOCKED);
  put(h, &m, 2 * GRAIN + 5, 300, 0);
  put(h, &m, 79 * GRAIN, GRAIN, 0);
  assert_int_equal(VixDiskLib_WriteMetadata(h, "freevix.after", "shrink"),
                   VIX_OK);
  same(h, &m, 0, m.cap);
  assert_int_equal(VixDiskLib_QueryAllocatedBlocks(h, 50 * GRAIN, 10 * GRAIN,
                                                   GRAIN, &bl),
                   VIX_OK);
  assert_int_equal(bl->numBlocks, 0); /* the zero grains are holes now */
  VixDiskLib_FreeBlockList(bl);
  assert_int_equal(VixDiskLib_Close(h), VIX_OK);
  assert_int_equal(VixDiskLib_CheckRepair(dt_conn, path, FALSE), VIX_OK);
  h = open_h(path, VIXDISKLIB_FLAG_OPEN_READ_ONLY);
  same(h, &m, 0, m.cap);
  assert_int_equal(VixDiskLib_ReadMetadata(h, "freevix.after", buf,
                                           sizeof buf, NULL),
                   VIX_OK);
  assert_string_equal(buf, "shrink");
  VixDiskLib_Close(h);
  /* nothing left to drop: the size stays */
  h = open_h(path, 0);
  before = file_size(path);
  assert_int_equal(VixDiskLib_Shrink(h, NULL, NULL), VIX_OK);
  assert_int_equal(file_size(path), before);
  same(h, &m, 0, m.cap);
  VixDiskLib_Close(h);
  free(m.data);
}

static void test_shrink_split(void **state)
{
  const char *path = dt_path("shsplit.vmdk");
  const char *s1 = dt_path("shsplit-s001.vmdk");
  const char *s2 = dt_path("shsplit-s002.vmdk");
  uint64_t ext = 4192256; /* sectors per split extent */
  struct model m = {NULL, 0};
  struct prog pr = {0, -1, 0};
  VixDiskLibHandle h;
  uint64_t before, after;

  (void)state;
  /* the model covers the end of extent 1 and the start of extent 2 */
  m.cap = ext + 64 * GRAIN;
  m.data = calloc(m.cap, 512);
  dt_create(path, VIXDISKLIB_DISK_SPLIT_SPARSE, m.cap);
  h = open_h(path, 0);
  put(h, &m, ext - 8 * GRAIN, 16 * GRAIN, 0); /* across the boundary */
  put(h, &m, ext - 4 * GRAIN, 2 * GRAIN, 1);
  put(h, &m, ext + 20 * GRAIN, 20 * GRAIN, 1);
  put(h, &m, ext + 30 * GRAIN + 1, 1, 0);
  put(h, &m, 0, GRAIN, 0);
  before = file_size(s1) + file_size(s2);
  assert_int_equal(VixDiskLib_Shrink(h, on_progress, &pr), VIX_OK);
  progress_ok(&pr);
  after = file_size(s1) + file_size(s2);
  assert_true(before - after >= 21ull * GRAIN * 512);
  no_temp_files();
  same(h, &m, 0, 2 * GRAIN);
  same(h, &m, ext - 16 * GRAIN, 80 * GRAIN);
  put(h, &m, ext + 25 * GRAIN, 3, 0);
  assert_int_equal(VixDiskLib_Close(h), VIX_OK);
  assert_int_equal(VixDiskLib_CheckRepair(dt_conn, path, FALSE), VIX_OK);
  h = open_h(path, VIXDISKLIB_FLAG_OPEN_READ_ONLY);
  same(h, &m, 0, 2 * GRAIN);
  same(h, &m, ext - 16 * GRAIN, 80 * GRAIN);
  VixDiskLib_Close(h);
  free(m.data);
}

static void test_shrink_refused(void **state)
{
  const char *base = dt_path("shb.vmdk"), *child = dt_path("shc.vmdk");
  const char *flat = dt_path("shf.vmdk"), *stream = dt_path("shs.vmdk");
  struct model m = {NULL, 16 * GRAIN};
  VixDiskLibHandle h, hc;
  uint8_t *b = malloc(16 * GRAIN * 512);

  (void)state;
  m.data = calloc(m.cap, 512);
  assert_int_equal(VixDiskLib_Shrink(NULL, NULL, NULL), VIX_E_INVALID_ARG);
  assert_int_equal(VixDiskLib_Defragment(NULL, NULL, NULL),
                   VIX_E_INVALID_ARG);
  dt_create(base, VIXDISKLIB_DISK_MONOLITHIC_SPARSE, m.cap);
  h = open_h(base, 0);
  put(h, &m, 0, 4 * GRAIN, 0);
  put(h, &m, 4 * GRAIN, 4 * GRAIN, 1);
  assert_int_equal(VixDiskLib_CreateChild(h, child,
                                          VIXDISKLIB_DISK_MONOLITHIC_SPARSE,
                                          NULL, NULL),
                   VIX_OK);
  VixDiskLib_Close(h);
  /* read-only handles */
  h = open_h(base, VIXDISKLIB_FLAG_OPEN_READ_ONLY);
  assert_int_equal(VixDiskLib_Shrink(h, NULL, NULL), VIX_E_FILE_READ_ONLY);
  assert_int_equal(VixDiskLib_Defragment(h, NULL, NULL),
                   VIX_E_FILE_READ_ONLY);
  VixDiskLib_Close(h);
  /* a child cannot be shrunk (its zero grains hide the parent) */
  hc = open_h(child, 0);
  put(hc, &m, 0, GRAIN, 1);
  assert_int_equal(VixDiskLib_Shrink(hc, NULL, NULL), VIX_E_DISK_CANTSHRINK);
  same(hc, &m, 0, m.cap);
  VixDiskLib_Close(hc);
  /* shrinking the base keeps its CID: the child still opens over it */
  h = open_h(base, 0);
  assert_int_equal(VixDiskLib_Shrink(h, NULL, NULL), VIX_OK);
  VixDiskLib_Close(h);
  hc = open_h(child, VIXDISKLIB_FLAG_OPEN_READ_ONLY);
  same(hc, &m, 0, m.cap);
  VixDiskLib_Close(hc);
  /* flat: nothing to shrink; defragment is a no-op */
  dt_create(flat, VIXDISKLIB_DISK_MONOLITHIC_FLAT, m.cap);
  h = open_h(flat, 0);
  assert_int_equal(VixDiskLib_Shrink(h, NULL, NULL), VIX_E_DISK_NOTSUPPORTED);
  assert_int_equal(VixDiskLib_Defragment(h, NULL, NULL), VIX_OK);
  VixDiskLib_Close(h);
  /* streamOptimized is not writable in place */
  dt_create(stream, VIXDISKLIB_DISK_STREAM_OPTIMIZED, m.cap);
  h = open_h(stream, 0);
  assert_int_equal(VixDiskLib_Shrink(h, NULL, NULL), VIX_E_DISK_NOTSUPPORTED);
  assert_int_equal(VixDiskLib_Defragment(h, NULL, NULL),
                   VIX_E_DISK_NOTSUPPORTED);
  VixDiskLib_Close(h);
  no_temp_files();
  free(b);
  free(m.data);
}

/* ---- Defragment ------------------------------------------------------------ */

/* Allocated grains of [0, n) lie in logical order, back to back, the last
 * one ending the file. */
static void in_order(const char *path, uint64_t n)
{
  uint32_t *e = calloc(n, 4), prev = 0;
  uint64_t g;

  grain_entries(path, e, n);
  for (g = 0; g < n; g++) {
    if (e[g] <= 1)
      continue;
    if (prev)
      assert_int_equal(e[g], prev + GRAIN);
    prev = e[g];
  }
  assert_true(prev != 0);
  assert_int_equal(file_size(path), ((uint64_t)prev + GRAIN) * 512);
  free(e);
}

static void test_defragment(void **state)
{
  const char *path = dt_path("defrag.vmdk"), *child = dt_path("dchild.vmdk");
  struct model m = {NULL, 64 * GRAIN + 50};
  struct prog pr = {0, -1, 0};
  VixDiskLibHandle h;
  uint32_t e[65];
  uint64_t g, before;

  (void)state;
  m.data = calloc(m.cap, 512);
  dt_create(path, VIXDISKLIB_DISK_MONOLITHIC_SPARSE, m.cap);
  h = open_h(path, 0);
  for (g = 40; g-- > 0;)
    put(h, &m, g * GRAIN + 1, GRAIN - 2, (int)(g % 7 == 3));
  put(h, &m, 64 * GRAIN, 50, 0); /* the short last grain */
  grain_entries(path, e, 65);
  assert_true(e[0] > e[39]); /* written backwards */
  before = file_size(path);
  assert_int_equal(VixDiskLib_Defragment(h, on_progress, &pr), VIX_OK);
  progress_ok(&pr);
  in_order(path, 65);
  assert_true(file_size(path) <= before);
  same(h, &m, 0, m.cap);
  assert_int_equal(dt_open_err(path, 0), VIX_E_FILE_ALREADY_LOCKED);
  /* zero grains are kept by Defragment */
  grain_entries(path, e, 65);
  assert_true(e[3] > 1);
  put(h, &m, 50 * GRAIN, 10, 0);
  assert_int_equal(VixDiskLib_CreateChild(h, child,
                                          VIXDISKLIB_DISK_MONOLITHIC_SPARSE,
                                          NULL, NULL),
                   VIX_OK);
  VixDiskLib_Close(h);
  /* a child defragments too, and still reads through its parent */
  h = open_h(child, 0);
  for (g = 20; g-- > 10;)
    put(h, &m, g * GRAIN + 5, 9, 0);
  assert_int_equal(VixDiskLib_Defragment(h, NULL, NULL), VIX_OK);
  in_order(child, 65);
  same(h, &m, 0, m.cap);
  VixDiskLib_Close(h);
  h = open_h(child, VIXDISKLIB_FLAG_OPEN_READ_ONLY);
  same(h, &m, 0, m.cap);
  VixDiskLib_Close(h);
  assert_int_equal(VixDiskLib_CheckRepair(dt_conn, path, FALSE), VIX_OK);
  assert_int_equal(VixDiskLib_CheckRepair(dt_conn, child, FALSE), VIX_OK);
  no_temp_files();
  free(m.data);
}

/* ---- Attach ------------------------------------------------------------------- */

static void test_attach(void **state)
{
  const char *base = dt_path("ab.vmdk"), *child = dt_path("ac.vmdk");
  const char *other = dt_path("ao.vmdk"), *big = dt_path("abig.vmdk");
  struct model m = {NULL, 32 * GRAIN};
  VixDiskLibHandle hb, hc, ho;
  VixDiskLibInfo *info;

  (void)state;
  m.data = calloc(m.cap, 512);
  dt_create(base, VIXDISKLIB_DISK_MONOLITHIC_SPARSE, m.cap);
  dt_create(other, VIXDISKLIB_DISK_MONOLITHIC_SPARSE, m.cap);
  dt_create(big, VIXDISKLIB_DISK_MONOLITHIC_SPARSE, 2 * m.cap);
  hb = open_h(base, 0);
  put(hb, &m, 0, 10 * GRAIN, 0);
  assert_int_equal(VixDiskLib_CreateChild(hb, child,
                                          VIXDISKLIB_DISK_MONOLITHIC_SPARSE,
                                          NULL, NULL),
                   VIX_OK);
  VixDiskLib_Close(hb);

  /* the child alone reads zeros; attached, it reads through the parent */
  hc = open_h(child, VIXDISKLIB_FLAG_OPEN_SINGLE_LINK);
  hb = open_h(base, VIXDISKLIB_FLAG_OPEN_READ_ONLY);
  ho = open_h(other, VIXDISKLIB_FLAG_OPEN_READ_ONLY);
  assert_int_equal(VixDiskLib_IsAttachPossible(NULL, hc), VIX_E_INVALID_ARG);
  assert_int_equal(VixDiskLib_IsAttachPossible(hb, NULL), VIX_E_INVALID_ARG);
  assert_int_equal(VixDiskLib_IsAttachPossible(hc, hc), VIX_E_INVALID_ARG);
  assert_int_equal(VixDiskLib_Attach(hc, hc), VIX_E_INVALID_ARG);
  assert_int_equal(VixDiskLib_Attach(NULL, hc), VIX_E_INVALID_ARG);
  assert_int_equal(VixDiskLib_IsAttachPossible(hb, ho),
                   VIX_E_DISK_ATTACH_ROOTLINK);
  assert_int_equal(VixDiskLib_IsAttachPossible(ho, hc),
                   VIX_E_DISK_CID_MISMATCH);
  assert_int_equal(VixDiskLib_IsAttachPossible(hb, hc), VIX_OK);
  VixDiskLib_Close(ho);
  assert_int_equal(VixDiskLib_Attach(hb, hc), VIX_OK);
  /* the parent handle is gone; the child holds both links */
  assert_int_equal(VixDiskLib_Close(hb), VIX_E_INVALID_ARG);
  assert_int_equal(VixDiskLib_GetInfo(hb, &info), VIX_E_INVALID_ARG);
  assert_int_equal(VixDiskLib_GetInfo(hc, &info), VIX_OK);
  assert_int_equal(info->numLinks, 2);
  VixDiskLib_FreeInfo(info);
  same(hc, &m, 0, m.cap);
  put(hc, &m, 3 * GRAIN + 10, 20, 0); /* copy-up from the attached parent */
  put(hc, &m, 20 * GRAIN, GRAIN, 0);
  same(hc, &m, 0, m.cap);
  assert_int_equal(VixDiskLib_Close(hc), VIX_OK);
  hc = open_h(child, VIXDISKLIB_FLAG_OPEN_READ_ONLY);
  same(hc, &m, 0, m.cap);
  VixDiskLib_Close(hc);

  /* capacity mismatch */
  hc = open_h(child, VIXDISKLIB_FLAG_OPEN_SINGLE_LINK);
  ho = open_h(big, VIXDISKLIB_FLAG_OPEN_READ_ONLY);
  assert_int_equal(VixDiskLib_IsAttachPossible(ho, hc),
                   VIX_E_DISK_CAPACITY_MISMATCH);
  VixDiskLib_Close(ho);

  /* a writable parent: its lock is held until the child closes */
  hb = open_h(base, 0);
  assert_int_equal(VixDiskLib_Attach(hb, hc), VIX_OK);
  assert_int_equal(dt_open_err(base, 0), VIX_E_FILE_ALREADY_LOCKED);
  same(hc, &m, 0, m.cap);
  VixDiskLib_Close(hc);
  assert_int_equal(dt_open_err(base, 0), VIX_OK);

  /* a changed parent: CID mismatch; a failed Attach consumes the parent
   * too (VDDK: do not close it), and its lock is released */
  hc = open_h(child, VIXDISKLIB_FLAG_OPEN_SINGLE_LINK);
  hb = open_h(base, 0);
  put(hb, &m, 31 * GRAIN, 1, 0);
  assert_int_equal(VixDiskLib_IsAttachPossible(hb, hc),
                   VIX_E_DISK_CID_MISMATCH);
  assert_int_equal(VixDiskLib_Attach(hb, hc), VIX_E_DISK_CID_MISMATCH);
  assert_int_equal(VixDiskLib_Close(hb), VIX_E_INVALID_ARG);
  assert_int_equal(dt_open_err(base, 0), VIX_OK);
  assert_int_equal(VixDiskLib_GetInfo(hc, &info), VIX_OK);
  assert_int_equal(info->numLinks, 1);
  VixDiskLib_FreeInfo(info);
  assert_int_equal(VixDiskLib_Close(hc), VIX_OK);
  free(m.data);
}

static void test_attach_moved_parent(void **state)
{
  const char *p1 = dt_path("mp1.vmdk"), *p2 = dt_path("mp2.vmdk");
  const char *p3 = dt_path("mp3.vmdk"), *child = dt_path("mpc.vmdk");
  struct model m = {NULL, 16 * GRAIN};
  VixDiskLibHandle hp, hc;
  VixDiskLibInfo *info;

  (void)state;
  m.data = calloc(m.cap, 512);
  dt_create(p1, VIXDISKLIB_DISK_SPLIT_SPARSE, m.cap);
  hp = open_h(p1, 0);
  put(hp, &m, 0, m.cap, 0);
  assert_int_equal(VixDiskLib_CreateChild(hp, child,
                                          VIXDISKLIB_DISK_MONOLITHIC_SPARSE,
                                          NULL, NULL),
                   VIX_OK);
  VixDiskLib_Close(hp);
  /* Rename does not update children: the child's hint is stale */
  assert_int_equal(VixDiskLib_Rename(p1, p2), VIX_OK);
  assert_int_equal(dt_open_err(child, 0), VIX_E_DISK_PARTIALCHAIN);
  /* a read-only child attaches for this handle only */
  hc = open_h(child, VIXDISKLIB_FLAG_OPEN_SINGLE_LINK |
                         VIXDISKLIB_FLAG_OPEN_READ_ONLY);
  hp = open_h(p2, VIXDISKLIB_FLAG_OPEN_READ_ONLY);
  assert_int_equal(VixDiskLib_Attach(hp, hc), VIX_OK);
  same(hc, &m, 0, m.cap);
  VixDiskLib_Close(hc);
  assert_int_equal(dt_open_err(child, 0), VIX_E_DISK_PARTIALCHAIN);
  /* a writable child gets its parentFileNameHint updated */
  hc = open_h(child, VIXDISKLIB_FLAG_OPEN_SINGLE_LINK);
  hp = open_h(p2, VIXDISKLIB_FLAG_OPEN_READ_ONLY);
  assert_int_equal(VixDiskLib_Attach(hp, hc), VIX_OK);
  put(hc, &m, 5, 5, 0);
  VixDiskLib_Close(hc);
  hc = open_h(child, VIXDISKLIB_FLAG_OPEN_READ_ONLY);
  assert_int_equal(VixDiskLib_GetInfo(hc, &info), VIX_OK);
  assert_int_equal(info->numLinks, 2);
  assert_string_equal(info->parentFileNameHint, "mp2.vmdk");
  VixDiskLib_FreeInfo(info);
  same(hc, &m, 0, m.cap);
  VixDiskLib_Close(hc);
  /* chains: attach a child to a parent that was itself attached */
  assert_int_equal(VixDiskLib_Rename(p2, p3), VIX_OK);
  hc = open_h(child, VIXDISKLIB_FLAG_OPEN_SINGLE_LINK |
                         VIXDISKLIB_FLAG_OPEN_READ_ONLY);
  hp = open_h(p3, VIXDISKLIB_FLAG_OPEN_READ_ONLY);
  {
    const char *gc = dt_path("mpgc.vmdk");
    VixDiskLibHandle hg;

    assert_int_equal(VixDiskLib_Attach(hp, hc), VIX_OK);
    assert_int_equal(VixDiskLib_CreateChild(hc, gc,
                                            VIXDISKLIB_DISK_MONOLITHIC_SPARSE,
                                            NULL, NULL),
                     VIX_OK);
    hg = open_h(gc, VIXDISKLIB_FLAG_OPEN_SINGLE_LINK);
    assert_int_equal(VixDiskLib_Attach(hc, hg), VIX_OK);
    assert_int_equal(VixDiskLib_GetInfo(hg, &info), VIX_OK);
    assert_int_equal(info->numLinks, 3);
    VixDiskLib_FreeInfo(info);
    same(hg, &m, 0, m.cap);
    assert_int_equal(VixDiskLib_Close(hc), VIX_E_INVALID_ARG);
    assert_int_equal(VixDiskLib_Close(hg), VIX_OK);
  }
  free(m.data);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_shrink_monolithic),
      cmocka_unit_test(test_shrink_split),
      cmocka_unit_test(test_shrink_refused),
      cmocka_unit_test(test_defragment),
      cmocka_unit_test(test_attach),
      cmocka_unit_test(test_attach_moved_parent),
  };

  return cmocka_run_group_tests(tests, dt_setup, dt_teardown);
}
