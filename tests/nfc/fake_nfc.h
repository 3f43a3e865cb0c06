/*
 * fake_nfc.h -- a scripted NFC server for the client tests, written from
 * reference/nfc.md alone: the plaintext banner, TLS with a throwaway
 * self-signed certificate made at start, the authd lines, the classic
 * frames and the AIO messages over an in-memory disk.  It records what it
 * received (the exact lines and frame order) and can misbehave on purpose.
 *
 * One server thread accepts connections on 127.0.0.1 (random port) one at
 * a time.  Every blocking read in it has a timeout, and fake_stop ends it.
 */
#ifndef FVX_TEST_FAKE_NFC_H
#define FVX_TEST_FAKE_NFC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "nfc/nfc.h"

enum fake_malformed {
  FAKE_WELL_FORMED,
  FAKE_BAD_MAGIC,    /* the first read reply has a wrong magic */
  FAKE_HUGE_SIZE,    /* ... a payload size of 256 MiB */
  FAKE_WRONG_OPID,   /* ... the opId of no request */
  FAKE_OVERLAP,      /* ... its first fragment twice */
  FAKE_OUT_OF_RANGE, /* ... a fragment past the total */
};

struct fake_cfg {
  enum nfc_transport transport; /* what the client is expected to ask */
  bool no_sha256;         /* banner without "SHA256 supported" */
  bool refuse_530;        /* PROXY answered "530 Login incorrect" */
  bool second_cert_other; /* nbdssl: second handshake, another certificate */
  uint64_t capacity;      /* 0: 8 MiB */
  uint32_t frag_size;     /* read fragments; 0: the OPEN_SESSION buffer */
  bool reverse_fragments; /* send a read's fragments last first */
  bool reverse_replies;   /* answer held requests newest first */
  unsigned hold_ms;       /* hold replies while more requests come */
  bool readonly;          /* ERROR 0x0b to a read-write OPEN_FILE */
  bool write_error;       /* ERROR 0x0b to every write */
  bool error_text_extra;  /* ERROR text as an extra, not in the payload */
  unsigned drop_conns;    /* the first N connections drop mid-reply at
                             their first IO read */
  bool drop_write;        /* drop the connection at a write's first
                             fragment */
  unsigned delay_ms;      /* sleep before each IO reply */
  enum fake_malformed malformed;
};

struct fake;

/* Starts a server (aborts the test on failure).  The caller frees it with
 * fake_stop. */
struct fake *fake_start(const struct fake_cfg *cfg);
unsigned fake_port(const struct fake *f);
/* SHA-1 colon hex of the first certificate, and of another one. */
const char *fake_thumbprint(const struct fake *f);
const char *fake_other_thumbprint(const struct fake *f);

/* Stops the thread; what it saw stays readable until fake_free. */
void fake_stop(struct fake *f);
void fake_free(struct fake *f);

/* What the server saw (after fake_stop, or under its own lock). */
struct fake_seen {
  char transcript[4096];  /* of the first connection: one item a line */
  char first_error[256];  /* the first protocol check that failed */
  unsigned conns;         /* connections accepted */
  char sessions[16][64];  /* SESSION ids, one per connection */
  unsigned reads, writes; /* IO requests (a write counts once) */
  unsigned zero_reads;    /* reads of sector 0 (keep-alives) */
  unsigned max_outstanding;
  uint32_t buffer_size, buffer_count; /* OPEN_SESSION @4, @8 */
  unsigned comp_mask;     /* 1 << compression of each write fragment */
  uint32_t max_fragment;  /* longest write fragment */
  bool closed_cleanly;    /* CLOSE_FILE, CLOSE_SESSION and type 4 seen */
};
void fake_seen(struct fake *f, struct fake_seen *out);

/* The fake's disk (capacity bytes).  Initially a pattern, except the
 * second MiB, which is zeros. */
const uint8_t *fake_image(const struct fake *f);
/* The byte the pattern has at off. */
uint8_t fake_pattern(uint64_t off);

/* Options for tests: transport t, 10 s timeouts, a 64 KiB buffer. */
struct nfc_options fake_options(enum nfc_transport t);

/* A ticket for f: host 127.0.0.1, its port, the first thumbprint, the
 * service "vpxa-nfc" and a session id "session-<n>". */
void fake_ticket(const struct fake *f, struct nfc_ticket *t, unsigned n);

#endif
