/*
 * stream.h -- streamOptimized extents: reading (an extent backend) and the
 * sequential writer Create and Clone use.
 */
#ifndef FVX_DISK_STREAM_H
#define FVX_DISK_STREAM_H

#include <stdint.h>

#include "disk/extent.h"
#include "disk/grain.h"

/* Sets up the stream backend for an extent whose header h has the
 * compressed flag (finds the footer when the directory is at the end). */
int stream_open(struct extent *e, const struct sparse_header *h);

/* Grain size, in sectors, of the streams we write. */
#define STREAM_GRAIN 128u

struct stream_writer;

/* Creates path (O_EXCL) for a disk of capacity sectors, with desc as its
 * embedded descriptor.  *out is the caller's: finish or abort it. */
int stream_writer_open(struct stream_writer **out, const char *path,
                       uint64_t capacity, const char *desc);
/* Appends grain number 'grain' (STREAM_GRAIN sectors of data); grains must
 * come in increasing order. */
int stream_writer_put(struct stream_writer *w, uint64_t grain,
                      const uint8_t *data);
/* Writes the tables, directory, footer and end-of-stream marker, closes
 * and frees w (also on failure). */
int stream_writer_finish(struct stream_writer *w);
/* Closes, removes the file and frees w.  NULL is a no-op. */
void stream_writer_abort(struct stream_writer *w);

#endif
