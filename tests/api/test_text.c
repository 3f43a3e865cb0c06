/* test_text.c -- UTF-8 checks, bounded copies and XML escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "util/buf.h"
#include "util/text.h"

static void utf8(void **state)
{
  static const char *const good[] = {"", "abc", "\xC3\xA9", "\xE2\x82\xAC",
                                     "\xF0\x9F\x98\x80", "\xEF\xBF\xBF"};
  static const char *const bad[] = {"\x80", "\xC0\xAF", "\xC3", "\xE0\x80\xAF",
                                    "\xED\xA0\x80", "\xF4\x90\x80\x80",
                                    "\xF8\x88\x80\x80\x80", "\xFF"};

  (void)state;
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
    assert_true(fvx_utf8_valid(good[i], strlen(good[i])));
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_false(fvx_utf8_valid(bad[i], strlen(bad[i])));
  assert_int_equal(fvx_utf8_length("a\xC3\xA9\xE2\x82\xAC"), 3);
}

static void strlcpy_cuts(void **state)
{
  char small[4];

  (void)state;
  assert_true(fvx_strlcpy(small, "abc", sizeof small));
  assert_false(fvx_strlcpy(small, "abcd", sizeof small));
  assert_string_equal(small, "abc");
}

static void buffer_cap_and_escape(void **state)
{
  struct fvx_buf b;

  (void)state;
  fvx_buf_init(&b, 64);
  assert_int_equal(fvx_buf_xml_escape(&b, "a<b&\"c'>"), FVX_BUF_OK);
  assert_string_equal(b.data, "a&lt;b&amp;&quot;c&apos;&gt;");
  fvx_buf_reset(&b);
  assert_int_equal(fvx_buf_xml_escape(&b, "ok\x01"), FVX_BUF_BADCHAR);
  assert_int_equal(b.len, 0);
  fvx_buf_free(&b);
  b.cap = 16;
  assert_int_equal(fvx_buf_puts(&b, "0123456789abcdef"), FVX_BUF_OK);
  assert_int_equal(fvx_buf_puts(&b, "x"), FVX_BUF_TOOBIG);
  assert_int_equal(b.len, 16);
  assert_int_equal(fvx_buf_printf(&b, "%d", 1), FVX_BUF_TOOBIG);
  fvx_buf_free_secret(&b);
  assert_null(b.data);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(utf8),
    cmocka_unit_test(strlcpy_cuts),
    cmocka_unit_test(buffer_cap_and_escape),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
