/*
 * test_access_port.c -- the default vCenter port lives in one place
 * (access_port): 443 for https, 80 for the http:// servers that
 * freevix.allowHttp permits, the given port otherwise; and a ConnectEx to
 * "http://127.0.0.1" with port 0 really dials port 80.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "access/conninfo.h"
#include "freevix.h"
#include "testutil.h"

static char warn_text[4096];

static void warn_fn(const char *fmt, va_list ap)
{
  size_t len = strlen(warn_text);

  vsnprintf(warn_text + len, sizeof warn_text - len, fmt, ap);
}

static void defaults(void **state)
{
  struct access_conninfo ci;

  (void)state;
  memset(&ci, 0, sizeof ci);
  ci.server = "vc.example.com";
  assert_int_equal(access_port(&ci), 443);
  ci.server = "https://vc.example.com";
  assert_int_equal(access_port(&ci), 443);
  ci.server = "http://vc.example.com";
  assert_int_equal(access_port(&ci), 80);
  ci.port = 8443;
  assert_int_equal(access_port(&ci), 8443);
  ci.server = "vc.example.com";
  assert_int_equal(access_port(&ci), 8443);
}

/* True when something accepts connections on 127.0.0.1:port. */
static int listening(unsigned port)
{
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

  assert_true(fd >= 0);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
  close(fd);
  return ok;
}

static void http_without_port_dials_80(void **state)
{
  VixDiskLibConnectParams p;
  VixDiskLibConnection c = NULL;

  (void)state;
  if (listening(80))
    fvx_test_skip("something listens on 127.0.0.1:80; cannot tell");
  assert_int_equal(freevix_set_config("freevix.allowHttp", "1"), VIX_OK);
  assert_int_equal(VixDiskLib_InitEx(8, 0, NULL, warn_fn, NULL, NULL, NULL),
                   VIX_OK);
  memset(&p, 0, sizeof p);
  p.serverName = (char *)"http://127.0.0.1";
  p.credType = VIXDISKLIB_CRED_UID;
  p.creds.uid.userName = (char *)"u";
  p.creds.uid.password = (char *)"p";
  warn_text[0] = '\0';
  assert_int_equal(VixDiskLib_ConnectEx(&p, TRUE, NULL, NULL, &c),
                   VIX_E_HOST_NETWORK_CONN_REFUSED);
  /* libcurl's message names the port it tried. */
  if (!strstr(warn_text, "port 80 "))
    fail_msg("expected a connection attempt to port 80: %s", warn_text);
  VixDiskLib_Exit();
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(defaults),
    cmocka_unit_test(http_without_port_dials_80),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
