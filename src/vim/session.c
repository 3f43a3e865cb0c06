/*
 * session.c -- the session object: configuration, login, cookie, the
 * managers it talks to, and the re-login rule.
 *
 * A session is created without traffic; the first call fetches the
 * ServiceContent (cached for the session's life) because every other call
 * needs one of its manager MoRefs, and the first NFC call the internal
 * content's NfcService likewise.  Authentication is either vim_login() (we
 * own the vCenter session: we may log in again when it expires, and we log
 * it out when freed) or vim_use_cookie() (someone else's session, e.g.
 * VDDK's SESSIONID credentials: never logged out, never re-logged in).
 *
 * Every vSphere call except the three that need no session
 * (RetrieveServiceContent, Login, Logout) goes through vim_invoke(): it
 * resolves the request's target, runs one vim_exchange() (call.c, which
 * retries the transport), and on a NotAuthenticated fault logs in again
 * once and repeats -- unless the session holds session-scoped disables,
 * which died with it (VIM_E_SESSION_LOST).  Re-login itself uses
 * vim_exchange() directly, so nothing here calls back into vim_invoke().
 * vim_request() wraps vim_invoke() in the session lock for the public
 * calls of the other files.
 *
 * Every public function takes the session mutex for its whole duration; the
 * *_locked helpers assume it is held.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/mem.h"
#include "util/text.h"
#include "vim/internal.h"

/* The root object every server has, asked for its contents. */
static const struct vim_moref service_instance = {"ServiceInstance",
                                                  "ServiceInstance"};

int vim_session_enter(struct vim_session *s, struct vim_error *err)
{
  vim_error_clear(err);
  if (!s || s->magic != VIM_SESSION_MAGIC)
    return vim_fail(err, VIM_E_INVALID_ARG, "invalid vim session handle");
  pthread_mutex_lock(&s->lock);
  return VIM_OK;
}

void vim_session_leave(struct vim_session *s)
{
  pthread_mutex_unlock(&s->lock);
}

/* Builds s->url and s->host from opts.  VIM_OK, NOMEM or INVALID_ARG. */
static int make_url(struct vim_session *s, const struct vim_options *o,
                    struct vim_error *err)
{
  const char *h = o->host, *path = o->path ? o->path : "/sdk";
  char url[1024];
  char host[300];
  unsigned port;
  int n;

  if (strncmp(h, "https://", 8) == 0) {
    h += 8;
  } else if (strncmp(h, "http://", 7) == 0) {
    if (!o->allow_http)
      return vim_fail(err, VIM_E_INVALID_ARG,
                      "plain http:// to %s refused: the allow_http option is "
                      "off", h + 7);
    h += 7;
    s->plain_http = true;
  }
  if (!*h || strlen(h) >= sizeof host - 2 || strpbrk(h, "/?#@ \t\r\n"))
    return vim_fail(err, VIM_E_INVALID_ARG, "invalid server name");
  if (path[0] != '/' || strpbrk(path, " \t\r\n?#"))
    return vim_fail(err, VIM_E_INVALID_ARG, "invalid SDK path");
  /* A bare IPv6 literal needs brackets in a URL. */
  if (strchr(h, ':') && h[0] != '[')
    snprintf(host, sizeof host, "[%s]", h);
  else
    snprintf(host, sizeof host, "%s", h);
  port = o->port ? o->port : (s->plain_http ? 80 : 443);
  if (port > 65535)
    return vim_fail(err, VIM_E_INVALID_ARG, "invalid port %u", port);
  n = snprintf(url, sizeof url, "%s://%s:%u%s",
               s->plain_http ? "http" : "https", host, port, path);
  if (n < 0 || (size_t)n >= sizeof url)
    return vim_fail(err, VIM_E_INVALID_ARG, "server URL too long");
  s->url = strdup(url);
  s->host = strdup(host);
  if (!s->url || !s->host)
    return vim_fail(err, VIM_E_NOMEM, "out of memory");
  return VIM_OK;
}

