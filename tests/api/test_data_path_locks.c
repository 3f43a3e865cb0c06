/*
 * test_data_path_locks.c -- reads of different disks take no lock in
 * common, so threads working on different disks never wait for each
 * other (docs/performance.md, "Threads", has the figures).
 *
 * The link wraps pthread_mutex_lock (-Wl,--wrap) for the library's own
 * objects: while 'recording' is set the wrapper notes which mutexes are
 * taken.  Reading disk A and then disk B must not lock any mutex in both.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"
#include "vixDiskLib.h"

#define MAX_SEEN 64

int __real_pthread_mutex_lock(pthread_mutex_t *m);
int __wrap_pthread_mutex_lock(pthread_mutex_t *m);

static int recording;           /* single-threaded test: plain ints */
static const void *seen[MAX_SEEN];
static size_t n_seen;

int __wrap_pthread_mutex_lock(pthread_mutex_t *m)
{
  if (recording) {
    size_t i = 0;

    while (i < n_seen && seen[i] != m)
      i++;
    if (i == n_seen && n_seen < MAX_SEEN)
      seen[n_seen++] = m;
  }
  return __real_pthread_mutex_lock(m);
}

/* The mutexes a few reads of h lock, into out (at most MAX_SEEN). */
static size_t locks_of_reads(VixDiskLibHandle h, const void **out)
{
  static uint8 buf[8 * 512];

  n_seen = 0;
  recording = 1;
  for (int k = 0; k < 16; k++)
    assert_int_equal(VixDiskLib_Read(h, (uint64)(k * 8), 8, buf), VIX_OK);
  recording = 0;
  memcpy(out, seen, n_seen * sizeof *out);
  return n_seen;
}

static void reads_of_two_disks_share_no_lock(void **state)
{
  static const VixDiskLibDiskType types[] = {VIXDISKLIB_DISK_MONOLITHIC_FLAT,
                                             VIXDISKLIB_DISK_MONOLITHIC_SPARSE};
  const char *dir = fvx_test_tmpdir();
  VixDiskLibConnection c = NULL;

  (void)state;
  assert_int_equal(VixDiskLib_InitEx(8, 0, NULL, NULL, NULL, NULL, NULL),
                   VIX_OK);
  assert_int_equal(VixDiskLib_Connect(NULL, &c), VIX_OK);
  for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
    VixDiskLibHandle h[2];
    const void *a[MAX_SEEN], *b[MAX_SEEN];
    size_t na, nb;

    for (int i = 0; i < 2; i++) {
      char path[4200];

      snprintf(path, sizeof path, "%s/d%zu-%d.vmdk", dir, t, i);
      fvx_test_create_disk(c, path, types[t], 2048);
      assert_int_equal(VixDiskLib_Open(c, path,
                                       VIXDISKLIB_FLAG_OPEN_READ_ONLY, &h[i]),
                       VIX_OK);
    }
    na = locks_of_reads(h[0], a);
    nb = locks_of_reads(h[1], b);
    for (size_t i = 0; i < na; i++)
      for (size_t k = 0; k < nb; k++)
        if (a[i] == b[k])
          fail_msg("reads of two different disks (type %d) both lock "
                   "mutex %p: a lock every read takes", (int)types[t], a[i]);
    for (int i = 0; i < 2; i++)
      assert_int_equal(VixDiskLib_Close(h[i]), VIX_OK);
  }
  assert_int_equal(VixDiskLib_Disconnect(c), VIX_OK);
  VixDiskLib_Exit();
  fvx_test_rmtree(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(reads_of_two_disks_share_no_lock),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
