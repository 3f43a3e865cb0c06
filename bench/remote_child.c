/*
 * remote_child.c -- the freevix reader the remote benches run as a child
 * process (remote_bench.h): public API only, as a VDDK program reads a
 * snapshot's disk: InitEx, ConnectEx(readOnly, snapshot, transport), Open,
 * then either the whole disk in 1 MiB requests or 64 KiB requests at
 * uniformly random sectors for a while, with VixDiskLib_Read (depth 1) or
 * with VixDiskLib_ReadAsync keeping `depth` requests in flight all the
 * time (a new one is submitted as soon as one completes).  Verify runs
 * hash the disk in order (async: in batches of `depth`, then Wait).
 *
 *   <bench> --child MODE ROUTE RANDOM DEPTH IN_FLIGHT SECONDS VERIFY
 *
 * The fixture comes from the RB_* environment variables.  Prints
 * "bytes wall_ms reads sha256|-" for the transfer alone.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "freevix.h"
#include "measure.h"
#include "remote_bench.h"
#include "vixDiskLib.h"

#define SEQ_SECTORS 2048u /* 1 MiB */
#define RAND_SECTORS 128u /* 64 KiB */
#define DEPTH_MAX 16

static void quiet(const char *fmt, va_list ap)
{
  (void)fmt;
  (void)ap;
}

static void loud(const char *fmt, va_list ap)
{
  fprintf(stderr, "freevix: ");
  vfprintf(stderr, fmt, ap);
}

static void check(VixError err, const char *what)
{
  if (err != VIX_OK) {
    char *t = VixDiskLib_GetErrorText(err, NULL);

    fprintf(stderr, "remote bench child: %s: %s\n", what, t ? t : "?");
    VixDiskLib_FreeErrorText(t);
    exit(1);
  }
}

static const char *env(const char *name)
{
  const char *v = getenv(name);

  if (!v) {
    fprintf(stderr, "remote bench child: %s is not set\n", name);
    exit(1);
  }
  return v;
}

/* Applies "key=value,key=value" (FVX_BENCH_CONFIG: settings to compare
 * by hand, e.g. freevix.httpsReadAhead=0) with freevix_set_config. */
static void extra_config(const char *list)
{
  char buf[1024], *save = NULL;

  if (!list || !*list)
    return;
  if (strlen(list) >= sizeof buf) {
    fprintf(stderr, "remote bench child: FVX_BENCH_CONFIG is too long\n");
    exit(1);
  }
  strcpy(buf, list);
  for (char *kv = strtok_r(buf, ",", &save); kv;
       kv = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(kv, '=');

    if (!eq) {
      fprintf(stderr, "remote bench child: '%s' is not key=value\n", kv);
      exit(1);
    }
    *eq = '\0';
    check(freevix_set_config(kv, eq + 1), kv);
  }
}

/* Buffers handed out to requests in flight and given back by their
 * completion callbacks. */
struct slots {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int free[DEPTH_MAX];
  int nfree;
  VixError err;
};

struct slot {
  struct slots *s;
  int idx;
};

static void done(void *data, VixError err)
{
  struct slot *sl = data;
  struct slots *s = sl->s;

  pthread_mutex_lock(&s->mu);
  s->free[s->nfree++] = sl->idx;
  if (err != VIX_OK && s->err == VIX_OK)
    s->err = err;
  pthread_cond_signal(&s->cv);
  pthread_mutex_unlock(&s->mu);
}

static int take(struct slots *s)
{
  int idx;

  pthread_mutex_lock(&s->mu);
  while (!s->nfree)
    pthread_cond_wait(&s->cv, &s->mu);
  idx = s->free[--s->nfree];
  pthread_mutex_unlock(&s->mu);
  return idx;
}

