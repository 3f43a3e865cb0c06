/*
 * test_vim_http.c -- the transport and the session rules against the
 * scripted HTTP peer (vimtest.h): size cap enforced while receiving, odd
 * HTTP answers, the exact request on the wire (namespace, SOAPAction,
 * escaping, User-Agent, cookie), that secrets stay out of the log, and
 * re-login (vim_invoke): once per call, again after a failed attempt, never
 * for a borrowed cookie, never over lost session-scoped disables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/log.h"
#include "vim/internal.h"
#include "vimtest.h"

static const char disable_xml[] =
    "<?xml version=\"1.0\"?><soapenv:Envelope xmlns:soapenv=\"http://schemas."
    "xmlsoap.org/soap/envelope/\"><soapenv:Body><DisableMethodsResponse xmlns="
    "\"urn:vim25\"/></soapenv:Body></soapenv:Envelope>";

/* The answers the scripts are made of. */
#define A_CONTENT PEER_CONTENT
#define A_LOGIN PEER_LOGIN
static const struct peer_answer A_LOGIN2 = {
  PEER_BODY, "200 OK", "Set-Cookie: vmware_soap_session=\"C00KIE-2\"\r\n",
  NULL, "login.xml"};
static const struct peer_answer A_OK_DISABLE = {PEER_BODY, "200 OK", NULL,
                                                disable_xml, NULL};
static const struct peer_answer A_HUGE_STREAM = {PEER_HUGE_STREAM, NULL, NULL,
                                                 NULL, NULL};
static const struct peer_answer A_HUGE_LENGTH = {PEER_HUGE_LENGTH, NULL, NULL,
                                                 NULL, NULL};
static const struct peer_answer A_HTML500 = {
  PEER_BODY, "500 Internal Server Error", NULL,
  "<html><body>Internal error<br></body></html>", NULL};
static const struct peer_answer A_EMPTY200 = {PEER_BODY, "200 OK", NULL, "",
                                              NULL};
static const struct peer_answer A_503 = {PEER_BODY, "503 Service Unavailable",
                                         NULL, "busy", NULL};
static const struct peer_answer A_NOT_AUTH =
    PEER_FAULT("fault_not_authenticated.xml");
static const struct peer_answer A_FIND = PEER_FILE("find_dc.xml");
static const struct peer_answer A_SESSION = PEER_FILE("current_session.xml");

static int setup(void **state)
{
  (void)state;
  return peer_start();
}

static int teardown(void **state)
{
  (void)state;
  peer_stop();
  return 0;
}

/* The last request the peer received. */
static const char *last_req(void)
{
  return peer_request(peer_requests() - 1);
}

static struct vim_session *session(size_t max_body)
{
  return vimtest_session(max_body);
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
  struct vim_session *s;
  struct vim_error e;
  struct vim_moref ents[2];
  struct vim_disabled_method dm = {"RelocateVM_Task", "r&r"};
  struct vim_stats st;

