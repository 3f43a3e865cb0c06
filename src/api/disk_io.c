/*
 * disk_io.c -- the external interface of the data path: Read, Write,
 * ReadAsync, WriteAsync, Wait, Flush, QueryAllocatedBlocks, FreeBlockList.
 *
 * Local disks complete asynchronous requests synchronously, as VDDK's file
 * transport does: the request is checked, performed, its callback called
 * with the result, and VIX_ASYNC returned -- so Wait has nothing to wait
 * for.  Remote disks queue them on the handle's workers (disk_async.c):
 * several range requests in flight, callbacks from a worker thread, Wait
 * drains.  Argument errors are returned directly and the callback is not
 * called.  Read/Write are traced only with FREEVIX_DEBUG_IO=1 (and debug
 * logging on): the data path stays quiet and allocation-free.
 */
#include <stdlib.h>
#include <string.h>

#include "api/disk_api.h"
#include "remote/remote.h"

static int io_trace(void)
{
  static int flag = -1;
  int f = __atomic_load_n(&flag, __ATOMIC_RELAXED);

  if (f < 0) {
    const char *e = getenv("FREEVIX_DEBUG_IO");

    f = e && *e && strcmp(e, "0") != 0;
    __atomic_store_n(&flag, f, __ATOMIC_RELAXED);
  }
  return f;
}

/* Checks a data-path request; VIX_OK when it may proceed. */
static VixError io_check(const char *fn, VixDiskLibHandle h,
                         VixDiskLibSectorType start, VixDiskLibSectorType n,
                         const void *buf)
{
  VixError err = fvx_disk_handle_check(fn, h);
  uint64_t end;

  if (err)
    return err;
  if (io_trace())
    fvx_debug("%s(%p, start=%llu, n=%llu)", fn, (void *)h,
              (unsigned long long)start, (unsigned long long)n);
  if (!buf && n) {
    fvx_error("%s: buffer is NULL", fn);
    return VIX_E_INVALID_ARG;
  }
  if (__builtin_add_overflow(start, n, &end) ||
      end > disk_capacity(h->disk)) {
    fvx_error("%s: sectors %llu+%llu pass the capacity of %llu", fn,
              (unsigned long long)start, (unsigned long long)n,
              (unsigned long long)disk_capacity(h->disk));
    return VIX_E_DISK_OUTOFRANGE;
  }
  return VIX_OK;
}

/* A write to a remote disk whose transport cannot write: say why. */
static VixError remote_read_only(const char *fn, VixDiskLibHandle h)
{
  fvx_error("%s: the disk is read-only over the %s transport (the datastore "
            "HTTP interface has no ranged writes; writing needs nbd or "
            "nbdssl)", fn, VixDiskLib_GetTransportMode(h));
  return VIX_E_FILE_READ_ONLY;
}

VixError fvx_disk_rw(const char *fn, VixDiskLibHandle h, bool write,
                     uint64_t start, uint64_t n, void *buf)
{
  int st;

  if (!n)
    return VIX_OK;
  if (!write) {
    st = disk_read(h->disk, start, n, buf);
  } else {
    if (h->remote && !remote_disk_writable(h->remote))
      return remote_read_only(fn, h);
    st = disk_write(h->disk, start, n, buf);
  }
  return fvx_disk_report(fn, st, FVX_LOG_ERROR);
}

VixError VixDiskLib_Read(VixDiskLibHandle diskHandle,
                         VixDiskLibSectorType startSector,
                         VixDiskLibSectorType numSectors, uint8 *readBuffer)
{
  VixError err = io_check("VixDiskLib_Read", diskHandle, startSector,
                          numSectors, readBuffer);

  if (err)
    return err;
  return fvx_disk_rw("VixDiskLib_Read", diskHandle, false, startSector,
                     numSectors, readBuffer);
}

