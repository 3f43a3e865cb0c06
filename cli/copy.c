/*
 * copy.c -- the read/hash/write pipeline, see copy.h.
 *
 * State: a ring of 'depth' slots, each a buffer of 'chunk' sectors and a
 * request; 'head' is the oldest.  The loop keeps every free slot busy with
 * the next piece of the spans, waits for the head, consumes it (hash the
 * gap before it from the fill, hash its data, write it), and moves on.  A
 * failure or a cancel stops new requests and waits for the outstanding
 * ones before the buffers go: the library may still be writing into them.
 */
#include "copy.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#define SECTOR VIXDISKLIB_SECTOR_SIZE
#define DEFAULT_CHUNK 2048u  /* sectors: 1 MiB */
#define DEFAULT_DEPTH 8u
#define MAX_DEPTH 64u
#define GRAIN 128u           /* sectors: holes are kept at 64 KiB */

static unsigned char zeros[DEFAULT_CHUNK * SECTOR]; /* never written */

struct slot {
  unsigned char *buf;
  uint64_t start, count;
  bool busy, done;
  VixError err;
  struct pipe *pipe;
};

struct pipe {
  struct copy_job *j;
  EVP_MD_CTX *md;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  struct slot *slots;
  unsigned depth;
  uint32 chunk;
  unsigned char *scratch;    /* for fill reads */
  size_t span, span_off;     /* the next piece to request */
  uint64_t pos;              /* hashed up to here (sector) */
  size_t fill_i;             /* fill_spans cursor */
};

static void on_read(void *data, VixError result)
{
  struct slot *s = data;

  pthread_mutex_lock(&s->pipe->mu);
  s->err = result;
  s->done = true;
  pthread_cond_broadcast(&s->pipe->cv);
  pthread_mutex_unlock(&s->pipe->mu);
}

static VixError fail(struct pipe *p, VixError err, const char *what,
                     uint64_t sector)
{
  snprintf(p->j->what, sizeof p->j->what, "%s at sector %llu", what,
           (unsigned long long)sector);
  return err;
}

static bool hash(struct pipe *p, const void *data, size_t n)
{
  return EVP_DigestUpdate(p->md, data, n) == 1;
}

static VixError hash_zeros(struct pipe *p, uint64_t sectors)
{
  while (sectors) {
    uint64_t n = sectors < DEFAULT_CHUNK ? sectors : DEFAULT_CHUNK;

    if (!hash(p, zeros, (size_t)n * SECTOR))
      return fail(p, VIX_E_FAIL, "hashing", p->pos);
    sectors -= n;
  }
  return VIX_OK;
}

/* Hashes [p->pos, end) from the fill: zeros, or dst's data where
 * fill_spans has some. */
static VixError hash_gap(struct pipe *p, uint64_t end)
{
  const struct spans *f = p->j->fill_spans;
  VixError err;

  while (p->pos < end) {
    uint64_t stop = end, n;

    if (p->j->fill == COPY_FILL_DST && f) {
      while (p->fill_i < f->n &&
             f->v[p->fill_i].start + f->v[p->fill_i].count <= p->pos)
        p->fill_i++;
      if (p->fill_i < f->n && f->v[p->fill_i].start <= p->pos) {
        uint64_t se = f->v[p->fill_i].start + f->v[p->fill_i].count;

        stop = se < end ? se : end;
        for (uint64_t s = p->pos; s < stop; s += n) {
          n = stop - s < p->chunk ? stop - s : p->chunk;
          err = VixDiskLib_Read(p->j->dst, s, n, p->scratch);
          if (err != VIX_OK)
            return fail(p, err, "reading the parent chain", s);
          if (!hash(p, p->scratch, (size_t)n * SECTOR))
            return fail(p, VIX_E_FAIL, "hashing", s);
        }
        p->pos = stop;
        continue;
      }
      if (p->fill_i < f->n && f->v[p->fill_i].start < end)
        stop = f->v[p->fill_i].start;
    }
    err = hash_zeros(p, stop - p->pos);
    if (err != VIX_OK)
      return err;
    p->pos = stop;
  }
  return VIX_OK;
}

