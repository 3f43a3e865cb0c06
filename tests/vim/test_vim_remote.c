/*
 * test_vim_remote.c -- the calls behind remote disks (vim.h "Remote disks")
 * against the scripted peer and recorded answers: what each call sends,
 * element by element, and what it decodes -- device lists and backing
 * chains, a snapshot's config, RDMs, DiskChangeInfo pages, tickets, the
 * VM's place in the inventory -- including the faults and malformed
 * answers, and that cookies and tickets stay out of logs and details.
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

#define GIB (UINT64_C(1) << 30)
#define CID "52 6f 1d 0e 8a 3b 4c 5d-9e 2a 7b 8c 1d 3e 4f 50/41"

static int secret_hits;

/* Every secret of the recorded answers contains "s3cr3t". */
static void sink(void *opaque, enum fvx_log_level level, const char *msg)
{
  (void)opaque;
  (void)level;
  if (strstr(msg, "s3cr3t"))
    secret_hits++;
}

static int setup(void **state)
{
  (void)state;
  fvx_log_set_sink(sink, NULL);
  fvx_log_set_level(FVX_LOG_DEBUG);
  return peer_start();
}

static int teardown(void **state)
{
  (void)state;
  peer_stop();
  fvx_log_set_sink(NULL, NULL);
  assert_int_equal(secret_hits, 0);
  return 0;
}

static struct vim_session *logged_in(void)
{
  struct vim_session *s = vimtest_session(0);
  struct vim_error e;

  assert_int_equal(vim_login(s, "root", "pa55word", &e), VIM_OK);
  return s;
}

static struct vim_moref ref(const char *type, const char *value)
{
  struct vim_moref m;

  assert_true(vim_moref_set(&m, type, value));
  return m;
}

/* The body of request i contains text exactly. */
static void sent(int i, const char *text)
{
  const char *r = peer_request(i);

  if (!strstr(r, text))
    fail_msg("request %d lacks\n  %s\nit is\n  %s", i, text, r);
}

static void no_secret(const struct vim_error *e)
{
  assert_null(strstr(e->detail, "s3cr3t"));
}

/* ---- devices and backing chains ------------------------------------------ */

static void check_link(const struct vim_disk_link *l, const char *file,
                       const char *type, const char *delta,
                       const char *change_id, bool thin, const char *ds)
{
  assert_string_equal(l->file_name, file);
  assert_string_equal(l->backing_type, type);
  assert_string_equal(l->delta_format, delta);
  assert_string_equal(l->change_id, change_id);
  assert_int_equal(l->thin, thin);
  assert_string_equal(l->datastore.value, ds);
}

/* A VM with two disks: disk 1 is three SeSparse deltas over a FlatVer2
 * base (the deltas' parents inherit the type; the base names its own), disk
 * 2 a plain eager-zeroed flat disk with capacityInKB only.  Controllers, a
 * CD-ROM with an ISO backing and a NIC are not disks. */
