/*
 * test_vim_xml.c -- answer parsing, fault decoding and request writing on
 * recorded XML (tests/vim/data), including hostile input.
 */
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <libxml/xmlerror.h>

#include "testutil.h"
#include "util/log.h"
#include "util/tls.h"
#include "vim/internal.h"

static char *load(const char *name, size_t *len)
{
  const char *src = getenv("FREEVIX_SRCDIR");
  char path[4096];
  char *d;

  snprintf(path, sizeof path, "%s/tests/vim/data/%s", src ? src : ".", name);
  d = fvx_test_read_file(path, len);
  if (!d)
    fail_msg("cannot read %s", path);
  return d;
}

/* Parses a recorded answer as method's, with default limits. */
static int parse(const char *file, const char *method, long http,
                 struct vim_reply *r, struct vim_error *e)
{
  size_t len;
  char *d = load(file, &len);
  int rc = vim_parse_answer(method, http, d, len, VIM_DEFAULT_MAX_BODY,
                            VIM_DEFAULT_MAX_DEPTH, r, e);

  free(d);
  return rc;
}

static void fault_case(const char *file, enum vim_fault_kind kind,
                       const char *type, struct vim_error *e)
{
  struct vim_reply r;

  assert_int_equal(parse(file, "DisableMethods", 500, &r, e), VIM_E_FAULT);
  assert_null(r.doc);
  assert_int_equal(e->fault.kind, kind);
  assert_string_equal(e->fault.type, type);
  assert_null(strchr(e->detail, '\n'));
}

static void test_faults(void **state)
{
  struct vim_error e;

  (void)state;
  fault_case("fault_method_already_disabled.xml",
             VIM_FAULT_METHOD_ALREADY_DISABLED, "MethodAlreadyDisabledFault", &e);
  assert_string_equal(e.fault.source, "com.vmware.vcenter.svmotion");
  assert_string_equal(e.fault.message, "The method is already disabled");

  fault_case("fault_method_disabled.xml", VIM_FAULT_METHOD_DISABLED,
             "MethodDisabled", &e);
  assert_string_equal(e.fault.source, "backup <1> \xc3\xa9");
  assert_string_equal(e.fault.message, "The method is disabled by 'backup <1>'");

  fault_case("fault_no_permission.xml", VIM_FAULT_NO_PERMISSION,
             "NoPermission", &e);
  assert_string_equal(e.fault.privilege, "Global.DisableMethods");
  assert_string_equal(e.fault.object, "Folder:group-d1");

  fault_case("fault_no_permission_v8.xml", VIM_FAULT_NO_PERMISSION,
             "NoPermission", &e);
  assert_string_equal(e.fault.privilege, "Global.EnableMethods");
  assert_string_equal(e.fault.object, "Folder:group-d1");

  fault_case("fault_prefixed.xml", VIM_FAULT_NO_PERMISSION, "NoPermission", &e);
  assert_string_equal(e.fault.privilege, "Global.EnableMethods");
  assert_string_equal(e.fault.object, "Folder:group-d1");

  fault_case("fault_no_xsi_type.xml", VIM_FAULT_METHOD_ALREADY_DISABLED,
             "MethodAlreadyDisabledFault", &e);
  assert_string_equal(e.fault.source, "holder");

  fault_case("fault_invalid_login.xml", VIM_FAULT_INVALID_LOGIN,
             "InvalidLogin", &e);
  fault_case("fault_not_authenticated.xml", VIM_FAULT_NOT_AUTHENTICATED,
             "NotAuthenticated", &e);
  assert_string_equal(e.fault.privilege, "System.View");
  fault_case("fault_mo_not_found.xml", VIM_FAULT_MANAGED_OBJECT_NOT_FOUND,
             "ManagedObjectNotFound", &e);
  assert_string_equal(e.fault.object, "VirtualMachine:vm-99");
  fault_case("fault_invalid_argument.xml", VIM_FAULT_INVALID_ARGUMENT,
             "InvalidArgument", &e);
  assert_string_equal(e.fault.object, "spec.datastore");
  fault_case("fault_not_supported.xml", VIM_FAULT_NOT_SUPPORTED,
             "NotSupported", &e);
  fault_case("fault_method_not_found.xml", VIM_FAULT_METHOD_NOT_FOUND,
             "MethodNotFound", &e);
  assert_string_equal(e.fault.object, "AuthorizationManager:ha-authmgr");
  assert_string_equal(e.fault.source, "DisableMethods");
  fault_case("fault_not_implemented.xml", VIM_FAULT_NOT_IMPLEMENTED,
             "NotImplemented", &e);
  fault_case("fault_unknown_type.xml", VIM_FAULT_OTHER, "FooBar", &e);
  fault_case("fault_no_detail.xml", VIM_FAULT_OTHER, "Client", &e);
  assert_string_equal(e.fault.message, "Unable to parse request");
  /* A fault with HTTP 200 is still a fault. */
  {
    struct vim_reply r;

    assert_int_equal(parse("fault_invalid_login.xml", "Login", 200, &r, &e),
                     VIM_E_FAULT);
  }
}

