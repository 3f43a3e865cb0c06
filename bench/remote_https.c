/*
 * remote_https.c -- a snapshot's disk read over the datastore HTTPS
 * interface (not a test; figures in docs/performance.md, "Remote disks:
 * HTTPS").
 *
 * The simulator gets one VM with a 2 GiB disk written to about half
 * allocated, and a snapshot of it; the snapshot's disk (a thin flat base:
 * the flat extent is the whole disk) is read, in the same run and from the
 * same URLs:
 *
 *   freevix   the whole disk through VixDiskLib_Read (1 MiB requests) and
 *             VixDiskLib_ReadAsync (4 in flight), freevix.httpsRoute vcenter
 *             (the session cookie) and host (a single-use ticket per
 *             request); 64 KiB reads at random sectors, Read and
 *             ReadAsync(4), both routes
 *   curl      the flat extent in one GET with the same cookie, or with one
 *             ticket from the host: the path's practical limit
 *   govmomi   the same file with object.Datastore.Download (vcenter) and
 *             soap.Client.Download with a ticket (host), bench/govmomi_download
 *
 * Each measurement is its own process (client CPU and peak RSS from
 * wait4); the simulator's CPU and counters are taken around it.  Rounds
 * run every measurement once, in the same order; the table gives the
 * median and the spread.
 *
 * Usage: bench_remote_https [ROUNDS [RANDOM_SECONDS [ONLY]]]   (3, 3, all)
 * ONLY: run just the measurements whose name contains it.
 * FREEVIX_SIM and FVX_GOVMOMI_DOWNLOAD override the built-in paths.
 */
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "remote_bench.h"
#include "util/mem.h"

/* A peer's measurement: which client, on which route. */
struct peer {
  enum { CURL, GOVMOMI } kind;
  const char *route; /* "vcenter" or "host" */
};

static const struct peer curl_vcenter = {CURL, "vcenter"},
                         curl_host = {CURL, "host"},
                         govmomi_vcenter = {GOVMOMI, "vcenter"},
                         govmomi_host = {GOVMOMI, "host"};

static const struct rb_measure scenarios[] = {
    {"freevix Read, vcenter", {"https", "vcenter", 0, 1, 0, 0, 0}, NULL},
    {"freevix ReadAsync x4, vcenter", {"https", "vcenter", 0, 4, 0, 0, 0},
     NULL},
    {"curl, vcenter (session cookie)", {0}, &curl_vcenter},
    {"govmomi Datastore.Download, vcenter", {0}, &govmomi_vcenter},
    {"freevix Read, host (ticket per request)",
     {"https", "host", 0, 1, 0, 0, 0}, NULL},
    {"freevix ReadAsync x4, host", {"https", "host", 0, 4, 0, 0, 0}, NULL},
    {"curl, host (one ticket)", {0}, &curl_host},
    {"govmomi soap.Client.Download, host", {0}, &govmomi_host},
    {"freevix random 64K Read, vcenter", {"https", "vcenter", 1, 1, 0, 0, 0},
     NULL},
    {"freevix random 64K ReadAsync x4, vcenter",
     {"https", "vcenter", 1, 4, 0, 0, 0}, NULL},
    {"freevix random 64K Read, host", {"https", "host", 1, 1, 0, 0, 0}, NULL},
    {"freevix random 64K ReadAsync x4, host", {"https", "host", 1, 4, 0, 0, 0},
     NULL},
};
#define N_SCEN (sizeof scenarios / sizeof scenarios[0])

static const char *govmomi_path;

/* The flat extent's URL on a route. */
static void url_of(const struct rb_fixture *fx, const char *route,
                   char *out, size_t n)
{
  if (strcmp(route, "host") == 0)
    snprintf(out, n, "https://%s/folder/%s?dsName=%s", fx->host_name,
             fx->flat_rel, fx->ds);
  else
    snprintf(out, n, "https://%s:%d/folder/%s?dcPath=%s&dsName=%s",
             fx->sim.host, fx->sim.port, fx->flat_rel, fx->dc, fx->ds);
}

static int run_curl(const struct rb_fixture *fx, const char *route,
                    struct rb_result *res)
{
  char url[2048], cookie[1200], header[1300], out[256], ca[4200],
      connect_to[300], dir[4096];
  char *argv[] = {"curl", "-s", "-S", "-o", "/dev/null", "--cacert", ca,
                  "-H", "@-", "-w", "%{size_download} %{time_total} "
                  "%{http_code}", "--connect-to", connect_to, url, NULL};
  unsigned long long bytes = 0;
  double secs = 0;
  int code = 0, st;

  url_of(fx, route, url, sizeof url);
  snprintf(dir, sizeof dir, "%s", fx->sim.cert_path);
  if (strcmp(route, "host") == 0) {
    rb_ticket_cookie(fx, url, cookie, sizeof cookie);
    snprintf(ca, sizeof ca, "%s/host-%s.pem", dirname(dir), fx->host_moref);
  } else {
    rb_session_cookie(fx, cookie, sizeof cookie);
    snprintf(ca, sizeof ca, "%s", fx->sim.cert_path);
  }
  snprintf(connect_to, sizeof connect_to, "%s:443:127.0.0.1:%d",
           fx->host_name, fx->host_port);
  snprintf(header, sizeof header, "Cookie: %s\n", cookie);
  fvx_wipe(cookie, sizeof cookie);
  st = rb_run_process(fx, argv, header, out, sizeof out, res);
  fvx_wipe(header, sizeof header);
  if (st != 0 || sscanf(out, "%llu %lf %d", &bytes, &secs, &code) != 3 ||
      code != 200 || bytes != fx->capacity) {
    fprintf(stderr, "curl %s failed (status %d): %s\n", route, st, out);
    return -1;
  }
  res->bytes = bytes;
  res->wall_ms = secs * 1e3;
  res->ok = 1;
  return 0;
}

