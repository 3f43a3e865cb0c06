/*
 * test_disk_stream.c -- writing a streamOptimized disk through
 * VixDiskLib_Create + sequential VixDiskLib_Write, as `freevix backup
 * --format stream` does.
 *
 * The written disk is read back against a model (a seeded plan of
 * unaligned writes, gaps and zero runs, with a partial last grain); a write
 * behind the last one is refused with the specific status and changes
 * nothing; reads wait for the close; a disk that holds data is never
 * written again; a writer that dies before closing leaves a file that is
 * refused on open as not finalised; zero grains are not stored, and an
 * open without writes leaves the file as it was.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "disk/disk.h"
#include "disk_test.h"
#include "seq_write.h"
#include "testutil.h"
#include "vixDiskLib.h"


static VixDiskLibHandle open_h(const char *path, uint32 flags)
{
  VixDiskLibHandle h = NULL;

  assert_int_equal(VixDiskLib_Open(dt_conn, path, flags, &h), VIX_OK);
  return h;
}

/* Reads all of path read-only and compares it with model. */
static void same(const char *path, const uint8_t *model, uint64_t cap)
{
  VixDiskLibHandle h = open_h(path, VIXDISKLIB_FLAG_OPEN_READ_ONLY);
  uint8_t *buf = malloc(4096 * 512);
  uint64_t s;

  assert_non_null(buf);
  for (s = 0; s < cap; s += 4096) {
    uint64_t n = cap - s < 4096 ? cap - s : 4096;

    assert_int_equal(VixDiskLib_Read(h, s, n, buf), VIX_OK);
    if (memcmp(buf, model + s * 512, (size_t)n * 512))
      fail_msg("%s: sectors %llu.. differ from the model", path,
               (unsigned long long)s);
  }
  VixDiskLib_Close(h);
  free(buf);
}

static uint64_t file_size(const char *path)
{
  struct stat sb;

  assert_int_equal(stat(path, &sb), 0);
  return (uint64_t)sb.st_size;
}

static void test_sequential(void **state)
{
  uint64_t caps[] = {150007, 65536, 1};
  size_t i;

  (void)state;
  if (fvx_test_under_valgrind())
    caps[0] = 30007; /* still several tables' worth */
  for (i = 0; i < sizeof caps / sizeof caps[0]; i++) {
    const char *path = dt_path("seq.vmdk");
    uint8_t *model = calloc((size_t)caps[i], 512);
    VixDiskLibHandle h;

    assert_non_null(model);
    unlink(path);
    dt_create(path, VIXDISKLIB_DISK_STREAM_OPTIMIZED, caps[i]);
    h = open_h(path, 0);
    assert_int_equal(seq_write(h, caps[i], (unsigned)i + 1, model), VIX_OK);
    assert_int_equal(VixDiskLib_Flush(h), VIX_OK);
    assert_int_equal(VixDiskLib_Close(h), VIX_OK);
    same(path, model, caps[i]);
    free(model);
  }
}

static void test_backwards(void **state)
{
  const char *path = dt_path("back.vmdk");
  uint8_t buf[20 * 512], got[20 * 512], zero[20 * 512] = {0};
  VixDiskLibHandle h;
  VixDiskLibBlockList *bl = NULL;
  struct disk *d;

  (void)state;
  memset(buf, 0xab, sizeof buf);
  dt_create(path, VIXDISKLIB_DISK_STREAM_OPTIMIZED, 10000);
  h = open_h(path, 0);
  /* reads before the first write see the empty disk */
  assert_int_equal(VixDiskLib_Read(h, 0, 20, got), VIX_OK);
  assert_memory_equal(got, zero, sizeof got);
  assert_int_equal(VixDiskLib_Write(h, 1000, 10, buf), VIX_OK);
  dt_last_line[0] = '\0';
  assert_int_equal(VixDiskLib_Write(h, 500, 10, buf), VIX_E_DISK_NOTSUPPORTED);
  assert_non_null(strstr(dt_last_line, "increasing sector order"));
  assert_int_equal(VixDiskLib_Write(h, 1005, 10, buf),
                   VIX_E_DISK_NOTSUPPORTED);
  assert_int_equal(VixDiskLib_Write(h, 1010, 10, buf + 10 * 512), VIX_OK);
  dt_last_line[0] = '\0';
  assert_int_equal(VixDiskLib_Read(h, 0, 20, got), VIX_E_DISK_NOTSUPPORTED);
  assert_non_null(strstr(dt_last_line, "until it is closed"));
  assert_int_not_equal(VixDiskLib_QueryAllocatedBlocks(h, 0, 10000 / 128 * 128,
                                                       128, &bl),
                       VIX_OK);
  assert_int_equal(VixDiskLib_Close(h), VIX_OK);
  h = open_h(path, VIXDISKLIB_FLAG_OPEN_READ_ONLY);
  assert_int_equal(VixDiskLib_Read(h, 1000, 20, got), VIX_OK);
  assert_memory_equal(got, buf, sizeof got);
  assert_int_equal(VixDiskLib_Read(h, 980, 20, got), VIX_OK);
  assert_memory_equal(got, zero, sizeof got);
  VixDiskLib_Close(h);
  /* the status below the VixError */
  unlink(path);
  dt_create(path, VIXDISKLIB_DISK_STREAM_OPTIMIZED, 10000);
  assert_int_equal(disk_open(&d, path, 0), DISK_OK);
  assert_int_equal(disk_write(d, 300, 1, buf), DISK_OK);
  assert_int_equal(disk_write(d, 299, 1, buf), DISK_E_NOTSEQUENTIAL);
  assert_int_equal(disk_close(d), DISK_OK);
}

