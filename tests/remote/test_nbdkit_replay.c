/*
 * test_nbdkit_replay.c -- nbdkit's vddk plugin, replayed: the exact call
 * sequence the plugin makes in remote mode (nbdkit plugins/vddk, as
 * summarised in reference/vddk-api.md §7.3), against the simulator, for a
 * read-only export of a running VM's snapshot and a writable export of a
 * powered-off VM.  Debian has no nbdkit vddk plugin, so this is how CI
 * proves what virt-v2v, forklift and CDI rely on.
 *
 * What the plugin relies on and this test checks: InitEx(6, 5, ...);
 * AllocateConnectParams, its own strings in the struct, FreeConnectParams
 * not freeing them; ConnectEx(readonly, snapshot moref, "nbdssl:nbd");
 * Open(READ_ONLY | SINGLE_LINK | UNBUFFERED); GetTransportMode only logged;
 * GetInfo capacity; the can_extents probe QueryAllocatedBlocks(0, 128,
 * 128); extents in 128-sector chunks with the last query running past a
 * capacity that is not a multiple of 128 sectors; ReadAsync/WriteAsync
 * returning exactly VIX_ASYNC with callbacks possibly before the submit
 * returns, several in flight; Wait then Flush; Wait, Close, Disconnect,
 * FreeConnectParams; Exit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "freevix.h"
#include "remote_test.h"
#include "testutil.h"
#include "vixDiskLib.h"

#define KEY 2000
#define CHUNK 128          /* nbdkit's VIXDISKLIB_MIN_CHUNK_SIZE */
#define REQ_SECTORS 1024   /* 512 KiB requests */
#define IN_FLIGHT 8

/* nbdkit routes VDDK's log to its debug output and warn/panic to errors:
 * a test can only check that they are callable from any thread. */
static void log_fn(const char *fmt, va_list ap)
{
  (void)fmt;
  (void)ap;
}

static int setup(void **state)
{
  /* 16 MiB + 1 KiB: not a multiple of nbdkit's 128-sector chunks. */
  static const char *const args[] = {"--disk-size", "16385KiB", "--vms", "4",
                                     NULL};

  (void)state;
  /* nbdkit calls InitEx after fork, with API version 6.5. */
  return rt_setup_api(args, NULL, 6, 5, log_fn);
}

static int teardown(void **state)
{
  (void)state;
  return rt_teardown();
}

/* The plugin's connection step: its own strings in an allocated struct. */
static VixDiskLibConnectParams *plugin_params(const char *vm, char *vmx,
                                              size_t n)
{
  VixDiskLibConnectParams *p = VixDiskLib_AllocateConnectParams();

  assert_non_null(p);
  snprintf(vmx, n, "moref=%s", vm);
  p->vmxSpec = vmx;
  p->serverName = rt_sim.host;
  p->credType = VIXDISKLIB_CRED_UID;
  p->creds.uid.userName = (char *)"admin";
  p->creds.uid.password = (char *)"freevix";
  p->thumbPrint = rt_sim.thumbprint_sha1;
  p->port = (uint32)rt_sim.port;
  p->specType = VIXDISKLIB_SPEC_VMX;
  return p;
}

struct request {
  int done;
  VixError err;
};

static void completion(void *data, VixError err)
{
  struct request *r = data;

  r->err = err;
  __atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
}