VixError VixDiskLib_Write(VixDiskLibHandle diskHandle,
                          VixDiskLibSectorType startSector,
                          VixDiskLibSectorType numSectors,
                          const uint8 *writeBuffer)
{
  VixError err = io_check("VixDiskLib_Write", diskHandle, startSector,
                          numSectors, writeBuffer);

  if (err)
    return err;
  return fvx_disk_rw("VixDiskLib_Write", diskHandle, true, startSector,
                     numSectors, (void *)writeBuffer);
}

VixError VixDiskLib_ReadAsync(VixDiskLibHandle diskHandle,
                              VixDiskLibSectorType startSector,
                              VixDiskLibSectorType numSectors,
                              uint8 *readBuffer,
                              VixDiskLibCompletionCB callback, void *cbData)
{
  VixError err = io_check("VixDiskLib_ReadAsync", diskHandle, startSector,
                          numSectors, readBuffer);

  if (!err && !callback) {
    fvx_error("VixDiskLib_ReadAsync: callback is NULL");
    err = VIX_E_INVALID_ARG;
  }
  if (err)
    return err;
  if (diskHandle->remote)
    return fvx_async_submit(diskHandle, false, startSector, numSectors,
                            readBuffer, callback, cbData);
  err = fvx_disk_rw("VixDiskLib_ReadAsync", diskHandle, false, startSector,
                    numSectors, readBuffer);
  callback(cbData, err);
  return VIX_ASYNC;
}

VixError VixDiskLib_WriteAsync(VixDiskLibHandle diskHandle,
                               VixDiskLibSectorType startSector,
                               VixDiskLibSectorType numSectors,
                               const uint8 *writeBuffer,
                               VixDiskLibCompletionCB callback, void *cbData)
{
  VixError err = io_check("VixDiskLib_WriteAsync", diskHandle, startSector,
                          numSectors, writeBuffer);

  if (!err && !callback) {
    fvx_error("VixDiskLib_WriteAsync: callback is NULL");
    err = VIX_E_INVALID_ARG;
  }
  if (err)
    return err;
  if (diskHandle->remote) {
    if (!remote_disk_writable(diskHandle->remote))
      return remote_read_only("VixDiskLib_WriteAsync", diskHandle);
    return fvx_async_submit(diskHandle, true, startSector, numSectors,
                            (void *)writeBuffer, callback, cbData);
  }
  err = fvx_disk_rw("VixDiskLib_WriteAsync", diskHandle, true, startSector,
                    numSectors, (void *)writeBuffer);
  callback(cbData, err);
  return VIX_ASYNC;
}

VixError VixDiskLib_Wait(VixDiskLibHandle diskHandle)
{
  VixError err = fvx_disk_handle_check("VixDiskLib_Wait", diskHandle);

  /* Local requests complete before their submit call returns. */
  if (err || !diskHandle->remote)
    return err;
  return fvx_async_wait(diskHandle);
}

VixError VixDiskLib_Flush(VixDiskLibHandle diskHandle)
{
  VixError err = fvx_disk_handle_check("VixDiskLib_Flush", diskHandle);

  if (err)
    return err;
  FVX_API_TRACE("VixDiskLib_Flush", "%p)", (void *)diskHandle);
  if (diskHandle->remote) {
    err = fvx_async_wait(diskHandle);
    if (err)
      return err;
  }
  return fvx_disk_report("VixDiskLib_Flush", disk_flush(diskHandle->disk),
                         FVX_LOG_ERROR);
}

/* Growable block array, capped by the chunk count of the query. */
struct blocks {
  VixDiskLibBlock *b;
  size_t n, alloc;
};

static int blocks_add(struct blocks *bl, uint64_t off, uint64_t len)
{
  VixDiskLibBlock *last = bl->n ? &bl->b[bl->n - 1] : NULL;

  if (last && last->offset + last->length >= off) {
    if (off + len > last->offset + last->length)
      last->length = off + len - last->offset;
    return 0;
  }
  if (bl->n == bl->alloc) {
    size_t na = bl->alloc ? bl->alloc * 2 : 64;
    VixDiskLibBlock *nb = realloc(bl->b, na * sizeof *nb);

    if (!nb)
      return -1;
    bl->b = nb;
    bl->alloc = na;
  }
  bl->b[bl->n].offset = off;
  bl->b[bl->n].length = len;
  bl->n++;
  return 0;
}

