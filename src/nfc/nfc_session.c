/*
 * nfc_session.c -- one NFC connection's life (reference/nfc.md §2-§3):
 * nfc_open connects, runs the authd handshake (nfc_authd.c), the classic
 * phase of fixed 264-byte frames (§3.1), then opens the AIO session and
 * the file through the request engine (§3.2 Open); nfc_close closes them
 * in the order of §3.2 Close.
 *
 * The classic phase runs before the engine exists, one frame at a time
 * with the blocking helpers, each frame and each string its own write
 * (§3.1 "keep them as separate TLS records" [I]).
 */
#include "nfc/nfc_internal.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/text.h"

#define NFC_CONNECT_TIMEOUT_DEFAULT 30000L
#define NFC_IO_TIMEOUT_DEFAULT 180000L  /* §4 Timeouts: VDDK suggests 3 m */
#define NFC_CLOSE_REPLY_DEFAULT 5000L

/* Applies defaults to a copy of o and checks ranges: NFC_OK or NFC_E_ARG. */
static int options_resolve(struct nfc_options *out,
                           const struct nfc_options *o,
                           struct nfc_error *err)
{
  *out = *o;
  if (o->transport != NFC_NBD && o->transport != NFC_NBDSSL)
    return nfc_fail(err, NFC_E_ARG, "unknown NFC transport %d",
                    (int)o->transport);
  if (o->connect_timeout_ms < 0 || o->io_timeout_ms < 0 ||
      o->keepalive_ms < 0 || o->close_reply_ms < 0)
    return nfc_fail(err, NFC_E_ARG, "negative NFC timeout");
  if (!out->connect_timeout_ms)
    out->connect_timeout_ms = NFC_CONNECT_TIMEOUT_DEFAULT;
  if (!out->io_timeout_ms)
    out->io_timeout_ms = NFC_IO_TIMEOUT_DEFAULT;
  if (!out->close_reply_ms)
    out->close_reply_ms = NFC_CLOSE_REPLY_DEFAULT;
  if (!out->buffer_size)
    out->buffer_size = NFC_BUF_DEFAULT;
  if (!out->max_request)
    out->max_request = NFC_REQUEST_MAX;
  if (!out->max_in_flight)
    out->max_in_flight = 1;
  /* §3.2 OPEN_SESSION: ESXi 8 accepted 64 KiB-2 MiB. */
  if (out->buffer_size < NFC_BUF_MIN || out->buffer_size > NFC_BUF_MAX ||
      out->buffer_size % 512)
    return nfc_fail(err, NFC_E_ARG, "NFC buffer size %u outside 64 KiB-2 MiB "
                    "or not a multiple of 512", out->buffer_size);
  /* §4 Sizes [I]: keep each IO <= 2 MiB. */
  if (out->max_request < NFC_BUF_MIN || out->max_request > NFC_REQUEST_MAX)
    return nfc_fail(err, NFC_E_ARG, "NFC max_request %u outside 64 KiB-2 MiB",
                    out->max_request);
  if (out->max_in_flight > NFC_IN_FLIGHT_MAX)
    return nfc_fail(err, NFC_E_ARG, "max_in_flight %u above %u",
                    out->max_in_flight, NFC_IN_FLIGHT_MAX);
  if (o->compression != NFC_COMP_NONE && o->compression != NFC_COMP_ZLIB &&
      o->compression != NFC_COMP_FASTLZ && o->compression != NFC_COMP_SKIPZ)
    return nfc_fail(err, NFC_E_ARG, "unknown NFC compression %d",
                    (int)o->compression);
  return NFC_OK;
}

/* A ticket field that goes into an authd line: printable, no blanks. */
static bool token_ok(const char *s, size_t max)
{
  size_t n = strnlen(s, max);

  if (n == 0 || n == max)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!isgraph((unsigned char)s[i]))
      return false;
  return true;
}

static int check_open_args(const struct nfc_ticket *t, const char *host,
                           const char *path, struct nfc_error *err)
{
  size_t n;

  if (!token_ok(t->session_id, sizeof t->session_id))
    return nfc_fail(err, NFC_E_ARG, "the ticket has no usable session id");
  if (!token_ok(t->service, sizeof t->service))
    return nfc_fail(err, NFC_E_ARG, "the ticket has no usable service name");
  if (!host || !*host)
    return nfc_fail(err, NFC_E_ARG, "the ticket names no host and no "
                    "default host is set");
  if (t->port > 65535)
    return nfc_fail(err, NFC_E_ARG, "ticket port %u out of range", t->port);
  n = strlen(path);
  if (n == 0 || n > NFC_PATH_MAX || !fvx_utf8_valid(path, n))
    return nfc_fail(err, NFC_E_ARG, "unusable datastore path (empty, longer "
                    "than %u bytes or not UTF-8)", NFC_PATH_MAX);
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)path[i] < 0x20)
      return nfc_fail(err, NFC_E_ARG, "datastore path holds a control "
                      "character");
  return NFC_OK;
}

