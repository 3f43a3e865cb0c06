/*
 * remote_bench.c -- see remote_bench.h.
 */
#include "remote_bench.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "measure.h"
#include "util/mem.h"
#include "vim/vim.h"

#define MiB (1024ull * 1024)

static struct fvx_sim *running; /* for die() */
/* The bench's own session for the peers' cookies and tickets: logged in
 * on first use, logged out at rb_teardown. */
static struct vim_session *peer_session;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2),
                                                     noreturn));

static void die(const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  fprintf(stderr, "remote bench: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  if (running)
    fvx_sim_stop(running);
  exit(1);
}

/* ---- the simulator ------------------------------------------------------ */

/* Not inlined: gcc 12 at -O3 then takes a pointer into the answer for one
 * to the local that received it (a false -Wdangling-pointer). */
__attribute__((noinline)) static char *admin_get(const struct rb_fixture *fx,
                                                 const char *path)
{
  char *body = NULL;
  int st = fvx_sim_admin(&fx->sim, "GET", path, NULL, &body);

  if (st != 200)
    die("GET %s: %d %s", path, st, body ? body : "");
  return body;
}

static void admin_post(const struct rb_fixture *fx, const char *path,
                       const char *json)
{
  char *body = NULL;
  int st = fvx_sim_admin(&fx->sim, "POST", path, json, &body);

  if (st != 200)
    die("POST %s %s: %d %s", path, json ? json : "", st, body ? body : "");
  free(body);
}

/* The allocated runs of the disk as a bitmap of 1 MiB regions (a region
 * with any allocated byte counts); returns the allocated bytes. */
static uint64_t allocated_map(const struct rb_fixture *fx, const char *snap,
                              unsigned char *regions, size_t n_regions)
{
  char path[256], *body;
  const char *p;
  uint64_t total = 0;

  snprintf(path, sizeof path, "/disk/allocated?vm=%s&disk=%d&snapshot=%s",
           fx->vm, RB_KEY, snap);
  body = admin_get(fx, path);
  if (regions)
    memset(regions, 0, n_regions);
  for (p = body; (p = strstr(p, "\"offset\":")) != NULL;) {
    unsigned long long off = strtoull(p + 9, NULL, 10), len;
    const char *l = strstr(p, "\"length\":");

    if (!l)
      break;
    len = strtoull(l + 9, NULL, 10);
    total += len;
    for (uint64_t r = off / MiB; regions && len && r <= (off + len - 1) / MiB &&
                                 r < n_regions; r++)
      regions[r] = 1;
    p = l + 9;
  }
  free(body);
  return total;
}

static struct vim_session *login(const struct fvx_sim *sim)
{
  struct vim_options o;
  struct vim_session *s;
  struct vim_error e;

  memset(&o, 0, sizeof o);
  o.host = sim->host;
  o.port = (unsigned)sim->port;
  o.thumbprint = sim->thumbprint_sha1;
  if (vim_session_new(&s, &o, &e) != VIM_OK ||
      vim_login(s, sim->user, "freevix", &e) != VIM_OK)
    die("login: %s", e.detail);
  return s;
}

/* Writes guest data into every k-th hole region until `fraction` of the
 * disk is allocated (spread over the disk, as a guest's files would be). */
static void fill(struct rb_fixture *fx, double fraction)
{
  size_t n = (size_t)(fx->capacity / MiB);
  unsigned char *regions = malloc(n);
  uint64_t have, want = (uint64_t)(fraction * (double)fx->capacity);
  size_t holes = 0, need, step, written = 0;

  if (!regions)
    die("out of memory");
  have = allocated_map(fx, "", regions, n);
  for (size_t r = 0; r < n; r++)
    holes += !regions[r];
  need = have < want ? (size_t)((want - have + MiB - 1) / MiB) : 0;
  step = need ? holes / need : 0;
  for (size_t r = 0, h = 0; need && r < n && written < need; r++) {
    char json[256];

    if (regions[r])
      continue;
    if (h++ % (step ? step : 1))
      continue;
    snprintf(json, sizeof json,
             "{\"vm\":\"%s\",\"disk\":%d,\"offset\":%llu,\"length\":%llu,"
             "\"seed\":99}", fx->vm, RB_KEY,
             (unsigned long long)(r * MiB), (unsigned long long)MiB);
    admin_post(fx, "/guest/write", json);
    written++;
  }
  free(regions);
}

static void take_snapshot(struct rb_fixture *fx)
{
  struct vim_session *s = login(&fx->sim);
  struct vim_moref vm, task, snap;
  struct vim_vm_place place;
  struct vim_error e;

  vim_moref_set(&vm, "VirtualMachine", fx->vm);
  if (vim_create_snapshot(s, &vm, "bench", "remote read bench", false, false,
                          &task, &e) != VIM_OK ||
      vim_task_wait(s, &task, 120000, NULL, NULL, &snap, &e) != VIM_OK)
    die("snapshot of %s: %s", fx->vm, e.detail);
  snprintf(fx->snapshot, sizeof fx->snapshot, "%s", snap.value);
  if (vim_vm_place_get(s, &vm, &place, &e) != VIM_OK)
    die("place of %s: %s", fx->vm, e.detail);
  snprintf(fx->host_name, sizeof fx->host_name, "%s", place.host_name);
  snprintf(fx->host_moref, sizeof fx->host_moref, "%s", place.host.value);
  snprintf(fx->dc, sizeof fx->dc, "%s", place.dc_path);
  vim_session_free(s);
}

/* The host's port in connect_to ("H:443:127.0.0.1:P,..."). */
static int host_port(const struct fvx_sim *sim, const char *host)
{
  char key[300];
  const char *p;

  snprintf(key, sizeof key, "%s:443:127.0.0.1:", host);
  for (p = sim->connect_to; (p = strstr(p, key)) != NULL; p++)
    if (p == sim->connect_to || p[-1] == ',')
      return atoi(p + strlen(key));
  return 0;
}

void rb_setup(struct rb_fixture *fx, double fraction,
              const char *const *extra_args)
{
  const char *args[32] = {"--disk-size", "2GiB", "--vms", "1"};
  char vms[1][64], path[256], *body, num[32], *end;
  size_t n = 4;
  bool gc_set;

  memset(fx, 0, sizeof *fx);
  for (size_t i = 0; extra_args && extra_args[i] && n < 31; i++)
    args[n++] = extra_args[i];
  args[n] = NULL;
  /* The simulator's NFC responder allocates two buffers per IO read (the
   * read buffer and the reply frame): with Go's default GOGC=100 its
   * collector takes most of its CPU and bounds every NFC figure.  Unless
   * the environment sets GOGC, the simulator runs with the collector held
   * back to a 1 GiB heap, so the figures are the transports' (the peers
   * keep Go's defaults). */
  gc_set = !getenv("GOGC");
  if (gc_set) {
    setenv("GOGC", "off", 1);
    setenv("GOMEMLIMIT", "1GiB", 1);
  }
  fvx_sim_start(&fx->sim, args);
  if (gc_set) {
    unsetenv("GOGC");
    unsetenv("GOMEMLIMIT");
  }
  printf("# simulator: %s (GOGC=%s GOMEMLIMIT=%s)\n", getenv("FREEVIX_SIM"),
         gc_set ? "off" : getenv("GOGC"),
         gc_set ? "1GiB" : getenv("GOMEMLIMIT") ? getenv("GOMEMLIMIT") : "-");
  running = &fx->sim;
  if (fvx_sim_vms(&fx->sim, vms, NULL, 1) != 1)
    die("the simulator lists no VM");
  snprintf(fx->vm, sizeof fx->vm, "%s", vms[0]);
  fx->capacity = 2048 * MiB;
  fill(fx, fraction);
  take_snapshot(fx);
  fx->allocated = allocated_map(fx, fx->snapshot, NULL, 0);
  snprintf(path, sizeof path, "/disk/sha256?vm=%s&disk=%d&snapshot=%s",
           fx->vm, RB_KEY, fx->snapshot);
  body = admin_get(fx, path);
  if (fvx_sim_json_get(body, "sha256", fx->sha256, sizeof fx->sha256) ||
      fvx_sim_json_get(body, "file", fx->disk_file, sizeof fx->disk_file) ||
      fvx_sim_json_get(body, "size", num, sizeof num))
    die("GET %s: %s", path, body);
  free(body);
  fx->capacity = strtoull(num, NULL, 10);
  /* "[ds] dir/x.vmdk" -> ds, "dir/x-flat.vmdk" */
  end = strchr(fx->disk_file, ']');
  if (fx->disk_file[0] != '[' || !end || strlen(end) < 7)
    die("unexpected disk file %s", fx->disk_file);
  snprintf(fx->ds, sizeof fx->ds, "%.*s", (int)(end - fx->disk_file - 1),
           fx->disk_file + 1);
  snprintf(fx->flat_rel, sizeof fx->flat_rel, "%.*s-flat.vmdk",
           (int)(strlen(end + 2) - 5), end + 2);
  fx->host_port = host_port(&fx->sim, fx->host_name);
  if (!fx->host_port)
    die("no listener for host %s in %s", fx->host_name, fx->sim.connect_to);

  snprintf(num, sizeof num, "%d", fx->sim.port);
  setenv("RB_HOST", fx->sim.host, 1);
  setenv("RB_PORT", num, 1);
  setenv("RB_THUMBPRINT", fx->sim.thumbprint_sha1, 1);
  setenv("RB_USER", fx->sim.user, 1);
  setenv("RB_CONNECT_TO", fx->sim.connect_to, 1);
  setenv("RB_VM", fx->vm, 1);
  setenv("RB_SNAPSHOT", fx->snapshot, 1);
  setenv("RB_FILE", fx->disk_file, 1);
}

void rb_teardown(struct rb_fixture *fx)
{
  vim_session_free(peer_session);
  peer_session = NULL;
  fvx_sim_stop(&fx->sim);
  running = NULL;
}

/* GET path from the admin endpoint and its "bytes_per_second"; 0 on failure. */
static double admin_rate(const struct rb_fixture *fx, const char *path)
{
  char v[64], *body = admin_get(fx, path);
  double r = 0;

  if (fvx_sim_json_get(body, "bytes_per_second", v, sizeof v) == 0)
    r = strtod(v, NULL);
  free(body);
  return r;
}

double rb_sim_read_rate(const struct rb_fixture *fx)
{
  char path[256];

  snprintf(path, sizeof path, "/disk/readrate?vm=%s&disk=%d&snapshot=%s",
           fx->vm, RB_KEY, fx->snapshot);
  return admin_rate(fx, path);
}

double rb_sim_nfc_rate(const struct rb_fixture *fx, int ssl)
{
  char path[256];

  snprintf(path, sizeof path, "/nfc/readrate?vm=%s&disk=%d&snapshot=%s&ssl=%d",
           fx->vm, RB_KEY, fx->snapshot, ssl);
  return admin_rate(fx, path);
}

static struct vim_session *peers(const struct rb_fixture *fx)
{
  if (!peer_session)
    peer_session = login(&fx->sim);
  return peer_session;
}

void rb_session_cookie(const struct rb_fixture *fx, char *out, size_t n)
{
  struct vim_error e;
  char value[1024];

  if (vim_session_cookie(peers(fx), value, sizeof value, &e) != VIM_OK)
    die("session cookie: %s", e.detail);
  snprintf(out, n, "vmware_soap_session=%s", value);
  fvx_wipe(value, sizeof value);
}

void rb_ticket_cookie(const struct rb_fixture *fx, const char *url, char *out,
                      size_t n)
{
  struct vim_service_ticket t;
  struct vim_error e;

  if (vim_acquire_generic_ticket(peers(fx), url, "httpGet", &t, &e) !=
      VIM_OK)
    die("ticket for %s: %s", url, e.detail);
  snprintf(out, n, "vmware_cgi_ticket=%s", t.id);
  fvx_wipe(&t, sizeof t);
}

/* ---- counters ----------------------------------------------------------- */

/* The value of "key": in the object starting at p, or -1. */
static long long json_num(const char *p, const char *key)
{
  char v[64];

  if (!p || fvx_sim_json_get(p, key, v, sizeof v))
    return -1;
  return strtoll(v, NULL, 10);
}

/* The sum of the numbers of the map "name":{...} whose keys start with
 * prefix ("" for all). */
static long long json_sum(const char *json, const char *name,
                          const char *prefix)
{
  char key[128];
  const char *p, *end;
  long long sum = 0;

  snprintf(key, sizeof key, "\"%s\":{", name);
  p = strstr(json, key);
  if (!p)
    return 0;
  p += strlen(key);
  end = strchr(p, '}');
  while (p && end && p < end) {
    const char *q = strchr(p, '"'), *colon;

    if (!q || q >= end)
      break;
    colon = strstr(q, "\":");
    if (!colon || colon >= end)
      break;
    if (strncmp(q + 1, prefix, strlen(prefix)) == 0)
      sum += strtoll(colon + 2, NULL, 10);
    p = strchr(colon + 2, ',');
    if (p)
      p++;
  }
  return sum;
}

static void counts_read(const struct rb_fixture *fx, struct rb_counts *c)
{
  char *body = admin_get(fx, "/stats");
  const char *nfc = strstr(body, "\"nfc\":{");

  memset(c, 0, sizeof *c);
  c->folder_requests = (long)json_sum(body, "requests_by_path", "/folder/");
  c->tls_handshakes = (long)json_num(body, "tls_handshakes");
  c->host_tls_handshakes = (long)json_num(body, "host_tls_handshakes");
  c->tickets = (long)json_sum(body, "methods", "AcquireGenericServiceTicket");
  c->soap_calls = (long)json_sum(body, "methods", "");
  c->folder_bytes = json_num(body, "folder_bytes");
  if (nfc) {
    c->nfc_connections = (long)json_num(nfc, "connections");
    c->nfc_bytes = json_num(nfc, "bytes_read");
    c->nfc_io = (long)json_sum(nfc, "requests", "IO");
  }
  free(body);
}

/* The simulator's CPU so far, from /proc (ms). */
static double sim_cpu_ms(const struct rb_fixture *fx)
{
  char path[64], buf[1024], *p;
  unsigned long ut = 0, st = 0;
  FILE *f;

  snprintf(path, sizeof path, "/proc/%d/stat", (int)fx->sim.pid);
  f = fopen(path, "r");
  if (!f)
    return 0;
  if (!fgets(buf, sizeof buf, f))
    buf[0] = '\0';
  fclose(f);
  p = strrchr(buf, ')'); /* the command may contain spaces */
  if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
                   &ut, &st) != 2)
    return 0;
  return (double)(ut + st) * 1000.0 / (double)sysconf(_SC_CLK_TCK);
}