int vim_session_new(struct vim_session **out, const struct vim_options *o,
                    struct vim_error *err)
{
  struct vim_session *s;
  const char *ver;
  int rc;

  vim_error_clear(err);
  if (!out)
    return vim_fail(err, VIM_E_INVALID_ARG, "out is NULL");
  *out = NULL;
  if (!o || !o->host)
    return vim_fail(err, VIM_E_INVALID_ARG, "no server given");
  s = calloc(1, sizeof *s);
  if (!s)
    return vim_fail(err, VIM_E_NOMEM, "out of memory");
  pthread_mutex_init(&s->lock, NULL);
  s->magic = VIM_SESSION_MAGIC;
  s->tls.insecure = o->insecure;
  s->connect_timeout_ms =
      o->connect_timeout_ms > 0 ? o->connect_timeout_ms
                                : VIM_DEFAULT_CONNECT_TIMEOUT_MS;
  s->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : VIM_DEFAULT_TIMEOUT_MS;
  s->retry_deadline_ms = o->retry_deadline_ms ? o->retry_deadline_ms
                                              : VIM_DEFAULT_RETRY_DEADLINE_MS;
  s->max_body = o->max_body_bytes ? o->max_body_bytes : VIM_DEFAULT_MAX_BODY;
  s->max_depth = o->max_depth ? o->max_depth : VIM_DEFAULT_MAX_DEPTH;
  s->page_size = o->page_size;
  ver = o->api_version ? o->api_version : VIM_DEFAULT_API_VERSION;
  if (strlen(ver) > 20 || strpbrk(ver, " \t\r\n\"")) {
    rc = vim_fail(err, VIM_E_INVALID_ARG, "invalid API version");
    goto fail;
  }
  snprintf(s->soap_action, sizeof s->soap_action, "\"urn:vim25/%s\"", ver);
  snprintf(s->soap_action_internal, sizeof s->soap_action_internal,
           "\"urn:internalvim25/%s\"", ver);
  rc = make_url(s, o, err);
  if (rc != VIM_OK)
    goto fail;
  if (o->thumbprint && *o->thumbprint &&
      fvx_pin_parse(&s->tls.pin, o->thumbprint) != 0) {
    rc = vim_fail(err, VIM_E_INVALID_ARG,
                  "thumbprint is not SHA-1 or SHA-256 hex (AB:CD:...)");
    goto fail;
  }
  if (o->ca_file) {
    s->ca_file = strdup(o->ca_file);
    s->tls.ca_file = s->ca_file;
    if (!s->ca_file) {
      rc = vim_fail(err, VIM_E_NOMEM, "out of memory");
      goto fail;
    }
  }
  s->tls.peer = s->host;
  s->tls.handshakes = &s->stats.tls_handshakes;
  rc = vim_http_init(s, err);
  if (rc != VIM_OK)
    goto fail;
  *out = s;
  return VIM_OK;
fail:
  vim_session_free(s);
  return rc;
}

static void forget_auth(struct vim_session *s)
{
  fvx_free_secret(s->cookie);
  fvx_free_secret(s->password);
  fvx_free_secret(s->user);
  s->cookie = s->password = s->user = NULL;
  s->logged_in = s->borrowed = s->holds_scoped = false;
  s->session_key[0] = '\0';
}

void vim_session_free(struct vim_session *s)
{
  if (!s || s->magic != VIM_SESSION_MAGIC)
    return;
  if (s->logged_in && !s->borrowed && s->curl) {
    struct vim_error e;

    /* Best effort: a failed logout leaves an idle session on the server
     * that expires on its own. */
    if (vim_logout(s, &e) != VIM_OK)
      fvx_debug("vim: logout from %s failed: %s", s->host, e.detail);
  }
  s->magic = 0;
  forget_auth(s);
  vim_http_cleanup(s);
  free(s->url);
  free(s->host);
  free(s->ca_file);
  pthread_mutex_destroy(&s->lock);
  fvx_wipe(s, sizeof *s);
  free(s);
}

