/*
 * test_remote_https.c -- remote disks over the datastore HTTPS interface,
 * end to end through the public VixDiskLib API against freevix-sim.
 *
 * Every expected value comes from the simulator's own reader (GET
 * /disk/sha256, /disk/allocated), never from freevix: what a VDDK program
 * reads through ConnectEx/Open/Read must be the bytes of the snapshot (or
 * of the powered-off VM) exactly, guest writes made after the snapshot
 * must not show, and failures must be specific errors, never zeros.
 *
 * The simulator runs with --running-base-read allow: real ESXi 8
 * reportedly refuses /folder reads of a running VM's snapshot base
 * (reference/remote-disk.md §1), which is what NFC is for; here the HTTPS
 * path is tested on its own.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "freevix.h"
#include "remote_test.h"
#include "testutil.h"
#include "vim/vim.h"
#include "vixDiskLib.h"

#define KEY 2000
#define MiB (1024ull * 1024)

static int setup(void **state)
{
  static const char *const args[] = {"--running-base-read", "allow",
                                     "--disk-size", "16MiB", "--vms", "7",
                                     NULL};
  /* A datastore request's whole time bound, short enough for the delay
   * test below and far above a 1 MiB ranged GET under valgrind. */
  static const char *const config[] = {"freevix.httpsRoute", "auto",
                                       "freevix.dataTimeoutMs", "5000", NULL};

  (void)state;
  return rt_setup(args, config);
}

static int teardown(void **state)
{
  (void)state;
  return rt_teardown();
}

/* ConnectEx (read-only, the HTTPS transport) and Open of the disk the
 * simulator names for (vm, snapshot). */
static void open_disk(const char *vm, const char *snapshot,
                      VixDiskLibConnection *conn, VixDiskLibHandle *h)
{
  assert_int_equal(rt_open(vm, snapshot, "https", false, conn, h), VIX_OK);
}

static void powered_off_vm_reads_exactly(void **state)
{
  const char *vm = rt_vms[1];
  VixDiskLibConnection conn;
  VixDiskLibHandle h;
  char expect[65], got[65];

  (void)state;
  rt_power_off(vm);
  rt_sim_disk(vm, KEY, NULL, expect, NULL, 0);
  open_disk(vm, NULL, &conn, &h);
  assert_string_equal(VixDiskLib_GetTransportMode(h), "https");
  rt_read_sha256(h, 0, got);
  assert_string_equal(got, expect);
  rt_read_sha256(h, 1, got);
  assert_string_equal(got, expect);
  rt_close(conn, h);
}

static void running_vm_snapshot_hides_later_writes(void **state)
{
  const char *vm = rt_vms[0];
  VixDiskLibConnection conn;
  VixDiskLibHandle h;
  char snap[64], expect[65], current[65], got[65];

  (void)state;
  rt_guest_write(vm, KEY, 3 * MiB, MiB, 7);
  rt_snapshot(vm, "t-running", snap, sizeof snap);
  /* The guest keeps writing after the snapshot. */
  rt_guest_write(vm, KEY, 0, MiB, 8);
  rt_guest_write(vm, KEY, 5 * MiB + 4096, 64 * 1024, 9);
  rt_sim_disk(vm, KEY, snap, expect, NULL, 0);
  rt_sim_disk(vm, KEY, NULL, current, NULL, 0);
  assert_string_not_equal(expect, current);

  open_disk(vm, snap, &conn, &h);
  rt_guest_write(vm, KEY, 9 * MiB, MiB, 10); /* and while we read */
  rt_read_sha256(h, 1, got);
  assert_string_equal(got, expect);
  rt_close(conn, h);
}

static void chain_of_two_snapshots(void **state)
{
  const char *vm = rt_vms[2];
  VixDiskLibConnection conn;
  VixDiskLibHandle h;
  char s1[64], s2[64], e1[65], e2[65], got[65];
  VixDiskLibInfo *info;

  (void)state;
  rt_snapshot(vm, "t-one", s1, sizeof s1);
  rt_guest_write(vm, KEY, 2 * MiB, 2 * MiB, 11);
  rt_snapshot(vm, "t-two", s2, sizeof s2);
  rt_guest_write(vm, KEY, 2 * MiB + 512, 4096, 12);
  rt_sim_disk(vm, KEY, s1, e1, NULL, 0);
  rt_sim_disk(vm, KEY, s2, e2, NULL, 0);
  assert_string_not_equal(e1, e2);

  /* The second snapshot's disk is the first snapshot's delta over the
   * base: a two-link chain, read through both. */
  open_disk(vm, s2, &conn, &h);
  assert_int_equal(VixDiskLib_GetInfo(h, &info), VIX_OK);
  assert_int_equal(info->numLinks, 2);
  assert_non_null(info->parentFileNameHint);
  VixDiskLib_FreeInfo(info);
  rt_read_sha256(h, 1, got);
  assert_string_equal(got, e2);
  rt_close(conn, h);

  open_disk(vm, s1, &conn, &h);
  rt_read_sha256(h, 0, got);
  assert_string_equal(got, e1);
  rt_close(conn, h);
}