/* ---- processes ---------------------------------------------------------- */

int rb_run_process(const struct rb_fixture *fx, char *const *argv,
                   const char *stdin_text, char *out, size_t n,
                   struct rb_result *res)
{
  int in[2], outp[2], status = 0;
  struct rusage ru;
  size_t len = 0;
  double t0, s0;
  pid_t pid;

  memset(res, 0, sizeof *res);
  out[0] = '\0';
  admin_post(fx, "/stats/reset", NULL);
  if (pipe(in) || pipe(outp))
    die("pipe: %s", strerror(errno));
  s0 = sim_cpu_ms(fx);
  t0 = bench_now_ms();
  pid = fork();
  if (pid < 0)
    die("fork: %s", strerror(errno));
  if (pid == 0) {
    dup2(in[0], 0);
    dup2(outp[1], 1);
    close(in[0]);
    close(in[1]);
    close(outp[0]);
    close(outp[1]);
    execvp(argv[0], argv);
    fprintf(stderr, "remote bench: cannot run %s: %s\n", argv[0],
            strerror(errno));
    _exit(127);
  }
  close(in[0]);
  close(outp[1]);
  if (stdin_text && write(in[1], stdin_text, strlen(stdin_text)) < 0)
    fprintf(stderr, "remote bench: stdin of %s: %s\n", argv[0],
            strerror(errno));
  close(in[1]);
  for (;;) {
    ssize_t r = read(outp[0], out + len, n - 1 - len);

    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    len += (size_t)r;
    if (len == n - 1)
      break;
  }
  out[len] = '\0';
  close(outp[0]);
  if (wait4(pid, &status, 0, &ru) < 0)
    die("wait4: %s", strerror(errno));
  res->wall_ms = bench_now_ms() - t0;
  res->sim_cpu_ms = sim_cpu_ms(fx) - s0;
  res->cpu_ms = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
                (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
  res->maxrss_kib = ru.ru_maxrss;
  counts_read(fx, &res->c);
  if (!WIFEXITED(status))
    return -1;
  return WEXITSTATUS(status);
}

void rb_run_freevix(const struct rb_fixture *fx, const struct rb_read *r,
                    struct rb_result *out)
{
  char depth[16], inflight[16], secs[32], random[4], verify[4], line[512];
  char self[4096], wrap[1024], *argv[48], *save = NULL;
  const char *w = getenv("RB_CHILD_WRAP");
  unsigned long long bytes = 0, ops = 0;
  double wall = 0;
  ssize_t len;
  int n = 0, st;