static void test_vm_disks(void **state)
{
  static const char *const ses = "VirtualDiskSeSparseBackingInfo";
  static const char *const flat = "VirtualDiskFlatVer2BackingInfo";
  struct vim_session *s;
  struct vim_disk *d = NULL;
  struct vim_error e;
  struct vim_moref vm = ref("VirtualMachine", "vm-42");
  size_t n = 9;

  (void)state;
  PEER_SCRIPT(PEER_CONTENT, PEER_LOGIN, PEER_FILE("vm_devices.xml"));
  s = logged_in();
  assert_int_equal(vim_disks_get(s, &vm, &d, &n, &e), VIM_OK);
  sent(2, "<RetrievePropertiesEx xmlns=\"urn:vim25\"><_this type=\""
          "PropertyCollector\">pc</_this><specSet><propSet><type>"
          "VirtualMachine</type><pathSet>config.hardware.device</pathSet>"
          "</propSet><objectSet><obj type=\"VirtualMachine\">vm-42</obj>"
          "</objectSet></specSet><options></options></RetrievePropertiesEx>");
  assert_int_equal(n, 2);
  assert_int_equal(d[0].key, 2000);
  assert_string_equal(d[0].label, "Hard disk 1");
  assert_true(d[0].capacity == 16 * GIB);
  assert_string_equal(d[0].disk_mode, "persistent");
  assert_string_equal(d[0].uuid, "6000C29a-7b1c-4d2e-8f30-aa11bb22cc33");
  assert_int_equal(d[0].n_chain, 4);
  check_link(&d[0].chain[0], "[datastore1] web01/web01-000003.vmdk", ses,
             "seSparseFormat", CID, false, "datastore-11");
  check_link(&d[0].chain[1], "[datastore1] web01/web01-000002.vmdk", ses,
             "seSparseFormat",
             "52 6f 1d 0e 8a 3b 4c 5d-9e 2a 7b 8c 1d 3e 4f 50/33", false,
             "datastore-11");
  check_link(&d[0].chain[2], "[datastore1] web01/web01-000001.vmdk", ses,
             "seSparseFormat",
             "52 6f 1d 0e 8a 3b 4c 5d-9e 2a 7b 8c 1d 3e 4f 50/20", false,
             "datastore-11");
  check_link(&d[0].chain[3], "[datastore1] web01/web01.vmdk", flat, "",
             "52 6f 1d 0e 8a 3b 4c 5d-9e 2a 7b 8c 1d 3e 4f 50/12", true,
             "datastore-11");
  assert_int_equal(d[1].key, 2001);
  assert_true(d[1].capacity == GIB);
  assert_string_equal(d[1].disk_mode, "independent_persistent");
  assert_int_equal(d[1].n_chain, 1);
  check_link(&d[1].chain[0], "[datastore2] web01/web01_1.vmdk", flat, "", "",
             false, "datastore-12");
  vim_disks_free(d, n);
  vim_disks_free(NULL, 0);
  vim_session_free(s);
}

/* A snapshot's config: the chain as it was (head -000002). */
static void test_snapshot_disks(void **state)
{
  struct vim_session *s;
  struct vim_disk *d = NULL;
  struct vim_error e;
  struct vim_moref snap = ref("VirtualMachineSnapshot", "snapshot-7");
  size_t n;

  (void)state;
  PEER_SCRIPT(PEER_CONTENT, PEER_LOGIN, PEER_FILE("snapshot_devices.xml"),
              PEER_FAULT("fault_snapshot_not_found.xml"));
  s = logged_in();
  assert_int_equal(vim_disks_get(s, &snap, &d, &n, &e), VIM_OK);
  sent(2, "<propSet><type>VirtualMachineSnapshot</type><pathSet>"
          "config.hardware.device</pathSet></propSet><objectSet><obj type=\""
          "VirtualMachineSnapshot\">snapshot-7</obj></objectSet>");
  assert_int_equal(n, 2);
  assert_int_equal(d[0].n_chain, 3);
  assert_string_equal(d[0].chain[0].file_name,
                      "[datastore1] web01/web01-000002.vmdk");
  assert_string_equal(d[0].chain[2].file_name,
                      "[datastore1] web01/web01.vmdk");
  vim_disks_free(d, n);
  /* An unknown snapshot. */
  snap = ref("VirtualMachineSnapshot", "snapshot-99");
  assert_int_equal(vim_disks_get(s, &snap, &d, &n, &e), VIM_E_NOT_FOUND);
  assert_int_equal(e.fault.kind, VIM_FAULT_MANAGED_OBJECT_NOT_FOUND);
  assert_null(d);
  assert_int_equal(n, 0);
  /* Not a VM or snapshot: refused before anything is sent. */
  snap = ref("HostSystem", "host-10");
  assert_int_equal(vim_disks_get(s, &snap, &d, &n, &e), VIM_E_INVALID_ARG);
  assert_int_equal(peer_requests(), 4);
  vim_session_free(s);
}

