/*
 * nfc_net.c -- the byte stream under NFC: one non-blocking TCP socket to
 * port 902 and, on top of it, zero or one TLS layer (reference/nfc.md §2).
 *
 * The socket is non-blocking from the start: the handshake phases use the
 * deadline-bounded helpers (read_full, write_full, read_line) and the AIO
 * engine uses the single attempts (recv, send) with nfc_stream_wait, so no
 * call can hang past its deadline.  TLS runs over a small OpenSSL BIO of
 * our own that sends with MSG_NOSIGNAL (a host that hangs up must not
 * raise SIGPIPE in the caller's process) and leaves the descriptor alone
 * when the TLS layer is dropped (§2.4).  The certificate policy is
 * util/tls.h's: the ticket's SHA-1 thumbprint pins the host.
 */
#include "nfc/nfc_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/text.h"

/* ---- CONNECT_TO --------------------------------------------------------- */

/* Copies one ':'-separated field of [p, end) into out (n bytes), brackets
 * of an IPv6 literal removed; returns the position after the field's ':'
 * (or end), NULL when malformed or too long. */
static const char *ct_field(const char *p, const char *end, char *out,
                            size_t n, bool last)
{
  size_t o = 0;
  bool bracket = p < end && *p == '[';

  if (bracket)
    p++;
  for (; p < end; p++) {
    if (bracket && *p == ']') {
      bracket = false;
      p++;
      break;
    }
    if (!bracket && *p == ':')
      break;
    if (o + 1 >= n)
      return NULL;
    out[o++] = *p;
  }
  out[o] = '\0';
  if (bracket)
    return NULL;
  if (p < end && *p != ':')
    return NULL;
  if (p == end)
    return last ? p : NULL;
  return last ? NULL : p + 1;
}

static bool ct_port(const char *s, unsigned *out)
{
  unsigned long v = 0;

  if (!*s)
    return false;
  for (; *s; s++) {
    if (*s < '0' || *s > '9')
      return false;
    v = v * 10 + (unsigned long)(*s - '0');
    if (v > 65535)
      return false;
  }
  *out = (unsigned)v;
  return true;
}

int nfc_connect_to_lookup(const char *list, const char *host, unsigned port,
                          char *addr, size_t n, unsigned *port_out)
{
  const char *p = list;

  if (!list)
    return 0;
  while (*p) {
    const char *end = strchr(p, ',');
    char f[4][256];
    const char *q;
    unsigned fport = 0, tport = 0;

    if (!end)
      end = p + strlen(p);
    while (p < end && *p == ' ')
      p++;
    while (end > p && end[-1] == ' ')
      end--;
    q = ct_field(p, end, f[0], sizeof f[0], false);
    q = q ? ct_field(q, end, f[1], sizeof f[1], false) : NULL;
    q = q ? ct_field(q, end, f[2], sizeof f[2], false) : NULL;
    q = q ? ct_field(q, end, f[3], sizeof f[3], true) : NULL;
    if (!q || (f[1][0] && !ct_port(f[1], &fport)) ||
        (f[3][0] && !ct_port(f[3], &tport)))
      return -1;
    if ((!f[0][0] || strcasecmp(f[0], host) == 0) &&
        (!f[1][0] || fport == port)) {
      if (!fvx_strlcpy(addr, f[2][0] ? f[2] : host, n))
        return -1;
      *port_out = f[3][0] ? tport : port;
      return 1;
    }
    p = *end ? end + 1 : end;
  }
  return 0;
}

/* ---- TCP ---------------------------------------------------------------- */

int nfc_stream_wait(struct nfc_stream *s, short events, int wake_fd,
                    int64_t deadline)
{
  struct pollfd p[2] = {{s->fd, events, 0}, {wake_fd, POLLIN, 0}};

  for (;;) {
    int64_t left = deadline - fvx_now_ms();
    int r;

    if (left <= 0)
      return 0;
    r = poll(p, wake_fd >= 0 ? 2 : 1, left > 60000 ? 60000 : (int)left);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return -1;
    if (r == 0)
      continue;
    if (p[0].revents)
      return 1;
    return 2;
  }
}