static void test_service_content_and_ok(void **state)
{
  struct vim_reply r;
  struct vim_error e;
  xmlNode *rv;
  char buf[64];

  (void)state;
  assert_int_equal(parse("service_content.xml", "RetrieveServiceContent", 200,
                         &r, &e), VIM_OK);
  rv = vim_xml_child(r.result, "returnval");
  vim_xml_child_text(vim_xml_child(rv, "about"), "apiType", buf, sizeof buf);
  assert_string_equal(buf, "VirtualCenter");
  vim_reply_free(&r);
  vim_reply_free(&r); /* twice is harmless */
  assert_int_equal(parse("disable_ok.xml", "DisableMethods", 200, &r, &e),
                   VIM_OK);
  vim_reply_free(&r);
}

static void test_props(void **state)
{
  static const char *const paths[] = {"name", "disabledMethod", "runtime.host",
                                      "datastore", "summary", "config.uuid"};
  struct vim_objects *res = NULL;
  struct vim_reply r;
  struct vim_error e;
  struct vim_moref m;
  const struct vim_object *o;
  const struct vim_prop *p;
  char token[256];
  int rc;

  (void)state;
  /* An answer without returnval decodes to nothing. */
  assert_int_equal(parse("props_empty.xml", "RetrievePropertiesEx", 200, &r,
                         &e), VIM_OK);
  vim_reply_free(&r);
  /* Page 1 (with a token) and page 2 accumulate in one result. */
  res = NULL;
  rc = vim_props_test_new(paths, 6, &res);
  assert_int_equal(rc, VIM_OK);
  assert_int_equal(parse("props_page1.xml", "RetrievePropertiesEx", 200, &r,
                         &e), VIM_OK);
  assert_int_equal(vim_props_decode(r.result, paths, 6, res, token,
                                    sizeof token, &e), VIM_OK);
  vim_reply_free(&r);
  assert_string_equal(token, "tok-1");
  assert_int_equal(parse("props_page2.xml", "ContinueRetrievePropertiesEx",
                         200, &r, &e), VIM_OK);
  assert_int_equal(vim_props_decode(r.result, paths, 6, res, token,
                                    sizeof token, &e), VIM_OK);
  vim_reply_free(&r);
  assert_string_equal(token, "");
  assert_int_equal(res->n, 4);

  assert_true(vim_moref_set(&m, "VirtualMachine", "vm-42"));
  o = vim_objects_find(res, &m);
  assert_non_null(o);
  assert_false(o->missing);
  p = vim_object_prop(o, "name");
  assert_int_equal(p->kind, VIM_PROP_STRING);
  assert_string_equal(p->str, "web & db <01>");
  p = vim_object_prop(o, "disabledMethod");
  assert_int_equal(p->kind, VIM_PROP_STRINGS);
  assert_int_equal(p->n, 2);
  assert_string_equal(p->strs[1], "RelocateVM_Task");
  p = vim_object_prop(o, "runtime.host");
  assert_int_equal(p->kind, VIM_PROP_MOREF);
  assert_string_equal(p->morefs[0].value, "host-10");
  p = vim_object_prop(o, "datastore");
  assert_int_equal(p->kind, VIM_PROP_MOREFS);
  assert_int_equal(p->n, 2);
  assert_string_equal(p->morefs[1].value, "datastore-12");
  assert_int_equal(vim_object_prop(o, "summary")->kind, VIM_PROP_OTHER);
  assert_int_equal(vim_object_prop(o, "config.uuid")->kind, VIM_PROP_UNSET);
  assert_null(vim_object_prop(o, "nope"));

  assert_true(vim_moref_set(&m, "VirtualMachine", "vm-43"));
  o = vim_objects_find(res, &m);
  assert_int_equal(vim_object_prop(o, "disabledMethod")->n, 1);
  assert_true(vim_moref_set(&m, "VirtualMachine", "vm-44"));
  o = vim_objects_find(res, &m);
  assert_int_equal(vim_object_prop(o, "datastore")->kind, VIM_PROP_UNSET);
  assert_true(vim_moref_set(&m, "VirtualMachine", "vm-45"));
  o = vim_objects_find(res, &m);
  assert_true(o->missing);
  vim_objects_free(res);
  vim_objects_free(NULL);
}