static void content_moref(xmlNode *rv, const char *name, struct vim_moref *o)
{
  if (!vim_xml_moref(vim_xml_child(rv, name), o))
    memset(o, 0, sizeof *o);
}

int vim_content_locked(struct vim_session *s, struct vim_error *err)
{
  static const struct vim_req content_req = {
    .method = "RetrieveServiceContent", .cls = VIM_CALL_IDEMPOTENT};
  struct vim_reply r;
  struct vim_service_content *c = &s->sc;
  xmlNode *rv, *about;
  int rc;

  if (s->have_content)
    return VIM_OK;
  rc = vim_exchange(s, &content_req, &service_instance, NULL, &r, err);
  if (rc != VIM_OK)
    return rc;
  rv = vim_xml_child(r.result, "returnval");
  about = vim_xml_child(rv, "about");
  memset(c, 0, sizeof *c);
  vim_xml_child_text(about, "apiType", c->api_type, sizeof c->api_type);
  vim_xml_child_text(about, "apiVersion", c->api_version,
                     sizeof c->api_version);
  vim_xml_child_text(about, "instanceUuid", c->instance_uuid,
                     sizeof c->instance_uuid);
  vim_xml_child_text(about, "fullName", c->full_name, sizeof c->full_name);
  content_moref(rv, "rootFolder", &c->root_folder);
  content_moref(rv, "propertyCollector", &c->property_collector);
  content_moref(rv, "sessionManager", &c->session_manager);
  content_moref(rv, "searchIndex", &c->search_index);
  content_moref(rv, "authorizationManager", &c->authorization_manager);
  content_moref(rv, "taskManager", &c->task_manager);
  vim_reply_free(&r);
  if (!c->api_type[0] || !c->property_collector.type[0] ||
      !c->session_manager.type[0])
    return vim_fail(err, VIM_E_PROTOCOL,
                    "ServiceContent lacks about.apiType, propertyCollector "
                    "or sessionManager");
  s->have_content = true;
  return VIM_OK;
}

int vim_service_content(struct vim_session *s,
                        const struct vim_service_content **out,
                        struct vim_error *err)
{
  int rc = vim_session_enter(s, err);

  if (rc != VIM_OK)
    return rc;
  rc = vim_content_locked(s, err);
  if (out)
    *out = rc == VIM_OK ? &s->sc : NULL;
  vim_session_leave(s);
  return rc;
}

/* The Login call itself; keeps the key of the new session. */
static int do_login(struct vim_session *s, const char *user,
                    const char *password, struct vim_error *err)
{
  static const struct vim_req login_req = {.method = "Login",
                                           .cls = VIM_CALL_LOGIN};
  struct vim_soap a;
  struct vim_reply r;
  int rc;

  rc = vim_content_locked(s, err);
  if (rc != VIM_OK)
    return rc;
  vim_soap_init(&a);
  vim_soap_str(&a, "userName", user);
  vim_soap_str(&a, "password", password);
  rc = vim_exchange(s, &login_req, &s->sc.session_manager, &a, &r, err);
  vim_soap_free(&a);
  if (rc != VIM_OK)
    return rc;
  vim_xml_child_text(vim_xml_child(r.result, "returnval"), "key",
                     s->session_key, sizeof s->session_key);
  vim_reply_free(&r);
  if (!s->cookie)
    return vim_fail(err, VIM_E_PROTOCOL,
                    "Login succeeded but the server set no session cookie");
  s->logged_in = true;
  s->borrowed = false;
  s->holds_scoped = false;
  return VIM_OK;
}

/* Logs in again with the stored password (lock held). */
static int relogin(struct vim_session *s, struct vim_error *err)
{
  int rc;

  vim_error_clear(err);
  fvx_free_secret(s->cookie); /* dead; the server sets a new one */
  s->cookie = NULL;
  s->logged_in = false;
  rc = do_login(s, s->user, s->password, err);
  if (rc == VIM_OK) {
    s->stats.relogins++;
    fvx_debug("vim: session to %s expired; logged in again", s->host);
  }
  return rc;
}

