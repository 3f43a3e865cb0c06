/*
 * readahead.c -- sequential read-ahead in front of a byte source
 * (readahead.h).
 *
 * A file has depth + 3 slots, each one chunk of the source: depth ahead of
 * the reader, one being consumed, one for a read that straddles two, and
 * one just behind for concurrent readers that lag a little.  A
 * slot is EMPTY, QUEUED (a worker will read it), FETCHING (a worker reads
 * it; its buffer and range are the worker's until it ends), READY, or
 * FAILED (with the source's error).  One mutex guards the slots and the
 * sequence state; workers wait on 'work', readers and close on 'done'.
 * Readers copy out of a READY slot without the mutex, holding a count on
 * it that keeps it from being reused meanwhile, so concurrent readers
 * copy in parallel.
 */
#include "disk/readahead.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "disk/disk.h"
#include "disk/error.h"

enum slot_state { SLOT_EMPTY, SLOT_QUEUED, SLOT_FETCHING, SLOT_READY,
                  SLOT_FAILED };

struct slot {
  enum slot_state state;
  uint64_t off;          /* the source range it holds (not EMPTY) */
  size_t len;
  unsigned char *buf;    /* one chunk, made on first use */
  unsigned readers;      /* READY: readers copying out of it unlocked */
  size_t used;           /* READY: bytes copied out of it so far */
  struct disk_error err; /* FAILED: the source's failure */
};

struct ra_file {
  struct disk_file f; /* first: the disk layer's view */
  struct disk_file *inner;
  size_t chunk;
  unsigned depth, n_slots;
  struct slot *slots; /* n_slots */

  pthread_mutex_t lock;
  pthread_cond_t work; /* a slot was queued, or stop */
  pthread_cond_t done; /* a worker finished a slot */
  pthread_t *threads;  /* depth, n_threads of them started */
  unsigned n_threads;
  bool stop;

  /* The sequence: where the read that continues it starts, whether it has
   * begun (two reads in sequence), how many bytes it has consumed, and the
   * end of the last chunk queued for it. */
  uint64_t next;
  bool streaming;
  uint64_t consumed;
  uint64_t queued_end;
};

static uint64_t slot_end(const struct slot *s)
{
  return s->off + s->len;
}

/* ---- workers ------------------------------------------------------------ */

/* The QUEUED slot with the lowest offset (the reader needs it first). */
static struct slot *next_queued(struct ra_file *rf)
{
  struct slot *best = NULL;

  for (unsigned i = 0; i < rf->n_slots; i++) {
    struct slot *s = &rf->slots[i];

    if (s->state == SLOT_QUEUED && (!best || s->off < best->off))
      best = s;
  }
  return best;
}

static void *worker(void *arg)
{
  struct ra_file *rf = arg;

  pthread_mutex_lock(&rf->lock);
  for (;;) {
    struct slot *s;
    int st;

    while (!rf->stop && !(s = next_queued(rf)))
      pthread_cond_wait(&rf->work, &rf->lock);
    if (rf->stop)
      break;
    s->state = SLOT_FETCHING;
    pthread_mutex_unlock(&rf->lock);
    st = disk_file_pread(rf->inner, s->buf, s->len, s->off, NULL);
    pthread_mutex_lock(&rf->lock);
    if (st) {
      s->err = *disk_last_error();
      s->err.status = st;
      s->state = SLOT_FAILED;
    } else {
      s->state = SLOT_READY;
    }
    pthread_cond_broadcast(&rf->done);
  }
  pthread_mutex_unlock(&rf->lock);
  return NULL;
}

/* Starts the workers on the first need.  False when not even one could be
 * started (read-ahead then stays off; reads go to the source). */
static bool workers_started(struct ra_file *rf)
{
  while (rf->n_threads < rf->depth &&
         pthread_create(&rf->threads[rf->n_threads], NULL, worker, rf) == 0)
    rf->n_threads++;
  return rf->n_threads > 0;
}

/* ---- slots ------------------------------------------------------------- */

/* The slot (not EMPTY) holding byte at, or NULL; *next_start receives the
 * lowest start of a slot after at (UINT64_MAX when none). */
