/*
 * inventory.c -- one walk over the VM inventory of a vCenter (see the
 * "Inventory" section of vim.h).
 *
 * The walk is one property-collector pass that starts at the root folder
 * and follows the VM tree with traversal specs -- Folder.childEntity,
 * Datacenter.vmFolder, VirtualApp.vm and VirtualApp.resourcePool (nested
 * vApps) -- in one RetrievePropertiesEx, plus ContinueRetrievePropertiesEx
 * while the server pages.  Each object comes back with its name and
 * inventory parent, VMs also with disabledMethod: enough for the caller to
 * build every inventory path ("/DC0/vm/folder/name") and to match names,
 * paths and disables without one call per VM.
 *
 * Why not a ContainerView (what govc uses): a view is a session object
 * whose moref ("session[<uuid>]<uuid>", 82 characters on vCenter and
 * vcsim) does not fit struct vim_moref's 80-byte value; the traversal
 * needs no object of its own and saves three round trips.
 */
#include <stdlib.h>
#include <string.h>

#include "vim/internal.h"

/* More objects than any vCenter holds (its documented maximum is 45,000
 * registered VMs): past this the answer is refused, not grown. */
#define INVENTORY_MAX_OBJECTS 1000000u

static const char *const inventory_paths[] = {
  "name", "parent", "parentVApp", "parentFolder", "disabledMethod",
};
#define N_PATHS (sizeof inventory_paths / sizeof inventory_paths[0])

static const struct {
  const char *type;
  const char *paths; /* pathSet elements, already XML */
} kinds[] = {
  {"VirtualMachine", "<pathSet>name</pathSet><pathSet>parent</pathSet>"
                     "<pathSet>parentVApp</pathSet>"
                     "<pathSet>disabledMethod</pathSet>"},
  {"Folder", "<pathSet>name</pathSet><pathSet>parent</pathSet>"},
  {"Datacenter", "<pathSet>name</pathSet><pathSet>parent</pathSet>"},
  {"VirtualApp", "<pathSet>name</pathSet><pathSet>parentVApp</pathSet>"
                 "<pathSet>parentFolder</pathSet>"},
};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

void vim_inventory_free(struct vim_inventory *inv)
{
  if (!inv)
    return;
  for (size_t i = 0; i < inv->n; i++) {
    free(inv->items[i].name);
    for (size_t k = 0; k < inv->items[i].n_disabled; k++)
      free(inv->items[i].disabled_methods[k]);
    free(inv->items[i].disabled_methods);
  }
  free(inv->items);
  free(inv);
}

/* The PropertyFilterSpec: every kind's paths, from the root folder down
 * the VM tree.  In a TraversalSpec the element order is the WSDL's: name,
 * type, path, skip, selectSet. */
static void write_spec(struct vim_soap *a, const struct vim_moref *root,
                       unsigned page_size)
{
  vim_soap_raw(a, "<specSet>");
  for (size_t i = 0; i < N_KINDS; i++) {
    vim_soap_raw(a, "<propSet>");
    vim_soap_str(a, "type", kinds[i].type);
    vim_soap_raw(a, kinds[i].paths);
    vim_soap_raw(a, "</propSet>");
  }
  vim_soap_raw(a, "<objectSet>");
  vim_soap_moref(a, "obj", root);
  vim_soap_raw(a,
    "<skip>true</skip>"
    "<selectSet xsi:type=\"TraversalSpec\"><name>folder</name>"
    "<type>Folder</type><path>childEntity</path><skip>false</skip>"
    "<selectSet><name>folder</name></selectSet>"
    "<selectSet><name>dc</name></selectSet>"
    "<selectSet><name>vapp</name></selectSet>"
    "<selectSet><name>vappchild</name></selectSet></selectSet>"
    "<selectSet xsi:type=\"TraversalSpec\"><name>dc</name>"
    "<type>Datacenter</type><path>vmFolder</path><skip>false</skip>"
    "<selectSet><name>folder</name></selectSet></selectSet>"
    "<selectSet xsi:type=\"TraversalSpec\"><name>vapp</name>"
    "<type>VirtualApp</type><path>vm</path><skip>false</skip></selectSet>"
    "<selectSet xsi:type=\"TraversalSpec\"><name>vappchild</name>"
    "<type>VirtualApp</type><path>resourcePool</path><skip>false</skip>"
    "<selectSet><name>vapp</name></selectSet>"
    "<selectSet><name>vappchild</name></selectSet></selectSet>"
    "</objectSet></specSet><options>");
  if (page_size)
    vim_soap_int(a, "maxObjects", (long)page_size);
  vim_soap_raw(a, "</options>");
}