static int run_govmomi(const struct rb_fixture *fx, const char *route,
                       struct rb_result *res)
{
  char dial[300], out[256];
  char *argv[24];
  unsigned long long bytes = 0;
  double wall = 0, cpu = 0;
  int n = 0, st;

  if (!govmomi_path)
    return -1;
  argv[n++] = (char *)govmomi_path;
  argv[n++] = "-url";
  argv[n++] = (char *)fx->sim.sdk_url;
  argv[n++] = "-scenario";
  argv[n++] = "file";
  argv[n++] = "-route";
  argv[n++] = (char *)route;
  argv[n++] = "-dc";
  argv[n++] = (char *)fx->dc;
  argv[n++] = "-ds";
  argv[n++] = (char *)fx->ds;
  argv[n++] = "-path";
  argv[n++] = (char *)fx->flat_rel;
  if (strcmp(route, "host") == 0) {
    snprintf(dial, sizeof dial, "%s:443=127.0.0.1:%d", fx->host_name,
             fx->host_port);
    argv[n++] = "-host";
    argv[n++] = (char *)fx->host_name;
    argv[n++] = "-dial";
    argv[n++] = dial;
  }
  argv[n] = NULL;
  st = rb_run_process(fx, argv, NULL, out, sizeof out, res);
  if (st != 0 || sscanf(out, "%lf %lf %llu", &wall, &cpu, &bytes) != 3 ||
      bytes != fx->capacity) {
    fprintf(stderr, "govmomi %s failed (status %d): %s\n", route, st, out);
    return -1;
  }
  res->bytes = bytes;
  res->wall_ms = wall;
  res->ok = 1;
  return 0;
}

static int run_peer(const struct rb_fixture *fx, const void *arg,
                    struct rb_result *res)
{
  const struct peer *p = arg;

  return p->kind == CURL ? run_curl(fx, p->route, res)
                         : run_govmomi(fx, p->route, res);
}

static const struct rb_row *row_named(const struct rb_row *rows,
                                      const char *name)
{
  for (size_t i = 0; i < N_SCEN; i++)
    if (strcmp(rows[i].name, name) == 0)
      return &rows[i];
  return NULL;
}

static void ratio(const struct rb_row *rows, const char *a, const char *b)
{
  const struct rb_row *x = row_named(rows, a), *y = row_named(rows, b);
  double mx, my;

  if (!x || !y || !x->n || !y->n)
    return;
  mx = rb_median_mbs(x);
  my = rb_median_mbs(y);
  if (my > 0)
    printf("  %-40s / %-38s %5.2fx\n", a, b, mx / my);
}

int main(int argc, char **argv)
{
  static const char *const sim_args[] = {"--running-base-read", "allow",
                                         NULL};
  static struct rb_fixture fx;
  static struct rb_row rows[N_SCEN];
  struct rb_ceilings ceilings;
  struct rb_args a;

  if (rb_main_args(argc, argv, "bench_remote_https", &a))
    return 2;
  govmomi_path = getenv("FVX_GOVMOMI_DOWNLOAD");
#ifdef FVX_GOVMOMI_DOWNLOAD
  if (!govmomi_path)
    govmomi_path = FVX_GOVMOMI_DOWNLOAD;
#endif
  printf("# ");
  rb_print_machine();
  rb_setup(&fx, 0.5, sim_args);
  printf("# disk %s of %s: %.0f MiB, %.1f %% allocated; flat extent %s\n",
         fx.disk_file, fx.snapshot, (double)fx.capacity / 1048576.0,
         100.0 * (double)fx.allocated / (double)fx.capacity, fx.flat_rel);

  rb_measure_all(&fx, &a, scenarios, N_SCEN, run_peer, 0, rows, &ceilings);
  for (size_t i = 0; i < N_SCEN; i++)
    rb_print_row(&rows[i], scenarios[i].read.random, 0);
  printf("ratios of the medians:\n");
  ratio(rows, "freevix Read, vcenter", "curl, vcenter (session cookie)");
  ratio(rows, "freevix ReadAsync x4, vcenter",
        "curl, vcenter (session cookie)");
  ratio(rows, "freevix Read, vcenter", "govmomi Datastore.Download, vcenter");
  ratio(rows, "freevix ReadAsync x4, vcenter",
        "govmomi Datastore.Download, vcenter");
  ratio(rows, "freevix Read, host (ticket per request)",
        "curl, host (one ticket)");
  ratio(rows, "freevix ReadAsync x4, host", "curl, host (one ticket)");
  ratio(rows, "freevix ReadAsync x4, host",
        "govmomi soap.Client.Download, host");
  rb_teardown(&fx);
  return 0;
}