  /* RB_CHILD_WRAP ("perf stat -e ... --", "strace -c -f -o f"): words run
   * in front of the reader, to profile it alone. */
  snprintf(wrap, sizeof wrap, "%s", w ? w : "");
  for (char *t = strtok_r(wrap, " ", &save); t && n < 36;
       t = strtok_r(NULL, " ", &save))
    argv[n++] = t;
  len = readlink("/proc/self/exe", self, sizeof self - 1);
  if (len <= 0)
    die("readlink /proc/self/exe: %s", strerror(errno));
  self[len] = '\0';
  argv[n++] = self;
  argv[n++] = "--child";
  argv[n++] = (char *)r->mode;
  argv[n++] = (char *)(r->route ? r->route : "-");
  argv[n++] = random;
  argv[n++] = depth;
  argv[n++] = inflight;
  argv[n++] = secs;
  argv[n++] = verify;
  argv[n] = NULL;

  snprintf(random, sizeof random, "%d", r->random);
  snprintf(depth, sizeof depth, "%d", r->depth);
  snprintf(inflight, sizeof inflight, "%d", r->in_flight);
  snprintf(secs, sizeof secs, "%.3f", r->seconds);
  snprintf(verify, sizeof verify, "%d", r->verify);
  st = rb_run_process(fx, argv, NULL, line, sizeof line, out);
  if (st != 0 || sscanf(line, "%llu %lf %llu %64s", &bytes, &wall, &ops,
                        out->sha256) != 4)
    die("freevix reader (%s %s random=%d depth=%d) failed (status %d): %s",
        r->mode, r->route ? r->route : "", r->random, r->depth, st, line);
  out->bytes = bytes;
  out->ops = ops;
  out->wall_ms = wall;
  out->ok = 1;
  if (r->verify && strcmp(out->sha256, fx->sha256) != 0)
    die("freevix reader (%s %s depth=%d) read the wrong bytes: sha256 %s, "
        "the simulator says %s", r->mode, r->route ? r->route : "",
        r->depth, out->sha256, fx->sha256);
}

/* ---- figures ------------------------------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return x < y ? -1 : x > y;
}

void rb_stats(const double *v, int n, double *median, double *min,
              double *max)
{
  double s[RB_ROUNDS_MAX];

  if (n <= 0) {
    *median = *min = *max = 0;
    return;
  }
  memcpy(s, v, (size_t)n * sizeof *s);
  qsort(s, (size_t)n, sizeof *s, cmp_double);
  *median = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
  *min = s[0];
  *max = s[n - 1];
}

static double mbs(const struct rb_result *r)
{
  return r->wall_ms > 0 ? (double)r->bytes / 1e3 / r->wall_ms : 0;
}

double rb_median_mbs(const struct rb_row *row)
{
  double v[RB_ROUNDS_MAX], med, lo, hi;

  for (int i = 0; i < row->n; i++)
    v[i] = mbs(&row->r[i]);
  rb_stats(v, row->n, &med, &lo, &hi);
  return med;
}

void rb_print_row(const struct rb_row *row, int random, double ref_mbs)
{
  double rate[RB_ROUNDS_MAX], cpu[RB_ROUNDS_MAX], scpu[RB_ROUNDS_MAX];
  double med, lo, hi, cmed, clo, chi, smed, slo, shi;
  const struct rb_result *last;
  double gib;
  long rss = 0;

  if (row->n == 0)
    return;
  last = &row->r[row->n - 1];
  gib = (double)last->bytes / (double)(1ull << 30);
  for (int i = 0; i < row->n; i++) {
    const struct rb_result *r = &row->r[i];
    double g = (double)r->bytes / (double)(1ull << 30);

    rate[i] = random ? (r->wall_ms > 0 ? (double)r->ops * 1e3 / r->wall_ms
                                       : 0)
                     : mbs(r);
    cpu[i] = g > 0 ? r->cpu_ms / 1e3 / g : 0;
    scpu[i] = g > 0 ? r->sim_cpu_ms / 1e3 / g : 0;
    if (r->maxrss_kib > rss)
      rss = r->maxrss_kib;
  }
  rb_stats(rate, row->n, &med, &lo, &hi);
  rb_stats(cpu, row->n, &cmed, &clo, &chi);
  rb_stats(scpu, row->n, &smed, &slo, &shi);
  printf("%-44s %8.1f %8.1f-%-8.1f %s", row->name, med, lo, hi,
         random ? "reads/s" : "MB/s   ");
  if (ref_mbs > 0)
    printf(" %5.2fx", med / ref_mbs);
  else
    printf("       ");
  printf("  cpu %5.2f s/GiB (%4.2f-%4.2f)  rss %6.1f MiB  sim %5.2f s/GiB",
         cmed, clo, chi, (double)rss / 1024.0, smed);
  /* The rate the simulator would serve at with a core to itself (its CPU
   * per byte), and how close the run came to it. */
  if (!random && smed > 0)
    printf(" (sim-bound %.0f MB/s, %.2fx)", (double)(1ull << 30) / 1e6 / smed,
           med * smed * 1e6 / (double)(1ull << 30));
  /* Bytes the server sent per byte the client asked for: 1.00 unless
   * something was fetched twice or read ahead in vain. */
  if (gib > 0)
    printf("  served %.3f", (double)(last->c.folder_bytes +
                                     last->c.nfc_bytes) /
                                (double)last->bytes);
  if (gib > 0)
    printf("  req %.1f/GiB hs %.1f/GiB tickets %.1f/GiB soap %.1f/GiB "
           "nfc-io %.1f/GiB nfc-conn %ld",
           (double)last->c.folder_requests / gib,
           (double)(last->c.tls_handshakes + last->c.host_tls_handshakes) /
               gib,
           (double)last->c.tickets / gib, (double)last->c.soap_calls / gib,
           (double)last->c.nfc_io / gib, last->c.nfc_connections);
  printf("\n");
  fflush(stdout);
}

