/*
 * readahead.h -- sequential read-ahead in front of a byte source (file.h)
 * whose reads each cost a round trip: a datastore file over HTTPS, where
 * every pread is one ranged GET (and, direct to a host, one single-use
 * service ticket, a SOAP call to vCenter).
 *
 * disk_readahead_wrap() puts a file in front of a concurrent, read-only
 * source.  While reads arrive in sequence -- each starting where the
 * furthest one before it ended or, once a sequence runs, inside what was
 * queued for it, while a read a little behind it leaves it be; so both one
 * reader with VixDiskLib_Read and ReadAsync's workers (who take ranges in
 * order but may call in another) form a sequence -- the wrapper reads the source in chunks from worker
 * threads of its own, keeps chunks in flight ahead of the reader, and
 * serves the reads from them.
 * Every other read goes to the source as it is.  What a sequence gets
 * read ahead grows with what it has read: chunks start at that size (one
 * read at least) and grow to o->chunk, the window from one chunk ahead by
 * one per chunk consumed to o->depth, so a short sequence costs at most
 * about its own length in extra bytes.  It stops at the end of the file and, when the source knows
 * allocation (DISK_FILE_CAN_ALLOC: the datastore file under Changed Block
 * Tracking), at the end of the allocated run the reader is in, so a reader
 * that skips the holes (a backup reading QueryAllocatedBlocks' runs) makes
 * the source read nothing it does not need; a reader that reads a hole
 * gets read-ahead through it.
 *
 * EXACT BYTES OR AN ERROR.  A chunk that failed is the error of a read
 * that was waiting for it, with the source's status and detail (the
 * source made its own bounded retries meanwhile), and is then forgotten,
 * so a repeated read asks the source again.  A read that finds a chunk
 * failed before it came asks the source itself (the failure may have
 * passed); a failed chunk nobody reads is dropped silently.
 * Waits are the source's own: a read waits only for source reads of its
 * range and of the chunks queued before it, each bounded by the source's
 * timeout.
 *
 * ASSUMPTION.  The source's bytes do not change while the file is open: a
 * chunk read ahead is served for as long as it is kept.  True of what the
 * datastore path reads (a snapshot's disks, a powered-off VM's disks:
 * nobody writes them through this library, and the host refuses the
 * writable files of a running VM).
 *
 * MEMORY AND THREADS.  At most depth + 3 chunk buffers and depth worker
 * threads per file, both made when the first sequence appears and freed
 * at close; nothing while reads are random.  Close waits for a source read
 * that is already running (bounded by the source's timeout).
 */
#ifndef FVX_DISK_READAHEAD_H
#define FVX_DISK_READAHEAD_H

#include <stddef.h>

#include "disk/file.h"

/* Limits of struct disk_readahead. */
#define DISK_READAHEAD_DEPTH_MAX 64u
#define DISK_READAHEAD_CHUNK_MIN (64u * 1024u)
#define DISK_READAHEAD_CHUNK_MAX (64u * 1024u * 1024u)

struct disk_readahead {
  unsigned depth; /* chunks in flight ahead of a sequence; 0: no wrapper */
  size_t chunk;   /* bytes per chunk, CHUNK_MIN .. CHUNK_MAX */
};

/* Wraps inner, which must be DISK_FILE_CONCURRENT and not writable.
 * DISK_OK with *out the wrapper, which owns inner from then on (its close
 * closes inner); with o->depth 0, *out is inner itself.  On failure
 * (DISK_E_ARG for a bad option or an unsuitable source, DISK_E_NOMEM,
 * detail recorded) inner stays the caller's and *out is NULL.  The
 * wrapper's name, id, size and caps are inner's; allocated() is inner's. */
int disk_readahead_wrap(struct disk_file *inner,
                        const struct disk_readahead *o,
                        struct disk_file **out);

#endif
