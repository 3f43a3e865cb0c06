/*
 * disk.h -- local virtual disks (VMDK): the interface the api layer uses.
 *
 * The disk layer opens a VMDK *chain*: the link named by the caller (a
 * descriptor file, or a monolithic sparse file with an embedded descriptor)
 * and, unless asked for a single link, its parents found through
 * parentFileNameHint.  Each link is a descriptor plus a set of extents, each
 * extent served by one backend (sparse.c, stream.c, flat.c) through the ops
 * table of extent.h.  Every byte comes from a byte source (file.h): the
 * local file system (disk_open), or a vfs or file handed in from above
 * (disk_open_vfs, disk_open_raw: datastore HTTPS, NFC).  See docs/disk.md
 * for the formats and the on-disk checks.
 *
 * The layer knows nothing of VixError or vSphere: functions return an
 * enum disk_status (0 is success, negative values are failures) and record
 * a one-line detail (which file, which field, which value) with disk_fail()
 * where the failure is detected (error.h); it logs nothing above debug.
 * The api layer reads disk_last_error(), logs it once and maps the status
 * to a VixError (src/api/disk_errors.c).
 *
 * THREADS.  ^A disk opened with DISK_OPEN_READONLY may be read -- disk_read
 * and disk_block_status -- from several threads at once; the other calls
 * on it (close, info, metadata) are not concurrent with anything.  A
 * writable disk is used by one thread at a time (VDDK's rule for a handle).
 * Different disks may always be used from different threads.
 */
#ifndef FVX_DISK_H
#define FVX_DISK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DISK_SECTOR 512u
/* Largest capacity in sectors: the byte size must fit in 64 bits. */
#define DISK_MAX_SECTORS (UINT64_MAX / DISK_SECTOR)

enum disk_status {
  DISK_OK = 0,
  DISK_E_NOMEM = -1,       /* allocation failed */
  DISK_E_IO = -2,          /* read/write/fsync failed (errno in detail) */
  DISK_E_NOTFOUND = -3,    /* a file of the disk does not exist */
  DISK_E_ACCESS = -4,      /* permission denied */
  DISK_E_EXISTS = -5,      /* a file to create already exists */
  DISK_E_LOCKED = -6,      /* another writer holds the disk */
  DISK_E_READONLY = -7,    /* write to a disk opened read-only */
  DISK_E_NOSPACE = -8,     /* file system full, or a format limit reached */
  DISK_E_ARG = -9,         /* invalid argument from the caller */
  DISK_E_RANGE = -10,      /* sectors beyond the capacity */
  DISK_E_DESCRIPTOR = -11, /* descriptor unparsable or inconsistent */
  DISK_E_CORRUPT = -12,    /* sparse header unusable: not a valid disk */
  DISK_E_NEEDSREPAIR = -13,/* metadata points outside the file or overlaps */
  DISK_E_VERSION = -14,    /* format version we do not know */
  DISK_E_UNSUPPORTED = -15,/* a valid feature we do not implement */
  DISK_E_CID = -16,        /* parent's CID differs from the child's parentCID */
  DISK_E_CHAIN = -17,      /* parent chain loops */
  DISK_E_TOODEEP = -18,    /* parent chain longer than DISK_MAX_LINKS */
  DISK_E_PARENT = -19,     /* parent cannot be found/opened */
  DISK_E_KEY = -20,        /* metadata key not found */
  DISK_E_TOOSMALL = -21,   /* caller's buffer too small */
  DISK_E_TOOBIG = -22,     /* capacity beyond what the format can hold */
  DISK_E_CANTREPAIR = -23, /* CheckRepair found damage it cannot fix */
  DISK_E_NAME = -24,       /* file name unusable (quotes, too long) */
  DISK_E_CANTSHRINK = -25, /* shrink asked of a child (redo log) */
  DISK_E_CAPACITY = -26,   /* attach: parent and child capacities differ */
  DISK_E_ROOTLINK = -27,   /* attach: the child names no parent */
  DISK_E_NOTCAPABLE = -28, /* the file's source cannot write/truncate/lock */
  /* Remote byte sources (file.h): the detail names the URL or host. */
  DISK_E_NET_RESOLVE = -29,  /* host name does not resolve */
  DISK_E_NET_CONNECT = -30,  /* connection refused, reset, or dropped and
                                not resumable within the retry bound */
  DISK_E_NET_TLS = -31,      /* TLS handshake failed */
  DISK_E_NET_PIN = -32,      /* certificate does not match the thumbprint */
  DISK_E_NET_TIMEOUT = -33,  /* no answer within the configured timeout */
  DISK_E_NET_HTTP = -34,     /* the server answered an error status
                                (disk_error.http_status says which) */
  DISK_E_NET_PROTOCOL = -35, /* a malformed answer: wrong length, 200 where
                                206 was asked, bad framing */
  DISK_E_AUTH = -36,         /* credentials, cookie or ticket refused */
  DISK_E_REMOTE = -37,       /* the server refused the operation with a
                                message of its own (NFC error reply) */
  DISK_E_NOTSEQUENTIAL = -38,/* a streamOptimized disk being written: the
                                write starts before the end of the last */
};

