/*
 * test_vim_sim.c -- the SOAP client against the simulator (sim/).
 *
 * One vCenter-mode simulator serves most tests (group setup); tests that
 * need other flags (ESX mode, plain HTTP) start their own.  Tests that arm
 * faults clear them before they return.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <strings.h>

#include "sim.h"
#include "testutil.h"
#include "util/log.h"
#include "vim/vim.h"

static struct fvx_sim sim;
static char vm_ids[16][64];
static char vm_names[16][128];
static int n_vms;

static struct vim_moref vm(int i)
{
  struct vim_moref m;

  assert_true(vim_moref_set(&m, "VirtualMachine", vm_ids[i]));
  return m;
}

static void opts_for(struct vim_options *o, const struct fvx_sim *s)
{
  memset(o, 0, sizeof *o);
  o->host = s->host;
  o->port = (unsigned)s->port;
  o->thumbprint = s->thumbprint_sha256;
  o->retry_deadline_ms = 5000;
  o->timeout_ms = fvx_test_under_valgrind() ? 120000 : 30000;
}

static struct vim_session *open_as(const struct fvx_sim *s, const char *user)
{
  struct vim_options o;
  struct vim_session *ses = NULL;
  struct vim_error e;
  int rc;

  opts_for(&o, s);
  assert_int_equal(vim_session_new(&ses, &o, &e), VIM_OK);
  rc = vim_login(ses, user, "freevix", &e);
  if (rc != VIM_OK)
    fail_msg("login: %s", e.detail);
  return ses;
}

static struct vim_session *open_admin(void)
{
  return open_as(&sim, sim.user);
}

static int group_setup(void **state)
{
  (void)state;
  fvx_sim_start(&sim, (const char *const[]){"--vms", "6", NULL});
  n_vms = fvx_sim_vms(&sim, vm_ids, vm_names, 16);
  assert_true(n_vms >= 4);
  return 0;
}

static int group_teardown(void **state)
{
  (void)state;
  fvx_sim_stop(&sim);
  return 0;
}

static void clear_faults(void)
{
  assert_int_equal(fvx_sim_admin(&sim, "POST", "/fault/clear", "{}", NULL),
                   200);
}

/* ---- log capture ---------------------------------------------------------- */

static int warnings;
static char last_log[1024];
static char last_warning[1024];
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char secret_seen[256];
static int secret_hits;

static void sink(void *opaque, enum fvx_log_level level, const char *msg)
{
  (void)opaque;
  pthread_mutex_lock(&log_lock);
  if (level >= FVX_LOG_WARN) {
    warnings++;
    snprintf(last_warning, sizeof last_warning, "%s", msg);
  }
  snprintf(last_log, sizeof last_log, "%s", msg);
  if (secret_seen[0] && strstr(msg, secret_seen))
    secret_hits++;
  pthread_mutex_unlock(&log_lock);
}

/* ---- tests ------------------------------------------------------------------ */

static void test_login_content_stats(void **state)
{
  struct vim_session *s;
  const struct vim_service_content *sc;
  struct vim_stats st0, st1;
  struct vim_error e;
  char name[128], key[128];

  (void)state;
  s = open_admin();
  assert_int_equal(vim_service_content(s, &sc, &e), VIM_OK);
  assert_string_equal(sc->api_type, "VirtualCenter");
  assert_true(vim_session_is_vcenter(s));
  assert_string_not_equal(sc->api_version, "");
  assert_string_equal(sc->property_collector.type, "PropertyCollector");
  assert_string_equal(sc->authorization_manager.type, "AuthorizationManager");
  assert_string_equal(sc->root_folder.type, "Folder");
  vim_session_key(s, key, sizeof key);
  assert_string_not_equal(key, "");

  /* Warm session: one request per call, no new connection or handshake. */
  vim_session_stats(s, &st0);
  for (int i = 0; i < 20; i++) {
    struct vim_moref m = vm(i % n_vms);

    assert_int_equal(vim_vm_exists(s, &m, name, sizeof name, &e), VIM_OK);
    assert_string_equal(name, vm_names[i % n_vms]);
  }
  vim_session_stats(s, &st1);
  assert_int_equal(st1.requests - st0.requests, 20);
  assert_int_equal(st1.connects - st0.connects, 0);
  assert_int_equal(st1.tls_handshakes - st0.tls_handshakes, 0);
  assert_int_equal(st1.connects, 1);
  assert_int_equal(st1.tls_handshakes, 1);
  vim_session_free(s);
}

static void test_bad_password(void **state)
{
  struct vim_options o;
  struct vim_session *s;
  struct vim_error e;

  (void)state;
  opts_for(&o, &sim);
  assert_int_equal(vim_session_new(&s, &o, &e), VIM_OK);
  strcpy(secret_seen, "wr0ng-Secret");
  assert_int_equal(vim_login(s, sim.user, "wr0ng-Secret", &e), VIM_E_FAULT);
  assert_int_equal(e.fault.kind, VIM_FAULT_INVALID_LOGIN);
  assert_null(strstr(e.detail, "wr0ng-Secret"));
  assert_int_equal(e.http_status, 500);
  vim_session_free(s);
  assert_int_equal(secret_hits, 0);
  secret_seen[0] = '\0';
}

static void expect_pin_mismatch(const char *tp, const char *presented)
{
  struct vim_options o;
  struct vim_session *s;
  struct vim_error e;

  opts_for(&o, &sim);
  o.thumbprint = tp;
  assert_int_equal(vim_session_new(&s, &o, &e), VIM_OK);
  assert_int_equal(vim_login(s, sim.user, "freevix", &e), VIM_E_THUMBPRINT);
  assert_non_null(strstr(e.detail, "expected"));
  assert_non_null(strstr(e.detail, presented));
  vim_session_free(s);
}

