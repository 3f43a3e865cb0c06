/*
 * tls.h -- certificate policy for every TLS connection freevix makes: the
 * SOAP session (src/vim), datastore HTTPS reads and NFC on port 902.
 *
 * Three modes, chosen per connection:
 *
 *  - pinned (a thumbprint was given): the library's own peer and host checks
 *    are off and an OpenSSL verify callback accepts the chain only when the
 *    leaf certificate's SHA-1 or SHA-256 digest equals the pin.  A
 *    self-signed certificate is accepted on its pin alone, and a CA-signed
 *    one with another digest is refused.  On a mismatch the presented
 *    thumbprint is recorded so the error can show expected vs presented.
 *  - CA (no thumbprint): the system store decides; a ca_file is added to it.
 *  - insecure: no checks; a warning is logged for every new connection.
 *
 * A struct fvx_tls belongs to one connection at a time (the callback writes
 * the mismatch record into it); handshakes are counted atomically into
 * *handshakes when that pointer is set, so several connections may share a
 * counter.
 */
#ifndef FVX_UTIL_TLS_H
#define FVX_UTIL_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fvx_pin {
  unsigned char digest[32];
  size_t len;          /* 0: no pin, 20: SHA-1, 32: SHA-256 */
};

struct fvx_tls {
  struct fvx_pin pin;
  const char *ca_file; /* extra PEM CA file or NULL (borrowed) */
  bool insecure;
  const char *peer;    /* host name for messages (borrowed) */
  uint64_t *handshakes; /* counter of completed handshakes, or NULL */
  bool mismatch;       /* set by the verify callback on a pin mismatch */
  char presented[100]; /* the thumbprint the peer showed, same algorithm */
};

/* Parses colon (or plain, or space-separated) hex of 20 or 32 bytes into
 * pin; NULL or "" gives an empty pin.  Returns 0, or -1 (pin zeroed). */
int fvx_pin_parse(struct fvx_pin *pin, const char *thumbprint);

/* Formats a digest of len bytes as "AB:CD:..." into out (n >= 3*len). */
void fvx_hex_colon(char *out, size_t n, const unsigned char *d, size_t len);

/* "expected AB:..., presented CD:..." for an error line, after a failed
 * handshake with t->mismatch set. */
void fvx_tls_mismatch_text(const struct fvx_tls *t, char *out, size_t n);

/* Applies t to an OpenSSL SSL_CTX (passed as void * so callers need not
 * include OpenSSL): verify mode and callback, CA file, handshake counting.
 * t must outlive every connection made from ctx.  Returns 0, or -1 when
 * the CA file cannot be loaded or OpenSSL refuses the setup. */
int fvx_tls_apply(void *ssl_ctx, struct fvx_tls *t);

/* CURLOPT_SSL_CTX_FUNCTION callback (CURLOPT_SSL_CTX_DATA: the struct
 * fvx_tls): fvx_tls_apply, answering CURLE_OK (0) or a failure (1). */
int fvx_tls_curl_ctx(void *curl, void *ssl_ctx, void *userptr);

/* The same for one SSL object (connections that do not own their SSL_CTX:
 * a raw OpenSSL client such as NFC).  Returns 0 or -1. */
int fvx_tls_apply_ssl(void *ssl, struct fvx_tls *t);

#endif
