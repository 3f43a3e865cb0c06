/*
 * request.c -- one HTTP exchange of a site, and the bounded retry loop
 * around it.
 *
 * An exchange asks the auth callback for this request's Cookie (and
 * perhaps another host and pin: a generic service ticket is single use and
 * bound to one URL and method, so every request, every resume included,
 * gets its own), takes a pooled connection, and sends one GET with
 * "Range: bytes=a-b" or one HEAD.  The answer's head is checked the moment
 * it is complete (in the header callback): a GET is accepted only as 206
 * with the Content-Range asked for, a Content-Length (when sent) equal to
 * the range, and no Content-Encoding; anything else in 2xx stops the
 * transfer there, before any body byte is stored.  The body of an accepted
 * 206 goes straight into the caller's buffer, and a byte beyond the range
 * stops the transfer too: nothing is allocated from a server-sent length
 * and nothing is written past the buffer.  Error answers keep the first
 * bytes of their body (a fixed buffer) to tell a lock or a permission
 * refusal, and are not read beyond ERRBODY_READ_MAX.
 *
 * The loop repeats an exchange that failed in a way a repeat can mend --
 * the connection dropped (the next GET asks only for the bytes still
 * missing), 503, or a single-use ticket refused with 401 (once, with a
 * fresh ticket) -- at most max_retries times with capped exponential
 * backoff (or the server's Retry-After, capped likewise).  Nothing else is
 * repeated: a timeout already waited as long as allowed, and an HTTP
 * refusal will not change.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "disk/disk.h"
#include "disk/error.h"
#include "https/internal.h"
#include "util/curl.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/text.h"

/* How much of an error answer's body is kept, and read at most. */
#define ERRBODY_KEEP 512
#define ERRBODY_READ_MAX (64 * 1024)
/* How much of the URL a detail shows (the detail holds 511 bytes). */
#define WHAT_URL_MAX 240

struct exchange {
  struct https_site *s;
  struct https_conn *conn;
  bool head_only;       /* HEAD (else a ranged GET) */
  const char *tail;     /* the URL's path and query */
  char *buf;            /* GET: the caller's buffer ... */
  uint64_t first;       /* ... for bytes [first, first + want) */
  size_t want;
  char what[WHAT_URL_MAX + 64]; /* "GET <url> bytes=a-b", for details */
  char *url;            /* the URL sent (owned) */

  struct https_head head;
  bool accepted;        /* the head passed the checks */
  int verdict;          /* a protocol failure found while receiving */
  size_t got;           /* body bytes stored in buf */
  bool single_use;      /* this try's cookie was a single-use ticket */
  bool reauthed;        /* a 401 was already repeated with a fresh one */
  char errbody[ERRBODY_KEEP];
  size_t errlen, errtotal;
  bool errcut;          /* stopped reading a long error body */
};

/* Records a protocol failure during the transfer; the callbacks then stop
 * it. */
