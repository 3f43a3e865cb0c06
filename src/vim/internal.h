/*
 * internal.h -- what the files of src/vim share, one section per file.
 *
 * Nothing here is used outside src/vim (and its tests).  The layering inside
 * the directory is: http.c moves bytes; xml.c turns bytes into a checked
 * tree; fault.c decodes faults; soap.c writes requests; call.c runs one SOAP
 * exchange (transport retries); session.c owns the session, its managers and
 * re-login (vim_invoke, vim_request); props.c, vm.c, search.c, methods.c,
 * task.c, disks.c, place.c, cbt.c and tickets.c are the vSphere calls, each
 * made through vim_request() or, with the lock held, vim_invoke().
 */
#ifndef FVX_VIM_INTERNAL_H
#define FVX_VIM_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "util/buf.h"
#include "util/tls.h"
#include "vim/vim.h"

#define VIM_NS_SOAPENV "http://schemas.xmlsoap.org/soap/envelope/"
#define VIM_NS_XSI "http://www.w3.org/2001/XMLSchema-instance"
#define VIM_NS_VIM25 "urn:vim25"
#define VIM_NS_INTERNAL "urn:internalvim25"
/* RetrieveInternalContent and the NfcService ticket calls: VDDK sends them
 * in urn:vim25 with the session's SOAPAction (reference/nfc.md §1; urn:nfc
 * also worked).  One place to change if a server wants otherwise. */
#define VIM_NS_NFC VIM_NS_VIM25

#define VIM_DEFAULT_CONNECT_TIMEOUT_MS 30000L
#define VIM_DEFAULT_TIMEOUT_MS 300000L
#define VIM_DEFAULT_RETRY_DEADLINE_MS 30000L
#define VIM_DEFAULT_MAX_BODY ((size_t)64 << 20)
#define VIM_DEFAULT_MAX_DEPTH 128u
#define VIM_DEFAULT_API_VERSION "7.0"
#define VIM_REQUEST_CAP ((size_t)16 << 20)

/* Formats err->detail and sets err->status; returns status.  err may be
 * NULL.  (status.c) */
