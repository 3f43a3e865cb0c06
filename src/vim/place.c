/*
 * place.c -- where a VM and its files live: its host, its datacenter and
 * that datacenter's inventory path (the dcPath of datastore URLs), the VM a
 * snapshot belongs to, and datastores' names and volume URLs.
 *
 * vim_vm_place_get asks for the VM and every inventory ancestor in one
 * RetrievePropertiesEx: the object set starts at the VM and follows
 * traversal specs up the tree -- VirtualMachine.parent (its folder) or
 * .parentVApp, VirtualApp.parentFolder / .parentVApp, Folder.parent and
 * Datacenter.parent -- with skip = false, so each ancestor comes back with
 * its name and parent.  One spec per concrete type, since the property
 * collector applies a traversal only to objects of its type; every spec
 * lists all of them as its next steps.  The walk from the VM to its
 * datacenter and on to the root folder then happens here, bounded by
 * VIM_MAX_ANCESTORS.  The host's name is a second round trip (a traversal
 * through the nested runtime.host is not something every server is known to
 * accept).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"
#include "vim/internal.h"

/* Every path any type of the walk asks for (the union the decoder reads). */
static const char *const place_paths[] = {
  "name", "runtime.powerState", "config.changeTrackingEnabled",
  "config.files.vmPathName", "runtime.host", "parent", "parentVApp",
  "parentFolder",
};

struct step {
  const char *name, *type, *path;
};

static const struct step steps[] = {
  {"vmParent", "VirtualMachine", "parent"},
  {"vmVApp", "VirtualMachine", "parentVApp"},
  {"vappFolder", "VirtualApp", "parentFolder"},
  {"vappVApp", "VirtualApp", "parentVApp"},
  {"folderUp", "Folder", "parent"},
  {"dcUp", "Datacenter", "parent"},
};

static void write_propset(struct vim_soap *a, const char *type,
                          const char *const *paths, size_t n)
{
  vim_soap_raw(a, "<propSet>");
  vim_soap_str(a, "type", type);
  for (size_t i = 0; i < n; i++)
    vim_soap_str(a, "pathSet", paths[i]);
  vim_soap_raw(a, "</propSet>");
}

static void write_place_spec(struct vim_soap *a, const struct vim_moref *vm,
                             unsigned page_size)
{
  static const char *const up[] = {"name", "parent"};
  static const char *const vapp[] = {"name", "parentFolder", "parentVApp"};

  vim_soap_raw(a, "<specSet>");
  write_propset(a, "VirtualMachine", place_paths, 7);
  write_propset(a, "Folder", up, 2);
  write_propset(a, "Datacenter", up, 2);
  write_propset(a, "VirtualApp", vapp, 3);
  vim_soap_raw(a, "<objectSet>");
  vim_soap_moref(a, "obj", vm);
  vim_soap_bool(a, "skip", false);
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    vim_soap_raw(a, "<selectSet xsi:type=\"TraversalSpec\">");
    vim_soap_str(a, "name", steps[i].name);
    vim_soap_str(a, "type", steps[i].type);
    vim_soap_str(a, "path", steps[i].path);
    vim_soap_bool(a, "skip", false);
    for (size_t j = 0; j < sizeof steps / sizeof steps[0]; j++) {
      vim_soap_raw(a, "<selectSet>");
      vim_soap_str(a, "name", steps[j].name);
      vim_soap_raw(a, "</selectSet>");
    }
    vim_soap_raw(a, "</selectSet>");
  }
  vim_soap_raw(a, "</objectSet></specSet><options>");
  if (page_size)
    vim_soap_int(a, "maxObjects", (long)page_size);
  vim_soap_raw(a, "</options>");
}

static const char *str_of(const struct vim_object *o, const char *path)
{
  const struct vim_prop *p = vim_object_prop(o, path);

  return p && p->kind == VIM_PROP_STRING ? p->str : "";
}

static const struct vim_moref *ref_of(const struct vim_object *o,
                                      const char *path)
{
  const struct vim_prop *p = vim_object_prop(o, path);

  return p && p->kind == VIM_PROP_MOREF ? &p->morefs[0] : NULL;
}

/* The next object up from o: a folder, a vApp or a datacenter. */
static const struct vim_moref *up_of(const struct vim_object *o)
{
  const struct vim_moref *m = ref_of(o, "parent");

  if (!m && strcmp(o->ref.type, "VirtualApp") == 0)
    m = ref_of(o, "parentFolder");
  if (!m)
    m = ref_of(o, "parentVApp");
  return m;
}

