/*
 * test_access_threads_sim.c -- PrepareForAccess / EndAccess from several
 * threads at once against the simulator, with local reads alongside, and
 * an Exit that arrives while a PrepareForAccess waits for vCenter.  Run
 * plain, under ASan, valgrind and ThreadSanitizer: what matters most is
 * the .tsan twin, which sees an unsynchronised read of the library's
 * settings even when it happens to give the right answer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "freevix.h"
#include "sim.h"
#include "testutil.h"

#define WORKERS 3
#define DISK_SECTORS 2048

static struct fvx_sim sim;
static char vms[4][64];
static char specs[4][96];

static void quiet(const char *fmt, va_list ap)
{
  (void)fmt;
  (void)ap;
}

static int setup(void **state)
{
  (void)state;
  fvx_sim_start(&sim, NULL);
  assert_int_equal(fvx_sim_vms(&sim, vms, NULL, 4), 4);
  for (int i = 0; i < 4; i++)
    fvx_sim_spec(specs[i], sizeof specs[i], vms[i]);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  fvx_sim_stop(&sim);
  return 0;
}

struct prepare_call {
  const char *spec;
  VixError err;
};

/* Debug lines are on in exit_during_prepare: this notes when the
 * preparing thread has logged in (the last network round trip before it
 * sends DisableMethods). */
static int logged_in; /* atomic */

static void watch(const char *fmt, va_list ap)
{
  char line[1024];

  vsnprintf(line, sizeof line, fmt, ap);
  if (strncmp(line, "logged in to ", 13) == 0)
    __atomic_store_n(&logged_in, 1, __ATOMIC_SEQ_CST);
}

static void *prepare_thread(void *arg)
{
  struct prepare_call *c = arg;
  VixDiskLibConnectParams p;

  fvx_sim_params(&sim, &p, NULL, c->spec);
  c->err = VixDiskLib_PrepareForAccess(&p, "threads");
  return NULL;
}

/* Exit while a PrepareForAccess waits for vCenter's answer (the simulator
 * delays DisableMethods): the call still completes with the configured
 * reasonId, and the library comes up again cleanly.
 *
 * This thread learns that the other one has logged in from the log
 * callback, then only sleeps: reading from any socket (the admin endpoint)
 * would hand ThreadSanitizer an ordering between the two threads that the
 * library does not provide (it models all socket I/O as one channel). */
static void exit_during_prepare(void **state)
{
  struct prepare_call c = {specs[0], VIX_E_FAIL};
  VixDiskLibConnectParams p;
  pthread_t t;

  (void)state;
  assert_int_equal(fvx_sim_admin(&sim, "POST", "/fault",
                                 "{\"kind\":\"delay\",\"method\":"
                                 "\"DisableMethods\",\"ms\":1500}", NULL),
                   200);
  assert_int_equal(freevix_set_config("freevix.debug", "1"), VIX_OK);
  assert_int_equal(VixDiskLib_InitEx(8, 0, watch, quiet, NULL, NULL, NULL),
                   VIX_OK);
  assert_int_equal(pthread_create(&t, NULL, prepare_thread, &c), 0);
  while (!__atomic_load_n(&logged_in, __ATOMIC_SEQ_CST))
    usleep(10 * 1000);
  usleep(500 * 1000); /* DisableMethods is on its way, answered in 1.5 s */
  VixDiskLib_Exit();
  pthread_join(t, NULL);
  assert_int_equal(fvx_sim_admin(&sim, "POST", "/fault/clear", "{}", NULL),
                   200);
  assert_int_equal(c.err, VIX_OK);
  assert_int_equal(fvx_sim_count_disabled(&sim, vms[0], "RelocateVM_Task",
                                          "threads"), 1);

  assert_int_equal(VixDiskLib_InitEx(8, 0, quiet, quiet, NULL, NULL, NULL),
                   VIX_OK);
  fvx_sim_params(&sim, &p, NULL, specs[0]);
  assert_int_equal(VixDiskLib_EndAccess(&p, "threads"), VIX_OK);
  VixDiskLib_Exit();
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, NULL), 0);
}

struct worker {
  int index;
  int rounds;
  VixError err;       /* first failure */
  VixDiskLibHandle h; /* the reader's disk */
};

static void *access_loop(void *arg)
{
  struct worker *w = arg;
  VixDiskLibConnectParams p;
  char identity[32];

  snprintf(identity, sizeof identity, "worker-%d", w->index);
  fvx_sim_params(&sim, &p, NULL, specs[w->index]);
  for (int k = 0; k < w->rounds && !w->err; k++) {
    w->err = VixDiskLib_PrepareForAccess(&p, identity);
    if (!w->err)
      w->err = VixDiskLib_EndAccess(&p, identity);
  }
  return NULL;
}

static void *read_loop(void *arg)
{
  struct worker *w = arg;
  static uint8 buf[16 * 512];

  for (int k = 0; k < w->rounds * 50 && !w->err; k++)
    w->err = VixDiskLib_Read(w->h, (uint64)(k * 16) % DISK_SECTORS, 16, buf);
  return NULL;
}

/* Three threads prepare and end access on their own VMs through the one
 * session pool while a fourth reads a local disk. */
static void concurrent_prepare_end_and_reads(void **state)
{
  struct worker w[WORKERS + 1];
  pthread_t t[WORKERS + 1];
  VixDiskLibConnection c = NULL;
  const char *dir = fvx_test_tmpdir();
  char path[4200];
  int rounds = fvx_test_under_valgrind() ? 2 : 10;

  (void)state;
  assert_int_equal(VixDiskLib_InitEx(8, 0, quiet, quiet, NULL, NULL, NULL),
                   VIX_OK);
  assert_int_equal(VixDiskLib_Connect(NULL, &c), VIX_OK);
  snprintf(path, sizeof path, "%s/r.vmdk", dir);
  fvx_test_create_disk(c, path, VIXDISKLIB_DISK_MONOLITHIC_SPARSE,
                       DISK_SECTORS);
  memset(w, 0, sizeof w);
  assert_int_equal(VixDiskLib_Open(c, path, VIXDISKLIB_FLAG_OPEN_READ_ONLY,
                                   &w[WORKERS].h), VIX_OK);
  for (int i = 0; i <= WORKERS; i++) {
    w[i].index = i;
    w[i].rounds = rounds;
    assert_int_equal(pthread_create(&t[i], NULL,
                                    i < WORKERS ? access_loop : read_loop,
                                    &w[i]), 0);
  }
  for (int i = 0; i <= WORKERS; i++) {
    pthread_join(t[i], NULL);
    assert_int_equal(w[i].err, VIX_OK);
  }
  assert_int_equal(VixDiskLib_Close(w[WORKERS].h), VIX_OK);
  assert_int_equal(VixDiskLib_Disconnect(c), VIX_OK);
  VixDiskLib_Exit();
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, NULL), 0);
  fvx_test_rmtree(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(exit_during_prepare),
    cmocka_unit_test(concurrent_prepare_end_and_reads),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
