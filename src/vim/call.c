/*
 * call.c -- one SOAP exchange: envelope, transport, answer, transport retries.
 *
 * vim_exchange() is the only path to the wire.  It writes the envelope,
 * POSTs it, and turns the answer into either the <MethodResponse> element or
 * a status with detail.  Around that sits one recovery rule, for the
 * transport only (the table is in docs/vim.md): transient failures
 * (connection reset or closed, timeout, HTTP 502/503/504) are retried with
 * capped exponential backoff (100 ms doubling to 2 s) until the session's
 * retry deadline -- for idempotent calls always, for task-creating calls only
 * when the request cannot have reached the server (connect failure), for
 * Login and Logout never.
 *
 * What a fault means for the session (NotAuthenticated: log in again, or
 * report the loss of session-scoped disables) is not decided here but in
 * vim_invoke() (session.c), which calls this file and is never called by it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <libxml/tree.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"
#include "vim/internal.h"

void vim_reply_free(struct vim_reply *r)
{
  if (!r)
    return;
  if (r->doc && r->secret)
    vim_xml_wipe(r->doc);
  if (r->doc)
    xmlFreeDoc(r->doc);
  r->doc = NULL;
  r->result = NULL;
  r->secret = false;
}

static int fault_status(struct vim_error *err, const struct vim_fault *f,
                        const char *method)
{
  if (!err)
    return VIM_E_FAULT;
  err->fault = *f;
  return vim_fail(err, VIM_E_FAULT, "%s: %s%s%s", method,
                  f->type[0] ? f->type : "fault", f->message[0] ? ": " : "",
                  f->message);
}

int vim_parse_answer(const char *method, long http_status, const char *body,
                     size_t len, size_t max_body, unsigned max_depth,
                     struct vim_reply *out, struct vim_error *err)
{
  xmlDoc *doc = NULL;
  xmlNode *el;
  char want[128];
  int rc;

  memset(out, 0, sizeof *out);
  rc = vim_xml_parse(body, len, max_body, max_depth, &doc, err);
  if (rc == VIM_OK)
    rc = vim_xml_body(doc, &el, err);
  if (rc != VIM_OK) {
    if (doc)
      xmlFreeDoc(doc);
    if (http_status != 200 && rc == VIM_E_PROTOCOL)
      return vim_fail(err, VIM_E_HTTP, "%s: HTTP %ld without a SOAP fault",
                      method, http_status);
    return rc;
  }
  if (vim_xml_is(el, VIM_NS_SOAPENV, "Fault")) {
    struct vim_fault f;

    vim_fault_decode(el, &f);
    xmlFreeDoc(doc);
    return fault_status(err, &f, method);
  }
  if (http_status != 200) {
    xmlFreeDoc(doc);
    return vim_fail(err, VIM_E_HTTP, "%s: HTTP %ld with a non-fault body",
                    method, http_status);
  }
  snprintf(want, sizeof want, "%sResponse", method);
  if (strcmp((const char *)el->name, want) != 0) {
    rc = vim_fail(err, VIM_E_PROTOCOL, "%s: expected <%s>, got <%s>", method,
                  want, (const char *)el->name);
    xmlFreeDoc(doc);
    return rc;
  }
  if (!vim_xml_is(el, VIM_NS_VIM25, NULL) &&
      !vim_xml_is(el, VIM_NS_INTERNAL, NULL)) {
    rc = vim_fail(err, VIM_E_PROTOCOL,
                  "%s: answer in the wrong namespace (%s)", method,
                  el->ns && el->ns->href ? (const char *)el->ns->href
                                         : "none");
    xmlFreeDoc(doc);
    return rc;
  }
  out->doc = doc;
  out->result = el;
  return VIM_OK;
}

static bool may_retry(enum vim_call_class cls,
                      const struct vim_http_result *hr)
{
  if (!hr->transient)
    return false;
  switch (cls) {
  case VIM_CALL_IDEMPOTENT:
    return true;
  case VIM_CALL_ONCE:
    return !hr->sent;
  case VIM_CALL_LOGIN:
    return false;
  }
  return false;
}

/* A retried DisableMethods may find its own first, unanswered attempt done:
 * the server then names our source as the holder (see methods.c). */
static bool own_earlier_attempt(const struct vim_req *rq, int tries,
                                const struct vim_error *err)
{
  return rq->own_source && tries > 1 &&
         err->fault.kind == VIM_FAULT_METHOD_ALREADY_DISABLED &&
         strcmp(err->fault.source, rq->own_source) == 0;
}

int vim_exchange(struct vim_session *s, const struct vim_req *rq,
                 const struct vim_moref *this_, const struct vim_soap *args,
                 struct vim_reply *out, struct vim_error *err)
{
  const char *method = rq->method;
  const char *ns = rq->ns ? rq->ns : VIM_NS_VIM25;
  struct vim_soap env;
  struct vim_error local;
  struct vim_http_result hr;
  const char *action;
  int64_t start = fvx_now_ms(), delay = 100;
  int tries = 0;
  int rc;

  memset(out, 0, sizeof *out);
  if (!err)
    err = &local;
  vim_error_clear(err);
  if (args && args->err)
    return vim_fail(err, args->err,
                    "%s: cannot encode argument %s (invalid UTF-8, control "
                    "character, or too large)", method,
                    args->bad ? args->bad : "?");
  vim_soap_init(&env);
  rc = vim_soap_envelope(&env, method, ns, this_, args ? args->b.data : NULL,
                         args ? args->b.len : 0);
  if (rc != VIM_OK) {
    vim_soap_free(&env);
    return vim_fail(err, rc, "%s: cannot build the request", method);
  }
  action = strcmp(ns, VIM_NS_INTERNAL) == 0 ? s->soap_action_internal
                                            : s->soap_action;
  for (;;) {
    int64_t t0 = fvx_now_ms(), left;

    vim_error_clear(err);
    tries++;
    rc = vim_http_post(s, env.b.data, env.b.len, action, &hr, err);
    if (rc == VIM_OK) {
      rc = vim_parse_answer(method, hr.status, s->resp.data, s->resp.len,
                            s->max_body, s->max_depth, out, err);
      err->http_status = hr.status;
    }
    if (rq->secret)
      fvx_wipe(s->resp.data, s->resp.len); /* the tree keeps what we need */
    fvx_debug("vim: %s %s:%s -> HTTP %ld, %s (%" PRId64 " ms)", method,
              this_->type, this_->value, hr.status,
              rc == VIM_OK ? "ok"
              : rc == VIM_E_FAULT ? err->fault.type
                                  : vim_status_str(rc),
              fvx_now_ms() - t0);
    if (rc == VIM_OK || !may_retry(rq->cls, &hr) || s->retry_deadline_ms < 0)
      break;
    left = start + s->retry_deadline_ms - fvx_now_ms();
    if (left <= 0)
      break;
    fvx_debug("vim: %s: %s; retrying in %" PRId64 " ms", method, err->detail,
              delay < left ? delay : left);
    fvx_sleep_ms(delay < left ? delay : left);
    delay = delay * 2 > 2000 ? 2000 : delay * 2;
    s->stats.retries++;
  }
  vim_soap_free(&env);
  if (rc == VIM_E_FAULT && own_earlier_attempt(rq, tries, err)) {
    vim_error_clear(err);
    return VIM_OK; /* out stays empty: the answer we got was a fault */
  }
  out->secret = rq->secret;
  return rc;
}
