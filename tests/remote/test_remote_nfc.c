/*
 * test_remote_nfc.c -- remote disks over VDDK's nbd/nbdssl transports (the
 * NFC client of src/nfc against the simulator's responder, written from
 * the same fact sheet by someone else), end to end through the public API.
 *
 * The simulator keeps its default --running-base-read refuse: /folder
 * refuses a running VM's snapshot files, as real ESXi 8 reportedly does,
 * and NFC serves them (reference/nfc.md §4 "Running VMs").  Expected
 * values come from the simulator's own reader.
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
#define MiB (1024ull * 1024)

static int setup(void **state)
{
  static const char *const args[] = {"--disk-size", "16MiB", "--vms", "6",
                                     NULL};
  static const char *const config[] = {"freevix.nfcRequestsInFlight", "4",
                                       NULL};

  (void)state;
  return rt_setup(args, config);
}

static int teardown(void **state)
{
  (void)state;
  return rt_teardown();
}

static void running_vm_snapshot_over_nfc_not_https(void **state)
{
  const char *vm = rt_vms[0];
  VixDiskLibConnection conn;
  VixDiskLibHandle h;
  char snap[64], expect[65], got[65];

  (void)state;
  rt_snapshot(vm, "n-running", snap, sizeof snap);
  rt_guest_write(vm, KEY, 0, MiB, 21);
  rt_sim_disk(vm, KEY, snap, expect, NULL, 0);

  /* The datastore HTTPS path is refused for this file... */
  assert_int_equal(rt_open(vm, snap, "https", false, &conn, &h),
                   VIX_E_FILE_ACCESS_ERROR);
  /* ...NFC reads it, while the guest keeps writing. */
  assert_int_equal(rt_open(vm, snap, "nbdssl:nbd", false, &conn, &h),
                   VIX_OK);
  assert_string_equal(VixDiskLib_GetTransportMode(h), "nbdssl");
  rt_guest_write(vm, KEY, 4 * MiB, MiB, 22);
  rt_read_sha256(h, 1, got);
  assert_string_equal(got, expect);
  rt_close(conn, h);

  assert_int_equal(rt_open(vm, snap, "nbd", false, &conn, &h), VIX_OK);
  assert_string_equal(VixDiskLib_GetTransportMode(h), "nbd");
  rt_read_sha256(h, 0, got);
  assert_string_equal(got, expect);
  rt_close(conn, h);
}

static void running_leaf_is_refused(void **state)
{
  const char *vm = rt_vms[1];
  VixDiskLibConnection conn;
  VixDiskLibHandle h;

  (void)state;
  /* Without a snapshot the running VM's disk is its writable leaf: every
   * transport is refused (VDDK's guide: snapshot first). */
  assert_int_equal(rt_open(vm, NULL, NULL, false, &conn, &h),
                   VIX_E_FILE_ACCESS_ERROR);
  /* Writes to a disk attached to a running VM are refused at Open. */
  assert_int_equal(rt_open(vm, NULL, "nbdssl", true, &conn, &h),
                   VIX_E_FILE_ALREADY_LOCKED);
}

static void allocated_blocks_over_nfc(void **state)
{
  const char *vm = rt_vms[2];
  VixDiskLibConnection conn;
  VixDiskLibHandle h;
  char snap[64];
  enum { CHUNKS = 16 * 16 };
  uint8_t want[CHUNKS / 8], got[CHUNKS / 8];

  (void)state;
  rt_guest_write(vm, KEY, 8 * MiB, 128 * 1024, 23);
  rt_snapshot(vm, "n-alloc", snap, sizeof snap);
  rt_sim_chunks(vm, snap, want, CHUNKS);
  assert_int_equal(rt_open(vm, snap, "nbdssl", false, &conn, &h), VIX_OK);
  /* nbdkit's shape: 128-sector chunks. */
  rt_allocated_chunks(h, got, CHUNKS);
  assert_memory_equal(got, want, sizeof want);
  rt_close(conn, h);
}

/* Seeded bytes for a write pattern. */
static void pattern(uint8_t *buf, size_t n, unsigned seed)
{
  uint32_t x = seed * 2654435761u + 1;

  for (size_t i = 0; i < n; i++) {
    x = x * 1103515245u + 12345u;
    buf[i] = (uint8_t)(x >> 16);
  }
}

static void on_done(void *data, VixError err)
{
  __atomic_store_n((VixError *)data, err, __ATOMIC_RELEASE);
}