/* RDMs: physical mode (no chain), virtual mode with a redo-log delta. */
static void test_rdm_disks(void **state)
{
  static const char *const rdm = "VirtualDiskRawDiskMappingVer1BackingInfo";
  struct vim_session *s;
  struct vim_disk *d = NULL;
  struct vim_error e;
  struct vim_moref vm = ref("VirtualMachine", "vm-43");
  size_t n;

  (void)state;
  PEER_SCRIPT(PEER_CONTENT, PEER_LOGIN, PEER_FILE("vm_rdm.xml"),
              PEER_FILE("vm_no_disks.xml"));
  s = logged_in();
  assert_int_equal(vim_disks_get(s, &vm, &d, &n, &e), VIM_OK);
  assert_int_equal(n, 2);
  assert_true(d[0].capacity == 100 * GIB);
  assert_string_equal(d[0].disk_mode, "independent_persistent");
  assert_int_equal(d[0].n_chain, 1);
  check_link(&d[0].chain[0], "[datastore1] db01/db01.vmdk", rdm, "", "", false,
             "datastore-11");
  assert_int_equal(d[1].n_chain, 2);
  check_link(&d[1].chain[0], "[datastore1] db01/db01_1-000001.vmdk", rdm,
             "redoLogFormat",
             "52 11 22 33 44 55 66 77-88 99 aa bb cc dd ee ff/5", false,
             "datastore-11");
  check_link(&d[1].chain[1], "[datastore1] db01/db01_1.vmdk", rdm, "",
             "52 11 22 33 44 55 66 77-88 99 aa bb cc dd ee ff/2", false,
             "datastore-11");
  vim_disks_free(d, n);
  /* Devices but no disk. */
  vm = ref("VirtualMachine", "vm-44");
  assert_int_equal(vim_disks_get(s, &vm, &d, &n, &e), VIM_OK);
  assert_int_equal(n, 0);
  assert_null(d);
  vim_session_free(s);
}

/* ---- Changed Block Tracking ----------------------------------------------- */

/* Pages the way a backup loop does: each from the end of the last. */
static void test_changed_areas(void **state)
{
  struct vim_session *s;
  struct vim_changed_areas a;
  struct vim_error e;
  struct vim_moref vm = ref("VirtualMachine", "vm-42");
  struct vim_moref snap = ref("VirtualMachineSnapshot", "snapshot-7");
  uint64_t off = 0, total = 0;
  int pages = 0;

  (void)state;
  PEER_SCRIPT(PEER_CONTENT, PEER_LOGIN, PEER_FILE("changed_areas_page1.xml"),
              PEER_FILE("changed_areas_page2.xml"),
              PEER_FILE("changed_areas_empty.xml"));
  s = logged_in();
  for (;;) {
    assert_int_equal(vim_query_changed_areas(s, &vm, &snap, 2000, off, CID,
                                             &a, &e), VIM_OK);
    assert_true(a.start == off);
    pages++;
    for (size_t i = 0; i < a.n; i++)
      total += a.areas[i].length;
    if (pages == 1) {
      assert_int_equal(a.n, 3);
      assert_true(a.areas[1].start == 1048576);
      assert_true(a.areas[1].length == 2097152);
      assert_true(a.areas[2].start == 8 * GIB - 65536);
    }
    off = a.start + a.length;
    if (a.length == 0) {
      vim_changed_areas_free(&a);
      break;
    }
    vim_changed_areas_free(&a);
    assert_null(a.areas);
  }
  assert_int_equal(pages, 3);
  assert_true(total == 65536 + 2097152 + 65536 + 4 * GIB);
  sent(2, "<QueryChangedDiskAreas xmlns=\"urn:vim25\"><_this type=\""
          "VirtualMachine\">vm-42</_this><snapshot type=\""
          "VirtualMachineSnapshot\">snapshot-7</snapshot><deviceKey>2000"
          "</deviceKey><startOffset>0</startOffset><changeId>" CID
          "</changeId></QueryChangedDiskAreas>");
  sent(3, "<startOffset>8589934592</startOffset>");
  sent(4, "<startOffset>17179869184</startOffset>");
  vim_changed_areas_free(NULL);
  vim_session_free(s);
}

