/*
 * search.c -- SearchIndex: finding VMs and datacenters.
 *
 * Each call is one idempotent round trip; an empty <returnval> (or none) is
 * VIM_E_NOT_FOUND, which the access layer turns into "no such VM".
 */
#include <string.h>

#include "vim/internal.h"

/* Runs a search call (consuming a) and reads the returned MoRef. */
static int search_call(struct vim_session *s, const char *method,
                       struct vim_soap *a, const char *what,
                       struct vim_moref *out, struct vim_error *err)
{
  const struct vim_req rq = {.method = method, .cls = VIM_CALL_IDEMPOTENT,
                             .to = VIM_TO_SEARCH_INDEX};
  struct vim_reply r;
  struct vim_moref m;
  xmlNode *rv;
  int rc;

  rc = vim_request(s, &rq, a, &r, err);
  if (rc != VIM_OK)
    return rc;
  rv = vim_xml_child(r.result, "returnval");
  if (!rv || !vim_xml_moref(rv, &m)) {
    vim_reply_free(&r);
    return vim_fail(err, VIM_E_NOT_FOUND, "%s: nothing found for %s", method,
                    what);
  }
  vim_reply_free(&r);
  *out = m;
  return VIM_OK;
}

int vim_find_by_inventory_path(struct vim_session *s, const char *path,
                               struct vim_moref *out, struct vim_error *err)
{
  struct vim_soap a;

  if (!path || !out)
    return vim_fail(err, VIM_E_INVALID_ARG, "path or out is NULL");
  vim_soap_init(&a);
  vim_soap_str(&a, "inventoryPath", path);
  return search_call(s, "FindByInventoryPath", &a, path, out, err);
}

int vim_find_datacenter(struct vim_session *s, const char *path,
                        struct vim_moref *out, struct vim_error *err)
{
  struct vim_moref m;
  int rc;

  if (!path || !out || !*path)
    return vim_fail(err, VIM_E_INVALID_ARG, "datacenter path is empty");
  while (*path == '/')
    path++;
  rc = vim_find_by_inventory_path(s, path, &m, err);
  if (rc != VIM_OK)
    return rc;
  if (strcmp(m.type, "Datacenter") != 0)
    return vim_fail(err, VIM_E_NOT_FOUND,
                    "inventory path names a %s, not a Datacenter", m.type);
  *out = m;
  return VIM_OK;
}

static int by_ds_path(struct vim_session *s, const struct vim_moref *dc,
                      const char *path, struct vim_moref *out,
                      struct vim_error *err)
{
  struct vim_soap a;

  vim_soap_init(&a);
  vim_soap_moref(&a, "datacenter", dc);
  vim_soap_str(&a, "path", path);
  return search_call(s, "FindByDatastorePath", &a, path, out, err);
}

int vim_find_by_datastore_path(struct vim_session *s,
                               const struct vim_moref *dc, const char *path,
                               struct vim_moref *out, struct vim_error *err)
{
  static const char *const child[] = {"childEntity"};
  const struct vim_service_content *sc;
  struct vim_objects *res = NULL;
  const struct vim_prop *p;
  int rc;

  if (!path || !out || !*path)
    return vim_fail(err, VIM_E_INVALID_ARG, "datastore path is empty");
  if (dc)
    return by_ds_path(s, dc, path, out, err);
  /* No datacenter: try each one under the root folder. */
  rc = vim_service_content(s, &sc, err);
  if (rc == VIM_OK)
    rc = vim_retrieve(s, &sc->root_folder, 1, child, 1, &res, err);
  if (rc != VIM_OK)
    return rc;
  p = res->n ? vim_object_prop(&res->objs[0], "childEntity") : NULL;
  rc = vim_fail(err, VIM_E_NOT_FOUND, "no VM at %s in any datacenter", path);
  for (size_t i = 0; p && i < p->n; i++) {
    if (strcmp(p->morefs[i].type, "Datacenter") != 0)
      continue;
    rc = by_ds_path(s, &p->morefs[i], path, out, err);
    if (rc != VIM_E_NOT_FOUND)
      break;
  }
  vim_objects_free(res);
  return rc;
}

int vim_find_by_uuid(struct vim_session *s, const struct vim_moref *dc,
                     const char *uuid, bool vm_search, bool instance_uuid,
                     struct vim_moref *out, struct vim_error *err)
{
  struct vim_soap a;

  if (!uuid || !out || !*uuid)
    return vim_fail(err, VIM_E_INVALID_ARG, "uuid is empty");
  vim_soap_init(&a);
  if (dc)
    vim_soap_moref(&a, "datacenter", dc);
  vim_soap_str(&a, "uuid", uuid);
  vim_soap_bool(&a, "vmSearch", vm_search);
  if (instance_uuid)
    vim_soap_bool(&a, "instanceUuid", true);
  return search_call(s, "FindByUuid", &a, uuid, out, err);
}
