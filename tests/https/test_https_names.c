/*
 * test_https_names.c -- the parts of src/https that need no network:
 * datastore paths and resolve(), percent-encoding and URLs, the parsers of
 * answer heads, and the option checks of https_site_new.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "https/head.h"
#include "https/internal.h"
#include "https_test.h"

static struct https_site *site(const struct https_options *o)
{
  struct https_site *s = NULL;

  assert_int_equal(https_site_new(&s, o), DISK_OK);
  return s;
}

static void test_split(void **state)
{
  char ds[HTTPS_DS_MAX], rel[HTTPS_PATH_MAX];

  (void)state;
  assert_int_equal(https_path_split("[ds1] vm/x.vmdk", ds, rel), DISK_OK);
  assert_string_equal(ds, "ds1");
  assert_string_equal(rel, "vm/x.vmdk");
  assert_int_equal(https_path_split("[my ds]a//./b/../c.vmdk", ds, rel),
                   DISK_OK);
  assert_string_equal(ds, "my ds");
  assert_string_equal(rel, "a/c.vmdk");
  assert_int_equal(https_path_split("ds1 vm/x.vmdk", ds, rel), DISK_E_NAME);
  assert_int_equal(https_path_split("[] x", ds, rel), DISK_E_NAME);
  assert_int_equal(https_path_split("[ds1 x", ds, rel), DISK_E_NAME);
  assert_int_equal(https_path_split("[ds1] /x", ds, rel), DISK_E_NAME);
  assert_int_equal(https_path_split("[ds1] a/../../x", ds, rel),
                   DISK_E_NAME);
  assert_int_equal(https_path_split("[ds1] a/..", ds, rel), DISK_E_NAME);
  assert_int_equal(https_path_split("[ds1] a\nb", ds, rel), DISK_E_NAME);
  assert_int_equal(https_path_split(NULL, ds, rel), DISK_E_NAME);
}

static void test_resolve(void **state)
{
  struct https_options o;
  struct test_auth a = {0};
  struct https_site *s;
  const struct disk_vfs *v;
  char *r;
  int st;
  static const struct {
    const char *base, *name, *want; /* want NULL: DISK_E_NAME */
  } cases[] = {
      {"[ds1] vm/x.vmdk", "x-flat.vmdk", "[ds1] vm/x-flat.vmdk"},
      {"[ds1] vm/x.vmdk", "sub/y.vmdk", "[ds1] vm/sub/y.vmdk"},
      {"[ds1] vm/x.vmdk", "../base/b.vmdk", "[ds1] base/b.vmdk"},
      {"[ds1] x.vmdk", "a b \xc3\xa9.vmdk", "[ds1] a b \xc3\xa9.vmdk"},
      {"[ds1] vm/x.vmdk", "../../b.vmdk", NULL},
      {"[ds1] x.vmdk", "../b.vmdk", NULL},
      {"[ds1] vm/x.vmdk", "/vmfs/volumes/vol-1/base/b.vmdk",
       "[ds1] base/b.vmdk"},
      {"[ds1] vm/x.vmdk", "/vmfs/volumes/ds 2/base/b.vmdk",
       "[ds 2] base/b.vmdk"},
      {"[ds 2] vm/x.vmdk", "/vmfs/volumes/vol-1/./c/../b.vmdk",
       "[ds1] b.vmdk"},
      {"[ds1] vm/x.vmdk", "/vmfs/volumes/vol-9/b.vmdk", NULL},
      {"[ds1] vm/x.vmdk", "/vmfs/volumes/vol-1/../vol-9/b.vmdk", NULL},
      {"[ds1] vm/x.vmdk", "/vmfs/volumes/vol-1/", NULL},
      {"[ds1] vm/x.vmdk", "/etc/passwd", NULL},
      {"[ds1] vm/x.vmdk", "[ds 2] b.vmdk", NULL},
      {"[ds1] vm/x.vmdk", "vsan://52a/b.vmdk", NULL},
      {"[ds1] vm/x.vmdk", "", NULL},
      {"[ds1] vm/x.vmdk", ".", NULL},
      {"[ds9] vm/x.vmdk", "y.vmdk", NULL},
  };

  (void)state;
  test_options(&o, 1, false, &a);
  s = site(&o);
  v = https_site_vfs(s);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    st = 12345;
    r = v->resolve(v, cases[i].base, cases[i].name, &st);
    if (cases[i].want) {
      if (!r)
        fail_msg("%s + %s: %s", cases[i].base, cases[i].name,
                 disk_last_error()->detail);
      assert_int_equal(st, DISK_OK);
      assert_string_equal(r, cases[i].want);
    } else {
      if (r)
        fail_msg("%s + %s gave %s", cases[i].base, cases[i].name, r);
      assert_int_equal(st, DISK_E_NAME);
    }
    free(r);
  }
  https_site_free(s);
}