static bool all_zero(const unsigned char *b, size_t n)
{
  return n == 0 || (b[0] == 0 && memcmp(b, b + 1, n - 1) == 0);
}

static VixError sink_write(struct pipe *p, uint64_t start, uint64_t count,
                           const unsigned char *buf)
{
  struct copy_job *j = p->j;
  VixError err;

  if (j->sink == COPY_SINK_DISK) {
    err = VixDiskLib_Write(j->dst, start, count, buf);
    if (err != VIX_OK)
      return fail(p, err, "writing the destination disk", start);
  } else if (j->sink == COPY_SINK_FD) {
    size_t n = (size_t)count * SECTOR, done = 0;

    while (done < n) {
      ssize_t w = pwrite(j->fd, buf + done, n - done,
                         (off_t)(start * SECTOR + done));

      if (w < 0 && errno == EINTR)
        continue;
      if (w <= 0)
        return fail(p, errno == ENOSPC || errno == EDQUOT || errno == EFBIG
                           ? VIX_E_DISK_FULL
                           : VIX_E_FILE_ERROR,
                    "writing the image", start + done / SECTOR);
      done += (size_t)w;
    }
  } else {
    return VIX_OK;
  }
  j->bytes_written += count * SECTOR;
  return VIX_OK;
}

/* Writes a request's data, in runs of GRAIN-aligned pieces that are not
 * all zero (unless write_zeros), in increasing order (a streamOptimized
 * sink takes nothing else). */
static VixError consume(struct pipe *p, struct slot *s)
{
  VixError err = hash_gap(p, s->start);
  uint64_t run = 0, run_n = 0;

  if (err != VIX_OK)
    return err;
  if (!hash(p, s->buf, (size_t)s->count * SECTOR))
    return fail(p, VIX_E_FAIL, "hashing", s->start);
  p->pos = s->start + s->count;
  p->j->bytes_read += s->count * SECTOR;
  if (p->j->sink == COPY_SINK_NONE)
    return VIX_OK;
  for (uint64_t off = 0; off < s->count;) {
    uint64_t piece = GRAIN - (s->start + off) % GRAIN;
    const unsigned char *b = s->buf + off * SECTOR;
    bool keep;

    if (piece > s->count - off)
      piece = s->count - off;
    keep = p->j->write_zeros || !all_zero(b, (size_t)piece * SECTOR);
    if (keep && run_n == 0)
      run = off;
    if (keep)
      run_n += piece;
    if ((!keep || off + piece == s->count) && run_n) {
      err = sink_write(p, s->start + run, run_n, s->buf + run * SECTOR);
      if (err != VIX_OK)
        return err;
      run_n = 0;
    }
    off += piece;
  }
  return VIX_OK;
}

/* The next piece of the spans: false when there is none. */
static bool next_piece(struct pipe *p, uint64_t *start, uint64_t *count)
{
  const struct spans *sp = p->j->spans;

  while (p->span < sp->n && p->span_off >= sp->v[p->span].count) {
    p->span++;
    p->span_off = 0;
  }
  if (p->span >= sp->n)
    return false;
  *start = sp->v[p->span].start + p->span_off;
  *count = sp->v[p->span].count - p->span_off;
  if (*count > p->chunk)
    *count = p->chunk;
  p->span_off += *count;
  return true;
}

static VixError submit(struct pipe *p, struct slot *s, uint64_t start,
                       uint64_t count)
{
  VixError err;

  s->start = start;
  s->count = count;
  s->done = false;
  s->busy = true;
  err = VixDiskLib_ReadAsync(p->j->src, start, count, s->buf, on_read, s);
  if (err == VIX_ASYNC)
    return VIX_OK;
  pthread_mutex_lock(&p->mu);
  s->done = true;   /* no callback comes for a request that was refused */
  s->err = err;
  pthread_mutex_unlock(&p->mu);
  return err == VIX_OK ? VIX_OK : fail(p, err, "reading the source", start);
}