static void test_task_info(void **state)
{
  struct vim_reply r;
  struct vim_error e;
  struct vim_task_info ti;
  xmlNode *val;

  (void)state;
  assert_int_equal(parse("task_info_error.xml", "RetrievePropertiesEx", 200, &r,
                         &e), VIM_OK);
  val = vim_xml_child(vim_xml_child(vim_xml_child(vim_xml_child(r.result,
        "returnval"), "objects"), "propSet"), "val");
  vim_task_info_decode(val, &ti);
  vim_reply_free(&r);
  assert_int_equal(ti.state, VIM_TASK_ERROR);
  assert_int_equal(ti.progress, 42);
  assert_string_equal(ti.description_id, "VirtualMachine.relocate");
  assert_string_equal(ti.entity.value, "vm-42");
  assert_int_equal(ti.fault.kind, VIM_FAULT_INVALID_ARGUMENT);
  assert_string_equal(ti.fault.object, "spec.datastore");
  assert_non_null(strstr(ti.fault.message, "not correct"));

  assert_int_equal(parse("task_info_success.xml", "RetrievePropertiesEx", 200,
                         &r, &e), VIM_OK);
  val = vim_xml_child(vim_xml_child(vim_xml_child(vim_xml_child(r.result,
        "returnval"), "objects"), "propSet"), "val");
  vim_task_info_decode(val, &ti);
  vim_reply_free(&r);
  assert_int_equal(ti.state, VIM_TASK_SUCCESS);
  assert_string_equal(ti.result.type, "VirtualMachineSnapshot");
  assert_string_equal(ti.result.value, "snapshot-9");
  vim_task_info_decode(NULL, &ti);
  assert_int_equal(ti.state, VIM_TASK_UNKNOWN);
}

static void expect(const char *file, long http, int status)
{
  struct vim_reply r;
  struct vim_error e;

  assert_int_equal(parse(file, "RetrievePropertiesEx", http, &r, &e), status);
  assert_null(r.doc);
  assert_string_not_equal(e.detail, "");
  assert_null(strchr(e.detail, '\n'));
  assert_null(strstr(e.detail, "root:")); /* /etc/passwd never read */
}