static void allocated_blocks_match_the_simulator(void **state)
{
  const char *vm = rt_vms[3];
  VixDiskLibConnection conn;
  VixDiskLibHandle h;
  char snap[64];
  enum { CHUNKS = 16 * 16 }; /* 16 MiB in 64 KiB chunks */
  uint8_t want[CHUNKS / 8], got[CHUNKS / 8];
  size_t n_want = 0;

  (void)state;
  /* Flat extents know their allocation only through CBT: turn it on; it
   * takes effect at the next snapshot create or delete (remote-disk.md §4),
   * so a first snapshot activates it and the backup's carries changeIds. */
  rt_change_tracking(vm);
  rt_snapshot(vm, "t-cbt-on", snap, sizeof snap);
  {
    struct rt_vm v;

    rt_params(&v, vm);
    assert_int_equal(freevix_snapshot_remove(&v.p, snap, 60), VIX_OK);
  }
  rt_guest_write(vm, KEY, 8 * MiB, 128 * 1024, 13);
  rt_snapshot(vm, "t-alloc", snap, sizeof snap);
  rt_sim_chunks(vm, snap, want, CHUNKS);
  for (size_t i = 0; i < CHUNKS; i++)
    n_want += (want[i / 8] >> (i % 8)) & 1;
  assert_true(n_want > 0 && n_want < CHUNKS);

  open_disk(vm, snap, &conn, &h);
  rt_allocated_chunks(h, got, CHUNKS);
  assert_memory_equal(got, want, sizeof want);
  rt_close(conn, h);
}

static void clear_errors(void **state)
{
  const char *vm = rt_vms[4];
  struct rt_vm v;
  VixDiskLibConnection conn, other;
  VixDiskLibHandle h;
  char snap[64], sha[65], leaf[1024], base[1024];
  VixDiskLibCreateParams cp = {VIXDISKLIB_DISK_MONOLITHIC_SPARSE,
                               VIXDISKLIB_ADAPTER_SCSI_LSILOGIC, 7, 2048, 0,
                               0};
  uint8_t sector[512] = {0};

  (void)state;
  rt_params(&v, vm);
  /* An unknown snapshot fails at ConnectEx, not later. */
  assert_int_equal(VixDiskLib_ConnectEx(&v.p, TRUE, "snapshot-99999", NULL,
                                        &conn),
                   VIX_E_SNAPSHOT_NOTFOUND);
  /* So does another VM's snapshot. */
  rt_snapshot(rt_vms[5], "t-other", snap, sizeof snap);
  assert_int_equal(VixDiskLib_ConnectEx(&v.p, TRUE, snap, NULL, &conn),
                   VIX_E_SNAPSHOT_NOTFOUND);

  /* A path that is not one of the VM's disks is refused. */
  assert_int_equal(VixDiskLib_ConnectEx(&v.p, TRUE, NULL, "https", &conn),
                   VIX_OK);
  assert_int_equal(VixDiskLib_Open(conn, "[LocalDS_0] nowhere/x.vmdk",
                                   VIXDISKLIB_FLAG_OPEN_READ_ONLY, &h),
                   VIX_E_FILE_NOT_FOUND);
  assert_int_equal(VixDiskLib_Open(conn, "/local/path.vmdk",
                                   VIXDISKLIB_FLAG_OPEN_READ_ONLY, &h),
                   VIX_E_FILE_NAME_INVALID);
  /* The running VM's current disk is its writable, locked leaf: the host
   * refuses it, and no other transport can read it. */
  rt_sim_disk(vm, KEY, NULL, sha, leaf, sizeof leaf);
  assert_int_equal(VixDiskLib_Open(conn, leaf, VIXDISKLIB_FLAG_OPEN_READ_ONLY,
                                   &h),
                   VIX_E_FILE_ACCESS_ERROR);
  /* Remote connections create nothing. */
  assert_int_equal(VixDiskLib_Create(conn, "[LocalDS_0] x/new.vmdk", &cp, NULL,
                                     NULL),
                   VIX_E_NOT_SUPPORTED);
  assert_int_equal(VixDiskLib_Disconnect(conn), VIX_OK);

  /* Writes over HTTPS: the disk is read-only, said so, nothing sent. */
  rt_snapshot(vm, "t-ro", snap, sizeof snap);
  rt_sim_disk(vm, KEY, snap, sha, base, sizeof base);
  assert_int_equal(VixDiskLib_ConnectEx(&v.p, FALSE, snap, "https", &other),
                   VIX_OK);
  assert_int_equal(VixDiskLib_Open(other, base, 0, &h), VIX_OK);
  assert_int_equal(VixDiskLib_Write(h, 0, 1, sector), VIX_E_FILE_READ_ONLY);
  assert_int_equal(VixDiskLib_Close(h), VIX_OK);
  assert_int_equal(VixDiskLib_Disconnect(other), VIX_OK);
}

/* Arms one simulator fault (POST /fault with that JSON body). */
static void arm_fault(const char *json)
{
  assert_int_equal(fvx_sim_admin(&rt_sim, "POST", "/fault", json, NULL), 200);
}

