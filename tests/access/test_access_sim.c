/*
 * test_access_sim.c -- PrepareForAccess / EndAccess against freevix-sim,
 * every outcome checked through the simulator's admin endpoint (the true
 * disable table), not through our own library.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "freevix.h"
#include "sim.h"
#include "testutil.h"
#include "vixDiskLib.h"

static struct fvx_sim sim;
static char vms[4][64];
static char names[4][128];
static char warnings[16384];

static void warn_fn(const char *fmt, va_list ap)
{
  size_t len = strlen(warnings);

  if (len + 2 >= sizeof warnings)
    len = 0;
  vsnprintf(warnings + len, sizeof warnings - len - 1, fmt, ap);
  strcat(warnings, "\n");
}

static void params(VixDiskLibConnectParams *p, const char *vm)
{
  static char vmx[128];

  fvx_sim_spec(vmx, sizeof vmx, vm);
  fvx_sim_params(&sim, p, NULL, vmx);
}

static int setup(void **state)
{
  static const char *const args[] = {"--relocate-seconds", "1", NULL};

  (void)state;
  fvx_sim_start(&sim, args);
  assert_int_equal(fvx_sim_vms(&sim, vms, names, 4), 4);
  return VixDiskLib_InitEx(8, 0, NULL, warn_fn, NULL, NULL, NULL) == VIX_OK
             ? 0
             : -1;
}

static int teardown(void **state)
{
  (void)state;
  VixDiskLib_Exit();
  fvx_sim_stop(&sim);
  return 0;
}

static void prepare_blocks_relocation_until_end(void **state)
{
  VixDiskLibConnectParams p;

  (void)state;
  params(&p, vms[0]);
  assert_int_equal(VixDiskLib_PrepareForAccess(&p, "backup-A"), VIX_OK);
  assert_int_equal(fvx_sim_count_disabled(&sim, vms[0], "RelocateVM_Task",
                                          "backup-A"), 1);
  /* Preparing twice under the same identity succeeds. */
  assert_int_equal(VixDiskLib_PrepareForAccess(&p, "backup-A"), VIX_OK);

  /* Another session (an operator) cannot move the VM; the log names us. */
  warnings[0] = '\0';
  assert_int_equal(freevix_relocate(&p, NULL, 30), VIX_E_OBJECT_IS_BUSY);
  assert_non_null(strstr(warnings, "disabled by 'backup-A'"));

  assert_int_equal(VixDiskLib_EndAccess(&p, "backup-A"), VIX_OK);
  assert_int_equal(fvx_sim_count_disabled(&sim, vms[0], NULL, NULL), 0);
  assert_int_equal(freevix_relocate(&p, NULL, 30), VIX_OK);
  /* EndAccess with nothing disabled: crash clean-up succeeds. */
  assert_int_equal(VixDiskLib_EndAccess(&p, "backup-A"), VIX_OK);
}

static void another_identity_holds_the_vm(void **state)
{
  VixDiskLibConnectParams p;

  (void)state;
  params(&p, vms[1]);
  assert_int_equal(VixDiskLib_PrepareForAccess(&p, "backup-A"), VIX_OK);
  warnings[0] = '\0';
  assert_int_equal(VixDiskLib_PrepareForAccess(&p, "backup-B"),
                   VMODL_TYPE_VIM_FAULT_METHOD_ALREADY_DISABLED_FAULT);
  assert_non_null(strstr(warnings, "source 'backup-A'"));
  /* B's EndAccess does not release A's protection. */
  assert_int_equal(VixDiskLib_EndAccess(&p, "backup-B"), VIX_OK);
  assert_int_equal(fvx_sim_count_disabled(&sim, vms[1], "RelocateVM_Task",
                                          "backup-A"), 1);
  /* Identities sharing a prefix are different sources. */
  assert_int_equal(VixDiskLib_EndAccess(&p, "backup-"), VIX_OK);
  assert_int_equal(fvx_sim_count_disabled(&sim, vms[1], NULL, "backup-A"), 1);
  assert_int_equal(VixDiskLib_EndAccess(&p, "backup-A"), VIX_OK);
  assert_int_equal(fvx_sim_count_disabled(&sim, vms[1], NULL, NULL), 0);
}

