/*
 * vimtest.h -- what the unit tests of src/vim share: the recorded answers
 * in tests/vim/data, and a scripted HTTP/1.1 peer on loopback.
 *
 * The peer answers the n-th request with the n-th entry of its script (a
 * 503 once the script is used up) and keeps a copy of every request (head
 * and body) so a test can check exactly what went on the wire.  One peer
 * per process: peer_start() in the group setup, peer_stop() in teardown.
 */
#ifndef FVX_VIMTEST_H
#define FVX_VIMTEST_H

#include <stddef.h>

/* A recorded answer, malloc'd and NUL-terminated (free with free());
 * *len (optional) gets its size.  Fails the test when missing. */
char *vimtest_data(const char *name, size_t *len);

enum peer_kind {
  PEER_BODY,          /* status line, extra headers, body */
  PEER_HUGE_STREAM,   /* 100 MiB without Content-Length, then close */
  PEER_HUGE_LENGTH,   /* Content-Length: 100 MiB, a few bytes, close */
};

struct peer_answer {
  enum peer_kind kind;
  const char *status;   /* e.g. "200 OK" */
  const char *headers;  /* extra header lines, each ending in \r\n; NULL */
  const char *body;     /* NULL: "" */
  const char *file;     /* instead of body: a file of tests/vim/data */
};

/* Binds 127.0.0.1 on a random port and serves in a thread.  0 or -1. */
int peer_start(void);
void peer_stop(void);
int peer_port(void);

/* Replaces the script (entries are copied; strings must outlive it) and
 * forgets the recorded requests. */
void peer_script(const struct peer_answer *a, int n);

/* Runs a script given inline: PEER_SCRIPT(PEER_CONTENT, PEER_FILE("x")). */
#define PEER_SCRIPT(...)                                                   \
  do {                                                                     \
    const struct peer_answer script_[] = {__VA_ARGS__};                    \
    peer_script(script_, (int)(sizeof script_ / sizeof script_[0]));       \
  } while (0)
/* A 200 answer with a recorded body; PEER_FAULT the same with HTTP 500. */
#define PEER_FILE(name) {PEER_BODY, "200 OK", NULL, NULL, name}
#define PEER_FAULT(name) {PEER_BODY, "500 Internal Server Error", NULL, NULL, name}

/* ServiceContent (content.xml: PropertyCollector "pc", SessionManager "SM",
 * SearchIndex "SI", AuthorizationManager "AM") setting the cookie
 * "C00KIE-s3cr3t"; and a Login answer (login.xml). */
extern const struct peer_answer PEER_CONTENT, PEER_LOGIN;

struct vim_session;
/* A session to the peer over plain HTTP with a 300 ms retry deadline;
 * max_body 0 for the default.  Fails the test on error. */
struct vim_session *vimtest_session(size_t max_body);

/* How many requests arrived since peer_script; the i-th (0-based) of them,
 * head and body, NUL-terminated ("" when there is none). */
int peer_requests(void);
const char *peer_request(int i);

#endif
