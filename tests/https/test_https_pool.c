/*
 * test_https_pool.c -- several threads reading one datastore file at once
 * through a site's connection pool: 8 threads reading random ranges
 * through 4 pooled connections get exactly the file's bytes, the peer sees
 * at most 4 connections, and the counters add up; the same over TLS with a
 * pin (one certificate policy per connection); and a pool of one makes the
 * threads take turns on a single connection.
 */
#include <pthread.h>
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

#define FILE1 "[ds1] vm/big-flat.vmdk"
#define PATH1 "/folder/vm/big-flat.vmdk"
#define SIZE1 ((size_t)4 << 20)
#define THREADS 8

struct worker {
  pthread_t t;
  struct disk_file *f;
  const unsigned char *d;
  unsigned seed;
  int reads;
  int bad;           /* reads that failed or differed */
  uint64_t bytes;    /* bytes inside the file asked for */
  char detail[512];
};

/* A small xorshift, so each worker's ranges are reproducible. */
static uint32_t next(uint32_t *s)
{
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

static void *work(void *arg)
{
  struct worker *w = arg;
  uint32_t s = w->seed;
  unsigned char *buf = malloc(256 * 1024);

  for (int i = 0; i < w->reads; i++) {
    size_t len = 1 + next(&s) % (256 * 1024);
    uint64_t off = next(&s) % (SIZE1 + 4096); /* some pass the end */
    size_t got = 0, in = off < SIZE1 ? (SIZE1 - off < len ? SIZE1 - off : len)
                                     : 0;
    int rc = test_pread(w->f, buf, len, off, &got);

    if (rc != DISK_OK) {
      snprintf(w->detail, sizeof w->detail, "%s", disk_last_error()->detail);
      w->bad++;
      continue;
    }
    if (got != in || (in && memcmp(buf, w->d + off, in) != 0))
      w->bad++;
    for (size_t k = in; k < len; k++)
      if (buf[k])
        w->bad++;
    w->bytes += in;
  }
  free(buf);
  return NULL;
}

/* Runs THREADS workers of reads each over f; returns the bytes read. */
static uint64_t run(struct disk_file *f, const unsigned char *d, int reads)
{
  struct worker w[THREADS];
  uint64_t bytes = 0;

  for (int i = 0; i < THREADS; i++) {
    memset(&w[i], 0, sizeof w[i]);
    w[i].f = f;
    w[i].d = d;
    w[i].seed = 0x1234567u * (unsigned)(i + 1);
    w[i].reads = reads;
    assert_int_equal(pthread_create(&w[i].t, NULL, work, &w[i]), 0);
  }
  for (int i = 0; i < THREADS; i++) {
    pthread_join(w[i].t, NULL);
    if (w[i].bad)
      fail_msg("worker %d: %d bad reads (%s)", i, w[i].bad, w[i].detail);
    bytes += w[i].bytes;
  }
  return bytes;
}

static void pool_case(bool tls, unsigned conns)
{
  struct test_fx *x = test_fx_new(tls);
  struct https_stats st;
  int reads = fvx_test_under_valgrind() ? 4 : 40;
  uint64_t bytes;

  x->d1 = test_pattern(3, SIZE1);
  peer_add_file(x->peer, PATH1, x->d1, SIZE1);
  x->o.max_connections = conns;
  if (tls)
    x->o.thumbprint = x->cert.sha256;
  assert_int_equal(test_fx_site(x), DISK_OK);
  assert_int_equal(test_fx_open(x, FILE1), DISK_OK);
  assert_true(x->f->caps & DISK_FILE_CONCURRENT);

  bytes = run(x->f, x->d1, reads);

  https_site_stats(x->site, &st);
  printf("# %s pool of %u: %d connections, at most %d open at once, "
         "%llu requests\n", tls ? "TLS" : "HTTP", conns,
         peer_connections(x->peer), peer_max_open(x->peer),
         (unsigned long long)st.requests);
  assert_true(peer_connections(x->peer) <= (int)conns);
  assert_true(peer_max_open(x->peer) <= (int)conns);
  assert_int_equal(st.connects, (uint64_t)peer_connections(x->peer));
  assert_int_equal(st.tls_handshakes,
                   tls ? (uint64_t)peer_connections(x->peer) : 0);
  assert_int_equal(st.bytes, bytes);
  assert_int_equal(st.retries, 0);
  assert_int_equal(peer_requests(x->peer, NULL, 0), st.requests);
  assert_true(st.requests <= 1 + (uint64_t)THREADS * (uint64_t)reads);
  assert_int_equal(x->auth.calls, st.requests); /* one ticket a request */
  test_fx_free(x);
}

static void test_http_pool(void **state)
{
  (void)state;
  pool_case(false, 4);
}

static void test_tls_pool(void **state)
{
  (void)state;
  pool_case(true, 4);
}

static void test_pool_of_one(void **state)
{
  (void)state;
  pool_case(false, 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_http_pool),
      cmocka_unit_test(test_tls_pool),
      cmocka_unit_test(test_pool_of_one),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