static void storage_vmotion_in_progress(void **state)
{
  VixDiskLibConnectParams p;
  char body[128];
  int tries = 0;
  VixError err;

  (void)state;
  params(&p, vms[2]);
  snprintf(body, sizeof body, "{\"vm\":\"%s\",\"seconds\":2}", vms[2]);
  assert_int_equal(fvx_sim_admin(&sim, "POST", "/relocate", body, NULL), 200);
  warnings[0] = '\0';
  assert_int_equal(VixDiskLib_PrepareForAccess(&p, "backup-sv"),
                   VMODL_TYPE_VIM_FAULT_METHOD_ALREADY_DISABLED_FAULT);
  assert_non_null(strstr(warnings, "com.vmware.vcenter.svmotion"));
  do {
    usleep(250 * 1000);
    err = VixDiskLib_PrepareForAccess(&p, "backup-sv");
  } while (err == VMODL_TYPE_VIM_FAULT_METHOD_ALREADY_DISABLED_FAULT &&
           ++tries < 40);
  assert_int_equal(err, VIX_OK);
  assert_int_equal(VixDiskLib_EndAccess(&p, "backup-sv"), VIX_OK);
}

static void identity_arrives_intact(void **state)
{
  static const char *const ids[] = {"<&>\"'", "a<b&\"c'", "Sicherung-\xC3\xA4\xC3\xB6\xC3\xBC-\xE2\x82\xAC"};
  VixDiskLibConnectParams p;

  (void)state;
  params(&p, vms[3]);
  for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
    assert_int_equal(VixDiskLib_PrepareForAccess(&p, ids[i]), VIX_OK);
    assert_int_equal(fvx_sim_count_disabled(&sim, vms[3], "RelocateVM_Task",
                                            ids[i]), 1);
    assert_int_equal(VixDiskLib_EndAccess(&p, ids[i]), VIX_OK);
    assert_int_equal(fvx_sim_count_disabled(&sim, vms[3], NULL, NULL), 0);
  }
}

static void vmx_spec_forms_and_unknown_vms(void **state)
{
  VixDiskLibConnectParams p;
  char vmx[512];

  (void)state;
  params(&p, vms[0]);
  snprintf(vmx, sizeof vmx, "%s/%s.vmx?dcPath=DC0&dsName=LocalDS_0", names[0],
           names[0]);
  p.vmxSpec = vmx;
  assert_int_equal(VixDiskLib_PrepareForAccess(&p, "by-path"), VIX_OK);
  assert_int_equal(fvx_sim_count_disabled(&sim, vms[0], NULL, "by-path"), 1);
  assert_int_equal(VixDiskLib_EndAccess(&p, "by-path"), VIX_OK);

  snprintf(vmx, sizeof vmx, "moid=%s", vms[0]);
  assert_int_equal(VixDiskLib_PrepareForAccess(&p, "by-moid"), VIX_OK);
  assert_int_equal(VixDiskLib_EndAccess(&p, "by-moid"), VIX_OK);

  p.vmxSpec = (char *)"moref=vm-99999";
  assert_int_equal(VixDiskLib_PrepareForAccess(&p, "x"), VIX_E_VM_NOT_FOUND);
  assert_int_equal(VixDiskLib_EndAccess(&p, "x"), VIX_E_VM_NOT_FOUND);
  p.vmxSpec = (char *)"nope/nope.vmx?dcPath=DC0&dsName=LocalDS_0";
  assert_int_equal(VixDiskLib_PrepareForAccess(&p, "x"), VIX_E_VM_NOT_FOUND);
  p.vmxSpec = (char *)"nope/nope.vmx?dcPath=NoSuchDC&dsName=LocalDS_0";
  assert_int_equal(VixDiskLib_PrepareForAccess(&p, "x"),
                   VIX_E_OBJECT_NOT_FOUND);
}

