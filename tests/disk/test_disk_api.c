/*
 * test_disk_api.c -- the local disk API as a VDDK user sees it: nbdkit's
 * call sequence, locking, metadata, chains and CIDs, conversions, and the
 * specific VIX_E_DISK_* errors for damaged or hostile input.
 */
#include <endian.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "disk_test.h"
#include "testutil.h"
#include "vixDiskLib.h"

static void write_file(const char *path, const void *data, size_t len)
{
  FILE *f = fopen(path, "wb");

  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  fclose(f);
}

static void poke32(const char *path, uint64_t off, uint32_t v)
{
  int fd = open(path, O_WRONLY);

  v = htole32(v);
  assert_true(fd >= 0);
  assert_int_equal(pwrite(fd, &v, 4, (off_t)off), 4);
  close(fd);
}

static uint64_t peek64(const char *path, uint64_t off)
{
  int fd = open(path, O_RDONLY);
  uint64_t v = 0;

  assert_true(fd >= 0);
  assert_int_equal(pread(fd, &v, 8, (off_t)off), 8);
  close(fd);
  return le64toh(v);
}

/* ---- nbdkit --------------------------------------------------------------- */

struct done {
  int calls;
  VixError result;
};

static void completion(void *data, VixError result)
{
  struct done *d = data;

  d->calls++;
  d->result = result;
}

static void test_nbdkit_sequence(void **state)
{
  VixDiskLibConnectParams *params = VixDiskLib_AllocateConnectParams();
  VixDiskLibConnection c;
  VixDiskLibCreateParams cp;
  VixDiskLibHandle h;
  VixDiskLibInfo *info;
  VixDiskLibBlockList *bl;
  const char *path = dt_path("nbdkit.vmdk");
  uint8 wbuf[4096], rbuf[4096];
  struct done d = {0, 1};
  uint64_t cap = 10000; /* not a multiple of 128 */

  (void)state;
  assert_non_null(params);
  assert_int_equal(VixDiskLib_ConnectEx(params, FALSE, NULL, NULL, &c),
                   VIX_OK);
  memset(&cp, 0, sizeof cp);
  cp.diskType = VIXDISKLIB_DISK_MONOLITHIC_SPARSE;
  cp.adapterType = VIXDISKLIB_ADAPTER_SCSI_BUSLOGIC;
  cp.hwVersion = VIXDISKLIB_HWVERSION_WORKSTATION_5;
  cp.capacity = cap;
  assert_int_equal(VixDiskLib_Create(c, path, &cp, NULL, NULL), VIX_OK);
  assert_int_equal(VixDiskLib_Open(c, path,
                                   VIXDISKLIB_FLAG_OPEN_SINGLE_LINK |
                                       VIXDISKLIB_FLAG_OPEN_UNBUFFERED,
                                   &h),
                   VIX_OK);
  assert_string_equal(VixDiskLib_GetTransportMode(h), "file");
  assert_int_equal(VixDiskLib_GetInfo(h, &info), VIX_OK);
  assert_int_equal(info->capacity, cap);
  assert_int_equal(info->logicalSectorSize, 512);
  assert_int_equal(info->physicalSectorSize, 512);
  assert_int_equal(info->adapterType, VIXDISKLIB_ADAPTER_SCSI_BUSLOGIC);
  assert_int_equal(info->numLinks, 1);
  assert_null(info->parentFileNameHint);
  assert_non_null(info->uuid);
  VixDiskLib_FreeInfo(info);
  /* can_extents probe */
  assert_int_equal(VixDiskLib_QueryAllocatedBlocks(h, 0, 128, 128, &bl),
                   VIX_OK);
  assert_int_equal(bl->numBlocks, 0);
  assert_int_equal(VixDiskLib_FreeBlockList(bl), VIX_OK);
  /* pwrite through WriteAsync: completes before returning */
  memset(wbuf, 0xab, sizeof wbuf);
  assert_int_equal(VixDiskLib_WriteAsync(h, 9990, 8, wbuf, completion, &d),
                   VIX_ASYNC);
  assert_int_equal(d.calls, 1);
  assert_int_equal(d.result, VIX_OK);
  assert_int_equal(VixDiskLib_Wait(h), VIX_OK);
  assert_int_equal(VixDiskLib_ReadAsync(h, 9990, 8, rbuf, completion, &d),
                   VIX_ASYNC);
  assert_int_equal(d.calls, 2);
  assert_memory_equal(rbuf, wbuf, sizeof wbuf);
  /* the last extents query runs past the capacity: clipped */
  assert_int_equal(VixDiskLib_QueryAllocatedBlocks(h, 9984, 128, 128, &bl),
                   VIX_OK);
  assert_int_equal(bl->numBlocks, 1);
  assert_int_equal(bl->blocks[0].offset, 9984);
  assert_int_equal(bl->blocks[0].length, cap - 9984);
  VixDiskLib_FreeBlockList(bl);
  assert_int_equal(VixDiskLib_QueryAllocatedBlocks(h, 0, 10112, 128, &bl),
                   VIX_OK);
  assert_int_equal(bl->numBlocks, 1);
  VixDiskLib_FreeBlockList(bl);
  /* out-of-range async: error returned, callback not called */
  assert_int_equal(VixDiskLib_ReadAsync(h, cap, 1, rbuf, completion, &d),
                   VIX_E_DISK_OUTOFRANGE);
  assert_int_equal(d.calls, 2);
  /* flush: Wait then Flush; close: Wait, Close, Disconnect */
  assert_int_equal(VixDiskLib_Wait(h), VIX_OK);
  assert_int_equal(VixDiskLib_Flush(h), VIX_OK);
  assert_int_equal(VixDiskLib_Wait(h), VIX_OK);
  assert_int_equal(VixDiskLib_Close(h), VIX_OK);
  assert_int_equal(VixDiskLib_Disconnect(c), VIX_OK);
  VixDiskLib_FreeConnectParams(params);
}