/* The NfcService of RetrieveInternalContent, fetched once (lock held).  The
 * call needs a session, so a NotAuthenticated answer goes through the
 * caller's re-login rule like any other. */
static int nfc_service_locked(struct vim_session *s, struct vim_error *err)
{
  static const struct vim_req req = {.method = "RetrieveInternalContent",
                                     .ns = VIM_NS_NFC,
                                     .cls = VIM_CALL_IDEMPOTENT};
  struct vim_reply r;
  int rc;

  if (s->nfc_service.type[0])
    return VIM_OK;
  rc = vim_exchange(s, &req, &service_instance, NULL, &r, err);
  if (rc != VIM_OK)
    return rc;
  rc = vim_internal_content_decode(r.result, &s->nfc_service, err);
  vim_reply_free(&r);
  return rc;
}

/* The object rq goes to (lock held).  VIM_OK, VIM_E_NOT_FOUND when the
 * server lacks that manager, or the status of fetching it. */
static int resolve(struct vim_session *s, const struct vim_req *rq,
                   const struct vim_moref **out, struct vim_error *err)
{
  static const char *const names[] = {
    [VIM_TO_PROPERTY_COLLECTOR] = "PropertyCollector",
    [VIM_TO_SESSION_MANAGER] = "SessionManager",
    [VIM_TO_SEARCH_INDEX] = "SearchIndex",
    [VIM_TO_AUTHORIZATION_MANAGER] = "AuthorizationManager",
    [VIM_TO_TASK_MANAGER] = "TaskManager",
    [VIM_TO_NFC_SERVICE] = "NfcService",
  };
  const struct vim_moref *m = NULL;
  int rc = vim_content_locked(s, err);

  if (rc != VIM_OK)
    return rc;
  switch (rq->to) {
  case VIM_TO_OBJECT:
    m = rq->obj;
    if (!m || !m->type[0] || !m->value[0])
      return vim_fail(err, VIM_E_INVALID_ARG, "%s: no object given",
                      rq->method ? rq->method : "call");
    break;
  case VIM_TO_PROPERTY_COLLECTOR:
    m = &s->sc.property_collector;
    break;
  case VIM_TO_SESSION_MANAGER:
    m = &s->sc.session_manager;
    break;
  case VIM_TO_SEARCH_INDEX:
    m = &s->sc.search_index;
    break;
  case VIM_TO_AUTHORIZATION_MANAGER:
    m = &s->sc.authorization_manager;
    break;
  case VIM_TO_TASK_MANAGER:
    m = &s->sc.task_manager;
    break;
  case VIM_TO_NFC_SERVICE:
    rc = nfc_service_locked(s, err);
    if (rc != VIM_OK)
      return rc;
    m = &s->nfc_service;
    break;
  }
  if (!m || !m->type[0])
    return vim_fail(err, VIM_E_NOT_FOUND, "the server has no %s",
                    names[rq->to] ? names[rq->to] : "such object");
  *out = m;
  return VIM_OK;
}

int vim_invoke(struct vim_session *s, const struct vim_req *rq,
               const struct vim_soap *args, struct vim_reply *out,
               struct vim_error *err)
{
  struct vim_error local;
  bool relogged = false;
  int rc;

