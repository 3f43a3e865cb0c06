/*
 * vmref.h -- VMs as operators name them, turned into vmxSpecs.
 *
 * What people type for a VM is rarely a vmxSpec.  Accepted here:
 *   vm-42                  a bare managed object id, as govc and the
 *                          vSphere UI show it
 *   /DC0/vm/folder/name    an inventory path (govc's form; the root
 *                          folder is "/", each name as vCenter stores it,
 *                          so a '/' inside a name is written %2f)
 *   name                   a VM name, which must name exactly one VM
 *   moref=vm-42, moid=vm-42, vm=moref=vm-42, dir/x.vmx?dcPath=DC&dsName=DS
 *                          vmxSpecs (vmxspec.h), passed on unchanged
 * A bare "vm-<digits>" is always taken as a managed object id; a VM that is
 * literally named so is reached by its path.  Names and paths are resolved
 * with one inventory walk (vim_inventory_get) for the whole list; the
 * other forms need no server at all.
 */
#ifndef FVX_ACCESS_VMREF_H
#define FVX_ACCESS_VMREF_H

#include <stddef.h>

#include "access/access.h"

enum vmref_kind {
  VMREF_VMXSPEC, /* passed on unchanged */
  VMREF_MOREF,   /* vm-42 */
  VMREF_PATH,    /* /DC0/vm/x */
  VMREF_NAME,    /* x */
  VMREF_BAD,     /* empty, control characters, bad UTF-8, too long */
};

/* What kind of reference s is.  Can't fail (VMREF_BAD for NULL). */
enum vmref_kind vmref_classify(const char *s);

enum vmref_status {
  VMREF_OK = 0,
  VMREF_E_BAD,       /* not a usable reference: 'why' says what is wrong */
  VMREF_E_NOT_FOUND, /* no VM has that name or path */
  VMREF_E_AMBIGUOUS, /* several VMs have that name: see the candidates */
};

#define VMREF_MAX_LISTED 20 /* candidates listed per ambiguous name */

/* One reference's outcome.  Strings are malloc'd and released by
 * vmref_results_free; NULL when absent. */
struct vmref_result {
  enum vmref_status status;
  char *vmx_spec;            /* VMREF_OK: "moref=vm-42" or the vmxSpec */
  char *moref;               /* "vm-42" when known */
  char *path;                /* the inventory path when the walk found it */
  char why[160];             /* VMREF_E_BAD */
  size_t n_candidates;       /* VMREF_E_AMBIGUOUS: VMs with that name */
  char *listed[VMREF_MAX_LISTED]; /* "vm-42 /DC0/vm/a/x", the first ones */
  size_t n_listed;
};

/* Resolves refs[0..n) into out (n entries, zeroed by this call), using a
 * session from the pool for ci when (and only when) a name or path needs
 * the inventory.  Returns ACCESS_OK when the server could be asked (each
 * reference's own outcome is in out), else the failure with out's
 * name/path entries left unresolved (VMREF_E_NOT_FOUND is not set). */
int vmref_resolve(const struct access_conninfo *ci, const char *const *refs,
                  size_t n, struct vmref_result *out,
                  struct access_result *res);

/* Frees the strings of out[0..n).  Can't fail. */
void vmref_results_free(struct vmref_result *out, size_t n);

#endif