static struct slot *slot_at(struct ra_file *rf, uint64_t at,
                            uint64_t *next_start)
{
  *next_start = UINT64_MAX;
  for (unsigned i = 0; i < rf->n_slots; i++) {
    struct slot *s = &rf->slots[i];

    if (s->state == SLOT_EMPTY)
      continue;
    if (s->off <= at && at < slot_end(s))
      return s;
    if (s->off > at && s->off < *next_start)
      *next_start = s->off;
  }
  return NULL;
}

/* ---- queueing ----------------------------------------------------------- */

/* A slot to reuse for a chunk while the reader is at off and the window
 * ends at win_end: an EMPTY one, else the lowest READY or FAILED one that
 * is outside [off, win_end) and either consumed whole or stale (more than
 * a window behind the reader, or past the window: left by an earlier
 * sequence).  A slot a little behind the reader that still holds bytes
 * nobody has read stays: a concurrent reader that lags, as ReadAsync's
 * workers do, is about to copy them, and reusing it would make that
 * reader fetch them a second time.  NULL when every slot is still
 * needed. */
static struct slot *reusable(struct ra_file *rf, uint64_t off, uint64_t win_end)
{
  uint64_t window = (uint64_t)rf->depth * rf->chunk;
  struct slot *best = NULL;
  bool best_done = false;

  for (unsigned i = 0; i < rf->n_slots; i++) {
    struct slot *s = &rf->slots[i];
    bool done, stale;

    if (s->state == SLOT_EMPTY)
      return s;
    if ((s->state != SLOT_READY && s->state != SLOT_FAILED) || s->readers ||
        (slot_end(s) > off && s->off < win_end))
      continue;
    done = s->state == SLOT_READY && s->used >= s->len;
    stale = slot_end(s) + window <= off || s->off >= win_end;
    if (!done && !stale)
      continue;
    if (!best || (done && !best_done) ||
        (done == best_done && s->off < best->off)) {
      best = s;
      best_done = done;
    }
  }
  return best;
}

/* Queues chunks for the sequential read [off, off+n).  Chunks are as long
 * as what the sequence has consumed (n at least, rf->chunk at most) and
 * are queued while they start before the window's end, 1 + consumed /
 * rf->chunk of them past the read's end (depth at most); they never reach
 * past the end of the file nor, when the source knows allocation, past
 * the allocated run the read ends in.  So what a sequence gets read ahead
 * grows with what it has read. */
static void queue_window(struct ra_file *rf, uint64_t off, size_t n)
{
  uint64_t ahead = rf->consumed / rf->chunk + 1, want, limit = rf->f.size;
  size_t clen = rf->consumed < rf->chunk ? (size_t)rf->consumed : rf->chunk;
  bool queued = false;

  if (ahead > rf->depth)
    ahead = rf->depth;
  if (clen < n)
    clen = n < rf->chunk ? n : rf->chunk;
  want = off + n + ahead * clen;
  if (rf->queued_end < off)
    rf->queued_end = off; /* reads larger than the window outran it */
  if (rf->queued_end >= want)
    return; /* the usual case: queued already */
  if (rf->inner->caps & DISK_FILE_CAN_ALLOC) {
    uint64_t last = off + n - 1, run = 0;
    bool allocated = false;

    /* An answer we cannot get only costs the clipping. */
    if (disk_file_allocated(rf->inner, last, limit - last, &run,
                            &allocated) == DISK_OK && allocated)
      limit = last + run;
  }
  if (want > limit)
    want = limit;
  while (rf->queued_end < want) {
    uint64_t left = limit - rf->queued_end, ignored;
    struct slot *s = slot_at(rf, rf->queued_end, &ignored);

    if (s && s->state != SLOT_FAILED) {
      /* already held (a sequence restarted over its own chunks): never
       * fetched twice */
      rf->queued_end = slot_end(s);
      continue;
    }
    s = reusable(rf, off, want);
    if (!s)
      break;
    if (!s->buf && !(s->buf = malloc(rf->chunk)))
      break; /* out of memory only costs the read-ahead */
    s->state = SLOT_QUEUED;
    s->used = 0;
    s->off = rf->queued_end;
    s->len = left < clen ? (size_t)left : clen;
    rf->queued_end += s->len;
    queued = true;
  }
  if (!queued)
    return;
  if (workers_started(rf)) {
    pthread_cond_broadcast(&rf->work);
    return;
  }
  for (unsigned i = 0; i < rf->n_slots; i++)
    if (rf->slots[i].state == SLOT_QUEUED)
      rf->slots[i].state = SLOT_EMPTY;
}