  memset(out, 0, sizeof *out);
  if (!err)
    err = &local;
  for (;;) {
    const struct vim_moref *this_ = NULL;

    rc = resolve(s, rq, &this_, err);
    if (rc == VIM_OK && rq->method)
      rc = vim_exchange(s, rq, this_, args, out, err);
    if (rc != VIM_E_FAULT || rq->cls == VIM_CALL_LOGIN ||
        err->fault.kind != VIM_FAULT_NOT_AUTHENTICATED || s->borrowed)
      break;
    /* The server did not execute the call: its session is gone. */
    if (s->holds_scoped) {
      s->logged_in = false;
      rc = vim_fail(err, VIM_E_SESSION_LOST,
                    "%s: the session expired and took its session-scoped "
                    "disables with it",
                    rq->method ? rq->method : "RetrieveInternalContent");
      break;
    }
    if (relogged || !s->password || !s->user)
      break;
    relogged = true;
    {
      struct vim_error rl;

      rc = relogin(s, &rl);
      if (rc != VIM_OK) {
        *err = rl; /* the login failure is what the user must fix */
        break;
      }
    }
  }
  if (rc == VIM_OK && rq->scoped)
    s->holds_scoped = true;
  return rc;
}

int vim_request(struct vim_session *s, const struct vim_req *rq,
                struct vim_soap *args, struct vim_reply *out,
                struct vim_error *err)
{
  int rc;

  memset(out, 0, sizeof *out);
  rc = vim_session_enter(s, err);
  if (rc == VIM_OK) {
    rc = vim_invoke(s, rq, args, out, err);
    vim_session_leave(s);
  }
  if (args)
    vim_soap_free(args);
  return rc;
}

int vim_login(struct vim_session *s, const char *user, const char *password,
              struct vim_error *err)
{
  char *u, *p;
  int rc;

  rc = vim_session_enter(s, err);
  if (rc != VIM_OK)
    return rc;
  if (!user || !password) {
    vim_session_leave(s);
    return vim_fail(err, VIM_E_INVALID_ARG, "user or password is NULL");
  }
  u = strdup(user);
  p = strdup(password);
  if (!u || !p) {
    fvx_free_secret(u);
    fvx_free_secret(p);
    vim_session_leave(s);
    return vim_fail(err, VIM_E_NOMEM, "out of memory");
  }
  if (s->borrowed) {
    fvx_free_secret(s->cookie); /* not ours: do not reuse it */
    s->cookie = NULL;
  }
  rc = do_login(s, u, p, err);
  if (rc == VIM_OK) {
    fvx_free_secret(s->user);
    fvx_free_secret(s->password);
    s->user = u;
    s->password = p;
  } else {
    fvx_free_secret(u);
    fvx_free_secret(p);
  }
  vim_session_leave(s);
  return rc;
}

int vim_use_cookie(struct vim_session *s, const char *cookie,
                   struct vim_error *err)
{
  static const char prefix[] = "vmware_soap_session=";
  struct vim_reply r;
  xmlNode *val;
  char *c;
  int rc;

  rc = vim_session_enter(s, err);
  if (rc != VIM_OK)
    return rc;
  if (!cookie || !*cookie) {
    vim_session_leave(s);
    return vim_fail(err, VIM_E_INVALID_ARG, "empty cookie");
  }
  if (strncmp(cookie, prefix, sizeof prefix - 1) == 0)
    cookie += sizeof prefix - 1;
  if (strpbrk(cookie, "\r\n;")) {
    vim_session_leave(s);
    return vim_fail(err, VIM_E_INVALID_ARG, "malformed session cookie");
  }
  c = strdup(cookie);
  if (!c) {
    vim_session_leave(s);
    return vim_fail(err, VIM_E_NOMEM, "out of memory");
  }
  forget_auth(s);
  s->cookie = c;
  s->borrowed = true;
  /* currentSession comes back unset for a dead cookie (vCenter does not
   * fault reads of the SessionManager). */
  rc = vim_content_locked(s, err);
  if (rc == VIM_OK)
    rc = vim_read_prop_locked(s, &s->sc.session_manager, "currentSession",
                              &r, &val, err);
  if (rc == VIM_OK) {
    vim_xml_child_text(val, "key", s->session_key, sizeof s->session_key);
    vim_reply_free(&r);
    if (!s->session_key[0]) {
      if (err) {
        memset(&err->fault, 0, sizeof err->fault);
        err->fault.kind = VIM_FAULT_NOT_AUTHENTICATED;
        snprintf(err->fault.type, sizeof err->fault.type,
                 "NotAuthenticated");
        snprintf(err->fault.message, sizeof err->fault.message,
                 "the session cookie is not authenticated");
      }
      rc = vim_fail(err, VIM_E_FAULT,
                    "the session cookie is not (or no longer) "
                    "authenticated");
    }
  }
  if (rc != VIM_OK)
    forget_auth(s);
  vim_session_leave(s);
  return rc;
}

