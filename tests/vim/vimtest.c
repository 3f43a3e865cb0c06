/*
 * vimtest.c -- the recorded answers and the scripted peer (vimtest.h).
 *
 * The server thread accepts one connection at a time and serves keep-alive
 * requests on it until the client closes, as vCenter does; requests are
 * read up to the end of their Content-Length body.  A new script (or stop)
 * ends the connection in service, so a session a failed test left behind
 * cannot block the next test.
 */
#include "vimtest.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include "vim/vim.h"

#define PEER_MAX 64

const struct peer_answer PEER_CONTENT = {
  PEER_BODY, "200 OK", "Set-Cookie: vmware_soap_session=\"C00KIE-s3cr3t\";"
  " Path=/; HttpOnly\r\n", NULL, "content.xml"};
const struct peer_answer PEER_LOGIN = PEER_FILE("login.xml");

static int lfd = -1, port;
static pthread_t srv;
static volatile int stop;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct peer_answer script[PEER_MAX];
static int n_script, next_ans;
static char *requests[PEER_MAX];
static int n_requests;
static int cur_fd = -1; /* the connection being served */

static char *read_data(const char *name, size_t *len, char *path,
                       size_t size)
{
  const char *src = getenv("FREEVIX_SRCDIR");

  snprintf(path, size, "%s/tests/vim/data/%s", src ? src : ".", name);
  return fvx_test_read_file(path, len);
}

char *vimtest_data(const char *name, size_t *len)
{
  char path[4096];
  char *d = read_data(name, len, path, sizeof path);

  if (!d)
    fail_msg("cannot read %s", path);
  return d;
}

static void send_all(int fd, const void *p, size_t n)
{
  const char *c = p;

  while (n) {
    ssize_t w = send(fd, c, n, MSG_NOSIGNAL);

    if (w <= 0)
      return;
    c += w;
    n -= (size_t)w;
  }
}

/* Reads one request into a malloc'd string.  NULL on EOF. */
static char *read_request(int fd)
{
  static char buf[1 << 20];
  size_t len = 0;

  for (;;) {
    ssize_t r = recv(fd, buf + len, sizeof buf - 1 - len, 0);
    const char *end, *c;
    long cl;

    if (r <= 0)
      return NULL;
    len += (size_t)r;
    buf[len] = '\0';
    end = strstr(buf, "\r\n\r\n");
    if (!end)
      continue;
    c = strcasestr(buf, "Content-Length:");
    cl = c ? atol(c + 15) : 0;
    if ((long)(len - (size_t)(end + 4 - buf)) >= cl)
      return strdup(buf);
  }
}

/* Answers with a; false when the connection must close. */
static int answer(int fd, const struct peer_answer *a)
{
  static const char huge_len[] = "HTTP/1.1 200 OK\r\nContent-Length: "
                                 "104857600\r\n\r\n<soapenv:Envelope";
  static const char huge_stream[] = "HTTP/1.1 200 OK\r\nConnection: close"
                                    "\r\n\r\n";
  static char chunk[65536];
  char head[1024];
  char *file = NULL;
  const char *body = a->body ? a->body : "";
  size_t blen = strlen(body);

  if (a->kind == PEER_HUGE_LENGTH) {
    send_all(fd, huge_len, sizeof huge_len - 1);
    return 0;
  }
  if (a->kind == PEER_HUGE_STREAM) {
    memset(chunk, ' ', sizeof chunk);
    send_all(fd, huge_stream, sizeof huge_stream - 1);
    for (int i = 0; i < 1600 && !stop; i++) /* 100 MiB */
      send_all(fd, chunk, sizeof chunk);
    return 0;
  }
  if (a->file) {
    char path[4096];

    file = read_data(a->file, &blen, path, sizeof path);
    body = file ? file : "";
    if (!file)
      blen = 0;
  }
  snprintf(head, sizeof head, "HTTP/1.1 %s\r\nContent-Type: text/xml\r\n%s"
           "Content-Length: %zu\r\n\r\n", a->status ? a->status : "200 OK",
           a->headers ? a->headers : "", blen);
  send_all(fd, head, strlen(head));
  send_all(fd, body, blen);
  free(file);
  return 1;
}