static void hex(const unsigned char *d, unsigned int n, char out[65])
{
  for (unsigned int i = 0; i < n; i++)
    snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void read_only_export_of_a_running_vms_snapshot(void **state)
{
  char vmx[128], file[1024], expect[65], got[65], *snap = NULL;
  VixDiskLibConnectParams *p;
  VixDiskLibConnection conn;
  VixDiskLibHandle h;
  VixDiskLibInfo *info;
  VixDiskLibBlockList *bl;
  uint64_t cap, size, pos;
  struct request req[IN_FLIGHT];
  uint8_t *buf = malloc((size_t)IN_FLIGHT * REQ_SECTORS * 512);
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  unsigned char d[32];
  unsigned int dl;

  (void)state;
  assert_non_null(buf);
  p = plugin_params(rt_vms[0], vmx, sizeof vmx);
  /* The migration tool (not nbdkit) takes the snapshot. */
  assert_int_equal(freevix_snapshot_create(p, "nbdkit-replay", 60, &snap),
                   VIX_OK);
  rt_sim_disk(rt_vms[0], KEY, snap, expect, file, sizeof file);

  assert_int_equal(VixDiskLib_ConnectEx(p, TRUE, snap, "nbdssl:nbd", &conn),
                   VIX_OK);
  assert_int_equal(VixDiskLib_Open(conn, file,
                                   VIXDISKLIB_FLAG_OPEN_READ_ONLY |
                                       VIXDISKLIB_FLAG_OPEN_SINGLE_LINK |
                                       VIXDISKLIB_FLAG_OPEN_UNBUFFERED,
                                   &h),
                   VIX_OK);
  assert_string_equal(VixDiskLib_GetTransportMode(h), "nbdssl");
  assert_int_equal(VixDiskLib_GetInfo(h, &info), VIX_OK);
  cap = info->capacity;
  VixDiskLib_FreeInfo(info);
  size = cap * 512;
  assert_int_equal(size, 16385ull * 1024);

  /* can_extents probe. */
  assert_int_equal(VixDiskLib_QueryAllocatedBlocks(h, 0, CHUNK, CHUNK, &bl),
                   VIX_OK);
  assert_int_equal(VixDiskLib_FreeBlockList(bl), VIX_OK);
  /* extents: whole chunks, the last past the capacity. */
  assert_int_equal(VixDiskLib_QueryAllocatedBlocks(
                       h, 0, (cap + CHUNK - 1) / CHUNK * CHUNK, CHUNK, &bl),
                   VIX_OK);
  for (uint32 i = 0; i < bl->numBlocks; i++) {
    assert_true(bl->blocks[i].offset + bl->blocks[i].length <= cap);
    if (i)
      assert_true(bl->blocks[i].offset >=
                  bl->blocks[i - 1].offset + bl->blocks[i - 1].length);
  }
  assert_int_equal(VixDiskLib_FreeBlockList(bl), VIX_OK);

  /* pread: ReadAsync, several in flight, Wait. */
  EVP_DigestInit_ex(md, EVP_sha256(), NULL);
  for (pos = 0; pos < cap;) {
    uint64_t first = pos;
    int k = 0;

    for (; k < IN_FLIGHT && pos < cap; k++) {
      uint64_t n = cap - pos < REQ_SECTORS ? cap - pos : REQ_SECTORS;

      req[k].done = 0;
      assert_int_equal(VixDiskLib_ReadAsync(h, pos, n,
                                            buf + (size_t)k * REQ_SECTORS * 512,
                                            completion, &req[k]),
                       VIX_ASYNC);
      pos += n;
    }
    assert_int_equal(VixDiskLib_Wait(h), VIX_OK);
    for (int i = 0; i < k; i++) {
      assert_int_equal(__atomic_load_n(&req[i].done, __ATOMIC_ACQUIRE), 1);
      assert_int_equal(req[i].err, VIX_OK);
    }
    EVP_DigestUpdate(md, buf, (pos - first) * 512);
  }
  EVP_DigestFinal_ex(md, d, &dl);
  hex(d, dl, got);
  assert_string_equal(got, expect);

  /* close: Wait, Close, Disconnect, FreeConnectParams. */
  assert_int_equal(VixDiskLib_Wait(h), VIX_OK);
  assert_int_equal(VixDiskLib_Close(h), VIX_OK);
  assert_int_equal(VixDiskLib_Disconnect(conn), VIX_OK);
  assert_int_equal(freevix_snapshot_remove(p, snap, 60), VIX_OK);
  freevix_free(snap);
  VixDiskLib_FreeConnectParams(p); /* our strings stay ours */
  assert_string_equal(vmx + 6, rt_vms[0]);
  EVP_MD_CTX_free(md);
  free(buf);
}

static void writable_export_of_a_powered_off_vm(void **state)
{
  char vmx[128], file[1024], expect[65], got[65];
  VixDiskLibConnectParams *p;
  VixDiskLibConnection conn;
  VixDiskLibHandle h;
  VixDiskLibInfo *info;
  struct request req[IN_FLIGHT];
  uint8_t *image, *out;
  uint64_t cap;
  unsigned char d[32];
  unsigned int dl;
  const char *vm = rt_vms[1];

  (void)state;
  /* The tool powers the VM off first (a cold migration, or a restore). */
  p = plugin_params(vm, vmx, sizeof vmx);
  rt_power_off(vm);
  rt_sim_disk(vm, KEY, NULL, expect, file, sizeof file);
  assert_int_equal(VixDiskLib_ConnectEx(p, FALSE, NULL, "nbdssl:nbd", &conn),
                   VIX_OK);
  assert_int_equal(VixDiskLib_Open(conn, file, VIXDISKLIB_FLAG_OPEN_UNBUFFERED,
                                   &h),
                   VIX_OK);
  assert_int_equal(VixDiskLib_GetInfo(h, &info), VIX_OK);
  cap = info->capacity;
  VixDiskLib_FreeInfo(info);
  image = malloc(cap * 512);
  out = malloc((size_t)IN_FLIGHT * REQ_SECTORS * 512);
  assert_non_null(image);
  assert_non_null(out);
  assert_int_equal(VixDiskLib_Read(h, 0, cap, image), VIX_OK);

  /* pwrite: WriteAsync, several in flight; flush: Wait, Flush. */
  for (int k = 0; k < IN_FLIGHT; k++) {
    uint64_t sector = (uint64_t)k * 3 * REQ_SECTORS + 7;
    uint8_t *b = out + (size_t)k * REQ_SECTORS * 512;

    for (size_t i = 0; i < (size_t)REQ_SECTORS * 512; i++)
      b[i] = (uint8_t)(i * 31 + (size_t)k * 7 + 1);
    memcpy(image + sector * 512, b, (size_t)REQ_SECTORS * 512);
    req[k].done = 0;
    assert_int_equal(VixDiskLib_WriteAsync(h, sector, REQ_SECTORS, b,
                                           completion, &req[k]),
                     VIX_ASYNC);
  }
  assert_int_equal(VixDiskLib_Wait(h), VIX_OK);
  assert_int_equal(VixDiskLib_Flush(h), VIX_OK);
  for (int k = 0; k < IN_FLIGHT; k++)
    assert_int_equal(req[k].err, VIX_OK);
  assert_int_equal(VixDiskLib_Wait(h), VIX_OK);
  assert_int_equal(VixDiskLib_Close(h), VIX_OK);
  assert_int_equal(VixDiskLib_Disconnect(conn), VIX_OK);
  VixDiskLib_FreeConnectParams(p);

  EVP_Digest(image, cap * 512, d, &dl, EVP_sha256(), NULL);
  hex(d, dl, expect);
  rt_sim_disk(vm, KEY, NULL, got, NULL, 0);
  assert_string_equal(got, expect);
  free(image);
  free(out);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(read_only_export_of_a_running_vms_snapshot),
      cmocka_unit_test(writable_export_of_a_powered_off_vm),
  };

  return cmocka_run_group_tests(tests, setup, teardown);
}
