/*
 * threaded_read.c -- do reads on different disks from different threads
 * scale?  N threads, each reading its own local monolithicFlat disk in
 * small requests from the page cache, for N = 1, 2, 4 (or the counts
 * given): what is left is the library's own per-call cost, including any
 * lock every thread has to take.  Public API only, like a VDDK program.
 *
 *   threaded_read [SECONDS] [SECTORS_PER_READ] [N...]
 *
 * Prints one line per N: reads/s over all threads, MiB/s, and the speed-up
 * over N = 1.  docs/performance.md ("Threads") has the figures.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "measure.h"
#include "vixDiskLib.h"

#define DISK_SECTORS (64 * 2048) /* 64 MiB each */
#define MAX_THREADS 16

struct worker {
  VixDiskLibHandle h;
  uint32 per_read;
  double until_ms;
  unsigned long long reads;
  VixError err;
};

static void check(VixError err, const char *what)
{
  if (err != VIX_OK) {
    char *t = VixDiskLib_GetErrorText(err, NULL);

    fprintf(stderr, "threaded_read: %s: %s\n", what, t ? t : "?");
    VixDiskLib_FreeErrorText(t);
    exit(1);
  }
}

static void quiet(const char *fmt, va_list ap)
{
  (void)fmt;
  (void)ap;
}

static void *read_loop(void *arg)
{
  struct worker *w = arg;
  uint8 *buf = malloc((size_t)w->per_read * 512);
  VixDiskLibSectorType s = 0;

  if (!buf) {
    w->err = VIX_E_OUT_OF_MEMORY;
    return NULL;
  }
  while (!w->err && bench_now_ms() < w->until_ms) {
    for (int k = 0; k < 256 && !w->err; k++) { /* clock read every 256 */
      w->err = VixDiskLib_Read(w->h, s, w->per_read, buf);
      s += w->per_read;
      if (s + w->per_read > DISK_SECTORS)
        s = 0;
      w->reads++;
    }
  }
  free(buf);
  return NULL;
}

/* Runs n readers for secs seconds; returns reads per second. */
static double run(VixDiskLibHandle *h, int n, double secs, uint32 per_read)
{
  struct worker w[MAX_THREADS];
  pthread_t t[MAX_THREADS];
  double t0 = bench_now_ms(), total = 0;

  memset(w, 0, sizeof w);
  for (int i = 0; i < n; i++) {
    w[i].h = h[i];
    w[i].per_read = per_read;
    w[i].until_ms = t0 + secs * 1000;
    if (pthread_create(&t[i], NULL, read_loop, &w[i]) != 0) {
      fprintf(stderr, "threaded_read: pthread_create failed\n");
      exit(1);
    }
  }
  for (int i = 0; i < n; i++) {
    pthread_join(t[i], NULL);
    check(w[i].err, "VixDiskLib_Read");
    total += (double)w[i].reads;
  }
  return total / ((bench_now_ms() - t0) / 1000);
}

int main(int argc, char **argv)
{
  static const int default_counts[] = {1, 2, 4};
  double secs = argc > 1 ? atof(argv[1]) : 3;
  uint32 per_read = argc > 2 ? (uint32)atoi(argv[2]) : 8;
  int counts[MAX_THREADS], n_counts = 0, max_n = 0;
  VixDiskLibHandle h[MAX_THREADS];
  VixDiskLibConnection c = NULL;
  VixDiskLibCreateParams cp;
  char dir[] = "/tmp/fvx-threaded-read.XXXXXX";
  double base = 0;

  for (int i = 3; i < argc && n_counts < MAX_THREADS; i++)
    counts[n_counts++] = atoi(argv[i]);
  if (!n_counts)
    for (size_t i = 0; i < 3; i++)
      counts[n_counts++] = default_counts[i];
  for (int i = 0; i < n_counts; i++) {
    if (counts[i] < 1 || counts[i] > MAX_THREADS) {
      fprintf(stderr, "threaded_read: thread counts are 1..%d\n",
              MAX_THREADS);
      return 2;
    }
    if (counts[i] > max_n)
      max_n = counts[i];
  }
  if (secs <= 0 || per_read < 1 || per_read > 2048 || !mkdtemp(dir)) {
    fprintf(stderr, "usage: threaded_read [SECONDS] [SECTORS_PER_READ 1-2048] "
            "[N...]\n");
    return 2;
  }
  check(VixDiskLib_InitEx(8, 0, quiet, quiet, NULL, NULL, NULL), "InitEx");
  check(VixDiskLib_Connect(NULL, &c), "Connect");
  memset(&cp, 0, sizeof cp);
  cp.diskType = VIXDISKLIB_DISK_MONOLITHIC_FLAT;
  cp.adapterType = VIXDISKLIB_ADAPTER_SCSI_LSILOGIC;
  cp.hwVersion = VIXDISKLIB_HWVERSION_WORKSTATION_6;
  cp.capacity = DISK_SECTORS;
  for (int i = 0; i < max_n; i++) {
    char path[128];

    snprintf(path, sizeof path, "%s/d%d.vmdk", dir, i);
    check(VixDiskLib_Create(c, path, &cp, NULL, NULL), "Create");
    check(VixDiskLib_Open(c, path, VIXDISKLIB_FLAG_OPEN_READ_ONLY, &h[i]),
          "Open");
  }
  run(h, max_n, 0.5, per_read); /* warm the page cache and the CPUs */
  printf("# %u-sector reads from the page cache, %.1f s per run, %ld CPUs\n",
         per_read, secs, sysconf(_SC_NPROCESSORS_ONLN));
  printf("%-8s %14s %10s %9s\n", "threads", "reads/s", "MiB/s", "speed-up");
  for (int i = 0; i < n_counts; i++) {
    double r = run(h, counts[i], secs, per_read);

    if (counts[i] == 1 || base == 0)
      base = r / counts[i];
    printf("%-8d %14.0f %10.1f %8.2fx\n", counts[i], r,
           r * per_read * 512 / (1024.0 * 1024.0), r / base);
  }
  for (int i = 0; i < max_n; i++) {
    char path[128];

    check(VixDiskLib_Close(h[i]), "Close");
    snprintf(path, sizeof path, "%s/d%d.vmdk", dir, i);
    check(VixDiskLib_Unlink(c, path), "Unlink");
  }
  check(VixDiskLib_Disconnect(c), "Disconnect");
  VixDiskLib_Exit();
  rmdir(dir);
  return 0;
}
