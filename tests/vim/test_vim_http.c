/*
 * test_vim_http.c -- the transport against a tiny scripted HTTP server on
 * loopback: size cap enforced while receiving, odd HTTP answers, the exact
 * request on the wire (namespace, SOAPAction, escaping, User-Agent,
 * cookie), and that secrets stay out of the log.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include "util/log.h"
#include "vim/internal.h"

/* What the server answers: one script entry per request. */
enum answer { A_CONTENT, A_LOGIN, A_OK_DISABLE, A_HUGE_STREAM, A_HUGE_LENGTH,
              A_HTML500, A_EMPTY200, A_503 };

static int lfd, port;
static enum answer script[16];
static int n_script, next_ans;
static char last_req[65536];
static pthread_t srv;
static volatile int stop;

static const char content_xml[] =
    "<?xml version=\"1.0\"?><soapenv:Envelope xmlns:soapenv=\"http://schemas."
    "xmlsoap.org/soap/envelope/\"><soapenv:Body><RetrieveServiceContentResponse"
    " xmlns=\"urn:vim25\"><returnval><rootFolder type=\"Folder\">group-d1"
    "</rootFolder><propertyCollector type=\"PropertyCollector\">pc"
    "</propertyCollector><about><apiType>VirtualCenter</apiType><apiVersion>8.0"
    "</apiVersion></about><sessionManager type=\"SessionManager\">SM"
    "</sessionManager><authorizationManager type=\"AuthorizationManager\">AM"
    "</authorizationManager></returnval></RetrieveServiceContentResponse>"
    "</soapenv:Body></soapenv:Envelope>";
static const char login_xml[] =
    "<?xml version=\"1.0\"?><soapenv:Envelope xmlns:soapenv=\"http://schemas."
    "xmlsoap.org/soap/envelope/\"><soapenv:Body><LoginResponse xmlns=\"urn:"
    "vim25\"><returnval><key>k1</key></returnval></LoginResponse>"
    "</soapenv:Body></soapenv:Envelope>";
static const char disable_xml[] =
    "<?xml version=\"1.0\"?><soapenv:Envelope xmlns:soapenv=\"http://schemas."
    "xmlsoap.org/soap/envelope/\"><soapenv:Body><DisableMethodsResponse xmlns="
    "\"urn:vim25\"/></soapenv:Body></soapenv:Envelope>";

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

static void reply(int fd, const char *status, const char *extra,
                  const char *body)
{
  char h[512];

  snprintf(h, sizeof h, "HTTP/1.1 %s\r\nContent-Type: text/xml\r\n%s"
           "Content-Length: %zu\r\n\r\n", status, extra, strlen(body));
  send_all(fd, h, strlen(h));
  send_all(fd, body, strlen(body));
}

/* Reads one request (headers + Content-Length body).  0 on EOF. */
static int read_request(int fd)
{
  size_t len = 0;
  char *end;
  long cl;

  for (;;) {
    ssize_t r = recv(fd, last_req + len, sizeof last_req - 1 - len, 0);

    if (r <= 0)
      return 0;
    len += (size_t)r;
    last_req[len] = '\0';
    end = strstr(last_req, "\r\n\r\n");
    if (!end)
      continue;
    {
      const char *c = strcasestr(last_req, "Content-Length:");

      cl = c ? atol(c + 15) : 0;
    }
    if ((long)(len - (size_t)(end + 4 - last_req)) >= cl)
      return 1;
  }
}

static void *server(void *arg)
{
  (void)arg;
  while (!stop) {
    int fd = accept(lfd, NULL, NULL);

    if (fd < 0)
      break;
    while (read_request(fd)) {
      enum answer a = next_ans < n_script ? script[next_ans++] : A_503;

      if (a == A_CONTENT)
        reply(fd, "200 OK", "Set-Cookie: vmware_soap_session=\"C00KIE-s3cr3t\";"
              " Path=/; HttpOnly\r\n", content_xml);
      else if (a == A_LOGIN)
        reply(fd, "200 OK", "", login_xml);
      else if (a == A_OK_DISABLE)
        reply(fd, "200 OK", "", disable_xml);
      else if (a == A_HTML500)
        reply(fd, "500 Internal Server Error", "",
              "<html><body>Internal error<br></body></html>");
      else if (a == A_EMPTY200)
        reply(fd, "200 OK", "", "");
      else if (a == A_503)
        reply(fd, "503 Service Unavailable", "", "busy");
      else if (a == A_HUGE_LENGTH) {
        static const char h[] = "HTTP/1.1 200 OK\r\nContent-Length: 104857600"
                                "\r\n\r\n<soapenv:Envelope";

        send_all(fd, h, sizeof h - 1);
        break;
      } else if (a == A_HUGE_STREAM) {
        static const char h[] = "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n";
        static char chunk[65536];

        memset(chunk, ' ', sizeof chunk);
        send_all(fd, h, sizeof h - 1);
        for (int i = 0; i < 1600 && !stop; i++) /* 100 MiB */
          send_all(fd, chunk, sizeof chunk);
        break;
      }
    }
    close(fd);
  }
  return NULL;
}

static int setup(void **state)
{
  struct sockaddr_in sa = {.sin_family = AF_INET};
  socklen_t sl = sizeof sa;

  (void)state;
  lfd = socket(AF_INET, SOCK_STREAM, 0);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(lfd, (struct sockaddr *)&sa, sizeof sa), 0);
  assert_int_equal(listen(lfd, 8), 0);
  getsockname(lfd, (struct sockaddr *)&sa, &sl);
  port = ntohs(sa.sin_port);
  return pthread_create(&srv, NULL, server, NULL);
}

