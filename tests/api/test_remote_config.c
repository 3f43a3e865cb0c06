/*
 * test_remote_config.c -- the InitEx keys of remote disks
 * (api/remote_config.c): defaults, values, and bad values refused naming
 * the key.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "api/remote_config.h"

/* A configuration of NULL-terminated key, value pairs. */
static const char *lookup(const void *cfg, const char *key)
{
  const char *const *kv = cfg;

  for (; kv[0]; kv += 2)
    if (strcmp(kv[0], key) == 0)
      return kv[1];
  return NULL;
}

static void test_defaults(void **state)
{
  const char *cfg[] = {NULL};
  struct remote_settings s;

  (void)state;
  assert_int_equal(fvx_remote_config(lookup, cfg, &s), VIX_OK);
  assert_int_equal(s.route, REMOTE_ROUTE_AUTO);
  assert_int_equal(s.https_read_ahead, 4);
  assert_int_equal(s.https_read_ahead_bytes, 0); /* the module's 4 MiB */
  assert_int_equal(s.https_connections, 0);
  assert_null(s.connect_to);
}

static void test_values(void **state)
{
  const char *cfg[] = {"freevix.httpsRoute", "host",
                       "freevix.httpsReadAhead", "0",
                       "freevix.httpsReadAheadBytes", "1048576",
                       "freevix.httpsConnections", "8",
                       "freevix.nfcRequestsInFlight", "4",
                       "vixDiskLib.nfc.ReadTimeoutMsecs", "5000",
                       NULL};
  struct remote_settings s;

  (void)state;
  assert_int_equal(fvx_remote_config(lookup, cfg, &s), VIX_OK);
  assert_int_equal(s.route, REMOTE_ROUTE_HOST);
  assert_int_equal(s.https_read_ahead, 0);
  assert_int_equal(s.https_read_ahead_bytes, 1048576);
  assert_int_equal(s.https_connections, 8);
  assert_int_equal(s.nfc_in_flight, 4);
  assert_int_equal(s.nfc_timeout_ms, 5000);
  assert_true(fvx_remote_config_key("freevix.httpsReadAhead"));
  assert_true(fvx_remote_config_key("freevix.httpsReadAheadBytes"));
  assert_false(fvx_remote_config_key("freevix.httpsReadahead"));
}

static void test_bad_values(void **state)
{
  static const char *const bad[][2] = {
      {"freevix.httpsRoute", "direct"},
      {"freevix.httpsReadAhead", "65"},
      {"freevix.httpsReadAhead", "-1"},
      {"freevix.httpsReadAheadBytes", "4096"},
      {"freevix.httpsReadAheadBytes", "67108865"},
      {"freevix.nfcMaxRequestBytes", "32768"}, /* every NFC open refused it */
      {"freevix.nfcMaxRequestBytes", "2097153"},
      {"freevix.httpsConnections", "x"},
  };
  struct remote_settings s;

  (void)state;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    const char *cfg[] = {bad[i][0], bad[i][1], NULL};

    assert_int_equal(fvx_remote_config(lookup, cfg, &s), VIX_E_INVALID_ARG);
  }
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_defaults),
      cmocka_unit_test(test_values),
      cmocka_unit_test(test_bad_values),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
