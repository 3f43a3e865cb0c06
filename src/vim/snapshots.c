/*
 * snapshots.c -- a VM's snapshots by name: the snapshot tree.
 *
 * A VirtualMachineSnapshot object has no name property; the names live
 * only in the VM's snapshot.rootSnapshotList, a tree of
 * VirtualMachineSnapshotTree {snapshot, name, childSnapshotList[], ...}.
 * One property read fetches the tree; it is flattened depth first, parents
 * before their children.  What needs it: a crash between CreateSnapshot
 * and recording its moref leaves only the name the backup gave the
 * snapshot, and the sweep must find exactly that snapshot again.
 *
 * Bounded: at most VIM_MAX_SNAPSHOTS nodes (counted before anything is
 * allocated) and VIM_MAX_CHAIN levels (vSphere allows 32 in a chain).
 */
#include <stdlib.h>
#include <string.h>

#include "vim/internal.h"

/* Counts the nodes of the forest under list elements named "local" below
 * parent; false when it is deeper or larger than the limits. */
static bool count_nodes(const xmlNode *parent, const char *local,
                        unsigned depth, size_t *n)
{
  if (depth > VIM_MAX_CHAIN)
    return false;
  for (const xmlNode *t = vim_xml_child(parent, local); t;
       t = vim_xml_next(t, local)) {
    if (++*n > VIM_MAX_SNAPSHOTS ||
        !count_nodes(t, "childSnapshotList", depth + 1, n))
      return false;
  }
  return true;
}

static int flatten(const xmlNode *parent, const char *local,
                   struct vim_snapshot_entry *out, size_t *i,
                   const struct vim_moref *parent_ref, struct vim_error *err)
{
  for (const xmlNode *t = vim_xml_child(parent, local); t;
       t = vim_xml_next(t, local)) {
    struct vim_snapshot_entry *e = &out[(*i)++];
    int rc;

    if (!vim_xml_moref(vim_xml_child(t, "snapshot"), &e->ref) ||
        !vim_xml_child_fits(t, "name", e->name, sizeof e->name))
      return vim_fail(err, VIM_E_PROTOCOL, "snapshot tree: a node without "
                      "a snapshot reference, or a name over %zu bytes",
                      sizeof e->name - 1);
    if (parent_ref)
      e->parent = *parent_ref;
    rc = flatten(t, "childSnapshotList", out, i, &e->ref, err);
    if (rc != VIM_OK)
      return rc;
  }
  return VIM_OK;
}

int vim_snapshots_get(struct vim_session *s, const struct vim_moref *vm,
                      struct vim_snapshot_entry **out, size_t *n,
                      struct vim_error *err)
{
  struct vim_snapshot_entry *e = NULL;
  struct vim_reply r;
  xmlNode *val;
  size_t count = 0, i = 0;
  int rc;

  if (!out || !n)
    return vim_fail(err, VIM_E_INVALID_ARG, "out or n is NULL");
  *out = NULL;
  *n = 0;
  if (!vm || strcmp(vm->type, "VirtualMachine") != 0)
    return vim_fail(err, VIM_E_INVALID_ARG, "snapshots: want a "
                    "VirtualMachine");
  rc = vim_read_prop(s, vm, "snapshot.rootSnapshotList", &r, &val, err);
  if (rc != VIM_OK)
    return rc;
  if (!count_nodes(val, NULL, 0, &count)) {
    vim_reply_free(&r);
    return vim_fail(err, VIM_E_TOO_BIG, "snapshot tree larger than %u "
                    "snapshots or deeper than %u", VIM_MAX_SNAPSHOTS,
                    VIM_MAX_CHAIN);
  }
  if (count) {
    e = calloc(count, sizeof *e);
    if (!e) {
      vim_reply_free(&r);
      return vim_fail(err, VIM_E_NOMEM, "out of memory");
    }
    rc = flatten(val, NULL, e, &i, NULL, err);
  }
  vim_reply_free(&r);
  if (rc != VIM_OK) {
    free(e);
    return rc;
  }
  *out = e;
  *n = count;
  return VIM_OK;
}