static int copy_fit(char *dst, size_t n, const char *src, const char *what,
                    struct vim_error *err)
{
  if (!fvx_strlcpy(dst, src, n))
    return vim_fail(err, VIM_E_TOO_BIG, "%s longer than %zu bytes", what,
                    n - 1);
  return VIM_OK;
}

/* Walks from the VM to its datacenter, then builds the path above it. */
static int find_datacenter(const struct vim_objects *res,
                           const struct vim_object *vmo,
                           const struct vim_moref *root,
                           struct vim_vm_place *out, struct vim_error *err)
{
  const struct vim_object *o = vmo, *dc = NULL;
  char path[sizeof out->dc_path], tmp[sizeof out->dc_path];
  unsigned depth = 0;

  while (!dc) {
    const struct vim_moref *up = up_of(o);

    if (!up || ++depth > VIM_MAX_ANCESTORS)
      return vim_fail(err, up ? VIM_E_TOO_BIG : VIM_E_PROTOCOL,
                      "no datacenter above VM %s within %u levels",
                      vmo->ref.value, VIM_MAX_ANCESTORS);
    o = vim_objects_find(res, up);
    if (!o)
      return vim_fail(err, VIM_E_PROTOCOL,
                      "the answer lacks %s:%s above VM %s", up->type,
                      up->value, vmo->ref.value);
    if (strcmp(o->ref.type, "Datacenter") == 0)
      dc = o;
  }
  out->datacenter = dc->ref;
  if (copy_fit(path, sizeof path, str_of(dc, "name"), "datacenter name",
               err) != VIM_OK)
    return VIM_E_TOO_BIG;
  for (o = dc; depth <= VIM_MAX_ANCESTORS; depth++) {
    const struct vim_moref *up = ref_of(o, "parent");
    int n;

    if (!up || (root && strcmp(up->value, root->value) == 0 &&
                strcmp(up->type, root->type) == 0))
      return copy_fit(out->dc_path, sizeof out->dc_path, path,
                      "inventory path", err);
    o = vim_objects_find(res, up);
    if (!o)
      return vim_fail(err, VIM_E_PROTOCOL,
                      "the answer lacks %s:%s above datacenter %s", up->type,
                      up->value, dc->ref.value);
    if (!ref_of(o, "parent")) /* the root folder, by another name */
      return copy_fit(out->dc_path, sizeof out->dc_path, path,
                      "inventory path", err);
    n = snprintf(tmp, sizeof tmp, "%s/%s", str_of(o, "name"), path);
    if (n < 0 || (size_t)n >= sizeof tmp)
      return vim_fail(err, VIM_E_TOO_BIG, "inventory path longer than %zu "
                      "bytes", sizeof tmp - 1);
    memcpy(path, tmp, (size_t)n + 1);
  }
  return vim_fail(err, VIM_E_TOO_BIG, "inventory deeper than %u levels",
                  VIM_MAX_ANCESTORS);
}

/* Fills out from the answer of the traversal. */
static int decode_place(const struct vim_objects *res,
                        const struct vim_moref *vm,
                        const struct vim_moref *root,
                        struct vim_vm_place *out, struct vim_error *err)
{
  const struct vim_object *o = vim_objects_find(res, vm);
  const struct vim_moref *host;
  const struct vim_prop *cbt;
  int rc;

  if (!o || o->missing)
    return vim_fail(err, VIM_E_NOT_FOUND, "no VM %s:%s on the server",
                    vm->type, vm->value);
  rc = copy_fit(out->name, sizeof out->name, str_of(o, "name"), "VM name",
                err);
  if (rc == VIM_OK)
    rc = copy_fit(out->power_state, sizeof out->power_state,
                  str_of(o, "runtime.powerState"), "power state", err);
  if (rc == VIM_OK)
    rc = copy_fit(out->vmx_path, sizeof out->vmx_path,
                  str_of(o, "config.files.vmPathName"), "vmx path", err);
  if (rc != VIM_OK)
    return rc;
  cbt = vim_object_prop(o, "config.changeTrackingEnabled");
  out->change_tracking = cbt && cbt->kind == VIM_PROP_STRING &&
                         (strcmp(cbt->str, "true") == 0 ||
                          strcmp(cbt->str, "1") == 0);
  host = ref_of(o, "runtime.host");
  if (host)
    out->host = *host;
  return find_datacenter(res, o, root, out, err);
}

static int host_name(struct vim_session *s, struct vim_vm_place *out,
                     struct vim_error *err)
{
  static const char *const name[] = {"name"};
  struct vim_objects *res = NULL;
  int rc;