static void test_thumbprint(void **state)
{
  struct vim_options o;
  struct vim_session *s;
  struct vim_error e;
  char lower[160];

  (void)state;
  /* The right pins, in both forms (lower case, no colons for SHA-1). */
  opts_for(&o, &sim);
  o.thumbprint = sim.thumbprint_sha1;
  assert_int_equal(vim_session_new(&s, &o, &e), VIM_OK);
  assert_int_equal(vim_login(s, sim.user, "freevix", &e), VIM_OK);
  vim_session_free(s);
  {
    size_t j = 0;

    for (size_t i = 0; sim.thumbprint_sha1[i]; i++)
      if (sim.thumbprint_sha1[i] != ':')
        lower[j++] = (char)(sim.thumbprint_sha1[i] | 0x20);
    lower[j] = '\0';
  }
  o.thumbprint = lower;
  assert_int_equal(vim_session_new(&s, &o, &e), VIM_OK);
  assert_int_equal(vim_login(s, sim.user, "freevix", &e), VIM_OK);
  vim_session_free(s);

  /* Wrong pins of each length are refused, naming what was presented. */
  expect_pin_mismatch("00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:00:11:22:33",
                      sim.thumbprint_sha1);
  expect_pin_mismatch("00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF:"
                      "00:11:22:33:44:55:66:77:88:99:AA:BB:CC:DD:EE:FF",
                      sim.thumbprint_sha256);
  /* Malformed pins are an argument error. */
  o.thumbprint = "AB:CD";
  assert_int_equal(vim_session_new(&s, &o, &e), VIM_E_INVALID_ARG);
  assert_null(s);
}

static void test_ca_and_insecure(void **state)
{
  struct vim_options o;
  struct vim_session *s;
  struct vim_error e;
  int w0;

  (void)state;
  opts_for(&o, &sim);
  o.thumbprint = NULL;
  assert_int_equal(vim_session_new(&s, &o, &e), VIM_OK);
  assert_int_equal(vim_login(s, sim.user, "freevix", &e), VIM_E_CERT);
  vim_session_free(s);

  o.ca_file = sim.cert_path;
  assert_int_equal(vim_session_new(&s, &o, &e), VIM_OK);
  assert_int_equal(vim_login(s, sim.user, "freevix", &e), VIM_OK);
  vim_session_free(s);

  o.ca_file = NULL;
  o.insecure = true;
  w0 = warnings;
  assert_int_equal(vim_session_new(&s, &o, &e), VIM_OK);
  assert_int_equal(vim_login(s, sim.user, "freevix", &e), VIM_OK);
  assert_true(warnings > w0);
  assert_non_null(strstr(last_warning, "verification is disabled"));
  (void)last_log;
  vim_session_free(s);

  /* http:// needs allow_http. */
  o.host = "http://127.0.0.1";
  assert_int_equal(vim_session_new(&s, &o, &e), VIM_E_INVALID_ARG);
}

static void test_expiry_relogin(void **state)
{
  struct vim_session *s;
  struct vim_stats st;
  struct vim_error e;
  struct vim_moref m = vm(0);

  (void)state;
  s = open_admin();
  assert_int_equal(fvx_sim_admin(&sim, "POST", "/sessions/expire", "{}", NULL),
                   200);
  assert_int_equal(vim_vm_exists(s, &m, NULL, 0, &e), VIM_OK);
  vim_session_stats(s, &st);
  assert_int_equal(st.relogins, 1);
  vim_session_free(s);
}

static void test_scoped_lost(void **state)
{
  struct vim_session *s;
  struct vim_error e;
  struct vim_moref m = vm(1);
  struct vim_disabled_method dm = {"RelocateVM_Task", "backup"};
  const char *meth = "RelocateVM_Task";

  (void)state;
  s = open_admin();
  assert_int_equal(vim_disable_methods(s, &m, 1, &dm, 1, "scoped-src", true,
                                       &e), VIM_OK);
  assert_true(vim_session_holds_scoped(s));
  assert_int_equal(fvx_sim_count_disabled(&sim, vm_ids[1], meth, "scoped-src"),
                   1);
  assert_int_equal(fvx_sim_admin(&sim, "POST", "/sessions/expire", "{}", NULL),
                   200);
  assert_int_equal(fvx_sim_count_disabled(&sim, vm_ids[1], meth, "scoped-src"),
                   0);
  assert_int_equal(vim_vm_exists(s, &m, NULL, 0, &e), VIM_E_SESSION_LOST);
  assert_int_equal(e.fault.kind, VIM_FAULT_NOT_AUTHENTICATED);
  /* A fresh login recovers the session object. */
  assert_int_equal(vim_login(s, sim.user, "freevix", &e), VIM_OK);
  assert_false(vim_session_holds_scoped(s));
  assert_int_equal(vim_vm_exists(s, &m, NULL, 0, &e), VIM_OK);
  vim_session_free(s);
}