static void faults_give_exact_bytes_or_errors(void **state)
{
  const char *vm = rt_vms[5];
  VixDiskLibConnection conn;
  VixDiskLibHandle h;
  char expect[65], got[65], snap[64];
  uint8_t *buf = malloc(MiB);

  (void)state;
  assert_non_null(buf);
  rt_snapshot(vm, "t-faults", snap, sizeof snap);
  rt_sim_disk(vm, KEY, snap, expect, NULL, 0);
  open_disk(vm, snap, &conn, &h);

  /* Connections dropped mid-body resume with a Range request. */
  arm_fault("{\"kind\":\"folder_drop\",\"count\":2,\"after\":100000}");
  rt_read_sha256(h, 0, got);
  assert_string_equal(got, expect);
  /* A new handle: nothing of the disk read ahead yet, so every read below
   * asks the simulator. */
  rt_close(conn, h);
  open_disk(vm, snap, &conn, &h);

  /* A short run of 503s is retried. */
  arm_fault("{\"kind\":\"folder_503\",\"count\":2}");
  assert_int_equal(VixDiskLib_Read(h, 0, MiB / 512, buf), VIX_OK);

  /* Beyond the retry bound: a specific error, never zeros (this read
   * continues the one before, so it is the error of a chunk read ahead). */
  arm_fault("{\"kind\":\"folder_503\",\"count\":50}");
  memset(buf, 0xa5, MiB);
  assert_int_equal(VixDiskLib_Read(h, 2048, 128, buf),
                   VIX_E_NET_HTTP_HTTP_RETURNED_ERROR);
  assert_int_equal(fvx_sim_admin(&rt_sim, "POST", "/fault/clear", NULL, NULL),
                   200);
  rt_read_sha256(h, 1, got);
  assert_string_equal(got, expect);
  rt_close(conn, h);
  free(buf);
}

static double now_s(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The faults of a host's answer to one ranged GET, each on a part of the
 * disk the handle has not read yet: a specific error at once, no zeros,
 * and the next read through a fresh ticket gets the bytes. */
static void ticket_timeout_and_vanished_file(void **state)
{
  const char *vm = rt_vms[6];
  VixDiskLibConnection conn;
  VixDiskLibHandle h;
  char expect[65], got[65], snap[64];
  uint8_t *buf = malloc(MiB), *again = malloc(MiB);
  double t0, waited;

  (void)state;
  assert_non_null(buf);
  assert_non_null(again);
  rt_snapshot(vm, "t-host-faults", snap, sizeof snap);
  rt_sim_disk(vm, KEY, snap, expect, NULL, 0);
  open_disk(vm, snap, &conn, &h);

  /* The host refuses a good ticket as used or lapsed: 401, and the read
   * is repeated once with a fresh ticket; refused twice, it is reported as
   * the session's refusal, never retried with the used ticket. */
  arm_fault("{\"kind\":\"folder_stale_ticket\",\"count\":1}");
  assert_int_equal(VixDiskLib_Read(h, 2048, 128, buf), VIX_OK);
  arm_fault("{\"kind\":\"folder_stale_ticket\",\"count\":2}");
  memset(buf, 0xa5, MiB);
  assert_int_equal(VixDiskLib_Read(h, 4096, 128, buf),
                   VIX_E_INVALID_AUTHENTICATION_SESSION);
  assert_int_equal(VixDiskLib_Read(h, 4096, 128, buf), VIX_OK);

  /* The file vanished (404). */
  arm_fault("{\"kind\":\"folder_status\",\"status\":404,\"count\":1}");
  assert_int_equal(VixDiskLib_Read(h, 8192, 128, again),
                   VIX_E_FILE_NOT_FOUND);

  /* The host does not answer: the request's time bound (5 s here), not
   * the server's 15 s, ends the wait. */
  arm_fault("{\"kind\":\"folder_delay\",\"ms\":15000,\"count\":1}");
  t0 = now_s();
  assert_int_equal(VixDiskLib_Read(h, 12288, 128, again),
                   VIX_E_NET_HTTP_OPERATION_TIMEDOUT);
  waited = now_s() - t0;
  if (waited < 4.5 || waited > 12.0)
    fail_msg("a 5 s request bound ended the read after %.1f s", waited);

  /* Every byte afterwards is the snapshot's. */
  rt_read_sha256(h, 1, got);
  assert_string_equal(got, expect);
  rt_close(conn, h);
  free(buf);
  free(again);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(powered_off_vm_reads_exactly),
      cmocka_unit_test(running_vm_snapshot_hides_later_writes),
      cmocka_unit_test(chain_of_two_snapshots),
      cmocka_unit_test(allocated_blocks_match_the_simulator),
      cmocka_unit_test(clear_errors),
      cmocka_unit_test(faults_give_exact_bytes_or_errors),
      cmocka_unit_test(ticket_timeout_and_vanished_file),
  };

  return cmocka_run_group_tests(tests, setup, teardown);
}
