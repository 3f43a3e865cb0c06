/*
 * prepare_pair.c -- what one PrepareForAccess + EndAccess pair costs.
 *
 *   cold:  InitEx, Prepare, End, Exit every time (a new process per backup)
 *   warm:  one InitEx, then pairs on the pooled session
 *   login: VDDK's pattern, done with our SOAP client: log in, Disable (or
 *          Enable), log out, for each of the two calls
 *
 * For each: milliseconds per pair (wall), HTTP requests and new TCP
 * connections per pair as the simulator counts them, and client CPU per
 * pair.  Usage: FREEVIX_SIM=build/sim/freevix-sim bench_prepare [pairs]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"
#include "measure.h"
#include "vddk_pattern.h"
#include "vixDiskLib.h"

static struct fvx_sim sim;
static char vm[64];

static void params(VixDiskLibConnectParams *p)
{
  static char vmx[96];

  fvx_sim_spec(vmx, sizeof vmx, vm);
  fvx_sim_params(&sim, p, NULL, vmx);
}

static void check(VixError err, const char *what)
{
  if (err != VIX_OK) {
    fprintf(stderr, "%s failed: %llu\n", what, (unsigned long long)err);
    exit(1);
  }
}

static void pair_cold(void)
{
  VixDiskLibConnectParams p;

  params(&p);
  check(VixDiskLib_InitEx(8, 0, NULL, NULL, NULL, NULL, NULL), "InitEx");
  check(VixDiskLib_PrepareForAccess(&p, "bench"), "Prepare");
  check(VixDiskLib_EndAccess(&p, "bench"), "End");
  VixDiskLib_Exit();
}

static void pair_warm(void)
{
  VixDiskLibConnectParams p;

  params(&p);
  check(VixDiskLib_PrepareForAccess(&p, "bench"), "Prepare");
  check(VixDiskLib_EndAccess(&p, "bench"), "End");
}

static void pair_login(void)
{
  vddk_pattern_call(&sim, vm, true);
  vddk_pattern_call(&sim, vm, false);
}

struct result {
  const char *name;
  double ms, cpu_ms, requests, connects;
};

static struct result measure(const char *name, void (*pair)(void), int n)
{
  struct result r = {name, 0, 0, 0, 0};
  long req0, con0;
  double t0, c0;

  fvx_sim_admin(&sim, "POST", "/stats/reset", "{}", NULL);
  req0 = fvx_sim_stat(&sim, "requests");
  con0 = fvx_sim_stat(&sim, "connections");
  t0 = bench_now_ms();
  c0 = bench_cpu_ms();
  for (int i = 0; i < n; i++)
    pair();
  r.ms = (bench_now_ms() - t0) / n;
  r.cpu_ms = (bench_cpu_ms() - c0) / n;
  /* The two admin GETs go to another port: not counted. */
  r.requests = (double)(fvx_sim_stat(&sim, "requests") - req0) / n;
  r.connects = (double)(fvx_sim_stat(&sim, "connections") - con0) / n;
  return r;
}

int main(int argc, char **argv)
{
  int n = argc > 1 ? atoi(argv[1]) : 200;
  char morefs[1][64], names[1][128];
  struct result cold, warm, login;
  VixDiskLibConnectParams p;

  if (n <= 0)
    n = 200;
  fvx_sim_start(&sim, NULL);
  if (fvx_sim_vms(&sim, morefs, names, 1) < 1)
    return 1;
  snprintf(vm, sizeof vm, "%s", morefs[0]);

  cold = measure("cold (InitEx+pair+Exit)", pair_cold, n);
  login = measure("per-call login (VDDK's way)", pair_login, n);
  check(VixDiskLib_InitEx(8, 0, NULL, NULL, NULL, NULL, NULL), "InitEx");
  params(&p);
  pair_warm(); /* fill the pool */
  warm = measure("warm (pooled session)", pair_warm, n);
  VixDiskLib_Exit();
  fvx_sim_stop(&sim);

  printf("%d PrepareForAccess+EndAccess pairs against freevix-sim (TLS, "
         "127.0.0.1)\n\n", n);
  printf("| pattern | ms per pair | HTTP requests per pair | new connections "
         "per pair | client CPU ms per pair |\n|---|---|---|---|---|\n");
  {
    const struct result *rs[] = {&login, &cold, &warm};

    for (int i = 0; i < 3; i++)
      printf("| %s | %.2f | %.1f | %.1f | %.3f |\n", rs[i]->name, rs[i]->ms,
             rs[i]->requests, rs[i]->connects, rs[i]->cpu_ms);
  }
  printf("\nwarm is %.1fx faster than per-call login (wall), %.1fx less "
         "client CPU\n", login.ms / warm.ms, login.cpu_ms / warm.cpu_ms);
  return 0;
}
