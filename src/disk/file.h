/*
 * file.h -- the byte layer under the VMDK format code: one open file of a
 * disk (struct disk_file) behind a small ops table, and the file system it
 * comes from (struct disk_vfs), in the spirit of SQLite's
 * sqlite3_io_methods / sqlite3_vfs and nbdkit's next_ops.
 *
 * The format code (chain, sparse, stream, flat, cowd, sesparse) never sees
 * a file descriptor, a path on the local file system or stat(): it asks a
 * vfs to open the descriptor named by the caller, asks the same vfs to
 * resolve extent file names and parentFileNameHint relative to that file,
 * and compares files by disk_file.id.  The POSIX vfs (file_posix.c) is the
 * local file system; remote vfs's (the datastore HTTPS interface, NFC) live
 * in their own modules above src/disk and are handed to disk_open_vfs() or
 * disk_open_raw() by the layer that knows vSphere, so src/disk includes no
 * network or vSphere code.
 *
 * CAPABILITIES.  A source says what it can do in disk_file.caps.  The
 * wrappers below check them: a write, truncate or lock asked of a source
 * without the capability fails with DISK_E_NOTCAPABLE (nothing is sent),
 * so a remote read-only file can never be half-written by the format code.
 *
 * THREADS.  ^A file whose caps hold DISK_FILE_CONCURRENT may be read by
 * several threads at once (POSIX pread; a remote source with a connection
 * pool or a pipelined session); other operations on one file are never
 * concurrent.  Without DISK_FILE_CONCURRENT the disk layer serialises
 * every call on the file.
 *
 * OWNERSHIP.  ^A struct disk_file comes from disk_vfs.open() and is the
 * caller's until disk_file_close() (which frees it and everything in it;
 * NULL is a no-op).  Sources embed struct disk_file as the first member of
 * their own struct.
 */
#ifndef FVX_DISK_FILE_H
#define FVX_DISK_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* disk_file.caps */
#define DISK_FILE_CAN_WRITE 0x01u    /* pwrite */
#define DISK_FILE_CAN_TRUNCATE 0x02u /* truncate */
#define DISK_FILE_CAN_LOCK 0x04u     /* lock (the writer lock) */
#define DISK_FILE_CAN_SYNC 0x08u     /* sync does real work (else a no-op) */
#define DISK_FILE_CAN_ALLOC 0x10u    /* allocated() knows allocation */
#define DISK_FILE_CONCURRENT 0x20u   /* pread from several threads at once */

/* The longest file identity, including its NUL. */
#define DISK_FILE_ID_MAX 160

struct disk_file;

struct disk_file_ops {
  const char *name; /* "posix", "https", "nfc": for messages */
  /* Reads len bytes at byte offset off into buf.  Bytes past the end of the
   * file read as zeros; *got (may be NULL) receives the number of bytes that
   * were really in the file.  Never returns fewer bytes silently: a source
   * that cannot deliver them all fails. */
  int (*pread)(struct disk_file *f, void *buf, size_t len, uint64_t off,
               size_t *got);
  /* Writes len bytes at off (extending the file).  NULL without
   * DISK_FILE_CAN_WRITE. */
  int (*pwrite)(struct disk_file *f, const void *buf, size_t len,
                uint64_t off);
  /* Makes written data durable (fdatasync; a remote flush).  May be NULL:
   * then sync succeeds with nothing to do. */
  int (*sync)(struct disk_file *f);
  /* Sets the file's size.  NULL without DISK_FILE_CAN_TRUNCATE. */
  int (*truncate)(struct disk_file *f, uint64_t size);
  /* Takes the writer lock for as long as the file is open: DISK_E_LOCKED
   * when another writer holds it.  NULL without DISK_FILE_CAN_LOCK. */
  int (*lock)(struct disk_file *f);
  /* Allocation of [off, off+len) (len >= 1): *run receives the length in
   * bytes of the leading run (1..len) with one state and *allocated that
   * state.  False positives are allowed (allocated but zero), false
   * negatives are not.  NULL without DISK_FILE_CAN_ALLOC. */
  int (*allocated)(struct disk_file *f, uint64_t off, uint64_t len,
                   uint64_t *run, bool *allocated);
  /* Frees the file and everything it owns (closing connections or the
   * descriptor).  Can't fail. */
  void (*close)(struct disk_file *f);
};

struct disk_file {
  const struct disk_file_ops *ops;
  unsigned caps;
  uint64_t size;             /* bytes at open; pwrite/truncate update it */
  char *name;                /* the vfs's name of the file (malloc'd, owned;
                                freed by the source's close) */
  char id[DISK_FILE_ID_MAX]; /* "same file" key: two open files with equal
                                ids are the same file (posix: "dev:ino",
                                datastore: "[ds] dir/f.vmdk") */
};

/* Checked calls through f->ops (file.c).  Each returns DISK_OK or a DISK_E_*
 * status with the detail recorded (error.h).  pread/pwrite refuse a range
 * whose end passes INT64_MAX with DISK_E_TOOBIG (nothing is sent);
 * pwrite, truncate, lock and allocated give DISK_E_NOTCAPABLE when the
 * capability is missing.  pwrite and truncate keep f->size up to date.
 * A source's answer is checked: a pread reporting more bytes than asked,
 * or an allocated() run outside 1..len, is DISK_E_IO.
 *
 * disk_file_allocated was added to the committed interface (the seam
 * branch): the checked call of ops->allocated, used by disk_block_status on
 * flat extents. */
int disk_file_pread(struct disk_file *f, void *buf, size_t len, uint64_t off,
                    size_t *got);
int disk_file_pwrite(struct disk_file *f, const void *buf, size_t len,
                     uint64_t off);
int disk_file_sync(struct disk_file *f);
int disk_file_truncate(struct disk_file *f, uint64_t size);
int disk_file_lock(struct disk_file *f);
int disk_file_allocated(struct disk_file *f, uint64_t off, uint64_t len,
                        uint64_t *run, bool *allocated);
void disk_file_close(struct disk_file *f);

/* disk_vfs.open flags */
#define DISK_VFS_WRITE 0x1u /* open for writing (caps must hold CAN_WRITE) */

/* Where the files of a disk come from. */
struct disk_vfs {
  const char *name; /* "posix", "datastore", ... for messages */
  /* Opens the file called path (in the vfs's own naming: an absolute path
   * for posix, "[ds] dir/f.vmdk" for a datastore).  *out is the caller's,
   * NULL on failure.  DISK_E_NOTFOUND when there is no such file. */
  int (*open)(const struct disk_vfs *vfs, const char *path, unsigned flags,
              struct disk_file **out);
  /* The vfs name of 'name' -- an extent file name or a parentFileNameHint
   * as written in the descriptor of the file called base -- or NULL with the
   * detail recorded (DISK_E_NOMEM, DISK_E_NAME for a name the vfs cannot
   * reach).  malloc'd, the caller frees it. */
  char *(*resolve)(const struct disk_vfs *vfs, const char *base,
                   const char *name, int *status);
  void *opaque; /* the vfs's own state */
};

/* The local file system: absolute paths, OFD writer locks, fdatasync.
 * Static, never freed. */
const struct disk_vfs *disk_vfs_posix(void);

#endif