static void test_hostile(void **state)
{
  (void)state;
  expect("xxe.xml", 200, VIM_E_PROTOCOL);
  expect("xxe.xml", 500, VIM_E_HTTP);
  expect("billion_laughs.xml", 200, VIM_E_PROTOCOL);
  expect("undeclared_entity.xml", 200, VIM_E_PROTOCOL);
  expect("html.html", 200, VIM_E_PROTOCOL);
  expect("html_nodoctype.html", 200, VIM_E_PROTOCOL);
  expect("html_nodoctype.html", 503, VIM_E_HTTP);
  expect("html_nodoctype.html", 500, VIM_E_HTTP);
  expect("truncated.xml", 200, VIM_E_PROTOCOL);
  expect("wrong_ns_body.xml", 200, VIM_E_PROTOCOL);
  expect("wrong_ns_envelope.xml", 200, VIM_E_PROTOCOL);
  expect("wrong_method.xml", 200, VIM_E_PROTOCOL);
  expect("service_content.xml", 503, VIM_E_HTTP);
}

static void test_generated(void **state)
{
  struct vim_reply r;
  struct vim_error e;
  struct fvx_buf b;
  static const char head[] =
      "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/"
      "envelope/\"><soapenv:Body><XResponse xmlns=\"urn:vim25\">";

  (void)state;
  /* Empty body. */
  assert_int_equal(vim_parse_answer("X", 200, "", 0, 100, 10, &r, &e),
                   VIM_E_PROTOCOL);
  assert_non_null(strstr(e.detail, "empty"));
  /* Over the size cap: refused before parsing. */
  assert_int_equal(vim_parse_answer("X", 200, head, sizeof head - 1, 10, 10,
                                    &r, &e), VIM_E_TOO_BIG);
  /* Deep nesting beyond our limit, then beyond libxml2's own. */
  for (int depth = 100; depth <= 100000; depth *= 1000) {
    fvx_buf_init(&b, 64 << 20);
    assert_int_equal(fvx_buf_puts(&b, head), 0);
    for (int i = 0; i < depth; i++)
      assert_int_equal(fvx_buf_puts(&b, "<a>"), 0);
    for (int i = 0; i < depth; i++)
      assert_int_equal(fvx_buf_puts(&b, "</a>"), 0);
    assert_int_equal(fvx_buf_puts(&b, "</XResponse></soapenv:Body>"
                                      "</soapenv:Envelope>"), 0);
    assert_int_equal(vim_parse_answer("X", 200, b.data, b.len, 64 << 20, 64,
                                      &r, &e), VIM_E_TOO_BIG);
    fvx_buf_free(&b);
  }
  /* Shallow enough passes. */
  fvx_buf_init(&b, 1 << 20);
  fvx_buf_puts(&b, head);
  fvx_buf_puts(&b, "<returnval><a><b/></a></returnval></XResponse>"
                   "</soapenv:Body></soapenv:Envelope>");
  assert_int_equal(vim_parse_answer("X", 200, b.data, b.len, 1 << 20, 8, &r,
                                    &e), VIM_OK);
  vim_reply_free(&r);
  fvx_buf_free(&b);
  /* Invalid UTF-8 in text. */
  fvx_buf_init(&b, 1 << 20);
  fvx_buf_puts(&b, head);
  fvx_buf_puts(&b, "<returnval>\xc3\x28 \xff\xfe</returnval></XResponse>"
                   "</soapenv:Body></soapenv:Envelope>");
  assert_int_equal(vim_parse_answer("X", 200, b.data, b.len, 1 << 20, 8, &r,
                                    &e), VIM_E_PROTOCOL);
  fvx_buf_free(&b);
  /* Not XML at all, and binary junk with NULs. */
  assert_int_equal(vim_parse_answer("X", 200, "Service Unavailable", 19,
                                    1 << 20, 8, &r, &e), VIM_E_PROTOCOL);
  assert_int_equal(vim_parse_answer("X", 200, "<\0\0\x01>", 5, 1 << 20, 8, &r,
                                    &e), VIM_E_PROTOCOL);
  /* A SOAP body without any element. */
  {
    static const char emp[] =
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/"
        "envelope/\"><soapenv:Body/></soapenv:Envelope>";

    assert_int_equal(vim_parse_answer("X", 200, emp, sizeof emp - 1, 1 << 20,
                                      8, &r, &e), VIM_E_PROTOCOL);
  }
}