static void test_urls(void **state)
{
  char out[64] = "";
  char *t;

  (void)state;
  assert_true(https_pct_encode(out, sizeof out, "a b/c~_.-%?&=+#\xc3\xa9",
                               true));
  assert_string_equal(out, "a%20b/c~_.-%25%3F%26%3D%2B%23%C3%A9");
  out[0] = '\0';
  assert_true(https_pct_encode(out, sizeof out, "x/y", false));
  assert_string_equal(out, "x%2Fy");
  out[0] = '\0';
  assert_false(https_pct_encode(out, 4, "abcd", false));
  t = https_url_tail("vm 1/x.vmdk", "dc/sub dc", "ds&1");
  assert_string_equal(t, "/folder/vm%201/x.vmdk?dcPath=dc%2Fsub%20dc"
                         "&dsName=ds%261");
  free(t);
  t = https_url_tail("x.vmdk", NULL, "ds1");
  assert_string_equal(t, "/folder/x.vmdk?dsName=ds1");
  free(t);
}

static void test_base(void **state)
{
  struct https_base b;
  char o[300];

  (void)state;
  assert_int_equal(https_base_parse(&b, "https://vc.example.com", false),
                   DISK_OK);
  assert_true(b.tls);
  assert_string_equal(b.host, "vc.example.com");
  assert_int_equal(b.port, 0);
  assert_int_equal(https_origin(o, sizeof o, &b, NULL), DISK_OK);
  assert_string_equal(o, "https://vc.example.com");
  assert_int_equal(https_origin(o, sizeof o, &b, "fe80::1"), DISK_OK);
  assert_string_equal(o, "https://[fe80::1]");
  assert_int_equal(https_origin(o, sizeof o, &b, "a@b"), DISK_E_ARG);
  assert_int_equal(https_base_parse(&b, "HTTPS://[::1]:8443/", false),
                   DISK_OK);
  assert_string_equal(b.host, "[::1]");
  assert_int_equal(b.port, 8443);
  assert_int_equal(https_origin(o, sizeof o, &b, "esx-2.lan"), DISK_OK);
  assert_string_equal(o, "https://esx-2.lan:8443");
  assert_int_equal(https_base_parse(&b, "http://h", false), DISK_E_ARG);
  assert_int_equal(https_base_parse(&b, "http://h:80", true), DISK_OK);
  assert_false(b.tls);
  assert_int_equal(https_base_parse(&b, "ftp://h", true), DISK_E_ARG);
  assert_int_equal(https_base_parse(&b, "https://h/sdk", false), DISK_E_ARG);
  assert_int_equal(https_base_parse(&b, "https://u@h", false), DISK_E_ARG);
  assert_int_equal(https_base_parse(&b, "https://h:0", false), DISK_E_ARG);
  assert_int_equal(https_base_parse(&b, "https://h:99999", false),
                   DISK_E_ARG);
  assert_int_equal(https_base_parse(&b, "https://", false), DISK_E_ARG);
}

static void test_options_checked(void **state)
{
  struct https_options o;
  struct test_auth a = {0};
  struct https_site *s = (struct https_site *)1;
  static const struct https_datastore dup[] = {{"x", NULL}, {"x", NULL}};
  static const struct https_datastore badvol[] = {{"x", "/tmp/x"}};
  static const struct https_datastore dsurl[] = {
      {"x", "ds:///vmfs/volumes/5f0e-1a/"}};

  (void)state;
  test_options(&o, 1, false, &a);
  s = site(&o);
  https_site_free(s);
  https_site_free(NULL);
  o.auth = NULL;
  assert_int_equal(https_site_new(&s, &o), DISK_E_ARG);
  assert_null(s);
  test_options(&o, 1, false, &a);
  o.allow_http = false;
  assert_int_equal(https_site_new(&s, &o), DISK_E_ARG);
  test_options(&o, 1, true, &a);
  o.thumbprint = "12:34";
  assert_int_equal(https_site_new(&s, &o), DISK_E_ARG);
  test_options(&o, 1, false, &a);
  o.connect_to = "a:1:b";
  assert_int_equal(https_site_new(&s, &o), DISK_E_ARG);
  o.connect_to = "a:1:b:2,,c::d:";
  assert_int_equal(https_site_new(&s, &o), DISK_E_ARG);
  o.connect_to = "a:x:b:2";
  assert_int_equal(https_site_new(&s, &o), DISK_E_ARG);
  o.connect_to = "a:1:[::1]:2,:443:10.0.0.1:";
  s = site(&o);
  https_site_free(s);
  test_options(&o, 1, false, &a);
  o.datastores = dup;
  assert_int_equal(https_site_new(&s, &o), DISK_E_ARG);
  o.datastores = badvol;
  o.n_datastores = 1;
  assert_int_equal(https_site_new(&s, &o), DISK_E_ARG);
  o.datastores = dsurl;
  s = site(&o);
  https_site_free(s);
  o.n_datastores = 0;
  assert_int_equal(https_site_new(&s, &o), DISK_E_ARG);
  test_options(&o, 1, false, &a);
  o.timeout_ms = -1;
  assert_int_equal(https_site_new(&s, &o), DISK_E_ARG);
  test_options(&o, 1, false, &a);
  o.max_connections = 100000;
  assert_int_equal(https_site_new(&s, &o), DISK_E_ARG);
  assert_int_equal(https_site_new(&s, NULL), DISK_E_ARG);
}

