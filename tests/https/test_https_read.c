/*
 * test_https_read.c -- datastore files over plain HTTP against the
 * scripted peer: exact bytes, zeros past the end, the request on the wire
 * (range, encoding, cookie, Host), every misbehaviour of the peer mapped
 * to its status, resumes that ask for the rest with a fresh ticket, bounded
 * timeouts, and no secret in any detail or log line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "https_test.h"
#include "testutil.h"

#define FILE1 "[ds1] vm/disk-flat.vmdk"
#define PATH1 "/folder/vm/disk-flat.vmdk"
#define SIZE1 ((size_t)(1 << 20) + 123)
#define FILE2 "[ds 2] my vm/d\xc3\xafsk \xc3\xbc.vmdk"
#define PATH2 "/folder/my vm/d\xc3\xafsk \xc3\xbc.vmdk"
#define SIZE2 ((size_t)5000)

static struct peer_req reqs[256];

static void make_site(struct test_fx *x)
{
  assert_int_equal(test_fx_site(x), DISK_OK);
}

static int setup(void **state)
{
  struct test_fx *x = test_fx_new(false);

  x->d1 = test_pattern(1, SIZE1);
  x->d2 = test_pattern(2, SIZE2);
  peer_add_file(x->peer, PATH1, x->d1, SIZE1);
  peer_add_file(x->peer, PATH2, x->d2, SIZE2);
  make_site(x);
  *state = x;
  return 0;
}

static int teardown(void **state)
{
  test_fx_free(*state);
  return 0;
}

static struct disk_file *open1(struct test_fx *x, const char *name)
{
  assert_int_equal(test_fx_open(x, name), DISK_OK);
  return x->f;
}

/* Reads [off, off+len) and checks it against d (size n): the bytes, zeros
 * past the end, and *got. */
static void check_read(struct disk_file *f, const unsigned char *d,
                       size_t n, uint64_t off, size_t len)
{
  unsigned char *buf = malloc(len + 16);
  size_t got = 12345, in = off < n ? (n - off < len ? n - off : len) : 0;

  memset(buf, 0xAA, len + 16);
  assert_int_equal(test_pread(f, buf, len, off, &got), DISK_OK);
  assert_int_equal(got, in);
  if (in)
    assert_memory_equal(buf, d + off, in);
  for (size_t i = in; i < len; i++)
    assert_int_equal(buf[i], 0);
  for (size_t i = len; i < len + 16; i++)
    assert_int_equal(buf[i], 0xAA); /* nothing written past the buffer */
  free(buf);
}

/* A read that must fail with status; returns the error record. */
static const struct disk_error *fail_read(struct disk_file *f, uint64_t off,
                                          size_t len, int status)
{
  unsigned char *buf = malloc(len);
  int rc = test_pread(f, buf, len, off, NULL);

  free(buf);
  if (rc != status)
    fail_msg("status %d, expected %d: %s", rc, status,
             disk_last_error()->detail);
  assert_int_equal(disk_last_error()->status, status);
  if (status != DISK_E_ARG)
    assert_non_null(strstr(disk_last_error()->detail, "/folder/"));
  assert_null(strstr(disk_last_error()->detail, TEST_SECRET));
  return disk_last_error();
}

static void script1(struct test_fx *x, enum peer_act act, long n,
                    const char *body)
{
  struct peer_step st = {act, n, body};

  peer_script(x->peer, &st, 1);
  peer_clear(x->peer);
}