/* ---- reads -------------------------------------------------------------- */

/* Fills buf with [off, off+n) from the slots and, where none holds the
 * bytes, from the source.  Called and returns with rf->lock held. */
static int serve(struct ra_file *rf, unsigned char *buf, uint64_t off,
                 size_t n)
{
  uint64_t at = off, end = off + n;
  bool waited = false; /* for the chunk holding 'at' */

  while (at < end) {
    uint64_t next_start, upto;
    struct slot *s = slot_at(rf, at, &next_start);
    int st;

    if (s && (s->state == SLOT_QUEUED || s->state == SLOT_FETCHING)) {
      pthread_cond_wait(&rf->done, &rf->lock);
      waited = true;
      continue; /* look again: the slot may have been reused meanwhile */
    }
    if (s && s->state == SLOT_READY) {
      upto = slot_end(s) < end ? slot_end(s) : end;
      s->readers++;
      pthread_mutex_unlock(&rf->lock);
      memcpy(buf + (at - off), s->buf + (at - s->off), (size_t)(upto - at));
      pthread_mutex_lock(&rf->lock);
      s->readers--;
      s->used += (size_t)(upto - at);
      at = upto;
      waited = false;
      continue;
    }
    if (s) {
      /* FAILED.  This read waited for it: the source's error is this
       * read's (its retries were made meanwhile).  Failed before this read
       * came: the failure may have passed, so the read asks itself. */
      s->state = SLOT_EMPTY;
      if (!waited)
        continue;
      return disk_fail_http(s->err.status, s->err.http_status, "%s",
                            s->err.detail);
    }
    upto = next_start < end ? next_start : end;
    pthread_mutex_unlock(&rf->lock);
    st = disk_file_pread(rf->inner, buf + (at - off), (size_t)(upto - at),
                         at, NULL);
    pthread_mutex_lock(&rf->lock);
    if (st)
      return st;
    at = upto;
    waited = false;
  }
  return DISK_OK;
}

/* How a read at off relates to the sequence.  Concurrent readers
 * (ReadAsync's workers) take their ranges in order but may call in a
 * slightly different one, so once a sequence runs, a read a little ahead
 * of it (inside what was queued, or up to a window past the sequence's
 * end) continues it too, and a read a little behind it (a straggler)
 * leaves it as it is.  Breaking the sequence there instead would restart
 * it small, and queue again ranges the concurrent readers had already read
 * from the source: fetched twice (6-17 % of the bytes in
 * test_concurrent_readers before). */
enum relation { CONTINUES, STRAGGLES, BREAKS };

static enum relation relation(const struct ra_file *rf, uint64_t off)
{
  uint64_t window = (uint64_t)rf->depth * rf->chunk;

  if (off == rf->next)
    return CONTINUES;
  if (!rf->streaming)
    return BREAKS;
  if (off > rf->next && (off < rf->queued_end || off - rf->next <= window))
    return CONTINUES;
  if (off < rf->next && rf->next - off <= window)
    return STRAGGLES;
  return BREAKS;
}

static int ra_pread(struct disk_file *df, void *buf, size_t len,
                    uint64_t off, size_t *got)
{
  struct ra_file *rf = (struct ra_file *)df;
  size_t n = 0;
  int st;

  if (off < df->size)
    n = df->size - off < len ? (size_t)(df->size - off) : len;
  if (n < len)
    memset((char *)buf + n, 0, len - n);
  if (got)
    *got = 0;
  if (n == 0)
    return DISK_OK;
  pthread_mutex_lock(&rf->lock);
  switch (relation(rf, off)) {
  case CONTINUES:
    if (!rf->streaming) { /* a sequence begins with this read */
      rf->streaming = true;
      rf->consumed = 0;
      rf->queued_end = off;
    }
    rf->consumed += n;
    queue_window(rf, off, n);
    if (off + n > rf->next)
      rf->next = off + n;
    break;
  case STRAGGLES:
    break;
  case BREAKS:
    rf->streaming = false;
    rf->next = off + n;
    break;
  }
  st = serve(rf, buf, off, n);
  pthread_mutex_unlock(&rf->lock);
  if (got && st == DISK_OK)
    *got = n;
  return st;
}

