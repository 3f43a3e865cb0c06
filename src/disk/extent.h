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
 *
 * Bytes come from the extent's struct disk_file (file.h), never from a file
 * descriptor: a backend reads and writes e->file through the checked
 * wrappers, so the same backend serves local files and remote sources.
 *
 * THREADS.  On a disk opened read-only, map() and read() of one extent may
 * be asked from several threads; chain.c holds e->lock around them (the
 * grain-table cache, the scratch grain and the stream's decoded grain are
 * the mutable state they touch) and does the DATA pread outside it when
 * the file is DISK_FILE_CONCURRENT.  Backends therefore need no locking of
 * their own, and write()/flush() keep the one-thread-per-handle rule.
 */
#ifndef FVX_DISK_EXTENT_H
#define FVX_DISK_EXTENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <pthread.h>

#include "disk/descriptor.h"

enum map_kind { MAP_DATA, MAP_ZERO, MAP_HOLE, MAP_CODED };

struct extent_map {
  enum map_kind kind;
  uint64_t len;    /* sectors, >= 1 */
  uint64_t offset; /* byte offset in extent->file, MAP_DATA only */
};

/* Reads what lies below an extent (the parent chain, or zeros):
 * 'sector' is relative to the extent. */
struct below {
  int (*read)(void *opaque, uint64_t sector, uint64_t n, uint8_t *buf);
  void *opaque;
};

struct extent;

/* Every function returns DISK_OK or a DISK_E_* status with the detail
 * recorded (error.h). */
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
  /* Releases backend state (not the file, which link.c closes). */
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
  /* The extent's bytes; NULL for ZERO extents.  Owned by the extent and
   * closed by link_close -- unless it is the link's own file (the sparse
   * file holding an embedded descriptor, a bare sparse extent, a raw disk),
   * which the link owns and closes once.  Its size is the file's size
   * (writes keep it current); its name names the extent in details. */
  struct disk_file *file;
  uint64_t flat_offset; /* bytes, FLAT */
  struct sparse *sp;    /* sparse/stream state */
  struct delta *delta;  /* vmfsSparse/SEsparse state (delta.c) */
  /* Held by chain.c around map()/read() on reads (see THREADS); set up and
   * torn down by link.c. */
  pthread_mutex_t lock;
};

/* The name of e for details: its file's name ("ZERO extent" for none). */
const char *extent_name(const struct extent *e);

/* Opens the backend for e (e->file, e->type, e->sectors set by link.c).
 * DISK_E_* on failure, with e->ops left NULL. */
int flat_open(struct extent *e, uint64_t offset_sectors);
int zero_open(struct extent *e);
/* Sparse files: reads the header and picks sparse or stream ops. */
int sparse_open(struct extent *e);

/* The flush() of file-backed extents: disk_file_sync of e->file; and of
 * extents that never hold unsynced data (ZERO, streamOptimized): nothing
 * to do, can't fail. */
int extent_sync(struct extent *e);
int extent_no_flush(struct extent *e);

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

/* Rewrites the writable sparse extent e of a local (posix) file (sparse.c):
 * a temporary file next to it gets the same header fields, descriptor area
 * and allocated tables, then the referenced grains in logical order (with
 * drop_zero, grains that are all zeros are left out and their entries
 * cleared); it is synced and renamed over the extent's file, and e switches
 * to it.  With lock, the new file gets the writer lock before it replaces
 * the old one.  On success *old receives the replaced file, which the
 * caller closes (it may be the link's own file too).  DISK_E_UNSUPPORTED
 * for a stream extent, DISK_E_NOTCAPABLE for a file that is not local.  On
 * failure e is unchanged and the temporary file is gone -- except when only
 * the final directory sync fails: e has switched and *old is set. */
int sparse_compact(struct extent *e, bool drop_zero, bool lock,
                   struct disk_file **old, struct compact_progress *pr);

#endif
