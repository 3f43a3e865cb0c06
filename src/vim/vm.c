/*
 * vm.c -- what the access layer asks about virtual machines.
 *
 * Built on the property collector: one RetrievePropertiesEx for any number
 * of VMs.  vCenter (and vcsim) fault the whole call with
 * ManagedObjectNotFound when one object does not exist; that VM is then
 * marked not found and the call repeated for the rest, so n VMs with k
 * unknown ones cost k + 1 round trips.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"
#include "vim/internal.h"

static const char *const vm_paths[] = {
  "name", "disabledMethod", "runtime.host", "datastore",
  "snapshot.currentSnapshot",
};

void vim_vm_info_free(struct vim_vm_info *infos, size_t n)
{
  if (!infos)
    return;
  for (size_t i = 0; i < n; i++) {
    free(infos[i].name);
    for (size_t j = 0; j < infos[i].n_disabled; j++)
      free(infos[i].disabled_methods[j]);
    free(infos[i].disabled_methods);
    free(infos[i].datastores);
  }
  free(infos);
}

static bool fill(struct vim_vm_info *vi, const struct vim_object *o)
{
  const struct vim_prop *p;

  vi->found = !o->missing;
  p = vim_object_prop(o, "name");
  vi->name = strdup(p && p->kind == VIM_PROP_STRING ? p->str : "");
  if (!vi->name)
    return false;
  p = vim_object_prop(o, "disabledMethod");
  if (p && p->kind == VIM_PROP_STRINGS && p->n) {
    vi->disabled_methods = calloc(p->n, sizeof *vi->disabled_methods);
    if (!vi->disabled_methods)
      return false;
    for (size_t i = 0; i < p->n; i++) {
      vi->disabled_methods[i] = strdup(p->strs[i]);
      if (!vi->disabled_methods[i])
        return false;
      vi->n_disabled = i + 1;
    }
  }
  p = vim_object_prop(o, "runtime.host");
  if (p && p->kind == VIM_PROP_MOREF)
    vi->host = p->morefs[0];
  p = vim_object_prop(o, "datastore");
  if (p && (p->kind == VIM_PROP_MOREFS || p->kind == VIM_PROP_MOREF) && p->n) {
    vi->datastores = calloc(p->n, sizeof *vi->datastores);
    if (!vi->datastores)
      return false;
    memcpy(vi->datastores, p->morefs, p->n * sizeof *vi->datastores);
    vi->n_datastores = p->n;
  }
  p = vim_object_prop(o, "snapshot.currentSnapshot");
  if (p && p->kind == VIM_PROP_MOREF)
    vi->current_snapshot = p->morefs[0];
  return true;
}

static int vm_info_fill(struct vim_session *s, const struct vim_moref *vms,
                        size_t n, struct vim_vm_info *infos,
                        struct vim_error *err)
{
  struct vim_moref *ask = calloc(n, sizeof *ask);
  size_t n_ask = n;
  int rc;

  if (!ask)
    return vim_fail(err, VIM_E_NOMEM, "out of memory");
  memcpy(ask, vms, n * sizeof *ask);
  for (;;) {
    struct vim_objects *res = NULL;
    struct vim_moref gone;
    size_t k;

    if (n_ask == 0) {
      rc = VIM_OK;
      break;
    }
    rc = vim_retrieve(s, ask, n_ask, vm_paths,
                      sizeof vm_paths / sizeof vm_paths[0], &res, err);
    if (rc == VIM_OK) {
      for (size_t i = 0; i < n; i++) {
        const struct vim_object *o = vim_objects_find(res, &vms[i]);

        if (o && !fill(&infos[i], o)) {
          rc = vim_fail(err, VIM_E_NOMEM, "out of memory");
          break;
        }
      }
      vim_objects_free(res);
      break;
    }
    if (rc != VIM_E_FAULT || !err ||
        err->fault.kind != VIM_FAULT_MANAGED_OBJECT_NOT_FOUND ||
        vim_moref_parse(&gone, err->fault.object) != VIM_OK)
      break;
    for (k = 0; k < n_ask; k++)
      if (strcmp(ask[k].value, gone.value) == 0 &&
          strcmp(ask[k].type, gone.type) == 0)
        break;
    if (k == n_ask)
      break; /* a fault about something we did not ask for */
    ask[k] = ask[--n_ask];
  }
  free(ask);
  return rc;
}

int vim_vm_info_get(struct vim_session *s, const struct vim_moref *vms,
                    size_t n, struct vim_vm_info **out, struct vim_error *err)
{
  struct vim_vm_info *infos;
  struct vim_error local;
  int rc;

  if (!out)
    return vim_fail(err, VIM_E_INVALID_ARG, "out is NULL");
  *out = NULL;
  if (!vms || n == 0)
    return vim_fail(err, VIM_E_INVALID_ARG, "no VMs given");
  if (!err)
    err = &local;
  infos = calloc(n, sizeof *infos);
  if (!infos)
    return vim_fail(err, VIM_E_NOMEM, "out of memory");
  for (size_t i = 0; i < n; i++)
    infos[i].vm = vms[i];
  rc = vm_info_fill(s, vms, n, infos, err);
  if (rc != VIM_OK) {
    vim_vm_info_free(infos, n);
    return rc;
  }
  for (size_t i = 0; i < n; i++) {
    if (!infos[i].name)
      infos[i].name = strdup("");
    if (!infos[i].name) {
      vim_vm_info_free(infos, n);
      return vim_fail(err, VIM_E_NOMEM, "out of memory");
    }
  }
  vim_error_clear(err);
  *out = infos;
  return VIM_OK;
}

int vim_vm_exists(struct vim_session *s, const struct vim_moref *vm,
                  char *name_out, size_t name_n, struct vim_error *err)
{
  struct vim_vm_info *vi = NULL;
  int rc;

  if (!vm)
    return vim_fail(err, VIM_E_INVALID_ARG, "vm is NULL");
  rc = vim_vm_info_get(s, vm, 1, &vi, err);
  if (rc != VIM_OK)
    return rc;
  if (!vi[0].found) {
    vim_vm_info_free(vi, 1);
    return vim_fail(err, VIM_E_NOT_FOUND, "no VM %s:%s on the server",
                    vm->type, vm->value);
  }
  if (name_out && name_n)
    fvx_strlcpy(name_out, vi[0].name, name_n);
  vim_vm_info_free(vi, 1);
  return VIM_OK;
}