static double now_s(void)
{
  struct timespec t;

  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void test_exact_bytes(void **state)
{
  struct test_fx *x = *state;
  struct disk_file *f;
  struct https_stats st;
  size_t n;

  f = open1(x, FILE1);
  assert_int_equal(f->size, SIZE1);
  assert_int_equal(f->caps, DISK_FILE_CONCURRENT);
  assert_string_equal(f->name, FILE1);
  assert_string_equal(f->id, FILE1);
  assert_null(f->ops->pwrite);
  assert_null(f->ops->allocated);
  assert_string_equal(x->auth.last_method, "httpHead");
  {
    char url[256];

    snprintf(url, sizeof url, "%s" PATH1 "?dcPath=dc&dsName=ds1", x->o.base);
    assert_string_equal(x->auth.last_url, url);
  }
  n = peer_requests(x->peer, reqs, 256);
  assert_int_equal(n, 1);
  assert_string_equal(reqs[0].method, "HEAD");
  assert_string_equal(reqs[0].target, PATH1 "?dcPath=dc&dsName=ds1");
  assert_string_equal(reqs[0].cookie, "vmware_cgi_ticket=T1-" TEST_SECRET);

  check_read(f, x->d1, SIZE1, 0, 512);
  check_read(f, x->d1, SIZE1, 1, 1);
  check_read(f, x->d1, SIZE1, 4096, 65536);
  check_read(f, x->d1, SIZE1, SIZE1 - 1, 1);
  check_read(f, x->d1, SIZE1, SIZE1 - 100, 4096); /* across the end */
  check_read(f, x->d1, SIZE1, 0, SIZE1);
  assert_string_equal(x->auth.last_method, "httpGet");
  n = peer_requests(x->peer, reqs, 256);
  assert_int_equal(n, 7);
  assert_string_equal(reqs[1].method, "GET");
  assert_string_equal(reqs[1].range, "bytes=0-511");
  assert_string_equal(reqs[2].range, "bytes=1-1");
  assert_string_equal(reqs[5].range, "bytes=1048599-1048698");
  assert_string_equal(reqs[6].range, "bytes=0-1048698");
  for (size_t i = 1; i < n; i++) {
    char want[64];

    snprintf(want, sizeof want, "vmware_cgi_ticket=T%zu-" TEST_SECRET,
             i + 1);
    assert_string_equal(reqs[i].cookie, want);
    assert_int_equal(reqs[i].conn, 1); /* one keep-alive connection */
  }
  https_site_stats(x->site, &st);
  assert_int_equal(st.requests, 7);
  assert_int_equal(st.connects, 1);
  assert_int_equal(st.tls_handshakes, 0);
  assert_int_equal(st.retries, 0);
  assert_int_equal(st.bytes, 512 + 1 + 65536 + 1 + 100 + SIZE1);
}

static void test_past_end(void **state)
{
  struct test_fx *x = *state;
  struct disk_file *f = open1(x, FILE1);

  peer_clear(x->peer);
  check_read(f, x->d1, SIZE1, SIZE1, 4096);
  check_read(f, x->d1, SIZE1, (uint64_t)1 << 40, 10);
  check_read(f, x->d1, SIZE1, 0, 0);
  assert_int_equal(peer_requests(x->peer, NULL, 0), 0); /* nothing sent */
}

static void test_encoded_path(void **state)
{
  struct test_fx *x = *state;
  struct disk_file *f;

  peer_clear(x->peer);
  f = open1(x, FILE2);
  assert_string_equal(f->name, FILE2);
  check_read(f, x->d2, SIZE2, 100, 1000);
  assert_int_equal(peer_requests(x->peer, reqs, 256), 2);
  assert_string_equal(reqs[1].target,
                      "/folder/my%20vm/d%C3%AFsk%20%C3%BC.vmdk"
                      "?dcPath=dc&dsName=ds%202");
  /* the same file through an unnormalised name */
  f = open1(x, "[ds 2] ./my vm//x/../d\xc3\xafsk \xc3\xbc.vmdk");
  assert_string_equal(f->id, FILE2);
}

static void test_long_name(void **state)
{
  struct test_fx *x = *state;
  char name[300], path[320];
  struct disk_file *f;

  memset(name, 0, sizeof name);
  memcpy(name, "[ds1] ", 6);
  memset(name + 6, 'a', 200);
  memcpy(name + 206, ".vmdk", 5);
  snprintf(path, sizeof path, "/folder/%s", name + 6);
  peer_add_file(x->peer, path, x->d2, SIZE2);
  f = open1(x, name);
  assert_string_equal(f->name, name);
  assert_int_equal(strlen(f->id), 7 + 64); /* "sha256:" and the digest */
  assert_memory_equal(f->id, "sha256:", 7);
  check_read(f, x->d2, SIZE2, 0, 100);
  script1(x, PEER_STATUS, 500, NULL);
  fail_read(f, 0, 100, DISK_E_NET_HTTP);
  assert_non_null(strstr(disk_last_error()->detail, "... bytes=0-99: HTTP 500"));
}

static void test_no_dcpath(void **state)
{
  struct test_fx *x = *state;

  x->o.dc_path = NULL;
  make_site(x);
  peer_clear(x->peer);
  open1(x, FILE1);
  peer_requests(x->peer, reqs, 256);
  assert_string_equal(reqs[0].target, PATH1 "?dsName=ds1");
}

static void test_drop_resumes(void **state)
{
  struct test_fx *x = *state;
  struct disk_file *f = open1(x, FILE1);
  struct https_stats st;
  struct peer_step steps[] = {{PEER_DROP, 1000, NULL},
                              {PEER_DROP, 5000, NULL}};

  peer_require_cookie(x->peer, "vmware_cgi_ticket=", true);
  peer_script(x->peer, steps, 2);
  peer_clear(x->peer);
  check_read(f, x->d1, SIZE1, 10000, 65536);
  assert_int_equal(peer_requests(x->peer, reqs, 256), 3);
  assert_string_equal(reqs[0].range, "bytes=10000-75535");
  assert_string_equal(reqs[1].range, "bytes=11000-75535");
  assert_string_equal(reqs[2].range, "bytes=16000-75535");
  assert_string_not_equal(reqs[0].cookie, reqs[1].cookie);
  assert_string_not_equal(reqs[1].cookie, reqs[2].cookie);
  https_site_stats(x->site, &st);
  assert_int_equal(st.retries, 2);
  assert_int_equal(st.bytes, 65536); /* each byte received once */
}

static void test_drop_gives_up(void **state)
{
  struct test_fx *x = *state;
  struct disk_file *f = open1(x, FILE1);
  struct peer_step steps[4] = {{PEER_DROP, 10, NULL}, {PEER_DROP, 10, NULL},
                               {PEER_DROP, 10, NULL}, {PEER_DROP, 10, NULL}};
  const struct disk_error *e;

  peer_script(x->peer, steps, 4);
  peer_clear(x->peer);
  e = fail_read(f, 0, 4096, DISK_E_NET_CONNECT);
  assert_non_null(strstr(e->detail, "gave up after 3 retries"));
  assert_int_equal(peer_requests(x->peer, reqs, 256), 4);
  assert_string_equal(reqs[3].range, "bytes=30-4095");
  /* a drop before any byte is repeated the same way */
  script1(x, PEER_DROP, 0, NULL);
  check_read(f, x->d1, SIZE1, 0, 4096);
  assert_int_equal(peer_requests(x->peer, reqs, 256), 2);
  assert_string_equal(reqs[1].range, "bytes=0-4095");
}

static void test_protocol_errors(void **state)
{
  struct test_fx *x = *state;
  struct disk_file *f = open1(x, FILE1);
  static const struct {
    enum peer_act act;
    long n;
  } cases[] = {{PEER_FULL200, 0},       {PEER_SHORT, 100},
               {PEER_EXTRA, 100},       {PEER_BAD_RANGE, 1},
               {PEER_CHUNKED_SHORT, 7}, {PEER_GZIP, 0}};

  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const struct disk_error *e;

    script1(x, cases[i].act, cases[i].n, NULL);
    e = fail_read(f, 512, 8192, DISK_E_NET_PROTOCOL);
    assert_int_equal(peer_requests(x->peer, NULL, 0), 1); /* no repeat */
    if (cases[i].act == PEER_FULL200) {
      assert_int_equal(e->http_status, 200);
      assert_non_null(strstr(e->detail, "instead of 206"));
    }
    /* the connection (or a new one) still works afterwards */
    check_read(f, x->d1, SIZE1, 512, 8192);
  }
}