static void verdict(struct exchange *x, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void verdict(struct exchange *x, const char *fmt, ...)
{
  char why[256];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  x->verdict = disk_fail_http(DISK_E_NET_PROTOCOL, x->head.status, "%s: %s",
                              x->what, why);
}

/* The checks of a complete head (see the top of the file). */
static void check_head(struct exchange *x)
{
  const struct https_head *h = &x->head;

  if (h->status < 200 || h->status >= 300)
    return; /* an error answer: classified after the transfer */
  if (x->head_only) {
    if (h->status != 200)
      verdict(x, "answered %ld %s to HEAD", h->status, h->reason);
    else if (h->bad)
      verdict(x, "malformed %s header", h->bad_what);
    else if (!h->has_length)
      verdict(x, "no Content-Length: the size of the file is unknown");
    else
      x->accepted = true;
    return;
  }
  if (h->status != 206)
    verdict(x, "answered %ld %s instead of 206 Partial Content (the "
               "server does not honour Range)", h->status, h->reason);
  else if (h->bad)
    verdict(x, "malformed %s header", h->bad_what);
  else if (!h->has_range)
    verdict(x, "206 without Content-Range");
  else if (h->first != x->first || h->last != x->first + x->want - 1)
    verdict(x, "Content-Range %" PRIu64 "-%" PRIu64 " is not the range "
               "asked for", h->first, h->last);
  else if (h->has_length && h->length != x->want)
    verdict(x, "Content-Length %" PRIu64 " for a range of %zu bytes",
            h->length, x->want);
  else if (h->encoded)
    verdict(x, "answer has a Content-Encoding (never asked for)");
  else
    x->accepted = true;
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
  struct exchange *x = ud;
  size_t n = size * nmemb;

  if (x->head.done && !(n >= 5 && memcmp(p, "HTTP/", 5) == 0))
    return n; /* trailers of a chunked body */
  if (n >= 5 && memcmp(p, "HTTP/", 5) == 0)
    x->accepted = false;
  https_head_line(&x->head, p, n);
  if (x->head.done)
    check_head(x);
  return x->verdict == DISK_OK ? n : 0; /* 0 stops the transfer */
}

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
  struct exchange *x = ud;
  size_t n = size * nmemb;

  if (x->verdict != DISK_OK)
    return 0;
  if (x->accepted && !x->head_only) {
    if (n > x->want - x->got) {
      verdict(x, "more than the %zu bytes asked for", x->want);
      return 0;
    }
    memcpy(x->buf + x->got, p, n);
    x->got += n;
    https_count(&x->s->stats.bytes, n);
    return n;
  }
  if (x->head.status < 300) {
    verdict(x, "body without an accepted answer head");
    return 0;
  }
  if (x->errlen + 1 < sizeof x->errbody) {
    size_t k = sizeof x->errbody - 1 - x->errlen;

    if (k > n)
      k = n;
    memcpy(x->errbody + x->errlen, p, k);
    x->errlen += k;
    x->errbody[x->errlen] = '\0';
  }
  x->errtotal += n;
  if (x->errtotal > ERRBODY_READ_MAX) {
    x->errcut = true;
    return 0;
  }
  return n;
}

/* The answer's body says the file is locked by another host or process
 * (ESXi's texts "... since it is locked", "Failed to lock the file",
 * msg.fileio.lock; an assumption, docs/https.md). */
static bool says_locked(const char *body)
{
  static const char *const marks[] = {"is locked", "file locked",
                                      "failed to lock", "fileio.lock",
                                      "resource busy", "lock owner"};

  for (size_t i = 0; i < FVX_ARRAY_SIZE(marks); i++)
    if (strcasestr(body, marks[i]))
      return true;
  return false;
}

/* Maps an HTTP error status; *retry for 503. */
static int status_fail(struct exchange *x, bool *retry)
{
  long st = x->head.status;
  const char *why = x->head.reason;

  if (st == 503) {
    *retry = true;
    return disk_fail_http(DISK_E_NET_HTTP, st, "%s: HTTP %ld %s (server "
                          "busy)", x->what, st, why);
  }
  if (st == 423 || ((st == 403 || st == 409 || st == 500) &&
                    says_locked(x->errbody)))
    return disk_fail_http(DISK_E_LOCKED, st, "%s: HTTP %ld %s: the file is "
                          "locked (a running VM or another host holds it)",
                          x->what, st, why);
  if (st == 401 && x->single_use && !x->reauthed) {
    /* A ticket refused on its first use (lapsed between acquiring and
     * sending, or the host restarted): one repeat with a fresh ticket.  A
     * session cookie would be refused again. */
    x->reauthed = true;
    *retry = true;
  }
  if (st == 401)
    return disk_fail_http(DISK_E_AUTH, st, "%s: HTTP 401 %s: the session "
                          "cookie or ticket was refused (expired, or a "
                          "ticket used twice)", x->what, why);
  if (st == 403 && strcasestr(x->errbody, "permission"))
    return disk_fail_http(DISK_E_ACCESS, st, "%s: HTTP 403 %s: no "
                          "permission (Datastore.Browse is needed)",
                          x->what, why);
  if (st == 403)
    return disk_fail_http(DISK_E_AUTH, st, "%s: HTTP 403 %s: the session "
                          "cookie or ticket was refused", x->what, why);
  if (st == 404)
    return disk_fail_http(DISK_E_NOTFOUND, st, "%s: HTTP 404 %s: no such "
                          "file", x->what, why);
  if (st == 416)
    return disk_fail_http(DISK_E_RANGE, st, "%s: HTTP 416 %s for a range "
                          "inside the file's size", x->what, why);
  return disk_fail_http(DISK_E_NET_HTTP, st, "%s: HTTP %ld %s", x->what, st,
                        why);
}

