/*
 * file_posix.c -- the local file system as a byte source (file.h): the
 * POSIX vfs, and the file-system operations of file_posix.h.
 *
 * A posix file is an fd opened O_CLOEXEC (regular files only: a FIFO or a
 * device is refused, and O_NONBLOCK during the open keeps a FIFO from
 * hanging it); its identity is "dev:ino", so two names of one file (hard
 * links, "a/../a") compare equal.  pread and pwrite loop until the whole
 * range is done (EINTR retried); a read past the end of the file fills
 * zeros, as a short flat extent (a host-sparse file) must read.  Reads are
 * pread(2) and may run from several threads at once (DISK_FILE_CONCURRENT).
 *
 * The writer lock is an OFD write lock (fcntl F_OFD_SETLK) on the one byte
 * at DISK_LOCK_BYTE, far beyond any data and away from the bytes 100-299
 * qemu locks, so it never meets qemu's locks; it belongs to the open file
 * description, so a second writable open in this process conflicts too,
 * and closing the file (or the process dying) drops it.
 *
 * Names are absolute paths; an extent or parent name in a descriptor is
 * taken relative to the directory of the file holding the descriptor.
 */
#include "disk/file_posix.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "disk/disk.h"
#include "disk/error.h"

#define DISK_LOCK_BYTE (1ll << 62)

struct posix_file {
  struct disk_file base; /* first: the disk layer sees only this */
  int fd;
};

static int errno_status(int err)
{
  switch (err) {
  case ENOMEM:
    return DISK_E_NOMEM;
  case ENOENT:
  case ENOTDIR:
    return DISK_E_NOTFOUND;
  case EACCES:
  case EPERM:
    return DISK_E_ACCESS;
  case EEXIST:
    return DISK_E_EXISTS;
  case EROFS:
    return DISK_E_READONLY;
  case ENOSPC:
  case EDQUOT:
    return DISK_E_NOSPACE;
  case EFBIG:
    return DISK_E_TOOBIG;
  case ENAMETOOLONG:
    return DISK_E_NAME;
  default:
    return DISK_E_IO;
  }
}

/* Records the failure of 'what' on name with errno's text. */
static int fail_errno(const char *name, const char *what)
{
  int err = errno;

  return disk_fail(errno_status(err), "%s: %s: %s", name, what, strerror(err));
}

static int fd_of(const struct disk_file *f)
{
  return ((const struct posix_file *)f)->fd;
}

static int posix_pread(struct disk_file *f, void *buf, size_t len,
                       uint64_t off, size_t *got)
{
  size_t done = 0;

  while (done < len) {
    ssize_t r =
        pread(fd_of(f), (char *)buf + done, len - done, (off_t)(off + done));

    if (r < 0) {
      if (errno == EINTR)
        continue;
      return fail_errno(f->name, "read failed");
    }
    if (r == 0)
      break;
    done += (size_t)r;
  }
  if (done < len)
    memset((char *)buf + done, 0, len - done);
  *got = done;
  return DISK_OK;
}

static int posix_pwrite(struct disk_file *f, const void *buf, size_t len,
                        uint64_t off)
{
  size_t done = 0;

  while (done < len) {
    ssize_t r = pwrite(fd_of(f), (const char *)buf + done, len - done,
                       (off_t)(off + done));

    if (r < 0) {
      if (errno == EINTR)
        continue;
      return fail_errno(f->name, "write failed");
    }
    done += (size_t)r;
  }
  return DISK_OK;
}

static int posix_sync(struct disk_file *f)
{
  if (fdatasync(fd_of(f)) != 0)
    return disk_fail(DISK_E_IO, "%s: fdatasync failed: %s", f->name,
                     strerror(errno));
  return DISK_OK;
}

static int posix_truncate(struct disk_file *f, uint64_t size)
{
  if (ftruncate(fd_of(f), (off_t)size) != 0)
    return fail_errno(f->name, "cannot set the size");
  return DISK_OK;
}

static int posix_lock(struct disk_file *f)
{
  struct flock fl;

  memset(&fl, 0, sizeof fl);
  fl.l_type = F_WRLCK;
  fl.l_whence = SEEK_SET;
  fl.l_start = DISK_LOCK_BYTE;
  fl.l_len = 1;
  if (fcntl(fd_of(f), F_OFD_SETLK, &fl) == 0)
    return DISK_OK;
  if (errno == EAGAIN || errno == EACCES)
    return disk_fail(DISK_E_LOCKED, "%s: already opened for writing elsewhere",
                     f->name);
  return disk_fail(DISK_E_IO, "%s: cannot lock: %s", f->name, strerror(errno));
}

static void posix_close(struct disk_file *f)
{
  close(fd_of(f));
  free(f->name);
  free(f);
}

static const struct disk_file_ops posix_ops = {
    .name = "posix",
    .pread = posix_pread,
    .pwrite = posix_pwrite,
    .sync = posix_sync,
    .truncate = posix_truncate,
    .lock = posix_lock,
    .close = posix_close,
};

/* Wraps an open fd of a regular file; takes fd (closed on failure). */
static int wrap(int fd, const char *name, bool writable,
                struct disk_file **out)
{
  struct posix_file *p;
  struct stat sb;