static void test_odd_but_right(void **state)
{
  struct test_fx *x = *state;
  struct disk_file *f = open1(x, FILE1);
  struct https_stats st;

  script1(x, PEER_CHUNKED, 0, NULL);
  check_read(f, x->d1, SIZE1, 777, 100000);
  script1(x, PEER_CLOSE_SHORT, 50, NULL); /* close-delimited, cut short */
  check_read(f, x->d1, SIZE1, 777, 100000);
  assert_int_equal(peer_requests(x->peer, reqs, 256), 2);
  assert_string_equal(reqs[1].range, "bytes=100727-100776");
  https_site_stats(x->site, &st);
  assert_int_equal(st.retries, 1);
}

static void test_statuses(void **state)
{
  struct test_fx *x = *state;
  struct disk_file *f = open1(x, FILE1);
  static const struct {
    long code;
    const char *body;
    int status;
  } cases[] = {
      {401, "ticket expired", DISK_E_AUTH},
      {403, "Forbidden", DISK_E_AUTH},
      {403, "NoPermission: permission to perform this operation was denied",
       DISK_E_ACCESS},
      {404, "not here", DISK_E_NOTFOUND},
      {416, "", DISK_E_RANGE},
      {423, "", DISK_E_LOCKED},
      {500, "Unable to access file [ds1] vm/disk-flat.vmdk since it is "
            "locked", DISK_E_LOCKED},
      {500, "Internal error", DISK_E_NET_HTTP},
      {502, "Bad gateway", DISK_E_NET_HTTP},
      {409, "Conflict", DISK_E_NET_HTTP},
  };

  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    const struct disk_error *e;

    script1(x, PEER_STATUS, cases[i].code, cases[i].body);
    e = fail_read(f, 0, 100, cases[i].status);
    assert_int_equal(e->http_status, cases[i].code);
    assert_int_equal(peer_requests(x->peer, NULL, 0), 1);
  }
  check_read(f, x->d1, SIZE1, 0, 100);
}