static uint64_t xorshift(uint64_t *x)
{
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

struct job {
  VixDiskLibHandle h;
  uint64_t cap;    /* sectors */
  int random, depth, verify;
  double seconds;
  uint8_t *buf;    /* depth buffers of SEQ_SECTORS */
  uint64_t bytes, reads;
  EVP_MD_CTX *md;
};

/* The next request: *start, *n sectors; false when done. */
static bool next(struct job *j, uint64_t *pos, uint64_t *rng, double until,
                 uint64_t *start, uint64_t *n)
{
  if (j->random) {
    if (bench_now_ms() >= until)
      return false;
    *start = xorshift(rng) % (j->cap - RAND_SECTORS + 1);
    *n = RAND_SECTORS;
    return true;
  }
  if (*pos >= j->cap)
    return false;
  *start = *pos;
  *n = j->cap - *pos < SEQ_SECTORS ? j->cap - *pos : SEQ_SECTORS;
  *pos += *n;
  return true;
}

static void run_sync(struct job *j, double until)
{
  uint64_t pos = 0, rng = 88172645463325252ull, start, n;

  while (next(j, &pos, &rng, until, &start, &n)) {
    check(VixDiskLib_Read(j->h, start, n, j->buf), "Read");
    if (j->verify)
      EVP_DigestUpdate(j->md, j->buf, n * 512);
    j->bytes += n * 512;
    j->reads++;
  }
}

/* depth requests in flight all the time (not for verify runs). */
static void run_async(struct job *j, double until)
{
  struct slots s;
  struct slot sl[DEPTH_MAX];
  uint64_t pos = 0, rng = 88172645463325252ull, start, n;

  memset(&s, 0, sizeof s);
  pthread_mutex_init(&s.mu, NULL);
  pthread_cond_init(&s.cv, NULL);
  for (int i = 0; i < j->depth; i++) {
    s.free[s.nfree++] = i;
    sl[i].s = &s;
    sl[i].idx = i;
  }
  while (next(j, &pos, &rng, until, &start, &n)) {
    int i = take(&s);

    if (VixDiskLib_ReadAsync(j->h, start, n,
                             j->buf + (size_t)i * SEQ_SECTORS * 512, done,
                             &sl[i]) != VIX_ASYNC)
      check(VIX_E_FAIL, "ReadAsync");
    j->bytes += n * 512;
    j->reads++;
  }
  check(VixDiskLib_Wait(j->h), "Wait");
  check(s.err, "a ReadAsync request");
  pthread_cond_destroy(&s.cv);
  pthread_mutex_destroy(&s.mu);
}

/* Verify runs with ReadAsync: batches of depth, Wait, hash in order. */
static void run_async_batches(struct job *j)
{
  struct slots s;
  struct slot sl[DEPTH_MAX];
  uint64_t pos = 0, rng = 0, start, n[DEPTH_MAX];

  memset(&s, 0, sizeof s);
  pthread_mutex_init(&s.mu, NULL);
  pthread_cond_init(&s.cv, NULL);
  for (;;) {
    int k = 0;

    for (; k < j->depth && next(j, &pos, &rng, 0, &start, &n[k]); k++) {
      sl[k].s = &s;
      sl[k].idx = k;
      if (VixDiskLib_ReadAsync(j->h, start, n[k],
                               j->buf + (size_t)k * SEQ_SECTORS * 512, done,
                               &sl[k]) != VIX_ASYNC)
        check(VIX_E_FAIL, "ReadAsync");
    }
    if (!k)
      break;
    check(VixDiskLib_Wait(j->h), "Wait");
    check(s.err, "a ReadAsync request");
    for (int i = 0; i < k; i++) {
      EVP_DigestUpdate(j->md, j->buf + (size_t)i * SEQ_SECTORS * 512,
                       n[i] * 512);
      j->bytes += n[i] * 512;
      j->reads++;
    }
  }
  pthread_cond_destroy(&s.cv);
  pthread_mutex_destroy(&s.mu);
}

int rb_child_main(int argc, char **argv)
{
  VixDiskLibConnectParams p;
  VixDiskLibConnection conn;
  VixDiskLibInfo *info = NULL;
  struct job j;
  char spec[128], sha[65] = "-", num[16];
  const char *mode, *route;
  int in_flight;
  double t0, until;

  if (argc != 9) {
    fprintf(stderr, "usage: --child MODE ROUTE RANDOM DEPTH IN_FLIGHT "
                    "SECONDS VERIFY\n");
    return 2;
  }
  memset(&j, 0, sizeof j);
  mode = argv[2];
  route = argv[3];
  j.random = atoi(argv[4]);
  j.depth = atoi(argv[5]);
  in_flight = atoi(argv[6]);
  j.seconds = strtod(argv[7], NULL);
  j.verify = atoi(argv[8]);
  if (j.depth < 1 || j.depth > DEPTH_MAX || (j.random && j.verify))
    return 2;

  check(freevix_set_config("freevix.connectTo", env("RB_CONNECT_TO")),
        "freevix.connectTo");
  if (strcmp(route, "-") != 0)
    check(freevix_set_config("freevix.httpsRoute", route),
          "freevix.httpsRoute");
  if (in_flight > 0) {
    snprintf(num, sizeof num, "%d", in_flight);
    check(freevix_set_config("freevix.nfcRequestsInFlight", num),
          "freevix.nfcRequestsInFlight");
  }
  extra_config(getenv("FVX_BENCH_CONFIG"));
  check(VixDiskLib_InitEx(8, 0, quiet, loud, loud, NULL, NULL), "InitEx");
  snprintf(spec, sizeof spec, "moref=%s", env("RB_VM"));
  memset(&p, 0, sizeof p);
  p.vmxSpec = spec;
  p.serverName = (char *)env("RB_HOST");
  p.port = (uint32)atoi(env("RB_PORT"));
  p.thumbPrint = (char *)env("RB_THUMBPRINT");
  p.credType = VIXDISKLIB_CRED_UID;
  p.creds.uid.userName = (char *)env("RB_USER");
  p.creds.uid.password = (char *)"freevix";
  check(VixDiskLib_ConnectEx(&p, TRUE, env("RB_SNAPSHOT"), mode, &conn),
        "ConnectEx");
  check(VixDiskLib_Open(conn, env("RB_FILE"), VIXDISKLIB_FLAG_OPEN_READ_ONLY,
                        &j.h),
        "Open");
  if (strcmp(VixDiskLib_GetTransportMode(j.h), mode) != 0) {
    fprintf(stderr, "remote bench child: opened over %s, not %s\n",
            VixDiskLib_GetTransportMode(j.h), mode);
    return 1;
  }
  check(VixDiskLib_GetInfo(j.h, &info), "GetInfo");
  j.cap = info->capacity;
  VixDiskLib_FreeInfo(info);
  j.buf = malloc((size_t)j.depth * SEQ_SECTORS * 512);
  j.md = EVP_MD_CTX_new();
  if (!j.buf || !j.md || j.cap < RAND_SECTORS)
    return 1;
  EVP_DigestInit_ex(j.md, EVP_sha256(), NULL);

  t0 = bench_now_ms();
  until = t0 + j.seconds * 1e3;
  if (j.depth == 1)
    run_sync(&j, until);
  else if (j.verify)
    run_async_batches(&j);
  else
    run_async(&j, until);
  t0 = bench_now_ms() - t0;

  if (j.verify) {
    unsigned char d[32];
    unsigned int dl = 0;

    EVP_DigestFinal_ex(j.md, d, &dl);
    for (unsigned int i = 0; i < dl; i++)
      snprintf(sha + 2 * i, 3, "%02x", d[i]);
  }
  printf("%llu %.3f %llu %s\n", (unsigned long long)j.bytes, t0,
         (unsigned long long)j.reads, sha);
  EVP_MD_CTX_free(j.md);
  free(j.buf);
  check(VixDiskLib_Close(j.h), "Close");
  check(VixDiskLib_Disconnect(conn), "Disconnect");
  VixDiskLib_Exit();
  return 0;
}