static void test_changed_areas_faults(void **state)
{
  struct vim_session *s;
  struct vim_changed_areas a;
  struct vim_error e;
  struct vim_moref vm = ref("VirtualMachine", "vm-42");
  struct vim_moref snap = ref("VirtualMachineSnapshot", "snapshot-99");

  (void)state;
  PEER_SCRIPT(PEER_CONTENT, PEER_LOGIN, PEER_FAULT("fault_file_changeid.xml"),
              PEER_FAULT("fault_invalid_changeid.xml"),
              PEER_FAULT("fault_not_supported.xml"),
              PEER_FAULT("fault_snapshot_not_found.xml"),
              PEER_FILE("changed_areas_outside.xml"));
  s = logged_in();
  assert_int_equal(vim_query_changed_areas(s, &vm, NULL, 2000, 0, "52 de/3",
                                           &a, &e), VIM_E_FAULT);
  assert_int_equal(e.fault.kind, VIM_FAULT_FILE);
  assert_string_equal(e.fault.type, "FileFault");
  assert_non_null(strstr(e.fault.object, "web01-ctk.vmdk"));
  /* No snapshot: the element is left out. */
  assert_null(strstr(peer_request(2), "<snapshot"));
  sent(2, "<deviceKey>2000</deviceKey><startOffset>0</startOffset><changeId>"
          "52 de/3</changeId>");
  assert_int_equal(vim_query_changed_areas(s, &vm, NULL, 2000, 0, "52 de/3",
                                           &a, &e), VIM_E_FAULT);
  assert_int_equal(e.fault.kind, VIM_FAULT_INVALID_ARGUMENT);
  assert_string_equal(e.fault.object, "changeId");
  assert_int_equal(vim_query_changed_areas(s, &vm, NULL, 2000, 0, "*", &a,
                                           &e), VIM_E_FAULT);
  assert_int_equal(e.fault.kind, VIM_FAULT_NOT_SUPPORTED);
  sent(4, "<changeId>*</changeId>");
  assert_int_equal(vim_query_changed_areas(s, &vm, &snap, 2000, 0, "*", &a,
                                           &e), VIM_E_FAULT);
  assert_int_equal(e.fault.kind, VIM_FAULT_MANAGED_OBJECT_NOT_FOUND);
  assert_string_equal(e.fault.object, "VirtualMachineSnapshot:snapshot-99");
  /* An area that leaves its page. */
  assert_int_equal(vim_query_changed_areas(s, &vm, NULL, 2000, 0, "*", &a,
                                           &e), VIM_E_PROTOCOL);
  assert_null(a.areas);
  assert_int_equal(a.n, 0);
  /* Arguments refused before anything is sent. */
  assert_int_equal(vim_query_changed_areas(s, &vm, NULL, 2000,
                                           UINT64_C(1) << 63, "*", &a, &e),
                   VIM_E_INVALID_ARG);
  assert_int_equal(vim_query_changed_areas(s, &vm, NULL, 2000, 0, "", &a, &e),
                   VIM_E_INVALID_ARG);
  assert_int_equal(peer_requests(), 7);
  vim_session_free(s);
}

static void test_change_tracking(void **state)
{
  struct vim_session *s;
  struct vim_error e;
  struct vim_moref vm = ref("VirtualMachine", "vm-42"), task;

  (void)state;
  PEER_SCRIPT(PEER_CONTENT, PEER_LOGIN, PEER_FILE("reconfig_task.xml"),
              PEER_FILE("reconfig_task.xml"));
  s = logged_in();
  assert_int_equal(vim_set_change_tracking(s, &vm, true, &task, &e), VIM_OK);
  assert_string_equal(task.type, "Task");
  assert_string_equal(task.value, "task-77");
  sent(2, "<ReconfigVM_Task xmlns=\"urn:vim25\"><_this type=\"VirtualMachine\">"
          "vm-42</_this><spec><changeTrackingEnabled>true"
          "</changeTrackingEnabled></spec></ReconfigVM_Task>");
  assert_int_equal(vim_set_change_tracking(s, &vm, false, NULL, &e), VIM_OK);
  sent(3, "<changeTrackingEnabled>false</changeTrackingEnabled>");
  vim_session_free(s);
}