static void test_retry_drop_503(void **state)
{
  struct vim_session *s;
  struct vim_stats st0, st1;
  struct vim_error e;
  struct vim_moref m = vm(0);

  (void)state;
  s = open_admin();
  vim_session_stats(s, &st0);
  assert_int_equal(fvx_sim_admin(&sim, "POST", "/fault",
                                 "{\"kind\":\"drop\",\"count\":2}", NULL), 200);
  assert_int_equal(vim_vm_exists(s, &m, NULL, 0, &e), VIM_OK);
  assert_int_equal(fvx_sim_admin(&sim, "POST", "/fault",
                                 "{\"kind\":\"http503\",\"count\":2}", NULL),
                   200);
  assert_int_equal(vim_vm_exists(s, &m, NULL, 0, &e), VIM_OK);
  vim_session_stats(s, &st1);
  assert_true(st1.retries - st0.retries >= 2);

  /* A task-creating call is not repeated once sent. */
  assert_int_equal(fvx_sim_admin(&sim, "POST", "/fault",
                                 "{\"kind\":\"http503\",\"count\":1}", NULL),
                   200);
  {
    struct vim_moref task;

    assert_int_equal(vim_create_snapshot(s, &m, "snap", NULL, false, false,
                                         &task, &e), VIM_E_HTTP);
    assert_int_equal(e.http_status, 503);
  }
  /* Persistent 503 ends at the retry deadline with VIM_E_HTTP. */
  assert_int_equal(fvx_sim_admin(&sim, "POST", "/fault",
                                 "{\"kind\":\"http503\",\"count\":1000}", NULL),
                   200);
  assert_int_equal(vim_vm_exists(s, &m, NULL, 0, &e), VIM_E_HTTP);
  clear_faults();
  vim_session_free(s);
}

static void test_malformed(void **state)
{
  struct vim_session *s;
  struct vim_error e;
  struct vim_moref m = vm(0);

  (void)state;
  s = open_admin();
  assert_int_equal(fvx_sim_admin(&sim, "POST", "/fault",
                                 "{\"kind\":\"malformed\",\"count\":1}", NULL),
                   200);
  assert_int_equal(vim_vm_exists(s, &m, NULL, 0, &e), VIM_E_PROTOCOL);
  assert_string_not_equal(e.detail, "");
  assert_int_equal(vim_vm_exists(s, &m, NULL, 0, &e), VIM_OK);
  clear_faults();
  vim_session_free(s);
}

static void test_disable_enable(void **state)
{
  struct vim_session *s, *s2;
  struct vim_error e;
  struct vim_moref ents[3] = {vm(2), vm(3), vm(4)};
  struct vim_disabled_method dm[2] = {{"RelocateVM_Task", "backup"},
                                      {"MigrateVM_Task", NULL}};
  const char *names[2] = {"RelocateVM_Task", "MigrateVM_Task"};
  const char *ident = "a<b&\"c' \xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 ]]>";
  struct vim_vm_info *vi = NULL;
  struct vim_stats st0, st1;

  (void)state;
  s = open_admin();
  vim_session_stats(s, &st0);
  assert_int_equal(vim_disable_methods(s, ents, 3, dm, 2, ident, false, &e),
                   VIM_OK);
  vim_session_stats(s, &st1);
  assert_int_equal(st1.requests - st0.requests, 1);
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, ident), 6);
  assert_int_equal(fvx_sim_count_disabled(&sim, vm_ids[3], "MigrateVM_Task",
                                          ident), 1);
  /* Same source again: fine (contract A). */
  assert_int_equal(vim_disable_methods(s, ents, 1, dm, 1, ident, false, &e),
                   VIM_OK);
  /* disabledMethod lists it. */
  assert_int_equal(vim_vm_info_get(s, ents, 3, &vi, &e), VIM_OK);
  for (int i = 0; i < 3; i++) {
    bool seen = false;

    assert_true(vi[i].found);
    for (size_t j = 0; j < vi[i].n_disabled; j++)
      seen |= strcmp(vi[i].disabled_methods[j], "RelocateVM_Task") == 0;
    assert_true(seen);
    assert_string_equal(vi[i].host.type, "HostSystem");
    assert_true(vi[i].n_datastores >= 1);
  }
  vim_vm_info_free(vi, 3);

  /* Another source: MethodAlreadyDisabledFault naming the holder. */
  s2 = open_admin();
  assert_int_equal(vim_disable_methods(s2, ents, 3, dm, 1, "other", false, &e),
                   VIM_E_FAULT);
  assert_int_equal(e.fault.kind, VIM_FAULT_METHOD_ALREADY_DISABLED);
  assert_string_equal(e.fault.source, ident);
  /* RelocateVM_Task from another session: MethodDisabled{source}. */
  {
    struct vim_moref task;

    assert_int_equal(vim_relocate(s2, &ents[0], NULL, &task, &e), VIM_E_FAULT);
    assert_int_equal(e.fault.kind, VIM_FAULT_METHOD_DISABLED);
    assert_string_equal(e.fault.source, ident);
  }
  vim_session_free(s2);

  assert_int_equal(vim_enable_methods(s, ents, 3, names, 2, ident, &e), VIM_OK);
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, ident), 0);
  /* Enabling again is fine. */
  assert_int_equal(vim_enable_methods(s, ents, 3, names, 2, ident, &e), VIM_OK);

  /* Bad UTF-8 and control characters never reach the wire. */
  assert_int_equal(vim_disable_methods(s, ents, 1, dm, 1, "bad\xff", false, &e),
                   VIM_E_INVALID_ARG);
  assert_int_equal(vim_disable_methods(s, ents, 1, dm, 1, "bad\x01", false, &e),
                   VIM_E_INVALID_ARG);
  /* Unknown entity. */
  {
    struct vim_moref nope;

    assert_true(vim_moref_set(&nope, "VirtualMachine", "vm-99999"));
    assert_int_equal(vim_disable_methods(s, &nope, 1, dm, 1, "x", false, &e),
                     VIM_E_FAULT);
    assert_int_equal(e.fault.kind, VIM_FAULT_MANAGED_OBJECT_NOT_FOUND);
  }
  vim_session_free(s);
}

