/*
 * nfc.h -- VDDK's network transports nbd and nbdssl: an NFC client for one
 * disk on an ESXi host (TCP 902), written from the public protocol facts in
 * reference/nfc.md (cited there as §N; the code cites the same sections).
 *
 * One struct nfc_conn is one TCP connection, one single-use ticket, one
 * NFC session and one open disk (§1 "Ticket use"): nfc_open connects,
 * runs the authd handshake (§2), the classic NFC phase (§3.1) and the AIO
 * session open (§3.2), and opens the file the caller names -- for a
 * snapshot read, the file the snapshot's configuration names, never the
 * running VM's writable leaf.  Reads and writes address the disk's logical
 * bytes: the host interprets the VMDK chain.
 *
 * This module knows nothing of VixDiskLib or vSphere SOAP: the ticket comes
 * from the caller (src/vim fetches it), and errors are an enum nfc_status
 * plus the server's own message.  nfc_file.c wraps a connection as a
 * disk_file (disk/file.h) for src/disk.
 *
 * THREADS.  ^nfc_read, nfc_write and nfc_allocated may be called from
 * several threads at once: requests are pipelined on the one connection up
 * to nfc_options.max_in_flight (default 1: strictly one at a time) and
 * answers matched by opId.  nfc_open and nfc_close are not concurrent with
 * anything on the same connection.
 *
 * MEMORY.  ^Bounded per connection: no allocation follows a length from the
 * wire without a cap; a request longer than max_request is split.
 *
 * SECRETS.  ^The ticket's session id never reaches a log line or an error.
 */
#ifndef FVX_NFC_H
#define FVX_NFC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum nfc_status {
  NFC_OK = 0,
  NFC_E_NOMEM,     /* out of memory */
  NFC_E_ARG,       /* bad argument (path, sizes, options) */
  NFC_E_RESOLVE,   /* host name does not resolve */
  NFC_E_CONNECT,   /* refused, reset, or the connection died */
  NFC_E_TLS,       /* TLS handshake failed */
  NFC_E_PIN,       /* certificate does not match the ticket's thumbprint */
  NFC_E_TIMEOUT,   /* no answer within io_timeout_ms */
  NFC_E_AUTH,      /* authd refused the ticket (530 ...) */
  NFC_E_PROTOCOL,  /* a malformed or unexpected message */
  NFC_E_SERVER,    /* the server answered ERROR (its message kept) */
  NFC_E_READONLY,  /* a write on a read-only ticket or open (error 0x0b) */
  NFC_E_LOCKED,    /* the file is locked by a running VM (open refused) */
  NFC_E_NOTFOUND,  /* no such file */
  NFC_E_RANGE,     /* offset/length past the capacity or misaligned */
};

/* Short English sentence for a status (static, never NULL). */
const char *nfc_status_str(int status);

struct nfc_error {
  enum nfc_status status;
  uint32_t server_code;   /* code from an ERROR reply, 0 when none */
  char server_msg[256];   /* text from the server (authd line or ERROR
                             payload), "" when none */
  char detail[512];       /* one line: what failed; no secrets */
};

/* A HostServiceTicket (§1). */
struct nfc_ticket {
  char host[256];           /* "" : use nfc_options.default_host */
  unsigned port;            /* 0: 902 */
  char ssl_thumbprint[128]; /* SHA-1 colon hex; pins the host certificate */
  char service[32];         /* "vpxa-nfc" (vCenter) or "nfc" (ESXi) */
  char session_id[128];     /* single use; secret */
};

enum nfc_transport { NFC_NBD, NFC_NBDSSL };

enum nfc_compression {
  NFC_COMP_NONE = 0, NFC_COMP_ZLIB = 1, NFC_COMP_FASTLZ = 2, NFC_COMP_SKIPZ = 3
};

struct nfc_options {
  enum nfc_transport transport;
  const char *default_host;  /* host for a ticket without one (ESXi) */
  const char *connect_to;    /* "HOST:PORT:ADDR:PORT,..." as in https.h */
  long connect_timeout_ms;   /* 0: 30000 */
  long io_timeout_ms;        /* one reply; 0: 180000 (VDDK's suggestion) */
  uint32_t buffer_size;      /* OPEN_SESSION buffer = largest fragment;
                                0: 1 MiB; at most 2 MiB (§3.2, §4) */
  uint32_t max_request;      /* longest single IO; 0: 2 MiB; at most
                                2 MiB (§4) */
  unsigned max_in_flight;    /* pipelined requests; 0: 1 (§3.2, §5.5) */
  enum nfc_compression compression; /* for writes (and asked of reads) */
  long keepalive_ms;         /* idle longer than this: read sector 0
                                (§4 Timeouts); 0: off */
  const char *ca_file;       /* unused when the ticket pins (always) */