static void wait_done(struct pipe *p, struct slot *s)
{
  pthread_mutex_lock(&p->mu);
  while (!s->done)
    pthread_cond_wait(&p->cv, &p->mu);
  pthread_mutex_unlock(&p->mu);
}

static VixError run(struct pipe *p)
{
  struct copy_job *j = p->j;
  unsigned head = 0, busy = 0;
  VixError err = VIX_OK;

  for (;;) {
    uint64_t start, count;

    while (err == VIX_OK && busy < p->depth && next_piece(p, &start, &count)) {
      err = submit(p, &p->slots[(head + busy) % p->depth], start, count);
      busy++;
    }
    if (busy == 0 || err != VIX_OK)
      break;
    wait_done(p, &p->slots[head]);
    p->slots[head].busy = false;
    err = p->slots[head].err;
    if (err != VIX_OK)
      err = fail(p, err, "reading the source", p->slots[head].start);
    else
      err = consume(p, &p->slots[head]);
    head = (head + 1) % p->depth;
    busy--;
    if (err == VIX_OK && j->progress)
      j->progress(j->progress_data, j->bytes_read);
    if (err == VIX_OK && j->cancel && *j->cancel)
      err = fail(p, VIX_E_CANCELLED, "cancelled", p->pos);
    if (err != VIX_OK)
      break;
  }
  for (unsigned i = 0; i < p->depth; i++)
    if (p->slots[i].busy)
      wait_done(p, &p->slots[i]);
  /* Nothing is outstanding now; VDDK's contract all the same. */
  VixDiskLib_Wait(j->src);
  if (err == VIX_OK)
    err = hash_gap(p, j->capacity);
  return err;
}

VixError copy_run(struct copy_job *j)
{
  struct pipe p;
  unsigned int len = 0;
  VixError err = VIX_OK;

  memset(&p, 0, sizeof p);
  p.j = j;
  p.chunk = j->chunk ? j->chunk : DEFAULT_CHUNK;
  p.depth = j->depth ? j->depth : DEFAULT_DEPTH;
  if (p.depth > MAX_DEPTH)
    p.depth = MAX_DEPTH;
  if (p.chunk > DEFAULT_CHUNK * 16)
    p.chunk = DEFAULT_CHUNK * 16;
  j->bytes_read = j->bytes_written = 0;
  j->what[0] = '\0';
  pthread_mutex_init(&p.mu, NULL);
  pthread_cond_init(&p.cv, NULL);
  p.md = EVP_MD_CTX_new();
  p.slots = calloc(p.depth, sizeof *p.slots);
  p.scratch = malloc((size_t)p.chunk * SECTOR);
  if (!p.md || !p.slots || !p.scratch ||
      EVP_DigestInit_ex(p.md, EVP_sha256(), NULL) != 1) {
    err = fail(&p, VIX_E_OUT_OF_MEMORY, "setting up", 0);
    goto out;
  }
  for (unsigned i = 0; i < p.depth; i++) {
    p.slots[i].pipe = &p;
    p.slots[i].buf = malloc((size_t)p.chunk * SECTOR);
    if (!p.slots[i].buf) {
      err = fail(&p, VIX_E_OUT_OF_MEMORY, "setting up", 0);
      goto out;
    }
  }
  err = run(&p);
  if (err == VIX_OK && EVP_DigestFinal_ex(p.md, j->sha256, &len) != 1)
    err = fail(&p, VIX_E_FAIL, "hashing", j->capacity);
out:
  if (p.slots)
    for (unsigned i = 0; i < p.depth; i++)
      free(p.slots[i].buf);
  free(p.slots);
  free(p.scratch);
  EVP_MD_CTX_free(p.md);
  pthread_mutex_destroy(&p.mu);
  pthread_cond_destroy(&p.cv);
  return err;
}

void copy_hex(const unsigned char sha256[32], char out[65])
{
  static const char digits[] = "0123456789abcdef";

  for (int i = 0; i < 32; i++) {
    out[2 * i] = digits[sha256[i] >> 4];
    out[2 * i + 1] = digits[sha256[i] & 15];
  }
  out[64] = '\0';
}