/* ---- §3.1 classic phase ------------------------------------------------- */

static int classic_send(struct nfc_conn *c, const uint8_t *frame,
                        const char *what, struct nfc_error *err)
{
  return nfc_stream_write_full(&c->s, frame, NFC_CLASSIC_FRAME,
                               fvx_now_ms() + c->o.io_timeout_ms, what, err);
}

/* Reads one frame and checks its type; type 4 from the host refuses
 * (§3.1 SESSION_COMPLETE: "S to refuse"). */
static int classic_expect(struct nfc_conn *c, uint8_t *frame, uint32_t want,
                          const char *what, struct nfc_error *err)
{
  uint32_t type;
  int st = nfc_stream_read_full(&c->s, frame, NFC_CLASSIC_FRAME,
                                fvx_now_ms() + c->o.io_timeout_ms, what, err);

  if (st != NFC_OK)
    return st;
  type = fvx_le32(frame);
  if (type == want)
    return NFC_OK;
  if (type == NFC_C_SESSION_COMPLETE)
    return nfc_fail(err, NFC_E_PROTOCOL, "%s refused the NFC session at %s "
                    "(an ESXi 6.x host answers HANDSHAKE this way)",
                    c->s.peer, what);
  return nfc_fail(err, NFC_E_PROTOCOL, "%s answered %s with frame type %u "
                  "(expected %u)", c->s.peer, what, type, want);
}

static int classic_phase(struct nfc_conn *c, struct nfc_error *err)
{
  static const char client[] = "vddk", mode[] = "nbdmode";
  uint8_t f[NFC_CLASSIC_FRAME];
  int64_t dl;
  uint32_t version;
  int st;

  /* §3.1 Order: C43 C33 S36 C51 S51 C54+strings C55 C52 S52. */
  memset(f, 0, sizeof f);
  fvx_put_le32(f, NFC_C_HANDSHAKE);
  memcpy(f + 4, "PlainText", 9);
  st = classic_send(c, f, "HANDSHAKE", err);
  memset(f, 0, sizeof f);
  fvx_put_le32(f, NFC_C_SESSION_PARAMS);
  if (st == NFC_OK)
    st = classic_send(c, f, "SESSION_PARAMS", err);
  if (st == NFC_OK)
    st = classic_expect(c, f, NFC_C_PARAMS_REPLY, "SESSION_PARAMS", err);
  if (st != NFC_OK)
    return st;

  memset(f, 0, sizeof f);
  fvx_put_le32(f, NFC_C_VERSION);
  fvx_put_le32(f + 4, NFC_CLIENT_VERSION);
  st = classic_send(c, f, "VERSION", err);
  if (st == NFC_OK)
    st = classic_expect(c, f, NFC_C_VERSION, "VERSION", err);
  if (st != NFC_OK)
    return st;
  version = fvx_le32(f + 4);
  if (version < NFC_AIO_MIN_VERSION)
    return nfc_fail(err, NFC_E_PROTOCOL, "%s speaks NFC version %u; AIO "
                    "needs 3 or later", c->s.peer, version);
  fvx_debug("nfc: %s: NFC version %u", c->s.peer, version);

  memset(f, 0, sizeof f);
  fvx_put_le32(f, NFC_C_CONNECTION_DATA);
  fvx_put_le32(f + 4, (uint32_t)strlen(client));
  fvx_put_le32(f + 8, (uint32_t)strlen(mode));
  st = classic_send(c, f, "CONNECTION_DATA", err);
  dl = fvx_now_ms() + c->o.io_timeout_ms;
  if (st == NFC_OK)
    st = nfc_stream_write_full(&c->s, client, strlen(client), dl,
                               "CONNECTION_DATA", err);
  if (st == NFC_OK)
    st = nfc_stream_write_full(&c->s, mode, strlen(mode), dl,
                               "CONNECTION_DATA", err);
  memset(f, 0, sizeof f);
  fvx_put_le32(f, NFC_C_FEATURES);
  fvx_put_le32(f + 4, NFC_FEATURES);
  if (st == NFC_OK)
    st = classic_send(c, f, "FEATURES", err);
  memset(f, 0, sizeof f);
  fvx_put_le32(f, NFC_C_AIO_SESSION_OPEN);
  if (st == NFC_OK)
    st = classic_send(c, f, "AIO_SESSION_OPEN", err);
  if (st == NFC_OK)
    st = classic_expect(c, f, NFC_C_AIO_SESSION_OPEN, "AIO_SESSION_OPEN",
                        err);
  return st;
}