static void credentials_and_certificates(void **state)
{
  VixDiskLibConnectParams p;
  VixDiskLibConnection conn = NULL;
  char bad_thumb[128];

  (void)state;
  params(&p, vms[0]);
  p.creds.uid.password = (char *)"wrong-password";
  warnings[0] = '\0';
  assert_int_equal(VixDiskLib_PrepareForAccess(&p, "x"),
                   VIX_E_AUTHENTICATION_FAIL);
  assert_null(strstr(warnings, "wrong-password"));
  assert_int_equal(VixDiskLib_ConnectEx(&p, TRUE, NULL, NULL, &conn),
                   VIX_E_AUTHENTICATION_FAIL);
  assert_null(conn);

  params(&p, vms[0]);
  snprintf(bad_thumb, sizeof bad_thumb, "%s", sim.thumbprint_sha1);
  bad_thumb[0] = bad_thumb[0] == 'A' ? 'B' : 'A';
  p.thumbPrint = bad_thumb;
  warnings[0] = '\0';
  assert_int_equal(VixDiskLib_PrepareForAccess(&p, "x"),
                   VIX_E_HOST_NETBLKDEV_HANDSHAKE);
  assert_non_null(strstr(warnings, "thumbprint"));

  params(&p, vms[0]);
  p.thumbPrint = sim.thumbprint_sha256;
  assert_int_equal(VixDiskLib_ConnectEx(&p, TRUE, NULL, NULL, &conn), VIX_OK);
  assert_int_equal(VixDiskLib_Disconnect(conn), VIX_OK);

  params(&p, vms[0]);
  p.port = 1; /* nothing listens there */
  assert_int_equal(VixDiskLib_PrepareForAccess(&p, "x"),
                   VIX_E_HOST_NETWORK_CONN_REFUSED);
}

static void unprivileged_user_gets_3014(void **state)
{
  VixDiskLibConnectParams p;

  (void)state;
  params(&p, vms[0]);
  p.creds.uid.userName = (char *)"reader";
  warnings[0] = '\0';
  assert_int_equal(VixDiskLib_PrepareForAccess(&p, "x"),
                   VIX_E_HOST_USER_PERMISSIONS);
  assert_non_null(strstr(warnings, "Global.DisableMethods"));
  assert_non_null(strstr(warnings, "vCenter root"));
  assert_int_equal(VixDiskLib_EndAccess(&p, "x"), VIX_E_HOST_USER_PERMISSIONS);
  assert_non_null(strstr(warnings, "Global.EnableMethods"));
}

static void expired_pooled_session_is_replaced(void **state)
{
  VixDiskLibConnectParams p;

  (void)state;
  params(&p, vms[1]);
  assert_int_equal(VixDiskLib_PrepareForAccess(&p, "expiry"), VIX_OK);
  assert_int_equal(fvx_sim_admin(&sim, "POST", "/sessions/expire", "{}", NULL),
                   200);
  assert_int_equal(VixDiskLib_EndAccess(&p, "expiry"), VIX_OK);
  assert_int_equal(fvx_sim_count_disabled(&sim, vms[1], NULL, NULL), 0);
}

/* Reads "requests" from the admin /stats answer. */
static long sim_requests(void)
{
  char *out = NULL;
  const char *p;
  long n;

  assert_int_equal(fvx_sim_admin(&sim, "GET", "/stats", NULL, &out), 200);
  p = strstr(out, "\"requests\":");
  assert_non_null(p);
  n = strtol(p + 11, NULL, 10);
  free(out);
  return n;
}

