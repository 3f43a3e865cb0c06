/*
 * test_nbdkit_replay.c -- nbdkit's vddk plugin (v1.32.5), replayed: the call
 * sequence the real plugin made against freevix and the simulator, as
 * recorded with nbdkit -v by contrib/nbdkit-check.sh (docs/nbdkit.md,
 * "Observed call sequence"), for a read-only export of a running VM's
 * snapshot, a writable export of a powered-off VM, and the retry filter's
 * reopen after a failed read.  Debian has no nbdkit vddk plugin, so this is
 * how CI proves what virt-v2v, forklift and CDI rely on.
 *
 * What the plugin does and this test does the same way: InitEx(6, 5, log,
 * warn, panic) after nbdkit's fork, log routed to its debug output and
 * warn/panic to its errors, from any thread; per NBD connection
 * AllocateConnectParams, its own strings in the struct, ConnectEx(readonly,
 * snapshot moref or NULL, "nbdssl:nbd"), Open with flags 4 (READ_ONLY) or 0,
 * GetTransportMode only logged, GetInfo/FreeInfo (export size), the
 * can_extents probe QueryAllocatedBlocks(0, 128, 128), GetInfo/FreeInfo
 * again (block sizes).  Then nbdcopy's reads: QueryAllocatedBlocks per 128
 * MiB region in whole 128-sector chunks (the last query runs past a capacity
 * that is not a multiple of 128 sectors), ReadAsync of the allocated blocks
 * only (holes are taken as zeros) in 256 KiB requests; its writes: 256 KiB
 * WriteAsync of data, zeros as large WriteAsync, the odd-sized tail (504, 8,
 * 2 sectors).  Each returns exactly VIX_ASYNC, all come from one worker
 * thread, up to 16 in flight (nbdkit's 16 threads; 1 under the retry filter,
 * which serialises), each waited for by its callback alone -- the plugin
 * never calls Wait on the data path.  Flush as Wait then Flush; close as
 * Wait, Close, Disconnect, FreeConnectParams (which must leave nbdkit's
 * strings alone); Exit at unload.  After a failed ReadAsync: the error in
 * the callback, GetErrorText/FreeErrorText, the library's own log line
 * (naming ReadAsync, the call made), then the retry filter's close (its Wait
 * returns the error, which nbdkit prints and ignores), a fresh open in the
 * same process (params, ConnectEx, Open, GetTransportMode, GetInfo only),
 * the failed request again, the probe before the new handle's first
 * extents, and the whole disk reads back exact.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "freevix.h"
#include "remote_test.h"
#include "testutil.h"
#include "vixDiskLib.h"

#define KEY 2000
#define CHUNK 128          /* nbdkit's VIXDISKLIB_MIN_CHUNK_SIZE */
#define REQ_SECTORS 512    /* nbdcopy's 256 KiB requests */
#define IN_FLIGHT 16       /* nbdkit's 16 threads on one connection */
/* nbdcopy asks extents 128 MiB at a time: 2 regions and 2 sectors on the
 * check's 256 MiB + 1 KiB disk; the same shape on the test's 16 MiB + 1 KiB
 * disk. */
#define REGION_SECTORS 16384
#define CALLBACK_SECONDS 60

/* nbdkit routes VDDK's log to its debug output and warn/panic to errors,
 * from any thread; the test keeps the first line about the injected NFC
 * error. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char injected_line[1024];

static void log_fn(const char *fmt, va_list ap)
{
  char line[1024];

  vsnprintf(line, sizeof line, fmt, ap);
  pthread_mutex_lock(&log_lock);
  if (!injected_line[0] && strstr(line, "injected"))
    snprintf(injected_line, sizeof injected_line, "%s", line);
  pthread_mutex_unlock(&log_lock);
}

static int setup(void **state)
{
  /* 16 MiB + 1 KiB: not a multiple of nbdkit's 128-sector chunks. */
  static const char *const args[] = {"--disk-size", "16385KiB", "--vms", "4",
                                     NULL};

  (void)state;
  /* nbdkit calls InitEx after fork, with API version 6.5. */
  return rt_setup_api(args, NULL, 6, 5, log_fn);
}

static int teardown(void **state)
{
  (void)state;
  return rt_teardown();
}

