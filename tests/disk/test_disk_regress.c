/*
 * test_disk_regress.c -- regressions seen through the public API: a copied
 * and renamed qemu-img disk is read and written as itself (not as the file
 * its embedded descriptor names), Grow leaves nothing behind when it fails,
 * and a failing call is reported in exactly one log line.
 *
 * The library is initialised with log callbacks that keep every line, so
 * the tests see what a VDDK program's warning callback would see.
 */
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

static VixDiskLibConnection conn;

/* ---- the log callbacks ------------------------------------------------- */

#define LINES 16

static struct {
  char line[LINES][1024];
  int n; /* lines the warning callback got (warnings and errors) */
} warned;

static void on_warn(const char *fmt, va_list ap)
{
  if (warned.n < LINES)
    vsnprintf(warned.line[warned.n], sizeof warned.line[0], fmt, ap);
  warned.n++;
}

static void on_log(const char *fmt, va_list ap)
{
  (void)fmt;
  (void)ap;
}

/* Asserts that exactly one warning/error line was logged since the last
 * call, and that it holds want. */
static void expect_one_line(const char *want)
{
  assert_int_equal(warned.n, 1);
  if (!strstr(warned.line[0], want))
    fail_msg("log line \"%s\" does not name \"%s\"", warned.line[0], want);
  warned.n = 0;
}

/* ---- files ---------------------------------------------------------------- */

static void copy_file(const char *from, const char *to)
{
  size_t len;
  char *data = fvx_test_read_file(from, &len);
  FILE *f = fopen(to, "wb");

  assert_non_null(data);
  assert_non_null(f);
  assert_int_equal(fwrite(data, 1, len, f), len);
  fclose(f);
  free(data);
}

/* True when the two files hold the same bytes. */
static int same_bytes(const char *a, const char *b)
{
  size_t la, lb;
  char *da = fvx_test_read_file(a, &la), *db = fvx_test_read_file(b, &lb);
  int same = da && db && la == lb && memcmp(da, db, la) == 0;

  free(da);
  free(db);
  return same;
}

/* ---- a copied qemu-img disk ------------------------------------------------- */

/* qemu-img's monolithicSparse disk carries its own name in its embedded
 * descriptor ("RW ... SPARSE \"disk.vmdk\"").  A copy renamed w.vmdk must
 * be read, written and locked as w.vmdk; disk.vmdk and a second copy stay
 * as they were, and w.vmdk still works once disk.vmdk is gone. */
static void test_copied_qemu_disk(void **state)
{
  char cmd[9000];
  VixDiskLibHandle h, other;
  uint8 wbuf[8 * 512], rbuf[8 * 512];

  (void)state;
  if (system("qemu-img --version >/dev/null 2>&1") != 0)
    skip();
  snprintf(cmd, sizeof cmd, "qemu-img create -q -f vmdk '%s' 64M",
           dt_path("disk.vmdk"));
  assert_int_equal(system(cmd), 0);
  copy_file(dt_path("disk.vmdk"), dt_path("keep.vmdk"));
  copy_file(dt_path("disk.vmdk"), dt_path("copy.vmdk"));
  assert_int_equal(rename(dt_path("copy.vmdk"), dt_path("w.vmdk")), 0);
  copy_file(dt_path("disk.vmdk"), dt_path("orig.snap"));
  copy_file(dt_path("keep.vmdk"), dt_path("keep.snap"));

  memset(wbuf, 0xa5, sizeof wbuf);
  assert_int_equal(VixDiskLib_Open(conn, dt_path("w.vmdk"), 0, &h), VIX_OK);
  /* the writer lock is on w.vmdk, not on the file its descriptor names */
  assert_int_equal(VixDiskLib_Open(conn, dt_path("w.vmdk"), 0, &other),
                   VIX_E_FILE_ALREADY_LOCKED);
  warned.n = 0;
  assert_int_equal(VixDiskLib_Open(conn, dt_path("disk.vmdk"), 0, &other),
                   VIX_OK);
  assert_int_equal(VixDiskLib_Close(other), VIX_OK);
  assert_int_equal(VixDiskLib_Write(h, 1000, 8, wbuf), VIX_OK);
  assert_int_equal(VixDiskLib_Close(h), VIX_OK);
  assert_true(same_bytes(dt_path("disk.vmdk"), dt_path("orig.snap")));
  assert_true(same_bytes(dt_path("keep.vmdk"), dt_path("keep.snap")));

  /* the written bytes are in the copy */
  assert_int_equal(unlink(dt_path("disk.vmdk")), 0);
  assert_int_equal(VixDiskLib_Open(conn, dt_path("w.vmdk"),
                                   VIXDISKLIB_FLAG_OPEN_READ_ONLY, &h),
                   VIX_OK);
  assert_int_equal(VixDiskLib_Read(h, 1000, 8, rbuf), VIX_OK);
  assert_memory_equal(rbuf, wbuf, sizeof rbuf);
  assert_int_equal(VixDiskLib_Read(h, 1008, 1, rbuf), VIX_OK);
  assert_int_equal(rbuf[0], 0);
  assert_int_equal(VixDiskLib_Close(h), VIX_OK);
  /* ... and qemu-img reads the same file */
  snprintf(cmd, sizeof cmd, "qemu-img check -q -f vmdk '%s'",
           dt_path("w.vmdk"));
  assert_int_equal(system(cmd), 0);
  assert_true(same_bytes(dt_path("keep.vmdk"), dt_path("keep.snap")));
  warned.n = 0;
}

/* ---- Grow ------------------------------------------------------------------ */

#define SPLIT 4192256u /* sectors of a twoGbMaxExtent extent */

