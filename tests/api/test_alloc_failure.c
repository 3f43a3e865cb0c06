/*
 * test_alloc_failure.c -- the "torture" pass: run a scenario that touches
 * every local path of the library (InitEx with a config file, connect
 * params, connections, PrepareForAccess argument checks, error texts,
 * creating, writing, reading and cloning a disk, metadata) once to count
 * its allocations, then again failing allocation 1, 2, ... N in turn.  Each
 * run must end without crashing and with every call either succeeding or
 * returning an error; afterwards a clean run must succeed again (no state
 * left half-built).
 *
 * malloc and friends are replaced for the whole process (glibc allows it)
 * by wrappers around glibc's own allocator, so allocations made inside
 * libc (strdup, asprintf), libxml2 and OpenSSL fail too.  Not run under
 * ASan or valgrind, which bring allocators of their own.
 */
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"
#include "vixDiskLib.h"

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void __libc_free(void *);

static long countdown = -1; /* allocations left before the failing one */
static long allocations;    /* counted while counting */
static int failed;          /* the failing allocation happened */

static int should_fail(void)
{
  allocations++;
  if (countdown < 0)
    return 0;
  if (countdown-- == 0) {
    failed = 1;
    return 1;
  }
  return 0;
}

void *malloc(size_t n)
{
  return should_fail() ? NULL : __libc_malloc(n);
}

void *calloc(size_t a, size_t b)
{
  return should_fail() ? NULL : __libc_calloc(a, b);
}

void *realloc(void *p, size_t n)
{
  return should_fail() ? NULL : __libc_realloc(p, n);
}

void *aligned_alloc(size_t align, size_t n)
{
  return should_fail() ? NULL : __libc_memalign(align, n);
}

int posix_memalign(void **out, size_t align, size_t n)
{
  void *p = should_fail() ? NULL : __libc_memalign(align, n);

  if (!p)
    return 12; /* ENOMEM */
  *out = p;
  return 0;
}

void *memalign(size_t align, size_t n)
{
  return should_fail() ? NULL : __libc_memalign(align, n);
}

void free(void *p)
{
  __libc_free(p);
}

static void quiet(const char *fmt, va_list ap)
{
  (void)fmt;
  (void)ap;
}

static char dir[4096];

/* Returns 0 when every step succeeded; non-zero when one failed cleanly. */
static int scenario(void)
{
  char conf[4200], base[4200], copy[4200], buf[512 * 8], val[64];
  VixDiskLibCreateParams cp;
  VixDiskLibConnectParams *p;
  VixDiskLibConnectParams *got = NULL;
  VixDiskLibConnection conn = NULL;
  VixDiskLibHandle h = NULL;
  VixDiskLibInfo *info = NULL;
  char *text;
  int bad = 0;

  snprintf(conf, sizeof conf, "%s/vddk.conf", dir);
  snprintf(base, sizeof base, "%s/base.vmdk", dir);
  snprintf(copy, sizeof copy, "%s/copy.vmdk", dir);
  unlink(base);
  unlink(copy);

  if (VixDiskLib_InitEx(8, 0, quiet, quiet, NULL, NULL, conf) != VIX_OK)
    return 1;
  p = VixDiskLib_AllocateConnectParams();
  bad |= !p;
  if (p) {
    p->vmxSpec = (char *)"moref=vm-1";
    bad |= VixDiskLib_ConnectEx(p, FALSE, NULL, NULL, &conn) != VIX_OK;
    if (conn) {
      bad |= VixDiskLib_GetConnectParams(conn, &got) != VIX_OK;
      VixDiskLib_FreeConnectParams(got);
    }
    p->serverName = (char *)"127.0.0.1";
    p->credType = VIXDISKLIB_CRED_UID;
    p->creds.uid.userName = (char *)"u";
    p->creds.uid.password = (char *)"p";
    p->vmxSpec = (char *)"x.vmx?dcPath=DC"; /* refused before any traffic */
    bad |= VixDiskLib_PrepareForAccess(p, "torture") == VIX_OK;
    VixDiskLib_FreeConnectParams(p);
  }
  text = VixDiskLib_GetErrorText(VIX_E_DISK_CID_MISMATCH, NULL);
  bad |= !text;
  VixDiskLib_FreeErrorText(text);

  if (conn) {
    memset(&cp, 0, sizeof cp);
    cp.diskType = VIXDISKLIB_DISK_MONOLITHIC_SPARSE;
    cp.adapterType = VIXDISKLIB_ADAPTER_SCSI_LSILOGIC;
    cp.hwVersion = VIXDISKLIB_HWVERSION_WORKSTATION_6;
    cp.capacity = 4096;
    if (VixDiskLib_Create(conn, base, &cp, NULL, NULL) != VIX_OK) {
      bad = 1;
    } else if (VixDiskLib_Open(conn, base, 0, &h) != VIX_OK) {
      bad = 1;
    } else {
      memset(buf, 0x5a, sizeof buf);
      bad |= VixDiskLib_Write(h, 100, 8, (uint8 *)buf) != VIX_OK;
      bad |= VixDiskLib_Read(h, 100, 8, (uint8 *)buf) != VIX_OK;
      bad |= VixDiskLib_WriteMetadata(h, "tool", "torture") != VIX_OK;
      bad |= VixDiskLib_ReadMetadata(h, "tool", val, sizeof val, NULL) !=
             VIX_OK;
      bad |= VixDiskLib_GetInfo(h, &info) != VIX_OK;
      VixDiskLib_FreeInfo(info);
      bad |= VixDiskLib_Close(h) != VIX_OK;
      bad |= VixDiskLib_Clone(conn, copy, conn, base, &cp, NULL, NULL, TRUE) !=
             VIX_OK;
    }
    bad |= VixDiskLib_Disconnect(conn) != VIX_OK;
  }
  VixDiskLib_Exit();
  return bad;
}

int main(void)
{
  FILE *f;
  long total;
  int clean_failures = 0;

  snprintf(dir, sizeof dir, "%s", fvx_test_tmpdir());
  {
    char conf[4200];

    snprintf(conf, sizeof conf, "%s/vddk.conf", dir);
    f = fopen(conf, "w");
    fputs("tmpDirectory = \"/tmp\"\nfreevix.timeoutMs = \"5000\"\n", f);
    fclose(f);
  }

  allocations = 0;
  if (scenario() != 0) {
    fprintf(stderr, "the scenario fails without injected failures\n");
    return 1;
  }
  total = allocations;
  printf("scenario: %ld allocations; failing each in turn\n", total);

  for (long k = 0; k < total; k++) {
    countdown = k;
    failed = 0;
    (void)scenario(); /* must not crash; errors are expected */
    countdown = -1;
    if (scenario() != 0) {
      fprintf(stderr, "after failing allocation %ld, a clean run fails\n", k);
      clean_failures++;
    }
  }
  fvx_test_rmtree(dir);
  printf("%ld runs with one failed allocation each: no crash; %d clean "
         "re-runs failed\n", total, clean_failures);
  return clean_failures ? 1 : 0;
}
