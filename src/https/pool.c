/*
 * pool.c -- the keep-alive connections of a site.
 *
 * Each entry is one libcurl easy handle, used by one thread at a time.  A
 * handle's connection cache is held to one connection (CURLOPT_MAXCONNECTS
 * 1), so an entry is one TCP (and TLS) connection: the pool is at most
 * max_connections connections to the server, each kept open between
 * requests.  Handles are made on first need; a thread that finds them all
 * busy waits on the site's condition variable (every holder is bounded by
 * the request timeout, so the wait is too).
 *
 * Options that never change are set here once; request.c sets the
 * per-request ones (URL, range, headers, TLS pin) before each transfer.
 */
#include <string.h>

#include "disk/disk.h"
#include "disk/error.h"
#include "https/internal.h"
#include "util/log.h"

/* Receive buffer of a handle: larger than libcurl's 16 KiB default so a
 * bulk read makes fewer write callbacks (a fixed size, not a server's). */
#define HTTPS_RECV_BUFFER (256L * 1024)

static bool configure(struct https_site *s, struct https_conn *c)
{
  CURL *h = c->curl;
  bool ok = true;

  ok &= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR,
                         s->base.tls ? "https" : "http") == CURLE_OK;
  ok &= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
  ok &= curl_easy_setopt(h, CURLOPT_HTTP_VERSION,
                         (long)CURL_HTTP_VERSION_1_1) == CURLE_OK;
  ok &= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
  ok &= curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK;
  ok &= curl_easy_setopt(h, CURLOPT_MAXCONNECTS, 1L) == CURLE_OK;
  ok &= curl_easy_setopt(h, CURLOPT_BUFFERSIZE, HTTPS_RECV_BUFFER) ==
        CURLE_OK;
  ok &= curl_easy_setopt(h, CURLOPT_USERAGENT,
                         "freevix/" FREEVIX_VERSION
                         " (VixDiskLib-compatible vSphere client)") ==
        CURLE_OK;
  ok &= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                         s->connect_timeout_ms) == CURLE_OK;
  ok &= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, s->timeout_ms) == CURLE_OK;
  ok &= curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L) == CURLE_OK;
  ok &= curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, s->stall_s) == CURLE_OK;
  ok &= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf) == CURLE_OK;
  ok &= curl_easy_setopt(h, CURLOPT_VERBOSE, 0L) == CURLE_OK;
  /* a resumed TLS session skips the certificate, hence the pin check */
  ok &= curl_easy_setopt(h, CURLOPT_SSL_SESSIONID_CACHE, 0L) == CURLE_OK;
  if (s->connect_to)
    ok &= curl_easy_setopt(h, CURLOPT_CONNECT_TO, s->connect_to) ==
          CURLE_OK;
  return ok;
}

static int create(struct https_site *s, struct https_conn *c)
{
  memset(c, 0, sizeof *c);
  c->curl = curl_easy_init();
  if (!c->curl)
    return disk_fail(DISK_E_NOMEM, "https: curl_easy_init failed");
  c->tls.ca_file = s->ca_file;
  c->tls.insecure = s->insecure;
  c->tls.peer = s->base.host;
  c->tls.handshakes = &s->stats.tls_handshakes;
  if (!configure(s, c)) {
    curl_easy_cleanup(c->curl);
    c->curl = NULL;
    return disk_fail(DISK_E_NOMEM, "https: cannot configure libcurl");
  }
  return DISK_OK;
}

int https_pool_take(struct https_site *s, struct https_conn **out)
{
  struct https_conn *fresh = NULL;
  int rc = DISK_OK;

  *out = NULL;
  pthread_mutex_lock(&s->lock);
  for (;;) {
    for (unsigned i = 0; i < s->max_conns; i++) {
      struct https_conn *c = &s->conns[i];

      if (c->busy)
        continue;
      if (c->curl) {
        *out = c;
        break;
      }
      if (!fresh)
        fresh = c;
    }
    if (*out || fresh)
      break;
    pthread_cond_wait(&s->idle, &s->lock);
  }
  if (!*out) {
    rc = create(s, fresh);
    if (rc == DISK_OK)
      *out = fresh;
  }
  if (*out)
    (*out)->busy = true;
  pthread_mutex_unlock(&s->lock);
  return rc;
}

void https_pool_give(struct https_site *s, struct https_conn *c)
{
  pthread_mutex_lock(&s->lock);
  c->busy = false;
  pthread_cond_signal(&s->idle);
  pthread_mutex_unlock(&s->lock);
}

void https_pool_close(struct https_site *s)
{
  for (unsigned i = 0; s->conns && i < s->max_conns; i++) {
    if (s->conns[i].curl)
      curl_easy_cleanup(s->conns[i].curl);
    s->conns[i].curl = NULL;
  }
}
