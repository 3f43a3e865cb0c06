/* test_config.c -- the `key = "value"` parser (util/config.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/config.h"

static struct fvx_config *parse(const char *text, enum fvx_config_status want,
                                unsigned want_line)
{
  struct fvx_config *cfg = NULL;
  unsigned line = 0;

  assert_int_equal(fvx_config_parse(text, strlen(text), &cfg, &line), want);
  if (want != FVX_CONFIG_OK) {
    assert_null(cfg);
    assert_int_equal(line, want_line);
  }
  return cfg;
}

static void good_files(void **state)
{
  struct fvx_config *cfg;

  (void)state;
  cfg = parse("# comment\n\n  a = \"x y\"  \r\nb=2\nc.d-e_f = \"\"\nb = 3\n",
              FVX_CONFIG_OK, 0);
  assert_string_equal(fvx_config_get(cfg, "a"), "x y");
  assert_string_equal(fvx_config_get(cfg, "b"), "3"); /* last one wins */
  assert_string_equal(fvx_config_get(cfg, "c.d-e_f"), "");
  assert_null(fvx_config_get(cfg, "missing"));
  assert_int_equal(fvx_config_count(cfg), 4);
  assert_int_equal(fvx_config_line(cfg, 1), 4);
  fvx_config_free(cfg);
  cfg = parse("", FVX_CONFIG_OK, 0);
  assert_int_equal(fvx_config_count(cfg), 0);
  fvx_config_free(cfg);
  fvx_config_free(NULL);
}

static void bad_lines_are_named(void **state)
{
  (void)state;
  parse("a = 1\nnoequals\n", FVX_CONFIG_SYNTAX, 2);
  parse("a = \"unterminated\n", FVX_CONFIG_SYNTAX, 1);
  parse("ok = 1\n\nb = \"x\" trailing\n", FVX_CONFIG_SYNTAX, 3);
  parse("= value\n", FVX_CONFIG_SYNTAX, 1);
  parse("bad key = 1\n", FVX_CONFIG_SYNTAX, 1);
  parse("a = x\"y\n", FVX_CONFIG_SYNTAX, 1);
  {
    static const char with_nul[] = "a = 1\nb = x\0y\n";
    struct fvx_config *cfg = NULL;
    unsigned line = 0;

    assert_int_equal(fvx_config_parse(with_nul, sizeof with_nul - 1, &cfg,
                                      &line), FVX_CONFIG_SYNTAX);
    assert_int_equal(line, 2);
  }
}

static void limits(void **state)
{
  char *big = malloc(6000);

  (void)state;
  memset(big, 'a', 5999);
  big[5999] = '\0';
  big[0] = 'k';
  big[1] = '=';
  parse(big, FVX_CONFIG_TOO_BIG, 1);
  free(big);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(good_files),
    cmocka_unit_test(bad_lines_are_named),
    cmocka_unit_test(limits),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
