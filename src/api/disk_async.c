/*
 * disk_async.c -- ReadAsync / WriteAsync / Wait for remote disks: a small
 * pool of worker threads per handle, so several range requests (or NFC
 * requests) are in flight while the caller goes on.
 *
 * Requests wait in a fixed ring of FVX_ASYNC_DEPTH slots (no allocation per
 * request); a submit finding the ring full blocks until a slot frees, which
 * bounds the memory and the work a caller can pile up.  Workers take
 * requests in order and run them through src/disk; a read-only disk is read
 * by every worker at once (src/disk allows it), a writable one runs one
 * request at a time (VDDK's one-operation-per-handle rule for writers).
 * Each request's callback runs on the worker thread that performed it, with
 * the request's VixError, after the request is done and before Wait can
 * return.  A callback may submit again: a submit from a worker of the same
 * handle runs at once on that thread (it could otherwise wait on a ring only
 * it can drain).
 *
 * The workers start on the first asynchronous request, so programs that
 * only read synchronously never get threads.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "api/disk_api.h"
#include "remote/remote.h"

#define FVX_ASYNC_DEPTH 64
#define FVX_ASYNC_MAX_WORKERS 16

struct async_req {
  bool write;
  uint64_t start, n;
  void *buf;
  VixDiskLibCompletionCB cb;
  void *data;
};

struct fvx_async {
  pthread_mutex_t lock;
  pthread_cond_t work;  /* a request is queued, or stop */
  pthread_cond_t idle;  /* the ring emptied and nothing runs */
  pthread_cond_t space; /* a slot freed */
  struct async_req ring[FVX_ASYNC_DEPTH];
  size_t head, count;   /* queued requests: ring[head .. head+count) */
  size_t running;       /* taken by a worker, not yet completed */
  bool stop;
  bool serial;          /* one request at a time (writable disks) */
  pthread_mutex_t serial_lock;
  VixError first_error; /* since the last Wait */
  struct VixDiskLibHandleStruct *h;
  unsigned n_threads;
  pthread_t threads[FVX_ASYNC_MAX_WORKERS];
};

/* The handle whose request the calling thread is running, if any. */
static _Thread_local const struct fvx_async *current;

static VixError perform(struct fvx_async *a, const struct async_req *r)
{
  VixError err;

  if (!r->n)
    return VIX_OK;
  if (a->serial)
    pthread_mutex_lock(&a->serial_lock);
  if (r->write)
    err = VixDiskLib_Write(a->h, r->start, r->n, r->buf);
  else
    err = VixDiskLib_Read(a->h, r->start, r->n, r->buf);
  if (a->serial)
    pthread_mutex_unlock(&a->serial_lock);
  return err;
}

static void *worker(void *arg)
{
  struct fvx_async *a = arg;

  current = a;
  pthread_mutex_lock(&a->lock);
  for (;;) {
    struct async_req r;
    VixError err;

    while (!a->count && !a->stop)
      pthread_cond_wait(&a->work, &a->lock);
    if (!a->count)
      break; /* stop, and nothing left to do */
    r = a->ring[a->head];
    a->head = (a->head + 1) % FVX_ASYNC_DEPTH;
    a->count--;
    a->running++;
    pthread_cond_signal(&a->space);
    pthread_mutex_unlock(&a->lock);

    err = perform(a, &r);
    r.cb(r.data, err);

    pthread_mutex_lock(&a->lock);
    if (err && !a->first_error)
      a->first_error = err;
    a->running--;
    if (!a->count && !a->running)
      pthread_cond_broadcast(&a->idle);
  }
  pthread_mutex_unlock(&a->lock);
  return NULL;
}

/* Frees a with its locks (no worker may be left). */
static void destroy(struct fvx_async *a)
{
  pthread_mutex_destroy(&a->lock);
  pthread_mutex_destroy(&a->serial_lock);
  pthread_cond_destroy(&a->work);
  pthread_cond_destroy(&a->idle);
  pthread_cond_destroy(&a->space);
  free(a);
}

static VixError start(struct VixDiskLibHandleStruct *h)
{
  struct fvx_async *a = calloc(1, sizeof *a);
  unsigned n;

  if (!a)
    return VIX_E_OUT_OF_MEMORY;
  pthread_mutex_init(&a->lock, NULL);
  pthread_mutex_init(&a->serial_lock, NULL);
  pthread_cond_init(&a->work, NULL);
  pthread_cond_init(&a->idle, NULL);
  pthread_cond_init(&a->space, NULL);
  a->h = h;
  a->serial = remote_disk_writable(h->remote);
  n = a->serial ? 1 : remote_disk_parallel(h->remote);
  if (n > FVX_ASYNC_MAX_WORKERS)
    n = FVX_ASYNC_MAX_WORKERS;
  if (n < 1)
    n = 1;
  for (unsigned i = 0; i < n; i++) {
    if (pthread_create(&a->threads[i], NULL, worker, a) != 0)
      break;
    a->n_threads++;
  }
  if (!a->n_threads) {
    fvx_error("VixDiskLib_ReadAsync: cannot start a worker thread");
    destroy(a);
    return VIX_E_FAIL;
  }
  h->async = a;
  return VIX_OK;
}

VixError fvx_async_submit(struct VixDiskLibHandleStruct *h, bool write,
                          uint64_t start_sector, uint64_t n, void *buf,
                          VixDiskLibCompletionCB cb, void *data)
{
  struct async_req r = {write, start_sector, n, buf, cb, data};
  struct fvx_async *a;
  VixError err;

  if (!h->async && (err = start(h)) != VIX_OK)
    return err;
  a = h->async;
  if (current == a) {
    /* From one of our own callbacks: run it here (see the file comment). */
    cb(data, perform(a, &r));
    return VIX_ASYNC;
  }
  pthread_mutex_lock(&a->lock);
  while (a->count == FVX_ASYNC_DEPTH)
    pthread_cond_wait(&a->space, &a->lock);
  a->ring[(a->head + a->count) % FVX_ASYNC_DEPTH] = r;
  a->count++;
  pthread_cond_signal(&a->work);
  pthread_mutex_unlock(&a->lock);
  return VIX_ASYNC;
}

VixError fvx_async_wait(struct VixDiskLibHandleStruct *h)
{
  struct fvx_async *a = h->async;
  VixError err;

  if (!a)
    return VIX_OK;
  if (current == a) {
    fvx_error("VixDiskLib_Wait: called from a completion callback of the "
              "same disk, which would wait for itself");
    return VIX_E_OBJECT_IS_BUSY;
  }
  pthread_mutex_lock(&a->lock);
  while (a->count || a->running)
    pthread_cond_wait(&a->idle, &a->lock);
  err = a->first_error;
  a->first_error = VIX_OK;
  pthread_mutex_unlock(&a->lock);
  return err;
}

void fvx_async_free(struct VixDiskLibHandleStruct *h)
{
  struct fvx_async *a = h->async;

  if (!a)
    return;
  pthread_mutex_lock(&a->lock);
  a->stop = true; /* workers finish what is queued, then leave */
  pthread_cond_broadcast(&a->work);
  pthread_mutex_unlock(&a->lock);
  for (unsigned i = 0; i < a->n_threads; i++)
    pthread_join(a->threads[i], NULL);
  destroy(a);
  h->async = NULL;
}
