/*
 * nfc_aio.c -- the AIO request engine (reference/nfc.md §3.2): opIds,
 * pipelining, reply matching, fragment reassembly, timeouts.
 *
 * DESIGN: the lock-holder does the I/O.  There is no receive thread.  A
 * thread with a request takes a free slot (at most max_in_flight
 * outstanding), gets the next opId (§3.2: from 0, +1 per request) and puts
 * its op on the send queue.  Whichever waiting thread finds the socket
 * free becomes the "io holder": it sends queued ops and reads replies,
 * both non-blocking, until its own op is answered, then hands the socket
 * to the next waiter.  Replies are matched by opId, never by order (§3.2
 * Pipelining: the order across opIds is unknown) and written straight into
 * the owner's buffer; the owner sleeps on a condition variable meanwhile.
 * A pipe wakes the holder when a new op is queued or the connection dies.
 *
 * Why not a receive thread: with TLS (nbdssl) one SSL object may not be
 * read and written by two threads at once, so sending and receiving have
 * to be one thread's job anyway; the holder pattern gives that without a
 * thread per connection, and it interleaves sending with reading so a host
 * that stops reading while its replies back up cannot deadlock us.
 *
 * BOUNDS.  Every wait ends: a slot wait, an op's reply (io_timeout_ms of
 * silence, counted from its last progress) and the holder's poll all have
 * deadlines.  A timeout, a malformed message or a lost socket kills the
 * connection (a late reply could no longer be told from a wrong one) and
 * fails every outstanding op; an ERROR reply fails only its op.  Memory is
 * the slots, one receive scratch buffer (a compressed fragment, a DDB
 * value, a bitmap) and one send scratch buffer (one compressed fragment).
 */
#include "nfc/nfc_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/text.h"

/* How long past its deadline a waiting owner gives the holder before it
 * kills the connection itself. */
#define NFC_WAIT_GRACE_MS 200
/* Messages one rx_step handles before the holder looks at the send side. */
#define NFC_RX_BATCH 64

static const char *type_name(uint32_t t)
{
  switch (t) {
  case NFC_T_OPEN_SESSION: return "OPEN_SESSION";
  case NFC_T_CLOSE_SESSION: return "CLOSE_SESSION";
  case NFC_T_OPEN_FILE: return "OPEN_FILE";
  case NFC_T_CLOSE_FILE: return "CLOSE_FILE";
  case NFC_T_IO: return "IO";
  case NFC_T_SET_SOCK_OPTS: return "SET_SOCK_OPTS";
  case NFC_T_DDB_GET: return "DDB_GET";
  case NFC_T_ALLOCATED: return "allocated-blocks";
  case NFC_T_SET_RES_POOL: return "SET_RES_POOL";
  }
  return "request";
}

static long op_timeout(const struct nfc_conn *c, const struct nfc_op *op)
{
  return op->timeout_ms > 0 ? op->timeout_ms : c->o.io_timeout_ms;
}

/* ---- set-up ------------------------------------------------------------- */

int nfc_aio_init(struct nfc_conn *c, struct nfc_error *err)
{
  pthread_condattr_t ca;
  int ok;

  c->wake[0] = c->wake[1] = -1;
  c->rx_scratch_len = c->o.buffer_size;
  c->rx_scratch = malloc(c->rx_scratch_len);
  c->tx_scratch_len = c->o.compression != NFC_COMP_NONE ? c->o.buffer_size : 0;
  c->tx_scratch = c->tx_scratch_len ? malloc(c->tx_scratch_len) : NULL;
  if (!c->rx_scratch || (c->tx_scratch_len && !c->tx_scratch))
    return nfc_fail(err, NFC_E_NOMEM, "no memory for the NFC buffers");
  if (pipe2(c->wake, O_NONBLOCK | O_CLOEXEC) != 0)
    return nfc_fail(err, NFC_E_CONNECT, "cannot create a wake-up pipe: %s",
                    strerror(errno));
  if (pthread_condattr_init(&ca) != 0)
    return nfc_fail(err, NFC_E_NOMEM, "cannot set up the NFC locks");
  pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
  ok = pthread_mutex_init(&c->mu, NULL) == 0;
  if (ok && pthread_cond_init(&c->cv, &ca) != 0) {
    pthread_mutex_destroy(&c->mu);
    ok = false;
  }
  if (ok && pthread_cond_init(&c->ka_cv, &ca) != 0) {
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    ok = false;
  }
  for (unsigned i = 0; ok && i < NFC_IN_FLIGHT_MAX; i++) {
    if (pthread_cond_init(&c->op_cv[i], &ca) == 0)
      continue;
    while (i-- > 0)
      pthread_cond_destroy(&c->op_cv[i]);
    pthread_cond_destroy(&c->ka_cv);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    ok = false;
  }
  pthread_condattr_destroy(&ca);
  if (!ok)
    return nfc_fail(err, NFC_E_NOMEM, "cannot set up the NFC locks");
  c->rx.phase = NFC_RX_HDR;
  c->last_activity = fvx_now_ms();
  c->aio_ready = true;
  return NFC_OK;
}