  /* Settings for what reference/nfc.md leaves unknown or inferred (§5);
   * the zero value is the conservative choice.  docs/nfc.md "Assumptions"
   * says what would confirm or refute each on a real host.  (Added by the
   * nfc-client branch: a documented extension of this contract.) */
  bool second_tls_unpinned;  /* §2.4, §5.6: nbdssl's second certificate is
                                not checked (loudly logged); default: it
                                must match the ticket's thumbprint too */
  bool legacy_tls;           /* §2.2: OpenSSL SECLEVEL=1 (ESXi 6.5/6.7.0) */
  bool error_text_inline;    /* §5.1: never read an ERROR text as an extra.
                                By default a text length that passes the
                                payload means the text follows as an
                                extra, as every AIO extra does (§3.2: its
                                length is inside the payload, not in size) */
  long close_reply_ms;       /* §5.3: how long nfc_close waits for each
                                of the CLOSE_FILE and CLOSE_SESSION replies
                                (reply sizes unknown); 0: 5000 */
};

/* What OPEN_FILE answered (§3.2). */
struct nfc_disk_info {
  uint64_t capacity;         /* bytes */
  uint32_t sector_size;      /* 512 when the server said 0 */
  uint32_t cylinders, heads, sectors; /* physical geometry */
};

struct nfc_stats {
  uint64_t requests, bytes_read, bytes_written;
  uint64_t reconnects; /* always 0 for one connection: nfc_file reconnects */
};

struct nfc_conn;

/* Connects for ticket t, opens path ("[ds] dir/x.vmdk") read-only or for
 * writing, fills *info.  *out is the caller's (nfc_close).  Returns NFC_OK
 * or a status with err filled; nothing stays open on failure. */
int nfc_open(struct nfc_conn **out, const struct nfc_ticket *t,
             const struct nfc_options *o, const char *path, bool writable,
             struct nfc_disk_info *info, struct nfc_error *err);

/* DDB_GET: the value of ddb key (without "ddb.") into out (n bytes,
 * NUL-terminated); *found false when the server has none. */
int nfc_ddb_get(struct nfc_conn *c, const char *key, char *out, size_t n,
                bool *found, struct nfc_error *err);

/* Reads/writes len bytes at byte offset off (both multiples of the sector
 * size, within the capacity: NFC_E_RANGE).  A read fills buf exactly or
 * fails; a write returns NFC_OK only after the server acknowledged it. */
int nfc_read(struct nfc_conn *c, uint64_t off, void *buf, size_t len,
             struct nfc_error *err);
int nfc_write(struct nfc_conn *c, uint64_t off, const void *buf, size_t len,
              struct nfc_error *err);

/* Allocated-block query (§3.2 type 13): count chunks of chunk bytes from
 * start (multiples of chunk); bitmap receives ceil(count/8) bytes, LSB
 * first, 1 = allocated. */
int nfc_allocated(struct nfc_conn *c, uint64_t chunk, uint64_t start,
                  uint64_t count, uint8_t *bitmap, struct nfc_error *err);

/* CLOSE_FILE, CLOSE_SESSION, SESSION_COMPLETE, close (§3.2 Close); best
 * effort, can't fail; NULL is a no-op. */
void nfc_close(struct nfc_conn *c);

void nfc_conn_stats(struct nfc_conn *c, struct nfc_stats *out);

/* ---- nfc_file.c: a connection as a disk_file ----------------------------- */

struct disk_file;

/* Fetches a fresh ticket (the layer above calls SOAP).  Returns 0, or -1
 * with err filled. */
typedef int nfc_ticket_fn(void *opaque, struct nfc_ticket *out,
                          struct nfc_error *err);

struct nfc_file_params {
  const struct nfc_options *options; /* copied */
  const char *path;                  /* "[ds] dir/x.vmdk" */
  bool writable;
  nfc_ticket_fn *ticket;             /* first ticket and reconnects */
  void *ticket_opaque;
  unsigned max_reconnects;           /* for reads after a dead connection;
                                        0: 2.  Writes never reconnect. */
};

/* Opens a disk over NFC as a disk_file whose offsets are the disk's logical
 * bytes (size = capacity), with DISK_FILE_CONCURRENT, CAN_ALLOC, and
 * CAN_WRITE + CAN_SYNC when writable.  NFC statuses become DISK_E_* with
 * the server's message in the detail (disk/error.h).  A read that finds
 * the connection dead reconnects with a new ticket (bounded); a write in
 * flight on a dead connection fails and is reported, never retried.
 * *info receives the open reply; ddb values of the keys GetInfo needs
 * (geometry.bios*, adapterType, uuid) are read once at open and kept. */
int nfc_file_open(struct disk_file **out, const struct nfc_file_params *p,
                  struct nfc_disk_info *info);

/* The ddb value of key kept at open ("adapterType", ...), NULL if none;
 * lives as long as the file. */
const char *nfc_file_ddb(struct disk_file *f, const char *key);

#endif
