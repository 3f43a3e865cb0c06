/*
 * vim_roundtrip.c -- what a SOAP call costs with src/vim, next to govmomi.
 *
 *   props: RetrievePropertiesEx of one VM's name on a warm session
 *   pair:  DisableMethods + EnableMethods of RelocateVM_Task on a warm session
 *   cold:  new session, login, the props call, logout, free
 *
 * For each: wall ms and client CPU us per call (getrusage), HTTP requests and
 * new TCP connections per call as both our counters and the simulator's
 * /stats see them; then the same through bench/govmomi_peer and the ratio.
 *
 * Usage: bench_vim_roundtrip [N]      (N warm calls, default 1000; cold N/10)
 * FREEVIX_SIM and FVX_GOVMOMI_PEER override the built-in paths.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "measure.h"
#include "sim.h"
#include "vim/vim.h"

static struct fvx_sim sim;
static struct vim_moref vm;

static void die(const char *what, const struct vim_error *e)
{
  fprintf(stderr, "bench_vim_roundtrip: %s: %s\n", what, e ? e->detail : "");
  fvx_sim_stop(&sim);
  exit(1);
}

static struct vim_session *login(void)
{
  struct vim_options o = {0};
  struct vim_session *s;
  struct vim_error e;

  o.host = sim.host;
  o.port = (unsigned)sim.port;
  o.thumbprint = sim.thumbprint_sha256;
  if (vim_session_new(&s, &o, &e) != VIM_OK)
    die("session", &e);
  if (vim_login(s, sim.user, "freevix", &e) != VIM_OK)
    die("login", &e);
  return s;
}

static void props_call(struct vim_session *s)
{
  static const char *const name[] = {"name"};
  struct vim_objects *res;
  struct vim_error e;

  if (vim_retrieve(s, &vm, 1, name, 1, &res, &e) != VIM_OK)
    die("retrieve", &e);
  vim_objects_free(res);
}

static void pair_call(struct vim_session *s)
{
  struct vim_disabled_method dm = {"RelocateVM_Task", "bench"};
  const char *m = "RelocateVM_Task";
  struct vim_error e;

  if (vim_disable_methods(s, &vm, 1, &dm, 1, "freevix-bench", false, &e))
    die("disable", &e);
  if (vim_enable_methods(s, &vm, 1, &m, 1, "freevix-bench", &e))
    die("enable", &e);
}

struct figures {
  double wall_ms, cpu_us;      /* per iteration */
  double req, conn, tls;       /* per iteration, simulator's view */
  double our_req, our_conn;    /* per iteration, our counters */
};

static void sim_reset(void)
{
  fvx_sim_admin(&sim, "POST", "/stats/reset", "{}", NULL);
}

static void sim_read(struct figures *f, int n)
{
  f->req = (double)fvx_sim_stat(&sim, "requests") / n;
  f->conn = (double)fvx_sim_stat(&sim, "connections") / n;
  f->tls = (double)fvx_sim_stat(&sim, "tls_handshakes") / n;
}

static struct figures run_ours(const char *scenario, int n)
{
  struct figures f = {0};
  struct vim_session *s = NULL;
  struct vim_stats a = {0}, b = {0};
  double t0, c0;

  if (strcmp(scenario, "cold") != 0) {
    s = login();
    props_call(s); /* warm up the connection */
    vim_session_stats(s, &a);
  }
  sim_reset();
  t0 = bench_now_ms();
  c0 = bench_cpu_ms() * 1e3;
  for (int i = 0; i < n; i++) {
    if (strcmp(scenario, "props") == 0) {
      props_call(s);
    } else if (strcmp(scenario, "pair") == 0) {
      pair_call(s);
    } else {
      struct vim_session *c = login();

      props_call(c);
      vim_session_stats(c, &b);
      f.our_req += (double)b.requests;
      f.our_conn += (double)b.connects;
      vim_session_free(c);
      f.our_req += 1; /* the Logout inside free */
    }
  }
  f.wall_ms = (bench_now_ms() - t0) / n;
  f.cpu_us = (bench_cpu_ms() * 1e3 - c0) / n;
  sim_read(&f, n);
  if (s) {
    vim_session_stats(s, &b);
    f.our_req = (double)(b.requests - a.requests) / n;
    f.our_conn = (double)(b.connects - a.connects) / n;
    vim_session_free(s);
  } else {
    f.our_req /= n;
    f.our_conn /= n;
  }
  return f;
}

static int run_peer(const char *peer, const char *scenario, int n,
                    struct figures *f)
{
  char cmd[2048];
  FILE *p;
  double wall, cpu;
  int ok;

  memset(f, 0, sizeof *f);
  snprintf(cmd, sizeof cmd, "%s -url %s -vm %s -scenario %s -n %d", peer,
           sim.sdk_url, vm.value, scenario, n);
  sim_reset();
  p = popen(cmd, "r");
  if (!p)
    return -1;
  ok = fscanf(p, "%lf %lf", &wall, &cpu) == 2;
  if (pclose(p) != 0 || !ok)
    return -1;
  f->wall_ms = wall / n;
  f->cpu_us = cpu / n;
  sim_read(f, n);
  /* The peer's own login/logout (warm scenarios) are not per call. */
  return 0;
}

int main(int argc, char **argv)
{
  static const char *const scen[] = {"props", "pair", "cold"};
  const char *peer = getenv("FVX_GOVMOMI_PEER");
  char ids[8][64];
  int n = argc > 1 ? atoi(argv[1]) : 1000;

#ifdef FVX_SIM_DEFAULT
  if (!getenv("FREEVIX_SIM"))
    setenv("FREEVIX_SIM", FVX_SIM_DEFAULT, 1);
#endif
#ifdef FVX_GOVMOMI_PEER
  if (!peer)
    peer = FVX_GOVMOMI_PEER;
#endif
  if (n < 10)
    n = 10;
  fvx_sim_start(&sim, (const char *const[]){"--vms", "8", NULL});
  if (fvx_sim_vms(&sim, ids, NULL, 8) < 1)
    die("no VMs", NULL);
  vim_moref_set(&vm, "VirtualMachine", ids[0]);
  printf("SOAP client round trips against freevix-sim (TLS, loopback), N=%d "
         "warm / %d cold\n", n, n / 10);
  printf("%-6s %-8s %9s %9s %8s %8s %8s %8s\n", "call", "client", "ms/call",
         "cpu_us", "req", "conn", "tls", "ours:req");
  for (size_t i = 0; i < 3; i++) {
    int iters = strcmp(scen[i], "cold") == 0 ? n / 10 : n;
    struct figures f = run_ours(scen[i], iters), g;

    printf("%-6s %-8s %9.3f %9.1f %8.2f %8.2f %8.2f %8.2f\n", scen[i],
           "freevix", f.wall_ms, f.cpu_us, f.req, f.conn, f.tls, f.our_req);
    if (peer && run_peer(peer, scen[i], iters, &g) == 0) {
      printf("%-6s %-8s %9.3f %9.1f %8.2f %8.2f %8.2f %8s\n", scen[i],
             "govmomi", g.wall_ms, g.cpu_us, g.req, g.conn, g.tls, "-");
      printf("%-6s ratio govmomi/freevix: wall %.2fx, cpu %.2fx\n", scen[i],
             g.wall_ms / f.wall_ms, g.cpu_us / f.cpu_us);
    } else {
      printf("%-6s govmomi peer not available\n", scen[i]);
    }
  }
  fvx_sim_stop(&sim);
  return 0;
}