/* ---- §3.2 Open ---------------------------------------------------------- */

static int plain_call(struct nfc_conn *c, struct nfc_op *op, uint32_t type,
                      uint32_t plen, struct nfc_error *err)
{
  op->kind = NFC_OP_PLAIN;
  op->type = type;
  op->plen = plen;
  return nfc_aio_call(c, op, err);
}

static int aio_open(struct nfc_conn *c, const char *path,
                    struct nfc_error *err)
{
  struct nfc_op op;
  struct nfc_open_reply r;
  size_t n = strlen(path);
  int st;

  /* OPEN_SESSION (§3.2): @4 buffer size (the largest fragment), @8 buffer
   * count.  ASSUMPTION (§3.2: VDDK's BufCount, OVL sends 1): we send
   * max_in_flight, which is 1 by default. */
  memset(&op, 0, sizeof op);
  fvx_put_le32(op.payload + 4, c->o.buffer_size);
  fvx_put_le32(op.payload + 8, c->o.max_in_flight);
  st = plain_call(c, &op, NFC_T_OPEN_SESSION, NFC_P_OPEN_SESSION, err);
  if (st != NFC_OK)
    return st;
  /* SET_SOCK_OPTS: 12 zeros; the reply's buffer sizes are only logged. */
  memset(&op, 0, sizeof op);
  st = plain_call(c, &op, NFC_T_SET_SOCK_OPTS, NFC_P_SET_SOCK_OPTS, err);
  if (st != NFC_OK)
    return st;
  if (op.reply_len >= 12)
    fvx_debug("nfc: %s: socket options %u/%u/%u", c->s.peer,
              fvx_le32(op.reply), fvx_le32(op.reply + 4),
              fvx_le32(op.reply + 8));
  /* SET_RES_POOL: u32 1; its reply is unknown (§5.3) and not read. */
  memset(&op, 0, sizeof op);
  fvx_put_le32(op.payload, 1);
  st = plain_call(c, &op, NFC_T_SET_RES_POOL, NFC_P_SET_RES_POOL, err);
  if (st != NFC_OK)
    return st;
  /* OPEN_FILE: @0 path length, @16 type 2, @20 flags; extra = the path. */
  memset(&op, 0, sizeof op);
  fvx_put_le32(op.payload, (uint32_t)n);
  fvx_put_le32(op.payload + 16, NFC_FILE_TYPE_DISK);
  fvx_put_le32(op.payload + 20, c->writable ? NFC_OPEN_FLAGS_RW
                                         : NFC_OPEN_FLAGS_RO);
  op.extra = (const uint8_t *)path;
  op.extra_len = (uint32_t)n;
  st = plain_call(c, &op, NFC_T_OPEN_FILE, NFC_P_OPEN_FILE, err);
  if (st != NFC_OK) {
    char why[sizeof err->detail];

    fvx_strlcpy(why, err->detail, sizeof why);
    return nfc_fail(err, st, "cannot open %s %s: %s", path,
                    c->writable ? "for writing" : "read-only", why);
  }
  if (nfc_open_reply_get(&r, op.reply,
                         op.reply_len < NFC_P_MAX ? op.reply_len : NFC_P_MAX))
    return nfc_fail(err, NFC_E_PROTOCOL, "%s sent a malformed OPEN_FILE "
                    "reply (%u bytes) for %s", c->s.peer, op.reply_len, path);
  c->handle = r.handle;
  c->info = r.info;
  fvx_debug("nfc: %s: opened %s: %llu bytes, sector %u, flags 0x%x",
            c->s.peer, path, (unsigned long long)r.info.capacity,
            r.info.sector_size, r.flags);
  return NFC_OK;
}

/* ---- life --------------------------------------------------------------- */

static struct nfc_conn *conn_new(const struct nfc_options *o, bool writable,
                                 struct nfc_error *err, int *st)
{
  struct nfc_conn *c = calloc(1, sizeof *c);

  if (!c) {
    *st = nfc_fail(err, NFC_E_NOMEM, "no memory for an NFC connection");
    return NULL;
  }
  c->magic = NFC_CONN_MAGIC;
  c->s.fd = -1;
  c->wake[0] = c->wake[1] = -1;
  c->writable = writable;
  *st = options_resolve(&c->o, o, err);
  return c;
}

/* Frees c without sending anything. */
static void conn_free(struct nfc_conn *c)
{
  nfc_stream_close(&c->s);
  nfc_aio_fini(c);
  c->magic = 0;
  fvx_wipe(c, sizeof *c);
  free(c);
}