/* Connects one address within the deadline; returns the fd or -1 with
 * *why an errno (ETIMEDOUT for the deadline). */
static int connect_one(const struct addrinfo *ai, int64_t deadline, int *why)
{
  int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
                                     SOCK_CLOEXEC, ai->ai_protocol);
  struct nfc_stream tmp;
  int r, soerr = 0, one = 1;
  socklen_t len = sizeof soerr;

  if (fd < 0) {
    *why = errno;
    return -1;
  }
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
    if (errno != EINPROGRESS) {
      *why = errno;
      close(fd);
      return -1;
    }
    tmp.fd = fd;
    r = nfc_stream_wait(&tmp, POLLOUT, -1, deadline);
    if (r <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) != 0 ||
        soerr != 0) {
      *why = r == 0 ? ETIMEDOUT : soerr ? soerr : errno;
      close(fd);
      return -1;
    }
  }
  /* §3.2 Pipelining: "Use TCP_NODELAY". */
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

int nfc_net_connect(struct nfc_stream *s, const char *host, unsigned port,
                    const char *connect_to, long timeout_ms,
                    struct nfc_error *err)
{
  char addr[256], sport[8];
  unsigned dport = port;
  struct addrinfo hints, *res = NULL;
  int64_t deadline = fvx_now_ms() + timeout_ms;
  int r, why = 0;

  s->fd = -1;
  fvx_strlcpy(s->host, host, sizeof s->host);
  snprintf(s->peer, sizeof s->peer, "%s:%u", host, port);
  r = nfc_connect_to_lookup(connect_to, host, port, addr, sizeof addr,
                            &dport);
  if (r < 0)
    return nfc_fail(err, NFC_E_ARG, "malformed connect_to list");
  if (r == 0)
    fvx_strlcpy(addr, host, sizeof addr);
  snprintf(sport, sizeof sport, "%u", dport);
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  r = getaddrinfo(addr, sport, &hints, &res);
  if (r != 0)
    return nfc_fail(err, NFC_E_RESOLVE, "cannot resolve %s: %s", addr,
                    gai_strerror(r));
  for (struct addrinfo *ai = res; ai && s->fd < 0; ai = ai->ai_next)
    s->fd = connect_one(ai, deadline, &why);
  freeaddrinfo(res);
  if (s->fd >= 0)
    return NFC_OK;
  if (why == ETIMEDOUT)
    return nfc_fail(err, NFC_E_TIMEOUT, "connect to %s (%s:%u) timed out "
                    "after %ld ms", s->peer, addr, dport, timeout_ms);
  return nfc_fail(err, NFC_E_CONNECT, "cannot connect to %s (%s:%u): %s",
                  s->peer, addr, dport, strerror(why));
}

/* ---- TLS ---------------------------------------------------------------- */

/* Our BIO: the socket, with MSG_NOSIGNAL, never closing it. */
static BIO_METHOD *bio_method;
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

static int bio_fd(BIO *b)
{
  return (int)(intptr_t)BIO_get_data(b);
}

static int bio_write(BIO *b, const char *buf, int n)
{
  ssize_t r = send(bio_fd(b), buf, (size_t)n, MSG_NOSIGNAL);

  BIO_clear_retry_flags(b);
  if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    BIO_set_retry_write(b);
  return r < 0 ? -1 : (int)r;
}

static int bio_read(BIO *b, char *buf, int n)
{
  ssize_t r = recv(bio_fd(b), buf, (size_t)n, 0);

  BIO_clear_retry_flags(b);
  if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
    BIO_set_retry_read(b);
  return r < 0 ? -1 : (int)r;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
  (void)b;
  (void)num;
  (void)ptr;
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static void make_bio_method(void)
{
  BIO_METHOD *m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
                               "fvx-nfc-socket");

  if (m && BIO_meth_set_write(m, bio_write) && BIO_meth_set_read(m, bio_read) &&
      BIO_meth_set_ctrl(m, bio_ctrl))
    bio_method = m;
  else
    BIO_meth_free(m);
}

