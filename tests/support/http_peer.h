/*
 * http_peer.h -- a scripted HTTP/1.1 file server on 127.0.0.1 for C tests,
 * plain or TLS, that can be told how to misbehave request by request.
 *
 * It serves byte buffers under URL paths ("/folder/dir/a b.vmdk": the
 * request path is percent-decoded before lookup, the query ignored) with
 * HEAD, GET and single "Range: bytes=a-b" (206 + Content-Range; 416 past
 * the end), on keep-alive connections, one thread per connection.  A
 * script of steps is consumed one step per request, in arrival order;
 * requests beyond the script are answered correctly.  Every request is
 * recorded (method, target, Range, Cookie, Host, connection number), and
 * the peer can insist on a cookie or accept each cookie once (single-use
 * tickets).  TLS uses a throwaway self-signed certificate made in memory
 * (peer_tls_make) whose thumbprints the test can pin.
 *
 * Everything a test waits on is bounded: delays and stalls end when the
 * client closes or the peer stops, and peer_stop joins every thread.
 * Not thread-safe to configure while requests run, except peer_script and
 * the record readers, which lock.
 */
#ifndef FVX_TEST_HTTP_PEER_H
#define FVX_TEST_HTTP_PEER_H

#include <stdbool.h>
#include <stddef.h>

enum peer_act {
  PEER_OK,         /* the right answer */
  PEER_DROP,       /* 206 head, n body bytes, then the connection closes */
  PEER_FULL200,    /* 200 with the whole file (a server ignoring Range) */
  PEER_SHORT,      /* 206, Content-Length and body n bytes short */
  PEER_EXTRA,      /* 206, Content-Length and body n bytes too long */
  PEER_BAD_RANGE,  /* 206 whose Content-Range is shifted by n bytes */
  PEER_STATUS,     /* status n with the step's body text (keep-alive) */
  PEER_DELAY,      /* waits n ms (or until the client leaves), then OK */
  PEER_STALL,      /* 206 head, n body bytes, then silence */
  PEER_CHUNKED_SHORT, /* chunked 206 ending cleanly n bytes early */
  PEER_CLOSE_SHORT,   /* 206 without length, closed n bytes early */
  PEER_CHUNKED,    /* the right answer, chunked */
  PEER_GZIP,       /* the right bytes, labelled Content-Encoding: gzip */
};

struct peer_step {
  enum peer_act act;
  long n;
  const char *body; /* PEER_STATUS: the body text (NULL: none) */
};

struct peer_req {
  char method[8];
  char target[1024]; /* as sent (percent-encoded) */
  char range[64];    /* the Range value, "" if none */
  char cookie[512];  /* the Cookie value, "" if none */
  char host[256];    /* the Host value */
  int conn;          /* connection number, from 1 */
};

/* A certificate and key for a TLS peer, and their thumbprints. */
struct peer_tls {
  void *cert;            /* X509 * */
  void *key;             /* EVP_PKEY * */
  char sha1[64];         /* "AB:CD:..." */
  char sha256[100];
  char pem_path[4096];   /* the certificate as a PEM file (a CA file) */
};

/* Makes a P-256 key and a self-signed certificate for "localhost" and
 * 127.0.0.1, written as PEM under dir.  Aborts the test on failure. */
void peer_tls_make(struct peer_tls *t, const char *dir);
void peer_tls_free(struct peer_tls *t);

struct http_peer;

/* Starts a peer (tls NULL: plain HTTP; else borrowed until peer_stop).
 * Aborts the test on failure. */
struct http_peer *peer_start(const struct peer_tls *tls);

/* Stops it: closes every connection, joins every thread, frees it. */
void peer_stop(struct http_peer *p);

int peer_port(const struct http_peer *p);

/* Serves size bytes of data (borrowed) under the decoded path. */
void peer_add_file(struct http_peer *p, const char *path, const void *data,
                   size_t size);

/* Replaces the script (steps copied; bodies borrowed). */
void peer_script(struct http_peer *p, const struct peer_step *steps,
                 size_t n);

/* Answers 401 to requests whose Cookie does not start with prefix (NULL:
 * no check); with single_use, also to a Cookie value seen before. */
void peer_require_cookie(struct http_peer *p, const char *prefix,
                         bool single_use);

/* Copies up to max records, oldest first; returns how many there are. */
size_t peer_requests(struct http_peer *p, struct peer_req *out, size_t max);

/* Forgets the records. */
void peer_clear(struct http_peer *p);

/* Connections accepted so far, and the most open at once. */
int peer_connections(struct http_peer *p);
int peer_max_open(struct http_peer *p);

#endif