/* ---- arguments, locks, metadata ------------------------------------------ */

static void test_arguments(void **state)
{
  const char *path = dt_path("args.vmdk");
  VixDiskLibHandle h;
  uint8 buf[512];
  VixDiskLibBlockList *bl;

  (void)state;
  dt_create(path, VIXDISKLIB_DISK_MONOLITHIC_SPARSE, 2048);
  assert_int_equal(dt_open_err("relative.vmdk", 0), VIX_E_FILE_NAME_INVALID);
  assert_int_equal(dt_open_err(dt_path("missing.vmdk"), 0), VIX_E_FILE_NOT_FOUND);
  assert_int_equal(VixDiskLib_Open(dt_conn, path, 0x8000, &h), VIX_E_INVALID_ARG);
  assert_int_equal(VixDiskLib_Open(NULL, path, 0, &h), VIX_E_INVALID_ARG);
  assert_int_equal(VixDiskLib_Read(NULL, 0, 1, buf), VIX_E_INVALID_ARG);
  assert_int_equal(VixDiskLib_Open(dt_conn, path, 0, &h), VIX_OK);
  assert_int_equal(VixDiskLib_Read(h, 2048, 1, buf), VIX_E_DISK_OUTOFRANGE);
  assert_int_equal(VixDiskLib_Read(h, UINT64_MAX, 2, buf),
                   VIX_E_DISK_OUTOFRANGE);
  assert_int_equal(VixDiskLib_Read(h, 0, 1, NULL), VIX_E_INVALID_ARG);
  assert_int_equal(VixDiskLib_QueryAllocatedBlocks(h, 0, 128, 64, &bl),
                   VIX_E_INVALID_ARG);
  assert_int_equal(VixDiskLib_QueryAllocatedBlocks(h, 64, 128, 128, &bl),
                   VIX_E_INVALID_ARG);
  assert_int_equal(VixDiskLib_Close(h), VIX_OK);
  dt_create(dt_path("exists.vmdk"), VIXDISKLIB_DISK_MONOLITHIC_FLAT, 2048);
  {
    VixDiskLibCreateParams p;

    memset(&p, 0, sizeof p);
    p.diskType = VIXDISKLIB_DISK_MONOLITHIC_FLAT;
    p.adapterType = VIXDISKLIB_ADAPTER_IDE;
    p.capacity = 2048;
    assert_int_equal(VixDiskLib_Create(dt_conn, dt_path("exists.vmdk"), &p,
                                       NULL, NULL),
                     VIX_E_FILE_ALREADY_EXISTS);
    p.capacity = 0;
    assert_int_equal(VixDiskLib_Create(dt_conn, dt_path("zero.vmdk"), &p, NULL,
                                       NULL),
                     VIX_E_INVALID_ARG);
  }
}

