/*
 * io.c -- full-length pread/pwrite, the all-zeros test, errno and status
 * names.
 *
 * Short reads at the end of a file are zero-filled: a flat extent may be
 * shorter than its descriptor says (a sparse file), and reading it must give
 * zeros, as qemu and VMware do.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "disk/disk.h"
#include "disk/extent.h"
#include "util/log.h"

int disk_errno_status(int err)
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
  case EAGAIN:
    return DISK_E_LOCKED;
  default:
    return DISK_E_IO;
  }
}

int disk_pread(int fd, void *buf, size_t len, uint64_t off, size_t *got,
               const char *what)
{
  size_t done = 0;

  if (off > (uint64_t)INT64_MAX - len) {
    fvx_error("%s: read at offset %llu is out of range", what,
              (unsigned long long)off);
    return DISK_E_NEEDSREPAIR;
  }
  while (done < len) {
    ssize_t r = pread(fd, (char *)buf + done, len - done,
                      (off_t)(off + done));

    if (r < 0) {
      if (errno == EINTR)
        continue;
      fvx_error("%s: read failed: %s", what, strerror(errno));
      return disk_errno_status(errno);
    }
    if (r == 0)
      break;
    done += (size_t)r;
  }
  if (done < len)
    memset((char *)buf + done, 0, len - done);
  if (got)
    *got = done;
  return DISK_OK;
}

int disk_pwrite(int fd, const void *buf, size_t len, uint64_t off,
                const char *what)
{
  size_t done = 0;

  if (off > (uint64_t)INT64_MAX - len) {
    fvx_error("%s: write at offset %llu is out of range", what,
              (unsigned long long)off);
    return DISK_E_TOOBIG;
  }
  while (done < len) {
    ssize_t r = pwrite(fd, (const char *)buf + done, len - done,
                       (off_t)(off + done));

    if (r < 0) {
      if (errno == EINTR)
        continue;
      fvx_error("%s: write failed: %s", what, strerror(errno));
      return disk_errno_status(errno);
    }
    done += (size_t)r;
  }
  return DISK_OK;
}

int disk_extent_sync(struct extent *e)
{
  if (fdatasync(e->fd) != 0) {
    fvx_error("%s: fdatasync failed: %s", e->path, strerror(errno));
    return DISK_E_IO;
  }
  return DISK_OK;
}

bool disk_all_zero(const void *buf, size_t len)
{
  static const uint8_t zero[4096];
  const uint8_t *p = buf;

  while (len >= sizeof zero) {
    if (memcmp(p, zero, sizeof zero))
      return false;
    p += sizeof zero;
    len -= sizeof zero;
  }
  return memcmp(p, zero, len) == 0;
}

const char *disk_status_str(int status)
{
  switch ((enum disk_status)status) {
  case DISK_OK:
    return "success";
  case DISK_E_NOMEM:
    return "out of memory";
  case DISK_E_IO:
    return "I/O error";
  case DISK_E_NOTFOUND:
    return "file not found";
  case DISK_E_ACCESS:
    return "permission denied";
  case DISK_E_EXISTS:
    return "file exists";
  case DISK_E_LOCKED:
    return "disk locked by another writer";
  case DISK_E_READONLY:
    return "disk is read-only";
  case DISK_E_NOSPACE:
    return "no space left";
  case DISK_E_ARG:
    return "invalid argument";
  case DISK_E_RANGE:
    return "sectors out of range";
  case DISK_E_DESCRIPTOR:
    return "invalid descriptor";
  case DISK_E_CORRUPT:
    return "invalid sparse header";
  case DISK_E_NEEDSREPAIR:
    return "damaged sparse metadata";
  case DISK_E_VERSION:
    return "unsupported format version";
  case DISK_E_UNSUPPORTED:
    return "unsupported disk feature";
  case DISK_E_CID:
    return "parent content ID mismatch";
  case DISK_E_CHAIN:
    return "parent chain loops";
  case DISK_E_TOODEEP:
    return "parent chain too long";
  case DISK_E_PARENT:
    return "parent disk missing";
  case DISK_E_KEY:
    return "metadata key not found";
  case DISK_E_TOOSMALL:
    return "buffer too small";
  case DISK_E_TOOBIG:
    return "capacity too large";
  case DISK_E_CANTREPAIR:
    return "damage cannot be repaired";
  case DISK_E_NAME:
    return "unusable file name";
  case DISK_E_CANTSHRINK:
    return "a child disk cannot be shrunk";
  case DISK_E_CAPACITY:
    return "parent and child capacities differ";
  case DISK_E_ROOTLINK:
    return "the child is a base disk, not a redo log";
  case DISK_E_NOTCAPABLE:
    return "the file's source cannot do this";
  case DISK_E_NET_RESOLVE:
    return "host name does not resolve";
  case DISK_E_NET_CONNECT:
    return "cannot reach the host";
  case DISK_E_NET_TLS:
    return "TLS handshake failed";
  case DISK_E_NET_PIN:
    return "certificate does not match the thumbprint";
  case DISK_E_NET_TIMEOUT:
    return "the server did not answer in time";
  case DISK_E_NET_HTTP:
    return "the server answered with an HTTP error";
  case DISK_E_NET_PROTOCOL:
    return "malformed answer from the server";
  case DISK_E_AUTH:
    return "the server refused the credentials or ticket";
  case DISK_E_REMOTE:
    return "the server refused the operation";
  case DISK_E_NOTSEQUENTIAL:
    return "streamOptimized disks are written in increasing sector order";
  }
  return "unknown status";
}