static void test_soap_writer(void **state)
{
  struct vim_soap a, env;
  struct vim_moref m, am;
  const char *ident = "a<b&\"c' \xc3\xa9";

  (void)state;
  vim_soap_init(&a);
  assert_true(vim_moref_set(&m, "VirtualMachine", "vm-42"));
  vim_soap_moref(&a, "entity", &m);
  vim_soap_str(&a, "sourceId", ident);
  vim_soap_bool(&a, "sessionScope", true);
  assert_int_equal(a.err, VIM_OK);
  assert_non_null(strstr(a.b.data, "<entity type=\"VirtualMachine\">vm-42"
                                   "</entity>"));
  assert_non_null(strstr(a.b.data, "<sourceId>a&lt;b&amp;&quot;c&apos; "
                                   "\xc3\xa9</sourceId>"));
  vim_soap_init(&env);
  assert_true(vim_moref_set(&am, "AuthorizationManager", "AuthorizationManager"));
  assert_int_equal(vim_soap_envelope(&env, "DisableMethods", VIM_NS_INTERNAL,
                                     &am, a.b.data, a.b.len), VIM_OK);
  assert_non_null(strstr(env.b.data, "<DisableMethods xmlns=\"urn:internalvim25"
                                     "\"><_this type=\"AuthorizationManager\">"
                                     "AuthorizationManager</_this><entity"));
  /* The request is well-formed and the identity decodes intact. */
  {
    xmlDoc *doc;
    xmlNode *body;
    struct vim_error e;
    char txt[64];

    assert_int_equal(vim_xml_parse(env.b.data, env.b.len, 1 << 20, 16, &doc,
                                   &e), VIM_OK);
    assert_int_equal(vim_xml_body(doc, &body, &e), VIM_OK);
    assert_true(vim_xml_is(body, VIM_NS_INTERNAL, "DisableMethods"));
    vim_xml_child_text(body, "sourceId", txt, sizeof txt);
    assert_string_equal(txt, ident);
    assert_true(vim_xml_is(vim_xml_child(body, "sourceId"), VIM_NS_INTERNAL,
                           NULL));
    xmlFreeDoc(doc);
  }
  vim_soap_free(&env);
  vim_soap_free(&a);

  /* Bad strings make the writer's error sticky. */
  vim_soap_init(&a);
  vim_soap_str(&a, "sourceId", "bad\xc3");
  assert_int_equal(a.err, VIM_E_INVALID_ARG);
  assert_string_equal(a.bad, "sourceId");
  vim_soap_str(&a, "other", "fine");
  assert_int_equal(a.err, VIM_E_INVALID_ARG);
  vim_soap_free(&a);
  vim_soap_init(&a);
  vim_soap_str(&a, "x", "ctl\x01");
  assert_int_equal(a.err, VIM_E_INVALID_ARG);
  vim_soap_free(&a);
}

