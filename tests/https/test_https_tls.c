/*
 * test_https_tls.c -- the certificate policy of datastore reads against a
 * TLS peer with a throwaway self-signed certificate: the right pin (SHA-1
 * or SHA-256) reads, a wrong one is DISK_E_NET_PIN naming both
 * thumbprints, no pin on an untrusted certificate is DISK_E_NET_TLS, a CA
 * file or insecure (logged) lets it through, a per-request pin from the
 * auth callback replaces the site's (on a new connection), and CONNECT_TO
 * keeps the name the certificate is checked against.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "https_test.h"
#include "testutil.h"

#define FILE1 "[ds1] vm/disk-flat.vmdk"
#define PATH1 "/folder/vm/disk-flat.vmdk"
#define SIZE1 ((size_t)300000)
#define WRONG_PIN "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33"

static int setup(void **state)
{
  struct test_fx *x = test_fx_new(true);

  x->d1 = test_pattern(7, SIZE1);
  peer_add_file(x->peer, PATH1, x->d1, SIZE1);
  *state = x;
  return 0;
}

static int teardown(void **state)
{
  test_fx_free(*state);
  return 0;
}

/* A new site from x->o, then open FILE1: its status. */
static int try_open(struct test_fx *x)
{
  assert_int_equal(test_fx_site(x), DISK_OK);
  return test_fx_open(x, FILE1);
}

static void read_ok(struct test_fx *x)
{
  unsigned char buf[20000];

  assert_int_equal(test_pread(x->f, buf, sizeof buf, 1234, NULL), DISK_OK);
  assert_memory_equal(buf, x->d1 + 1234, sizeof buf);
}

static void test_pinned(void **state)
{
  struct test_fx *x = *state;
  struct https_stats st;

  x->o.thumbprint = x->cert.sha256;
  assert_int_equal(try_open(x), DISK_OK);
  read_ok(x);
  read_ok(x);
  https_site_stats(x->site, &st);
  assert_int_equal(st.connects, 1);
  assert_int_equal(st.tls_handshakes, 1); /* kept alive */
  x->o.thumbprint = x->cert.sha1;
  assert_int_equal(try_open(x), DISK_OK);
  read_ok(x);
}

static void test_wrong_pin(void **state)
{
  struct test_fx *x = *state;
  const char *d;

  x->o.thumbprint = WRONG_PIN;
  assert_int_equal(try_open(x), DISK_E_NET_PIN);
  d = disk_last_error()->detail;
  assert_non_null(strstr(d, WRONG_PIN));
  assert_non_null(strstr(d, x->cert.sha1)); /* same algorithm as the pin */
  assert_null(strstr(d, TEST_SECRET));
  assert_int_equal(peer_requests(x->peer, NULL, 0), 0); /* nothing sent */
}

static void test_untrusted(void **state)
{
  struct test_fx *x = *state;

  assert_int_equal(try_open(x), DISK_E_NET_TLS);
  assert_non_null(strstr(disk_last_error()->detail, "not trusted"));
  assert_int_equal(peer_requests(x->peer, NULL, 0), 0);
}

static void test_ca_file(void **state)
{
  struct test_fx *x = *state;
  char base[64];

  x->o.ca_file = x->cert.pem_path;
  assert_int_equal(try_open(x), DISK_OK); /* the certificate names 127.0.0.1 */
  read_ok(x);
  /* by name through CONNECT_TO: the name is what the certificate is
   * checked against, and what Host says */
  snprintf(base, sizeof base, "https://localhost:%d", peer_port(x->peer));
  x->o.base = base;
  x->o.connect_to = "localhost::127.0.0.1:";
  peer_clear(x->peer);
  assert_int_equal(try_open(x), DISK_OK);
  {
    struct peer_req r;

    peer_requests(x->peer, &r, 1);
    snprintf(base, sizeof base, "localhost:%d", peer_port(x->peer));
    assert_string_equal(r.host, base);
  }
}

static void test_insecure(void **state)
{
  struct test_fx *x = *state;

  test_log_start();
  x->o.insecure = true;
  assert_int_equal(try_open(x), DISK_OK);
  read_ok(x);
  assert_true(test_log_has("verification is disabled"));
}

static void test_request_pin(void **state)
{
  struct test_fx *x = *state;
  struct https_stats st;
  unsigned char buf[100];

  /* the site pins nothing (CA mode); each ticket brings the host's pin */
  snprintf(x->auth.thumbprint, sizeof x->auth.thumbprint, "%s",
           x->cert.sha256);
  assert_int_equal(try_open(x), DISK_OK);
  read_ok(x);
  https_site_stats(x->site, &st);
  assert_int_equal(st.tls_handshakes, 1);
  /* a ticket with another pin: a new connection, checked again, refused */
  snprintf(x->auth.thumbprint, sizeof x->auth.thumbprint, WRONG_PIN);
  peer_clear(x->peer);
  assert_int_equal(test_pread(x->f, buf, sizeof buf, 0, NULL),
                   DISK_E_NET_PIN);
  assert_non_null(strstr(disk_last_error()->detail, WRONG_PIN));
  assert_int_equal(peer_requests(x->peer, NULL, 0), 0);
  /* and back: the right pin works again */
  snprintf(x->auth.thumbprint, sizeof x->auth.thumbprint, "%s", x->cert.sha1);
  read_ok(x);
  snprintf(x->auth.thumbprint, sizeof x->auth.thumbprint, "zz");
  assert_int_equal(test_pread(x->f, buf, sizeof buf, 0, NULL), DISK_E_ARG);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_pinned, setup, teardown),
      cmocka_unit_test_setup_teardown(test_wrong_pin, setup, teardown),
      cmocka_unit_test_setup_teardown(test_untrusted, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ca_file, setup, teardown),
      cmocka_unit_test_setup_teardown(test_insecure, setup, teardown),
      cmocka_unit_test_setup_teardown(test_request_pin, setup, teardown),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