/* The plugin's connection step: its own strings in an allocated struct. */
static VixDiskLibConnectParams *plugin_params(const char *vm, char *vmx,
                                              size_t n)
{
  VixDiskLibConnectParams *p = VixDiskLib_AllocateConnectParams();

  assert_non_null(p);
  snprintf(vmx, n, "moref=%s", vm);
  p->vmxSpec = vmx;
  p->serverName = rt_sim.host;
  p->credType = VIXDISKLIB_CRED_UID;
  p->creds.uid.userName = (char *)"admin";
  p->creds.uid.password = (char *)"freevix";
  p->thumbPrint = rt_sim.thumbprint_sha1;
  p->port = (uint32)rt_sim.port;
  p->specType = VIXDISKLIB_SPEC_VMX;
  return p;
}

/* The capacity GetInfo gives (the plugin's get_size and block_size). */
static uint64_t plugin_info(VixDiskLibHandle h)
{
  VixDiskLibInfo *info;
  uint64_t cap;

  assert_int_equal(VixDiskLib_GetInfo(h, &info), VIX_OK);
  cap = info->capacity;
  VixDiskLib_FreeInfo(info);
  return cap;
}

/* The plugin's open and nbdkit's first question, the size: ConnectEx,
 * Open, GetTransportMode, GetInfo.  Returns the capacity in sectors. */
static uint64_t plugin_connect(VixDiskLibConnectParams *p, bool readonly,
                               const char *snap, const char *file,
                               VixDiskLibConnection *conn,
                               VixDiskLibHandle *h)
{
  assert_int_equal(VixDiskLib_ConnectEx(p, readonly, snap, "nbdssl:nbd",
                                        conn),
                   VIX_OK);
  assert_int_equal(VixDiskLib_Open(*conn, file,
                                   readonly ? VIXDISKLIB_FLAG_OPEN_READ_ONLY
                                            : 0,
                                   h),
                   VIX_OK);
  assert_string_equal(VixDiskLib_GetTransportMode(*h), "nbdssl");
  return plugin_info(*h);
}

/* The can_extents probe, asked once per plugin handle before its first
 * extents. */
static void plugin_can_extents(VixDiskLibHandle h)
{
  VixDiskLibBlockList *bl;

  assert_int_equal(VixDiskLib_QueryAllocatedBlocks(h, 0, CHUNK, CHUNK, &bl),
                   VIX_OK);
  assert_int_equal(VixDiskLib_FreeBlockList(bl), VIX_OK);
}

/* A new NBD connection: the plugin's open, then what nbdkit asks before the
 * first request: size, the can_extents probe, block sizes.  Returns the
 * capacity in sectors. */
static uint64_t plugin_open(VixDiskLibConnectParams *p, bool readonly,
                            const char *snap, const char *file,
                            VixDiskLibConnection *conn, VixDiskLibHandle *h)
{
  uint64_t cap = plugin_connect(p, readonly, snap, file, conn, h);

  plugin_can_extents(*h);
  assert_int_equal(plugin_info(*h), cap);
  return cap;
}

/* The plugin's close: Wait (its result only printed), Close, Disconnect,
 * FreeConnectParams.  Returns what Wait returned. */
static VixError plugin_close(VixDiskLibConnectParams *p,
                             VixDiskLibConnection conn, VixDiskLibHandle h)
{
  VixError err = VixDiskLib_Wait(h);

  assert_int_equal(VixDiskLib_Close(h), VIX_OK);
  assert_int_equal(VixDiskLib_Disconnect(conn), VIX_OK);
  VixDiskLib_FreeConnectParams(p); /* nbdkit's strings stay nbdkit's */
  return err;
}

/* One request and its completion, as the plugin's struct command: the
 * submitting side waits on the callback, never on Wait. */
struct request {
  int done;
  VixError err;
};
static pthread_mutex_t done_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond = PTHREAD_COND_INITIALIZER;

static void completion(void *data, VixError err)
{
  struct request *r = data;

  pthread_mutex_lock(&done_lock);
  r->err = err;
  r->done = 1;
  pthread_cond_broadcast(&done_cond);
  pthread_mutex_unlock(&done_lock);
}

