/*
 * http_peer.c -- the scripted HTTP/1.1 server of http_peer.h.
 *
 * One acceptor thread, one thread per connection.  A connection thread
 * reads a request head (at most 16 KiB), records it, takes the next
 * script step and answers; it loops while the connection stays open.
 * Waits (delays, stalls) poll the connection and a stop pipe, so they end
 * when the client gives up or the peer stops.  The test thread never
 * blocks on a connection thread except in peer_stop.
 */
#include "http_peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "util/text.h"

#define MAX_FILES 16
#define MAX_STEPS 64
#define MAX_RECORDS 4096
#define MAX_CONNS 512
#define MAX_SEEN 4096

struct pfile {
  char path[1024];
  const unsigned char *data;
  size_t size;
};

struct pconn {
  struct http_peer *p;
  pthread_t thread;
  int fd;
  bool closed;
  SSL *ssl;
  int id;
  char in[16384];
  size_t in_len;
};

struct http_peer {
  int lfd, port;
  int stop_pipe[2];
  volatile int stop;
  SSL_CTX *ctx;
  pthread_t acceptor;
  pthread_mutex_t lock;
  struct pfile files[MAX_FILES];
  size_t n_files;
  struct peer_step steps[MAX_STEPS];
  size_t n_steps, next_step;
  char cookie_prefix[128];
  bool need_cookie, single_use;
  char *seen[MAX_SEEN];
  size_t n_seen;
  struct peer_req *reqs;
  size_t n_reqs;
  struct pconn *conns[MAX_CONNS];
  int n_conns, open_now, max_open;
};

static void die(const char *what)
{
  fprintf(stderr, "http_peer: %s\n", what);
  abort();
}

/* ---- certificates ---- */

void peer_tls_make(struct peer_tls *t, const char *dir)
{
  EVP_PKEY *key = EVP_EC_gen("P-256");
  X509 *x = X509_new();
  X509_NAME *name;
  X509_EXTENSION *ext;
  X509V3_CTX v3;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen;
  FILE *f;

  memset(t, 0, sizeof *t);
  if (!key || !x)
    die("cannot make a key");
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), (long)time(NULL));
  X509_gmtime_adj(X509_getm_notBefore(x), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x), 86400);
  X509_set_pubkey(x, key);
  name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             (const unsigned char *)"localhost", -1, -1, 0);
  X509_set_issuer_name(x, name);
  X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
  ext = X509V3_EXT_conf_nid(NULL, &v3, NID_subject_alt_name,
                            "DNS:localhost,IP:127.0.0.1");
  if (!ext || !X509_add_ext(x, ext, -1))
    die("cannot add subjectAltName");
  X509_EXTENSION_free(ext);
  if (!X509_sign(x, key, EVP_sha256()))
    die("cannot sign");
  X509_digest(x, EVP_sha1(), md, &mdlen);
  for (unsigned i = 0; i < mdlen; i++)
    snprintf(t->sha1 + 3 * i, 4, i + 1 < mdlen ? "%02X:" : "%02X", md[i]);
  X509_digest(x, EVP_sha256(), md, &mdlen);
  for (unsigned i = 0; i < mdlen; i++)
    snprintf(t->sha256 + 3 * i, 4, i + 1 < mdlen ? "%02X:" : "%02X", md[i]);
  snprintf(t->pem_path, sizeof t->pem_path, "%s/peer-cert.pem", dir);
  f = fopen(t->pem_path, "w");
  if (!f || !PEM_write_X509(f, x))
    die("cannot write the certificate");
  fclose(f);
  t->cert = x;
  t->key = key;
}

void peer_tls_free(struct peer_tls *t)
{
  X509_free(t->cert);
  EVP_PKEY_free(t->key);
  t->cert = t->key = NULL;
}

/* ---- connection I/O ---- */

