/* https_test.c -- see https_test.h. */
#include "https_test.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "util/log.h"

static pthread_mutex_t auth_lock = PTHREAD_MUTEX_INITIALIZER;

int test_auth_fn(void *opaque, const char *url, const char *method,
                 struct https_auth *out)
{
  struct test_auth *a = opaque;
  unsigned n;

  pthread_mutex_lock(&auth_lock);
  n = ++a->calls;
  snprintf(a->last_url, sizeof a->last_url, "%s", url);
  snprintf(a->last_method, sizeof a->last_method, "%s", method);
  pthread_mutex_unlock(&auth_lock);
  if (a->fail)
    return disk_fail(a->fail, "test auth refused");
  snprintf(out->cookie, sizeof out->cookie, "%sT%u-" TEST_SECRET,
           a->prefix ? a->prefix : "vmware_cgi_ticket=", n);
  snprintf(out->host, sizeof out->host, "%s", a->host);
  snprintf(out->thumbprint, sizeof out->thumbprint, "%s", a->thumbprint);
  out->single_use = a->single_use;
  if (a->garble == 1)
    memset(out->cookie, 'c', sizeof out->cookie);
  if (a->garble == 2)
    snprintf(out->cookie, sizeof out->cookie, "a=b\r\nX-Evil: 1");
  if (a->garble == 3)
    memset(out->host, 'h', sizeof out->host);
  return DISK_OK;
}

void test_options(struct https_options *o, int port, bool tls,
                  struct test_auth *a)
{
  static char base[64];
  static const struct https_datastore ds[] = {
      {"ds1", "/vmfs/volumes/vol-1/"}, {"ds 2", NULL}};

  memset(o, 0, sizeof *o);
  snprintf(base, sizeof base, "%s://127.0.0.1:%d", tls ? "https" : "http",
           port);
  o->base = base;
  o->dc_path = "dc";
  o->datastores = ds;
  o->n_datastores = 2;
  o->allow_http = !tls;
  o->connect_timeout_ms = 20000;
  o->timeout_ms = 60000;
  o->stall_timeout_ms = 30000;
  o->max_retries = 3;
  o->max_connections = 2;
  o->auth = test_auth_fn;
  o->auth_opaque = a;
}

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char *log_text;
static size_t log_len;

static void sink(void *opaque, enum fvx_log_level level, const char *msg)
{
  size_t n = strlen(msg);
  char *t;

  (void)opaque;
  (void)level;
  pthread_mutex_lock(&log_lock);
  t = realloc(log_text, log_len + n + 2);
  if (t) {
    log_text = t;
    memcpy(log_text + log_len, msg, n);
    log_len += n;
    log_text[log_len++] = '\n';
    log_text[log_len] = '\0';
  }
  pthread_mutex_unlock(&log_lock);
}

void test_log_start(void)
{
  fvx_log_set_level(FVX_LOG_DEBUG);
  fvx_log_set_sink(sink, NULL);
}

void test_log_stop(void)
{
  fvx_log_set_sink(NULL, NULL);
  fvx_log_set_level(FVX_LOG_INFO);
  pthread_mutex_lock(&log_lock);
  free(log_text);
  log_text = NULL;
  log_len = 0;
  pthread_mutex_unlock(&log_lock);
}

bool test_log_has(const char *s)
{
  bool r;

  pthread_mutex_lock(&log_lock);
  r = log_text && strstr(log_text, s);
  pthread_mutex_unlock(&log_lock);
  return r;
}

unsigned char *test_pattern(unsigned seed, size_t n)
{
  unsigned char *b = malloc(n ? n : 1);

  for (size_t i = 0; b && i < n; i++)
    b[i] = test_byte(seed, i);
  return b;
}

int test_pread(struct disk_file *f, void *buf, size_t len, uint64_t off,
               size_t *got)
{
  return f->ops->pread(f, buf, len, off, got);
}

void test_close(struct disk_file *f)
{
  if (f)
    f->ops->close(f);
}

struct test_fx *test_fx_new(bool tls)
{
  struct test_fx *x = calloc(1, sizeof *x);

  if (!x)
    abort();
  snprintf(x->dir, sizeof x->dir, "%s", fvx_test_tmpdir());
  x->tls = tls;
  if (tls)
    peer_tls_make(&x->cert, x->dir);
  x->peer = peer_start(tls ? &x->cert : NULL);
  test_options(&x->o, peer_port(x->peer), tls, &x->auth);
  return x;
}

void test_fx_free(struct test_fx *x)
{
  test_close(x->f);
  https_site_free(x->site);
  peer_stop(x->peer);
  if (x->tls)
    peer_tls_free(&x->cert);
  test_log_stop();
  fvx_test_rmtree(x->dir);
  free(x->d1);
  free(x->d2);
  free(x);
}

int test_fx_site(struct test_fx *x)
{
  test_close(x->f);
  x->f = NULL;
  https_site_free(x->site);
  x->site = NULL;
  return https_site_new(&x->site, &x->o);
}

int test_fx_open(struct test_fx *x, const char *name)
{
  const struct disk_vfs *vfs = https_site_vfs(x->site);

  test_close(x->f);
  x->f = NULL;
  return vfs->open(vfs, name, 0, &x->f);
}