/* Short English name of a status ("corrupt sparse header"); static. */
const char *disk_status_str(int status);

/* Most links a chain may have (the opened disk plus its parents). */
#define DISK_MAX_LINKS 64

/* Disk types; the values are VDDK's VixDiskLibDiskType values. */
enum disk_kind {
  DISK_KIND_MONO_SPARSE = 1,
  DISK_KIND_MONO_FLAT = 2,
  DISK_KIND_SPLIT_SPARSE = 3,
  DISK_KIND_SPLIT_FLAT = 4,
  DISK_KIND_VMFS_FLAT = 5,
  DISK_KIND_STREAM = 6,
  DISK_KIND_VMFS_THIN = 7,
  DISK_KIND_VMFS_SPARSE = 8,
  DISK_KIND_UNKNOWN = 256
};

/* Adapter types; the values are VDDK's VixDiskLibAdapterType values. */
enum disk_adapter {
  DISK_ADAPTER_IDE = 1,
  DISK_ADAPTER_BUSLOGIC = 2,
  DISK_ADAPTER_LSILOGIC = 3,
  DISK_ADAPTER_UNKNOWN = 256
};

struct disk_geometry {
  uint32_t cylinders, heads, sectors;
};

/* What GetInfo reports.  Strings point into the disk and live until
 * disk_close (or the next disk_meta_set). */
struct disk_info {
  uint64_t capacity; /* sectors */
  struct disk_geometry bios, phys;
  enum disk_adapter adapter;
  enum disk_kind kind;
  int num_links;
  const char *parent_hint; /* NULL for a base disk */
  const char *uuid;        /* ddb.uuid or NULL */
  uint32_t logical_sector_size, physical_sector_size;
};

struct disk; /* an open chain */

/* Open flags. */
#define DISK_OPEN_READONLY 0x1u
#define DISK_OPEN_SINGLE_LINK 0x2u
#define DISK_OPEN_UNBUFFERED 0x4u

/* Progress callback for long operations: percent 0..100, may repeat. */
typedef void disk_progress_fn(void *opaque, int percent);

/* Opens the disk at 'path' (absolute).  Writable opens take the writer lock
 * (DISK_E_LOCKED when another writer holds it); parents are always opened
 * read-only.  A sparse file with an embedded descriptor is read from
 * itself, whatever file its descriptor names.  On success *out is the
 * caller's, freed with disk_close; on failure *out is NULL and nothing
 * stays open. */
int disk_open(struct disk **out, const char *path, unsigned flags);