/* " after N of M bytes" for a GET, "" for a HEAD, into buf. */
static const char *progress(const struct exchange *x, char *buf, size_t n)
{
  buf[0] = '\0';
  if (!x->head_only)
    snprintf(buf, n, " after %zu of %zu bytes", x->got, x->want);
  return buf;
}

/* Maps a libcurl failure; *retry when the connection was lost. */
static int net_fail(struct exchange *x, CURLcode rc, bool *retry)
{
  const char *why = x->conn->errbuf[0] ? x->conn->errbuf
                                       : curl_easy_strerror(rc);
  char pin[256], part[64];

  switch (rc) {
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
    return disk_fail(DISK_E_NET_RESOLVE, "%s: cannot resolve the host: %s",
                     x->what, why);
  case CURLE_COULDNT_CONNECT:
    return disk_fail(DISK_E_NET_CONNECT, "%s: cannot connect: %s", x->what,
                     why);
  case CURLE_OPERATION_TIMEDOUT:
    return disk_fail(DISK_E_NET_TIMEOUT, "%s: timed out%s: %s", x->what,
                     progress(x, part, sizeof part), why);
  case CURLE_GOT_NOTHING:
  case CURLE_SEND_ERROR:
  case CURLE_RECV_ERROR:
  case CURLE_PARTIAL_FILE:
    *retry = true;
    return disk_fail(DISK_E_NET_CONNECT, "%s: connection lost%s: %s",
                     x->what, progress(x, part, sizeof part), why);
  case CURLE_OUT_OF_MEMORY:
    return disk_fail(DISK_E_NOMEM, "%s: out of memory in libcurl", x->what);
  case CURLE_WEIRD_SERVER_REPLY:
  case CURLE_BAD_CONTENT_ENCODING:
    return disk_fail(DISK_E_NET_PROTOCOL, "%s: malformed answer: %s",
                     x->what, why);
  case CURLE_PEER_FAILED_VERIFICATION:
    if (x->conn->tls.mismatch) {
      fvx_tls_mismatch_text(&x->conn->tls, pin, sizeof pin);
      return disk_fail(DISK_E_NET_PIN, "%s: the server's certificate does "
                       "not match the thumbprint: %s", x->what, pin);
    }
    return disk_fail(DISK_E_NET_TLS, "%s: the server's certificate is not "
                     "trusted (%s); give its thumbprint or a CA file",
                     x->what, why);
  default:
    if (x->conn->tls.mismatch) {
      fvx_tls_mismatch_text(&x->conn->tls, pin, sizeof pin);
      return disk_fail(DISK_E_NET_PIN, "%s: the server's certificate does "
                       "not match the thumbprint: %s", x->what, pin);
    }
    if (rc == CURLE_SSL_CONNECT_ERROR ||
        (rc >= CURLE_SSL_ENGINE_NOTFOUND && rc <= CURLE_SSL_CLIENTCERT))
      return disk_fail(DISK_E_NET_TLS, "%s: TLS failure: %s", x->what, why);
    return disk_fail(DISK_E_NET_CONNECT, "%s: transfer failed: %s", x->what,
                     why);
  }
}

/* The verdict on a finished transfer. */
static int judge(struct exchange *x, CURLcode rc, bool *retry)
{
  if (x->verdict != DISK_OK)
    return x->verdict;
  if (rc == CURLE_WRITE_ERROR && x->errcut)
    rc = CURLE_OK; /* we stopped reading an error body */
  if (x->head.done && x->head.status >= 300)
    return status_fail(x, retry);
  if (rc != CURLE_OK)
    return net_fail(x, rc, retry);
  if (!x->accepted)
    return disk_fail(DISK_E_NET_PROTOCOL, "%s: no usable answer", x->what);
  if (x->head_only || x->got == x->want)
    return DISK_OK;
  if (x->head.chunked)
    return disk_fail_http(DISK_E_NET_PROTOCOL, x->head.status, "%s: the "
                          "answer ended after %zu of %zu bytes", x->what,
                          x->got, x->want);
  /* close-delimited: the connection ended early */
  *retry = true;
  return disk_fail(DISK_E_NET_CONNECT, "%s: connection closed after %zu of "
                   "%zu bytes", x->what, x->got, x->want);
}