static void test_503(void **state)
{
  struct test_fx *x = *state;
  struct disk_file *f = open1(x, FILE1);
  struct peer_step steps[4] = {{PEER_STATUS, 503, "busy"},
                               {PEER_STATUS, 503, "busy"},
                               {PEER_STATUS, 503, "busy"},
                               {PEER_STATUS, 503, "busy"}};
  const struct disk_error *e;

  peer_script(x->peer, steps, 2);
  peer_clear(x->peer);
  check_read(f, x->d1, SIZE1, 3, 300);
  assert_int_equal(peer_requests(x->peer, NULL, 0), 3);
  peer_script(x->peer, steps, 4);
  peer_clear(x->peer);
  e = fail_read(f, 3, 300, DISK_E_NET_HTTP);
  assert_int_equal(e->http_status, 503);
  assert_int_equal(peer_requests(x->peer, NULL, 0), 4);
}

/* A single-use ticket refused with 401 is repeated once with a fresh
 * ticket; a second refusal is the answer.  A session cookie's 401 is never
 * repeated (test_statuses). */
static void test_ticket_refused(void **state)
{
  struct test_fx *x = *state;
  struct disk_file *f = open1(x, FILE1);
  struct peer_step steps[2] = {{PEER_STATUS, 401, "ticket expired"},
                               {PEER_STATUS, 401, "ticket expired"}};
  struct peer_req seen[4];
  const struct disk_error *e;

  x->auth.single_use = true;
  peer_script(x->peer, steps, 1);
  peer_clear(x->peer);
  check_read(f, x->d1, SIZE1, 5, 500);
  assert_int_equal(peer_requests(x->peer, seen, 4), 2);
  assert_string_not_equal(seen[0].cookie, seen[1].cookie);
  peer_script(x->peer, steps, 2);
  peer_clear(x->peer);
  e = fail_read(f, 5, 500, DISK_E_AUTH);
  assert_int_equal(e->http_status, 401);
  assert_int_equal(peer_requests(x->peer, NULL, 0), 2);
}