/* ---- tickets and cookies ---------------------------------------------------- */

/* No copy of a secret is left in the session's answer buffer. */
static void resp_clean(struct vim_session *s, const char *secret)
{
  if (s->resp.data)
    assert_null(memmem(s->resp.data, s->resp.len, secret, strlen(secret)));
}

static void test_generic_ticket(void **state)
{
  static const char url[] = "https://vc.example.com/folder/web01/web01-flat"
                            ".vmdk?dcPath=DC%20Paris&dsName=datastore1";
  struct vim_session *s;
  struct vim_service_ticket t;
  struct vim_error e;

  (void)state;
  PEER_SCRIPT(PEER_CONTENT, PEER_LOGIN, PEER_FILE("generic_ticket.xml"),
              PEER_FILE("generic_ticket_long.xml"),
              PEER_FILE("generic_ticket.xml"));
  s = logged_in();
  assert_int_equal(vim_acquire_generic_ticket(s, url, "httpGet", &t, &e),
                   VIM_OK);
  sent(2, "<AcquireGenericServiceTicket xmlns=\"urn:vim25\"><_this type=\""
          "SessionManager\">SM</_this><spec xsi:type=\""
          "SessionManagerHttpServiceRequestSpec\"><method>httpGet</method>"
          "<url>https://vc.example.com/folder/web01/web01-flat.vmdk?dcPath="
          "DC%20Paris&amp;dsName=datastore1</url></spec>"
          "</AcquireGenericServiceTicket>");
  assert_string_equal(t.id, "cst-VCT-52f0a1b2-c3d4-cgi-s3cr3t-9999");
  assert_string_equal(t.host_name, "esx-01.example.com");
  assert_string_equal(t.ssl_thumbprint, "4A:1F:0C:77:9E:2B:D3:5A:60:88:C1:E4:"
                                        "0F:9D:B2:7A:13:55:C6:08");
  resp_clean(s, "cgi-s3cr3t");
  /* An id that does not fit is refused whole, and named only by field. */
  assert_int_equal(vim_acquire_generic_ticket(s, url, "httpGet", &t, &e),
                   VIM_E_PROTOCOL);
  assert_string_equal(t.id, "");
  no_secret(&e);
  assert_non_null(strstr(e.detail, "id longer than"));
  /* Any method: the element is left out. */
  assert_int_equal(vim_acquire_generic_ticket(s, url, NULL, &t, &e), VIM_OK);
  assert_null(strstr(peer_request(4), "<method>"));
  assert_int_equal(vim_acquire_generic_ticket(s, "", "httpGet", &t, &e),
                   VIM_E_INVALID_ARG);
  vim_session_free(s);
}

static void test_session_cookie(void **state)
{
  struct vim_session *s;
  struct vim_error e;
  char c[64], tiny[8];

  (void)state;
  s = vimtest_session(0);
  assert_int_equal(vim_session_cookie(s, c, sizeof c, &e), VIM_E_INVALID_ARG);
  vim_session_free(s);
  PEER_SCRIPT(PEER_CONTENT, PEER_LOGIN);
  s = logged_in();
  assert_int_equal(vim_session_cookie(s, c, sizeof c, &e), VIM_OK);
  assert_string_equal(c, "\"C00KIE-s3cr3t\"");
  memset(tiny, 'x', sizeof tiny);
  assert_int_equal(vim_session_cookie(s, tiny, sizeof tiny, &e),
                   VIM_E_INVALID_ARG);
  for (size_t i = 0; i < sizeof tiny; i++)
    assert_int_equal(tiny[i], 0);
  no_secret(&e);
  assert_int_equal(vim_session_cookie(NULL, c, sizeof c, &e),
                   VIM_E_INVALID_ARG);
  vim_session_free(s);
}