/* The same through a vfs (disk/file.h): path in the vfs's naming, extents
 * and parents resolved and opened through it.  disk_open is this with
 * disk_vfs_posix().  A writable open needs files that can write (and a
 * text descriptor that can truncate): DISK_E_NOTCAPABLE otherwise, before
 * anything is written; the writer lock is taken when the file can lock.
 * The vfs must outlive the disk. */
struct disk_vfs;
int disk_open_vfs(struct disk **out, const struct disk_vfs *vfs,
                  const char *path, unsigned flags);

/* A disk served by one file whose bytes are the disk's logical bytes (NFC:
 * the host interprets the VMDK chain).  The disk takes f whatever the
 * result (closed with the disk, or at once on failure).  The capacity is
 * f->size / DISK_SECTOR.  ddb is NULL or a NULL-terminated array of key,
 * value pairs ("ddb.adapterType", "lsilogic", ...), copied: GetInfo and the
 * metadata calls read them ("ddb." may be left out of a key); disk_meta_set
 * is DISK_E_NOTCAPABLE.  Nothing but the data is ever written: no
 * descriptor, no CID, no lock.  The disk is writable unless flags hold
 * DISK_OPEN_READONLY (and f must then have DISK_FILE_CAN_WRITE, else
 * DISK_E_NOTCAPABLE); allocation queries go to f's allocated() when it has
 * DISK_FILE_CAN_ALLOC, else everything is allocated; reads always read f.
 * DISK_E_ARG for a bad ddb key or value, or a file without a whole
 * sector.  disk_path() is f->name. */
struct disk_file;
int disk_open_raw(struct disk **out, struct disk_file *f,
                  const char *const *ddb, enum disk_kind kind,
                  unsigned flags);

/* Flushes (best effort) and closes; NULL is a no-op.  Returns the flush
 * status; the disk is freed either way. */
int disk_close(struct disk *d);

uint64_t disk_capacity(const struct disk *d);
void disk_get_info(const struct disk *d, struct disk_info *out);
/* Path of the opened (top) link's descriptor; lives until disk_close. */
const char *disk_path(const struct disk *d);

/* Reads/writes n sectors at 'sector'.  DISK_E_RANGE when the range passes
 * the capacity (nothing done).  A failed write may have written part of the
 * range; metadata stays consistent (data before grain-table entries). */
int disk_read(struct disk *d, uint64_t sector, uint64_t n, void *buf);
int disk_write(struct disk *d, uint64_t sector, uint64_t n, const void *buf);
int disk_flush(struct disk *d);

/* Allocation status of [sector, sector+n) through the chain (or the top link
 * only when opened SINGLE_LINK): *len receives the length of the leading
 * run (1..n sectors) with the same status, *allocated whether it holds data
 * (zeroed grains count as allocated).  Flat extents are allocated, except
 * the holes their file reports (DISK_FILE_CAN_ALLOC) in the bottom link.
 * DISK_E_RANGE past the capacity. */
int disk_block_status(struct disk *d, uint64_t sector, uint64_t n,
                      uint64_t *len, bool *allocated);

/* The top link's disk database.  disk_meta_get: *out points into the disk
 * (valid until the next disk_meta_set or disk_close); DISK_E_KEY if absent.
 * disk_meta_keys writes the keys as NUL-terminated strings followed by one
 * more NUL into buf (len bytes) and sets *need to the size this takes;
 * DISK_E_TOOSMALL (buf untouched) when len < *need.  disk_meta_set adds or
 * replaces a key and rewrites the descriptor (DISK_E_READONLY on a
 * read-only disk, DISK_E_NOTCAPABLE on a raw one, state unchanged on
 * failure). */
int disk_meta_get(const struct disk *d, const char *key, const char **out);
int disk_meta_keys(const struct disk *d, char *buf, size_t len, size_t *need);
int disk_meta_set(struct disk *d, const char *key, const char *val);

/* ---- creation and management (create.c, manage.c) ---------------------- */

struct disk_create_params {
  enum disk_kind kind;
  enum disk_adapter adapter;
  unsigned hw_version;
  uint64_t capacity;        /* sectors */
  uint32_t logical_sector_size, physical_sector_size; /* 512 or 4096 */
};