static void test_open_errors(void **state)
{
  struct test_fx *x = *state;
  const struct disk_vfs *vfs = https_site_vfs(x->site);
  struct disk_file *f = (struct disk_file *)1;

  assert_int_equal(vfs->open(vfs, "[ds1] vm/missing.vmdk", 0, &f),
                   DISK_E_NOTFOUND);
  assert_null(f);
  assert_int_equal(disk_last_error()->http_status, 404);
  assert_int_equal(vfs->open(vfs, FILE1, DISK_VFS_WRITE, &f),
                   DISK_E_NOTCAPABLE);
  assert_int_equal(vfs->open(vfs, "[ds9] vm/x.vmdk", 0, &f), DISK_E_NAME);
  assert_int_equal(vfs->open(vfs, "/vmfs/volumes/vol-1/x.vmdk", 0, &f),
                   DISK_E_NAME);
  assert_int_equal(vfs->open(vfs, "[ds1] ../x.vmdk", 0, &f), DISK_E_NAME);
  assert_int_equal(vfs->open(vfs, "[ds1] ", 0, &f), DISK_E_NAME);
  script1(x, PEER_STATUS, 503, "");
  assert_int_equal(vfs->open(vfs, FILE1, 0, &f), DISK_OK); /* repeated */
  test_close(f);
  script1(x, PEER_STATUS, 401, "");
  assert_int_equal(vfs->open(vfs, FILE1, 0, &f), DISK_E_AUTH);
  assert_null(f);
  for (int g = 1; g <= 3; g++) {
    x->auth.garble = g;
    peer_clear(x->peer);
    assert_int_equal(vfs->open(vfs, FILE1, 0, &f), DISK_E_ARG);
    assert_int_equal(peer_requests(x->peer, NULL, 0), 0);
  }
  x->auth.garble = 0;
  x->auth.fail = DISK_E_AUTH;
  peer_clear(x->peer);
  assert_int_equal(vfs->open(vfs, FILE1, 0, &f), DISK_E_AUTH);
  assert_string_equal(disk_last_error()->detail, "test auth refused");
  assert_int_equal(peer_requests(x->peer, NULL, 0), 0);
}

static void test_timeouts(void **state)
{
  struct test_fx *x = *state;
  struct disk_file *f;
  /* valgrind (and a loaded machine) make the HEAD before them slow */
  long scale = fvx_test_under_valgrind() ? 5 : 1;
  double t0;

  x->o.timeout_ms = 1500 * scale;
  make_site(x);
  f = open1(x, FILE1);
  script1(x, PEER_DELAY, 60000, NULL);
  t0 = now_s();
  fail_read(f, 0, 4096, DISK_E_NET_TIMEOUT);
  assert_true(now_s() - t0 < 15.0 * (double)scale);
  assert_int_equal(peer_requests(x->peer, NULL, 0), 1); /* not repeated */

  x->o.timeout_ms = 120000;
  x->o.stall_timeout_ms = 1000 * scale;
  make_site(x);
  f = open1(x, FILE1);
  script1(x, PEER_STALL, 100, NULL);
  t0 = now_s();
  fail_read(f, 0, 65536, DISK_E_NET_TIMEOUT);
  assert_true(now_s() - t0 < 20.0 * (double)scale);
  check_read(f, x->d1, SIZE1, 0, 65536);
}

static void test_connect_errors(void **state)
{
  struct test_fx *x = *state;
  const struct disk_vfs *vfs;
  struct disk_file *f;
  struct http_peer *gone = peer_start(NULL);
  char base[64];

  snprintf(base, sizeof base, "http://127.0.0.1:%d", peer_port(gone));
  peer_stop(gone);
  x->o.base = base;
  make_site(x);
  vfs = https_site_vfs(x->site);
  assert_int_equal(vfs->open(vfs, FILE1, 0, &f), DISK_E_NET_CONNECT);
  assert_non_null(strstr(disk_last_error()->detail, "cannot connect"));

  x->o.base = "http://nonexistent.invalid";
  x->o.connect_timeout_ms = 5000;
  make_site(x);
  vfs = https_site_vfs(x->site);
  assert_int_equal(vfs->open(vfs, FILE1, 0, &f), DISK_E_NET_RESOLVE);
}

static void test_host_override(void **state)
{
  struct test_fx *x = *state;
  char base[64], map[160];
  int port = peer_port(x->peer);

  snprintf(base, sizeof base, "http://esx1.invalid:%d", port);
  snprintf(map, sizeof map, "esx1.invalid:%d:127.0.0.1:%d,"
           "esx2.invalid:%d:127.0.0.1:%d", port, port, port, port);
  x->o.base = base;
  x->o.connect_to = map;
  make_site(x);
  peer_clear(x->peer);
  open1(x, FILE1);
  peer_requests(x->peer, reqs, 256);
  snprintf(map, sizeof map, "esx1.invalid:%d", port);
  assert_string_equal(reqs[0].host, map);
  snprintf(map, sizeof map, "http://esx1.invalid:%d" PATH1
           "?dcPath=dc&dsName=ds1", port);
  assert_string_equal(x->auth.last_url, map);

  /* a ticket for another host: the request goes there, by name */
  snprintf(x->auth.host, sizeof x->auth.host, "esx2.invalid");
  check_read(x->f, x->d1, SIZE1, 0, 1000);
  peer_requests(x->peer, reqs, 256);
  snprintf(map, sizeof map, "esx2.invalid:%d", port);
  assert_string_equal(reqs[1].host, map);
  snprintf(map, sizeof map, "http://esx1.invalid:%d" PATH1
           "?dcPath=dc&dsName=ds1", port);
  assert_string_equal(x->auth.last_url, map); /* the ticket's URL */
  snprintf(x->auth.host, sizeof x->auth.host, "bad/host");
  fail_read(x->f, 0, 10, DISK_E_ARG);
}