static int teardown(void **state)
{
  (void)state;
  stop = 1;
  shutdown(lfd, SHUT_RDWR);
  close(lfd);
  pthread_join(srv, NULL);
  return 0;
}

static void run_script(const enum answer *a, int n)
{
  memcpy(script, a, (size_t)n * sizeof *a);
  n_script = n;
  next_ans = 0;
}

static struct vim_session *session(size_t max_body)
{
  struct vim_options o = {0};
  struct vim_session *s;
  struct vim_error e;

  o.host = "http://127.0.0.1";
  o.port = (unsigned)port;
  o.allow_http = true;
  o.max_body_bytes = max_body;
  o.retry_deadline_ms = 300;
  assert_int_equal(vim_session_new(&s, &o, &e), VIM_OK);
  return s;
}

static int log_hits;
static void sink(void *opaque, enum fvx_log_level level, const char *msg)
{
  (void)opaque;
  (void)level;
  if (strstr(msg, "C00KIE") || strstr(msg, "pa55word"))
    log_hits++;
}

static void test_wire_format(void **state)
{
  static const enum answer a[] = {A_CONTENT, A_LOGIN, A_OK_DISABLE};
  struct vim_session *s;
  struct vim_error e;
  struct vim_moref ents[2];
  struct vim_disabled_method dm = {"RelocateVM_Task", "r&r"};
  struct vim_stats st;

  (void)state;
  run_script(a, 3);
  s = session(0);
  fvx_log_set_sink(sink, NULL);
  fvx_log_set_level(FVX_LOG_DEBUG);
  assert_int_equal(vim_login(s, "root", "pa55word", &e), VIM_OK);
  assert_non_null(strstr(last_req, "<password>pa55word</password>"));
  assert_non_null(strstr(last_req, "SOAPAction: \"urn:vim25/7.0\""));
  assert_non_null(strstr(last_req, "User-Agent: freevix/" FREEVIX_VERSION));
  vim_moref_set(&ents[0], "VirtualMachine", "vm-1");
  vim_moref_set(&ents[1], "VirtualMachine", "vm-2");
  assert_int_equal(vim_disable_methods(s, ents, 2, &dm, 1, "a<b&\"c'", true,
                                       &e), VIM_OK);
  assert_true(vim_session_holds_scoped(s));
  assert_non_null(strstr(last_req, "SOAPAction: \"urn:internalvim25/7.0\""));
  assert_non_null(strstr(last_req, "Cookie: vmware_soap_session=\"C00KIE-s3cr3t\""));
  assert_non_null(strstr(last_req,
      "<DisableMethods xmlns=\"urn:internalvim25\"><_this type=\""
      "AuthorizationManager\">AM</_this><entity type=\"VirtualMachine\">vm-1"
      "</entity><entity type=\"VirtualMachine\">vm-2</entity><method><method>"
      "RelocateVM_Task</method><reasonId>r&amp;r</reasonId></method><sourceId>"
      "a&lt;b&amp;&quot;c&apos;</sourceId><sessionScope>true</sessionScope>"
      "</DisableMethods>"));
  vim_session_stats(s, &st);
  assert_int_equal(st.requests, 3);
  assert_int_equal(st.connects, 1);
  /* Logout is refused by the script (503): free must not hang or leak. */
  vim_session_free(s);
  fvx_log_set_sink(NULL, NULL);
  assert_int_equal(log_hits, 0);
}

static void test_too_big(void **state)
{
  static const enum answer a1[] = {A_HUGE_STREAM};
  static const enum answer a2[] = {A_HUGE_LENGTH};
  struct vim_session *s;
  struct vim_error e;

  (void)state;
  run_script(a1, 1);
  s = session(1 << 20);
  assert_int_equal(vim_service_content(s, NULL, &e), VIM_E_TOO_BIG);
  /* The buffer never grew past the cap. */
  assert_true(s->resp.alloc <= (1u << 20) + 1);
  vim_session_free(s);
  run_script(a2, 1);
  s = session(1 << 20);
  assert_int_equal(vim_service_content(s, NULL, &e), VIM_E_TOO_BIG);
  vim_session_free(s);
}

static void test_odd_answers(void **state)
{
  static const enum answer a1[] = {A_HTML500};
  static const enum answer a2[] = {A_EMPTY200};
  static const enum answer a3[] = {A_503, A_503, A_503, A_503, A_503, A_503,
                                   A_503, A_503, A_503, A_503};
  static const enum answer a4[] = {A_503, A_CONTENT};
  struct vim_session *s;
  struct vim_error e;
  struct vim_stats st;

  (void)state;
  run_script(a1, 1);
  s = session(0);
  assert_int_equal(vim_service_content(s, NULL, &e), VIM_E_HTTP);
  assert_int_equal(e.http_status, 500);
  vim_session_free(s);
  run_script(a2, 1);
  s = session(0);
  assert_int_equal(vim_service_content(s, NULL, &e), VIM_E_PROTOCOL);
  vim_session_free(s);
  run_script(a3, 10);
  s = session(0);
  assert_int_equal(vim_service_content(s, NULL, &e), VIM_E_HTTP);
  assert_int_equal(e.http_status, 503);
  vim_session_free(s);
  run_script(a4, 2);
  s = session(0);
  assert_int_equal(vim_service_content(s, NULL, &e), VIM_OK);
  vim_session_stats(s, &st);
  assert_int_equal(st.retries, 1);
  vim_session_free(s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_wire_format),
    cmocka_unit_test(test_too_big),
    cmocka_unit_test(test_odd_answers),
  };

  return cmocka_run_group_tests(tests, setup, teardown);
}
