/*
 * vmxspec.h -- parsing VDDK's vmxSpec strings.
 *
 * Accepted forms (VDDK programming guide, "VMX Specification"):
 *   moref=vm-42           the VM's managed object id
 *   moid=vm-42            the same (the guide uses both spellings)
 *   vm=moref=vm-42        nbdkit's spelling of the first form
 *   dir/name.vmx?dcPath=DC&dsName=DS
 *                         a datastore path, resolved with
 *                         SearchIndex.FindByDatastorePath; dcPath may be a
 *                         folder path ("Folder/DC"); values may be
 *                         %-escaped.
 * Anything else is malformed; the parser says why in 'why'.
 */
#ifndef FVX_ACCESS_VMXSPEC_H
#define FVX_ACCESS_VMXSPEC_H

#include <stdbool.h>
#include <stddef.h>

#define VMXSPEC_MAX 2048 /* longest vmxSpec accepted, bytes */

enum vmxspec_kind { VMXSPEC_MOREF, VMXSPEC_PATH };

struct vmxspec {
  enum vmxspec_kind kind;
  char moref[80];          /* VMXSPEC_MOREF: "vm-42" */
  char path[VMXSPEC_MAX];  /* VMXSPEC_PATH: "dir/name.vmx" (unescaped) */
  char dc_path[512];       /* VMXSPEC_PATH: datacenter inventory path */
  char ds_name[256];       /* VMXSPEC_PATH: datastore name */
};

/* Parses spec into *out.  Returns true on success; on failure *out is
 * undefined and 'why' (size n) says what is wrong, e.g. "dsName is missing".
 */
bool vmxspec_parse(const char *spec, struct vmxspec *out, char *why, size_t n);

#endif
