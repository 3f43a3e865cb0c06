/*
 * access_batch.c -- prepare + end of many VMs: freevix's batches against
 * VDDK's pattern (one PrepareForAccess / EndAccess per VM, each logging in
 * and out), and against govmomi batching the same DisableMethods /
 * EnableMethods calls (bench/govmomi_batch), in one run against one
 * simulator.
 *
 * For each: wall time, HTTP requests (the simulator's /stats) and client
 * CPU (getrusage) for all VMs.  Usage:
 *   FREEVIX_SIM=build/sim/freevix-sim \
 *   FVX_GOVMOMI_BATCH=build/bench/govmomi_batch \
 *   bench_access_batch [vms=1000] [batch=500]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "freevix.h"
#include "sim.h"
#include "measure.h"
#include "vddk_pattern.h"

#define MAX_VMS 5000

static struct fvx_sim sim;
static char vms[MAX_VMS][64];
static char specs_buf[MAX_VMS][96];
static const char *specs[MAX_VMS];

struct figure {
  double ms, cpu_ms;
  long requests;
};

static void check(VixError err, const char *what)
{
  if (err != VIX_OK) {
    fprintf(stderr, "%s failed: %llu\n", what, (unsigned long long)err);
    exit(1);
  }
}

static void begin(struct figure *f)
{
  fvx_sim_admin(&sim, "POST", "/stats/reset", "{}", NULL);
  f->ms = bench_now_ms();
  f->cpu_ms = bench_cpu_ms();
}

static void done(struct figure *f)
{
  f->ms = bench_now_ms() - f->ms;
  f->cpu_ms = bench_cpu_ms() - f->cpu_ms;
  f->requests = fvx_sim_stat(&sim, "requests");
}

/* freevix: one handle (login included), prepare all, end all. */
static void batched(int n, int batch, struct figure *f)
{
  VixDiskLibConnectParams p;
  freevix_access_options o;
  freevix_access *a;

  fvx_sim_params(&sim, &p, NULL, NULL);
  memset(&o, 0, sizeof o);
  o.identity = "bench-batch";
  o.batchSize = (uint32)batch;
  o.assumeAtomicDisable = 1;
  check(VixDiskLib_InitEx(8, 0, NULL, NULL, NULL, NULL, NULL), "InitEx");
  begin(f);
  check(freevix_access_open(&p, &o, &a), "freevix_access_open");
  check(freevix_access_prepare(a, specs, (uint32)n, NULL), "prepare");
  check(freevix_access_end(a, specs, (uint32)n, NULL), "end");
  check(freevix_access_close(a), "close");
  done(f);
  VixDiskLib_Exit();
}

static void per_call_login(int n, struct figure *f)
{
  begin(f);
  for (int i = 0; i < n; i++) {
    vddk_pattern_call(&sim, vms[i], true);
    vddk_pattern_call(&sim, vms[i], false);
  }
  done(f);
}

/* govmomi_batch prints "wall_ms cpu_us" (login to logout, like ours);
 * preread: the same per-batch disabledMethod read as freevix. */
static int govmomi(const char *peer, int n, int batch, bool preread,
                   struct figure *f)
{
  size_t len = (size_t)n * 64 + 512;
  char *cmd = malloc(len);
  size_t off;
  FILE *pp;
  long cpu_us = 0;
  int ok;

  if (!cmd)
    return -1;
  off = (size_t)snprintf(cmd, len, "%s -url %s -batch %d -preread=%s -vms ",
                         peer, sim.sdk_url, batch, preread ? "true" : "false");
  for (int i = 0; i < n; i++)
    off += (size_t)snprintf(cmd + off, len - off, "%s%s", i ? "," : "",
                            vms[i]);
  fvx_sim_admin(&sim, "POST", "/stats/reset", "{}", NULL);
  pp = popen(cmd, "r");
  free(cmd);
  if (!pp)
    return -1;
  ok = fscanf(pp, "%lf %ld", &f->ms, &cpu_us) == 2;
  if (pclose(pp) != 0 || !ok)
    return -1;
  f->cpu_ms = cpu_us / 1000.0;
  f->requests = fvx_sim_stat(&sim, "requests");
  return 0;
}

int main(int argc, char **argv)
{
  int n = argc > 1 ? atoi(argv[1]) : 1000;
  int batch = argc > 2 ? atoi(argv[2]) : 500;
  const char *peer = getenv("FVX_GOVMOMI_BATCH");
  char count[16];
  const char *args[] = {"--vms", count, NULL};
  struct figure fb, fl, fg, fd;
  bool have_peer;

  if (n <= 0 || n > MAX_VMS)
    n = 1000;
  if (batch <= 0)
    batch = 500;
  snprintf(count, sizeof count, "%d", n);
  fvx_sim_start(&sim, args);
  if (fvx_sim_vms(&sim, vms, NULL, MAX_VMS) < n)
    return 1;
  for (int i = 0; i < n; i++) {
    fvx_sim_spec(specs_buf[i], sizeof specs_buf[i], vms[i]);
    specs[i] = specs_buf[i];
  }
  batched(n, batch, &fb);
  per_call_login(n, &fl);
  have_peer = peer && govmomi(peer, n, batch, true, &fg) == 0 &&
              govmomi(peer, n, batch, false, &fd) == 0;
  fvx_sim_stop(&sim);

  printf("prepare + end of %d VMs against freevix-sim (TLS, 127.0.0.1), "
         "batches of %d\n\n", n, batch);
  printf("| client | wall ms (all VMs) | µs per VM | HTTP requests | "
         "client CPU µs per VM |\n|---|---|---|---|---|\n");
  printf("| freevix batches (login included) | %.1f | %.1f | %ld | %.1f |\n",
         fb.ms, fb.ms * 1e3 / n, fb.requests, fb.cpu_ms * 1e3 / n);
  printf("| VDDK pattern: per-call login, %d sequential pairs | %.1f | %.1f | "
         "%ld | %.1f |\n", n, fl.ms, fl.ms * 1e3 / n, fl.requests,
         fl.cpu_ms * 1e3 / n);
  if (have_peer) {
    printf("| govmomi batches, the same calls (login included) | %.1f | %.1f "
           "| %ld | %.1f |\n", fg.ms, fg.ms * 1e3 / n, fg.requests,
           fg.cpu_ms * 1e3 / n);
    printf("| govmomi batches without the disabledMethod read | %.1f | %.1f "
           "| %ld | %.1f |\n", fd.ms, fd.ms * 1e3 / n, fd.requests,
           fd.cpu_ms * 1e3 / n);
  }
  printf("\nbatches vs per-call login: %.0fx faster (wall), %.0fx fewer "
         "requests\n", fl.ms / fb.ms, (double)fl.requests / fb.requests);
  if (have_peer)
    printf("govmomi / freevix: wall %.2fx, client CPU %.2fx\n", fg.ms / fb.ms,
           fg.cpu_ms / fb.cpu_ms);
  else
    printf("govmomi peer not available (set FVX_GOVMOMI_BATCH)\n");
  return 0;
}