/* Every page of the pass, into *out (vim_objects). */
static int retrieve(struct vim_session *s, struct vim_objects **out,
                    struct vim_error *err)
{
  struct vim_soap a;
  int rc;

  vim_soap_init(&a);
  write_spec(&a, &s->sc.root_folder, s->page_size);
  rc = vim_collect_locked(s, &a, inventory_paths, N_PATHS, out, err);
  if (rc == VIM_OK && (*out)->n > INVENTORY_MAX_OBJECTS) {
    vim_objects_free(*out);
    *out = NULL;
    rc = vim_fail(err, VIM_E_TOO_BIG, "the inventory has more than %u "
                  "objects", INVENTORY_MAX_OBJECTS);
  }
  return rc;
}

/* The first set moref among the props at paths[from..to). */
static void first_moref(const struct vim_object *o, size_t from, size_t to,
                        struct vim_moref *out)
{
  memset(out, 0, sizeof *out);
  for (size_t i = from; i < to && i < o->n_props; i++)
    if (o->props[i].kind == VIM_PROP_MOREF) {
      *out = o->props[i].morefs[0];
      return;
    }
}

/* Moves the decoded objects into a vim_inventory.  False on NOMEM. */
static bool convert(const struct vim_objects *objs, struct vim_inventory *inv)
{
  inv->items = calloc(objs->n ? objs->n : 1, sizeof *inv->items);
  if (!inv->items)
    return false;
  for (size_t i = 0; i < objs->n; i++) {
    const struct vim_object *o = &objs->objs[i];
    struct vim_inventory_item *it = &inv->items[inv->n];
    const struct vim_prop *name = vim_object_prop(o, "name");
    const struct vim_prop *dis = vim_object_prop(o, "disabledMethod");

    if (o->missing)
      continue; /* gone between the view and the read */
    it->ref = o->ref;
    first_moref(o, 1, 4, &it->parent); /* parent, parentVApp, parentFolder */
    it->name = strdup(name && name->kind == VIM_PROP_STRING ? name->str : "");
    inv->n++; /* vim_inventory_free releases it from here on */
    if (!it->name)
      return false;
    if (dis && dis->kind == VIM_PROP_STRINGS) {
      it->disabled_methods = calloc(dis->n, sizeof *it->disabled_methods);
      if (!it->disabled_methods)
        return false;
      for (size_t k = 0; k < dis->n; k++) {
        it->disabled_methods[k] = strdup(dis->strs[k]);
        if (!it->disabled_methods[k])
          return false;
        it->n_disabled++;
      }
    }
  }
  return true;
}

int vim_inventory_get(struct vim_session *s, struct vim_inventory **out,
                      struct vim_error *err)
{
  struct vim_objects *objs = NULL;
  struct vim_inventory *inv = NULL;
  int rc;

  if (!out)
    return vim_fail(err, VIM_E_INVALID_ARG, "out is NULL");
  *out = NULL;
  rc = vim_session_enter(s, err);
  if (rc != VIM_OK)
    return rc;
  rc = vim_content_locked(s, err);
  if (rc == VIM_OK && !s->sc.root_folder.type[0])
    rc = vim_fail(err, VIM_E_PROTOCOL, "ServiceContent lacks rootFolder");
  if (rc == VIM_OK)
    rc = retrieve(s, &objs, err);
  if (rc == VIM_OK) {
    inv = calloc(1, sizeof *inv);
    if (inv)
      inv->root = s->sc.root_folder;
    if (!inv || !convert(objs, inv)) {
      vim_inventory_free(inv);
      rc = vim_fail(err, VIM_E_NOMEM, "out of memory");
    } else {
      *out = inv;
    }
  }
  vim_session_leave(s);
  vim_objects_free(objs);
  return rc;
}
