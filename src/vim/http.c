/*
 * http.c -- the SOAP transport: one libcurl easy handle per session.
 *
 * The handle is created once per session and reused for every request, so
 * libcurl keeps one keep-alive connection (and its TLS session) open: a warm
 * session costs one HTTP request per call and no handshake.  This file knows
 * HTTP, not SOAP: it POSTs a body with a SOAPAction header, collects the
 * answer into a capped buffer (the cap is enforced while receiving, so a
 * huge answer is refused without being held in memory), picks up the
 * vmware_soap_session cookie, and classifies transport failures for the
 * retry policy in call.c.
 *
 * The cookie is handled here rather than by libcurl's cookie engine so that
 * every copy we make of it is wiped before release.  libcurl's verbose mode
 * (which would print it) is never turned on.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "util/curl.h"
#include "util/log.h"
#include "util/mem.h"
#include "vim/internal.h"

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
  struct vim_session *s = ud;
  size_t n = size * nmemb;
  int rc = fvx_buf_append(&s->resp, p, n);

  if (rc == FVX_BUF_TOOBIG)
    s->too_big = true;
  return rc == FVX_BUF_OK ? n : 0; /* 0 aborts the transfer */
}

/* Picks "vmware_soap_session=<value>" out of a Set-Cookie header. */
static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
  static const char name[] = "set-cookie:";
  static const char key[] = "vmware_soap_session=";
  struct vim_session *s = ud;
  size_t n = size * nmemb, i, start, end;
  char *v;

  if (n < sizeof name || strncasecmp(p, name, sizeof name - 1) != 0)
    return n;
  i = sizeof name - 1;
  while (i < n && (p[i] == ' ' || p[i] == '\t'))
    i++;
  if (n - i < sizeof key - 1 || strncmp(p + i, key, sizeof key - 1) != 0)
    return n;
  start = i + sizeof key - 1;
  end = start;
  while (end < n && p[end] != ';' && p[end] != '\r' && p[end] != '\n')
    end++;
  if (end == start)
    return n;
  v = malloc(end - start + 1);
  if (!v)
    return n; /* keep the old cookie; the next call will tell */
  memcpy(v, p + start, end - start);
  v[end - start] = '\0';
  fvx_free_secret(s->cookie);
  s->cookie = v;
  return n;
}

int vim_http_init(struct vim_session *s, struct vim_error *err)
{
  CURL *c;
  bool ok = true;

  if (fvx_curl_init() != 0)
    return vim_fail(err, VIM_E_NOMEM, "libcurl initialisation failed");
  if (!s->plain_http && (s->tls.pin.len || s->tls.ca_file || s->tls.insecure) &&
      !fvx_curl_is_openssl())
    return vim_fail(err, VIM_E_TLS,
                    "libcurl is not built with OpenSSL: cannot pin "
                    "certificates");
  c = curl_easy_init();
  if (!c)
    return vim_fail(err, VIM_E_NOMEM, "curl_easy_init failed");
  s->curl = c;
  fvx_buf_init(&s->resp, s->max_body);

  ok &= curl_easy_setopt(c, CURLOPT_URL, s->url) == CURLE_OK;
  ok &= curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR,
                         s->plain_http ? "http" : "https") == CURLE_OK;
  ok &= curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
  ok &= curl_easy_setopt(c, CURLOPT_POST, 1L) == CURLE_OK;
  ok &= curl_easy_setopt(c, CURLOPT_HTTP_VERSION,
                         (long)CURL_HTTP_VERSION_1_1) == CURLE_OK;
  ok &= curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
  ok &= curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK;
  ok &= curl_easy_setopt(c, CURLOPT_USERAGENT,
                         "freevix/" FREEVIX_VERSION
                         " (VixDiskLib-compatible vSphere client)") == CURLE_OK;
  ok &= curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                         s->connect_timeout_ms) == CURLE_OK;
  ok &= curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, s->timeout_ms) == CURLE_OK;
  ok &= curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
                         (curl_off_t)s->max_body) == CURLE_OK;
  ok &= curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK;
  ok &= curl_easy_setopt(c, CURLOPT_WRITEDATA, s) == CURLE_OK;
  ok &= curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK;
  ok &= curl_easy_setopt(c, CURLOPT_HEADERDATA, s) == CURLE_OK;
  ok &= curl_easy_setopt(c, CURLOPT_ERRORBUFFER, s->errbuf) == CURLE_OK;
  ok &= curl_easy_setopt(c, CURLOPT_VERBOSE, 0L) == CURLE_OK;
  if (!s->plain_http)
    ok &= fvx_curl_set_tls(c, &s->tls);
  if (!ok)
    return vim_fail(err, VIM_E_NOMEM, "cannot configure libcurl");
  return VIM_OK;
}

void vim_http_cleanup(struct vim_session *s)
{
  if (s->curl)
    curl_easy_cleanup(s->curl);
  s->curl = NULL;
  fvx_buf_free(&s->resp);
}