static int ra_allocated(struct disk_file *df, uint64_t off, uint64_t len,
                        uint64_t *run, bool *allocated)
{
  struct ra_file *rf = (struct ra_file *)df;

  return disk_file_allocated(rf->inner, off, len, run, allocated);
}

static void ra_close(struct disk_file *df)
{
  struct ra_file *rf = (struct ra_file *)df;

  if (!rf)
    return;
  pthread_mutex_lock(&rf->lock);
  rf->stop = true;
  pthread_cond_broadcast(&rf->work);
  pthread_mutex_unlock(&rf->lock);
  for (unsigned i = 0; i < rf->n_threads; i++)
    pthread_join(rf->threads[i], NULL);
  for (unsigned i = 0; i < rf->n_slots; i++)
    free(rf->slots[i].buf);
  pthread_cond_destroy(&rf->done);
  pthread_cond_destroy(&rf->work);
  pthread_mutex_destroy(&rf->lock);
  disk_file_close(rf->inner);
  free(rf->slots);
  free(rf->threads);
  free(df->name);
  free(rf);
}

static const struct disk_file_ops alloc_ops = {
    .name = "read-ahead",
    .pread = ra_pread,
    .allocated = ra_allocated,
    .close = ra_close,
};
static const struct disk_file_ops plain_ops = {
    .name = "read-ahead",
    .pread = ra_pread,
    .close = ra_close,
};

int disk_readahead_wrap(struct disk_file *inner,
                        const struct disk_readahead *o,
                        struct disk_file **out)
{
  struct ra_file *rf;

  *out = NULL;
  if (o->depth == 0) {
    *out = inner;
    return DISK_OK;
  }
  if (o->depth > DISK_READAHEAD_DEPTH_MAX ||
      o->chunk < DISK_READAHEAD_CHUNK_MIN ||
      o->chunk > DISK_READAHEAD_CHUNK_MAX)
    return disk_fail(DISK_E_ARG, "%s: read-ahead of %u chunks of %zu bytes "
                     "is outside 1..%u chunks of %u..%u bytes", inner->name,
                     o->depth, o->chunk, DISK_READAHEAD_DEPTH_MAX,
                     DISK_READAHEAD_CHUNK_MIN, DISK_READAHEAD_CHUNK_MAX);
  if (!(inner->caps & DISK_FILE_CONCURRENT) ||
      (inner->caps & (DISK_FILE_CAN_WRITE | DISK_FILE_CAN_TRUNCATE)))
    return disk_fail(DISK_E_ARG, "%s: read-ahead needs a concurrent, "
                     "read-only source", inner->name);
  rf = calloc(1, sizeof *rf);
  if (!rf)
    return disk_fail(DISK_E_NOMEM, "out of memory");
  rf->n_slots = o->depth + 3;
  rf->slots = calloc(rf->n_slots, sizeof *rf->slots);
  rf->threads = calloc(o->depth, sizeof *rf->threads);
  rf->f.name = strdup(inner->name);
  if (!rf->slots || !rf->threads || !rf->f.name) {
    free(rf->slots);
    free(rf->threads);
    free(rf->f.name);
    free(rf);
    return disk_fail(DISK_E_NOMEM, "out of memory");
  }
  pthread_mutex_init(&rf->lock, NULL);
  pthread_cond_init(&rf->work, NULL);
  pthread_cond_init(&rf->done, NULL);
  rf->inner = inner;
  rf->chunk = o->chunk;
  rf->depth = o->depth;
  rf->next = UINT64_MAX; /* the first read starts no sequence */
  rf->f.ops = (inner->caps & DISK_FILE_CAN_ALLOC) ? &alloc_ops : &plain_ops;
  rf->f.caps = inner->caps;
  rf->f.size = inner->size;
  memcpy(rf->f.id, inner->id, sizeof rf->f.id);
  *out = &rf->f;
  return DISK_OK;
}