void rb_print_machine(void)
{
  double load[3] = {0, 0, 0};
  time_t now = time(NULL);
  char when[64];

  getloadavg(load, 3);
  strftime(when, sizeof when, "%Y-%m-%d %H:%M", localtime(&now));
  printf("%s, %ld cores, load average %.2f %.2f %.2f\n", when,
         sysconf(_SC_NPROCESSORS_ONLN), load[0], load[1], load[2]);
}

int rb_main_args(int argc, char **argv, const char *name, struct rb_args *a)
{
  if (argc > 1 && strcmp(argv[1], "--child") == 0)
    exit(rb_child_main(argc, argv));
  a->rounds = argc > 1 ? atoi(argv[1]) : 3;
  a->rand_secs = argc > 2 ? strtod(argv[2], NULL) : 3;
  a->only = argc > 3 ? argv[3] : "";
  if (a->rounds < 1 || a->rounds > RB_ROUNDS_MAX || a->rand_secs <= 0) {
    fprintf(stderr, "usage: %s [ROUNDS (1-%d) [RANDOM_SECONDS [ONLY]]]\n",
            name, RB_ROUNDS_MAX);
    return 2;
  }
#ifdef FVX_SIM_DEFAULT
  if (!getenv("FREEVIX_SIM"))
    setenv("FREEVIX_SIM", FVX_SIM_DEFAULT, 1);
#endif
  return 0;
}