VixError VixDiskLib_QueryAllocatedBlocks(VixDiskLibHandle diskHandle,
                                         VixDiskLibSectorType startSector,
                                         VixDiskLibSectorType numSectors,
                                         VixDiskLibSectorType chunkSize,
                                         VixDiskLibBlockList **blockList)
{
  VixError err = fvx_disk_handle_check("VixDiskLib_QueryAllocatedBlocks",
                                       diskHandle);
  struct blocks bl = {NULL, 0, 0};
  VixDiskLibBlockList *out;
  uint64_t cap, end, pos;
  int st = DISK_OK;

  if (err)
    return err;
  FVX_API_TRACE("VixDiskLib_QueryAllocatedBlocks",
                "%p, start=%llu, n=%llu, chunk=%llu)", (void *)diskHandle,
                (unsigned long long)startSector,
                (unsigned long long)numSectors,
                (unsigned long long)chunkSize);
  if (!blockList || chunkSize < VIXDISKLIB_MIN_CHUNK_SIZE ||
      chunkSize > VIXDISKLIB_MAX_CHUNK_SIZE || numSectors == 0 ||
      startSector % chunkSize || numSectors % chunkSize ||
      numSectors / chunkSize > VIXDISKLIB_MAX_CHUNK_NUMBER) {
    fvx_error("VixDiskLib_QueryAllocatedBlocks: need a blockList, a chunk "
              "size of %d..%d sectors, and a start and length in whole "
              "chunks (at most %d)", VIXDISKLIB_MIN_CHUNK_SIZE,
              VIXDISKLIB_MAX_CHUNK_SIZE, VIXDISKLIB_MAX_CHUNK_NUMBER);
    return VIX_E_INVALID_ARG;
  }
  *blockList = NULL;
  cap = disk_capacity(diskHandle->disk);
  if (startSector >= cap) {
    fvx_error("VixDiskLib_QueryAllocatedBlocks: start %llu is past the "
              "capacity %llu", (unsigned long long)startSector,
              (unsigned long long)cap);
    return VIX_E_DISK_OUTOFRANGE;
  }
  /* nbdkit asks in whole chunks: a range running past the capacity is
   * clipped to it. */
  end = numSectors > cap - startSector ? cap : startSector + numSectors;
  /* Walk allocation runs; an allocated run marks every chunk it touches
   * (the list is at chunk granularity), holes are skipped whole. */
  for (pos = startSector; pos < end && !st;) {
    uint64_t len, cstart, cend;
    bool alloc;

    st = disk_block_status(diskHandle->disk, pos, end - pos, &len, &alloc);
    if (st)
      break;
    if (!alloc) {
      pos += len;
      continue;
    }
    cstart = pos / chunkSize * chunkSize;
    cend = (pos + len - startSector + chunkSize - 1) / chunkSize * chunkSize +
           startSector;
    if (cend > end)
      cend = end;
    if (blocks_add(&bl, cstart, cend - cstart))
      st = DISK_E_NOMEM;
    pos = cend;
  }
  if (st) {
    free(bl.b);
    return fvx_disk_report("VixDiskLib_QueryAllocatedBlocks", st,
                           FVX_LOG_ERROR);
  }
  out = malloc(sizeof *out + (bl.n ? bl.n - 1 : 0) * sizeof(VixDiskLibBlock));
  if (!out) {
    free(bl.b);
    return VIX_E_OUT_OF_MEMORY;
  }
  out->numBlocks = (uint32)bl.n;
  if (bl.n)
    memcpy(out->blocks, bl.b, bl.n * sizeof *bl.b);
  else
    memset(out->blocks, 0, sizeof out->blocks);
  free(bl.b);
  *blockList = out;
  return VIX_OK;
}

VixError VixDiskLib_FreeBlockList(VixDiskLibBlockList *blockList)
{
  free(blockList);
  return VIX_OK;
}