/* Waits for r's callback (failing the test after CALLBACK_SECONDS) and
 * returns its VixError. */
static VixError wait_done(struct request *r)
{
  struct timespec until;
  VixError err;
  bool done;
  int rc = 0;

  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += CALLBACK_SECONDS;
  pthread_mutex_lock(&done_lock);
  while (!r->done && rc == 0)
    rc = pthread_cond_timedwait(&done_cond, &done_lock, &until);
  err = r->err;
  done = r->done;
  pthread_mutex_unlock(&done_lock);
  if (!done)
    fail_msg("no callback within %d s", CALLBACK_SECONDS);
  return err;
}

/* nbdkit's extents for [start, start + n): whole chunks from the chunk
 * holding start; the blocks sorted, disjoint and inside the disk.  Returns
 * a copy of the list (the plugin copies it and frees VDDK's at once);
 * the caller frees it. */
static VixDiskLibBlockList *plugin_extents(VixDiskLibHandle h, uint64_t cap,
                                           uint64_t start, uint64_t n)
{
  uint64_t first = start / CHUNK * CHUNK;
  uint64_t len = (start + n - first + CHUNK - 1) / CHUNK * CHUNK;
  VixDiskLibBlockList *bl, *copy;
  size_t size;

  assert_int_equal(VixDiskLib_QueryAllocatedBlocks(h, first, len, CHUNK, &bl),
                   VIX_OK);
  for (uint32 i = 0; i < bl->numBlocks; i++) {
    assert_true(bl->blocks[i].offset >= first);
    assert_true(bl->blocks[i].offset + bl->blocks[i].length <= cap);
    if (i)
      assert_true(bl->blocks[i].offset >=
                  bl->blocks[i - 1].offset + bl->blocks[i - 1].length);
  }
  size = sizeof *bl + (bl->numBlocks ? bl->numBlocks - 1 : 0) *
                          sizeof bl->blocks[0];
  copy = malloc(size);
  assert_non_null(copy);
  memcpy(copy, bl, size);
  assert_int_equal(VixDiskLib_FreeBlockList(bl), VIX_OK);
  return copy;
}