static struct curl_slist *make_headers(struct vim_session *s,
                                       const char *action)
{
  struct curl_slist *h = NULL, *t;
  char line[128];
  char *cookie_line = NULL;
  size_t cl;

  snprintf(line, sizeof line, "SOAPAction: %s", action);
  t = curl_slist_append(h, "Content-Type: text/xml; charset=\"utf-8\"");
  if (!t)
    goto fail;
  h = t;
  t = curl_slist_append(h, line);
  if (!t)
    goto fail;
  h = t;
  t = curl_slist_append(h, "Expect:"); /* no 100-continue round trip */
  if (!t)
    goto fail;
  h = t;
  if (s->cookie) {
    cl = strlen(s->cookie) + sizeof "Cookie: vmware_soap_session=";
    cookie_line = malloc(cl);
    if (!cookie_line)
      goto fail;
    snprintf(cookie_line, cl, "Cookie: vmware_soap_session=%s", s->cookie);
    t = curl_slist_append(h, cookie_line);
    fvx_free_secret(cookie_line);
    if (!t)
      goto fail;
    h = t;
  }
  return h;
fail:
  fvx_curl_free_headers(h);
  return NULL;
}

/* Maps a libcurl failure to a status; fills res->transient/sent. */
static int classify(struct vim_session *s, CURLcode rc,
                    struct vim_http_result *res, struct vim_error *err)
{
  const char *why = s->errbuf[0] ? s->errbuf : curl_easy_strerror(rc);

  switch (rc) {
  case CURLE_COULDNT_RESOLVE_HOST:
  case CURLE_COULDNT_RESOLVE_PROXY:
    return vim_fail(err, VIM_E_RESOLVE, "cannot resolve %s: %s", s->host, why);
  case CURLE_COULDNT_CONNECT:
    res->sent = false;
    res->transient = s->ever_answered;
    return vim_fail(err, VIM_E_CONNECT, "cannot connect to %s: %s", s->host,
                    why);
  case CURLE_OPERATION_TIMEDOUT:
    res->transient = true;
    return vim_fail(err, VIM_E_TIMEOUT, "%s did not answer in time: %s",
                    s->host, why);
  case CURLE_WRITE_ERROR:
  case CURLE_FILESIZE_EXCEEDED:
    if (s->too_big || rc == CURLE_FILESIZE_EXCEEDED)
      return vim_fail(err, VIM_E_TOO_BIG,
                      "answer from %s exceeds the limit of %zu bytes",
                      s->host, s->max_body);
    return vim_fail(err, VIM_E_NOMEM, "out of memory receiving the answer");
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CACERT_BADFILE:
    res->sent = false;
    if (s->tls.mismatch) {
      char why_pin[256];

      fvx_tls_mismatch_text(&s->tls, why_pin, sizeof why_pin);
      return vim_fail(err, VIM_E_THUMBPRINT,
                      "certificate of %s does not match the thumbprint: %s",
                      s->host, why_pin);
    }
    if (rc == CURLE_PEER_FAILED_VERIFICATION)
      return vim_fail(err, VIM_E_CERT,
                      "certificate of %s failed verification (%s); give its "
                      "thumbprint or a CA file", s->host, why);
    if (rc == CURLE_SSL_CACERT_BADFILE)
      return vim_fail(err, VIM_E_CERT, "cannot use the CA file: %s", why);
    return vim_fail(err, VIM_E_TLS, "TLS handshake with %s failed: %s",
                    s->host, why);
  case CURLE_SEND_ERROR:
    /* The request did not get through whole, or libcurl gave up re-sending
     * it over reused connections that were already closed (libcurl 7.88
     * counts those re-sends over the handle's whole life, never resetting:
     * the sixth server-closed idle connection, e.g. each an idle timeout's
     * TLS close_notify, fails the call -- curl PR #19066).  Either way the
     * server cannot have acted on it, so even a create-once call may be
     * repeated. */
    res->sent = false;
    /* fall through */
  case CURLE_GOT_NOTHING:
  case CURLE_RECV_ERROR:
  case CURLE_PARTIAL_FILE:
    res->transient = true;
    return vim_fail(err, VIM_E_CONNECT, "connection to %s lost: %s", s->host,
                    why);
  case CURLE_OUT_OF_MEMORY:
    return vim_fail(err, VIM_E_NOMEM, "out of memory in libcurl");
  default:
    if (rc >= CURLE_SSL_ENGINE_NOTFOUND && rc <= CURLE_SSL_CLIENTCERT)
      return vim_fail(err, VIM_E_TLS, "TLS failure with %s: %s", s->host,
                      why);
    return vim_fail(err, VIM_E_CONNECT, "transfer with %s failed: %s",
                    s->host, why);
  }
}

int vim_http_post(struct vim_session *s, const char *body, size_t len,
                  const char *action, struct vim_http_result *res,
                  struct vim_error *err)
{
  CURL *c = s->curl;
  struct curl_slist *h;
  CURLcode rc;
  long status = 0, connects = 0, reqsize = 0;

  memset(res, 0, sizeof *res);
  h = make_headers(s, action);
  if (!h)
    return vim_fail(err, VIM_E_NOMEM, "out of memory building headers");
  fvx_buf_reset(&s->resp);
  s->too_big = false;
  s->tls.mismatch = false;
  s->errbuf[0] = '\0';
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  rc = curl_easy_perform(c);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
  fvx_curl_free_headers(h);
  s->stats.requests++;
  if (curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK &&
      connects > 0)
    s->stats.connects += (uint64_t)connects;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(c, CURLINFO_REQUEST_SIZE, &reqsize);
  res->status = status;
  res->sent = reqsize > 0;
  if (err)
    err->http_status = status;
  if (rc != CURLE_OK)
    return classify(s, rc, res, err);
  s->ever_answered = true;
  if (status == 503 || status == 502 || status == 504)
    res->transient = true;
  return VIM_OK;
}