static int io_write(struct pconn *c, const void *buf, size_t n)
{
  const char *p = buf;

  while (n) {
    ssize_t w;

    if (c->ssl) {
      int r = SSL_write(c->ssl, p, n > 1 << 20 ? 1 << 20 : (int)n);

      w = r > 0 ? r : -1;
    } else {
      w = send(c->fd, p, n, MSG_NOSIGNAL);
    }
    if (w <= 0)
      return -1;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

static int io_printf(struct pconn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int io_printf(struct pconn *c, const char *fmt, ...)
{
  char buf[2048];
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= sizeof buf)
    return -1;
  return io_write(c, buf, (size_t)n);
}

static ssize_t io_read(struct pconn *c, void *buf, size_t n)
{
  if (c->ssl) {
    int r = SSL_read(c->ssl, buf, (int)n);

    return r > 0 ? r : -1;
  }
  return recv(c->fd, buf, n, 0);
}

/* Waits ms milliseconds; false early when the client left or the peer
 * stops. */
static bool wait_ms(struct pconn *c, long ms)
{
  struct timespec start, now;

  clock_gettime(CLOCK_MONOTONIC, &start);
  for (;;) {
    struct pollfd fds[2] = {{c->fd, POLLRDHUP, 0},
                            {c->p->stop_pipe[0], POLLIN, 0}};
    long left;

    clock_gettime(CLOCK_MONOTONIC, &now);
    left = ms - ((now.tv_sec - start.tv_sec) * 1000 +
                 (now.tv_nsec - start.tv_nsec) / 1000000);
    if (left <= 0)
      return true;
    if (poll(fds, 2, left > 20 ? 20 : (int)left) < 0 && errno != EINTR)
      return false;
    if (fds[1].revents || c->p->stop)
      return false;
    if (fds[0].revents & (POLLRDHUP | POLLHUP | POLLERR))
      return false;
  }
}

/* ---- requests ---- */

static const char *reason(long code)
{
  switch (code) {
  case 200: return "OK";
  case 206: return "Partial Content";
  case 401: return "Unauthorized";
  case 403: return "Forbidden";
  case 404: return "Not Found";
  case 416: return "Range Not Satisfiable";
  case 423: return "Locked";
  case 500: return "Internal Server Error";
  case 503: return "Service Unavailable";
  default: return "Status";
  }
}

/* Decodes the path part of target into out ("" when malformed). */
static void decode_path(const char *target, char *out, size_t n)
{
  if (!fvx_percent_decode(target, strcspn(target, "?"), out, n))
    out[0] = '\0';
}

/* Copies header name's value out of head into out ("" when absent). */
static void header_value(const char *head, const char *name, char *out,
                         size_t n)
{
  size_t nl = strlen(name);
  const char *line = strstr(head, "\r\n");

  out[0] = '\0';
  while (line && line[2] != '\r') {
    line += 2;
    if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
      const char *v = line + nl + 1;
      size_t vl;

      while (*v == ' ')
        v++;
      vl = strcspn(v, "\r");
      if (vl >= n)
        vl = n - 1;
      memcpy(out, v, vl);
      out[vl] = '\0';
      return;
    }
    line = strstr(line, "\r\n");
  }
}

/* Reads one request head into c->in (NUL-terminated); its length, or 0
 * when the connection ended. */
static size_t read_head(struct pconn *c)
{
  for (;;) {
    char *end;
    ssize_t r;

    c->in[c->in_len] = '\0';
    end = strstr(c->in, "\r\n\r\n");
    if (end)
      return (size_t)(end + 4 - c->in);
    if (c->in_len + 1 >= sizeof c->in)
      return 0;
    r = io_read(c, c->in + c->in_len, sizeof c->in - 1 - c->in_len);
    if (r <= 0)
      return 0;
    c->in_len += (size_t)r;
  }
}

static bool cookie_ok(struct http_peer *p, const char *cookie)
{
  bool ok = true;

  pthread_mutex_lock(&p->lock);
  if (p->need_cookie) {
    ok = strncmp(cookie, p->cookie_prefix, strlen(p->cookie_prefix)) == 0;
    for (size_t i = 0; ok && p->single_use && i < p->n_seen; i++)
      if (strcmp(p->seen[i], cookie) == 0)
        ok = false;
    if (ok && p->single_use && p->n_seen < MAX_SEEN)
      p->seen[p->n_seen++] = strdup(cookie);
  }
  pthread_mutex_unlock(&p->lock);
  return ok;
}

static struct peer_step take_step(struct http_peer *p)
{
  struct peer_step st = {PEER_OK, 0, NULL};

  pthread_mutex_lock(&p->lock);
  if (p->next_step < p->n_steps)
    st = p->steps[p->next_step++];
  pthread_mutex_unlock(&p->lock);
  return st;
}

static void record(struct pconn *c, const struct peer_req *r)
{
  struct http_peer *p = c->p;

  pthread_mutex_lock(&p->lock);
  if (p->n_reqs < MAX_RECORDS)
    p->reqs[p->n_reqs++] = *r;
  pthread_mutex_unlock(&p->lock);
}

static const struct pfile *find_file(struct http_peer *p, const char *path)
{
  for (size_t i = 0; i < p->n_files; i++)
    if (strcmp(p->files[i].path, path) == 0)
      return &p->files[i];
  return NULL;
}

/* An answer with status code and body text (none to a HEAD). */
static int send_status(struct pconn *c, bool head, long code,
                       const char *body)
{
  size_t bl = body ? strlen(body) : 0;

  if (io_printf(c, "HTTP/1.1 %ld %s\r\nContent-Type: text/plain\r\n"
                   "Content-Length: %zu\r\n\r\n", code, reason(code), bl))
    return -1;
  return bl && !head ? io_write(c, body, bl) : 0;
}

static int send_chunked(struct pconn *c, const unsigned char *d, size_t n)
{
  if (n && (io_printf(c, "%zx\r\n", n) || io_write(c, d, n) ||
            io_write(c, "\r\n", 2)))
    return -1;
  return io_write(c, "0\r\n\r\n", 5);
}

/* Answers a GET of f's bytes [a, b] per the step.  -1: close the
 * connection. */
static int answer_range(struct pconn *c, const struct pfile *f, uint64_t a,
                        uint64_t b, const struct peer_step *st)
{
  const unsigned char *d = f->data + a;
  size_t len = (size_t)(b - a + 1), k = (size_t)st->n;
  static const char junk[4096];
#define HEAD206 "HTTP/1.1 206 Partial Content\r\nAccept-Ranges: bytes\r\n"

  switch (st->act) {
  case PEER_DROP:
  case PEER_STALL:
    if (k > len)
      k = len;
    if (io_printf(c, HEAD206 "Content-Range: bytes %llu-%llu/%zu\r\n"
                  "Content-Length: %zu\r\n\r\n", (unsigned long long)a,
                  (unsigned long long)b, f->size, len) ||
        io_write(c, d, k))
      return -1;
    if (st->act == PEER_STALL)
      wait_ms(c, 600000);
    return -1;
  case PEER_FULL200:
    return io_printf(c, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
                     f->size) || io_write(c, f->data, f->size) ? -1 : 0;
  case PEER_SHORT:
    if (k > len)
      k = len;
    return io_printf(c, HEAD206 "Content-Range: bytes %llu-%llu/%zu\r\n"
                     "Content-Length: %zu\r\n\r\n", (unsigned long long)a,
                     (unsigned long long)b, f->size, len - k) ||
                   io_write(c, d, len - k) ? -1 : 0;
  case PEER_EXTRA:
    if (k > sizeof junk)
      k = sizeof junk;
    return io_printf(c, HEAD206 "Content-Range: bytes %llu-%llu/%zu\r\n"
                     "Content-Length: %zu\r\n\r\n", (unsigned long long)a,
                     (unsigned long long)b, f->size, len + k) ||
                   io_write(c, d, len) || io_write(c, junk, k) ? -1 : 0;
  case PEER_BAD_RANGE:
    return io_printf(c, HEAD206 "Content-Range: bytes %llu-%llu/%zu\r\n"
                     "Content-Length: %zu\r\n\r\n",
                     (unsigned long long)(a + k), (unsigned long long)(b + k),
                     f->size + k, len) || io_write(c, d, len) ? -1 : 0;
  case PEER_CHUNKED_SHORT:
  case PEER_CHUNKED:
    if (st->act == PEER_CHUNKED)
      k = 0;
    if (k > len)
      k = len;
    return io_printf(c, HEAD206 "Content-Range: bytes %llu-%llu/%zu\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n",
                     (unsigned long long)a, (unsigned long long)b, f->size) ||
                   send_chunked(c, d, len - k) ? -1 : 0;
  case PEER_CLOSE_SHORT:
    if (k > len)
      k = len;
    io_printf(c, HEAD206 "Content-Range: bytes %llu-%llu/%zu\r\n"
              "Connection: close\r\n\r\n", (unsigned long long)a,
              (unsigned long long)b, f->size);
    io_write(c, d, len - k);
    return -1;
  case PEER_GZIP:
    return io_printf(c, HEAD206 "Content-Range: bytes %llu-%llu/%zu\r\n"
                     "Content-Encoding: gzip\r\nContent-Length: %zu\r\n\r\n",
                     (unsigned long long)a, (unsigned long long)b, f->size,
                     len) || io_write(c, d, len) ? -1 : 0;
  default:
    return io_printf(c, HEAD206 "Content-Range: bytes %llu-%llu/%zu\r\n"
                     "Content-Length: %zu\r\n\r\n", (unsigned long long)a,
                     (unsigned long long)b, f->size, len) ||
                   io_write(c, d, len) ? -1 : 0;
  }
#undef HEAD206
}

/* Answers one request.  -1: close the connection. */
static int answer(struct pconn *c, const char *head)
{
  struct http_peer *p = c->p;
  struct peer_req r;
  struct peer_step st;
  char path[1024];
  const struct pfile *f;
  unsigned long long a = 0, b = 0;
  int n = 0;
  bool is_head;

  memset(&r, 0, sizeof r);
  if (sscanf(head, "%7s %1023s", r.method, r.target) != 2)
    return -1;
  header_value(head, "Range", r.range, sizeof r.range);
  header_value(head, "Cookie", r.cookie, sizeof r.cookie);
  header_value(head, "Host", r.host, sizeof r.host);
  r.conn = c->id;
  is_head = strcmp(r.method, "HEAD") == 0;
  record(c, &r);
  st = take_step(p);
  if (st.act == PEER_DELAY && !wait_ms(c, st.n))
    return -1;
  if (st.act == PEER_STATUS)
    return send_status(c, is_head, st.n, st.body);
  if (!cookie_ok(p, r.cookie))
    return send_status(c, is_head, 401, "ticket refused");
  decode_path(r.target, path, sizeof path);
  f = find_file(p, path);
  if (!f)
    return send_status(c, is_head, 404, "no such file");
  if (is_head)
    return io_printf(c, "HTTP/1.1 200 OK\r\nAccept-Ranges: bytes\r\n"
                        "Content-Length: %zu\r\n\r\n", f->size);
  if (strcmp(r.method, "GET") != 0)
    return send_status(c, is_head, 405, "GET or HEAD");
  if (!r.range[0])
    return io_printf(c, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
                     f->size) || io_write(c, f->data, f->size) ? -1 : 0;
  if (sscanf(r.range, "bytes=%llu-%llu%n", &a, &b, &n) != 2 ||
      (size_t)n != strlen(r.range) || b < a)
    return send_status(c, is_head, 400, "one range a-b only");
  if (a >= f->size)
    return io_printf(c, "HTTP/1.1 416 Range Not Satisfiable\r\n"
                        "Content-Range: bytes */%zu\r\nContent-Length: 0"
                        "\r\n\r\n", f->size);
  if (b >= f->size)
    b = f->size - 1;
  return answer_range(c, f, a, b, &st);
}

static void *conn_main(void *arg)
{
  struct pconn *c = arg;
  struct http_peer *p = c->p;

  if (c->ssl && SSL_accept(c->ssl) != 1)
    goto out;
  for (;;) {
    size_t hl = read_head(c);

    if (!hl || p->stop)
      break;
    if (answer(c, c->in) != 0)
      break;
    memmove(c->in, c->in + hl, c->in_len - hl);
    c->in_len -= hl;
  }
out:
  if (c->ssl) {
    SSL_shutdown(c->ssl);
    SSL_free(c->ssl);
    c->ssl = NULL;
  }
  pthread_mutex_lock(&p->lock);
  close(c->fd);
  c->closed = true;
  p->open_now--;
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

static void *accept_main(void *arg)
{
  struct http_peer *p = arg;

  for (;;) {
    int fd = accept(p->lfd, NULL, NULL);
    struct pconn *c;

    if (fd < 0) {
      if (errno == EINTR && !p->stop)
        continue;
      break;
    }
    c = calloc(1, sizeof *c);
    if (!c)
      die("out of memory");
    {
      int one = 1; /* a head and its body are separate writes */

      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
    c->p = p;
    c->fd = fd;
    if (p->ctx) {
      c->ssl = SSL_new(p->ctx);
      SSL_set_fd(c->ssl, fd);
    }
    pthread_mutex_lock(&p->lock);
    if (p->stop || p->n_conns >= MAX_CONNS) {
      pthread_mutex_unlock(&p->lock);
      SSL_free(c->ssl);
      close(fd);
      free(c);
      continue;
    }
    c->id = ++p->n_conns;
    p->conns[c->id - 1] = c;
    p->open_now++;
    if (p->open_now > p->max_open)
      p->max_open = p->open_now;
    if (pthread_create(&c->thread, NULL, conn_main, c) != 0)
      die("pthread_create");
    pthread_mutex_unlock(&p->lock);
  }
  return NULL;
}

struct http_peer *peer_start(const struct peer_tls *tls)
{
  struct http_peer *p = calloc(1, sizeof *p);
  struct sockaddr_in sa = {.sin_family = AF_INET};
  socklen_t sl = sizeof sa;

  if (!p)
    die("out of memory");
  signal(SIGPIPE, SIG_IGN); /* SSL_write to a client that left */
  p->reqs = calloc(MAX_RECORDS, sizeof *p->reqs);
  if (!p->reqs || pipe(p->stop_pipe) != 0)
    die("setup");
  pthread_mutex_init(&p->lock, NULL);
  if (tls) {
    p->ctx = SSL_CTX_new(TLS_server_method());
    if (!p->ctx || SSL_CTX_use_certificate(p->ctx, tls->cert) != 1 ||
        SSL_CTX_use_PrivateKey(p->ctx, tls->key) != 1)
      die("TLS setup");
  }
  p->lfd = socket(AF_INET, SOCK_STREAM, 0);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (p->lfd < 0 || bind(p->lfd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
      listen(p->lfd, 64) != 0 ||
      getsockname(p->lfd, (struct sockaddr *)&sa, &sl) != 0)
    die("listen");
  p->port = ntohs(sa.sin_port);
  if (pthread_create(&p->acceptor, NULL, accept_main, p) != 0)
    die("pthread_create");
  return p;
}

void peer_stop(struct http_peer *p)
{
  if (!p)
    return;
  p->stop = 1;
  if (write(p->stop_pipe[1], "x", 1) != 1)
    die("stop pipe");
  shutdown(p->lfd, SHUT_RDWR);
  pthread_join(p->acceptor, NULL);
  close(p->lfd);
  pthread_mutex_lock(&p->lock);
  for (int i = 0; i < p->n_conns; i++)
    if (!p->conns[i]->closed)
      shutdown(p->conns[i]->fd, SHUT_RDWR);
  pthread_mutex_unlock(&p->lock);
  for (int i = 0; i < p->n_conns; i++) {
    pthread_join(p->conns[i]->thread, NULL);
    free(p->conns[i]);
  }
  for (size_t i = 0; i < p->n_seen; i++)
    free(p->seen[i]);
  SSL_CTX_free(p->ctx);
  close(p->stop_pipe[0]);
  close(p->stop_pipe[1]);
  pthread_mutex_destroy(&p->lock);
  free(p->reqs);
  free(p);
}

int peer_port(const struct http_peer *p)
{
  return p->port;
}

void peer_add_file(struct http_peer *p, const char *path, const void *data,
                   size_t size)
{
  struct pfile *f;

  pthread_mutex_lock(&p->lock);
  if (p->n_files >= MAX_FILES)
    die("too many files");
  f = &p->files[p->n_files++];
  snprintf(f->path, sizeof f->path, "%s", path);
  f->data = data;
  f->size = size;
  pthread_mutex_unlock(&p->lock);
}

void peer_script(struct http_peer *p, const struct peer_step *steps,
                 size_t n)
{
  if (n > MAX_STEPS)
    die("script too long");
  pthread_mutex_lock(&p->lock);
  memcpy(p->steps, steps, n * sizeof *steps);
  p->n_steps = n;
  p->next_step = 0;
  pthread_mutex_unlock(&p->lock);
}

void peer_require_cookie(struct http_peer *p, const char *prefix,
                         bool single_use)
{
  pthread_mutex_lock(&p->lock);
  p->need_cookie = prefix != NULL;
  snprintf(p->cookie_prefix, sizeof p->cookie_prefix, "%s",
           prefix ? prefix : "");
  p->single_use = single_use;
  pthread_mutex_unlock(&p->lock);
}

size_t peer_requests(struct http_peer *p, struct peer_req *out, size_t max)
{
  size_t n;

  pthread_mutex_lock(&p->lock);
  n = p->n_reqs;
  if (out)
    memcpy(out, p->reqs, (n < max ? n : max) * sizeof *out);
  pthread_mutex_unlock(&p->lock);
  return n;
}

void peer_clear(struct http_peer *p)
{
  pthread_mutex_lock(&p->lock);
  p->n_reqs = 0;
  pthread_mutex_unlock(&p->lock);
}

int peer_connections(struct http_peer *p)
{
  int n;

  pthread_mutex_lock(&p->lock);
  n = p->n_conns;
  pthread_mutex_unlock(&p->lock);
  return n;
}

int peer_max_open(struct http_peer *p)
{
  int n;

  pthread_mutex_lock(&p->lock);
  n = p->max_open;
  pthread_mutex_unlock(&p->lock);
  return n;
}