static void test_misc(void **state)
{
  struct vim_moref m;
  struct fvx_pin pin;
  char hex[100];

  (void)state;
  assert_int_equal(vim_moref_parse(&m, "VirtualMachine:vm-42"), VIM_OK);
  assert_string_equal(m.type, "VirtualMachine");
  assert_string_equal(m.value, "vm-42");
  assert_int_equal(vim_moref_parse(&m, "vm-42"), VIM_E_INVALID_ARG);
  assert_int_equal(vim_moref_parse(&m, ":x"), VIM_E_INVALID_ARG);
  assert_int_equal(vim_moref_parse(&m, "T:"), VIM_E_INVALID_ARG);
  assert_false(vim_moref_set(&m, "", "x"));
  assert_int_equal(fvx_pin_parse(&pin, "ab:CD:ef:01:23:45:67:89:ab:cd:ef:01:"
                                      "23:45:67:89:ab:cd:ef:01"), 0);
  assert_int_equal(pin.len, 20);
  fvx_hex_colon(hex, sizeof hex, pin.digest, pin.len);
  assert_string_equal(hex, "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:"
                           "AB:CD:EF:01");
  assert_int_equal(fvx_pin_parse(&pin, "abcd"), -1);
  assert_int_equal(fvx_pin_parse(&pin, "a:bcd"), -1);
  assert_int_equal(fvx_pin_parse(&pin, "zz"), -1);
  for (int st = VIM_OK; st <= VIM_E_DEADLINE; st++)
    assert_string_not_equal(vim_status_str(st), "unknown vim status");
  assert_string_equal(vim_status_str(999), "unknown vim status");
  assert_int_equal(vim_fault_kind_of("TaskInProgress"), VIM_FAULT_INVALID_STATE);
  /* NULL handles are refused, not followed. */
  {
    struct vim_error e;
    struct vim_stats st;

    assert_int_equal(vim_login(NULL, "u", "p", &e), VIM_E_INVALID_ARG);
    assert_false(vim_session_is_vcenter(NULL));
    vim_session_stats(NULL, &st);
    assert_int_equal(st.requests, 0);
    assert_int_equal(vim_session_new(NULL, NULL, &e), VIM_E_INVALID_ARG);
  }
}

static int libxml2_lines;
static void count_sink(void *opaque, enum fvx_log_level level,
                       const char *msg)
{
  (void)opaque;
  if (level == FVX_LOG_DEBUG && strstr(msg, "libxml2"))
    __atomic_add_fetch(&libxml2_lines, 1, __ATOMIC_RELAXED);
}

static int host_calls;
static void host_handler(void *ctx, xmlErrorPtr e)
{
  (void)ctx;
  (void)e;
  host_calls++;
}

/* Answers that make libxml2 complain: a declared encoding whose bytes do
 * not convert (encoding and I/O errors, raised without a parser context),
 * and plain well-formedness errors. */
static void *parse_noisy(void *arg)
{
  static const char *const files[] = {"bad_encoding.xml", "truncated.xml",
                                      "undeclared_entity.xml"};
  struct vim_reply r;
  struct vim_error e;

  (void)arg;
  for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
    assert_int_equal(parse(files[i], "RetrievePropertiesEx", 200, &r, &e),
                     VIM_E_PROTOCOL);
    assert_null(strchr(e.detail, '\n'));
  }
  return NULL;
}

/* libxml2 never writes to the host program's stderr: its messages go to
 * our log at debug level, on the main thread and on others, and a handler
 * the host installed on its thread is back in place afterwards. */
static void test_libxml2_quiet(void **state)
{
  const char *dir = fvx_test_tmpdir();
  char path[4096];
  struct stat st;
  pthread_t t;
  int saved, fd, host_ctx;

  (void)state;
  snprintf(path, sizeof path, "%s/stderr", dir);
  fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
  assert_true(fd >= 0);
  fflush(stderr);
  saved = dup(2);
  assert_true(saved >= 0);
  assert_int_equal(dup2(fd, 2), 2);
  fvx_log_set_sink(count_sink, NULL);
  fvx_log_set_level(FVX_LOG_DEBUG);
  xmlSetStructuredErrorFunc(&host_ctx, host_handler);

  parse_noisy(NULL);
  assert_int_equal(pthread_create(&t, NULL, parse_noisy, NULL), 0);
  assert_int_equal(pthread_join(t, NULL), 0);

  assert_ptr_equal(xmlStructuredError, host_handler);
  assert_ptr_equal(xmlStructuredErrorContext, &host_ctx);
  assert_int_equal(host_calls, 0);
  xmlSetStructuredErrorFunc(NULL, NULL);
  fvx_log_set_sink(NULL, NULL);
  fvx_log_set_level(FVX_LOG_INFO);
  fflush(stderr);
  assert_int_equal(dup2(saved, 2), 2);
  close(saved);
  assert_int_equal(fstat(fd, &st), 0);
  close(fd);
  if (st.st_size != 0) {
    char *text = fvx_test_read_file(path, NULL);

    fail_msg("libxml2 wrote %lld bytes to stderr: %s", (long long)st.st_size,
             text ? text : "?");
  }
  fvx_test_rmtree(dir);
  assert_true(libxml2_lines > 0);
}