static void test_locking(void **state)
{
  const char *path = dt_path("lock.vmdk");
  VixDiskLibHandle w, r1, r2;

  (void)state;
  dt_create(path, VIXDISKLIB_DISK_MONOLITHIC_SPARSE, 2048);
  assert_int_equal(VixDiskLib_Open(dt_conn, path, 0, &w), VIX_OK);
  assert_int_equal(dt_open_err(path, 0), VIX_E_FILE_ALREADY_LOCKED);
  assert_int_equal(VixDiskLib_Unlink(dt_conn, path), VIX_E_FILE_ALREADY_LOCKED);
  assert_int_equal(VixDiskLib_Open(dt_conn, path,
                                   VIXDISKLIB_FLAG_OPEN_READ_ONLY, &r1),
                   VIX_OK);
  assert_int_equal(VixDiskLib_Open(dt_conn, path,
                                   VIXDISKLIB_FLAG_OPEN_READ_ONLY, &r2),
                   VIX_OK);
  assert_int_equal(VixDiskLib_Close(w), VIX_OK);
  assert_int_equal(dt_open_err(path, 0), VIX_OK); /* lock released */
  VixDiskLib_Close(r1);
  VixDiskLib_Close(r2);
}

static void test_metadata(void **state)
{
  const char *path = dt_path("meta.vmdk");
  VixDiskLibHandle h;
  size_t need = 0;
  char *keys, buf[64];
  int found = 0;
  const char *k;

  (void)state;
  dt_create(path, VIXDISKLIB_DISK_MONOLITHIC_SPARSE, 2048);
  assert_int_equal(VixDiskLib_Open(dt_conn, path, 0, &h), VIX_OK);
  assert_int_equal(VixDiskLib_GetMetadataKeys(h, NULL, 0, &need),
                   VIX_E_BUFFER_TOOSMALL);
  assert_true(need > 1);
  keys = malloc(need);
  assert_int_equal(VixDiskLib_GetMetadataKeys(h, keys, need - 1, NULL),
                   VIX_E_BUFFER_TOOSMALL);
  assert_int_equal(VixDiskLib_GetMetadataKeys(h, keys, need, &need), VIX_OK);
  for (k = keys; *k; k += strlen(k) + 1)
    found += strcmp(k, "adapterType") == 0;
  assert_int_equal(found, 1);
  assert_int_equal((size_t)(k - keys) + 1, need);
  free(keys);
  assert_int_equal(VixDiskLib_ReadMetadata(h, "adapterType", NULL, 0, &need),
                   VIX_E_BUFFER_TOOSMALL);
  assert_int_equal(need, strlen("buslogic") + 1);
  assert_int_equal(VixDiskLib_ReadMetadata(h, "adapterType", buf, need, NULL),
                   VIX_OK);
  assert_string_equal(buf, "buslogic");
  assert_int_equal(VixDiskLib_ReadMetadata(h, "nope", buf, sizeof buf, &need),
                   VIX_E_DISK_KEY_NOTFOUND);
  assert_int_equal(VixDiskLib_WriteMetadata(h, "freevix.test", "hello world"),
                   VIX_OK);
  assert_int_equal(VixDiskLib_WriteMetadata(h, "bad key", "x"),
                   VIX_E_INVALID_ARG);
  assert_int_equal(VixDiskLib_WriteMetadata(h, "k", "quote\"inside"),
                   VIX_E_INVALID_ARG);
  assert_int_equal(VixDiskLib_Close(h), VIX_OK);
  assert_int_equal(VixDiskLib_Open(dt_conn, path, VIXDISKLIB_FLAG_OPEN_READ_ONLY,
                                   &h),
                   VIX_OK);
  assert_int_equal(VixDiskLib_ReadMetadata(h, "ddb.freevix.test", buf,
                                           sizeof buf, NULL),
                   VIX_OK);
  assert_string_equal(buf, "hello world");
  assert_int_equal(VixDiskLib_WriteMetadata(h, "x", "y"),
                   VIX_E_FILE_READ_ONLY);
  VixDiskLib_Close(h);
}