/* Creates a new, empty disk.  DISK_E_EXISTS if the descriptor or an extent
 * exists (nothing changed); on other failures the files created are
 * removed. */
int disk_create(const char *path, const struct disk_create_params *p);

/* Creates a monolithic (or split) sparse child of d's top link at path, its
 * parentCID the top link's CID.  Same failure rules as disk_create. */
int disk_create_child(struct disk *d, const char *path, enum disk_kind kind);

/* Copies the disk (through its chain) at src into a new disk of p->kind
 * (p->capacity is ignored: the source's is used) at dst.  With overwrite an
 * existing dst is unlinked first.  Zero grains are not copied into sparse
 * targets. */
int disk_clone(const char *dst, const char *src,
               const struct disk_create_params *p, bool overwrite,
               disk_progress_fn *progress, void *opaque);

/* Deletes every file of the link at path (takes the writer lock first). */
int disk_unlink(const char *path);

/* Renames the link at src to dst, renaming its extents along. */
int disk_rename(const char *src, const char *dst);

/* Grows the (closed) link at path to capacity sectors.  On failure the
 * extent files this call created are removed again. */
int disk_grow(const char *path, uint64_t capacity, bool update_geometry,
              disk_progress_fn *progress, void *opaque);

/* Bytes a clone of d into 'kind' (DISK_KIND_UNKNOWN: d's own kind) needs. */
int disk_space_for_clone(struct disk *d, enum disk_kind kind, uint64_t *out);

/* Shrink (drop_zero) and defragment d's top link, which must be writable
 * (DISK_E_READONLY).  Each sparse extent is rewritten into a temporary file
 * next to it -- referenced grains in logical order, back to back, after the
 * same metadata -- which is synced and renamed over the extent, so a crash
 * leaves the old or the new file, both whole.  Shrink also drops grains that
 * are all zeros; it refuses a child (DISK_E_CANTSHRINK: a zero grain in a
 * redo log hides its parent's data) and disks without sparse extents or
 * with streamOptimized ones (DISK_E_UNSUPPORTED).  Defragment is a no-op on
 * flat disks.  Contents and CID are unchanged; d stays open and usable (the
 * writer lock moves to the new file).  On failure every extent is either
 * the old or the new file, and d is usable. */
int disk_shrink(struct disk *d, disk_progress_fn *progress, void *opaque);
int disk_defragment(struct disk *d, disk_progress_fn *progress, void *opaque);

/* Whether child's chain can continue into parent's: child's bottom link must
 * name a parent (DISK_E_ROOTLINK), the capacities must agree
 * (DISK_E_CAPACITY), the bottom link's parentCID must be parent's top CID
 * (DISK_E_CID), the chains may not share a file (DISK_E_CHAIN) and together
 * hold at most DISK_MAX_LINKS links (DISK_E_TOODEEP).  Changes nothing. */
int disk_attach_check(const struct disk *parent, const struct disk *child);

/* Appends parent's links below child's (VDDK's Attach).  parent is consumed
 * whatever the result (except DISK_E_ARG for a NULL disk or parent ==
 * child, which changes nothing): on success its links move into child
 * (read-only from now on; a writer lock it held stays held until child
 * closes) and the empty struct is freed; on failure it is closed.  When child's parentFileNameHint
 * does not lead to parent's top file and child is writable, the hint is
 * rewritten to name it (otherwise the attachment lives in memory only). */
int disk_attach(struct disk *parent, struct disk *child);

/* Checks the sparse metadata of the link at path: DISK_OK when sound,
 * DISK_E_NEEDSREPAIR when damaged (repair false, or repair impossible gives
 * DISK_E_CANTREPAIR).  With repair, grain-table entries that point outside
 * the file or into metadata are cleared and the status is DISK_OK. */
int disk_check(const char *path, bool repair);

#endif