static void test_written_disk_refused(void **state)
{
  const char *path = dt_path("full.vmdk");
  uint8_t buf[512 * 8];
  size_t l0, l1;
  char *f0, *f1;
  VixDiskLibHandle h;

  (void)state;
  memset(buf, 0x42, sizeof buf);
  dt_create(path, VIXDISKLIB_DISK_STREAM_OPTIMIZED, 4096);
  h = open_h(path, 0);
  assert_int_equal(VixDiskLib_Write(h, 100, 8, buf), VIX_OK);
  assert_int_equal(VixDiskLib_Close(h), VIX_OK);
  f0 = fvx_test_read_file(path, &l0);
  h = open_h(path, 0);
  dt_last_line[0] = '\0';
  assert_int_equal(VixDiskLib_Write(h, 200, 8, buf), VIX_E_DISK_NOTSUPPORTED);
  assert_non_null(strstr(dt_last_line, "cannot be written in place"));
  assert_int_equal(VixDiskLib_Close(h), VIX_OK);
  f1 = fvx_test_read_file(path, &l1);
  assert_true(l0 == l1 && memcmp(f0, f1, l0) == 0);
  free(f0);
  free(f1);
}

static void test_writer_dies(void **state)
{
  const char *path = dt_path("dead.vmdk");
  uint8_t *buf = malloc(3000 * 512);
  int status;
  pid_t pid;

  (void)state;
  assert_non_null(buf);
  memset(buf, 0x77, 3000 * 512);
  dt_create(path, VIXDISKLIB_DISK_STREAM_OPTIMIZED, 8192);
  fflush(NULL);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    VixDiskLibHandle h = NULL;

    if (VixDiskLib_Open(dt_conn, path, 0, &h) == VIX_OK &&
        VixDiskLib_Write(h, 0, 3000, buf) == VIX_OK)
      (void)VixDiskLib_Flush(h);
    _exit(0); /* no Close: the stream is never finalised */
  }
  assert_int_equal(waitpid(pid, &status, 0), pid);
  free(buf);
  dt_last_line[0] = '\0';
  assert_int_equal(dt_open_err(path, VIXDISKLIB_FLAG_OPEN_READ_ONLY),
                   VIX_E_DISK_INVALIDDISK);
  assert_non_null(strstr(dt_last_line, "not finalised"));
}

static void test_zeros_and_untouched(void **state)
{
  const char *path = dt_path("z.vmdk");
  uint64_t cap = 70000, empty, s;
  uint8_t *zero = calloc(7000, 512), *model = calloc((size_t)cap, 512);
  size_t l0, l1;
  char *f0, *f1;
  VixDiskLibHandle h;

  (void)state;
  assert_true(zero && model);
  dt_create(path, VIXDISKLIB_DISK_STREAM_OPTIMIZED, cap);
  f0 = fvx_test_read_file(path, &l0);
  h = open_h(path, 0);
  assert_int_equal(VixDiskLib_Close(h), VIX_OK);
  f1 = fvx_test_read_file(path, &l1);
  assert_true(l0 == l1 && memcmp(f0, f1, l0) == 0);
  empty = file_size(path);
  h = open_h(path, 0);
  for (s = 0; s < cap; s += 7000)
    assert_int_equal(VixDiskLib_Write(h, s, 7000, zero), VIX_OK);
  assert_int_equal(VixDiskLib_Close(h), VIX_OK);
  assert_int_equal(file_size(path), empty); /* no grain, no table stored */
  same(path, model, cap);
  free(f0);
  free(f1);
  free(zero);
  free(model);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sequential),
      cmocka_unit_test(test_backwards),
      cmocka_unit_test(test_written_disk_refused),
      cmocka_unit_test(test_writer_dies),
      cmocka_unit_test(test_zeros_and_untouched),
  };

  return cmocka_run_group_tests(tests, dt_setup_logged, dt_teardown);
}