static void *server(void *arg)
{
  (void)arg;
  while (!stop) {
    int fd = accept(lfd, NULL, NULL);
    char *req;

    if (fd < 0)
      break;
    pthread_mutex_lock(&mu);
    cur_fd = fd;
    pthread_mutex_unlock(&mu);
    while ((req = read_request(fd)) != NULL) {
      struct peer_answer a = {PEER_BODY, "503 Service Unavailable", NULL,
                              "busy", NULL};
      int keep;

      pthread_mutex_lock(&mu);
      if (n_requests < PEER_MAX)
        requests[n_requests++] = req;
      else
        free(req);
      if (next_ans < n_script)
        a = script[next_ans++];
      pthread_mutex_unlock(&mu);
      keep = answer(fd, &a);
      if (!keep)
        break;
    }
    pthread_mutex_lock(&mu);
    cur_fd = -1;
    pthread_mutex_unlock(&mu);
    close(fd);
  }
  return NULL;
}

int peer_start(void)
{
  struct sockaddr_in sa = {.sin_family = AF_INET};
  socklen_t sl = sizeof sa;

  stop = 0;
  lfd = socket(AF_INET, SOCK_STREAM, 0);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof sa) != 0 ||
      listen(lfd, 8) != 0 ||
      getsockname(lfd, (struct sockaddr *)&sa, &sl) != 0)
    return -1;
  port = ntohs(sa.sin_port);
  return pthread_create(&srv, NULL, server, NULL) == 0 ? 0 : -1;
}

/* Ends the connection being served (a test that failed half-way may have
 * left its session open), so the next script starts on a new one. */
static void drop_connection(void)
{
  if (cur_fd >= 0)
    shutdown(cur_fd, SHUT_RDWR);
}

static void forget_requests(void)
{
  for (int i = 0; i < n_requests; i++)
    free(requests[i]);
  n_requests = 0;
}

void peer_stop(void)
{
  stop = 1;
  pthread_mutex_lock(&mu);
  drop_connection();
  pthread_mutex_unlock(&mu);
  shutdown(lfd, SHUT_RDWR);
  close(lfd);
  pthread_join(srv, NULL);
  pthread_mutex_lock(&mu);
  forget_requests();
  pthread_mutex_unlock(&mu);
}

int peer_port(void)
{
  return port;
}

void peer_script(const struct peer_answer *a, int n)
{
  pthread_mutex_lock(&mu);
  if (n > PEER_MAX)
    n = PEER_MAX;
  memcpy(script, a, (size_t)n * sizeof *a);
  n_script = n;
  next_ans = 0;
  forget_requests();
  drop_connection();
  pthread_mutex_unlock(&mu);
}

int peer_requests(void)
{
  int n;

  pthread_mutex_lock(&mu);
  n = n_requests;
  pthread_mutex_unlock(&mu);
  return n;
}

const char *peer_request(int i)
{
  const char *r;

  pthread_mutex_lock(&mu);
  r = i >= 0 && i < n_requests ? requests[i] : "";
  pthread_mutex_unlock(&mu);
  return r;
}

struct vim_session *vimtest_session(size_t max_body)
{
  struct vim_options o = {0};
  struct vim_session *s = NULL;
  struct vim_error e;

  o.host = "http://127.0.0.1";
  o.port = (unsigned)port;
  o.allow_http = true;
  o.max_body_bytes = max_body;
  o.retry_deadline_ms = 300;
  if (vim_session_new(&s, &o, &e) != VIM_OK)
    fail_msg("vim_session_new: %s", e.detail);
  return s;
}