  *out = NULL;
  if (fstat(fd, &sb) != 0) {
    int st = fail_errno(name, "cannot stat");

    close(fd);
    return st;
  }
  if (!S_ISREG(sb.st_mode)) {
    close(fd);
    return disk_fail(DISK_E_ARG, "%s: not a regular file", name);
  }
  p = calloc(1, sizeof *p);
  if (p)
    p->base.name = strdup(name);
  if (!p || !p->base.name) {
    free(p);
    close(fd);
    return disk_fail(DISK_E_NOMEM, "%s: out of memory", name);
  }
  p->fd = fd;
  p->base.ops = &posix_ops;
  p->base.caps = DISK_FILE_CAN_SYNC | DISK_FILE_CONCURRENT;
  if (writable)
    p->base.caps |=
        DISK_FILE_CAN_WRITE | DISK_FILE_CAN_TRUNCATE | DISK_FILE_CAN_LOCK;
  p->base.size = (uint64_t)sb.st_size;
  snprintf(p->base.id, sizeof p->base.id, "%ju:%ju", (uintmax_t)sb.st_dev,
           (uintmax_t)sb.st_ino);
  *out = &p->base;
  return DISK_OK;
}

static int vfs_open(const struct disk_vfs *vfs, const char *path,
                    unsigned flags, struct disk_file **out)
{
  bool writable = flags & DISK_VFS_WRITE;
  int fd, fl;

  (void)vfs;
  *out = NULL;
  fd = open(path, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOCTTY |
                      O_NONBLOCK);
  if (fd < 0)
    return fail_errno(path, "cannot open");
  fl = fcntl(fd, F_GETFL);
  if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0) {
    int st = fail_errno(path, "cannot set the file flags");

    close(fd);
    return st;
  }
  return wrap(fd, path, writable, out);
}

static char *vfs_resolve(const struct disk_vfs *vfs, const char *base,
                         const char *name, int *status)
{
  const char *slash = strrchr(base, '/');
  size_t dl = slash && name[0] != '/' ? (size_t)(slash - base) + 1 : 0;
  size_t nl = strlen(name);
  char *p;

  (void)vfs;
  if (nl == 0 || dl + nl >= PATH_MAX) {
    *status = disk_fail(DISK_E_NAME, "%s: file name \"%.64s\" is unusable",
                        base, name);
    return NULL;
  }
  p = malloc(dl + nl + 1);
  if (!p) {
    *status = disk_fail(DISK_E_NOMEM, "%s: out of memory", base);
    return NULL;
  }
  memcpy(p, base, dl);
  memcpy(p + dl, name, nl + 1);
  *status = DISK_OK;
  return p;
}

static const struct disk_vfs posix_vfs = {
    .name = "posix",
    .open = vfs_open,
    .resolve = vfs_resolve,
    .opaque = NULL,
};

const struct disk_vfs *disk_vfs_posix(void)
{
  return &posix_vfs;
}

/* ---- file-system operations (file_posix.h) ------------------------------ */

int disk_posix_create(const char *path, struct disk_file **out)
{
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY, 0644);

  *out = NULL;
  if (fd < 0)
    return fail_errno(path, "cannot create");
  return wrap(fd, path, true, out);
}

int disk_posix_temp(const char *beside, struct disk_file **out)
{
  size_t len = strlen(beside) + sizeof ".fvxtmpXXXXXX";
  struct stat sb;
  char *tmp;
  int fd, st;

  *out = NULL;
  if (stat(beside, &sb) != 0)
    return fail_errno(beside, "cannot stat");
  tmp = malloc(len);
  if (!tmp)
    return disk_fail(DISK_E_NOMEM, "%s: out of memory", beside);
  snprintf(tmp, len, "%s.fvxtmpXXXXXX", beside);
  fd = mkostemp(tmp, O_CLOEXEC);
  if (fd < 0) {
    st = fail_errno(tmp, "cannot create a temporary file");
    free(tmp);
    return st;
  }
  if (fchmod(fd, sb.st_mode & 07777) != 0) {
    st = fail_errno(tmp, "cannot set its mode");
    close(fd);
  } else {
    st = wrap(fd, tmp, true, out);
  }
  if (st)
    unlink(tmp);
  free(tmp);
  return st;
}

int disk_posix_rename_file(struct disk_file *f, const char *to)
{
  char *name;

  if (f->ops != &posix_ops)
    return disk_fail(DISK_E_NOTCAPABLE, "%s: the %s source cannot rename",
                     f->name, f->ops->name);
  name = strdup(to);
  if (!name)
    return disk_fail(DISK_E_NOMEM, "%s: out of memory", to);
  if (rename(f->name, to) != 0) {
    int err = errno;

    free(name);
    return disk_fail(errno_status(err), "%s: cannot replace with %s: %s", to,
                     f->name, strerror(err));
  }
  free(f->name);
  f->name = name;
  return DISK_OK;
}

int disk_posix_rename(const char *from, const char *to)
{
  if (rename(from, to) != 0) {
    int err = errno;

    return disk_fail(errno_status(err), "%s: cannot rename to %s: %s", from,
                     to, strerror(err));
  }
  return DISK_OK;
}

int disk_posix_unlink(const char *path)
{
  return unlink(path) == 0 ? DISK_OK : fail_errno(path, "cannot remove");
}

void disk_posix_discard(const char *path)
{
  (void)unlink(path);
}

bool disk_posix_exists(const char *path)
{
  struct stat sb;

  return lstat(path, &sb) == 0;
}

int disk_posix_sync_dir(const char *path)
{
  const char *slash = strrchr(path, '/');
  char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path))
                    : strdup(".");
  int fd, st = DISK_OK;

  if (!dir)
    return disk_fail(DISK_E_NOMEM, "%s: out of memory", path);
  fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) != 0)
    st = disk_fail(DISK_E_IO, "%s: cannot sync the directory: %s", dir,
                   strerror(errno));
  if (fd >= 0)
    close(fd);
  free(dir);
  return st;
}
