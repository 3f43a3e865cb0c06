/*
 * test_access_args.c -- PrepareForAccess / EndAccess refuse bad arguments
 * before any network traffic, each with its own code and log line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "vixDiskLib.h"

static char warn_text[4096];

static void warn_fn(const char *fmt, va_list ap)
{
  vsnprintf(warn_text, sizeof warn_text, fmt, ap);
}

static int setup(void **state)
{
  (void)state;
  return VixDiskLib_InitEx(8, 0, NULL, warn_fn, NULL, NULL, NULL) == VIX_OK
             ? 0
             : -1;
}

static int teardown(void **state)
{
  (void)state;
  VixDiskLib_Exit();
  return 0;
}

static void fill(VixDiskLibConnectParams *p)
{
  memset(p, 0, sizeof *p);
  p->serverName = (char *)"127.0.0.1";
  p->port = 9; /* discard: never reached by these tests */
  p->credType = VIXDISKLIB_CRED_UID;
  p->creds.uid.userName = (char *)"admin";
  p->creds.uid.password = (char *)"secret-password";
  p->vmxSpec = (char *)"moref=vm-42";
}

/* Calls both functions and checks they fail alike, with 'needle' logged. */
static void expect(const VixDiskLibConnectParams *p, const char *identity,
                   VixError want, const char *needle)
{
  warn_text[0] = '\0';
  assert_int_equal(VixDiskLib_PrepareForAccess(p, identity), want);
  assert_non_null(strstr(warn_text, needle));
  assert_null(strstr(warn_text, "secret-password"));
  warn_text[0] = '\0';
  assert_int_equal(VixDiskLib_EndAccess(p, identity), want);
  assert_non_null(strstr(warn_text, needle));
}

static void bad_arguments(void **state)
{
  VixDiskLibConnectParams p;
  char long_id[64];

  (void)state;
  fill(&p);
  expect(NULL, "backup", VIX_E_INVALID_ARG, "connectParams is NULL");
  expect(&p, NULL, VIX_E_INVALID_ARG, "identity is NULL");
  expect(&p, "", VIX_E_INVALID_ARG, "identity is empty");
  memset(long_id, 'a', 51);
  long_id[51] = '\0';
  expect(&p, long_id, VIX_E_ARGUMENT_TOO_BIG,
         "identity is 51 characters long, longer than the limit of 50");
  expect(&p, "bad\xC3\x28utf8", VIX_E_INVALID_UTF8_STRING, "not valid UTF-8");
  expect(&p, "\xED\xA0\x80surrogate", VIX_E_INVALID_UTF8_STRING,
         "not valid UTF-8");

  p.serverName = NULL;
  expect(&p, "backup", VIX_E_HOST_NOT_CONNECTED, "serverName is NULL");
  fill(&p);
  p.vmxSpec = NULL;
  expect(&p, "backup", VIX_E_MISSING_REQUIRED_PROPERTY, "vmxSpec is missing");
  p.vmxSpec = (char *)"";
  expect(&p, "backup", VIX_E_MISSING_REQUIRED_PROPERTY, "vmxSpec is missing");
  fill(&p);
  p.vmxSpec = (char *)"moref=";
  expect(&p, "backup", VIX_E_INVALID_PROPERTY_VALUE, "vmxSpec");
  p.vmxSpec = (char *)"vm/vm.vmx?dcPath=DC";
  expect(&p, "backup", VIX_E_INVALID_PROPERTY_VALUE, "dsName is missing");
  fill(&p);
  p.creds.uid.password = NULL;
  expect(&p, "backup", VIX_E_INVALID_ARG, "userName or password");
  fill(&p);
  p.credType = VIXDISKLIB_CRED_SSPI;
  expect(&p, "backup", VIX_E_INVALID_ARG, "credType 4");
  fill(&p);
  p.thumbPrint = (char *)"12:34";
  expect(&p, "backup", VIX_E_INVALID_ARG, "thumbPrint");
}

static void fifty_characters_are_fine_even_multibyte(void **state)
{
  VixDiskLibConnectParams p;
  char id[256] = "";

  (void)state;
  fill(&p);
  p.vmxSpec = (char *)"moref="; /* stop before the network */
  for (int i = 0; i < 50; i++)
    strcat(id, "\xC3\xA9"); /* 50 x U+00E9: 100 bytes, 50 characters */
  expect(&p, id, VIX_E_INVALID_PROPERTY_VALUE, "vmxSpec");
  strcat(id, "x");
  expect(&p, id, VIX_E_ARGUMENT_TOO_BIG,
         "identity is 51 characters long, longer than the limit of 50");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(bad_arguments),
    cmocka_unit_test(fifty_characters_are_fine_even_multibyte),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