static void test_no_permission(void **state)
{
  struct vim_session *r, *a;
  struct vim_error e;
  struct vim_moref m = vm(0);
  struct vim_disabled_method dm = {"RelocateVM_Task", "r"};
  const char *privs[2] = {"Global.DisableMethods", "System.View"};
  bool got[2];
  const struct vim_service_content *sc;

  (void)state;
  r = open_as(&sim, sim.ro_user);
  assert_int_equal(vim_disable_methods(r, &m, 1, &dm, 1, "ro", false, &e),
                   VIM_E_FAULT);
  assert_int_equal(e.fault.kind, VIM_FAULT_NO_PERMISSION);
  assert_string_equal(e.fault.privilege, "Global.DisableMethods");
  assert_string_equal(e.fault.object, "Folder:group-d1");
  assert_int_equal(vim_service_content(r, &sc, &e), VIM_OK);
  assert_int_equal(vim_has_privilege(r, &sc->root_folder, privs, 2, got, &e),
                   VIM_OK);
  assert_false(got[0]);
  assert_true(got[1]);
  a = open_admin();
  assert_int_equal(vim_has_privilege(a, &sc->root_folder, privs, 2, got, &e),
                   VIM_OK);
  assert_true(got[0]);
  assert_true(got[1]);
  vim_session_free(a);
  vim_session_free(r);
}

static int progress_calls;
static void on_progress(void *opaque, int p)
{
  (void)opaque;
  assert_true(p >= -1 && p <= 100);
  progress_calls++;
}

static void test_task_wait(void **state)
{
  struct vim_session *s;
  struct vim_error e;
  struct vim_moref m = vm(5), task, running;
  struct vim_task_info ti;

  (void)state;
  s = open_admin();
  assert_int_equal(vim_relocate(s, &m, NULL, &task, &e), VIM_OK);
  assert_string_equal(task.type, "Task");
  assert_int_equal(vim_vm_running_task(s, &m, "VirtualMachine.relocate",
                                       &running, &e), VIM_OK);
  assert_string_equal(running.value, task.value);
  assert_int_equal(vim_task_wait(s, &task, 500, on_progress, NULL, NULL, &e),
                   VIM_E_DEADLINE);
  assert_true(progress_calls > 0);
  assert_int_equal(vim_task_wait(s, &task, 10000, NULL, NULL, NULL, &e),
                   VIM_OK);
  assert_int_equal(vim_task_info(s, &task, &ti, &e), VIM_OK);
  assert_int_equal(ti.state, VIM_TASK_SUCCESS);
  /* vCenter: VirtualMachine.relocate; vcsim: VirtualMachine.relocateVm. */
  assert_non_null(strstr(ti.description_id, "VirtualMachine.relocate"));
  assert_int_equal(vim_vm_running_task(s, &m, "VirtualMachine.relocate",
                                       &running, &e), VIM_E_NOT_FOUND);

  /* Snapshot round trip. */
  {
    struct vim_moref snap;
    struct vim_vm_info *vi;

    assert_int_equal(vim_create_snapshot(s, &m, "backup <1>", "d&d", false,
                                         false, &task, &e), VIM_OK);
    assert_int_equal(vim_task_wait(s, &task, 20000, NULL, NULL, &snap, &e),
                     VIM_OK);
    assert_string_equal(snap.type, "VirtualMachineSnapshot");
    assert_int_equal(vim_vm_info_get(s, &m, 1, &vi, &e), VIM_OK);
    assert_string_equal(vi[0].current_snapshot.value, snap.value);
    vim_vm_info_free(vi, 1);
    assert_int_equal(vim_remove_snapshot(s, &snap, false, true, &task, &e),
                     VIM_OK);
    assert_int_equal(vim_task_wait(s, &task, 20000, NULL, NULL, NULL, &e),
                     VIM_OK);
  }
  /* A task error comes back as VIM_E_TASK with the fault. */
  {
    struct vim_moref bad;

    assert_true(vim_moref_set(&bad, "VirtualMachineSnapshot", "snapshot-0"));
    assert_int_equal(vim_task_info(s, &bad, &ti, &e), VIM_E_NOT_FOUND);
  }
  vim_session_free(s);
}

static void test_search(void **state)
{
  struct vim_session *s;
  struct vim_error e;
  struct vim_moref dc, found, nope;
  char *body = NULL, vmx[512], uuid[128];
  struct vim_objects *res = NULL;
  const char *paths[] = {"config.uuid", "name"};
  struct vim_moref m = vm(0);

  (void)state;
  s = open_admin();
  assert_int_equal(vim_find_datacenter(s, "DC0", &dc, &e), VIM_OK);
  assert_string_equal(dc.type, "Datacenter");
  assert_int_equal(vim_find_datacenter(s, "NoSuchDC", &dc, &e),
                   VIM_E_NOT_FOUND);
  assert_int_equal(vim_find_datacenter(s, "DC0", &dc, &e), VIM_OK);
  assert_int_equal(fvx_sim_admin(&sim, "GET", "/vms", NULL, &body), 200);
  assert_int_equal(fvx_sim_json_get(body, "vmx", vmx, sizeof vmx), 0);
  free(body);
  assert_int_equal(vim_find_by_datastore_path(s, &dc, vmx, &found, &e), VIM_OK);
  assert_string_equal(found.value, vm_ids[0]);
  assert_int_equal(vim_find_by_datastore_path(s, NULL, vmx, &found, &e),
                   VIM_OK);
  assert_string_equal(found.value, vm_ids[0]);
  assert_int_equal(vim_find_by_datastore_path(s, &dc, "[LocalDS_0] no/no.vmx",
                                              &found, &e), VIM_E_NOT_FOUND);
  assert_int_equal(vim_retrieve(s, &m, 1, paths, 2, &res, &e), VIM_OK);
  assert_int_equal(res->n, 1);
  assert_int_equal(vim_object_prop(&res->objs[0], "config.uuid")->kind,
                   VIM_PROP_STRING);
  snprintf(uuid, sizeof uuid, "%s",
           vim_object_prop(&res->objs[0], "config.uuid")->str);
  vim_objects_free(res);
  assert_int_equal(vim_find_by_uuid(s, NULL, uuid, true, false, &found, &e),
                   VIM_OK);
  assert_string_equal(found.value, vm_ids[0]);
  assert_true(vim_moref_set(&nope, "VirtualMachine", "vm-424242"));
  assert_int_equal(vim_vm_exists(s, &nope, NULL, 0, &e), VIM_E_NOT_FOUND);
  {
    struct vim_moref two[2] = {vm(0), nope};
    struct vim_vm_info *vi;

    assert_int_equal(vim_vm_info_get(s, two, 2, &vi, &e), VIM_OK);
    assert_true(vi[0].found);
    assert_false(vi[1].found);
    assert_string_equal(vi[0].name, vm_names[0]);
    assert_string_equal(vi[1].name, "");
    vim_vm_info_free(vi, 2);
  }
  vim_session_free(s);
}