/* The first OpenSSL error as text ("" when none). */
static void ssl_reason(char *out, size_t n)
{
  unsigned long e = ERR_peek_last_error();

  out[0] = '\0';
  if (e)
    ERR_error_string_n(e, out, n);
}

/* Classifies a failed SSL call: AGAIN with *want, EOF, or ERR. */
static enum nfc_io ssl_result(struct nfc_stream *s, int ret, short *want,
                              const char *op, struct nfc_error *err)
{
  int e = SSL_get_error(s->ssl, ret);
  int saved = errno;
  char why[200];

  switch (e) {
  case SSL_ERROR_WANT_READ:
    *want = POLLIN;
    return NFC_IO_AGAIN;
  case SSL_ERROR_WANT_WRITE:
    *want = POLLOUT;
    return NFC_IO_AGAIN;
  case SSL_ERROR_ZERO_RETURN:
    nfc_fail(err, NFC_E_CONNECT, "%s closed the TLS connection", s->peer);
    return NFC_IO_EOF;
  case SSL_ERROR_SYSCALL:
    if (saved == 0 || ERR_peek_last_error() != 0) {
      nfc_fail(err, NFC_E_CONNECT, "%s closed the connection", s->peer);
      return NFC_IO_EOF;
    }
    nfc_fail(err, NFC_E_CONNECT, "%s on %s failed: %s", op, s->peer,
             strerror(saved));
    return NFC_IO_ERR;
  default:
    if (ERR_GET_REASON(ERR_peek_last_error()) ==
        SSL_R_UNEXPECTED_EOF_WHILE_READING) {
      nfc_fail(err, NFC_E_CONNECT, "%s closed the connection", s->peer);
      return NFC_IO_EOF;
    }
    ssl_reason(why, sizeof why);
    nfc_fail(err, NFC_E_CONNECT, "TLS %s on %s failed: %s", op, s->peer,
             why[0] ? why : "unknown TLS error");
    return NFC_IO_ERR;
  }
}

static bool is_ip_literal(const char *h)
{
  unsigned char buf[sizeof(struct in6_addr)];

  return inet_pton(AF_INET, h, buf) == 1 || inet_pton(AF_INET6, h, buf) == 1;
}

/* Makes the SSL_CTX (once per stream) and a fresh SSL on the socket. */
static int tls_setup(struct nfc_stream *s, bool legacy, bool ca_mode,
                     struct nfc_error *err)
{
  SSL_CTX *ctx = s->ctx;
  SSL *ssl;
  BIO *b;

  pthread_once(&bio_once, make_bio_method);
  if (!bio_method)
    return nfc_fail(err, NFC_E_NOMEM, "cannot set up the TLS socket layer");
  if (!ctx) {
    ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx)
      return nfc_fail(err, NFC_E_NOMEM, "cannot create a TLS context");
    s->ctx = ctx;
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE |
                              SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_clear_mode(ctx, SSL_MODE_AUTO_RETRY);
    /* §2.2: ESXi 6.5/6.7.0 need SECLEVEL=1 (nfc_options.legacy_tls). */
    if (legacy)
      SSL_CTX_set_security_level(ctx, 1);
  }
  if (ca_mode && (SSL_CTX_set_default_verify_paths(ctx) != 1 ||
                  fvx_tls_apply(ctx, &s->tls) != 0))
    return nfc_fail(err, NFC_E_TLS, "cannot load the CA store for %s",
                    s->peer);
  ssl = SSL_new(ctx);
  b = ssl ? BIO_new(bio_method) : NULL;
  if (!b) {
    SSL_free(ssl);
    return nfc_fail(err, NFC_E_NOMEM, "cannot create a TLS session");
  }
  BIO_set_data(b, (void *)(intptr_t)s->fd);
  BIO_set_init(b, 1);
  SSL_set_bio(ssl, b, b);
  s->ssl = ssl;
  if (!is_ip_literal(s->host))
    SSL_set_tlsext_host_name(ssl, s->host);
  if (fvx_tls_apply_ssl(ssl, &s->tls) != 0)
    return nfc_fail(err, NFC_E_TLS, "cannot apply the certificate policy "
                    "for %s", s->peer);
  SSL_set_connect_state(ssl);
  return NFC_OK;
}