void nfc_aio_fini(struct nfc_conn *c)
{
  if (c->aio_ready) {
    for (unsigned i = 0; i < NFC_IN_FLIGHT_MAX; i++)
      pthread_cond_destroy(&c->op_cv[i]);
    pthread_cond_destroy(&c->ka_cv);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    c->aio_ready = false;
  }
  for (int i = 0; i < 2; i++)
    if (c->wake[i] >= 0)
      close(c->wake[i]);
  c->wake[0] = c->wake[1] = -1;
  free(c->rx_scratch);
  free(c->tx_scratch);
  c->rx_scratch = c->tx_scratch = NULL;
}

/* ---- helpers under c->mu ------------------------------------------------ */

static void wake_holder(struct nfc_conn *c)
{
  char b = 1;
  ssize_t r = write(c->wake[1], &b, 1);

  (void)r; /* a full pipe already wakes the holder */
}

static void drain_wake(struct nfc_conn *c)
{
  char b[64];

  while (read(c->wake[0], b, sizeof b) > 0)
    ;
}

void nfc_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu,
                         int64_t deadline_ms)
{
  struct timespec ts;
  int64_t ms = deadline_ms - fvx_now_ms();

  if (ms > 1000)
    ms = 1000; /* re-check state at least every second */
  if (ms < 1)
    ms = 1;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_sec += (time_t)(ms / 1000);
  ts.tv_nsec += (long)(ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  pthread_cond_timedwait(cv, mu, &ts);
}

static void timed_wait(struct nfc_conn *c, int64_t deadline_ms)
{
  nfc_cond_wait_until(&c->cv, &c->mu, deadline_ms);
}

/* Wakes op's owner alone (it waits on its slot's condition variable). */
static void wake_owner(struct nfc_conn *c, const struct nfc_op *op)
{
  pthread_cond_signal(&c->op_cv[op->slot]);
}

/* The holder is done with op's buffers; its owner may be waiting for that
 * once op is done. */
static void release(struct nfc_conn *c, struct nfc_op *op)
{
  if (--op->io_ref == 0 && op->done)
    wake_owner(c, op);
}

static void complete(struct nfc_conn *c, struct nfc_op *op, int status)
{
  op->done = true;
  op->status = status;
  if (status == NFC_OK)
    nfc_error_clear(&op->err);
  c->last_activity = fvx_now_ms();
  wake_owner(c, op);
}

/* Forgets the holder's references (when nobody is doing I/O). */
static void reset_io_state(struct nfc_conn *c)
{
  if (c->rx.op)
    release(c, c->rx.op);
  if (c->tx.op)
    release(c, c->tx.op);
  c->rx.op = NULL;
  c->tx.op = NULL;
  c->rx.phase = NFC_RX_HDR;
  c->rx.pos = 0;
}

static void kill_locked(struct nfc_conn *c, const struct nfc_error *e)
{
  if (!c->dead) {
    c->dead = true;
    c->dead_err = *e;
  }
  for (unsigned i = 0; i < NFC_IN_FLIGHT_MAX; i++) {
    struct nfc_op *op = c->ops[i];

    if (op && !op->done) {
      op->err = c->dead_err;
      complete(c, op, c->dead_err.status);
    }
  }
  c->txq = c->txq_tail = NULL;
  if (!c->io_busy)
    reset_io_state(c);
  wake_holder(c);
  pthread_cond_broadcast(&c->cv);
}

bool nfc_conn_dead(struct nfc_conn *c)
{
  bool dead;

  pthread_mutex_lock(&c->mu);
  dead = c->dead;
  pthread_mutex_unlock(&c->mu);
  return dead;
}

static struct nfc_op *find_op(struct nfc_conn *c, uint32_t id)
{
  for (unsigned i = 0; i < NFC_IN_FLIGHT_MAX; i++)
    if (c->ops[i] && !c->ops[i]->done && c->ops[i]->id == id)
      return c->ops[i];
  return NULL;
}

static int64_t earliest_deadline(struct nfc_conn *c)
{
  int64_t d = INT64_MAX;

  for (unsigned i = 0; i < NFC_IN_FLIGHT_MAX; i++)
    if (c->ops[i] && !c->ops[i]->done && c->ops[i]->deadline < d)
      d = c->ops[i]->deadline;
  return d;
}

/* Kills the connection when an op's deadline has passed. */
static void check_deadlines(struct nfc_conn *c)
{
  int64_t now = fvx_now_ms();

  for (unsigned i = 0; i < NFC_IN_FLIGHT_MAX; i++) {
    struct nfc_op *op = c->ops[i];
    struct nfc_error e;

    if (!op || op->done || op->deadline > now)
      continue;
    nfc_error_clear(&e);
    nfc_fail(&e, NFC_E_TIMEOUT, "no answer from %s to %s (opId %u) within "
             "%ld ms", c->s.peer, type_name(op->type), op->id,
             op_timeout(c, op));
    kill_locked(c, &e);
    return;
  }
}

/* Read fragments: [off, off+len) must not meet a piece already placed
 * (§3.2 Read: "place each at @28"; duplicates and overlaps are refused).
 * Returns 0, or -1 for an overlap or too scattered a reply. */
static int runs_insert(struct nfc_op *op, uint32_t off, uint32_t len)
{
  unsigned i = 0;
  uint64_t end = (uint64_t)off + len;

  while (i < op->nruns && op->runs[i].off < off)
    i++;
  if (i > 0 && (uint64_t)op->runs[i - 1].off + op->runs[i - 1].len > off)
    return -1;
  if (i < op->nruns && op->runs[i].off < end)
    return -1;
  if (i > 0 && (uint64_t)op->runs[i - 1].off + op->runs[i - 1].len == off) {
    op->runs[i - 1].len += len;
    if (i < op->nruns && op->runs[i].off == end) {
      op->runs[i - 1].len += op->runs[i].len;
      memmove(op->runs + i, op->runs + i + 1,
              (op->nruns - i - 1) * sizeof op->runs[0]);
      op->nruns--;
    }
    return 0;
  }
  if (i < op->nruns && op->runs[i].off == end) {
    op->runs[i].off = off;
    op->runs[i].len += len;
    return 0;
  }
  if (op->nruns == NFC_RUNS_MAX)
    return -1;
  memmove(op->runs + i + 1, op->runs + i,
          (op->nruns - i) * sizeof op->runs[0]);
  op->runs[i].off = off;
  op->runs[i].len = len;
  op->nruns++;
  return 0;
}

/* ---- receiving (the holder, c->mu taken where noted) -------------------- */

/* An ERROR reply for op (§3.2 Errors); extra is its text when it came as
 * an extra.  Under c->mu. */
static void finish_error(struct nfc_conn *c, struct nfc_op *op,
                         const uint8_t *extra, size_t extra_n)
{
  int st = nfc_error_decode(c->rx.payload, c->rx.h.size, extra, extra_n,
                            &op->err);

  nfc_fail(&op->err, st, "%s %s (opId %u) failed on the host: error 0x%x%s%s",
           c->s.peer, type_name(op->type), op->id, op->err.server_code,
           op->err.server_msg[0] ? ": " : "", op->err.server_msg);
  complete(c, op, st);
  if (op->kind == NFC_OP_WRITE && !op->sent) {
    struct nfc_error e;

    /* ASSUMPTION (§3.2 Write): the host answers a write once, after its
     * last fragment; an ERROR before that leaves the host's reading state
     * unknown, so the connection cannot carry more requests. */
    nfc_error_clear(&e);
    nfc_fail(&e, NFC_E_PROTOCOL, "%s answered a write (opId %u) before its "
             "last fragment; connection closed", c->s.peer, op->id);
    kill_locked(c, &e);
  }
}

/* Where the extra of a READ reply goes; under c->mu.  Returns NFC_OK with
 * c->rx.dst/need set, or NFC_E_PROTOCOL. */
static int read_fragment(struct nfc_conn *c, struct nfc_op *op,
                         struct nfc_error *e)
{
  struct nfc_io_msg *m = &c->rx.io;

  if (c->rx.h.size < NFC_P_IO)
    return nfc_fail(e, NFC_E_PROTOCOL, "%s sent a %u-byte IO reply (opId "
                    "%u)", c->s.peer, c->rx.h.size, op->id);
  nfc_io_get(m, c->rx.payload);
  /* §3.2 Read: the fragment sits at @28 with @32 bytes; @36 on the wire. */
  if (m->frag_len == 0 || m->frag_off > op->rlen ||
      m->frag_len > op->rlen - m->frag_off)
    return nfc_fail(e, NFC_E_PROTOCOL, "%s sent a read fragment [%u, +%u) "
                    "outside the %u bytes asked (opId %u)", c->s.peer,
                    m->frag_off, m->frag_len, op->rlen, op->id);
  if (m->comp > NFC_COMP_SKIPZ ||
      (m->comp == NFC_COMP_NONE && m->extra_len != m->frag_len) ||
      (m->comp != NFC_COMP_NONE &&
       (m->extra_len == 0 || m->extra_len > c->rx_scratch_len)))
    return nfc_fail(e, NFC_E_PROTOCOL, "%s sent a read fragment with "
                    "compression %u and %u bytes for %u (opId %u)",
                    c->s.peer, m->comp, m->extra_len, m->frag_len, op->id);
  if (runs_insert(op, m->frag_off, m->frag_len) != 0)
    return nfc_fail(e, NFC_E_PROTOCOL, "%s sent an overlapping or duplicate "
                    "read fragment [%u, +%u) (opId %u)", c->s.peer,
                    m->frag_off, m->frag_len, op->id);
  c->rx.comp = m->comp;
  c->rx.dst = m->comp == NFC_COMP_NONE ? op->rbuf + m->frag_off
                                       : c->rx_scratch;
  c->rx.need = m->extra_len;
  return NFC_OK;
}

/* A reply's header and payload are in; decides its extra.  Under c->mu.
 * Returns NFC_OK or a status that kills the connection. */
static int rx_message(struct nfc_conn *c, struct nfc_error *e)
{
  struct nfc_op *op = find_op(c, c->rx.h.op_id);
  uint32_t n;
  int st;

  c->rx.need = 0;
  if (!op)
    return nfc_fail(e, NFC_E_PROTOCOL, "%s answered opId %u (type %u), "
                    "which is not outstanding", c->s.peer, c->rx.h.op_id,
                    c->rx.h.type);
  op->deadline = fvx_now_ms() + op_timeout(c, op);
  if (c->rx.h.type == NFC_T_ERROR) {
    n = c->o.error_text_inline
            ? 0
            : nfc_error_extra_len(c->rx.payload, c->rx.h.size);
    if (n > c->rx_scratch_len)
      return nfc_fail(e, NFC_E_PROTOCOL, "%s sent an ERROR text of %u "
                      "bytes", c->s.peer, n);
    if (n == 0) {
      finish_error(c, op, NULL, 0);
      return NFC_OK;
    }
    c->rx.dst = c->rx_scratch;
    c->rx.need = n;
  } else if (c->rx.h.type != op->type) {
    return nfc_fail(e, NFC_E_PROTOCOL, "%s answered a %s (opId %u) with "
                    "type %u", c->s.peer, type_name(op->type), op->id,
                    c->rx.h.type);
  } else {
    memcpy(op->reply, c->rx.payload,
           c->rx.h.size < NFC_P_MAX ? c->rx.h.size : NFC_P_MAX);
    op->reply_len = c->rx.h.size;
    switch (op->kind) {
    case NFC_OP_PLAIN:
      complete(c, op, NFC_OK);
      return NFC_OK;
    case NFC_OP_WRITE:
      /* §3.2 Write: one 44-byte reply with no extra after the last
       * fragment (its @36 is not read as an extra length). */
      if (!op->sent)
        return nfc_fail(e, NFC_E_PROTOCOL, "%s answered a write (opId %u) "
                        "before its last fragment", c->s.peer, op->id);
      c->stats.bytes_written += op->wlen;
      complete(c, op, NFC_OK);
      return NFC_OK;
    case NFC_OP_READ:
      st = read_fragment(c, op, e);
      if (st != NFC_OK)
        return st;
      break;
    case NFC_OP_DDB:
      /* §3.2 DDB_GET reply: u32 value length @12 (0: not found). */
      n = c->rx.h.size >= NFC_P_DDB_GET ? fvx_le32(c->rx.payload + 12) : 0;
      if (c->rx.h.size < NFC_P_DDB_GET || n > NFC_DDB_VALUE_MAX ||
          n > c->rx_scratch_len)
        return nfc_fail(e, NFC_E_PROTOCOL, "%s sent a malformed DDB_GET "
                        "reply (opId %u)", c->s.peer, op->id);
      op->got = 0;
      if (n == 0) {
        complete(c, op, NFC_OK);
        return NFC_OK;
      }
      c->rx.dst = c->rx_scratch;
      c->rx.need = n;
      break;
    case NFC_OP_ALLOC:
      /* §3.2 type 13: 48 bytes, then the bitmap (length from our count). */
      c->rx.dst = c->rx_scratch;
      c->rx.need = op->reply_extra;
      break;
    }
  }
  c->rx.op = op;
  op->io_ref++;
  return NFC_OK;
}

/* The extra of c->rx.op is in.  Returns NFC_OK or a killing status. */
static int rx_extra_done(struct nfc_conn *c, struct nfc_error *e)
{
  struct nfc_op *op = c->rx.op;
  int st = NFC_OK;

  /* Decompress outside the lock; op's buffer is held by io_ref. */
  if (c->rx.h.type == NFC_T_IO && c->rx.comp != NFC_COMP_NONE &&
      nfc_decompress((enum nfc_compression)c->rx.comp, c->rx_scratch,
                     c->rx.need, op->rbuf + c->rx.io.frag_off,
                     c->rx.io.frag_len) != 0)
    st = nfc_fail(e, NFC_E_PROTOCOL, "%s sent a read fragment that does not "
                  "decompress (compression %u, opId %u)", c->s.peer,
                  c->rx.comp, op->id);
  pthread_mutex_lock(&c->mu);
  release(c, op);
  c->rx.op = NULL;
  if (st != NFC_OK || op->done) {
    pthread_mutex_unlock(&c->mu);
    return st;
  }
  op->deadline = fvx_now_ms() + op_timeout(c, op);
  if (c->rx.h.type == NFC_T_ERROR) {
    finish_error(c, op, c->rx_scratch, c->rx.need);
  } else if (op->kind == NFC_OP_READ) {
    op->got += c->rx.io.frag_len;
    if (op->got == op->rlen) {
      c->stats.bytes_read += op->rlen;
      complete(c, op, NFC_OK);
    }
  } else if (op->kind == NFC_OP_DDB) {
    size_t k = c->rx.need < op->rlen ? c->rx.need : op->rlen;

    memcpy(op->rbuf, c->rx_scratch, k);
    op->got = (uint32_t)c->rx.need;
    complete(c, op, NFC_OK);
  } else {
    memcpy(op->rbuf, c->rx_scratch, op->rlen);
    complete(c, op, NFC_OK);
  }
  pthread_mutex_unlock(&c->mu);
  return NFC_OK;
}

/* A message phase just filled up. */
static int rx_phase_done(struct nfc_conn *c, struct nfc_error *e)
{
  int st;

  switch (c->rx.phase) {
  case NFC_RX_HDR:
    if (nfc_hdr_get(&c->rx.h, c->rx.hdr) != 0)
      return nfc_fail(e, NFC_E_PROTOCOL, "%s sent a message without the AIO "
                      "magic (0x%08x)", c->s.peer, fvx_le32(c->rx.hdr));
    if (c->rx.h.size > NFC_REPLY_PAYLOAD_MAX)
      return nfc_fail(e, NFC_E_PROTOCOL, "%s sent a %u-byte payload "
                      "(type %u); at most %u expected", c->s.peer,
                      c->rx.h.size, c->rx.h.type, NFC_REPLY_PAYLOAD_MAX);
    c->rx.phase = NFC_RX_PAYLOAD;
    return NFC_OK;
  case NFC_RX_PAYLOAD:
    pthread_mutex_lock(&c->mu);
    st = rx_message(c, e);
    pthread_mutex_unlock(&c->mu);
    c->rx.phase = st == NFC_OK && c->rx.need ? NFC_RX_EXTRA : NFC_RX_HDR;
    return st;
  case NFC_RX_EXTRA:
    c->rx.phase = NFC_RX_HDR;
    return rx_extra_done(c, e);
  }
  return NFC_OK;
}

/* Reads what the socket has, message by message. */
static int rx_step(struct nfc_conn *c, bool *progress, short *want,
                   struct nfc_error *e)
{
  for (int batch = 0; batch < NFC_RX_BATCH;) {
    uint8_t *dst;
    size_t need, done = 0;
    enum nfc_io io;
    int st;

    switch (c->rx.phase) {
    case NFC_RX_HDR:
      dst = c->rx.hdr;
      need = NFC_AIO_HDR;
      break;
    case NFC_RX_PAYLOAD:
      dst = c->rx.payload;
      need = c->rx.h.size;
      break;
    default:
      dst = c->rx.dst;
      need = c->rx.need;
      break;
    }
    if (c->rx.pos < need) {
      io = nfc_stream_recv(&c->s, dst + c->rx.pos, need - c->rx.pos, &done,
                           want, e);
      if (io == NFC_IO_AGAIN)
        return NFC_OK;
      if (io != NFC_IO_OK)
        return e->status;
      *progress = true;
      c->rx.pos += done;
      if (c->rx.pos < need)
        continue;
    }
    c->rx.pos = 0;
    if (c->rx.phase == NFC_RX_HDR)
      batch++;
    st = rx_phase_done(c, e);
    if (st != NFC_OK)
      return st;
  }
  return NFC_OK;
}

/* ---- sending (the holder) ----------------------------------------------- */

/* Builds the next message of c->tx.op (no lock needed: the op is held). */
static void tx_build(struct nfc_conn *c)
{
  struct nfc_tx *t = &c->tx;
  struct nfc_op *op = t->op;
  struct nfc_io_msg m;

  t->build = false;
  t->frame_pos = t->extra_pos = 0;
  t->extra = NULL;
  t->extra_len = 0;
  if (op->kind != NFC_OP_READ && op->kind != NFC_OP_WRITE) {
    nfc_hdr_put(t->frame, op->type, op->plen, op->id);
    memcpy(t->frame + NFC_AIO_HDR, op->payload, op->plen);
    t->frame_len = NFC_AIO_HDR + op->plen;
    t->extra = op->extra;
    t->extra_len = op->extra_len;
    return;
  }
  memset(&m, 0, sizeof m);
  m.handle = c->handle;
  m.offset = op->disk_off;
  m.comp = (uint32_t)c->o.compression;
  if (op->kind == NFC_OP_READ) {
    /* §3.2 Read: one request; 24 = 32 = 36 = length, 28 = 0, no extra. */
    m.dir = NFC_DIR_READ;
    m.total = m.frag_len = m.extra_len = op->rlen;
  } else {
    /* §3.2 Write: fragments <= the OPEN_SESSION buffer, one opId, each
     * with its extra; a fragment that does not shrink goes as type 0. */
    size_t clen = 0;

    t->frag_len = op->wlen - t->frag_off < c->o.buffer_size
                      ? op->wlen - t->frag_off
                      : c->o.buffer_size;
    if (m.comp != NFC_COMP_NONE)
      clen = nfc_compress(c->o.compression, op->wbuf + t->frag_off,
                          t->frag_len, c->tx_scratch, c->tx_scratch_len);
    m.dir = NFC_DIR_WRITE;
    m.total = op->wlen;
    m.frag_off = t->frag_off;
    m.frag_len = t->frag_len;
    if (clen > 0) {
      t->extra = c->tx_scratch;
      t->extra_len = clen;
    } else {
      m.comp = NFC_COMP_NONE;
      t->extra = op->wbuf + t->frag_off;
      t->extra_len = t->frag_len;
    }
    m.extra_len = (uint32_t)t->extra_len;
  }
  nfc_hdr_put(t->frame, NFC_T_IO, NFC_P_IO, op->id);
  nfc_io_put(t->frame + NFC_AIO_HDR, &m);
  t->frame_len = NFC_AIO_HDR + NFC_P_IO;
}

/* The current message is out: next fragment, or the op is sent. */
static void tx_message_done(struct nfc_conn *c)
{
  struct nfc_tx *t = &c->tx;
  struct nfc_op *op = t->op;

  if (op->kind == NFC_OP_WRITE && t->frag_off + t->frag_len < op->wlen) {
    t->frag_off += t->frag_len;
    t->build = true;
    pthread_mutex_lock(&c->mu);
    op->deadline = fvx_now_ms() + op_timeout(c, op);
    pthread_mutex_unlock(&c->mu);
    return;
  }
  pthread_mutex_lock(&c->mu);
  op->sent = true;
  op->deadline = fvx_now_ms() + op_timeout(c, op);
  if (c->txq == op) {
    c->txq = op->next;
    if (!c->txq)
      c->txq_tail = NULL;
  }
  release(c, op);
  t->op = NULL;
  pthread_mutex_unlock(&c->mu);
}

/* Sends what the socket takes of the current op. */
static int tx_step(struct nfc_conn *c, bool *progress, short *want,
                   struct nfc_error *e)
{
  struct nfc_tx *t = &c->tx;

  while (t->op) {
    const uint8_t *p;
    size_t n, done = 0;
    enum nfc_io io;

    if (t->build)
      tx_build(c);
    /* The frame (header + payload) and the extra are separate writes. */
    if (t->frame_pos < t->frame_len) {
      p = t->frame + t->frame_pos;
      n = t->frame_len - t->frame_pos;
    } else if (t->extra_pos < t->extra_len) {
      p = t->extra + t->extra_pos;
      n = t->extra_len - t->extra_pos;
    } else {
      tx_message_done(c);
      return NFC_OK; /* let the holder look at replies and the queue */
    }
    io = nfc_stream_send(&c->s, p, n, &done, want, e);
    if (io == NFC_IO_AGAIN)
      return NFC_OK;
    if (io != NFC_IO_OK)
      return e->status;
    *progress = true;
    if (t->frame_pos < t->frame_len)
      t->frame_pos += done;
    else
      t->extra_pos += done;
  }
  return NFC_OK;
}

/* ---- the holder's loop -------------------------------------------------- */

/* Runs the socket until mine is answered or the connection dies.  Called
 * and returns with c->mu held and c->io_busy set by the caller. */
static void pump(struct nfc_conn *c, struct nfc_op *mine)
{
  while (!mine->done && !c->dead) {
    struct nfc_error e;
    bool progress = false, sending;
    short rwant = POLLIN, twant = POLLOUT;
    int64_t deadline;
    int st;

    if (!c->tx.op && c->txq) {
      c->tx.op = c->txq;
      c->tx.op->io_ref++;
      c->tx.op->deadline = fvx_now_ms() + op_timeout(c, c->tx.op);
      c->tx.frag_off = 0;
      c->tx.build = true;
    }
    sending = c->tx.op != NULL;
    deadline = earliest_deadline(c);
    pthread_mutex_unlock(&c->mu);

    nfc_error_clear(&e);
    st = rx_step(c, &progress, &rwant, &e);
    if (st == NFC_OK && sending)
      st = tx_step(c, &progress, &twant, &e);
    if (st == NFC_OK && !progress) {
      short ev = rwant | (sending ? twant : 0);
      int r = nfc_stream_wait(&c->s, ev, c->wake[0], deadline);

      if (r == 2)
        drain_wake(c);
      if (r < 0)
        st = nfc_fail(&e, NFC_E_CONNECT, "poll on %s failed: %s", c->s.peer,
                      strerror(errno));
    }

    pthread_mutex_lock(&c->mu);
    if (st != NFC_OK)
      kill_locked(c, &e);
    else
      check_deadlines(c);
  }
  if (c->dead)
    reset_io_state(c);
}

/* ---- the entry point ---------------------------------------------------- */

/* The holder let go of the socket: the owner of one op still waiting
 * takes it (the op oldest by opId, whose reply is likely first). */
static void hand_over(struct nfc_conn *c)
{
  const struct nfc_op *next = NULL;

  for (unsigned i = 0; i < NFC_IN_FLIGHT_MAX; i++) {
    const struct nfc_op *op = c->ops[i];

    if (op && !op->done && (!next || op->id - next->id > UINT32_MAX / 2))
      next = op;
  }
  if (next)
    wake_owner(c, next);
}

static int free_slot(struct nfc_conn *c)
{
  for (unsigned i = 0; i < NFC_IN_FLIGHT_MAX; i++)
    if (!c->ops[i])
      return (int)i;
  return -1;
}

int nfc_aio_call(struct nfc_conn *c, struct nfc_op *op, struct nfc_error *err)
{
  long timeout = op_timeout(c, op);
  int64_t slot_deadline = fvx_now_ms() + timeout;
  int slot;

  pthread_mutex_lock(&c->mu);
  while (!c->dead && c->in_flight >= c->o.max_in_flight) {
    if (fvx_now_ms() >= slot_deadline) {
      pthread_mutex_unlock(&c->mu);
      return nfc_fail(err, NFC_E_TIMEOUT, "no free request slot on %s "
                      "within %ld ms", c->s.peer, timeout);
    }
    timed_wait(c, slot_deadline);
  }
  if (c->dead) {
    *err = c->dead_err;
    pthread_mutex_unlock(&c->mu);
    return err->status;
  }
  slot = free_slot(c);
  op->slot = (unsigned)slot;
  op->id = c->next_id++;
  op->sent = op->done = false;
  op->io_ref = 0;
  op->got = 0;
  op->nruns = 0;
  op->reply_len = 0;
  op->status = NFC_OK;
  op->deadline = INT64_MAX; /* set when its sending starts */
  op->next = NULL;
  nfc_error_clear(&op->err);
  c->ops[slot] = op;
  c->in_flight++;
  if (c->txq_tail)
    c->txq_tail->next = op;
  else
    c->txq = op;
  c->txq_tail = op;
  c->stats.requests++;
  c->last_activity = fvx_now_ms();
  if (c->io_busy)
    wake_holder(c);

  while (!op->done) {
    if (!c->io_busy) {
      c->io_busy = true;
      pump(c, op);
      c->io_busy = false;
      hand_over(c);
      continue;
    }
    if (op->deadline != INT64_MAX &&
        fvx_now_ms() > op->deadline + NFC_WAIT_GRACE_MS) {
      check_deadlines(c);
      continue;
    }
    /* Nobody signals a change of the deadline (when sending starts): the
     * wait re-reads it at least every second. */
    nfc_cond_wait_until(&c->op_cv[slot], &c->mu,
                        op->deadline == INT64_MAX
                            ? fvx_now_ms() + 1000
                            : op->deadline + NFC_WAIT_GRACE_MS);
  }
  while (op->io_ref > 0)
    nfc_cond_wait_until(&c->op_cv[slot], &c->mu, fvx_now_ms() + 100);
  c->ops[slot] = NULL;
  c->in_flight--;
  pthread_cond_broadcast(&c->cv);
  pthread_mutex_unlock(&c->mu);
  if (op->status != NFC_OK && err)
    *err = op->err;
  return op->status;
}
