/*
 * test_errors.c -- GetErrorText knows every code the public header
 * declares, the header declares every code of VDDK's header
 * (tests/api/data/vddk_errors.txt, a copy of the reference's table) with
 * VDDK's value, no two codes share a value (or low 16 bits), and unknown
 * codes get a text that names them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/errors.h"
#include "testutil.h"
#include "vixDiskLib.h"

struct code {
  char name[96];
  unsigned long value;
};

/* Reads every "NAME = value," line of the error enum in vixDiskLib.h. */
static size_t header_codes(struct code *out, size_t max)
{
  char path[4096];
  char *text, *p;
  regex_t re;
  regmatch_t m[4];
  size_t n = 0;

  snprintf(path, sizeof path, "%s/include/vixDiskLib.h",
           getenv("FREEVIX_SRCDIR"));
  text = fvx_test_read_file(path, NULL);
  assert_non_null(text);
  assert_int_equal(regcomp(&re,
                           "^  ((VIX_|VMODL_)[A-Z0-9_]+) = ([0-9]+)",
                           REG_EXTENDED | REG_NEWLINE), 0);
  for (p = text; n < max && regexec(&re, p, 4, m, 0) == 0; p += m[0].rm_eo) {
    size_t len = (size_t)(m[1].rm_eo - m[1].rm_so);

    assert_true(len < sizeof out[n].name);
    memcpy(out[n].name, p + m[1].rm_so, len);
    out[n].name[len] = '\0';
    out[n].value = strtoul(p + m[3].rm_so, NULL, 10);
    n++;
  }
  regfree(&re);
  free(text);
  return n;
}

static void every_code_has_a_text(void **state)
{
  static struct code codes[512];
  size_t n = header_codes(codes, 512);

  (void)state;
  assert_true(n > 260);
  for (size_t i = 0; i < n; i++) {
    char *text = VixDiskLib_GetErrorText(codes[i].value, NULL);
    const char *name = fvx_error_name(codes[i].value);

    assert_non_null(text);
    assert_non_null(name);
    if (strcmp(name, codes[i].name) != 0)
      fail_msg("%s (%lu) is named %s in the text table", codes[i].name,
               codes[i].value, name);
    assert_null(strstr(text, "Unknown error code"));
    assert_true(strlen(text) > 5);
    assert_null(strchr(text, '\n'));
    VixDiskLib_FreeErrorText(text);
  }
}

/* Every NAME VALUE line of the copy of VDDK's code table is in the header
 * with that value, and has a sentence of its own. */
static void every_vddk_code_is_declared(void **state)
{
  static struct code codes[512];
  size_t n = header_codes(codes, 512), seen = 0;
  char path[4096], line[256];
  FILE *f;

  (void)state;
  snprintf(path, sizeof path, "%s/tests/api/data/vddk_errors.txt",
           getenv("FREEVIX_SRCDIR"));
  f = fopen(path, "r");
  assert_non_null(f);
  while (fgets(line, sizeof line, f)) {
    char name[128];
    unsigned long value;
    size_t i;
    char *text;

    if (line[0] == '#' || line[0] == '\n')
      continue;
    assert_int_equal(sscanf(line, "%127s %lu", name, &value), 2);
    for (i = 0; i < n && strcmp(codes[i].name, name) != 0; i++)
      ;
    if (i == n)
      fail_msg("%s (%lu) of VDDK's header is missing from vixDiskLib.h", name,
               value);
    if (codes[i].value != value)
      fail_msg("%s is %lu in vixDiskLib.h but %lu in VDDK's header", name,
               codes[i].value, value);
    text = VixDiskLib_GetErrorText(value, NULL);
    assert_non_null(text);
    if (strstr(text, "Unknown error code"))
      fail_msg("%s (%lu) has no sentence in src/api/errors.c", name, value);
    VixDiskLib_FreeErrorText(text);
    seen++;
  }
  fclose(f);
  assert_true(seen > 260);
}

static void codes_are_unique(void **state)
{
  static struct code codes[512];
  size_t n = header_codes(codes, 512);

  (void)state;
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++) {
      if (codes[i].value == codes[j].value ||
          (codes[i].value & 0xFFFF) == (codes[j].value & 0xFFFF))
        fail_msg("%s and %s share a value", codes[i].name, codes[j].name);
    }
}

static void method_already_disabled_is_its_own_code(void **state)
{
  VixError e = VMODL_TYPE_VIM_FAULT_METHOD_ALREADY_DISABLED_FAULT;
  char *text = VixDiskLib_GetErrorText(e, NULL);

  (void)state;
  assert_true(VIX_FAILED(e));
  assert_int_not_equal(e, VIX_E_FAIL);
  assert_non_null(strstr(text, "already disabled"));
  VixDiskLib_FreeErrorText(text);
}

static void unknown_code_names_itself(void **state)
{
  char *text = VixDiskLib_GetErrorText(54321, NULL);

  (void)state;
  assert_string_equal(text, "Unknown error code 54321.");
  VixDiskLib_FreeErrorText(text);
  /* Upper bits carry extra information and do not change the text. */
  text = VixDiskLib_GetErrorText(((VixError)7 << 32) | VIX_E_INVALID_ARG, NULL);
  assert_string_equal(text, "One of the parameters was invalid.");
  VixDiskLib_FreeErrorText(text);
  /* A locale is ignored (English only), never a crash. */
  text = VixDiskLib_GetErrorText(VIX_E_FAIL, "de_DE");
  assert_string_equal(text, "Unknown error.");
  VixDiskLib_FreeErrorText(text);
  VixDiskLib_FreeErrorText(NULL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(every_code_has_a_text),
    cmocka_unit_test(every_vddk_code_is_declared),
    cmocka_unit_test(codes_are_unique),
    cmocka_unit_test(method_already_disabled_is_its_own_code),
    cmocka_unit_test(unknown_code_names_itself),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