int nfc_tls_start(struct nfc_stream *s, const char *thumbprint, bool insecure,
                  const char *ca_file, bool legacy, int64_t deadline,
                  struct nfc_error *err)
{
  bool pinned = thumbprint && *thumbprint;
  int st;

  memset(&s->tls, 0, sizeof s->tls);
  if (pinned && fvx_pin_parse(&s->tls.pin, thumbprint) != 0)
    return nfc_fail(err, NFC_E_ARG, "the ticket's thumbprint for %s is not "
                    "SHA-1 or SHA-256 hex", s->peer);
  s->tls.insecure = !pinned && insecure;
  s->tls.ca_file = pinned ? NULL : ca_file;
  s->tls.peer = s->host;
  st = tls_setup(s, legacy, !pinned && !insecure, err);
  if (st != NFC_OK) {
    nfc_tls_drop(s);
    return st;
  }
  for (;;) {
    int r;
    short want = POLLIN;
    enum nfc_io io;

    ERR_clear_error();
    r = SSL_do_handshake(s->ssl);
    if (r == 1)
      return NFC_OK;
    io = ssl_result(s, r, &want, "handshake", err);
    if (io == NFC_IO_AGAIN) {
      r = nfc_stream_wait(s, want, -1, deadline);
      if (r > 0)
        continue;
      nfc_tls_drop(s);
      return nfc_fail(err, r == 0 ? NFC_E_TIMEOUT : NFC_E_CONNECT,
                      "TLS handshake with %s %s", s->peer,
                      r == 0 ? "timed out" : "failed: poll error");
    }
    if (s->tls.mismatch) {
      char text[256];

      fvx_tls_mismatch_text(&s->tls, text, sizeof text);
      nfc_tls_drop(s);
      return nfc_fail(err, NFC_E_PIN, "certificate of %s does not match the "
                      "ticket's thumbprint: %s", s->peer, text);
    }
    {
      char why[200];

      ssl_reason(why, sizeof why);
      st = nfc_fail(err, NFC_E_TLS, "TLS handshake with %s failed: %s",
                    s->peer, why[0] ? why : err->detail);
    }
    nfc_tls_drop(s);
    return st;
  }
}

void nfc_tls_drop(struct nfc_stream *s)
{
  /* No SSL_shutdown: §2.4 drops the state without close_notify.  Our BIO
   * does not close the descriptor. */
  SSL_free(s->ssl);
  s->ssl = NULL;
}

/* ---- I/O ---------------------------------------------------------------- */

enum nfc_io nfc_stream_recv(struct nfc_stream *s, void *buf, size_t n,
                            size_t *done, short *want, struct nfc_error *err)
{
  ssize_t r;

  *done = 0;
  if (s->ssl) {
    int ret;

    ERR_clear_error();
    ret = SSL_read_ex(s->ssl, buf, n, done);
    if (ret == 1)
      return NFC_IO_OK;
    return ssl_result(s, ret, want, "read", err);
  }
  r = recv(s->fd, buf, n, 0);
  if (r > 0) {
    *done = (size_t)r;
    return NFC_IO_OK;
  }
  if (r == 0) {
    nfc_fail(err, NFC_E_CONNECT, "%s closed the connection", s->peer);
    return NFC_IO_EOF;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
    *want = POLLIN;
    return NFC_IO_AGAIN;
  }
  nfc_fail(err, NFC_E_CONNECT, "read from %s failed: %s", s->peer,
           strerror(errno));
  return NFC_IO_ERR;
}