/* ---- chains, clone, manage -------------------------------------------------- */

static void fill(VixDiskLibHandle h, uint64_t s, uint64_t n, uint8 v)
{
  uint8 *b = malloc(n * 512);

  memset(b, v, n * 512);
  assert_int_equal(VixDiskLib_Write(h, s, n, b), VIX_OK);
  free(b);
}

static void expect(VixDiskLibHandle h, uint64_t s, uint64_t n, uint8 v)
{
  uint8 *b = malloc(n * 512), *e = malloc(n * 512);

  memset(e, v, n * 512);
  int same;

  assert_int_equal(VixDiskLib_Read(h, s, n, b), VIX_OK);
  same = memcmp(b, e, n * 512) == 0;
  free(b);
  free(e);
  assert_true(same);
}

static void test_chain(void **state)
{
  const char *base = dt_path("cb.vmdk"), *child = dt_path("cc.vmdk");
  VixDiskLibHandle h;
  VixDiskLibInfo *info;

  (void)state;
  dt_create(base, VIXDISKLIB_DISK_SPLIT_SPARSE, 4096);
  assert_int_equal(VixDiskLib_Open(dt_conn, base, 0, &h), VIX_OK);
  fill(h, 0, 300, 0x11);
  assert_int_equal(VixDiskLib_CreateChild(h, child,
                                          VIXDISKLIB_DISK_MONOLITHIC_SPARSE,
                                          NULL, NULL),
                   VIX_OK);
  assert_int_equal(VixDiskLib_Close(h), VIX_OK);
  assert_int_equal(VixDiskLib_Open(dt_conn, child, 0, &h), VIX_OK);
  assert_int_equal(VixDiskLib_GetInfo(h, &info), VIX_OK);
  assert_int_equal(info->numLinks, 2);
  assert_string_equal(info->parentFileNameHint, "cb.vmdk");
  VixDiskLib_FreeInfo(info);
  expect(h, 0, 300, 0x11);
  fill(h, 100, 10, 0x22); /* partial grain: the rest comes from the parent */
  expect(h, 0, 100, 0x11);
  expect(h, 100, 10, 0x22);
  expect(h, 110, 190, 0x11);
  assert_int_equal(VixDiskLib_Close(h), VIX_OK);
  /* single link: holes read as zeros */
  assert_int_equal(VixDiskLib_Open(dt_conn, child,
                                   VIXDISKLIB_FLAG_OPEN_SINGLE_LINK |
                                       VIXDISKLIB_FLAG_OPEN_READ_ONLY,
                                   &h),
                   VIX_OK);
  expect(h, 0, 100, 0x11); /* copied up with the partial write */
  expect(h, 100, 10, 0x22);
  expect(h, 128, 128, 0); /* a grain the child never wrote */
  VixDiskLib_Close(h);
  /* the parent changes: CID mismatch unless SINGLE_LINK */
  assert_int_equal(VixDiskLib_Open(dt_conn, base, 0, &h), VIX_OK);
  fill(h, 2000, 1, 0x33);
  VixDiskLib_Close(h);
  assert_int_equal(dt_open_err(child, VIXDISKLIB_FLAG_OPEN_READ_ONLY),
                   VIX_E_DISK_CID_MISMATCH);
  assert_int_equal(dt_open_err(child, VIXDISKLIB_FLAG_OPEN_SINGLE_LINK), VIX_OK);
  /* the parent is gone */
  assert_int_equal(VixDiskLib_Unlink(dt_conn, base), VIX_OK);
  assert_int_equal(dt_open_err(child, 0), VIX_E_DISK_PARTIALCHAIN);
}