static void writes_land_on_a_powered_off_vm(void **state)
{
  const char *vm = rt_vms[3];
  VixDiskLibConnection conn;
  VixDiskLibHandle h;
  VixDiskLibInfo *info;
  uint64_t cap;
  uint8_t *disk, *chunk;
  VixError results[8];
  unsigned char md[32];
  unsigned int ml = 0;
  char expect[65], got[65];

  (void)state;
  rt_power_off(vm);
  assert_int_equal(rt_open(vm, NULL, "nbdssl:nbd", true, &conn, &h),
                   VIX_OK);
  assert_int_equal(VixDiskLib_GetInfo(h, &info), VIX_OK);
  cap = info->capacity;
  VixDiskLib_FreeInfo(info);
  disk = malloc(cap * 512);
  chunk = malloc(MiB);
  assert_non_null(disk);
  assert_non_null(chunk);
  assert_int_equal(VixDiskLib_Read(h, 0, cap, disk), VIX_OK);
  /* Eight asynchronous writes of 64 KiB at scattered sectors, then
   * Flush (nbdkit: Wait, then Flush). */
  for (int i = 0; i < 8; i++) {
    uint64_t sector = (uint64_t)i * (cap / 8) + 17;

    pattern(chunk + i * 65536, 65536, 100 + i);
    memcpy(disk + sector * 512, chunk + i * 65536, 65536);
    results[i] = (VixError)-1;
    assert_int_equal(VixDiskLib_WriteAsync(h, sector, 128, chunk + i * 65536,
                                           on_done, &results[i]),
                     VIX_ASYNC);
  }
  assert_int_equal(VixDiskLib_Wait(h), VIX_OK);
  for (int i = 0; i < 8; i++)
    assert_int_equal(__atomic_load_n(&results[i], __ATOMIC_ACQUIRE), VIX_OK);
  assert_int_equal(VixDiskLib_Flush(h), VIX_OK);

  /* A connection dropped before the host acknowledged a write: the write
   * is reported failed (it may or may not have landed; it is never
   * reported done), and it is not silently retried. */
  assert_int_equal(fvx_sim_admin(&rt_sim, "POST", "/nfc/fault",
                                 "{\"kind\":\"drop\",\"bytes\":10}", NULL),
                   200);
  assert_int_not_equal(VixDiskLib_Write(h, 0, 128, chunk), VIX_OK);
  rt_close(conn, h);

  /* What the host has now: the writes acknowledged, and maybe the one
   * that failed (sectors 0..127); compare the rest. */
  assert_int_equal(rt_open(vm, NULL, "nbdssl", false, &conn, &h), VIX_OK);
  {
    uint8_t *now = malloc(cap * 512);

    assert_non_null(now);
    assert_int_equal(VixDiskLib_Read(h, 0, cap, now), VIX_OK);
    assert_memory_equal(now + 128 * 512, disk + 128 * 512, (cap - 128) * 512);
    memcpy(disk, now, 128 * 512);
    free(now);
  }
  rt_close(conn, h);

  EVP_Digest(disk, cap * 512, md, &ml, EVP_sha256(), NULL);
  for (unsigned int i = 0; i < ml; i++)
    snprintf(expect + 2 * i, 3, "%02x", md[i]);
  rt_sim_disk(vm, KEY, NULL, got, NULL, 0);
  assert_string_equal(got, expect);
  free(disk);
  free(chunk);
}

static void faults_over_nfc(void **state)
{
  const char *vm = rt_vms[4];
  VixDiskLibConnection conn;
  VixDiskLibHandle h;
  char snap[64], expect[65], got[65];
  uint8_t buf[65536];

  (void)state;
  rt_snapshot(vm, "n-faults", snap, sizeof snap);
  rt_sim_disk(vm, KEY, snap, expect, NULL, 0);
  assert_int_equal(rt_open(vm, snap, "nbdssl", false, &conn, &h), VIX_OK);

  /* A connection dropped mid-reply is re-established with a new ticket,
   * and the read returns exactly the bytes. */
  assert_int_equal(fvx_sim_admin(&rt_sim, "POST", "/nfc/fault",
                                 "{\"kind\":\"drop\",\"bytes\":30000}", NULL),
                   200);
  rt_read_sha256(h, 0, got);
  assert_string_equal(got, expect);

  /* An ERROR reply fails that request with the server's message; the
   * connection goes on. */
  assert_int_equal(fvx_sim_admin(&rt_sim, "POST", "/nfc/fault",
                                 "{\"kind\":\"error\",\"code\":1}", NULL),
                   200);
  assert_int_not_equal(VixDiskLib_Read(h, 0, 128, buf), VIX_OK);
  assert_int_equal(VixDiskLib_Read(h, 0, 128, buf), VIX_OK);

  /* A delayed reply is waited for (well within the timeout). */
  assert_int_equal(fvx_sim_admin(&rt_sim, "POST", "/nfc/fault",
                                 "{\"kind\":\"delay\",\"ms\":300}", NULL),
                   200);
  assert_int_equal(VixDiskLib_Read(h, 0, 128, buf), VIX_OK);
  rt_close(conn, h);

  /* A stale ticket is refused by authd: a specific error at Open. */
  assert_int_equal(fvx_sim_admin(&rt_sim, "POST", "/nfc/fault",
                                 "{\"kind\":\"stale_ticket\"}", NULL),
                   200);
  assert_int_equal(rt_open(vm, snap, "nbdssl", false, &conn, &h),
                   VIX_E_INVALID_AUTHENTICATION_SESSION);
  assert_int_equal(fvx_sim_admin(&rt_sim, "POST", "/fault/clear", NULL, NULL),
                   200);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(running_vm_snapshot_over_nfc_not_https),
      cmocka_unit_test(running_leaf_is_refused),
      cmocka_unit_test(allocated_blocks_over_nfc),
      cmocka_unit_test(writes_land_on_a_powered_off_vm),
      cmocka_unit_test(faults_over_nfc),
  };

  return cmocka_run_group_tests(tests, setup, teardown);
}
