/*
 * disk_descriptor.c -- fuzz target: the VMDK text descriptor parser.
 *
 * Parses the input; when it parses, writes it back and parses the result
 * again, which must succeed with the same capacity, CIDs and counts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "disk/descriptor.h"
#include "disk/disk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct descriptor d, again;
  struct fvx_buf b;

  fuzz_quiet_logs();
  if (desc_parse(&d, (const char *)data, size, "fuzz") != DISK_OK)
    return 0;
  fvx_buf_init(&b, DESC_MAX_BYTES * 2);
  if (desc_format(&d, &b) == DISK_OK) {
    if (desc_parse(&again, b.data, b.len, "fuzz") != DISK_OK ||
        desc_capacity(&again) != desc_capacity(&d) ||
        again.cid != d.cid || again.parent_cid != d.parent_cid ||
        again.n_ext != d.n_ext || again.n_ddb != d.n_ddb)
      abort();
    desc_free(&again);
  }
  fvx_buf_free(&b);
  desc_free(&d);
  return 0;
}
