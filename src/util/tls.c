/*
 * tls.c -- the certificate policy of tls.h, on OpenSSL.
 *
 * The policy travels with the SSL_CTX (or the SSL) as ex_data, so the
 * verify callback finds the pin of the connection it runs for.  libcurl
 * builds one SSL_CTX per connection and calls its CTX callback each time,
 * which is also where handshakes are counted.
 */
#include "util/tls.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "util/log.h"

static int ctx_index = -1, ssl_index = -1;
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static void make_index(void)
{
  ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
  ssl_index = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
}

static int hexval(int c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  c = tolower(c);
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;
}

int fvx_pin_parse(struct fvx_pin *pin, const char *tp)
{
  size_t n = 0;
  int hi = -1;

  memset(pin, 0, sizeof *pin);
  if (!tp || !*tp)
    return 0;
  for (const char *p = tp; *p; p++) {
    int v;

    if (*p == ':' || *p == ' ') {
      if (hi >= 0)
        goto bad; /* odd digit count within a byte */
      continue;
    }
    v = hexval((unsigned char)*p);
    if (v < 0 || (hi >= 0 && n >= sizeof pin->digest))
      goto bad;
    if (hi < 0) {
      hi = v;
      continue;
    }
    pin->digest[n++] = (unsigned char)(hi << 4 | v);
    hi = -1;
  }
  if (hi >= 0 || (n != 20 && n != 32))
    goto bad;
  pin->len = n;
  return 0;
bad:
  memset(pin, 0, sizeof *pin);
  return -1;
}

void fvx_hex_colon(char *out, size_t n, const unsigned char *d, size_t len)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t o = 0;

  if (n == 0)
    return;
  for (size_t i = 0; i < len && o + 3 < n; i++) {
    if (i)
      out[o++] = ':';
    out[o++] = hex[d[i] >> 4];
    out[o++] = hex[d[i] & 15];
  }
  out[o] = '\0';
}

void fvx_tls_mismatch_text(const struct fvx_tls *t, char *out, size_t n)
{
  char expected[100];

  fvx_hex_colon(expected, sizeof expected, t->pin.digest, t->pin.len);
  snprintf(out, n, "expected %s, presented %s", expected, t->presented);
}

static struct fvx_tls *policy_of(const SSL *ssl)
{
  struct fvx_tls *t = SSL_get_ex_data(ssl, ssl_index);

  if (!t)
    t = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_index);
  return t;
}

/* OpenSSL verify callback of pinned connections: the pin decides, at depth
 * 0; issuers above the leaf are not our business (the pin names the leaf). */
static int pin_verify(int preverify_ok, X509_STORE_CTX *x)
{
  SSL *ssl;
  struct fvx_tls *t;
  X509 *cert;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;

  (void)preverify_ok;
  if (X509_STORE_CTX_get_error_depth(x) != 0)
    return 1;
  ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
  t = ssl ? policy_of(ssl) : NULL;
  cert = X509_STORE_CTX_get_current_cert(x);
  if (!t || !cert)
    return 0;
  if (!X509_digest(cert, t->pin.len == 20 ? EVP_sha1() : EVP_sha256(), md,
                   &mdlen))
    return 0;
  if (mdlen == t->pin.len && CRYPTO_memcmp(md, t->pin.digest, mdlen) == 0) {
    X509_STORE_CTX_set_error(x, X509_V_OK);
    return 1;
  }
  t->mismatch = true;
  fvx_hex_colon(t->presented, sizeof t->presented, md, mdlen);
  return 0;
}

/* Counts completed handshakes (full or resumed). */
static void info_cb(const SSL *ssl, int where, int ret)
{
  struct fvx_tls *t;

  (void)ret;
  if (!(where & SSL_CB_HANDSHAKE_DONE))
    return;
  t = policy_of(ssl);
  if (t && t->handshakes)
    __atomic_add_fetch(t->handshakes, 1, __ATOMIC_RELAXED);
}

int fvx_tls_apply(void *ssl_ctx, struct fvx_tls *t)
{
  SSL_CTX *ctx = ssl_ctx;

  pthread_once(&index_once, make_index);
  if (ctx_index < 0 || !SSL_CTX_set_ex_data(ctx, ctx_index, t))
    return -1;
  t->mismatch = false;
  SSL_CTX_set_info_callback(ctx, info_cb);
  if (t->pin.len) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, pin_verify);
  } else if (t->insecure) {
    fvx_warn("TLS certificate verification is disabled for %s (insecure "
             "option): the connection can be intercepted",
             t->peer ? t->peer : "the server");
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  } else if (t->ca_file &&
             SSL_CTX_load_verify_locations(ctx, t->ca_file, NULL) != 1) {
    fvx_debug("cannot load CA file %s", t->ca_file);
    return -1;
  }
  return 0;
}

int fvx_tls_curl_ctx(void *curl, void *ssl_ctx, void *userptr)
{
  (void)curl;
  return fvx_tls_apply(ssl_ctx, userptr) == 0 ? 0 : 1;
}

int fvx_tls_apply_ssl(void *ssl_obj, struct fvx_tls *t)
{
  SSL *ssl = ssl_obj;

  pthread_once(&index_once, make_index);
  if (ssl_index < 0 || !SSL_set_ex_data(ssl, ssl_index, t))
    return -1;
  t->mismatch = false;
  SSL_set_info_callback(ssl, info_cb);
  if (t->pin.len) {
    SSL_set_verify(ssl, SSL_VERIFY_PEER, pin_verify);
  } else if (t->insecure) {
    fvx_warn("TLS certificate verification is disabled for %s (insecure "
             "option): the connection can be intercepted",
             t->peer ? t->peer : "the server");
    SSL_set_verify(ssl, SSL_VERIFY_NONE, NULL);
  } else {
    /* CA mode: the caller's SSL_CTX carries the store (default paths plus
     * the CA file, loaded with fvx_tls_apply on that ctx). */
    SSL_set_verify(ssl, SSL_VERIFY_PEER, NULL);
    if (t->peer && SSL_set1_host(ssl, t->peer) != 1)
      return -1;
  }
  return 0;
}