/* The NfcService is found once, through RetrieveInternalContent in
 * urn:vim25 with the session's SOAPAction; the ticket calls follow. */
static void test_nfc_tickets(void **state)
{
  struct vim_session *s;
  struct vim_host_ticket t;
  struct vim_error e;
  struct vim_moref vm = ref("VirtualMachine", "vm-42");
  struct vim_moref host = ref("HostSystem", "host-10"), svc;

  (void)state;
  PEER_SCRIPT(PEER_CONTENT, PEER_LOGIN, PEER_FILE("internal_content.xml"),
              PEER_FILE("host_ticket.xml"), PEER_FILE("host_ticket_nohost.xml"),
              PEER_FILE("host_ticket_rw.xml"),
              PEER_FILE("host_ticket_badport.xml"),
              PEER_FAULT("fault_not_supported.xml"));
  s = logged_in();
  assert_int_equal(vim_nfc_random_access(s, &vm, 2000, &host, false, &t, &e),
                   VIM_OK);
  sent(2, "SOAPAction: \"urn:vim25/7.0\"");
  sent(2, "<RetrieveInternalContent xmlns=\"urn:vim25\"><_this type=\""
          "ServiceInstance\">ServiceInstance</_this></RetrieveInternalContent>");
  sent(3, "SOAPAction: \"urn:vim25/7.0\"");
  sent(3, "<NfcRandomAccessOpenReadonly xmlns=\"urn:vim25\"><_this type=\""
          "NfcService\">nfcService</_this><vm type=\"VirtualMachine\">vm-42"
          "</vm><diskDeviceKey>2000</diskDeviceKey><hostForAccess type=\""
          "HostSystem\">host-10</hostForAccess></NfcRandomAccessOpenReadonly>");
  assert_string_equal(t.host, "10.20.30.41");
  assert_int_equal(t.port, 902);
  assert_string_equal(t.ssl_thumbprint, "4A:1F:0C:77:9E:2B:D3:5A:60:88:C1:E4:"
                                        "0F:9D:B2:7A:13:55:C6:08");
  assert_string_equal(t.service, "vpxa-nfc");
  assert_string_equal(t.service_version, "1.1");
  assert_string_equal(t.session_id, "52a8b7c6-d5e4-f3a2-b1c0-nfc-s3cr3t-4711");
  resp_clean(s, "nfc-s3cr3t");
  /* ESXi: no host, no port; the service is cached (no second lookup). */
  assert_int_equal(vim_nfc_get_vm_files(s, &vm, &t, &e), VIM_OK);
  sent(4, "<NfcGetVmFiles xmlns=\"urn:vim25\"><_this type=\"NfcService\">"
          "nfcService</_this><vm type=\"VirtualMachine\">vm-42</vm>"
          "</NfcGetVmFiles>");
  assert_string_equal(t.host, "");
  assert_int_equal(t.port, 902);
  assert_string_equal(t.service, "nfc");
  assert_string_equal(t.session_id, "52d0e1f2-esx-s3cr3t-0815");
  assert_int_equal(vim_nfc_service(s, &svc, &e), VIM_OK);
  assert_string_equal(svc.type, "NfcService");
  assert_string_equal(svc.value, "nfcService");
  /* Writable, and without hostForAccess. */
  assert_int_equal(vim_nfc_random_access(s, &vm, 2001, NULL, true, &t, &e),
                   VIM_OK);
  sent(5, "<NfcRandomAccessOpenDisk xmlns=\"urn:vim25\"><_this type=\""
          "NfcService\">nfcService</_this><vm type=\"VirtualMachine\">vm-42"
          "</vm><diskDeviceKey>2001</diskDeviceKey></NfcRandomAccessOpenDisk>");
  assert_string_equal(t.session_id, "52a8b7c6-d5e4-f3a2-b1c0-rw-s3cr3t-4712");
  /* A port out of range: refused, the ticket wiped. */
  assert_int_equal(vim_nfc_get_vm_files(s, &vm, &t, &e), VIM_E_PROTOCOL);
  assert_string_equal(t.session_id, "");
  no_secret(&e);
  /* A server without the call. */
  assert_int_equal(vim_nfc_get_vm_files(s, &vm, &t, &e), VIM_E_FAULT);
  assert_int_equal(e.fault.kind, VIM_FAULT_NOT_SUPPORTED);
  assert_int_equal(peer_requests(), 8);
  vim_session_free(s);
}