/* An alloc callback answering for ds1 files only: the first 4 KiB
 * allocated, the rest not. */
static int alloc_fn(void *opaque, const char *ds_path, uint64_t off,
                    uint64_t len, uint64_t *run, bool *allocated)
{
  (void)opaque;
  if (strncmp(ds_path, "[ds1] ", 6) != 0)
    return DISK_E_NOTCAPABLE;
  if (off < 4096) {
    *allocated = true;
    *run = 4096 - off < len ? 4096 - off : len;
  } else {
    *allocated = false;
    *run = len;
  }
  return DISK_OK;
}

static void test_alloc(void **state)
{
  struct test_fx *x = *state;
  struct disk_file *f;
  uint64_t run;
  bool a;

  x->o.alloc = alloc_fn;
  make_site(x);
  f = open1(x, FILE1);
  assert_int_equal(f->caps, DISK_FILE_CONCURRENT | DISK_FILE_CAN_ALLOC);
  assert_int_equal(f->ops->allocated(f, 0, 10000, &run, &a), DISK_OK);
  assert_true(a);
  assert_int_equal(run, 4096);
  assert_int_equal(f->ops->allocated(f, 5000, 10000, &run, &a), DISK_OK);
  assert_false(a);
  assert_int_equal(run, 10000);
  f = open1(x, FILE2);
  assert_int_equal(f->caps, DISK_FILE_CONCURRENT);
}

static void test_no_secrets(void **state)
{
  struct test_fx *x = *state;
  struct disk_file *f;
  struct peer_step drops[4] = {{PEER_DROP, 1, NULL}, {PEER_DROP, 1, NULL},
                               {PEER_DROP, 1, NULL}, {PEER_DROP, 1, NULL}};

  test_log_start();
  f = open1(x, FILE1);
  script1(x, PEER_STATUS, 401, "bad cookie vmware_cgi_ticket=T1-" TEST_SECRET);
  fail_read(f, 0, 10, DISK_E_AUTH);
  peer_script(x->peer, drops, 4);
  fail_read(f, 0, 10, DISK_E_NET_CONNECT);
  script1(x, PEER_STATUS, 503, NULL);
  check_read(f, x->d1, SIZE1, 0, 10);
  script1(x, PEER_FULL200, 0, NULL);
  fail_read(f, 0, 10, DISK_E_NET_PROTOCOL);
  assert_true(test_log_has("retrying")); /* the sink did see lines */
  assert_false(test_log_has(TEST_SECRET));
  assert_false(test_log_has("vmware_cgi_ticket"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_exact_bytes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_past_end, setup, teardown),
      cmocka_unit_test_setup_teardown(test_encoded_path, setup, teardown),
      cmocka_unit_test_setup_teardown(test_no_dcpath, setup, teardown),
      cmocka_unit_test_setup_teardown(test_long_name, setup, teardown),
      cmocka_unit_test_setup_teardown(test_drop_resumes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_drop_gives_up, setup, teardown),
      cmocka_unit_test_setup_teardown(test_protocol_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_odd_but_right, setup, teardown),
      cmocka_unit_test_setup_teardown(test_statuses, setup, teardown),
      cmocka_unit_test_setup_teardown(test_503, setup, teardown),
      cmocka_unit_test_setup_teardown(test_ticket_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_timeouts, setup, teardown),
      cmocka_unit_test_setup_teardown(test_connect_errors, setup, teardown),
      cmocka_unit_test_setup_teardown(test_host_override, setup, teardown),
      cmocka_unit_test_setup_teardown(test_alloc, setup, teardown),
      cmocka_unit_test_setup_teardown(test_no_secrets, setup, teardown),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
