/*
 * nfc_internal.h -- what the files of src/nfc share: the wire layouts
 * (nfc_wire.c), the byte stream under them (nfc_net.c), the authd
 * handshake (nfc_authd.c), the compressors (nfc_compress.c), the AIO
 * request engine (nfc_aio.c) and the connection they all work on.
 *
 * Every wire fact cites reference/nfc.md by section; every guess about
 * what that sheet leaves unknown (§5) is named here or in nfc_options and
 * listed in docs/nfc.md "Assumptions".
 */
#ifndef FVX_NFC_INTERNAL_H
#define FVX_NFC_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfc/nfc.h"
#include "util/le.h"
#include "util/tls.h"

/* ---- nfc_error.c -------------------------------------------------------- */

/* Sets err->status and the formatted detail (one line, cut to fit) and
 * returns status; server_code and server_msg are left as they are.  err
 * may be NULL (then only status is returned). */
int nfc_fail(struct nfc_error *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Empties err (NFC_OK, no texts).  NULL is a no-op. */
void nfc_error_clear(struct nfc_error *err);

/* ---- nfc_wire.c: byte layouts, pure functions --------------------------- */

/* authd (§2) */
#define NFC_PORT_DEFAULT 902u         /* §1 HostServiceTicket port */
#define NFC_LINE_MAX 1024u            /* longest authd line we accept */

/* classic phase (§3.1 Classic phase): fixed frames, u32 type at 0 */
#define NFC_CLASSIC_FRAME 264u
#define NFC_C_HANDSHAKE 43u
#define NFC_C_SESSION_PARAMS 33u
#define NFC_C_PARAMS_REPLY 36u
#define NFC_C_VERSION 51u
#define NFC_C_CONNECTION_DATA 54u
#define NFC_C_FEATURES 55u
#define NFC_C_AIO_SESSION_OPEN 52u
#define NFC_C_SESSION_COMPLETE 4u
#define NFC_CLIENT_VERSION 11u        /* §3.1 VERSION: client 11 */
#define NFC_AIO_MIN_VERSION 3u        /* §3.1 VERSION: AIO needs >= 3 */
#define NFC_FEATURES 3u               /* §3.1 FEATURES: u32 3 @4 */

/* AIO (§3.2 AIO framing) */
#define NFC_AIO_MAGIC 0xA100DA7Au     /* wire 7a da 00 a1 */
#define NFC_AIO_HDR 16u
#define NFC_T_ERROR 1u
#define NFC_T_OPEN_SESSION 2u
#define NFC_T_CLOSE_SESSION 3u
#define NFC_T_OPEN_FILE 4u
#define NFC_T_CLOSE_FILE 5u
#define NFC_T_IO 7u
#define NFC_T_SET_SOCK_OPTS 9u
#define NFC_T_DDB_GET 11u
#define NFC_T_ALLOCATED 13u
#define NFC_T_SET_RES_POOL 22u

/* request payload sizes (§3.2 table) */
#define NFC_P_OPEN_SESSION 16u
#define NFC_P_SET_SOCK_OPTS 12u
#define NFC_P_SET_RES_POOL 4u
#define NFC_P_OPEN_FILE 60u
#define NFC_P_DDB_GET 16u
#define NFC_P_IO 44u
#define NFC_P_ALLOCATED 48u
#define NFC_P_CLOSE_FILE 8u
#define NFC_P_CLOSE_SESSION 4u
#define NFC_P_MAX 64u                 /* largest request payload we build */

/* OPEN_FILE (§3.2 OPEN_FILE request) */
#define NFC_FILE_TYPE_DISK 2u         /* @16: NFC_DISK */
#define NFC_OPEN_FLAGS_RO 0x1eu       /* @20: read-only */
#define NFC_OPEN_FLAGS_RW 0x1au       /* @20: read-write */
#define NFC_PATH_MAX 4096u            /* our cap on the path extra */

/* OPEN_SESSION buffer bounds (§3.2 OPEN_SESSION: ESXi 8 accepted
 * 64 KiB-2 MiB) and the IO length cap (§4 Sizes [I]). */
#define NFC_BUF_MIN (64u * 1024u)
#define NFC_BUF_MAX (2u * 1024u * 1024u)
#define NFC_BUF_DEFAULT (1024u * 1024u)
#define NFC_REQUEST_MAX (2u * 1024u * 1024u)

/* Largest reply payload (the 'size' field) we accept: every known reply is
 * at most 60 bytes (§3.2 table); ERROR payloads are unknown (§5.1), so a
 * generous cap, and anything above it is a malformed frame. */
#define NFC_REPLY_PAYLOAD_MAX 4096u
/* Largest DDB value we accept (§3.2 DDB_GET). */
#define NFC_DDB_VALUE_MAX 65536u
/* Most pipelined requests we allow (§3.2 Pipelining: OVL had up to 512;
 * our cap keeps the per-connection state small). */
#define NFC_IN_FLIGHT_MAX 64u

/* IO direction and compression (§3.2 IO request @8). */
#define NFC_DIR_WRITE 0u
#define NFC_DIR_READ 1u

/* §3: "Integers are little-endian" (util/le.h). */

/* An AIO header (§3.2 AIO framing). */
struct nfc_hdr {
  uint32_t type, size, op_id;
};
void nfc_hdr_put(uint8_t out[NFC_AIO_HDR], uint32_t type, uint32_t size,
                 uint32_t op_id);
/* Decodes in; -1 when the magic is wrong (h unchanged). */
int nfc_hdr_get(struct nfc_hdr *h, const uint8_t in[NFC_AIO_HDR]);

/* The 44-byte IO message (§3.2 IO request), request and reply alike. */
struct nfc_io_msg {
  uint64_t handle;
  uint32_t dir, comp;
  uint64_t offset;
  uint32_t total, frag_off, frag_len, extra_len;
};
void nfc_io_put(uint8_t out[NFC_P_IO], const struct nfc_io_msg *m);
void nfc_io_get(struct nfc_io_msg *m, const uint8_t in[NFC_P_IO]);

/* OPEN_FILE reply (§3.2 OPEN_FILE reply).  Returns 0, or -1 when n < 52
 * or the sector size is not a power of two in 512..65536 (after 0 -> 512). */
struct nfc_open_reply {
  uint64_t handle;
  uint32_t type, flags;
  struct nfc_disk_info info;
};
int nfc_open_reply_get(struct nfc_open_reply *r, const uint8_t *p, size_t n);

/* Wire length of an allocated-block bitmap for count chunks (§3.2 type 13:
 * ceil(n/8) rounded up to a multiple of 4); count <= 2^32. */
uint64_t nfc_bitmap_wire_len(uint64_t count);

/* ERROR replies (§3.2 Errors, §5.1).  THE one place where the unknown
 * payload is guessed: see nfc_wire.c and docs/nfc.md "ERROR payload".
 * nfc_error_extra_len gives the length of a text announced by the payload
 * that does not fit in it (0 when none; capped), which the engine reads as
 * an extra unless nfc_options.error_text_inline is set.  nfc_error_decode
 * fills err->server_code and err->server_msg from the payload (and that
 * extra, may be NULL) and returns the status the error maps to
 * (NFC_E_READONLY for 0x0b, else NFC_E_SERVER, or the refinements of the
 * text hints). */
#define NFC_ERR_CODE_READONLY 0x0bu
uint32_t nfc_error_extra_len(const uint8_t *p, size_t n);
int nfc_error_decode(const uint8_t *p, size_t n, const uint8_t *extra,
                     size_t extra_n, struct nfc_error *err);

/* authd lines (§2.1, §2.3).  nfc_line_code: the leading 3-digit code of a
 * reply line, -1 when there is none.  nfc_banner_sha256: the banner offers
 * THUMBPRINT_SHA2 ("SHA256 supported").  nfc_line_expect: NFC_OK when line
 * carries code want; else the status a refusal maps to (530 NFC_E_AUTH,
 * 501 NFC_E_ARG, anything else NFC_E_PROTOCOL) with the line kept in
 * err->server_msg and the detail naming what (the command). */
int nfc_line_code(const char *line);
bool nfc_banner_sha256(const char *banner);
int nfc_line_expect(const char *line, int want, const char *what,
                    struct nfc_error *err);

/* ---- nfc_compress.c (§3.2 Compression) ---------------------------------- */

/* Compresses n bytes of src with comp (ZLIB, FASTLZ, SKIPZ) into dst (cap
 * bytes).  Returns the compressed length, which is always < n, or 0 when
 * the result would not be shorter than n or than cap (the caller then
 * sends the fragment uncompressed: "a fragment that does not shrink goes
 * as type 0").  A cap of n is therefore always enough. */
size_t nfc_compress(enum nfc_compression comp, const uint8_t *src, size_t n,
                    uint8_t *dst, size_t cap);

/* Decompresses src (n bytes) into exactly dst_len bytes at dst.  Returns 0,
 * or -1 when src is malformed or does not give exactly dst_len bytes (dst
 * is then unspecified). */
int nfc_decompress(enum nfc_compression comp, const uint8_t *src, size_t n,
                   uint8_t *dst, size_t dst_len);

/* ---- nfc_net.c: the socket and its TLS layers (§2) --------------------- */

/* Results of one non-blocking attempt. */
enum nfc_io { NFC_IO_OK, NFC_IO_AGAIN, NFC_IO_EOF, NFC_IO_ERR };

struct nfc_stream {
  int fd;             /* non-blocking, -1 when closed */
  void *ctx;          /* SSL_CTX * */
  void *ssl;          /* SSL *, NULL while raw (nbd after §2.4) */
  struct fvx_tls tls; /* the policy of the current TLS layer */
  char host[256];     /* the name dialled (SNI, CA checks, messages) */
  char peer[300];     /* "host:port" for messages */
};

/* Looks host:port up in a libcurl CONNECT_TO list ("HOST:PORT:ADDR:PORT,
 * ..."; empty HOST or PORT match any, empty ADDR or PORT keep the
 * original; IPv6 in brackets).  Returns 1 with addr (n bytes) and *port_out
 * set, 0 when no entry matches, -1 when the list is malformed. */
int nfc_connect_to_lookup(const char *list, const char *host, unsigned port,
                          char *addr, size_t n, unsigned *port_out);

/* Resolves and connects (honouring connect_to), TCP_NODELAY (§3.2
 * Pipelining), non-blocking.  Returns NFC_OK or RESOLVE/CONNECT/TIMEOUT/
 * ARG with err filled; s->fd is -1 on failure. */
int nfc_net_connect(struct nfc_stream *s, const char *host, unsigned port,
                    const char *connect_to, long timeout_ms,
                    struct nfc_error *err);

/* Starts a TLS client layer on s->fd (§2.2, §2.4): pinned to thumbprint
 * (colon hex) when one is given, else unpinned when insecure, else checked
 * against the system store plus ca_file.  legacy: OpenSSL SECLEVEL=1.
 * Returns NFC_OK, NFC_E_PIN (expected and presented in the detail),
 * NFC_E_TLS, NFC_E_TIMEOUT, NFC_E_CONNECT or NFC_E_NOMEM. */
int nfc_tls_start(struct nfc_stream *s, const char *thumbprint, bool insecure,
                  const char *ca_file, bool legacy, int64_t deadline,
                  struct nfc_error *err);

/* Forgets the TLS layer without close_notify (§2.4 nbd and nbdssl);
 * s->ssl becomes NULL.  Can't fail. */
void nfc_tls_drop(struct nfc_stream *s);

/* One non-blocking attempt; *done receives the bytes moved.  On
 * NFC_IO_AGAIN *want is the poll event to wait for.  NFC_IO_ERR and
 * NFC_IO_EOF fill err. */
enum nfc_io nfc_stream_recv(struct nfc_stream *s, void *buf, size_t n,
                            size_t *done, short *want, struct nfc_error *err);
enum nfc_io nfc_stream_send(struct nfc_stream *s, const void *buf, size_t n,
                            size_t *done, short *want, struct nfc_error *err);

/* Blocking helpers with an absolute deadline (fvx_now_ms) for the
 * handshake phases.  Return NFC_OK, NFC_E_TIMEOUT or NFC_E_CONNECT (what
 * names the step in the detail). */
int nfc_stream_read_full(struct nfc_stream *s, void *buf, size_t n,
                         int64_t deadline, const char *what,
                         struct nfc_error *err);
int nfc_stream_write_full(struct nfc_stream *s, const void *buf, size_t n,
                          int64_t deadline, const char *what,
                          struct nfc_error *err);
/* Reads one line (up to LF, CR stripped, NUL-terminated, at most cap-1
 * bytes: longer is NFC_E_PROTOCOL) byte by byte, never past its end. */
int nfc_stream_read_line(struct nfc_stream *s, char *line, size_t cap,
                         int64_t deadline, const char *what,
                         struct nfc_error *err);
/* Waits for events on s->fd or on wake_fd (>= 0) until deadline.  Returns
 * 1 when s->fd is ready, 2 when only wake_fd is, 0 on timeout, -1 on a
 * poll error. */
int nfc_stream_wait(struct nfc_stream *s, short events, int wake_fd,
                    int64_t deadline);

/* Best-effort close_notify when TLS is up, then close; s->fd becomes -1.
 * Can't fail. */
void nfc_stream_close(struct nfc_stream *s);

/* ---- nfc_authd.c (§2.1-§2.4) ------------------------------------------ */

/* Runs the authd exchange on a connected s up to the NFC byte stream of
 * §2.4: raw for NFC_NBD, a second TLS layer for NFC_NBDSSL. */
int nfc_authd(struct nfc_stream *s, const struct nfc_ticket *t,
              const struct nfc_options *o, struct nfc_error *err);

/* ---- nfc_aio.c: the request engine (§3.2) ------------------------------- */

enum nfc_op_kind {
  NFC_OP_PLAIN, /* one reply of any size, no extra */
  NFC_OP_READ,  /* IO read: fragments into rbuf */
  NFC_OP_WRITE, /* IO write: fragments from wbuf */
  NFC_OP_DDB,   /* DDB_GET: value extra into rbuf */
  NFC_OP_ALLOC, /* type 13: bitmap extra into rbuf */
};

/* Received pieces of a read, as merged sorted runs. */
#define NFC_RUNS_MAX 128u
struct nfc_run {
  uint32_t off, len;
};

/* One request and its reply.  The submitter fills the first block (the
 * payload for a READ/WRITE is built by the engine) and passes the op to
 * nfc_aio_call; the op lives on the submitter's stack. */
struct nfc_op {
  enum nfc_op_kind kind;
  uint32_t type;                 /* request type */
  uint8_t payload[NFC_P_MAX];    /* PLAIN, DDB, ALLOC */
  uint32_t plen;
  const uint8_t *extra;          /* request extra (path, key), or NULL */
  uint32_t extra_len;
  uint8_t *rbuf;                 /* READ/DDB/ALLOC destination */
  uint32_t rlen;                 /* READ: total; DDB/ALLOC: capacity */
  const uint8_t *wbuf;           /* WRITE source */
  uint32_t wlen;
  uint64_t disk_off;             /* READ/WRITE @16 */
  uint32_t reply_extra;          /* ALLOC: bitmap wire length */
  long timeout_ms;               /* 0: the connection's io_timeout_ms */

  /* results */
  uint8_t reply[NFC_P_MAX];      /* last reply payload (cut to 64) */
  uint32_t reply_len;            /* its full size */
  uint32_t got;                  /* READ: bytes placed; DDB: value bytes */
  int status;
  struct nfc_error err;

  /* engine state (under the connection's lock) */
  uint32_t id;
  unsigned slot;                 /* its index in ops[] and op_cv[] */
  bool sent, done;
  unsigned io_ref;               /* the io holder is using the buffers */
  int64_t deadline;
  struct nfc_run runs[NFC_RUNS_MAX];
  unsigned nruns;
  struct nfc_op *next;           /* send queue */
};

/* The holder's state while it reads one message (nfc_aio.c). */
enum nfc_rx_phase { NFC_RX_HDR, NFC_RX_PAYLOAD, NFC_RX_EXTRA };
struct nfc_rx {
  enum nfc_rx_phase phase;
  uint8_t hdr[NFC_AIO_HDR];
  uint8_t payload[NFC_REPLY_PAYLOAD_MAX];
  struct nfc_hdr h;
  size_t pos, need;
  struct nfc_op *op;             /* the op the message answers */
  uint8_t *dst;                  /* where the extra goes */
  uint32_t comp;                 /* READ fragment compression */
  struct nfc_io_msg io;          /* READ fragment fields */
};

/* The holder's state while it sends one op (nfc_aio.c). */
struct nfc_tx {
  struct nfc_op *op;             /* NULL: nothing being sent */
  uint8_t frame[NFC_AIO_HDR + NFC_P_MAX];
  size_t frame_len, frame_pos;
  const uint8_t *extra;
  size_t extra_len, extra_pos;
  uint32_t frag_off, frag_len;   /* WRITE: the fragment being sent */
  bool build;                    /* the next message is still to build */
};

#define NFC_CONN_MAGIC 0x4e46431cu

struct nfc_conn {
  uint32_t magic;
  struct nfc_stream s;
  struct nfc_options o;          /* defaults applied; strings borrowed
                                    only during nfc_open */
  uint64_t handle;
  struct nfc_disk_info info;
  bool writable, opened;

  bool aio_ready;                /* nfc_aio_init succeeded */
  pthread_mutex_t mu;
  pthread_cond_t cv;             /* a free slot, the connection's death */
  /* One per slot: its op's owner sleeps on it until the op is done (then
   * until the holder lets go of its buffers) or the socket is free for it
   * to hold; signalled for that owner alone, so a reply wakes one thread,
   * not every waiter. */
  pthread_cond_t op_cv[NFC_IN_FLIGHT_MAX];
  int wake[2];                   /* pipe: wakes the io holder */
  bool io_busy;                  /* a thread holds the socket */
  bool dead;                     /* sticky: the connection is unusable */
  struct nfc_error dead_err;
  uint32_t next_id;              /* §3.2: opId starts at 0, +1 each */
  struct nfc_op *ops[NFC_IN_FLIGHT_MAX]; /* outstanding ops */
  unsigned in_flight;
  struct nfc_op *txq, *txq_tail; /* ops not yet fully sent */
  int64_t last_activity;
  struct nfc_stats stats;

  /* the holder's own (only the thread with io_busy touches them) */
  struct nfc_rx rx;
  struct nfc_tx tx;
  uint8_t *rx_scratch;           /* compressed fragments, DDB values,
                                    bitmaps, ERROR texts */
  size_t rx_scratch_len;
  uint8_t *tx_scratch;           /* one compressed write fragment */
  size_t tx_scratch_len;

  /* keep-alive timer (nfc_keepalive.c) */
  pthread_t ka_thread;
  bool ka_running, ka_stop;
  pthread_cond_t ka_cv;
};

/* Sets up the engine of c (locks, pipe, scratch buffers for the options in
 * c->o).  Returns NFC_OK or NFC_E_NOMEM / NFC_E_CONNECT; on failure nothing
 * needs undoing but nfc_aio_fini. */
int nfc_aio_init(struct nfc_conn *c, struct nfc_error *err);
/* Frees what nfc_aio_init made (safe after a failed or no init). */
void nfc_aio_fini(struct nfc_conn *c);

/* Submits op and waits for its reply (bounded by its timeout).  Returns
 * op->status (also copied into err).  A timeout, a malformed message or a
 * dead socket makes the connection dead for every later call. */
int nfc_aio_call(struct nfc_conn *c, struct nfc_op *op,
                 struct nfc_error *err);

/* Waits on cv (whose clock is CLOCK_MONOTONIC) until deadline_ms
 * (fvx_now_ms), at most one second at a time; spurious wake-ups return
 * early, so callers loop on their condition. */
void nfc_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *mu,
                         int64_t deadline_ms);

/* True when c can no longer carry requests (reconnect to go on). */
bool nfc_conn_dead(struct nfc_conn *c);

/* ---- nfc_keepalive.c (§4 Timeouts) -------------------------------------- */

/* Starts the keep-alive thread when c->o.keepalive_ms > 0.  Returns NFC_OK
 * or NFC_E_NOMEM. */
int nfc_keepalive_start(struct nfc_conn *c, struct nfc_error *err);
/* Stops and joins it; a no-op when none runs. */
void nfc_keepalive_stop(struct nfc_conn *c);

/* ---- nfc_session.c ------------------------------------------------------ */

/* For tests and fuzzing: a connection over an fd already in the AIO phase
 * (§3.2) with the given file handle and info, opened writable or not.  The
 * connection owns fd.  Returns NFC_OK or a status with err filled (fd is
 * closed on failure). */
int nfc_conn_attach(struct nfc_conn **out, int fd, const struct nfc_options *o,
                    uint64_t handle, const struct nfc_disk_info *info,
                    bool writable, struct nfc_error *err);

#endif