/* The Cookie header line for a's cookie, or NULL with *status set. */
static struct curl_slist *cookie_header(const struct https_auth *a,
                                        int *status)
{
  char line[sizeof a->cookie + 16];
  struct curl_slist *h;

  *status = DISK_OK;
  if (!memchr(a->cookie, '\0', sizeof a->cookie) ||
      strpbrk(a->cookie, "\r\n")) {
    *status = disk_fail(DISK_E_ARG, "https: the auth callback gave an "
                                    "unusable cookie");
    return NULL;
  }
  if (!a->cookie[0])
    return NULL;
  snprintf(line, sizeof line, "Cookie: %s", a->cookie);
  h = curl_slist_append(NULL, line);
  fvx_wipe(line, sizeof line);
  if (!h)
    *status = disk_fail(DISK_E_NOMEM, "out of memory");
  return h;
}

/* The pin for this request: the callback's, else the site's. */
static int request_pin(const struct https_site *s, const struct https_auth *a,
                       struct fvx_pin *pin)
{
  if (!memchr(a->thumbprint, '\0', sizeof a->thumbprint) ||
      !memchr(a->host, '\0', sizeof a->host))
    return disk_fail(DISK_E_ARG, "https: the auth callback gave an "
                                 "unterminated host or thumbprint");
  if (!a->thumbprint[0]) {
    *pin = s->pin;
    return DISK_OK;
  }
  if (fvx_pin_parse(pin, a->thumbprint) != 0)
    return disk_fail(DISK_E_ARG, "https: the auth callback gave a "
                                 "malformed thumbprint");
  return DISK_OK;
}

/* Builds x->url and x->what for host (NULL: the base's). */
static int make_url(struct exchange *x, const char *host)
{
  char origin[HTTPS_HOST_MAX + 32];
  size_t n;
  int rc = https_origin(origin, sizeof origin, &x->s->base, host);

  if (rc != DISK_OK)
    return rc;
  free(x->url);
  n = strlen(origin) + strlen(x->tail) + 1;
  x->url = malloc(n);
  if (!x->url)
    return disk_fail(DISK_E_NOMEM, "out of memory");
  snprintf(x->url, n, "%s%s", origin, x->tail);
  /* a very long URL is cut in the middle of the message, not its end */
  if (x->head_only)
    snprintf(x->what, sizeof x->what, "HEAD %.*s%s", WHAT_URL_MAX, x->url,
             strlen(x->url) > WHAT_URL_MAX ? "..." : "");
  else
    snprintf(x->what, sizeof x->what, "GET %.*s%s bytes=%" PRIu64
             "-%" PRIu64, WHAT_URL_MAX, x->url,
             strlen(x->url) > WHAT_URL_MAX ? "..." : "", x->first,
             x->first + x->want - 1);
  return DISK_OK;
}

/* Sets the per-request options of x->conn and runs the transfer. */
static CURLcode transfer(struct exchange *x, struct curl_slist *headers,
                         const struct fvx_pin *pin, const char *host)
{
  struct https_conn *c = x->conn;
  CURL *h = c->curl;
  char range[48];
  bool fresh;
  long connects = 0;
  CURLcode rc;

  snprintf(range, sizeof range, "%" PRIu64 "-%" PRIu64, x->first,
           x->first + x->want - 1);
  /* A kept connection was checked against its own pin: another pin for
   * the same host needs a new connection (MAXCONNECTS 1 then drops the
   * old one). */
  fresh = strcmp(c->conn_host, host) == 0 &&
          (c->conn_pin.len != pin->len ||
           memcmp(c->conn_pin.digest, pin->digest, pin->len) != 0);
  fvx_strlcpy(c->conn_host, host, sizeof c->conn_host);
  c->conn_pin = *pin;
  c->tls.peer = c->conn_host;
  c->tls.pin = *pin;
  c->tls.mismatch = false;
  c->errbuf[0] = '\0';
  curl_easy_setopt(h, CURLOPT_URL, x->url);
  if (x->head_only) {
    curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
    curl_easy_setopt(h, CURLOPT_RANGE, NULL);
  } else {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    curl_easy_setopt(h, CURLOPT_RANGE, range);
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, fresh ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, x);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, x);
  if (x->s->base.tls && !fvx_curl_set_tls(h, &c->tls))
    return CURLE_OUT_OF_MEMORY;
  rc = curl_easy_perform(h);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
  https_count(&x->s->stats.requests, 1);
  if (curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK &&
      connects > 0)
    https_count(&x->s->stats.connects, (uint64_t)connects);
  return rc;
}

/* One exchange: auth, connection, transfer, verdict.  *retry tells whether
 * a repeat may succeed. */