static size_t grab_cookie(char *p, size_t sz, size_t nm, void *ud)
{
  char *out = ud;
  size_t n = sz * nm;
  const char *k = "vmware_soap_session=";

  if (n > 12 && strncasecmp(p, "Set-Cookie:", 11) == 0) {
    const char *v = strstr(p, k);

    if (v && (size_t)(v - p) < n) {
      size_t l;

      v += strlen(k);
      l = strcspn(v, ";\r\n");
      snprintf(out, 256, "%.*s", (int)l, v);
    }
  }
  return n;
}

static size_t discard(char *p, size_t sz, size_t nm, void *ud)
{
  (void)p;
  (void)ud;
  return sz * nm;
}

/* Logs in with plain libcurl, as another program holding a session would,
 * and returns its cookie. */
static void raw_login(char cookie[256])
{
  CURL *c = curl_easy_init();
  struct curl_slist *h = NULL;
  long status = 0;
  const char *body =
      "<?xml version=\"1.0\"?><soapenv:Envelope xmlns:soapenv="
      "\"http://schemas.xmlsoap.org/soap/envelope/\"><soapenv:Body>"
      "<Login xmlns=\"urn:vim25\"><_this type=\"SessionManager\">"
      "SessionManager</_this><userName>admin</userName><password>freevix"
      "</password></Login></soapenv:Body></soapenv:Envelope>";

  cookie[0] = '\0';
  h = curl_slist_append(h, "Content-Type: text/xml");
  h = curl_slist_append(h, "SOAPAction: urn:vim25/7.0");
  curl_easy_setopt(c, CURLOPT_URL, sim.sdk_url);
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, grab_cookie);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, cookie);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
  assert_int_equal(curl_easy_perform(c), CURLE_OK);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  assert_int_equal(status, 200);
  curl_easy_cleanup(c);
  curl_slist_free_all(h);
  assert_string_not_equal(cookie, "");
}

static void test_cookie(void **state)
{
  struct vim_session *a, *b;
  struct vim_options o;
  struct vim_error e;
  struct vim_moref m = vm(0);
  char *sessions = NULL;
  char keya[128], keyb[128], cookie[256], full[300];

  (void)state;
  /* A dead cookie is refused with NotAuthenticated. */
  opts_for(&o, &sim);
  assert_int_equal(vim_session_new(&b, &o, &e), VIM_OK);
  assert_int_equal(vim_use_cookie(b, "vmware_soap_session=\"52deadbeef\"", &e),
                   VIM_E_FAULT);
  assert_int_equal(e.fault.kind, VIM_FAULT_NOT_AUTHENTICATED);
  vim_session_key(b, keyb, sizeof keyb);
  assert_string_equal(keyb, "");
  vim_session_free(b);

  /* Someone else's live cookie: usable, and never logged out by us. */
  raw_login(cookie);
  snprintf(full, sizeof full, "vmware_soap_session=%s", cookie);
  assert_int_equal(vim_session_new(&b, &o, &e), VIM_OK);
  assert_int_equal(vim_use_cookie(b, full, &e), VIM_OK);
  vim_session_key(b, keyb, sizeof keyb);
  assert_string_not_equal(keyb, "");
  assert_int_equal(vim_vm_exists(b, &m, NULL, 0, &e), VIM_OK);
  assert_int_equal(vim_logout(b, &e), VIM_OK); /* only forgets it */
  assert_int_equal(vim_use_cookie(b, cookie, &e), VIM_OK);
  vim_session_free(b);
  assert_int_equal(fvx_sim_admin(&sim, "GET", "/sessions", NULL, &sessions),
                   200);
  assert_non_null(strstr(sessions, keyb));
  free(sessions);
  /* Expired borrowed cookie: no password, so no re-login: the fault. */
  assert_int_equal(vim_session_new(&b, &o, &e), VIM_OK);
  assert_int_equal(vim_use_cookie(b, cookie, &e), VIM_OK);
  assert_int_equal(fvx_sim_admin(&sim, "POST", "/sessions/expire", "{}", NULL),
                   200);
  assert_int_equal(vim_vm_exists(b, &m, NULL, 0, &e), VIM_E_FAULT);
  assert_int_equal(e.fault.kind, VIM_FAULT_NOT_AUTHENTICATED);
  vim_session_free(b);

  /* Our own login is logged out by vim_session_free. */
  a = open_admin();
  vim_session_key(a, keya, sizeof keya);
  assert_int_equal(fvx_sim_admin(&sim, "GET", "/sessions", NULL, &sessions),
                   200);
  assert_non_null(strstr(sessions, keya));
  free(sessions);
  vim_session_free(a);
  assert_int_equal(fvx_sim_admin(&sim, "GET", "/sessions", NULL, &sessions),
                   200);
  assert_null(strstr(sessions, keya));
  free(sessions);
}

