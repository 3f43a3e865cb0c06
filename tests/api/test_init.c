/*
 * test_init.c -- InitEx / Init / Exit: version range, callbacks, the config
 * file, and calls outside the initialized window.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"
#include "vixDiskLib.h"

static char log_text[8192];
static char warn_text[8192];

static void append(char *dst, const char *fmt, va_list ap)
{
  size_t len = strlen(dst);

  vsnprintf(dst + len, 8192 - len, fmt, ap);
  len = strlen(dst);
  if (len + 1 < 8192) {
    dst[len] = '\n';
    dst[len + 1] = '\0';
  }
}

static void log_fn(const char *fmt, va_list ap)
{
  append(log_text, fmt, ap);
}

static void warn_fn(const char *fmt, va_list ap)
{
  append(warn_text, fmt, ap);
}

static void panic_fn(const char *fmt, va_list ap)
{
  (void)fmt;
  (void)ap;
  fail_msg("panic callback called");
}

static void clear_logs(void)
{
  log_text[0] = warn_text[0] = '\0';
}

static VixError init(uint32 major, uint32 minor, const char *config)
{
  clear_logs();
  return VixDiskLib_InitEx(major, minor, log_fn, warn_fn, panic_fn, NULL,
                           config);
}

static void calls_before_init_fail(void **state)
{
  VixDiskLibConnection conn = NULL;

  (void)state;
  assert_int_equal(VixDiskLib_Connect(NULL, &conn), VIX_E_DISK_NOINIT);
  assert_null(conn);
  VixDiskLib_Exit(); /* harmless */
}

static void version_range(void **state)
{
  static const uint32 ok[][2] = {{5, 0}, {5, 5}, {6, 5}, {6, 7}, {7, 0},
                                 {8, 0}, {8, 3}};
  static const uint32 bad[][2] = {{0, 0}, {4, 9}, {9, 0}, {10, 0}};

  (void)state;
  for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
    assert_int_equal(init(ok[i][0], ok[i][1], NULL), VIX_OK);
    VixDiskLib_Exit();
  }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    assert_int_equal(init(bad[i][0], bad[i][1], NULL), VIX_E_NOT_SUPPORTED);
    assert_non_null(strstr(warn_text, "is not supported"));
  }
}

static void init_twice_and_init_alias(void **state)
{
  (void)state;
  assert_int_equal(init(8, 0, NULL), VIX_OK);
  assert_int_equal(init(8, 0, NULL), VIX_OK);
  VixDiskLib_Exit();
  assert_int_equal(VixDiskLib_Init(6, 5, NULL, NULL, NULL, NULL), VIX_OK);
  VixDiskLib_Exit();
}

static char *write_config(const char *dir, const char *text)
{
  static char path[4200];
  FILE *f;

  snprintf(path, sizeof path, "%s/vddk.conf", dir);
  f = fopen(path, "w");
  assert_non_null(f);
  fputs(text, f);
  fclose(f);
  return path;
}

static void config_file(void **state)
{
  const char *dir = fvx_test_tmpdir();
  char *path;

  (void)state;
  path = write_config(dir,
                      "# VDDK settings\n"
                      "tmpDirectory = \"/tmp\"\n"
                      "vixDiskLib.transport.LogLevel = \"4\"\n"
                      "\n"
                      "freevix.timeoutMs = \"5000\"\n"
                      "someVendor.option = \"x\"\n");
  assert_int_equal(init(8, 0, path), VIX_OK);
  assert_non_null(strstr(log_text, "unknown key \"someVendor.option\""));
  VixDiskLib_Exit();

  path = write_config(dir, "tmpDirectory = \"/tmp\"\nfreevix.timeoutMs 5\n");
  assert_int_equal(init(8, 0, path), VIX_E_INVALID_ARG);
  assert_non_null(strstr(warn_text, "line 2 is malformed"));

  path = write_config(dir, "freevix.timeoutMs = \"soon\"\n");
  assert_int_equal(init(8, 0, path), VIX_E_INVALID_ARG);
  assert_non_null(strstr(warn_text, "freevix.timeoutMs"));

  assert_int_equal(init(8, 0, "/nonexistent/vddk.conf"), VIX_E_FILE_NOT_FOUND);
  fvx_test_rmtree(dir);
}

/* "freevix.debug" lasts until Exit: the next InitEx without it sends no
 * debug lines (every API call is traced at debug level). */
static void debug_level_ends_with_exit(void **state)
{
  const char *dir = fvx_test_tmpdir();
  VixDiskLibConnection conn = NULL;

  (void)state;
  unsetenv("FREEVIX_DEBUG");
  assert_int_equal(init(8, 0, write_config(dir, "freevix.debug = \"1\"\n")),
                   VIX_OK);
  assert_int_equal(VixDiskLib_Connect(NULL, &conn), VIX_OK);
  assert_non_null(strstr(log_text, "VixDiskLib_ConnectEx("));
  assert_int_equal(VixDiskLib_Disconnect(conn), VIX_OK);
  VixDiskLib_Exit();

  assert_int_equal(init(8, 0, NULL), VIX_OK);
  assert_int_equal(VixDiskLib_Connect(NULL, &conn), VIX_OK);
  assert_null(strstr(log_text, "VixDiskLib_ConnectEx("));
  assert_int_equal(VixDiskLib_Disconnect(conn), VIX_OK);
  VixDiskLib_Exit();
  fvx_test_rmtree(dir);
}

/* A setting the access layer cannot use fails InitEx with the setting's
 * own code and name, not as "out of memory". */
static void unusable_ca_file_is_named(void **state)
{
  const char *dir = fvx_test_tmpdir();

  (void)state;
  assert_int_equal(init(8, 0, write_config(dir, "freevix.caFile = "
                                                "\"/nonexistent/ca.pem\"\n")),
                   VIX_E_INVALID_ARG);
  assert_non_null(strstr(warn_text, "freevix.caFile /nonexistent/ca.pem"));
  assert_non_null(strstr(warn_text, "No such file"));
  /* Nothing half-initialized is left behind. */
  assert_int_equal(init(8, 0, NULL), VIX_OK);
  VixDiskLib_Exit();
  fvx_test_rmtree(dir);
}

static void calls_after_exit_fail(void **state)
{
  VixDiskLibConnection conn = NULL;

  (void)state;
  assert_int_equal(init(8, 0, NULL), VIX_OK);
  assert_int_equal(VixDiskLib_Connect(NULL, &conn), VIX_OK);
  assert_int_equal(VixDiskLib_Disconnect(conn), VIX_OK);
  VixDiskLib_Exit();
  conn = NULL;
  assert_int_equal(VixDiskLib_Connect(NULL, &conn), VIX_E_DISK_NOINIT);
  assert_null(conn);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(calls_before_init_fail),
    cmocka_unit_test(version_range),
    cmocka_unit_test(init_twice_and_init_alias),
    cmocka_unit_test(config_file),
    cmocka_unit_test(debug_level_ends_with_exit),
    cmocka_unit_test(unusable_ca_file_is_named),
    cmocka_unit_test(calls_after_exit_fail),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