static void feed(struct https_head *h, const char *const *lines)
{
  https_head_reset(h);
  for (; *lines; lines++)
    https_head_line(h, *lines, strlen(*lines));
}

static void test_heads(void **state)
{
  struct https_head h;
  uint64_t a, b, t;
  bool known;
  long code;
  char reason[8];
  const char *ok[] = {"HTTP/1.1 100 Continue\r\n", "\r\n",
                      "HTTP/1.1 206 Partial Content\r\n",
                      "content-range:  bytes 10-19/100 \r\n",
                      "Content-Length: 10\r\n", "Retry-After: 5\r\n",
                      "Transfer-Encoding: gzip, Chunked\r\n", "\r\n", NULL};
  const char *twice[] = {"HTTP/1.1 206 x\r\n", "Content-Length: 10\r\n",
                         "Content-Length: 11\r\n", "\r\n", NULL};
  const char *folded[] = {"HTTP/1.1 206 x\r\n", "Content-Range: bytes\r\n",
                          " 0-1/2\r\n", "\r\n", NULL};
  const char *enc[] = {"HTTP/1.0 200\r\n", "Content-Encoding: identity\r\n",
                       "\r\n", NULL};

  (void)state;
  feed(&h, ok);
  assert_true(h.done);
  assert_false(h.bad);
  assert_int_equal(h.status, 206);
  assert_string_equal(h.reason, "Partial Content");
  assert_true(h.has_range && h.total_known);
  assert_int_equal(h.first, 10);
  assert_int_equal(h.last, 19);
  assert_int_equal(h.total, 100);
  assert_int_equal(h.length, 10);
  assert_int_equal(h.retry_after, 5);
  assert_true(h.chunked);
  feed(&h, twice);
  assert_true(h.bad);
  assert_string_equal(h.bad_what, "Content-Length");
  feed(&h, folded);
  assert_true(h.bad);
  feed(&h, enc);
  assert_false(h.encoded);
  assert_int_equal(h.status, 200);

  assert_true(https_parse_content_range("bytes 0-0/*", 11, &a, &b, &t,
                                        &known));
  assert_false(known);
  assert_false(https_parse_content_range("bytes */100", 11, &a, &b, &t,
                                         &known));
  assert_false(https_parse_content_range("bytes 5-4/100", 13, &a, &b, &t,
                                         &known));
  assert_false(https_parse_content_range("bytes 0-99/99", 13, &a, &b, &t,
                                         &known));
  assert_false(https_parse_content_range("items 0-1/2", 11, &a, &b, &t,
                                         &known));
  assert_false(https_parse_content_range("bytes=0-1/2", 11, &a, &b, &t,
                                         &known));
  assert_false(https_parse_content_range(
      "bytes 0-9223372036854775808/9223372036854775809", 47, &a, &b, &t,
      &known));
  assert_true(https_parse_number(" 9223372036854775807\t", 21, &a));
  assert_false(https_parse_number("9223372036854775808", 19, &a));
  assert_false(https_parse_number("-1", 2, &a));
  assert_false(https_parse_number("1,1", 3, &a));
  assert_false(https_parse_number("", 0, &a));
  assert_true(https_parse_status("HTTP/2 404 Not Found and more", 29, &code,
                                 reason, sizeof reason));
  assert_int_equal(code, 404);
  assert_string_equal(reason, "Not Fou");
  assert_false(https_parse_status("HTTP/1.1 20x OK", 15, &code, reason,
                                  sizeof reason));
  assert_false(https_parse_status("HTTP/1.1 2000 OK", 16, &code, reason,
                                  sizeof reason));
  assert_false(https_parse_status("HTTP/1.1 20", 11, &code, reason,
                                  sizeof reason));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_split),
      cmocka_unit_test(test_resolve),
      cmocka_unit_test(test_urls),
      cmocka_unit_test(test_base),
      cmocka_unit_test(test_options_checked),
      cmocka_unit_test(test_heads),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