/* ---- remote disks (vim.h "Remote disks") ---------------------------------- */

/* The VM's disks, then a snapshot's: the snapshot's config keeps the chain
 * as it was when it was taken, so its head is the VM's head of before --
 * true of today's vcsim (no deltas) and of a simulator that makes them. */
static void test_disks_and_snapshot(void **state)
{
  struct vim_session *s;
  struct vim_error e;
  struct vim_moref m = vm(2), task, snap, owner, nope;
  struct vim_disk *d = NULL, *sd = NULL;
  size_t n = 0, sn = 0;
  char head[1024];

  (void)state;
  s = open_admin();
  assert_int_equal(vim_disks_get(s, &m, &d, &n, &e), VIM_OK);
  assert_true(n >= 1);
  for (size_t i = 0; i < n; i++) {
    assert_true(d[i].n_chain >= 1);
    assert_true(d[i].capacity > 0);
    assert_int_equal(d[i].chain[0].file_name[0], '[');
    assert_non_null(strstr(d[i].chain[0].backing_type, "BackingInfo"));
    assert_string_equal(d[i].chain[d[i].n_chain - 1].delta_format, "");
  }
  snprintf(head, sizeof head, "%s", d[0].chain[0].file_name);

  assert_int_equal(vim_create_snapshot(s, &m, "remote", NULL, false, false,
                                       &task, &e), VIM_OK);
  assert_int_equal(vim_task_wait(s, &task, 20000, NULL, NULL, &snap, &e),
                   VIM_OK);
  assert_int_equal(vim_disks_get(s, &snap, &sd, &sn, &e), VIM_OK);
  assert_int_equal(sn, n);
  assert_int_equal(sd[0].key, d[0].key);
  assert_string_equal(sd[0].chain[0].file_name, head);
  vim_disks_free(sd, sn);
  vim_disks_free(d, n);

  assert_int_equal(vim_snapshot_vm(s, &snap, &owner, &e), VIM_OK);
  assert_string_equal(owner.value, m.value);
  assert_true(vim_moref_set(&nope, "VirtualMachineSnapshot", "snapshot-424242"));
  assert_int_equal(vim_snapshot_vm(s, &nope, &owner, &e), VIM_E_NOT_FOUND);
  assert_int_equal(vim_disks_get(s, &nope, &d, &n, &e), VIM_E_NOT_FOUND);

  assert_int_equal(vim_remove_snapshot(s, &snap, false, true, &task, &e),
                   VIM_OK);
  assert_int_equal(vim_task_wait(s, &task, 20000, NULL, NULL, NULL, &e),
                   VIM_OK);
  vim_session_free(s);
}

/* Where the VM lives: host, datacenter and its path; its datastores. */
static void test_vm_place(void **state)
{
  struct vim_session *s;
  struct vim_error e;
  struct vim_moref m = vm(0), dc, nope;
  struct vim_vm_place p;
  struct vim_vm_info *vi = NULL;
  struct vim_datastore *ds = NULL;
  struct vim_stats st0, st1;

  (void)state;
  s = open_admin();
  assert_int_equal(vim_find_datacenter(s, "DC0", &dc, &e), VIM_OK);
  vim_session_stats(s, &st0);
  assert_int_equal(vim_vm_place_get(s, &m, &p, &e), VIM_OK);
  vim_session_stats(s, &st1);
  assert_int_equal(st1.requests - st0.requests, 2);
  assert_string_equal(p.name, vm_names[0]);
  assert_string_not_equal(p.power_state, "");
  assert_int_equal(p.vmx_path[0], '[');
  assert_string_equal(p.host.type, "HostSystem");
  assert_string_not_equal(p.host_name, "");
  assert_string_equal(p.datacenter.value, dc.value);
  assert_string_equal(p.dc_path, "DC0");

  assert_int_equal(vim_vm_info_get(s, &m, 1, &vi, &e), VIM_OK);
  assert_true(vi[0].n_datastores >= 1);
  assert_int_equal(vim_datastores_get(s, vi[0].datastores, vi[0].n_datastores,
                                      &ds, &e), VIM_OK);
  for (size_t i = 0; i < vi[0].n_datastores; i++) {
    assert_string_equal(ds[i].ref.value, vi[0].datastores[i].value);
    assert_string_not_equal(ds[i].name, "");
    assert_string_not_equal(ds[i].url, "");
  }
  /* The vmx lives on one of them. */
  {
    bool on_it = false;

    for (size_t i = 0; i < vi[0].n_datastores; i++) {
      char pre[300];

      snprintf(pre, sizeof pre, "[%s] ", ds[i].name);
      on_it |= strncmp(p.vmx_path, pre, strlen(pre)) == 0;
    }
    assert_true(on_it);
  }
  free(ds);
  vim_vm_info_free(vi, 1);

  assert_true(vim_moref_set(&nope, "VirtualMachine", "vm-424242"));
  assert_int_equal(vim_vm_place_get(s, &nope, &p, &e), VIM_E_NOT_FOUND);
  vim_session_free(s);
}

