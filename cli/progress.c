/*
 * progress.c -- progress bars and step lines, see progress.h.
 *
 * On a terminal the bars of the VMs at work are the last lines of the
 * screen: a redraw moves the cursor up over them, clears and rewrites
 * them; a step line first clears them, prints itself, then redraws, so it
 * scrolls above.  A thread redraws four times a second.  Without a
 * terminal nothing is redrawn and progress_set prints a line at most
 * every 30 s per bar.
 */
#include "progress.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_BARS 4096u
#define REDRAW_NS 250000000L
#define LINE_EVERY_S 30.0

struct bar {
  char name[64];
  uint64_t total, done;
  double started, last_line;
  bool active, counting;
};

struct progress {
  FILE *out;
  char prefix[32];
  bool tty;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t ticker;
  bool ticking, stopping;
  struct bar *bars;
  unsigned n;
  unsigned drawn;      /* bar lines on the screen now */
};

static double now(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void progress_bytes(uint64_t n, char out[32])
{
  static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = (double)n;
  int u = -1;

  if (n < 1024) {
    snprintf(out, 32, "%llu B", (unsigned long long)n);
    return;
  }
  while (v >= 1024 && u < 4) {
    v /= 1024;
    u++;
  }
  snprintf(out, 32, "%.1f %s", v, units[u]);
}

/* "name [####----]  45%  1.2 GiB/2.0 GiB  85.3 MiB/s  ETA 0:12". */
static void format_bar(const struct bar *b, double t, char *out, size_t n)
{
  char done[32], total[32], rate_s[32] = "", eta[32] = "";
  double el = t - b->started, rate = el > 0.5 ? b->done / el : 0;
  int width = 20, fill = b->total ? (int)(b->done * width / b->total) : 0;
  int pct = b->total ? (int)(b->done * 100 / b->total) : 0;

  if (fill > width)
    fill = width;
  progress_bytes(b->done, done);
  progress_bytes(b->total, total);
  if (rate > 0) {
    uint64_t left = b->total > b->done ? b->total - b->done : 0;
    long s = (long)(left / rate);

    progress_bytes((uint64_t)rate, rate_s);
    strcat(rate_s, "/s");
    snprintf(eta, sizeof eta, "ETA %ld:%02ld", s / 60, s % 60);
  }
  snprintf(out, n, "%-24.24s [%.*s%*s] %3d%%  %s/%s  %s  %s", b->name, fill,
           "####################", width - fill, "", pct, done, total,
           rate_s, eta);
}

/* Under mu.  Clears the bar lines from the screen. */
static void clear_locked(struct progress *p)
{
  if (p->drawn)
    fprintf(p->out, "\033[%uA", p->drawn);
  for (unsigned i = 0; i < p->drawn; i++)
    fputs("\r\033[2K\n", p->out);
  if (p->drawn)
    fprintf(p->out, "\033[%uA", p->drawn);
  p->drawn = 0;
}

/* Under mu.  Draws the active bars. */
static void draw_locked(struct progress *p)
{
  double t = now();
  char line[256];

  for (unsigned i = 0; i < p->n; i++) {
    if (!p->bars[i].active || !p->bars[i].counting)
      continue;
    format_bar(&p->bars[i], t, line, sizeof line);
    fprintf(p->out, "\r\033[2K%s\n", line);
    p->drawn++;
  }
  fflush(p->out);
}

static void *tick(void *arg)
{
  struct progress *p = arg;

  pthread_mutex_lock(&p->mu);
  while (!p->stopping) {
    struct timespec until;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += REDRAW_NS;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&p->cv, &p->mu, &until);
    if (p->stopping)
      break;
    clear_locked(p);
    draw_locked(p);
  }
  pthread_mutex_unlock(&p->mu);
  return NULL;
}

struct progress *progress_new(FILE *out, const char *prefix, bool tty)
{
  struct progress *p = calloc(1, sizeof *p);

  if (!p)
    return NULL;
  p->out = out;
  snprintf(p->prefix, sizeof p->prefix, "%s", prefix);
  p->tty = tty;
  pthread_mutex_init(&p->mu, NULL);
  pthread_cond_init(&p->cv, NULL);
  if (tty && pthread_create(&p->ticker, NULL, tick, p) == 0)
    p->ticking = true;
  return p;
}

void progress_free(struct progress *p)
{
  if (!p)
    return;
  pthread_mutex_lock(&p->mu);
  p->stopping = true;
  pthread_cond_signal(&p->cv);
  if (p->tty)
    clear_locked(p);
  pthread_mutex_unlock(&p->mu);
  if (p->ticking)
    pthread_join(p->ticker, NULL);
  pthread_mutex_destroy(&p->mu);
  pthread_cond_destroy(&p->cv);
  free(p->bars);
  free(p);
}

unsigned progress_add(struct progress *p, const char *name)
{
  unsigned id;

  pthread_mutex_lock(&p->mu);
  if (p->n == MAX_BARS) {
    id = MAX_BARS - 1; /* shared by the excess: only their lines mix */
  } else {
    struct bar *v = realloc(p->bars, (p->n + 1) * sizeof *v);

    if (!v) {
      pthread_mutex_unlock(&p->mu);
      return 0;
    }
    p->bars = v;
    id = p->n++;
    memset(&p->bars[id], 0, sizeof p->bars[id]);
    snprintf(p->bars[id].name, sizeof p->bars[id].name, "%s", name);
    p->bars[id].active = true;
  }
  pthread_mutex_unlock(&p->mu);
  return id;
}

static struct bar *bar_of(struct progress *p, unsigned id)
{
  return id < p->n ? &p->bars[id] : NULL;
}

void progress_rename(struct progress *p, unsigned id, const char *name)
{
  struct bar *b;

  pthread_mutex_lock(&p->mu);
  b = bar_of(p, id);
  if (b)
    snprintf(b->name, sizeof b->name, "%s", name);
  pthread_mutex_unlock(&p->mu);
}

void progress_total(struct progress *p, unsigned id, uint64_t bytes)
{
  struct bar *b;

  pthread_mutex_lock(&p->mu);
  b = bar_of(p, id);
  if (b) {
    b->total = bytes;
    b->done = 0;
    b->started = b->last_line = now();
    b->counting = true;
  }
  pthread_mutex_unlock(&p->mu);
}

void progress_set(struct progress *p, unsigned id, uint64_t done)
{
  struct bar *b;
  char line[256];
  double t;

  pthread_mutex_lock(&p->mu);
  b = bar_of(p, id);
  if (b) {
    b->done = done;
    t = now();
    if (!p->tty && t - b->last_line >= LINE_EVERY_S) {
      b->last_line = t;
      format_bar(b, t, line, sizeof line);
      fprintf(p->out, "%s%s\n", p->prefix, line);
    }
  }
  pthread_mutex_unlock(&p->mu);
}

void progress_say(struct progress *p, unsigned id, const char *fmt, ...)
{
  char text[1024];
  struct bar *b;
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  pthread_mutex_lock(&p->mu);
  b = bar_of(p, id);
  if (p->tty)
    clear_locked(p);
  fprintf(p->out, "%s%s: %s\n", p->prefix, b ? b->name : "?", text);
  if (p->tty)
    draw_locked(p);
  fflush(p->out);
  pthread_mutex_unlock(&p->mu);
}

void progress_end(struct progress *p, unsigned id)
{
  struct bar *b;

  pthread_mutex_lock(&p->mu);
  b = bar_of(p, id);
  if (b)
    b->active = false;
  if (p->tty) {
    clear_locked(p);
    draw_locked(p);
  }
  pthread_mutex_unlock(&p->mu);
}