int nfc_open(struct nfc_conn **out, const struct nfc_ticket *t,
             const struct nfc_options *o, const char *path, bool writable,
             struct nfc_disk_info *info, struct nfc_error *err)
{
  struct nfc_conn *c;
  const char *host;
  int st;

  nfc_error_clear(err);
  if (!out || !t || !o || !path || !info)
    return nfc_fail(err, NFC_E_ARG, "nfc_open: missing argument");
  *out = NULL;
  host = t->host[0] ? t->host : o->default_host;
  st = check_open_args(t, host, path, err);
  if (st != NFC_OK)
    return st;
  c = conn_new(o, writable, err, &st);
  if (!c)
    return st;
  if (st == NFC_OK)
    st = nfc_net_connect(&c->s, host, t->port ? t->port : NFC_PORT_DEFAULT,
                         c->o.connect_to, c->o.connect_timeout_ms, err);
  if (st == NFC_OK)
    st = nfc_authd(&c->s, t, &c->o, err);
  if (st == NFC_OK)
    st = classic_phase(c, err);
  if (st == NFC_OK)
    st = nfc_aio_init(c, err);
  if (st == NFC_OK)
    st = aio_open(c, path, err);
  /* The option strings were borrowed for the open only. */
  c->o.default_host = c->o.connect_to = c->o.ca_file = NULL;
  if (st == NFC_OK) {
    c->opened = true;
    st = nfc_keepalive_start(c, err);
  }
  if (st != NFC_OK) {
    nfc_close(c);
    return st;
  }
  *info = c->info;
  *out = c;
  return NFC_OK;
}

int nfc_conn_attach(struct nfc_conn **out, int fd, const struct nfc_options *o,
                    uint64_t handle, const struct nfc_disk_info *info,
                    bool writable, struct nfc_error *err)
{
  int st;
  struct nfc_conn *c = conn_new(o, writable, err, &st);

  *out = NULL;
  if (!c) {
    close(fd);
    return st;
  }
  c->s.fd = fd;
  snprintf(c->s.peer, sizeof c->s.peer, "fd %d", fd);
  if (st == NFC_OK && fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0)
    st = nfc_fail(err, NFC_E_ARG, "cannot make fd %d non-blocking", fd);
  if (st == NFC_OK)
    st = nfc_aio_init(c, err);
  c->o.default_host = c->o.connect_to = c->o.ca_file = NULL;
  if (st != NFC_OK) {
    conn_free(c);
    return st;
  }
  c->handle = handle;
  c->info = *info;
  c->opened = true;
  *out = c;
  return NFC_OK;
}

/* One close request, bounded by close_reply_ms (§5.3: its reply is not
 * known; any reply, or an ERROR, ends the wait). */
static void close_call(struct nfc_conn *c, uint32_t type, uint32_t plen)
{
  struct nfc_op op;
  struct nfc_error e;

  memset(&op, 0, sizeof op);
  if (type == NFC_T_CLOSE_FILE)
    fvx_put_le64(op.payload, c->handle);
  op.timeout_ms = c->o.close_reply_ms;
  if (plain_call(c, &op, type, plen, &e) != NFC_OK)
    fvx_debug("nfc: close: %s", e.detail);
}

void nfc_close(struct nfc_conn *c)
{
  if (!c || c->magic != NFC_CONN_MAGIC)
    return;
  nfc_keepalive_stop(c);
  if (c->opened && !nfc_conn_dead(c)) {
    uint8_t f[NFC_CLASSIC_FRAME];
    struct nfc_error e;

    /* §3.2 Close: CLOSE_FILE, CLOSE_SESSION, classic type 4, close. */
    close_call(c, NFC_T_CLOSE_FILE, NFC_P_CLOSE_FILE);
    if (!nfc_conn_dead(c))
      close_call(c, NFC_T_CLOSE_SESSION, NFC_P_CLOSE_SESSION);
    memset(f, 0, sizeof f);
    fvx_put_le32(f, NFC_C_SESSION_COMPLETE);
    if (!nfc_conn_dead(c))
      nfc_stream_write_full(&c->s, f, sizeof f,
                            fvx_now_ms() + c->o.close_reply_ms,
                            "SESSION_COMPLETE", &e);
  }
  conn_free(c);
}

void nfc_conn_stats(struct nfc_conn *c, struct nfc_stats *out)
{
  memset(out, 0, sizeof *out);
  if (!c || c->magic != NFC_CONN_MAGIC || !c->aio_ready)
    return;
  pthread_mutex_lock(&c->mu);
  *out = c->stats;
  pthread_mutex_unlock(&c->mu);
}