  if (!out->host.type[0])
    return VIM_OK;
  rc = vim_retrieve(s, &out->host, 1, name, 1, &res, err);
  if (rc == VIM_OK) {
    const struct vim_object *o = vim_objects_find(res, &out->host);

    rc = copy_fit(out->host_name, sizeof out->host_name,
                  o ? str_of(o, "name") : "", "host name", err);
  }
  vim_objects_free(res);
  return rc;
}

int vim_vm_place_get(struct vim_session *s, const struct vim_moref *vm,
                     struct vim_vm_place *out, struct vim_error *err)
{
  const struct vim_service_content *sc;
  struct vim_objects *res = NULL;
  struct vim_soap a;
  int rc;

  if (!out)
    return vim_fail(err, VIM_E_INVALID_ARG, "out is NULL");
  memset(out, 0, sizeof *out);
  if (!vm)
    return vim_fail(err, VIM_E_INVALID_ARG, "vm is NULL");
  rc = vim_service_content(s, &sc, err);
  if (rc != VIM_OK)
    return rc;
  vim_soap_init(&a);
  write_place_spec(&a, vm, s->page_size);
  rc = vim_collect(s, &a, place_paths,
                   sizeof place_paths / sizeof place_paths[0], &res, err);
  if (rc == VIM_E_FAULT && err &&
      err->fault.kind == VIM_FAULT_MANAGED_OBJECT_NOT_FOUND)
    rc = vim_fail(err, VIM_E_NOT_FOUND, "no VM %s:%s on the server",
                  vm->type, vm->value);
  if (rc == VIM_OK)
    rc = decode_place(res, vm, &sc->root_folder, out, err);
  vim_objects_free(res);
  if (rc == VIM_OK)
    rc = host_name(s, out, err);
  if (rc != VIM_OK)
    memset(out, 0, sizeof *out);
  return rc;
}

int vim_snapshot_vm(struct vim_session *s, const struct vim_moref *snapshot,
                    struct vim_moref *vm_out, struct vim_error *err)
{
  struct vim_reply r;
  xmlNode *val;
  struct vim_moref m;
  int rc;

  if (!vm_out || !snapshot ||
      strcmp(snapshot->type, "VirtualMachineSnapshot") != 0)
    return vim_fail(err, VIM_E_INVALID_ARG,
                    "want a VirtualMachineSnapshot and somewhere to put "
                    "its VM");
  rc = vim_read_prop(s, snapshot, "vm", &r, &val, err);
  if (rc != VIM_OK)
    return rc;
  if (!vim_xml_moref(val, &m)) {
    vim_reply_free(&r);
    return vim_fail(err, VIM_E_NOT_FOUND, "snapshot %s names no VM",
                    snapshot->value);
  }
  vim_reply_free(&r);
  *vm_out = m;
  return VIM_OK;
}

int vim_datastores_get(struct vim_session *s, const struct vim_moref *refs,
                       size_t n, struct vim_datastore **out,
                       struct vim_error *err)
{
  static const char *const paths[] = {"summary.name", "summary.url"};
  struct vim_objects *res = NULL;
  struct vim_datastore *ds;
  int rc;

  if (!out)
    return vim_fail(err, VIM_E_INVALID_ARG, "out is NULL");
  *out = NULL;
  if (!refs || n == 0)
    return vim_fail(err, VIM_E_INVALID_ARG, "no datastores given");
  ds = calloc(n, sizeof *ds);
  if (!ds)
    return vim_fail(err, VIM_E_NOMEM, "out of memory");
  rc = vim_retrieve(s, refs, n, paths, 2, &res, err);
  if (rc == VIM_E_FAULT && err &&
      err->fault.kind == VIM_FAULT_MANAGED_OBJECT_NOT_FOUND)
    rc = vim_fail(err, VIM_E_NOT_FOUND, "no datastore %s on the server",
                  err->fault.object);
  for (size_t i = 0; rc == VIM_OK && i < n; i++) {
    const struct vim_object *o = vim_objects_find(res, &refs[i]);

    ds[i].ref = refs[i];
    if (!o || o->missing)
      rc = vim_fail(err, VIM_E_NOT_FOUND, "no datastore %s:%s on the server",
                    refs[i].type, refs[i].value);
    if (rc == VIM_OK)
      rc = copy_fit(ds[i].name, sizeof ds[i].name, str_of(o, paths[0]),
                    "datastore name", err);
    if (rc == VIM_OK)
      rc = copy_fit(ds[i].url, sizeof ds[i].url, str_of(o, paths[1]),
                    "datastore URL", err);
  }
  vim_objects_free(res);
  if (rc != VIM_OK) {
    free(ds);
    return rc;
  }
  *out = ds;
  return VIM_OK;
}