/* CBT on and off through ReconfigVM_Task, seen in the place. */
static void test_change_tracking(void **state)
{
  struct vim_session *s;
  struct vim_error e;
  struct vim_moref m = vm(3), task;
  struct vim_vm_place p;

  (void)state;
  s = open_admin();
  assert_int_equal(vim_set_change_tracking(s, &m, true, &task, &e), VIM_OK);
  assert_int_equal(vim_task_wait(s, &task, 20000, NULL, NULL, NULL, &e),
                   VIM_OK);
  assert_int_equal(vim_vm_place_get(s, &m, &p, &e), VIM_OK);
  assert_true(p.change_tracking);
  assert_int_equal(vim_set_change_tracking(s, &m, false, &task, &e), VIM_OK);
  assert_int_equal(vim_task_wait(s, &task, 20000, NULL, NULL, NULL, &e),
                   VIM_OK);
  assert_int_equal(vim_vm_place_get(s, &m, &p, &e), VIM_OK);
  assert_false(p.change_tracking);
  vim_session_free(s);
}

/* The session cookie works for another client; a generic ticket comes
 * back (unchecked by today's vcsim, so only its presence is asserted); the
 * NfcService is named. */
static void test_cookie_and_tickets(void **state)
{
  struct vim_session *s, *b;
  struct vim_options o;
  struct vim_error e;
  struct vim_moref m = vm(0), svc;
  struct vim_service_ticket t;
  struct vim_vm_place p;
  char cookie[sizeof secret_seen], url[1024];

  (void)state;
  s = open_admin();
  assert_int_equal(vim_session_cookie(s, cookie, sizeof cookie, &e), VIM_OK);
  assert_string_not_equal(cookie, "");
  memcpy(secret_seen, cookie, sizeof secret_seen);
  opts_for(&o, &sim);
  assert_int_equal(vim_session_new(&b, &o, &e), VIM_OK);
  assert_int_equal(vim_use_cookie(b, cookie, &e), VIM_OK);
  assert_int_equal(vim_vm_exists(b, &m, NULL, 0, &e), VIM_OK);
  vim_session_free(b);

  assert_int_equal(vim_vm_place_get(s, &m, &p, &e), VIM_OK);
  snprintf(url, sizeof url, "https://%s:%d/folder/%s?dcPath=%s&dsName=x",
           sim.host, sim.port, p.name, p.dc_path);
  assert_int_equal(vim_acquire_generic_ticket(s, url, "httpGet", &t, &e),
                   VIM_OK);
  assert_string_not_equal(t.id, "");
  assert_int_equal(vim_acquire_generic_ticket(s, url, NULL, &t, &e), VIM_OK);
  assert_int_equal(vim_nfc_service(s, &svc, &e), VIM_OK);
  assert_string_equal(svc.type, "NfcService");
  assert_string_not_equal(svc.value, "");
  vim_session_free(s);
  assert_int_equal(secret_hits, 0);
  secret_seen[0] = '\0';
  memset(cookie, 0, sizeof cookie);
  memset(&t, 0, sizeof t);
}

/* A server's idle timeout closes keep-alive connections with TLS
 * close_notify, which libcurl's liveness check takes for data: it re-sends
 * over a dead connection, and libcurl 7.88 counts those re-sends over the
 * handle's whole life (never reset), failing the sixth with "Connection
 * died, tried 5 times".  A create-once call (a ticket) must still succeed
 * after many such closes: a send error means the server never acted. */
static void test_idle_closed_connections(void **state)
{
  struct vim_session *s = open_admin();
  struct vim_moref m = vm(0);
  struct vim_service_ticket t;
  struct vim_vm_place p;
  struct vim_error e;
  char url[1024];

  (void)state;
  assert_int_equal(vim_vm_place_get(s, &m, &p, &e), VIM_OK);
  snprintf(url, sizeof url, "https://%s:%d/folder/%s?dcPath=%s&dsName=x",
           sim.host, sim.port, p.name, p.dc_path);
  for (int i = 0; i < 12; i++) {
    assert_int_equal(fvx_sim_admin(&sim, "POST", "/connections/close-idle",
                                   NULL, NULL),
                     200);
    if (vim_acquire_generic_ticket(s, url, "httpGet", &t, &e) != VIM_OK)
      fail_msg("ticket %d after the server closed the idle connection: %s",
               i, e.detail);
    assert_int_equal(vim_vm_exists(s, &m, NULL, 0, &e), VIM_OK);
  }
  memset(&t, 0, sizeof t);
  vim_session_free(s);
}

struct hammer {
  struct vim_session *s;
  int idx;
  int ok;
};

static void *hammer_fn(void *p)
{
  struct hammer *h = p;
  int n = fvx_test_under_valgrind() ? 5 : 40;

  for (int i = 0; i < n; i++) {
    struct vim_moref m;
    struct vim_error e;
    char name[128];

    vim_moref_set(&m, "VirtualMachine", vm_ids[(h->idx + i) % n_vms]);
    if (vim_vm_exists(h->s, &m, name, sizeof name, &e) == VIM_OK &&
        strcmp(name, vm_names[(h->idx + i) % n_vms]) == 0)
      h->ok++;
  }
  return NULL;
}

static void test_threads(void **state)
{
  struct vim_session *shared, *own[4];
  pthread_t t[8];
  struct hammer h[8];
  struct vim_stats st;
  int n = fvx_test_under_valgrind() ? 5 : 40;

  (void)state;
  shared = open_admin();
  for (int i = 0; i < 4; i++)
    own[i] = open_admin();
  for (int i = 0; i < 8; i++) {
    h[i].s = i < 4 ? shared : own[i - 4];
    h[i].idx = i;
    h[i].ok = 0;
    assert_int_equal(pthread_create(&t[i], NULL, hammer_fn, &h[i]), 0);
  }
  for (int i = 0; i < 8; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(h[i].ok, n);
  }
  vim_session_stats(shared, &st);
  assert_int_equal(st.connects, 1);
  for (int i = 0; i < 4; i++)
    vim_session_free(own[i]);
  vim_session_free(shared);
}