static void test_clone_rename(void **state)
{
  const char *src = dt_path("src.vmdk"), *st = dt_path("st.vmdk");
  const char *fl = dt_path("fl.vmdk"), *mv = dt_path("moved.vmdk");
  VixDiskLibCreateParams p;
  VixDiskLibHandle h;
  uint64 need = 0;
  uint8 buf[512];

  (void)state;
  dt_create(src, VIXDISKLIB_DISK_MONOLITHIC_SPARSE, 8192);
  assert_int_equal(VixDiskLib_Open(dt_conn, src, 0, &h), VIX_OK);
  fill(h, 1000, 500, 0x44);
  fill(h, 8000, 192, 0x55);
  assert_int_equal(VixDiskLib_SpaceNeededForClone(h, VIXDISKLIB_DISK_UNKNOWN,
                                                  &need),
                   VIX_OK);
  assert_true(need >= 692 * 512);
  VixDiskLib_Close(h);
  memset(&p, 0, sizeof p);
  p.diskType = VIXDISKLIB_DISK_STREAM_OPTIMIZED;
  p.adapterType = VIXDISKLIB_ADAPTER_IDE;
  assert_int_equal(VixDiskLib_Clone(dt_conn, st, dt_conn, src, &p, NULL, NULL,
                                    FALSE),
                   VIX_OK);
  assert_int_equal(VixDiskLib_Clone(dt_conn, st, dt_conn, src, &p, NULL, NULL,
                                    FALSE),
                   VIX_E_FILE_ALREADY_EXISTS);
  p.diskType = VIXDISKLIB_DISK_SPLIT_FLAT;
  assert_int_equal(VixDiskLib_Clone(dt_conn, fl, dt_conn, st, &p, NULL, NULL,
                                    FALSE),
                   VIX_OK);
  assert_int_equal(VixDiskLib_Open(dt_conn, st, 0, &h), VIX_OK);
  expect(h, 1000, 500, 0x44);
  memset(buf, 1, sizeof buf);
  assert_int_equal(VixDiskLib_Write(h, 0, 1, buf), VIX_E_DISK_NOTSUPPORTED);
  VixDiskLib_Close(h);
  assert_int_equal(VixDiskLib_Rename(fl, mv), VIX_OK);
  assert_int_equal(access(fl, F_OK), -1);
  assert_int_equal(VixDiskLib_Open(dt_conn, mv, VIXDISKLIB_FLAG_OPEN_READ_ONLY,
                                   &h),
                   VIX_OK);
  expect(h, 999, 1, 0);
  expect(h, 1000, 500, 0x44);
  expect(h, 8000, 192, 0x55);
  VixDiskLib_Close(h);
  assert_int_equal(VixDiskLib_Unlink(dt_conn, mv), VIX_OK);
  assert_int_equal(access(mv, F_OK), -1);
  assert_int_equal(access(dt_path("moved-f001.vmdk"), F_OK), -1);
}

/* ---- hostile input ---------------------------------------------------------- */