static void warm_calls_cost_one_round_trip(void **state)
{
  VixDiskLibConnectParams p;
  long before;

  (void)state;
  params(&p, vms[2]);
  assert_int_equal(VixDiskLib_PrepareForAccess(&p, "warm"), VIX_OK);
  assert_int_equal(VixDiskLib_EndAccess(&p, "warm"), VIX_OK);
  before = sim_requests();
  for (int i = 0; i < 5; i++) {
    assert_int_equal(VixDiskLib_PrepareForAccess(&p, "warm"), VIX_OK);
    assert_int_equal(VixDiskLib_EndAccess(&p, "warm"), VIX_OK);
  }
  assert_int_equal(sim_requests() - before, 10);
}

static void snapshot_round_trip(void **state)
{
  VixDiskLibConnectParams p;
  char *snap = NULL;

  (void)state;
  params(&p, vms[3]);
  assert_int_equal(VixDiskLib_PrepareForAccess(&p, "snap"), VIX_OK);
  assert_int_equal(freevix_snapshot_create(&p, "backup", 30, &snap), VIX_OK);
  assert_non_null(snap);
  assert_int_equal(freevix_snapshot_remove(&p, snap, 30), VIX_OK);
  freevix_free(snap);
  assert_int_equal(VixDiskLib_EndAccess(&p, "snap"), VIX_OK);
}

/* Collects the vmware_soap_session cookie from response headers. */
static size_t cookie_header(char *buf, size_t size, size_t n, void *opaque)
{
  static const char name[] = "vmware_soap_session=";
  size_t len = size * n;
  char *cookie = opaque;
  const char *p = memmem(buf, len, name, sizeof name - 1);

  if (p) {
    const char *v = p + sizeof name - 1;
    size_t vlen = 0;

    while (v + vlen < buf + len && v[vlen] != ';' && v[vlen] != '\r' &&
           v[vlen] != '\n' && vlen < 250)
      vlen++;
    memcpy(cookie, v, vlen);
    cookie[vlen] = '\0';
  }
  return len;
}

static size_t discard(char *buf, size_t size, size_t n, void *opaque)
{
  (void)buf;
  (void)opaque;
  return size * n;
}

/* Logs in with a hand-made SOAP request, as another vSphere client would,
 * and returns its session cookie. */
static void foreign_login(char cookie[256])
{
  static const char body[] =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
      "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\">"
      "<soapenv:Body><Login xmlns=\"urn:vim25\">"
      "<_this type=\"SessionManager\">SessionManager</_this>"
      "<userName>admin</userName><password>freevix</password>"
      "</Login></soapenv:Body></soapenv:Envelope>";
  struct curl_slist *h = NULL;
  CURL *c = curl_easy_init();
  long code = 0;

  cookie[0] = '\0';
  h = curl_slist_append(h, "Content-Type: text/xml; charset=utf-8");
  h = curl_slist_append(h, "SOAPAction: \"urn:vim25/7.0\"");
  curl_easy_setopt(c, CURLOPT_URL, sim.sdk_url);
  curl_easy_setopt(c, CURLOPT_CAINFO, sim.cert_path);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, cookie_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, cookie);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
  assert_int_equal(code, 200);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  assert_true(strlen(cookie) > 8);
}