static int exchange(struct exchange *x, bool *retry)
{
  struct https_site *s = x->s;
  struct https_auth a;
  struct fvx_pin pin;
  struct curl_slist *headers = NULL;
  char host[HTTPS_HOST_MAX];
  CURLcode crc;
  int rc;

  *retry = false;
  memset(&a, 0, sizeof a);
  rc = make_url(x, NULL);
  if (rc == DISK_OK)
    rc = s->auth(s->auth_opaque, x->url, x->head_only ? "httpHead"
                                                      : "httpGet", &a);
  if (rc == DISK_OK)
    rc = request_pin(s, &a, &pin);
  if (rc == DISK_OK && a.host[0])
    rc = make_url(x, a.host);
  x->single_use = a.single_use;
  if (rc == DISK_OK)
    headers = cookie_header(&a, &rc);
  if (rc == DISK_OK) /* a.host is terminated (request_pin checked) */
    fvx_strlcpy(host, a.host[0] ? a.host : s->base.host, sizeof host);
  fvx_wipe(&a, sizeof a);
  if (rc == DISK_OK)
    rc = https_pool_take(s, &x->conn);
  if (rc != DISK_OK) {
    fvx_curl_free_headers(headers);
    return rc;
  }
  https_head_reset(&x->head);
  crc = transfer(x, headers, &pin, host);
  fvx_curl_free_headers(headers);
  rc = judge(x, crc, retry);
  https_pool_give(s, x->conn);
  x->conn = NULL;
  return rc;
}

/* Forgets the answer of the previous try. */
static void begin(struct exchange *x)
{
  x->got = 0;
  x->accepted = false;
  x->verdict = DISK_OK;
  x->errlen = x->errtotal = 0;
  x->errcut = false;
  x->errbody[0] = '\0';
}

static void nap(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

  while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
    ;
}

/* Decides on a repeat after a failed exchange (status rc): DISK_OK to try
 * again after a pause, or the final status (detail amended when the bound
 * was reached). */
static int may_repeat(struct exchange *x, int rc, bool retry, unsigned *tries)
{
  const struct disk_error *e = disk_last_error();
  long ms;

  if (!retry)
    return rc;
  if (*tries >= x->s->max_retries) {
    char detail[sizeof e->detail];
    long http = e->http_status;

    fvx_strlcpy(detail, e->detail, sizeof detail);
    return disk_fail_http(rc, http, "%s (gave up after %u retries)", detail,
                          *tries);
  }
  ms = *tries < 16 ? HTTPS_BACKOFF_BASE_MS << *tries : HTTPS_BACKOFF_CAP_MS;
  if (x->head.retry_after >= 0 && x->head.status == 503)
    ms = x->head.retry_after * 1000L;
  if (ms > HTTPS_BACKOFF_CAP_MS)
    ms = HTTPS_BACKOFF_CAP_MS;
  fvx_debug("https: %s; retrying in %ld ms (%u of %u)", e->detail, ms,
            *tries + 1, x->s->max_retries);
  (*tries)++;
  https_count(&x->s->stats.retries, 1);
  nap(ms);
  return DISK_OK;
}

/* Runs exchanges until one succeeds or may_repeat says stop; a GET
 * resumes after the bytes already stored (len 0 for a HEAD). */
static int run(struct exchange *x, char *buf, uint64_t off, size_t len)
{
  size_t done = 0;
  unsigned tries = 0;
  bool retry;
  int rc;

  for (;;) {
    x->buf = buf ? buf + done : NULL;
    x->first = off + done;
    x->want = len - done;
    begin(x);
    rc = exchange(x, &retry);
    done += x->got;
    if (rc == DISK_OK)
      break;
    rc = may_repeat(x, rc, retry, &tries);
    if (rc != DISK_OK)
      break;
  }
  free(x->url);
  x->url = NULL;
  return rc;
}

int https_fetch_size(struct https_site *s, const char *tail, uint64_t *size)
{
  struct exchange x;
  int rc;

  memset(&x, 0, sizeof x);
  x.s = s;
  x.tail = tail;
  x.head_only = true;
  rc = run(&x, NULL, 0, 0);
  if (rc == DISK_OK)
    *size = x.head.length;
  return rc;
}

int https_fetch_range(struct https_site *s, const char *tail, void *buf,
                      uint64_t off, size_t len)
{
  struct exchange x;

  memset(&x, 0, sizeof x);
  x.s = s;
  x.tail = tail;
  return run(&x, buf, off, len);
}