int vim_logout(struct vim_session *s, struct vim_error *err)
{
  static const struct vim_req logout_req = {.method = "Logout",
                                            .cls = VIM_CALL_LOGIN};
  struct vim_reply r;
  int rc = vim_session_enter(s, err);

  if (rc != VIM_OK)
    return rc;
  if (s->logged_in && !s->borrowed && s->have_content) {
    rc = vim_exchange(s, &logout_req, &s->sc.session_manager, NULL, &r,
                      err);
    if (rc == VIM_OK)
      vim_reply_free(&r);
    else if (rc == VIM_E_FAULT &&
             err && err->fault.kind == VIM_FAULT_NOT_AUTHENTICATED)
      rc = VIM_OK;
    else if (rc == VIM_E_FAULT && !err)
      rc = VIM_OK; /* cannot tell; the session is forgotten either way */
  }
  forget_auth(s);
  if (rc == VIM_OK)
    vim_error_clear(err);
  vim_session_leave(s);
  return rc;
}

bool vim_session_is_vcenter(struct vim_session *s)
{
  bool v;

  if (vim_session_enter(s, NULL) != VIM_OK)
    return false;
  v = s->have_content && strcmp(s->sc.api_type, "VirtualCenter") == 0;
  vim_session_leave(s);
  return v;
}

bool vim_session_holds_scoped(struct vim_session *s)
{
  bool v;

  if (vim_session_enter(s, NULL) != VIM_OK)
    return false;
  v = s->holds_scoped;
  vim_session_leave(s);
  return v;
}

void vim_session_key(struct vim_session *s, char *out, size_t n)
{
  if (!out || n == 0)
    return;
  out[0] = '\0';
  if (vim_session_enter(s, NULL) != VIM_OK)
    return;
  fvx_strlcpy(out, s->session_key, n);
  vim_session_leave(s);
}

void vim_session_stats(struct vim_session *s, struct vim_stats *out)
{
  if (!out)
    return;
  memset(out, 0, sizeof *out);
  if (vim_session_enter(s, NULL) != VIM_OK)
    return;
  *out = s->stats;
  vim_session_leave(s);
}

int vim_session_cookie(struct vim_session *s, char *out, size_t n,
                       struct vim_error *err)
{
  int rc;

  if (out && n)
    fvx_wipe(out, n);
  if (!out || n == 0)
    return vim_fail(err, VIM_E_INVALID_ARG, "no buffer for the cookie");
  rc = vim_session_enter(s, err);
  if (rc != VIM_OK)
    return rc;
  if (!s->cookie)
    rc = vim_fail(err, VIM_E_INVALID_ARG,
                  "the session is not logged in: it has no cookie");
  else if (!fvx_strlcpy(out, s->cookie, n)) {
    fvx_wipe(out, n);
    rc = vim_fail(err, VIM_E_INVALID_ARG,
                  "the session cookie needs %zu bytes, the buffer has %zu",
                  strlen(s->cookie) + 1, n);
  }
  vim_session_leave(s);
  return rc;
}

int vim_nfc_service(struct vim_session *s, struct vim_moref *out,
                    struct vim_error *err)
{
  static const struct vim_req rq = {.to = VIM_TO_NFC_SERVICE};
  struct vim_reply r;
  int rc;

  if (!out)
    return vim_fail(err, VIM_E_INVALID_ARG, "out is NULL");
  rc = vim_request(s, &rq, NULL, &r, err);
  /* Written once, under the lock vim_request took; never changed after. */
  if (rc == VIM_OK)
    *out = s->nfc_service;
  return rc;
}
