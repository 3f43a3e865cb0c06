/*
 * disk_api.h -- what the disk entry points (disk_*.c) share: the object
 * behind VixDiskLibHandle, the disk-status -> VixError map, and helpers.
 */
#ifndef FVX_API_DISK_API_H
#define FVX_API_DISK_API_H

#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"
#include "disk/disk.h"
#include "util/log.h"
#include "vixDiskLib.h"

#define FVX_DISK_MAGIC 0x46564448u          /* "FVDH" */
#define FVX_DISK_MAGIC_ATTACHED 0x46564441u /* "FVDA" */

/* The object behind VixDiskLibHandle.  Allocated by VixDiskLib_Open, freed
 * (magic zeroed first) by VixDiskLib_Close.  A handle passed to
 * VixDiskLib_Attach as the parent is invalid afterwards (VDDK's rule, on
 * failure too): its disk moves into the child's or is closed, its magic
 * becomes FVX_DISK_MAGIC_ATTACHED, and the struct is parked on the child
 * and freed when the child closes -- so a mistaken Close of the parent is
 * refused (VIX_E_INVALID_ARG) instead of touching freed memory. */
struct VixDiskLibHandleStruct {
  uint32_t magic;                     /* FVX_DISK_MAGIC while open */
  struct VixDiskLibConnectParam *conn; /* borrowed; counts us in open_handles */
  struct disk *disk;                  /* owned; NULL once attached */
  uint32_t flags;                     /* VIXDISKLIB_FLAG_OPEN_* as given */
  struct VixDiskLibHandleStruct *parked; /* attached parents we free */
  struct VixDiskLibHandleStruct *next;   /* next in the owner's parked list */
  /* Remote disks: the transport side (owns 'disk'), and the workers that
   * run ReadAsync/WriteAsync (started on the first asynchronous request);
   * both NULL for local disks, whose asynchronous requests complete
   * before the submit call returns. */
  struct remote_disk *remote;
  struct fvx_async *async;
};

/* ---- asynchronous requests of remote disks (disk_async.c) ---------------- */

/* Queues a request on h's workers (starting them on first use) and returns
 * VIX_ASYNC; the callback runs on a worker thread with the request's
 * result.  At most FVX_ASYNC_DEPTH requests wait per handle: a submit
 * beyond that blocks until one completes.  Returns VIX_E_OUT_OF_MEMORY (or
 * the thread error) without calling the callback when the request cannot be
 * queued. */
VixError fvx_async_submit(struct VixDiskLibHandleStruct *h, bool write,
                          uint64_t start, uint64_t n, void *buf,
                          VixDiskLibCompletionCB cb, void *data);
/* Waits until every queued request of h has completed (callbacks run).
 * Returns VIX_OK, or the first error among the requests completed since
 * the previous Wait (their callbacks already saw it). */
VixError fvx_async_wait(struct VixDiskLibHandleStruct *h);
/* Waits, stops the workers and frees them; NULL async is a no-op. */
void fvx_async_free(struct VixDiskLibHandleStruct *h);

/* Maps a disk-layer status to its VixError (disk_errors.c).  Can't fail. */
VixError fvx_disk_error(int status);

/* The api's one report of a disk-layer result (the disk layer logs nothing
 * above debug): maps status to its VixError and, for a failure, logs one
 * line at level, "fn: <detail>" with the detail of disk_last_error() (the
 * status's name when the disk layer recorded none for this status), then
 * forgets the record.  Failures are reported at FVX_LOG_ERROR, expected
 * answers of probes (a short buffer, a missing key) lower.  DISK_OK logs
 * nothing.  Can't fail. */
VixError fvx_disk_report(const char *fn, int status, enum fvx_log_level level);

/* Performs one data-path request already checked (disk_io.c's io_check:
 * live handle, buffer, range): reads or writes n sectors at start through
 * h's disk, and reports a failure once, naming fn -- the entry point the
 * caller used, so an asynchronous request's failure names ReadAsync or
 * WriteAsync, not the synchronous call that performs it.  A write to a
 * remote disk whose transport cannot write fails with VIX_E_FILE_READ_ONLY
 * (saying why).  n == 0 does nothing.  Returns VIX_OK or the failure's
 * VixError; on a failed write the sectors' contents are unspecified. */
VixError fvx_disk_rw(const char *fn, VixDiskLibHandle h, bool write,
                     uint64_t start, uint64_t n, void *buf);

/* Library initialized and h a live handle: VIX_OK; else logs (naming fn)
 * and returns VIX_E_DISK_NOINIT / VIX_E_INVALID_ARG. */
VixError fvx_disk_handle_check(const char *fn, VixDiskLibHandle h);

/* Library initialized, c a live connection and local, path usable: VIX_OK;
 * remote connections give VIX_E_NOT_SUPPORTED (logged). */
VixError fvx_disk_local_check(const char *fn, VixDiskLibConnection c,
                              const char *what, const char *path);

/* Converts VDDK create params (type, adapter, sector sizes 0 = 512); the
 * capacity is copied as is.  VIX_E_INVALID_ARG for unknown values. */
VixError fvx_disk_create_params(const char *fn, const VixDiskLibCreateParams *in,
                                struct disk_create_params *out);

/* Bridges a VixDiskLibProgressFunc to the disk layer's callback. */
struct fvx_progress {
  VixDiskLibProgressFunc fn;
  void *data;
};
void fvx_disk_progress(void *opaque, int percent);

#endif