static void session_cookie_credentials(void **state)
{
  VixDiskLibConnectParams p;
  VixDiskLibConnection conn = NULL;
  char cookie[256];

  (void)state;
  foreign_login(cookie);
  params(&p, vms[0]);
  p.credType = VIXDISKLIB_CRED_SESSIONID;
  p.creds.sessionId.cookie = cookie;
  p.creds.sessionId.userName = (char *)"admin";
  p.creds.sessionId.key = NULL;
  assert_int_equal(VixDiskLib_ConnectEx(&p, TRUE, NULL, NULL, &conn), VIX_OK);
  assert_int_equal(VixDiskLib_Disconnect(conn), VIX_OK);
  assert_int_equal(VixDiskLib_PrepareForAccess(&p, "cookie"), VIX_OK);
  assert_int_equal(fvx_sim_count_disabled(&sim, vms[0], NULL, "cookie"), 1);
  assert_int_equal(VixDiskLib_EndAccess(&p, "cookie"), VIX_OK);
  /* The cookie is someone else's session: Exit must not log it out. */
  VixDiskLib_Exit();
  assert_int_equal(VixDiskLib_InitEx(8, 0, NULL, warn_fn, NULL, NULL, NULL),
                   VIX_OK);
  assert_int_equal(VixDiskLib_PrepareForAccess(&p, "cookie"), VIX_OK);
  assert_int_equal(VixDiskLib_EndAccess(&p, "cookie"), VIX_OK);
  /* A dead cookie is reported as such. */
  assert_int_equal(fvx_sim_admin(&sim, "POST", "/sessions/expire", "{}", NULL),
                   200);
  assert_int_equal(VixDiskLib_PrepareForAccess(&p, "cookie"),
                   VIX_E_INVALID_AUTHENTICATION_SESSION);
}

static void esx_host_is_refused_with_vddks_words(void **state)
{
  static const char *const args[] = {"--mode", "esx", NULL};
  struct fvx_sim esx;
  VixDiskLibConnectParams p;

  (void)state;
  fvx_sim_start(&esx, args);
  fvx_sim_params(&esx, &p, NULL, "moref=vm-1");
  warnings[0] = '\0';
  assert_int_equal(VixDiskLib_PrepareForAccess(&p, "x"), VIX_E_NOT_SUPPORTED);
  assert_string_equal(warnings,
                      "HostAgent is not a vCenter, cannot deactivate svMotion.\n");
  warnings[0] = '\0';
  assert_int_equal(VixDiskLib_EndAccess(&p, "x"), VIX_E_NOT_SUPPORTED);
  assert_string_equal(warnings,
                      "HostAgent is not a vCenter, cannot deactivate svMotion.\n");
  fvx_sim_stop(&esx);
}

/* Counts the simulator's live sessions of user "admin". */
static int admin_sessions(void)
{
  char *out = NULL;
  int n = 0;

  assert_int_equal(fvx_sim_admin(&sim, "GET", "/sessions", NULL, &out), 200);
  for (const char *p = out; (p = strstr(p, "\"user\":\"admin\"")); p++)
    n++;
  free(out);
  return n;
}

static void exit_logs_out_pooled_sessions(void **state)
{
  VixDiskLibConnectParams p;

  (void)state;
  params(&p, vms[2]);
  assert_int_equal(VixDiskLib_PrepareForAccess(&p, "exit"), VIX_OK);
  assert_int_equal(VixDiskLib_EndAccess(&p, "exit"), VIX_OK);
  assert_true(admin_sessions() >= 1);
  VixDiskLib_Exit();
  assert_int_equal(admin_sessions(), 0);
  assert_int_equal(VixDiskLib_InitEx(8, 0, NULL, warn_fn, NULL, NULL, NULL),
                   VIX_OK);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(prepare_blocks_relocation_until_end),
    cmocka_unit_test(another_identity_holds_the_vm),
    cmocka_unit_test(storage_vmotion_in_progress),
    cmocka_unit_test(identity_arrives_intact),
    cmocka_unit_test(vmx_spec_forms_and_unknown_vms),
    cmocka_unit_test(credentials_and_certificates),
    cmocka_unit_test(unprivileged_user_gets_3014),
    cmocka_unit_test(expired_pooled_session_is_replaced),
    cmocka_unit_test(warm_calls_cost_one_round_trip),
    cmocka_unit_test(snapshot_round_trip),
    cmocka_unit_test(session_cookie_credentials),
    cmocka_unit_test(esx_host_is_refused_with_vddks_words),
    cmocka_unit_test(exit_logs_out_pooled_sessions),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
