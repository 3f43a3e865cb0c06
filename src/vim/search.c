/*
 * search.c -- SearchIndex: finding VMs and datacenters.
 *
 * Each call is one idempotent round trip; an empty <returnval> (or none) is
 * VIM_E_NOT_FOUND, which the access layer turns into "no such VM".
 */
#include <string.h>

#include "vim/internal.h"

/* Runs a search call and reads the returned MoRef. */
static int search_call(struct vim_session *s, const char *method,
                       const struct vim_soap *a, const char *what,
                       struct vim_moref *out, struct vim_error *err)
{
  struct vim_reply r;
  struct vim_moref m;
  xmlNode *rv;
  int rc;

  if (!s->sc.search_index.type[0])
    return vim_fail(err, VIM_E_NOT_FOUND, "the server has no SearchIndex");
  rc = vim_call(s, method, VIM_NS_VIM25, &s->sc.search_index, a,
                VIM_CALL_IDEMPOTENT, &r, err);
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

static int inventory_path_locked(struct vim_session *s, const char *path,
                                 struct vim_moref *out, struct vim_error *err)
{
  struct vim_soap a;
  int rc;

  vim_soap_init(&a);
  vim_soap_str(&a, "inventoryPath", path);
  rc = search_call(s, "FindByInventoryPath", &a, path, out, err);
  vim_soap_free(&a);
  return rc;
}

int vim_find_by_inventory_path(struct vim_session *s, const char *path,
                               struct vim_moref *out, struct vim_error *err)
{
  int rc;

  if (!path || !out)
    return vim_fail(err, VIM_E_INVALID_ARG, "path or out is NULL");
  rc = vim_session_enter(s, err);
  if (rc != VIM_OK)
    return rc;
  rc = vim_content_locked(s, err);
  if (rc == VIM_OK)
    rc = inventory_path_locked(s, path, out, err);
  vim_session_leave(s);
  return rc;
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

static int by_ds_path_locked(struct vim_session *s, const struct vim_moref *dc,
                             const char *path, struct vim_moref *out,
                             struct vim_error *err)
{
  struct vim_soap a;
  int rc;

  vim_soap_init(&a);
  vim_soap_moref(&a, "datacenter", dc);
  vim_soap_str(&a, "path", path);
  rc = search_call(s, "FindByDatastorePath", &a, path, out, err);
  vim_soap_free(&a);
  return rc;
}

int vim_find_by_datastore_path(struct vim_session *s,
                               const struct vim_moref *dc, const char *path,
                               struct vim_moref *out, struct vim_error *err)
{
  static const char *const child[] = {"childEntity"};
  struct vim_objects *res = NULL;
  const struct vim_prop *p;
  int rc;

  if (!path || !out || !*path)
    return vim_fail(err, VIM_E_INVALID_ARG, "datastore path is empty");
  rc = vim_session_enter(s, err);
  if (rc != VIM_OK)
    return rc;
  rc = vim_content_locked(s, err);
  if (rc != VIM_OK || dc) {
    if (rc == VIM_OK)
      rc = by_ds_path_locked(s, dc, path, out, err);
    vim_session_leave(s);
    return rc;
  }
  /* No datacenter: try each one under the root folder. */
  rc = vim_retrieve_locked(s, &s->sc.root_folder, 1, child, 1, &res, err);
  if (rc == VIM_OK) {
    p = res->n ? vim_object_prop(&res->objs[0], "childEntity") : NULL;
    rc = vim_fail(err, VIM_E_NOT_FOUND, "no VM at %s in any datacenter",
                  path);
    for (size_t i = 0; p && i < p->n; i++) {
      if (strcmp(p->morefs[i].type, "Datacenter") != 0)
        continue;
      rc = by_ds_path_locked(s, &p->morefs[i], path, out, err);
      if (rc != VIM_E_NOT_FOUND)
        break;
    }
    vim_objects_free(res);
  }
  vim_session_leave(s);
  return rc;
}

int vim_find_by_uuid(struct vim_session *s, const struct vim_moref *dc,
                     const char *uuid, bool vm_search, bool instance_uuid,
                     struct vim_moref *out, struct vim_error *err)
{
  struct vim_soap a;
  int rc;

  if (!uuid || !out || !*uuid)
    return vim_fail(err, VIM_E_INVALID_ARG, "uuid is empty");
  rc = vim_session_enter(s, err);
  if (rc != VIM_OK)
    return rc;
  rc = vim_content_locked(s, err);
  if (rc == VIM_OK) {
    vim_soap_init(&a);
    if (dc)
      vim_soap_moref(&a, "datacenter", dc);
    vim_soap_str(&a, "uuid", uuid);
    vim_soap_bool(&a, "vmSearch", vm_search);
    if (instance_uuid)
      vim_soap_bool(&a, "instanceUuid", true);
    rc = search_call(s, "FindByUuid", &a, uuid, out, err);
    vim_soap_free(&a);
  }
  vim_session_leave(s);
  return rc;
}
