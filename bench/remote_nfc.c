/*
 * remote_nfc.c -- a snapshot's disk read over NFC, VDDK's nbdssl and nbd
 * transports (not a test; figures in docs/performance.md, "Remote disks:
 * NFC").
 *
 * The same fixture as remote_https.c (one VM, a 2 GiB disk about half
 * allocated, a snapshot); in the same run:
 *
 *   ceiling   the simulator's own reader over the disk, no network
 *             (GET /disk/readrate): what its NFC responder reads from
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

struct scenario {
  const char *name;
  struct rb_read read;
};

static const struct scenario scenarios[] = {
    {"nbdssl Read (1 in flight)", {"nbdssl", NULL, 0, 1, 1, 0, 0}},
    {"nbdssl ReadAsync, 4 in flight", {"nbdssl", NULL, 0, 4, 4, 0, 0}},
    {"nbd Read (1 in flight)", {"nbd", NULL, 0, 1, 1, 0, 0}},
    {"nbd ReadAsync, 4 in flight", {"nbd", NULL, 0, 4, 4, 0, 0}},
    {"https Read, vcenter", {"https", "vcenter", 0, 1, 0, 0, 0}},
    {"https ReadAsync x4, vcenter", {"https", "vcenter", 0, 4, 0, 0, 0}},
    {"nbdssl random 64K Read", {"nbdssl", NULL, 1, 1, 1, 0, 0}},
    {"nbdssl random 64K ReadAsync, 4 in flight",
     {"nbdssl", NULL, 1, 4, 4, 0, 0}},
    {"nbd random 64K Read", {"nbd", NULL, 1, 1, 1, 0, 0}},
    {"nbd random 64K ReadAsync, 4 in flight", {"nbd", NULL, 1, 4, 4, 0, 0}},
};
#define N_SCEN (sizeof scenarios / sizeof scenarios[0])

int main(int argc, char **argv)
{
  static const char *const sim_args[] = {"--running-base-read", "allow",
                                         NULL};
  static struct rb_fixture fx;
  static struct rb_row rows[N_SCEN];
  struct rb_args a;
  double ceiling[RB_ROUNDS_MAX], med;

  if (rb_main_args(argc, argv, "bench_remote_nfc", &a))
    return 2;
  printf("# ");
  rb_print_machine();
  rb_setup(&fx, 0.5, sim_args);
  printf("# disk %s of %s: %.0f MiB, %.1f %% allocated\n", fx.disk_file,
         fx.snapshot, (double)fx.capacity / 1048576.0,
         100.0 * (double)fx.allocated / (double)fx.capacity);

  for (size_t i = 0; i < N_SCEN; i++) {
    struct rb_read r = scenarios[i].read;
    struct rb_result res;

    if (r.random || !strstr(scenarios[i].name, a.only))
      continue;
    r.verify = 1;
    rb_run_freevix(&fx, &r, &res);
    printf("# verified: %s (sha256 %.16s...)\n", scenarios[i].name,
           res.sha256);
  }

  for (size_t i = 0; i < N_SCEN; i++)
    rows[i].name = scenarios[i].name;
  for (int k = 0; k < a.rounds; k++) {
    rb_round_begin(&fx, k, a.rounds, ceiling);
    for (size_t i = 0; i < N_SCEN; i++) {
      struct rb_read r = scenarios[i].read;

      if (!strstr(scenarios[i].name, a.only))
        continue;
      r.seconds = a.rand_secs;
      rb_run_freevix(&fx, &r, &rows[i].r[rows[i].n++]);
    }
  }
  med = rb_rounds_end(ceiling, a.rounds);
  for (size_t i = 0; i < N_SCEN; i++)
    rb_print_row(&rows[i], scenarios[i].read.random,
                 scenarios[i].read.random ? 0 : med);
  rb_teardown(&fx);
  return 0;
}