static void test_corrupt_sparse(void **state)
{
  const char *path = dt_path("bad.vmdk");
  uint8 hdr[512];
  VixDiskLibHandle h;
  uint8 buf[512];
  uint64_t gd;
  int fd;

  (void)state;
  /* truncated header */
  memset(hdr, 0, sizeof hdr);
  memcpy(hdr, "KDMV", 4);
  write_file(path, hdr, 100);
  assert_int_equal(dt_open_err(path, 0), VIX_E_DISK_INVALIDDISK);
  /* bad fields of a real header */
  unlink(path);
  dt_create(path, VIXDISKLIB_DISK_MONOLITHIC_SPARSE, 2 * 65536);
  poke32(path, 20, 3); /* grain size 3 */
  assert_int_equal(dt_open_err(path, 0), VIX_E_DISK_INVALIDDISK);
  poke32(path, 20, 128);
  poke32(path, 4, 9); /* version */
  assert_int_equal(dt_open_err(path, 0), VIX_E_DISK_UNSUPPORTEDDISKVERSION);
  poke32(path, 4, 1);
  poke32(path, 16, 0x40000000); /* capacity 2^62 sectors: beyond 2^64 B */
  assert_int_equal(dt_open_err(path, 0), VIX_E_DISK_INVALIDDISK);
  poke32(path, 16, 0);
  assert_int_equal(dt_open_err(path, 0), VIX_OK);
  /* grain directory entries past the end, and two entries sharing a table */
  gd = peek64(path, 56);
  poke32(path, gd * 512, 0x7fffff00);
  assert_int_equal(dt_open_err(path, 0), VIX_E_DISK_NEEDSREPAIR);
  fd = open(path, O_RDONLY);
  {
    uint32_t e1;

    assert_int_equal(pread(fd, &e1, 4, (off_t)(gd * 512 + 4)), 4);
    poke32(path, gd * 512, le32toh(e1));
  }
  close(fd);
  assert_int_equal(dt_open_err(path, 0), VIX_E_DISK_NEEDSREPAIR);
  assert_int_equal(VixDiskLib_CheckRepair(dt_conn, path, FALSE),
                   VIX_E_DISK_NEEDSREPAIR);
  unlink(path);
  /* a grain-table entry past the end: reads fail, CheckRepair fixes */
  dt_create(path, VIXDISKLIB_DISK_MONOLITHIC_SPARSE, 2048);
  gd = peek64(path, 56);
  {
    uint32_t gt;

    fd = open(path, O_RDONLY);
    assert_int_equal(pread(fd, &gt, 4, (off_t)(gd * 512)), 4);
    close(fd);
    poke32(path, (uint64_t)le32toh(gt) * 512 + 4, 0x00ffffff);
  }
  assert_int_equal(VixDiskLib_Open(dt_conn, path, 0, &h), VIX_OK);
  assert_int_equal(VixDiskLib_Read(h, 128, 1, buf), VIX_E_DISK_NEEDSREPAIR);
  VixDiskLib_Close(h);
  assert_int_equal(VixDiskLib_CheckRepair(dt_conn, path, FALSE),
                   VIX_E_DISK_NEEDSREPAIR);
  assert_int_equal(VixDiskLib_CheckRepair(dt_conn, path, TRUE), VIX_OK);
  assert_int_equal(VixDiskLib_CheckRepair(dt_conn, path, FALSE), VIX_OK);
  assert_int_equal(VixDiskLib_Open(dt_conn, path, 0, &h), VIX_OK);
  expect(h, 128, 1, 0);
  VixDiskLib_Close(h);
}