enum nfc_io nfc_stream_send(struct nfc_stream *s, const void *buf, size_t n,
                            size_t *done, short *want, struct nfc_error *err)
{
  ssize_t r;

  *done = 0;
  if (s->ssl) {
    int ret;

    ERR_clear_error();
    ret = SSL_write_ex(s->ssl, buf, n, done);
    if (ret == 1)
      return NFC_IO_OK;
    return ssl_result(s, ret, want, "write", err);
  }
  r = send(s->fd, buf, n, MSG_NOSIGNAL);
  if (r >= 0) {
    *done = (size_t)r;
    return NFC_IO_OK;
  }
  if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
    *want = POLLOUT;
    return NFC_IO_AGAIN;
  }
  nfc_fail(err, NFC_E_CONNECT, "write to %s failed: %s", s->peer,
           strerror(errno));
  return NFC_IO_ERR;
}

/* Moves n bytes one way before the deadline. */
static int move_full(struct nfc_stream *s, void *buf, size_t n, bool out,
                     int64_t deadline, const char *what,
                     struct nfc_error *err)
{
  uint8_t *p = buf;

  while (n > 0) {
    size_t done = 0;
    short want = out ? POLLOUT : POLLIN;
    enum nfc_io io = out ? nfc_stream_send(s, p, n, &done, &want, err)
                         : nfc_stream_recv(s, p, n, &done, &want, err);
    int r;

    if (io == NFC_IO_OK) {
      p += done;
      n -= done;
      continue;
    }
    if (io != NFC_IO_AGAIN) {
      char why[sizeof err->detail];

      fvx_strlcpy(why, err->detail, sizeof why);
      return nfc_fail(err, NFC_E_CONNECT, "%s: %s", what, why);
    }
    r = nfc_stream_wait(s, want, -1, deadline);
    if (r == 0)
      return nfc_fail(err, NFC_E_TIMEOUT, "%s: no progress with %s in time",
                      what, s->peer);
    if (r < 0)
      return nfc_fail(err, NFC_E_CONNECT, "%s: poll failed", what);
  }
  return NFC_OK;
}

int nfc_stream_read_full(struct nfc_stream *s, void *buf, size_t n,
                         int64_t deadline, const char *what,
                         struct nfc_error *err)
{
  return move_full(s, buf, n, false, deadline, what, err);
}

int nfc_stream_write_full(struct nfc_stream *s, const void *buf, size_t n,
                          int64_t deadline, const char *what,
                          struct nfc_error *err)
{
  return move_full(s, (void *)buf, n, true, deadline, what, err);
}

int nfc_stream_read_line(struct nfc_stream *s, char *line, size_t cap,
                         int64_t deadline, const char *what,
                         struct nfc_error *err)
{
  size_t o = 0;

  for (;;) {
    char c;
    int st = nfc_stream_read_full(s, &c, 1, deadline, what, err);

    if (st != NFC_OK)
      return st;
    if (c == '\n')
      break;
    if (o + 1 >= cap)
      return nfc_fail(err, NFC_E_PROTOCOL, "%s: line from %s longer than "
                      "%zu bytes", what, s->peer, cap - 1);
    line[o++] = c;
  }
  if (o > 0 && line[o - 1] == '\r')
    o--;
  line[o] = '\0';
  return NFC_OK;
}

void nfc_stream_close(struct nfc_stream *s)
{
  if (s->ssl) {
    ERR_clear_error();
    SSL_shutdown(s->ssl); /* one non-blocking attempt at close_notify */
    nfc_tls_drop(s);
  }
  SSL_CTX_free(s->ctx);
  s->ctx = NULL;
  if (s->fd >= 0)
    close(s->fd);
  s->fd = -1;
  ERR_clear_error();
}