static void hex(const unsigned char *d, unsigned int n, char out[65])
{
  for (unsigned int i = 0; i < n; i++)
    snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* nbdcopy of the whole export into a file: per region its extents, then
 * ReadAsync of the allocated blocks only, in 256 KiB requests, in_flight at
 * a time, each waited for by its callback; holes stay zero (the plugin
 * marks them zero).  The SHA-256 of the result must be expect. */
static void plugin_read_all(VixDiskLibHandle h, uint64_t cap, int in_flight,
                            const char *expect)
{
  struct request req[IN_FLIGHT];
  uint8_t *image = calloc(cap, 512);
  unsigned char d[32];
  unsigned int dl;
  char got[65];
  int k = 0;

  assert_non_null(image);
  assert_true(in_flight >= 1 && in_flight <= IN_FLIGHT);
  for (uint64_t region = 0; region < cap; region += REGION_SECTORS) {
    uint64_t rlen = cap - region < REGION_SECTORS ? cap - region
                                                  : REGION_SECTORS;
    VixDiskLibBlockList *bl = plugin_extents(h, cap, region, rlen);

    for (uint32 i = 0; i < bl->numBlocks; i++) {
      uint64_t pos = bl->blocks[i].offset;
      uint64_t end = pos + bl->blocks[i].length;

      while (pos < end) {
        uint64_t n = end - pos < REQ_SECTORS ? end - pos : REQ_SECTORS;

        if (k == in_flight) {
          for (int j = 0; j < k; j++)
            assert_int_equal(wait_done(&req[j]), VIX_OK);
          k = 0;
        }
        req[k].done = 0;
        assert_int_equal(VixDiskLib_ReadAsync(h, pos, n, image + pos * 512,
                                              completion, &req[k]),
                         VIX_ASYNC);
        k++;
        pos += n;
      }
    }
    free(bl);
  }
  for (int j = 0; j < k; j++)
    assert_int_equal(wait_done(&req[j]), VIX_OK);
  EVP_Digest(image, cap * 512, d, &dl, EVP_sha256(), NULL);
  hex(d, dl, got);
  assert_string_equal(got, expect);
  free(image);
}

/* A snapshot of a running VM and the plugin's export of its disk: the
 * migration tool's connection params and snapshot, nbdkit's own. */
struct snap_export {
  char vmx[128], opvmx[128], file[1024], expect[65];
  char *snap;
  VixDiskLibConnectParams *op, *p;
  VixDiskLibConnection conn;
  VixDiskLibHandle h;
  uint64_t cap;
};

/* The tool (not nbdkit) takes the snapshot; then the plugin's open. */
static void snap_export_open(struct snap_export *e, const char *vm,
                             const char *name)
{
  e->snap = NULL;
  e->op = plugin_params(vm, e->opvmx, sizeof e->opvmx);
  assert_int_equal(freevix_snapshot_create(e->op, name, 60, &e->snap),
                   VIX_OK);
  rt_sim_disk(vm, KEY, e->snap, e->expect, e->file, sizeof e->file);
  e->p = plugin_params(vm, e->vmx, sizeof e->vmx);
  e->cap = plugin_open(e->p, true, e->snap, e->file, &e->conn, &e->h);
}

/* After the plugin's close: the tool removes the snapshot. */
static void snap_export_end(struct snap_export *e)
{
  assert_int_equal(freevix_snapshot_remove(e->op, e->snap, 60), VIX_OK);
  freevix_free(e->snap);
  VixDiskLib_FreeConnectParams(e->op);
}

static void read_only_export_of_a_running_vms_snapshot(void **state)
{
  struct snap_export e;

  (void)state;
  snap_export_open(&e, rt_vms[0], "nbdkit-replay");
  assert_int_equal(e.cap * 512, 16385ull * 1024);
  assert_true(e.cap % CHUNK != 0);
  plugin_read_all(e.h, e.cap, IN_FLIGHT, e.expect);
  assert_int_equal(plugin_close(e.p, e.conn, e.h), VIX_OK);
  assert_string_equal(e.vmx + 6, rt_vms[0]);
  snap_export_end(&e);
}

/* Fills n sectors with a pattern of its own (k) and submits them. */
static void submit_write(VixDiskLibHandle h, uint8_t *image, uint64_t sector,
                         uint64_t n, int k, struct request *r)
{
  uint8_t *b = image + sector * 512;

  for (size_t i = 0; i < n * 512; i++)
    b[i] = k < 0 ? 0 : (uint8_t)(i * 31 + (size_t)k * 7 + 1);
  r->done = 0;
  assert_int_equal(VixDiskLib_WriteAsync(h, sector, n, b, completion, r),
                   VIX_ASYNC);
}

static void writable_export_of_a_powered_off_vm(void **state)
{
  char vmx[128], file[1024], expect[65], got[65];
  VixDiskLibConnectParams *p;
  VixDiskLibConnection conn;
  VixDiskLibHandle h;
  struct request req[IN_FLIGHT], zero, tail[3];
  uint8_t *image;
  uint64_t cap, data, end;
  unsigned char d[32];
  unsigned int dl;
  const char *vm = rt_vms[1];

  (void)state;
  /* The tool powers the VM off first (a cold migration, or a restore). */
  rt_power_off(vm);
  rt_sim_disk(vm, KEY, NULL, expect, file, sizeof file);
  p = plugin_params(vm, vmx, sizeof vmx);
  cap = plugin_open(p, false, NULL, file, &conn, &h);
  image = malloc(cap * 512);
  assert_non_null(image);

  /* nbdcopy of a whole image, as observed: 256 KiB data writes, 16 in
   * flight; the zeros as one large write; the tail as the last whole chunk
   * but 8 sectors, 8 sectors, then the 2 past the last whole chunk.  The
   * image is the buffers themselves: the plugin keeps them until the
   * callback. */
  data = IN_FLIGHT * REQ_SECTORS;
  end = cap / CHUNK * CHUNK - REQ_SECTORS;
  assert_true(cap % CHUNK == 2 && end > data);
  for (int k = 0; k < IN_FLIGHT; k++)
    submit_write(h, image, (uint64_t)k * REQ_SECTORS, REQ_SECTORS, k, &req[k]);
  for (int k = 0; k < IN_FLIGHT; k++)
    assert_int_equal(wait_done(&req[k]), VIX_OK);
  submit_write(h, image, data, end - data, -1, &zero);
  submit_write(h, image, end, REQ_SECTORS - 8, -1, &tail[0]);
  submit_write(h, image, end + REQ_SECTORS - 8, 8, IN_FLIGHT, &tail[1]);
  submit_write(h, image, cap - 2, 2, IN_FLIGHT + 1, &tail[2]);
  assert_int_equal(wait_done(&zero), VIX_OK);
  for (int k = 0; k < 3; k++)
    assert_int_equal(wait_done(&tail[k]), VIX_OK);
  /* nbdcopy --flush: the plugin's flush. */
  assert_int_equal(VixDiskLib_Wait(h), VIX_OK);
  assert_int_equal(VixDiskLib_Flush(h), VIX_OK);
  assert_int_equal(plugin_close(p, conn, h), VIX_OK);

  EVP_Digest(image, cap * 512, d, &dl, EVP_sha256(), NULL);
  hex(d, dl, expect);
  rt_sim_disk(vm, KEY, NULL, got, NULL, 0);
  assert_string_equal(got, expect);
  free(image);
}

static void failed_read_then_retry_filter_reopen(void **state)
{
  struct snap_export e;
  char line[sizeof injected_line], *text;
  struct request req;
  uint8_t *buf = malloc(REQ_SECTORS * 512);
  VixError err;

  (void)state;
  assert_non_null(buf);
  snap_export_open(&e, rt_vms[2], "nbdkit-retry");

  /* The host answers the next IO with an NFC ERROR. */
  assert_int_equal(fvx_sim_admin(&rt_sim, "POST", "/nfc/fault",
                                 "{\"kind\":\"error\",\"code\":1}", NULL),
                   200);
  free(plugin_extents(e.h, e.cap, 0, REGION_SECTORS));
  req.done = 0;
  assert_int_equal(VixDiskLib_ReadAsync(e.h, 0, REQ_SECTORS, buf, completion,
                                        &req),
                   VIX_ASYNC);
  err = wait_done(&req);
  assert_int_not_equal(err, VIX_OK);
  /* The plugin's VDDK_ERROR: the error's text. */
  text = VixDiskLib_GetErrorText(err, NULL);
  assert_non_null(text);
  VixDiskLib_FreeErrorText(text);
  /* The library's error line, which nbdkit shows first, names the call the
   * plugin made. */
  pthread_mutex_lock(&log_lock);
  memcpy(line, injected_line, sizeof line);
  pthread_mutex_unlock(&log_lock);
  if (strncmp(line, "VixDiskLib_ReadAsync: ", 22) != 0)
    fail_msg("the failed ReadAsync was reported as: %s", line);

  /* The retry filter: close (its Wait returns the request's error, which
   * nbdkit prints and ignores; docs/remote.md, "Asynchronous requests"),
   * open again with fresh params, the size (nbdkit's prepare), and the
   * failed request again. */
  assert_int_not_equal(plugin_close(e.p, e.conn, e.h), VIX_OK);
  e.p = plugin_params(rt_vms[2], e.vmx, sizeof e.vmx);
  assert_int_equal(plugin_connect(e.p, true, e.snap, e.file, &e.conn, &e.h),
                   e.cap);
  req.done = 0;
  assert_int_equal(VixDiskLib_ReadAsync(e.h, 0, REQ_SECTORS, buf, completion,
                                        &req),
                   VIX_ASYNC);
  assert_int_equal(wait_done(&req), VIX_OK);
  /* nbdcopy goes on; the new handle's first extents bring the probe.  The
   * whole disk reads exact (the real copy goes on from the next request),
   * one request in flight: the retry filter serialises. */
  plugin_can_extents(e.h);
  plugin_read_all(e.h, e.cap, 1, e.expect);
  assert_int_equal(plugin_close(e.p, e.conn, e.h), VIX_OK);
  snap_export_end(&e);
  free(buf);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(read_only_export_of_a_running_vms_snapshot),
      cmocka_unit_test(writable_export_of_a_powered_off_vm),
      cmocka_unit_test(failed_read_then_retry_filter_reopen),
  };

  return cmocka_run_group_tests(tests, setup, teardown);
}