/* A twoGbMaxExtentSparse disk grown by two extents, the second of which
 * cannot be created (its name is taken): the first, already made, is
 * removed again, the taken file and the disk are as they were. */
static void test_grow_rollback(void **state)
{
  VixDiskLibCreateParams p;
  VixDiskLibHandle h;
  VixDiskLibInfo *info;

  (void)state;
  memset(&p, 0, sizeof p);
  p.diskType = VIXDISKLIB_DISK_SPLIT_SPARSE;
  p.adapterType = VIXDISKLIB_ADAPTER_SCSI_LSILOGIC;
  p.capacity = 4096;
  assert_int_equal(VixDiskLib_Create(conn, dt_path("g.vmdk"), &p, NULL, NULL),
                   VIX_OK);
  copy_file(dt_path("g.vmdk"), dt_path("g.snap"));
  copy_file(dt_path("g.snap"), dt_path("g-s003.vmdk")); /* in the way */
  warned.n = 0;
  assert_int_equal(VixDiskLib_Grow(conn, dt_path("g.vmdk"), 4096 + SPLIT + 100,
                                   FALSE, NULL, NULL),
                   VIX_E_FILE_ALREADY_EXISTS);
  expect_one_line("g-s003.vmdk");
  assert_int_equal(access(dt_path("g-s002.vmdk"), F_OK), -1);
  assert_true(same_bytes(dt_path("g-s003.vmdk"), dt_path("g.snap")));
  assert_true(same_bytes(dt_path("g.vmdk"), dt_path("g.snap")));
  assert_int_equal(VixDiskLib_Open(conn, dt_path("g.vmdk"), 0, &h), VIX_OK);
  assert_int_equal(VixDiskLib_GetInfo(h, &info), VIX_OK);
  assert_int_equal(info->capacity, 4096);
  VixDiskLib_FreeInfo(info);
  assert_int_equal(VixDiskLib_Close(h), VIX_OK);
  /* with the way clear it grows */
  assert_int_equal(unlink(dt_path("g-s003.vmdk")), 0);
  assert_int_equal(VixDiskLib_Grow(conn, dt_path("g.vmdk"), 4096 + SPLIT + 100,
                                   FALSE, NULL, NULL),
                   VIX_OK);
  assert_int_equal(access(dt_path("g-s003.vmdk"), F_OK), 0);
  assert_int_equal(warned.n, 0);
}

/* ---- one report per failure ------------------------------------------------- */

static void test_open_failure_logged_once(void **state)
{
  VixDiskLibHandle h = NULL;
  char text[512];
  FILE *f;

  (void)state;
  warned.n = 0;
  assert_int_equal(VixDiskLib_Open(conn, dt_path("missing.vmdk"), 0, &h),
                   VIX_E_FILE_NOT_FOUND);
  assert_null(h);
  expect_one_line("missing.vmdk");
  assert_non_null(strstr(warned.line[0], "VixDiskLib_Open"));
  /* a damaged header: the line names the file and the field */
  f = fopen(dt_path("junk.vmdk"), "wb");
  assert_non_null(f);
  memset(text, 0, sizeof text);
  memcpy(text, "KDMV\x09", 5); /* version 9 */
  assert_int_equal(fwrite(text, 1, sizeof text, f), sizeof text);
  fclose(f);
  assert_int_equal(VixDiskLib_Open(conn, dt_path("junk.vmdk"),
                                   VIXDISKLIB_FLAG_OPEN_READ_ONLY, &h),
                   VIX_E_DISK_UNSUPPORTEDDISKVERSION);
  expect_one_line("junk.vmdk");
  assert_non_null(strstr(warned.line[0], "version 9"));
  /* a missing parent: the line names the parent */
  snprintf(text, sizeof text,
           "CID=0000000a\nparentCID=0000000b\n"
           "parentFileNameHint=\"gone.vmdk\"\ncreateType=\"custom\"\nRW 8 ZERO\n");
  f = fopen(dt_path("orphan.vmdk"), "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
  fclose(f);
  assert_int_equal(VixDiskLib_Open(conn, dt_path("orphan.vmdk"),
                                   VIXDISKLIB_FLAG_OPEN_READ_ONLY, &h),
                   VIX_E_DISK_PARTIALCHAIN);
  expect_one_line("gone.vmdk");
  /* a probe that finds nothing is not a warning */
  assert_int_equal(VixDiskLib_Open(conn, dt_path("orphan.vmdk"),
                                   VIXDISKLIB_FLAG_OPEN_READ_ONLY |
                                       VIXDISKLIB_FLAG_OPEN_SINGLE_LINK,
                                   &h),
                   VIX_OK);
  assert_int_equal(VixDiskLib_ReadMetadata(h, "nokey", text, sizeof text,
                                           NULL),
                   VIX_E_DISK_KEY_NOTFOUND);
  assert_int_equal(VixDiskLib_Close(h), VIX_OK);
  assert_int_equal(warned.n, 0);
}

static int setup(void **state)
{
  dt_dir_setup(state);
  if (VixDiskLib_InitEx(8, 0, on_log, on_warn, on_warn, NULL, NULL) !=
          VIX_OK ||
      VixDiskLib_Connect(NULL, &conn) != VIX_OK)
    return -1;
  return 0;
}

static int teardown(void **state)
{
  VixDiskLib_Disconnect(conn);
  VixDiskLib_Exit();
  return dt_dir_teardown(state);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_copied_qemu_disk),
      cmocka_unit_test(test_grow_rollback),
      cmocka_unit_test(test_open_failure_logged_once),
  };

  return cmocka_run_group_tests(tests, setup, teardown);
}