/* Answers that carried a secret are wiped before they are freed. */
static void test_wipe(void **state)
{
  static const char doc_text[] =
      "<a><sessionId>52-s3cr3t-ticket</sessionId><b><![CDATA[cdata-s3cr3t]]>"
      "</b><c x=\"attr\">ab</c></a>";
  xmlDoc *doc;
  struct vim_error e;
  xmlNode *root, *sid, *b;

  (void)state;
  assert_int_equal(vim_xml_parse(doc_text, sizeof doc_text - 1, 1 << 20, 16,
                                 &doc, &e), VIM_OK);
  root = xmlDocGetRootElement(doc);
  sid = vim_xml_child(root, "sessionId");
  b = vim_xml_child(root, "b");
  vim_xml_wipe(doc);
  assert_int_equal(sid->children->content[0], '\0');
  assert_int_equal(b->children->content[0], '\0');
  xmlFreeDoc(doc);
  vim_xml_wipe(NULL);
}

/* The numbers answers carry, read strictly. */
static void test_numbers(void **state)
{
  static const char doc_text[] =
      "<a><n> 42 </n><big>9223372036854775807</big>"
      "<over>9223372036854775808</over><neg>-5</neg><bad>4x</bad><e></e>"
      "<i>-2147483648</i><io>2147483648</io><t>true</t><t1> 1 </t1>"
      "<f>truex</f></a>";
  xmlDoc *doc;
  xmlNode *a;
  struct vim_error e;
  uint64_t v = 7;
  int32_t k = 7;

  (void)state;
  assert_int_equal(vim_xml_parse(doc_text, sizeof doc_text - 1, 1 << 20, 16,
                                 &doc, &e), VIM_OK);
  a = xmlDocGetRootElement(doc);
  assert_true(vim_xml_u63(vim_xml_child(a, "n"), &v));
  assert_int_equal(v, 42);
  assert_true(vim_xml_u63(vim_xml_child(a, "big"), &v));
  assert_true(v == (uint64_t)INT64_MAX);
  v = 7;
  assert_false(vim_xml_u63(vim_xml_child(a, "over"), &v));
  assert_false(vim_xml_u63(vim_xml_child(a, "neg"), &v));
  assert_false(vim_xml_u63(vim_xml_child(a, "bad"), &v));
  assert_false(vim_xml_u63(vim_xml_child(a, "e"), &v));
  assert_false(vim_xml_u63(NULL, &v));
  assert_int_equal(v, 7);
  assert_true(vim_xml_i32(vim_xml_child(a, "neg"), &k));
  assert_int_equal(k, -5);
  assert_true(vim_xml_i32(vim_xml_child(a, "i"), &k));
  assert_true(k == INT32_MIN);
  assert_false(vim_xml_i32(vim_xml_child(a, "io"), &k));
  assert_true(vim_xml_bool(vim_xml_child(a, "t")));
  assert_true(vim_xml_bool(vim_xml_child(a, "t1")));
  assert_false(vim_xml_bool(vim_xml_child(a, "f")));
  assert_false(vim_xml_bool(NULL));
  xmlFreeDoc(doc);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_faults),
    cmocka_unit_test(test_service_content_and_ok),
    cmocka_unit_test(test_props),
    cmocka_unit_test(test_task_info),
    cmocka_unit_test(test_hostile),
    cmocka_unit_test(test_generated),
    cmocka_unit_test(test_soap_writer),
    cmocka_unit_test(test_misc),
    cmocka_unit_test(test_libxml2_quiet),
    cmocka_unit_test(test_wipe),
    cmocka_unit_test(test_numbers),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