static void test_nfc_service_variants(void **state)
{
  struct vim_session *s;
  struct vim_error e;
  struct vim_moref svc;

  (void)state;
  PEER_SCRIPT(PEER_CONTENT, PEER_LOGIN, PEER_FILE("internal_content_esx.xml"));
  s = logged_in();
  assert_int_equal(vim_nfc_service(s, &svc, &e), VIM_OK);
  assert_string_equal(svc.value, "ha-nfc-service");
  vim_session_free(s);
  PEER_SCRIPT(PEER_CONTENT, PEER_LOGIN, PEER_FILE("internal_content_none.xml"));
  s = logged_in();
  assert_int_equal(vim_nfc_service(s, &svc, &e), VIM_E_NOT_FOUND);
  vim_session_free(s);
}

/* ---- where the VM lives ------------------------------------------------------ */

static void test_vm_place(void **state)
{
  struct vim_session *s;
  struct vim_vm_place p;
  struct vim_error e;
  struct vim_moref vm = ref("VirtualMachine", "vm-42");

  (void)state;
  PEER_SCRIPT(PEER_CONTENT, PEER_LOGIN, PEER_FILE("place_page1.xml"),
              PEER_FILE("place_page2.xml"), PEER_FILE("host_name.xml"),
              PEER_FILE("place_no_dc.xml"), PEER_FAULT("fault_mo_not_found.xml"));
  s = logged_in();
  assert_int_equal(vim_vm_place_get(s, &vm, &p, &e), VIM_OK);
  sent(2, "<propSet><type>VirtualMachine</type><pathSet>name</pathSet>"
          "<pathSet>runtime.powerState</pathSet><pathSet>"
          "config.changeTrackingEnabled</pathSet><pathSet>"
          "config.files.vmPathName</pathSet><pathSet>runtime.host</pathSet>"
          "<pathSet>parent</pathSet><pathSet>parentVApp</pathSet></propSet>"
          "<propSet><type>Folder</type><pathSet>name</pathSet><pathSet>parent"
          "</pathSet></propSet>");
  sent(2, "<objectSet><obj type=\"VirtualMachine\">vm-42</obj><skip>false"
          "</skip><selectSet xsi:type=\"TraversalSpec\"><name>vmParent</name>"
          "<type>VirtualMachine</type><path>parent</path><skip>false</skip>"
          "<selectSet><name>vmParent</name></selectSet>");
  sent(2, "<selectSet xsi:type=\"TraversalSpec\"><name>dcUp</name><type>"
          "Datacenter</type><path>parent</path>");
  sent(3, "<ContinueRetrievePropertiesEx xmlns=\"urn:vim25\"><_this type=\""
          "PropertyCollector\">pc</_this><token>place-tok-1</token>"
          "</ContinueRetrievePropertiesEx>");
  sent(4, "<obj type=\"HostSystem\">host-10</obj>");
  assert_string_equal(p.name, "web01");
  assert_string_equal(p.power_state, "poweredOn");
  assert_true(p.change_tracking);
  assert_string_equal(p.vmx_path, "[datastore1] web01/web01.vmx");
  assert_string_equal(p.host.value, "host-10");
  assert_string_equal(p.host_name, "esx-01.example.com");
  assert_string_equal(p.datacenter.type, "Datacenter");
  assert_string_equal(p.datacenter.value, "datacenter-2");
  assert_string_equal(p.dc_path, "Europe/DC Paris");
  /* No datacenter above the VM. */
  assert_int_equal(vim_vm_place_get(s, &vm, &p, &e), VIM_E_PROTOCOL);
  assert_string_equal(p.name, "");
  /* No such VM. */
  vm = ref("VirtualMachine", "vm-99");
  assert_int_equal(vim_vm_place_get(s, &vm, &p, &e), VIM_E_NOT_FOUND);
  vim_session_free(s);
}