void rb_measure_all(const struct rb_fixture *fx, const struct rb_args *a,
                    const struct rb_measure *m, size_t n, rb_peer_fn *peer,
                    int nfc_refs, struct rb_row *rows,
                    struct rb_ceilings *out)
{
  double page[RB_ROUNDS_MAX], ssl[RB_ROUNDS_MAX], plain[RB_ROUNDS_MAX], lo, hi;

  for (size_t i = 0; i < n; i++) {
    struct rb_read r = m[i].read;
    struct rb_result res;

    if (!r.mode || r.random || !strstr(m[i].name, a->only))
      continue;
    r.verify = 1;
    rb_run_freevix(fx, &r, &res);
    printf("# verified: %s (sha256 %.16s...)\n", m[i].name, res.sha256);
  }
  for (size_t i = 0; i < n; i++)
    rows[i].name = m[i].name;
  for (int k = 0; k < a->rounds; k++) {
    page[k] = rb_sim_read_rate(fx) / 1e6;
    ssl[k] = nfc_refs ? rb_sim_nfc_rate(fx, 1) / 1e6 : 0;
    plain[k] = nfc_refs ? rb_sim_nfc_rate(fx, 0) / 1e6 : 0;
    printf("# round %d of %d: simulator's reader %.0f MB/s", k + 1, a->rounds,
           page[k]);
    if (nfc_refs)
      printf(", its NFC reference client nbdssl %.0f, nbd %.0f MB/s", ssl[k],
             plain[k]);
    printf("; ");
    rb_print_machine();
    fflush(stdout);
    for (size_t i = 0; i < n; i++) {
      struct rb_read r = m[i].read;
      struct rb_result *res = &rows[i].r[rows[i].n];

      if (!strstr(m[i].name, a->only))
        continue;
      if (r.mode) {
        r.seconds = a->rand_secs;
        rb_run_freevix(fx, &r, res);
      } else if (peer(fx, m[i].peer, res) != 0) {
        continue;
      }
      rows[i].n++;
    }
  }
  printf("# ");
  rb_print_machine();
  rb_stats(page, a->rounds, &out->page_cache, &lo, &hi);
  printf("simulator's own reader (GET /disk/readrate, no network): %.0f MB/s "
         "(%.0f-%.0f)\n", out->page_cache, lo, hi);
  out->nbdssl = out->nbd = 0;
  if (nfc_refs) {
    rb_stats(ssl, a->rounds, &out->nbdssl, &lo, &hi);
    printf("its NFC reference client (GET /nfc/readrate), nbdssl: %.0f MB/s "
           "(%.0f-%.0f)\n", out->nbdssl, lo, hi);
    rb_stats(plain, a->rounds, &out->nbd, &lo, &hi);
    printf("its NFC reference client (GET /nfc/readrate), nbd: %.0f MB/s "
           "(%.0f-%.0f)\n", out->nbd, lo, hi);
  }
}