  (void)state;
  PEER_SCRIPT(A_CONTENT, A_LOGIN, A_OK_DISABLE);
  s = session(0);
  fvx_log_set_sink(sink, NULL);
  fvx_log_set_level(FVX_LOG_DEBUG);
  assert_int_equal(vim_login(s, "root", "pa55word", &e), VIM_OK);
  assert_non_null(strstr(last_req(), "<password>pa55word</password>"));
  assert_non_null(strstr(last_req(), "SOAPAction: \"urn:vim25/7.0\""));
  assert_non_null(strstr(last_req(), "User-Agent: freevix/" FREEVIX_VERSION));
  vim_moref_set(&ents[0], "VirtualMachine", "vm-1");
  vim_moref_set(&ents[1], "VirtualMachine", "vm-2");
  assert_int_equal(vim_disable_methods(s, ents, 2, &dm, 1, "a<b&\"c'", true,
                                       &e), VIM_OK);
  assert_true(vim_session_holds_scoped(s));
  assert_non_null(strstr(last_req(), "SOAPAction: \"urn:internalvim25/7.0\""));
  assert_non_null(strstr(last_req(), "Cookie: vmware_soap_session=\"C00KIE-s3cr3t\""));
  assert_non_null(strstr(last_req(),
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
  struct vim_session *s;
  struct vim_error e;

  (void)state;
  PEER_SCRIPT(A_HUGE_STREAM);
  s = session(1 << 20);
  assert_int_equal(vim_service_content(s, NULL, &e), VIM_E_TOO_BIG);
  /* The buffer never grew past the cap. */
  assert_true(s->resp.alloc <= (1u << 20) + 1);
  vim_session_free(s);
  PEER_SCRIPT(A_HUGE_LENGTH);
  s = session(1 << 20);
  assert_int_equal(vim_service_content(s, NULL, &e), VIM_E_TOO_BIG);
  vim_session_free(s);
}

static void test_odd_answers(void **state)
{
  struct vim_session *s;
  struct vim_error e;
  struct vim_stats st;

  (void)state;
  PEER_SCRIPT(A_HTML500);
  s = session(0);
  assert_int_equal(vim_service_content(s, NULL, &e), VIM_E_HTTP);
  assert_int_equal(e.http_status, 500);
  vim_session_free(s);
  PEER_SCRIPT(A_EMPTY200);
  s = session(0);
  assert_int_equal(vim_service_content(s, NULL, &e), VIM_E_PROTOCOL);
  vim_session_free(s);
  PEER_SCRIPT(A_503, A_503, A_503, A_503, A_503, A_503, A_503, A_503, A_503,
         A_503);
  s = session(0);
  assert_int_equal(vim_service_content(s, NULL, &e), VIM_E_HTTP);
  assert_int_equal(e.http_status, 503);
  vim_session_free(s);
  PEER_SCRIPT(A_503, A_CONTENT);
  s = session(0);
  assert_int_equal(vim_service_content(s, NULL, &e), VIM_OK);
  vim_session_stats(s, &st);
  assert_int_equal(st.retries, 1);
  vim_session_free(s);
}

/* A session logged in over the script's first two answers. */
static struct vim_session *logged_in(void)
{
  struct vim_session *s = session(0);
  struct vim_error e;

  assert_int_equal(vim_login(s, "root", "pa55word", &e), VIM_OK);
  return s;
}

static bool is_call(int i, const char *method)
{
  char open[64];

  snprintf(open, sizeof open, "<%s xmlns=", method);
  return strstr(peer_request(i), open) != NULL;
}

/* NotAuthenticated: one Login with the stored password, then the call is
 * repeated with the new cookie. */
static void test_relogin(void **state)
{
  struct vim_session *s;
  struct vim_error e;
  struct vim_moref dc;
  struct vim_stats st;

  (void)state;
  PEER_SCRIPT(A_CONTENT, A_LOGIN, A_NOT_AUTH, A_LOGIN2, A_FIND);
  s = logged_in();
  assert_int_equal(vim_find_by_inventory_path(s, "DC0", &dc, &e), VIM_OK);
  assert_string_equal(dc.value, "datacenter-2");
  assert_int_equal(peer_requests(), 5);
  assert_true(is_call(2, "FindByInventoryPath"));
  assert_true(is_call(3, "Login"));
  assert_non_null(strstr(peer_request(3), "<password>pa55word</password>"));
  assert_true(is_call(4, "FindByInventoryPath"));
  assert_non_null(strstr(peer_request(4), "vmware_soap_session=\"C00KIE-2\""));
  vim_session_stats(s, &st);
  assert_int_equal(st.relogins, 1);
  vim_session_free(s);
}

/* A second NotAuthenticated after the re-login is the answer: no loop. */
static void test_relogin_once(void **state)
{
  struct vim_session *s;
  struct vim_error e;
  struct vim_moref dc;
  struct vim_stats st;

  (void)state;
  PEER_SCRIPT(A_CONTENT, A_LOGIN, A_NOT_AUTH, A_LOGIN2, A_NOT_AUTH);
  s = logged_in();
  assert_int_equal(vim_find_by_inventory_path(s, "DC0", &dc, &e), VIM_E_FAULT);
  assert_int_equal(e.fault.kind, VIM_FAULT_NOT_AUTHENTICATED);
  assert_int_equal(peer_requests(), 5);
  vim_session_stats(s, &st);
  assert_int_equal(st.relogins, 1);
  vim_session_free(s);
}

/* A re-login that fails (503: Login is never retried) is reported; the next
 * call may log in again -- the session is not dead for good.  (Before
 * vim_invoke, the failed attempt left the session unable to re-login.) */
static void test_relogin_after_failure(void **state)
{
  struct vim_session *s;
  struct vim_error e;
  struct vim_moref dc;
  struct vim_stats st;

  (void)state;
  PEER_SCRIPT(A_CONTENT, A_LOGIN, A_NOT_AUTH, A_503, A_NOT_AUTH, A_LOGIN2, A_FIND);
  s = logged_in();
  assert_int_equal(vim_find_by_inventory_path(s, "DC0", &dc, &e), VIM_E_HTTP);
  assert_int_equal(e.http_status, 503);
  assert_int_equal(peer_requests(), 4);
  assert_true(is_call(3, "Login"));
  assert_int_equal(vim_find_by_inventory_path(s, "DC0", &dc, &e), VIM_OK);
  assert_string_equal(dc.value, "datacenter-2");
  assert_true(is_call(5, "Login"));
  vim_session_stats(s, &st);
  assert_int_equal(st.relogins, 1);
  vim_session_free(s);
}

/* Session-scoped disables die with the session: SESSION_LOST, and no Login
 * is sent, now or on the next call. */
static void test_scoped_lost(void **state)
{
  struct vim_session *s;
  struct vim_error e;
  struct vim_moref vm, dc;
  struct vim_disabled_method dm = {"RelocateVM_Task", "backup"};

  (void)state;
  PEER_SCRIPT(A_CONTENT, A_LOGIN, A_OK_DISABLE, A_NOT_AUTH, A_NOT_AUTH);
  s = logged_in();
  vim_moref_set(&vm, "VirtualMachine", "vm-1");
  assert_int_equal(vim_disable_methods(s, &vm, 1, &dm, 1, "src", true, &e),
                   VIM_OK);
  assert_true(vim_session_holds_scoped(s));
  assert_int_equal(vim_find_by_inventory_path(s, "DC0", &dc, &e),
                   VIM_E_SESSION_LOST);
  assert_int_equal(e.fault.kind, VIM_FAULT_NOT_AUTHENTICATED);
  assert_int_equal(vim_find_by_inventory_path(s, "DC0", &dc, &e),
                   VIM_E_SESSION_LOST);
  assert_int_equal(peer_requests(), 5);
  for (int i = 2; i < 5; i++)
    assert_false(is_call(i, "Login"));
  vim_session_free(s);
}

/* A borrowed cookie is never re-logged in: the fault comes back. */
static void test_borrowed_no_relogin(void **state)
{
  struct vim_session *s;
  struct vim_error e;
  struct vim_moref dc;

  (void)state;
  PEER_SCRIPT(A_CONTENT, A_SESSION, A_NOT_AUTH);
  s = session(0);
  assert_int_equal(vim_use_cookie(s, "vmware_soap_session=\"B0RROWED\"", &e),
                   VIM_OK);
  assert_true(is_call(1, "RetrievePropertiesEx"));
  assert_non_null(strstr(peer_request(1), "<pathSet>currentSession</pathSet>"));
  assert_int_equal(vim_find_by_inventory_path(s, "DC0", &dc, &e), VIM_E_FAULT);
  assert_int_equal(e.fault.kind, VIM_FAULT_NOT_AUTHENTICATED);
  assert_int_equal(peer_requests(), 3);
  vim_session_free(s); /* never logs a borrowed session out */
  assert_int_equal(peer_requests(), 3);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_wire_format),
    cmocka_unit_test(test_too_big),
    cmocka_unit_test(test_odd_answers),
    cmocka_unit_test(test_relogin),
    cmocka_unit_test(test_relogin_once),
    cmocka_unit_test(test_relogin_after_failure),
    cmocka_unit_test(test_scoped_lost),
    cmocka_unit_test(test_borrowed_no_relogin),
  };

  return cmocka_run_group_tests(tests, setup, teardown);
}