static void test_esx_mode(void **state)
{
  struct fvx_sim esx;
  struct vim_session *s;
  struct vim_error e;
  const struct vim_service_content *sc;
  char ids[4][64];
  struct vim_moref m;
  struct vim_disabled_method dm = {"RelocateVM_Task", "r"};
  const char *pr[1] = {"Global.DisableMethods"};
  bool got;

  (void)state;
  fvx_sim_start(&esx, (const char *const[]){"--mode", "esx", "--vms", "2",
                                            NULL});
  assert_true(fvx_sim_vms(&esx, ids, NULL, 4) >= 1);
  s = open_as(&esx, esx.user);
  assert_int_equal(vim_service_content(s, &sc, &e), VIM_OK);
  assert_string_equal(sc->api_type, "HostAgent");
  assert_false(vim_session_is_vcenter(s));
  vim_moref_set(&m, "VirtualMachine", ids[0]);
  {
    struct vim_vm_place p;

    assert_int_equal(vim_vm_place_get(s, &m, &p, &e), VIM_OK);
    assert_string_equal(p.dc_path, "ha-datacenter");
    assert_string_equal(p.host.type, "HostSystem");
  }
  assert_int_equal(vim_disable_methods(s, &m, 1, &dm, 1, "x", false, &e),
                   VIM_E_FAULT);
  assert_int_equal(e.fault.kind, VIM_FAULT_METHOD_NOT_FOUND);
  /* The privilege pre-flight either answers or says it cannot. */
  {
    int rc = vim_has_privilege(s, &sc->root_folder, pr, 1, &got, &e);

    assert_true(rc == VIM_OK ||
                (rc == VIM_E_FAULT &&
                 (e.fault.kind == VIM_FAULT_METHOD_NOT_FOUND ||
                  e.fault.kind == VIM_FAULT_NOT_IMPLEMENTED)));
  }
  vim_session_free(s);
  fvx_sim_stop(&esx);
}

static void test_plain_http(void **state)
{
  struct fvx_sim h;
  struct vim_options o;
  struct vim_session *s;
  struct vim_error e;
  char host[128];

  (void)state;
  fvx_sim_start(&h, (const char *const[]){"--no-tls", "--vms", "1", NULL});
  assert_false(h.tls);
  opts_for(&o, &h);
  o.thumbprint = NULL;
  snprintf(host, sizeof host, "http://%s", h.host);
  o.host = host;
  o.allow_http = true;
  assert_int_equal(vim_session_new(&s, &o, &e), VIM_OK);
  assert_int_equal(vim_login(s, h.user, "freevix", &e), VIM_OK);
  vim_session_free(s);
  fvx_sim_stop(&h);
}

static void test_connect_errors(void **state)
{
  struct vim_options o;
  struct vim_session *s;
  struct vim_error e;

  (void)state;
  opts_for(&o, &sim);
  o.port = 1; /* nothing listens there */
  assert_int_equal(vim_session_new(&s, &o, &e), VIM_OK);
  assert_int_equal(vim_login(s, "u", "p", &e), VIM_E_CONNECT);
  vim_session_free(s);
  o.port = (unsigned)sim.port;
  o.host = "no-such-host.invalid";
  assert_int_equal(vim_session_new(&s, &o, &e), VIM_OK);
  assert_int_equal(vim_login(s, "u", "p", &e), VIM_E_RESOLVE);
  vim_session_free(s);
  /* Timeout: a delayed call with a short timeout. */
  opts_for(&o, &sim);
  o.timeout_ms = 300;
  o.retry_deadline_ms = -1;
  assert_int_equal(vim_session_new(&s, &o, &e), VIM_OK);
  assert_int_equal(fvx_sim_admin(&sim, "POST", "/fault",
                                 "{\"kind\":\"delay\",\"method\":"
                                 "\"RetrieveServiceContent\",\"ms\":2000}",
                                 NULL), 200);
  assert_int_equal(vim_login(s, sim.user, "freevix", &e), VIM_E_TIMEOUT);
  clear_faults();
  vim_session_free(s);
  vim_session_free(NULL);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_login_content_stats),
    cmocka_unit_test(test_bad_password),
    cmocka_unit_test(test_thumbprint),
    cmocka_unit_test(test_ca_and_insecure),
    cmocka_unit_test(test_expiry_relogin),
    cmocka_unit_test(test_scoped_lost),
    cmocka_unit_test(test_retry_drop_503),
    cmocka_unit_test(test_malformed),
    cmocka_unit_test(test_disable_enable),
    cmocka_unit_test(test_no_permission),
    cmocka_unit_test(test_task_wait),
    cmocka_unit_test(test_search),
    cmocka_unit_test(test_cookie),
    cmocka_unit_test(test_disks_and_snapshot),
    cmocka_unit_test(test_vm_place),
    cmocka_unit_test(test_change_tracking),
    cmocka_unit_test(test_cookie_and_tickets),
    cmocka_unit_test(test_idle_closed_connections),
    cmocka_unit_test(test_threads),
    cmocka_unit_test(test_esx_mode),
    cmocka_unit_test(test_plain_http),
    cmocka_unit_test(test_connect_errors),
  };

  fvx_log_set_sink(sink, NULL);
  fvx_log_set_level(FVX_LOG_DEBUG);
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
