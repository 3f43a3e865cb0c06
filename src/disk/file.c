/*
 * file.c -- the checked calls through a byte source's ops (file.h).
 *
 * Every byte the format code reads or writes passes here, so the rules that
 * hold for all sources live in one place: one overflow rule (a range whose
 * end passes INT64_MAX is DISK_E_TOOBIG, for reads and writes alike, before
 * the source sees it), the capability checks (a write, truncate, lock or
 * allocation query asked of a source that lacks the capability is
 * DISK_E_NOTCAPABLE and is never sent), the size bookkeeping after writes
 * and truncates, and a check of what the source answered.
 */
#include "disk/file.h"

#include <inttypes.h>
#include <stdlib.h>

#include "disk/disk.h"
#include "disk/error.h"

/* DISK_OK when [off, off+len) ends at or below INT64_MAX. */
static int range_ok(const struct disk_file *f, const char *op, size_t len,
                    uint64_t off)
{
  if (off > (uint64_t)INT64_MAX || len > (uint64_t)INT64_MAX - off)
    return disk_fail(DISK_E_TOOBIG,
                     "%s: %s of %zu bytes at offset %" PRIu64
                     " passes the largest file offset",
                     f->name, op, len, off);
  return DISK_OK;
}

static int capable(const struct disk_file *f, unsigned cap, const char *op)
{
  if (f->caps & cap)
    return DISK_OK;
  return disk_fail(DISK_E_NOTCAPABLE, "%s: the %s source cannot %s this file",
                   f->name, f->ops->name, op);
}

int disk_file_pread(struct disk_file *f, void *buf, size_t len, uint64_t off,
                    size_t *got)
{
  size_t real = 0;
  int st = range_ok(f, "read", len, off);

  if (st)
    return st;
  st = f->ops->pread(f, buf, len, off, &real);
  if (st)
    return st;
  if (real > len)
    return disk_fail(DISK_E_IO,
                     "%s: the %s source reported %zu bytes for a read of %zu",
                     f->name, f->ops->name, real, len);
  if (got)
    *got = real;
  return DISK_OK;
}

int disk_file_pwrite(struct disk_file *f, const void *buf, size_t len,
                     uint64_t off)
{
  int st = capable(f, DISK_FILE_CAN_WRITE, "write");

  if (!st)
    st = range_ok(f, "write", len, off);
  if (!st)
    st = f->ops->pwrite(f, buf, len, off);
  if (!st && off + len > f->size)
    f->size = off + len;
  return st;
}

int disk_file_sync(struct disk_file *f)
{
  return f->ops->sync ? f->ops->sync(f) : DISK_OK;
}

int disk_file_truncate(struct disk_file *f, uint64_t size)
{
  int st = capable(f, DISK_FILE_CAN_TRUNCATE, "truncate");

  if (!st && size > (uint64_t)INT64_MAX)
    st = disk_fail(DISK_E_TOOBIG,
                   "%s: size %" PRIu64 " passes the largest file offset",
                   f->name, size);
  if (!st)
    st = f->ops->truncate(f, size);
  if (!st)
    f->size = size;
  return st;
}

int disk_file_lock(struct disk_file *f)
{
  int st = capable(f, DISK_FILE_CAN_LOCK, "lock");

  return st ? st : f->ops->lock(f);
}

int disk_file_allocated(struct disk_file *f, uint64_t off, uint64_t len,
                        uint64_t *run, bool *allocated)
{
  int st = capable(f, DISK_FILE_CAN_ALLOC, "report the allocation of");

  if (st)
    return st;
  if (len == 0)
    return disk_fail(DISK_E_ARG, "%s: allocation asked of an empty range",
                     f->name);
  st = f->ops->allocated(f, off, len, run, allocated);
  if (!st && (*run == 0 || *run > len))
    st = disk_fail(DISK_E_IO,
                   "%s: the %s source answered a run of %" PRIu64
                   " bytes for an allocation query of %" PRIu64,
                   f->name, f->ops->name, *run, len);
  return st;
}

void disk_file_close(struct disk_file *f)
{
  if (f)
    f->ops->close(f);
}