int vim_fail(struct vim_error *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void vim_error_clear(struct vim_error *err);

/* ---- http.c: one POST on the session's keep-alive connection ------------ */

struct vim_http_result {
  long status;       /* HTTP status, 0 when none arrived */
  bool sent;         /* the request may have reached the server */
  bool transient;    /* reset, timeout, 503: worth another try */
};

/* POSTs body with the SOAPAction header.  The answer is in s->resp.  Returns
 * VIM_OK when an HTTP answer arrived (any status), else a transport
 * status with err filled. */
int vim_http_post(struct vim_session *s, const char *body, size_t len,
                  const char *soap_action, struct vim_http_result *res,
                  struct vim_error *err);

/* Creates the curl handle and options for s.  VIM_OK / NOMEM / INVALID_ARG. */
int vim_http_init(struct vim_session *s, struct vim_error *err);
void vim_http_cleanup(struct vim_session *s);

/* ---- xml.c: safe parsing and tree helpers -------------------------------- */

/* Parses len bytes (no DTD, no network, no entities, depth and size capped).
 * *out is freed with xmlFreeDoc.  VIM_OK, VIM_E_PROTOCOL, VIM_E_TOO_BIG or
 * VIM_E_NOMEM. */
int vim_xml_parse(const char *data, size_t len, size_t max_body,
                  unsigned max_depth, xmlDoc **out, struct vim_error *err);

/* The first element child of soapenv:Body after checking Envelope and Body
 * names and namespaces.  VIM_OK or VIM_E_PROTOCOL. */
int vim_xml_body(xmlDoc *doc, xmlNode **out, struct vim_error *err);

bool vim_xml_is(const xmlNode *n, const char *ns, const char *local);
xmlNode *vim_xml_child(const xmlNode *parent, const char *local);
xmlNode *vim_xml_next(const xmlNode *node, const char *local);
/* Copies the text content (cut to fit); "" for NULL.  Returns false when
 * cut. */
bool vim_xml_text(const xmlNode *n, char *out, size_t size);
/* malloc'd text content ("" for NULL); NULL on allocation failure. */
char *vim_xml_text_dup(const xmlNode *n);
/* xsi:type of n without its prefix; "" when absent. */
void vim_xml_xsi_type(const xmlNode *n, char *out, size_t size);
/* Overwrites the text of every text and CDATA node of doc (answers that
 * carried a secret, before xmlFreeDoc).  Strings libxml2 interned in its
 * dictionary (never longer than 3 bytes) are left alone.  Can't fail. */
void vim_xml_wipe(xmlDoc *doc);
/* Reads a MoRef element (type attribute + text).  False if malformed. */
bool vim_xml_moref(const xmlNode *n, struct vim_moref *out);
/* Text of the named child ("" when absent). */
void vim_xml_child_text(const xmlNode *parent, const char *local, char *out,
                        size_t size);
/* Copies the text of the named child into out, which must hold all of it:
 * false (out wiped) when it does not fit.  "" when absent. */
bool vim_xml_child_fits(const xmlNode *parent, const char *local, char *out,
                        size_t size);
/* The text of n as a number: xsd:long in [0, 2^63-1], resp. xsd:int.
 * Surrounding blanks are allowed, nothing else.  False (out unchanged) when
 * n is NULL or the text is not such a number. */
bool vim_xml_u63(const xmlNode *n, uint64_t *out);
bool vim_xml_i32(const xmlNode *n, int32_t *out);
/* xsd:boolean: true for "true" and "1"; false otherwise (NULL too). */
bool vim_xml_bool(const xmlNode *n);

/* ---- fault.c ------------------------------------------------------------- */

/* Decodes a soapenv:Fault element into f (zeroed first). */
void vim_fault_decode(const xmlNode *fault_el, struct vim_fault *f);
/* Decodes a LocalizedMethodFault (TaskInfo.error, missingSet.fault). */
void vim_fault_decode_localized(const xmlNode *lmf, struct vim_fault *f);
/* Kind of a fault type name. */
enum vim_fault_kind vim_fault_kind_of(const char *type);

/* ---- soap.c: request writer ---------------------------------------------- */

/* A request under construction; the first failing append makes err sticky
 * (VIM_E_NOMEM, VIM_E_TOO_BIG or VIM_E_INVALID_ARG for bad UTF-8 / control
 * characters) and later appends do nothing. */
struct vim_soap {
  struct fvx_buf b;
  int err;
  const char *bad;   /* element name of the first bad string */
};

void vim_soap_init(struct vim_soap *w);
void vim_soap_free(struct vim_soap *w);
void vim_soap_raw(struct vim_soap *w, const char *s);
/* <name>escaped text</name> */
void vim_soap_str(struct vim_soap *w, const char *name, const char *text);
void vim_soap_bool(struct vim_soap *w, const char *name, bool v);
void vim_soap_int(struct vim_soap *w, const char *name, long v);
/* <name type="T">value</name> */
void vim_soap_moref(struct vim_soap *w, const char *name,
                    const struct vim_moref *ref);
/* Wraps 'args' into a complete envelope calling method on this_ in ns. */
int vim_soap_envelope(struct vim_soap *out, const char *method,
                      const char *ns, const struct vim_moref *this_,
                      const char *args, size_t args_len);

/* ---- call.c: one SOAP exchange ------------------------------------------ */

enum vim_call_class {
  VIM_CALL_IDEMPOTENT, /* retried on transient failures and after re-login */
  VIM_CALL_ONCE,       /* creates something: retried only if never sent */
  VIM_CALL_LOGIN,      /* Login/Logout: never retried, never re-logs in */
};

/* Where a request goes: an object the caller names, or one the session
 * knows (resolved, and fetched once, by vim_invoke). */
enum vim_target {
  VIM_TO_OBJECT = 0,           /* vim_req.obj */
  VIM_TO_PROPERTY_COLLECTOR,
  VIM_TO_SESSION_MANAGER,
  VIM_TO_SEARCH_INDEX,
  VIM_TO_AUTHORIZATION_MANAGER,
  VIM_TO_TASK_MANAGER,
  VIM_TO_NFC_SERVICE,          /* RetrieveInternalContent's nfcService */
};

/* One request: what is called, and how the retry and session rules treat
 * it.  Usually a static const per call site. */
struct vim_req {
  const char *method;           /* NULL: vim_invoke only resolves 'to' */
  const char *ns;               /* NULL: urn:vim25 */
  enum vim_call_class cls;
  enum vim_target to;
  const struct vim_moref *obj;  /* VIM_TO_OBJECT: the object called */
  const char *own_source;       /* DisableMethods: after a transport retry,
                                   MethodAlreadyDisabledFault naming this
                                   source is the first attempt's success
                                   (VIM_OK with an empty reply) */
  bool scoped;                  /* success leaves session-scoped disables:
                                   mark the session (holds_scoped) */
  bool secret;                  /* the answer carries a secret (a ticket):
                                   the body and the tree are wiped */
};

struct vim_reply {
  xmlDoc *doc;
  xmlNode *result;     /* the <MethodResponse> element */
  bool secret;         /* wipe the tree before freeing it */
};

/* One exchange: calls rq->method on this_ with args (the XML of the
 * parameters after _this, may be NULL), retrying transient transport
 * failures as rq->cls allows.  No re-login: that is vim_invoke's.  On VIM_OK
 * *out holds the parsed answer (empty only in the own_source case): release
 * with vim_reply_free.  The session lock must be held. */
int vim_exchange(struct vim_session *s, const struct vim_req *rq,
                 const struct vim_moref *this_, const struct vim_soap *args,
                 struct vim_reply *out, struct vim_error *err);
/* Wipes (when secret) and frees; NULL and an empty reply are no-ops. */
void vim_reply_free(struct vim_reply *r);

/* ---- session.c ----------------------------------------------------------- */

#define VIM_SESSION_MAGIC 0x76696d73u /* "vims" */

struct vim_session {
  uint32_t magic;
  pthread_mutex_t lock;

  /* configuration (owned copies) */
  char *url;
  char *host;          /* for messages */
  bool plain_http;
  char *ca_file;       /* owned; tls.ca_file points here */
  long connect_timeout_ms, timeout_ms, retry_deadline_ms;
  size_t max_body;
  unsigned max_depth;
  unsigned page_size;
  char soap_action[64];
  char soap_action_internal[64];
  struct fvx_tls tls;   /* certificate policy (pin, CA file, insecure) */

  /* transport */
  void *curl;          /* CURL * */
  void *headers;       /* struct curl_slist * without the cookie */
  struct fvx_buf resp; /* body of the last answer */
  bool too_big;        /* the write callback hit max_body */
  char errbuf[256];    /* CURLOPT_ERRORBUFFER */
  bool ever_answered;  /* the server answered at least once */

  /* authentication (secrets wiped before free) */
  char *cookie;        /* vmware_soap_session value as the server sent it */
  char *user;
  char *password;      /* only when vim_login() was used */
  bool logged_in;      /* we logged in (and so may log out) */
  bool borrowed;       /* cookie from vim_use_cookie() */
  bool holds_scoped;
  char session_key[128];

  bool have_content;
  struct vim_service_content sc;
  struct vim_moref nfc_service; /* type "" until RetrieveInternalContent */
  struct vim_stats stats;
};

/* Checks s and takes its lock.  VIM_OK or VIM_E_INVALID_ARG. */
int vim_session_enter(struct vim_session *s, struct vim_error *err);
void vim_session_leave(struct vim_session *s);
/* ServiceContent with the lock held. */
int vim_content_locked(struct vim_session *s, struct vim_error *err);

/* Sends rq with the lock held: resolves its target (fetching the
 * ServiceContent or the NfcService once; VIM_E_NOT_FOUND when the server
 * has no such manager), runs vim_exchange(), and on a NotAuthenticated
 * fault of a session we logged into (not a borrowed cookie): with
 * session-scoped disables held, VIM_E_SESSION_LOST (err->fault keeps the
 * NotAuthenticated); otherwise logs in again once with the stored password
 * and repeats (a failed re-login is reported as such).  On success with
 * rq->scoped the session is marked.  *out as vim_exchange. */
int vim_invoke(struct vim_session *s, const struct vim_req *rq,
               const struct vim_soap *args, struct vim_reply *out,
               struct vim_error *err);

/* A whole call for the public functions: checks s, takes its lock, runs
 * vim_invoke(), releases the lock.  args (may be NULL) is consumed: freed,
 * wiped, in every case.  VIM_E_INVALID_ARG for a bad handle, else as
 * vim_invoke. */
int vim_request(struct vim_session *s, const struct vim_req *rq,
                struct vim_soap *args, struct vim_reply *out,
                struct vim_error *err);

/* Decodes a RetrieveInternalContent answer: its nfcService MoRef.  VIM_OK,
 * or VIM_E_NOT_FOUND when the answer names none (out unchanged).
 * (tickets.c) */
int vim_internal_content_decode(const xmlNode *result, struct vim_moref *out,
                                struct vim_error *err);

/* ---- props.c -------------------------------------------------------------- */

/* vim_retrieve with the lock held. */
int vim_retrieve_locked(struct vim_session *s, const struct vim_moref *objs,
                        size_t n_objs, const char *const *paths,
                        size_t n_paths, struct vim_objects **out,
                        struct vim_error *err);

/* Runs a RetrievePropertiesEx whose arguments the caller wrote (specSet and
 * options: traversals, several property sets), follows the paging token,
 * and decodes the values of 'paths' (the union of every pathSet) as
 * vim_retrieve does.  spec is consumed.  *out as vim_retrieve. */
int vim_collect_locked(struct vim_session *s, struct vim_soap *spec,
                       const char *const *paths, size_t n_paths,
                       struct vim_objects **out, struct vim_error *err);
/* The same, taking the lock. */
int vim_collect(struct vim_session *s, struct vim_soap *spec,
                const char *const *paths, size_t n_paths,
                struct vim_objects **out, struct vim_error *err);

/* Reads one property of one object and leaves the answer parsed: *val is
 * its <val> element inside *out (NULL when unset).  Release out with
 * vim_reply_free.  ManagedObjectNotFound for obj becomes VIM_E_NOT_FOUND
 * (err->fault kept).  vim_read_prop takes the lock; the _locked form
 * expects it held. */
int vim_read_prop(struct vim_session *s, const struct vim_moref *obj,
                  const char *path, struct vim_reply *out, xmlNode **val,
                  struct vim_error *err);
int vim_read_prop_locked(struct vim_session *s, const struct vim_moref *obj,
                         const char *path, struct vim_reply *out,
                         xmlNode **val, struct vim_error *err);

/* Decodes a RetrievePropertiesEx / Continue answer element into res
 * (appending); *token receives the paging token ("" when done).  Exposed
 * for the unit tests and the fuzzer.  VIM_OK, VIM_E_NOMEM or
 * VIM_E_PROTOCOL. */
int vim_props_decode(const xmlNode *result, const char *const *paths,
                     size_t n_paths, struct vim_objects *res, char *token,
                     size_t token_n, struct vim_error *err);

/* An empty result for paths, as vim_retrieve starts with (tests, fuzzers).
 * VIM_OK or VIM_E_NOMEM. */
int vim_props_test_new(const char *const *paths, size_t n,
                       struct vim_objects **out);

/* ---- task.c --------------------------------------------------------------- */

/* Calls a task-creating method on this_ (never repeated once sent),
 * consuming a, and reads the Task it returns into *out_task (may be NULL).
 * VIM_OK, VIM_E_PROTOCOL (no task in the answer) or the call's status. */
int vim_task_call(struct vim_session *s, const char *method,
                  const struct vim_moref *this_, struct vim_soap *a,
                  struct vim_moref *out_task, struct vim_error *err);

/* Decodes a TaskInfo element (the value of a Task's "info"). */
void vim_task_info_decode(const xmlNode *info, struct vim_task_info *out);

/* ---- disks.c, cbt.c, tickets.c: decoders (exposed for tests, fuzzers) ---- */

/* Decodes the value of config.hardware.device (an ArrayOfVirtualDevice; NULL
 * for unset) into the VirtualDisk devices.  *out / *n as vim_disks_get. */
int vim_disks_decode(const xmlNode *val, struct vim_disk **out, size_t *n,
                     struct vim_error *err);

/* Decodes a QueryChangedDiskAreas answer element (its DiskChangeInfo).  *out
 * as vim_query_changed_areas. */
int vim_changed_areas_decode(const xmlNode *result,
                             struct vim_changed_areas *out,
                             struct vim_error *err);

/* Decode the returnval of an answer element: a HostServiceTicket, resp. a
 * SessionManagerGenericServiceTicket.  Failure values as the calls; *out
 * wiped on failure. */
int vim_host_ticket_decode(const xmlNode *result, struct vim_host_ticket *out,
                           struct vim_error *err);
int vim_service_ticket_decode(const xmlNode *result,
                              struct vim_service_ticket *out,
                              struct vim_error *err);

/* Parses one complete HTTP answer body the way vim_exchange does, for tests and
 * fuzzers: http status, body -> status, fault, result element.  (call.c) */
int vim_parse_answer(const char *method, long http_status, const char *body,
                     size_t len, size_t max_body, unsigned max_depth,
                     struct vim_reply *out, struct vim_error *err);

#endif
