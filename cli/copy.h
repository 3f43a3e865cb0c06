/*
 * copy.h -- reading a disk through VixDiskLib with several requests in
 * flight, hashing its whole logical content in order, and writing what it
 * read to a sink.
 *
 * One engine serves every command: a full backup (read the allocated
 * blocks of the snapshot's disk, zeros elsewhere, into a new sparse VMDK),
 * an incremental (read CBT's changed areas into a child VMDK; the rest of
 * the content is the child's parent chain's), verify (read a local chain,
 * no sink), restore to a raw image (a file descriptor sink) and `verify
 * --deep` (read the snapshot on the server).  The SHA-256 is always of the
 * whole disk, capacity * 512 bytes, so it compares with the manifest and
 * with the simulator's GET /disk/sha256.
 *
 * Requests are VixDiskLib_ReadAsync of at most 'chunk' sectors, 'depth'
 * of them outstanding; they are consumed in disk order (hash, then write),
 * each slot refilled as soon as its data is used, so the source always has
 * depth requests to work on.  The completion callback only marks a slot
 * done; everything else runs on the caller's thread.
 */
#ifndef FREEVIX_CLI_COPY_H
#define FREEVIX_CLI_COPY_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "freevix.h"
#include "spans.h"

enum copy_fill {
  COPY_FILL_ZERO, /* outside the spans the disk is zeros */
  COPY_FILL_DST,  /* outside the spans the disk is dst's (an incremental:
                     the child's parent chain); fill_spans says where dst
                     holds data, zeros elsewhere */
};

enum copy_sink {
  COPY_SINK_NONE, /* hash only */
  COPY_SINK_DISK, /* VixDiskLib_Write to dst */
  COPY_SINK_FD,   /* pwrite to fd at the same offsets (a raw image whose
                     length is already the capacity) */
};

struct copy_job {
  VixDiskLibHandle src;
  uint64_t capacity;            /* sectors */
  const struct spans *spans;    /* what to read from src */
  enum copy_fill fill;
  VixDiskLibHandle dst;         /* COPY_FILL_DST and COPY_SINK_DISK */
  const struct spans *fill_spans; /* COPY_FILL_DST */
  enum copy_sink sink;
  int fd;                       /* COPY_SINK_FD */
  bool write_zeros;             /* write 64 KiB pieces that are all zero
                                   (needed over a parent); else they stay
                                   holes */
  uint32 chunk;                 /* sectors per request; 0: 2048 (1 MiB) */
  unsigned depth;               /* requests in flight; 0: 8 */
  volatile sig_atomic_t *cancel; /* stop as soon as it is set (may be NULL) */
  /* Called after each request's data is used, on the caller's thread,
   * with the bytes read so far. */
  void (*progress)(void *data, uint64_t bytes_read);
  void *progress_data;

  /* Results. */
  unsigned char sha256[32];
  uint64_t bytes_read;          /* from src */
  uint64_t bytes_written;       /* to the sink */
  char what[256];               /* on failure: which step, where */
};

/* Runs the job.  Returns VIX_OK (sha256 and the counters set),
 * VIX_E_CANCELLED when *cancel was set, or the failing call's error (what
 * says which, at which sector).  Every request is finished before it
 * returns. */
VixError copy_run(struct copy_job *j);

/* Lower-case hex of a digest into out (65 bytes). */
void copy_hex(const unsigned char sha256[32], char out[65]);

#endif