static void test_snapshot_vm_and_datastores(void **state)
{
  struct vim_session *s;
  struct vim_error e;
  struct vim_moref snap = ref("VirtualMachineSnapshot", "snapshot-7"), vm;
  struct vim_moref ds[2] = {ref("Datastore", "datastore-11"),
                            ref("Datastore", "datastore-12")};
  struct vim_datastore *out = NULL;

  (void)state;
  PEER_SCRIPT(PEER_CONTENT, PEER_LOGIN, PEER_FILE("snapshot_vm.xml"),
              PEER_FAULT("fault_snapshot_not_found.xml"),
              PEER_FILE("datastores.xml"), PEER_FAULT("fault_mo_not_found.xml"));
  s = logged_in();
  assert_int_equal(vim_snapshot_vm(s, &snap, &vm, &e), VIM_OK);
  sent(2, "<pathSet>vm</pathSet></propSet><objectSet><obj type=\""
          "VirtualMachineSnapshot\">snapshot-7</obj>");
  assert_string_equal(vm.type, "VirtualMachine");
  assert_string_equal(vm.value, "vm-42");
  snap = ref("VirtualMachineSnapshot", "snapshot-99");
  assert_int_equal(vim_snapshot_vm(s, &snap, &vm, &e), VIM_E_NOT_FOUND);
  assert_int_equal(vim_snapshot_vm(s, &ds[0], &vm, &e), VIM_E_INVALID_ARG);
  /* The answer's order differs from the request's: out follows refs. */
  assert_int_equal(vim_datastores_get(s, ds, 2, &out, &e), VIM_OK);
  sent(4, "<propSet><type>Datastore</type><pathSet>summary.name</pathSet>"
          "<pathSet>summary.url</pathSet></propSet><objectSet><obj type=\""
          "Datastore\">datastore-11</obj></objectSet><objectSet><obj type=\""
          "Datastore\">datastore-12</obj></objectSet>");
  assert_string_equal(out[0].ref.value, "datastore-11");
  assert_string_equal(out[0].name, "datastore1");
  assert_string_equal(out[0].url, "ds:///vmfs/volumes/5f1a2b3c-4d5e6f70-8192-"
                                  "a0b1c2d3e4f5/");
  assert_string_equal(out[1].name, "datastore2");
  free(out);
  assert_int_equal(vim_datastores_get(s, ds, 2, &out, &e), VIM_E_NOT_FOUND);
  assert_null(out);
  assert_int_equal(vim_datastores_get(s, ds, 0, &out, &e), VIM_E_INVALID_ARG);
  vim_session_free(s);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_vm_disks),
    cmocka_unit_test(test_snapshot_disks),
    cmocka_unit_test(test_rdm_disks),
    cmocka_unit_test(test_changed_areas),
    cmocka_unit_test(test_changed_areas_faults),
    cmocka_unit_test(test_change_tracking),
    cmocka_unit_test(test_generic_ticket),
    cmocka_unit_test(test_session_cookie),
    cmocka_unit_test(test_nfc_tickets),
    cmocka_unit_test(test_nfc_service_variants),
    cmocka_unit_test(test_vm_place),
    cmocka_unit_test(test_snapshot_vm_and_datastores),
  };

  return cmocka_run_group_tests(tests, setup, teardown);
}
