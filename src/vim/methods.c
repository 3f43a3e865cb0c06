/*
 * methods.c -- AuthorizationManager: DisableMethods, EnableMethods and the
 * privilege pre-flight.
 *
 * DisableMethods / EnableMethods are internal API: the request element is
 * in urn:internalvim25 (and so are its children, through the default
 * namespace), with SOAPAction "urn:internalvim25/<version>"; the answer
 * comes back in urn:vim25.  This is exactly what govmomi's
 * object/authorization_manager_internal.go sends to real vCenters.  All
 * entities go into one request.
 *
 * Both are treated as idempotent for the retry policy: under the simulator
 * contract (DESIGN.md points 1-2) disabling again under the same source and
 * enabling what is not disabled both succeed.  Should a server answer a
 * repeated disable with MethodAlreadyDisabledFault naming our own source
 * (simulator --same-source-disable fault), a call that was retried takes
 * that as the success of its first, unanswered attempt: the request says so
 * (vim_req.own_source), and call.c applies it.  A session-scoped disable
 * marks the session in the same locked call (vim_req.scoped).
 */
#include <stdlib.h>
#include <string.h>

#include "vim/internal.h"

static int check_entities(const struct vim_moref *e, size_t n,
                          struct vim_error *err)
{
  if (!e || n == 0)
    return vim_fail(err, VIM_E_INVALID_ARG, "no entities given");
  for (size_t i = 0; i < n; i++)
    if (!e[i].type[0] || !e[i].value[0])
      return vim_fail(err, VIM_E_INVALID_ARG, "entity %zu is empty", i);
  return VIM_OK;
}

int vim_disable_methods(struct vim_session *s, const struct vim_moref *entities,
                        size_t n_entities,
                        const struct vim_disabled_method *methods,
                        size_t n_methods, const char *source_id,
                        bool session_scope, struct vim_error *err)
{
  const struct vim_req rq = {.method = "DisableMethods",
                             .ns = VIM_NS_INTERNAL,
                             .cls = VIM_CALL_IDEMPOTENT,
                             .to = VIM_TO_AUTHORIZATION_MANAGER,
                             .own_source = source_id,
                             .scoped = session_scope};
  struct vim_soap a;
  struct vim_reply r;
  int rc;

  rc = check_entities(entities, n_entities, err);
  if (rc != VIM_OK)
    return rc;
  if (!methods || n_methods == 0 || !source_id)
    return vim_fail(err, VIM_E_INVALID_ARG, "no methods or no source id");
  for (size_t i = 0; i < n_methods; i++)
    if (!methods[i].method || !*methods[i].method)
      return vim_fail(err, VIM_E_INVALID_ARG, "method %zu is empty", i);
  vim_soap_init(&a);
  for (size_t i = 0; i < n_entities; i++)
    vim_soap_moref(&a, "entity", &entities[i]);
  for (size_t i = 0; i < n_methods; i++) {
    vim_soap_raw(&a, "<method>");
    vim_soap_str(&a, "method", methods[i].method);
    vim_soap_str(&a, "reasonId", methods[i].reason_id);
    vim_soap_raw(&a, "</method>");
  }
  vim_soap_str(&a, "sourceId", source_id);
  if (session_scope)
    vim_soap_bool(&a, "sessionScope", true);
  rc = vim_request(s, &rq, &a, &r, err);
  vim_reply_free(&r);
  return rc;
}

int vim_enable_methods(struct vim_session *s, const struct vim_moref *entities,
                       size_t n_entities, const char *const *methods,
                       size_t n_methods, const char *source_id,
                       struct vim_error *err)
{
  static const struct vim_req rq = {.method = "EnableMethods",
                                    .ns = VIM_NS_INTERNAL,
                                    .cls = VIM_CALL_IDEMPOTENT,
                                    .to = VIM_TO_AUTHORIZATION_MANAGER};
  struct vim_soap a;
  struct vim_reply r;
  int rc;

  rc = check_entities(entities, n_entities, err);
  if (rc != VIM_OK)
    return rc;
  if (!methods || n_methods == 0)
    return vim_fail(err, VIM_E_INVALID_ARG, "no methods given");
  for (size_t i = 0; i < n_methods; i++)
    if (!methods[i] || !*methods[i])
      return vim_fail(err, VIM_E_INVALID_ARG, "method %zu is empty", i);
  vim_soap_init(&a);
  for (size_t i = 0; i < n_entities; i++)
    vim_soap_moref(&a, "entity", &entities[i]);
  for (size_t i = 0; i < n_methods; i++)
    vim_soap_str(&a, "method", methods[i]);
  vim_soap_str(&a, "sourceId", source_id ? source_id : "");
  rc = vim_request(s, &rq, &a, &r, err);
  vim_reply_free(&r);
  return rc;
}

/* Reads privAvailability of the first returned entity into out. */
static void read_privileges(xmlNode *result, const char *const *privs,
                            size_t n, bool *out)
{
  xmlNode *ep = vim_xml_child(result, "returnval"), *pa;

  for (pa = vim_xml_child(ep, "privAvailability"); pa;
       pa = vim_xml_next(pa, "privAvailability")) {
    char id[128], granted[8];

    vim_xml_child_text(pa, "privId", id, sizeof id);
    vim_xml_child_text(pa, "isGranted", granted, sizeof granted);
    for (size_t i = 0; i < n; i++)
      if (strcmp(privs[i], id) == 0)
        out[i] = strcmp(granted, "true") == 0 || strcmp(granted, "1") == 0;
  }
}

int vim_has_privilege(struct vim_session *s, const struct vim_moref *entity,
                      const char *const *privs, size_t n, bool *out,
                      struct vim_error *err)
{
  static const struct vim_req rq = {.method = "HasPrivilegeOnEntities",
                                    .cls = VIM_CALL_IDEMPOTENT,
                                    .to = VIM_TO_AUTHORIZATION_MANAGER};
  struct vim_soap a;
  struct vim_reply r;
  char key[sizeof s->session_key];
  int rc;

  rc = check_entities(entity, 1, err);
  if (rc != VIM_OK)
    return rc;
  if (!privs || !out || n == 0)
    return vim_fail(err, VIM_E_INVALID_ARG, "no privileges given");
  for (size_t i = 0; i < n; i++) {
    if (!privs[i])
      return vim_fail(err, VIM_E_INVALID_ARG, "privilege %zu is NULL", i);
    out[i] = false;
  }
  vim_session_key(s, key, sizeof key);
  if (!key[0])
    return vim_fail(err, VIM_E_INVALID_ARG,
                    "HasPrivilegeOnEntities needs a logged-in session");
  vim_soap_init(&a);
  vim_soap_moref(&a, "entity", entity);
  vim_soap_str(&a, "sessionId", key);
  for (size_t i = 0; i < n; i++)
    vim_soap_str(&a, "privId", privs[i]);
  rc = vim_request(s, &rq, &a, &r, err);
  if (rc == VIM_OK)
    read_privileges(r.result, privs, n, out);
  vim_reply_free(&r);
  return rc;
}
