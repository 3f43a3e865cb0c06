/*
 * diskhash.c -- see diskhash.h: the copy engine (copy.h) with the
 * allocated blocks as its spans, zeros as its fill and a file or nothing
 * as its sink.
 */
#include "diskhash.h"

#include <stdio.h>
#include <string.h>

#include "copy.h"
#include "spans.h"

VixError dh_open(VixDiskLibConnection c, const char *path, uint32 flags,
                 VixDiskLibHandle *h, uint64_t *capacity)
{
  VixDiskLibInfo *info = NULL;
  VixError err = VixDiskLib_Open(c, path, flags, h);

  if (err != VIX_OK) {
    *h = NULL;
    return err;
  }
  err = VixDiskLib_GetInfo(*h, &info);
  if (err != VIX_OK) {
    VixDiskLib_Close(*h);
    *h = NULL;
    return err;
  }
  *capacity = info->capacity;
  VixDiskLib_FreeInfo(info);
  return VIX_OK;
}

VixError dh_hash(VixDiskLibHandle h, uint64_t capacity, struct dh_job *hs)
{
  struct copy_job j;
  struct spans alloc;
  VixError err;

  hs->sha256[0] = '\0';
  hs->what[0] = '\0';
  hs->bytes_read = 0;
  err = spans_allocated(h, capacity, VIXDISKLIB_MIN_CHUNK_SIZE, &alloc);
  if (err != VIX_OK) {
    snprintf(hs->what, sizeof hs->what, "asking which blocks are allocated");
    return err;
  }
  memset(&j, 0, sizeof j);
  j.src = h;
  j.capacity = capacity;
  j.spans = &alloc;
  j.fill = COPY_FILL_ZERO;
  j.sink = hs->fd >= 0 ? COPY_SINK_FD : COPY_SINK_NONE;
  j.fd = hs->fd;
  j.cancel = hs->cancel;
  j.progress = hs->progress;
  j.progress_data = hs->progress_data;
  err = copy_run(&j);
  spans_free(&alloc);
  hs->bytes_read = j.bytes_read;
  if (err != VIX_OK) {
    snprintf(hs->what, sizeof hs->what, "%s", j.what);
    return err;
  }
  copy_hex(j.sha256, hs->sha256);
  return VIX_OK;
}

VixError dh_hash_path(VixDiskLibConnection c, const char *path,
                      volatile sig_atomic_t *cancel, const char *name,
                      char sha256[65], char *what, size_t n)
{
  struct dh_job hs;
  VixDiskLibHandle h;
  uint64_t capacity;
  VixError err = dh_open(c, path, VIXDISKLIB_FLAG_OPEN_READ_ONLY, &h,
                         &capacity);

  sha256[0] = '\0';
  if (err != VIX_OK) {
    snprintf(what, n, "opening %s", name);
    return err;
  }
  memset(&hs, 0, sizeof hs);
  hs.fd = -1;
  hs.cancel = cancel;
  err = dh_hash(h, capacity, &hs);
  VixDiskLib_Close(h);
  if (err != VIX_OK) {
    snprintf(what, n, "reading %s: %s", name, hs.what);
    return err;
  }
  memcpy(sha256, hs.sha256, sizeof hs.sha256);
  return VIX_OK;
}
