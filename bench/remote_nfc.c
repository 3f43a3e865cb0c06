/*
 * remote_nfc.c -- a snapshot's disk read over NFC, VDDK's nbdssl and nbd
 * transports (not a test; figures in docs/performance.md, "Remote disks:
 * NFC").
 *
 * The same fixture as remote_https.c (one VM, a 2 GiB disk about half
 * allocated, a snapshot); in the same run:
 *
 *   ceilings  the simulator's own reader over the disk, no network
 *             (GET /disk/readrate): what its NFC responder reads from;
 *             and its NFC reference client (GET /nfc/readrate, nbdssl and
 *             nbd, 1 MiB reads one at a time): the responder's rate to a
 *             client that costs nothing beyond socket, TLS and framing --
 *             the ratio printed beside each NFC row
 *   nbdssl    the whole disk: VixDiskLib_Read (1 MiB, one request in
 *   nbd       flight) and ReadAsync with freevix.nfcRequestsInFlight 4 (4
 *             requests pipelined on the one NFC connection); 64 KiB reads
 *             at random sectors, Read and ReadAsync x4
 *   https     the same disk over the datastore interface (vcenter route),
 *             Read and ReadAsync x4, for comparison
 *
 * Usage: bench_remote_nfc [ROUNDS [RANDOM_SECONDS [ONLY]]]   (3, 3, all)
 * ONLY: run just the measurements whose name contains it.
 * FREEVIX_SIM overrides the built-in path.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote_bench.h"

static const struct rb_measure scenarios[] = {
    {"nbdssl Read (1 in flight)", {"nbdssl", NULL, 0, 1, 1, 0, 0}, NULL},
    {"nbdssl ReadAsync, 4 in flight", {"nbdssl", NULL, 0, 4, 4, 0, 0}, NULL},
    {"nbd Read (1 in flight)", {"nbd", NULL, 0, 1, 1, 0, 0}, NULL},
    {"nbd ReadAsync, 4 in flight", {"nbd", NULL, 0, 4, 4, 0, 0}, NULL},
    {"https Read, vcenter", {"https", "vcenter", 0, 1, 0, 0, 0}, NULL},
    {"https ReadAsync x4, vcenter", {"https", "vcenter", 0, 4, 0, 0, 0}, NULL},
    {"nbdssl random 64K Read", {"nbdssl", NULL, 1, 1, 1, 0, 0}, NULL},
    {"nbdssl random 64K ReadAsync, 4 in flight",
     {"nbdssl", NULL, 1, 4, 4, 0, 0}, NULL},
    {"nbd random 64K Read", {"nbd", NULL, 1, 1, 1, 0, 0}, NULL},
    {"nbd random 64K ReadAsync, 4 in flight",
     {"nbd", NULL, 1, 4, 4, 0, 0}, NULL},
};
#define N_SCEN (sizeof scenarios / sizeof scenarios[0])

int main(int argc, char **argv)
{
  static const char *const sim_args[] = {"--running-base-read", "allow",
                                         NULL};
  static struct rb_fixture fx;
  static struct rb_row rows[N_SCEN];
  struct rb_args a;
  struct rb_ceilings c;

  if (rb_main_args(argc, argv, "bench_remote_nfc", &a))
    return 2;
  printf("# ");
  rb_print_machine();
  rb_setup(&fx, 0.5, sim_args);
  printf("# disk %s of %s: %.0f MiB, %.1f %% allocated\n", fx.disk_file,
         fx.snapshot, (double)fx.capacity / 1048576.0,
         100.0 * (double)fx.allocated / (double)fx.capacity);
  rb_measure_all(&fx, &a, scenarios, N_SCEN, NULL, 1, rows, &c);
  /* Each NFC row next to the reference client on its transport. */
  for (size_t i = 0; i < N_SCEN; i++) {
    const char *mode = scenarios[i].read.mode;
    double ref = strcmp(mode, "nbdssl") == 0 ? c.nbdssl
                 : strcmp(mode, "nbd") == 0  ? c.nbd
                                             : 0;

    rb_print_row(&rows[i], scenarios[i].read.random,
                 scenarios[i].read.random ? 0 : ref);
  }
  printf("sequential rows / the simulator's own reader (%.0f MB/s):\n",
         c.page_cache);
  for (size_t i = 0; i < N_SCEN; i++)
    if (rows[i].n && !scenarios[i].read.random && c.page_cache > 0)
      printf("  %-44s %5.3fx\n", rows[i].name,
             rb_median_mbs(&rows[i]) / c.page_cache);
  rb_teardown(&fx);
  return 0;
}
