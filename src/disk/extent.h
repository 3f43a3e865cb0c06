/*
 * extent.h -- one extent of a link and the backend ops table that serves it.
 *
 * A link's address space is cut into extents (descriptor extent lines).
 * Each extent is served by a backend, Redis-ae style: one file per format
 * with the same few functions behind a const ops table:
 *
 *   flat.c    FLAT / VMFS (raw data at an offset) and ZERO extents
 *   sparse.c  hosted sparse (KDMV) extents: grain directory + grain tables
 *   stream.c  streamOptimized (compressed, marker-framed) sparse extents
 *   cowd.c    vmfsSparse (COWD) redo logs, read-only      } shared parts
 *   sesparse.c SEsparse snapshot deltas, read-only        } in delta.c
 *
 * The central operation is map(): for a sector range it returns the length
 * of the leading run that has one state -- DATA (plain bytes at a file
 * offset, which chain.c preads directly, so the hot read path needs no
 * per-call allocation and coalesces contiguous grains into one pread),
 * ZERO, HOLE (not allocated here: read the parent), or CODED (the backend's
 * read() must decode it).  Writes go through the backend's write(), which
 * gets a 'below' reader to fill the rest of a newly allocated grain.
 *
 * Sparse metadata handling shared by sparse.c and stream.c (header checks,
 * grain directory, bounded grain-table cache) is in grain.c.
 */
#ifndef FVX_DISK_EXTENT_H
#define FVX_DISK_EXTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "disk/descriptor.h"

enum map_kind { MAP_DATA, MAP_ZERO, MAP_HOLE, MAP_CODED };

struct extent_map {
  enum map_kind kind;
  uint64_t len;    /* sectors, >= 1 */
  uint64_t offset; /* byte offset in extent->fd, MAP_DATA only */
};

/* Reads what lies below an extent (the parent chain, or zeros):
 * 'sector' is relative to the extent. */
struct below {
  int (*read)(void *opaque, uint64_t sector, uint64_t n, uint8_t *buf);
  void *opaque;
};

struct extent;

struct extent_ops {
  const char *name;
  /* Maps [sector, sector+n) (extent-relative, n >= 1, within the extent). */
  int (*map)(struct extent *e, uint64_t sector, uint64_t n,
             struct extent_map *out);
  /* Reads a CODED run (NULL for backends that never return CODED). */
  int (*read)(struct extent *e, uint64_t sector, uint64_t n, uint8_t *buf);
  /* Writes (NULL: the format is not writable in place). */
  int (*write)(struct extent *e, uint64_t sector, uint64_t n,
               const uint8_t *buf, const struct below *below);
  int (*flush)(struct extent *e);
  /* Completes a written extent before its disk is closed (NULL: nothing to
   * do): the stream writer writes its tables, directory and footer.  Its
   * failure is the close's. */
  int (*finish)(struct extent *e);
  /* Releases backend state (not the fd, which the extent owns). */
  void (*close)(struct extent *e);
};

struct sparse; /* grain.c */
struct delta;  /* delta.c */

struct extent {
  const struct extent_ops *ops;
  enum desc_extent_type type;
  uint64_t start;   /* first sector of the link covered */
  uint64_t sectors; /* length from the descriptor */
  bool writable;
  int fd;           /* -1 for ZERO extents */
  char *path;       /* absolute path; NULL for ZERO */
  uint64_t file_size; /* bytes at open (updated by writers) */
  uint64_t flat_offset; /* bytes, FLAT */
  struct sparse *sp;  /* sparse/stream state */
  struct delta *delta; /* vmfsSparse/SEsparse state (delta.c) */
};

/* Opens the backend for e (e->fd, e->path, e->type, e->sectors set by
 * chain.c).  DISK_E_* on failure, with e->ops left NULL. */
int flat_open(struct extent *e, uint64_t offset_sectors);
int zero_open(struct extent *e);
/* Sparse files: reads the header and picks sparse or stream ops. */
int sparse_open(struct extent *e);

/* Sparse maintenance (sparse.c): grow a closed, writable sparse extent to
 * 'capacity' sectors (the directory is extended in place or moved to the
 * end of the file; new tables are allocated on first write), and check its
 * tables: *bad receives the number of entries pointing outside the grain
 * area or at a grain another entry uses; with repair they are cleared. */
int sparse_grow(struct extent *e, uint64_t capacity);
int sparse_check(struct extent *e, bool repair, uint64_t *bad);

/* Progress of a compaction over several extents: 'done' of 'total' grain
 * slots; fn (may be NULL) hears each new whole percentage. */
struct compact_progress {
  void (*fn)(void *opaque, int percent);
  void *opaque;
  uint64_t done, total;
  int last;
};

/* Rewrites the writable sparse extent e (sparse.c): a temporary file next
 * to it gets the same header fields, descriptor area and allocated tables,
 * then the referenced grains in logical order (with drop_zero, grains that
 * are all zeros are left out and their entries cleared); it is fsynced and
 * renamed over e->path, and e switches to it.  With lock, the new file gets
 * the writer lock before it replaces the old one, and *lock_fd receives a
 * second descriptor of it for the link (else -1).  DISK_E_UNSUPPORTED for
 * a stream extent.  On failure e is unchanged and the temporary file is
 * gone. */
int sparse_compact(struct extent *e, bool drop_zero, bool lock, int *lock_fd,
                   struct compact_progress *pr);

/* Full pread/pwrite: DISK_OK, or DISK_E_IO (logged with 'what').  pread
 * zero-fills bytes past the end of the file and reports how many were real
 * through *got (may be NULL). */
int disk_pread(int fd, void *buf, size_t len, uint64_t off, size_t *got,
               const char *what);
int disk_pwrite(int fd, const void *buf, size_t len, uint64_t off,
                const char *what);
/* Maps an errno to a status. */
int disk_errno_status(int err);
/* The flush() of file-backed extents: fdatasync (DISK_E_IO, logged). */
int disk_extent_sync(struct extent *e);
/* True when the len bytes at buf are all zero. */
bool disk_all_zero(const void *buf, size_t len);

#endif
