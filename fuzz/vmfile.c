/*
 * vmfile.c -- fuzz target: the freevix command's --vm-file reader
 * (cli/vmfile.c) on a whole file's bytes, read through a stdio stream as
 * the command reads it.  Every entry it hands out is trimmed, non-empty,
 * no comment, free of control characters and at most one line long.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "vmfile.h"

static bool check(void *opaque, const char *entry)
{
  size_t len = strlen(entry);

  (void)opaque;
  if (!len || len > VMFILE_LINE_MAX || entry[0] == '#' || entry[0] == ' ' ||
      entry[0] == '\t' || entry[len - 1] == ' ' || entry[len - 1] == '\t')
    abort();
  for (const char *c = entry; *c; c++)
    if ((unsigned char)*c < 0x20 || *c == 0x7f)
      abort();
  return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static FILE *diag; /* the reader's complaints go nowhere */
  FILE *f;

  if (!diag)
    diag = fopen("/dev/null", "w");
  if (!size || !diag)
    return 0;
  f = fmemopen((void *)data, size, "r");
  if (!f)
    return 0;
  (void)vmfile_read(f, "fuzz", check, NULL, diag);
  fclose(f);
  return 0;
}
