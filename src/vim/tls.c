/*
 * tls.c -- certificate checks for the SOAP connection.
 *
 * Three modes, chosen per session:
 *
 *  - pinned (a thumbprint was given): libcurl's own peer and host checks are
 *    off and this file installs an OpenSSL verify callback that accepts the
 *    chain only when the leaf certificate's SHA-1 or SHA-256 digest equals
 *    the pin.  A self-signed certificate is therefore accepted on its pin
 *    alone, and a CA-signed one with another digest is refused.  On a
 *    mismatch the presented thumbprint is recorded so the error can show
 *    expected vs presented.
 *  - CA (no thumbprint): libcurl verifies against the system store; a
 *    ca_file is added to that store here (libcurl's CAINFO would replace it).
 *  - insecure: no checks; a warning is logged for every new connection.
 *
 * The callback runs for every new TLS connection (libcurl builds one SSL_CTX
 * per connection), which is also where handshakes are counted.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "util/log.h"
#include "vim/internal.h"

static int ctx_index = -1;
static pthread_once_t index_once = PTHREAD_ONCE_INIT;

static void make_index(void)
{
  ctx_index = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
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

int vim_pin_parse(struct vim_pin *pin, const char *tp)
{
  size_t n = 0;
  int hi = -1;

  memset(pin, 0, sizeof *pin);
  if (!tp || !*tp)
    return VIM_OK;
  for (const char *p = tp; *p; p++) {
    int v;

    if (*p == ':' || *p == ' ') {
      if (hi >= 0)
        return VIM_E_INVALID_ARG; /* odd digit count within a byte */
      continue;
    }
    v = hexval((unsigned char)*p);
    if (v < 0)
      return VIM_E_INVALID_ARG;
    if (hi < 0) {
      hi = v;
      continue;
    }
    if (n >= sizeof pin->digest)
      return VIM_E_INVALID_ARG;
    pin->digest[n++] = (unsigned char)(hi << 4 | v);
    hi = -1;
  }
  if (hi >= 0 || (n != 20 && n != 32)) {
    memset(pin, 0, sizeof *pin);
    return VIM_E_INVALID_ARG;
  }
  pin->len = n;
  return VIM_OK;
}

void vim_hex_colon(char *out, size_t n, const unsigned char *d, size_t len)
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

/* OpenSSL verify callback of pinned sessions: the pin decides, at depth 0;
 * issuers above the leaf are not our business (the pin names the leaf). */
static int pin_verify(int preverify_ok, X509_STORE_CTX *x)
{
  SSL *ssl;
  SSL_CTX *ctx;
  struct vim_session *s;
  X509 *cert;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;

  (void)preverify_ok;
  if (X509_STORE_CTX_get_error_depth(x) != 0)
    return 1;
  ssl = X509_STORE_CTX_get_ex_data(x, SSL_get_ex_data_X509_STORE_CTX_idx());
  ctx = ssl ? SSL_get_SSL_CTX(ssl) : NULL;
  s = ctx ? SSL_CTX_get_ex_data(ctx, ctx_index) : NULL;
  cert = X509_STORE_CTX_get_current_cert(x);
  if (!s || !cert)
    return 0;
  if (!X509_digest(cert, s->pin.len == 20 ? EVP_sha1() : EVP_sha256(), md,
                   &mdlen))
    return 0;
  if (mdlen == s->pin.len && CRYPTO_memcmp(md, s->pin.digest, mdlen) == 0) {
    X509_STORE_CTX_set_error(x, X509_V_OK);
    return 1;
  }
  s->pin.mismatch = true;
  vim_hex_colon(s->pin.presented, sizeof s->pin.presented, md, mdlen);
  return 0;
}

/* Counts completed handshakes (full or resumed). */
static void info_cb(const SSL *ssl, int where, int ret)
{
  struct vim_session *s;

  (void)ret;
  if (!(where & SSL_CB_HANDSHAKE_DONE))
    return;
  s = SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ctx_index);
  if (s)
    s->stats.tls_handshakes++;
}

int vim_tls_ctx_setup(void *curl, void *ssl_ctx, void *userptr)
{
  struct vim_session *s = userptr;
  SSL_CTX *ctx = ssl_ctx;

  (void)curl;
  pthread_once(&index_once, make_index);
  if (ctx_index < 0 || !SSL_CTX_set_ex_data(ctx, ctx_index, s))
    return 1; /* CURLE_SSL_CERTPROBLEM-ish: curl reports a failure */
  SSL_CTX_set_info_callback(ctx, info_cb);
  if (s->pin.len) {
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, pin_verify);
  } else if (s->insecure) {
    fvx_warn("vim: TLS certificate verification is disabled for %s "
             "(insecure option): the connection can be intercepted",
             s->host);
  } else if (s->ca_file) {
    if (SSL_CTX_load_verify_locations(ctx, s->ca_file, NULL) != 1) {
      fvx_debug("vim: cannot load CA file %s", s->ca_file);
      return 1;
    }
  }
  return 0; /* CURLE_OK */
}