static void test_bad_descriptors(void **state)
{
  const char *path = dt_path("d.vmdk");
  static const char *const bad[] = {
      /* injected line */
      "# Disk DescriptorFile\nCID=1\nparentCID=ffffffff\n"
      "createType=\"monolithicFlat\"\nRW 100 ZERO\nrm -rf /\n",
      /* absurd extents: the sum passes 2^64 bytes */
      "CID=1\ncreateType=\"monolithicFlat\"\nRW 36028797018963967 ZERO\n"
      "RW 36028797018963967 ZERO\n",
      /* duplicate CID */
      "CID=1\nCID=2\ncreateType=\"monolithicFlat\"\nRW 100 ZERO\n",
      /* no extents */
      "CID=1\ncreateType=\"monolithicFlat\"\n",
      /* control character */
      "CID=1\ncreateType=\"mono\001\"\nRW 100 ZERO\n",
      /* unbalanced quote */
      "CID=1\ncreateType=\"monolithicFlat\nRW 100 ZERO\n",
      /* offset on a sparse extent */
      "CID=1\ncreateType=\"custom\"\nRW 100 SPARSE \"a.vmdk\" 5\n",
  };
  size_t i;

  (void)state;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    write_file(path, bad[i], strlen(bad[i]));
    assert_int_equal(dt_open_err(path, VIXDISKLIB_FLAG_OPEN_READ_ONLY),
                     VIX_E_DISK_INVAL);
  }
  /* binary junk after a NUL */
  write_file(path, "CID=1\ncreateType=\"custom\"\nRW 8 ZERO\n\0junk", 41);
  assert_int_equal(dt_open_err(path, VIXDISKLIB_FLAG_OPEN_READ_ONLY),
                   VIX_E_DISK_INVAL);
  /* a valid zero-extent descriptor opens */
  write_file(path, "CID=1\ncreateType=\"custom\"\nRW 8 ZERO\n", 36);
  assert_int_equal(dt_open_err(path, VIXDISKLIB_FLAG_OPEN_READ_ONLY), VIX_OK);
}

static void test_bad_chains(void **state)
{
  char text[512];
  int i;

  (void)state;
  /* a loop: a -> b -> a, CIDs consistent */
  snprintf(text, sizeof text, "CID=0000000a\nparentCID=0000000b\n"
           "parentFileNameHint=\"loopb.vmdk\"\ncreateType=\"custom\"\nRW 8 ZERO\n");
  write_file(dt_path("loopa.vmdk"), text, strlen(text));
  snprintf(text, sizeof text, "CID=0000000b\nparentCID=0000000a\n"
           "parentFileNameHint=\"loopa.vmdk\"\ncreateType=\"custom\"\nRW 8 ZERO\n");
  write_file(dt_path("loopb.vmdk"), text, strlen(text));
  assert_int_equal(dt_open_err(dt_path("loopa.vmdk"),
                            VIXDISKLIB_FLAG_OPEN_READ_ONLY),
                   VIX_E_DISK_INVALIDCHAIN);
  /* 70 links: too many */
  for (i = 0; i < 70; i++) {
    char name[32];

    snprintf(name, sizeof name, "deep%d.vmdk", i);
    if (i < 69)
      snprintf(text, sizeof text, "CID=%08x\nparentCID=%08x\n"
               "parentFileNameHint=\"deep%d.vmdk\"\ncreateType=\"custom\"\n"
               "RW 8 ZERO\n", i, i + 1, i + 1);
    else
      snprintf(text, sizeof text, "CID=%08x\ncreateType=\"custom\"\nRW 8 ZERO\n",
               i);
    write_file(dt_path(name), text, strlen(text));
  }
  assert_int_equal(dt_open_err(dt_path("deep0.vmdk"),
                            VIXDISKLIB_FLAG_OPEN_READ_ONLY),
                   VIX_E_DISK_TOOMANYREDO);
  assert_int_equal(dt_open_err(dt_path("deep10.vmdk"),
                            VIXDISKLIB_FLAG_OPEN_READ_ONLY),
                   VIX_OK);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_nbdkit_sequence),
      cmocka_unit_test(test_arguments),
      cmocka_unit_test(test_locking),
      cmocka_unit_test(test_metadata),
      cmocka_unit_test(test_chain),
      cmocka_unit_test(test_clone_rename),
      cmocka_unit_test(test_corrupt_sparse),
      cmocka_unit_test(test_bad_descriptors),
      cmocka_unit_test(test_bad_chains),
  };

  return cmocka_run_group_tests(tests, dt_setup, dt_teardown);
}
