/*
 * vmxspec.c -- fuzz target: the vmxSpec parser (src/access/vmxspec.c) and
 * the classification of VMs as operators type them (src/access/vmref.c),
 * on one string.  Besides crashes and leaks it checks what the parser
 * promises: a parsed moref is a non-empty id that fits, a parsed path has
 * its three parts, and every vmxSpec form classifies as one.
 */
#include <stdlib.h>
#include <string.h>

#include "access/vmref.h"
#include "access/vmxspec.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct vmxspec spec;
  char why[256];
  char *s;
  enum vmref_kind kind;

  fuzz_quiet_logs();
  s = fuzz_string(data, size);
  if (!s)
    return 0;
  kind = vmref_classify(s);
  if (vmxspec_parse(s, &spec, why, sizeof why)) {
    if (spec.kind == VMXSPEC_MOREF &&
        (!spec.moref[0] || strlen(spec.moref) >= sizeof spec.moref))
      abort();
    if (spec.kind == VMXSPEC_PATH &&
        (!spec.path[0] || !spec.dc_path[0] || !spec.ds_name[0]))
      abort();
    if (kind != VMREF_VMXSPEC)
      abort(); /* the command line would not pass it on as a vmxSpec */
  } else if (!why[0]) {
    abort(); /* every refusal says why */
  }
  free(s);
  return 0;
}
