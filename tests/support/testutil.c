/* testutil.c -- see testutil.h. */
#include "testutil.h"

#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

const char *fvx_test_tmpdir(void)
{
  static char path[4096];
  const char *base = getenv("TMPDIR");

  snprintf(path, sizeof path, "%s/freevix-test-XXXXXX", base ? base : "/tmp");
  if (!mkdtemp(path)) {
    perror("mkdtemp");
    abort();
  }
  return path;
}

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
  (void)st;
  (void)flag;
  (void)f;
  return remove(p) == 0 ? 0 : 0;
}

void fvx_test_rmtree(const char *path)
{
  nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *fvx_test_read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  size_t n = 0, cap = 0;

  if (!f)
    return NULL;
  for (;;) {
    size_t r;

    if (cap - n < 4096) {
      char *p = realloc(buf, cap + 65536);

      if (!p) {
        free(buf);
        fclose(f);
        return NULL;
      }
      buf = p;
      cap += 65536;
    }
    r = fread(buf + n, 1, cap - n - 1, f);
    n += r;
    if (r == 0)
      break;
  }
  fclose(f);
  buf[n] = '\0';
  if (len)
    *len = n;
  return buf;
}

void fvx_test_skip(const char *reason)
{
  printf("SKIP: %s\n", reason);
  fflush(stdout);
  exit(77);
}

int fvx_test_under_valgrind(void)
{
  return getenv("FREEVIX_UNDER_VALGRIND") != NULL;
}

void fvx_test_create_disk(VixDiskLibConnection c, const char *path,
                          VixDiskLibDiskType type, uint64_t sectors)
{
  VixDiskLibCreateParams cp;
  VixError err;

  memset(&cp, 0, sizeof cp);
  cp.diskType = type;
  cp.adapterType = VIXDISKLIB_ADAPTER_SCSI_LSILOGIC;
  cp.hwVersion = VIXDISKLIB_HWVERSION_WORKSTATION_6;
  cp.capacity = sectors;
  err = VixDiskLib_Create(c, path, &cp, NULL, NULL);
  if (err != VIX_OK)
    fail_msg("VixDiskLib_Create(%s): error %llu", path,
             (unsigned long long)err);
}
