/*
 * backup_manifest.c -- fuzzes the backup manifest reader: JSON of any
 * shape, then every field rule of cli/manifest.c, on hostile bytes.
 * Seeds: manifests of a full, an incremental and a streamOptimized point
 * as `freevix backup` wrote them, and a JSON sampler.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "json.h"
#include "manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct manifest m;
  struct json *j;
  char why[512];

  if (json_parse((const char *)data, size, &j, why, sizeof why))
    json_free(j);
  if (manifest_parse((const char *)data, size, &m, why, sizeof why) &&
      m.n_disks == 0)
    abort(); /* the reader promised at least one disk */
  manifest_free(&m);
  return 0;
}
