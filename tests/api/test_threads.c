/*
 * test_threads.c -- the life cycle and the data path under threads: Exit
 * and InitEx racing each other, reads while the library is shut down and
 * brought up again, Disconnect while other threads open and close disks.
 * Run plain, under ASan, valgrind and ThreadSanitizer (the .tsan twin is
 * what catches unsynchronised accesses that happen to give the right
 * answer).
 *
 * The link wraps access_shutdown (-Wl,--wrap): the wrapper can make Exit's
 * teardown of the session pool slow, which turns the window in which an
 * InitEx used to slip in between Exit's two halves into 300 ms.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"
#include "vixDiskLib.h"

#define DISK_SECTORS 2048
#define READERS 3

void __real_access_shutdown(void);
void __wrap_access_shutdown(void);

static int slow_shutdown; /* set before the Exit thread starts */

void __wrap_access_shutdown(void)
{
  if (slow_shutdown)
    usleep(300 * 1000);
  __real_access_shutdown();
}

static void quiet(const char *fmt, va_list ap)
{
  (void)fmt;
  (void)ap;
}

static VixError init(void)
{
  return VixDiskLib_InitEx(8, 0, quiet, quiet, NULL, NULL, NULL);
}

/* A loopback port nothing listens on (bound, then closed). */
static unsigned closed_port(void)
{
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  int fd = socket(AF_INET, SOCK_STREAM, 0);

  assert_true(fd >= 0);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
  assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
  close(fd);
  return ntohs(a.sin_port);
}

static void *exit_thread(void *arg)
{
  (void)arg;
  VixDiskLib_Exit();
  return NULL;
}

/* An InitEx that arrives while Exit is still tearing the pool down waits
 * for it and then brings a working library up: a remote ConnectEx reaches
 * the network (connection refused) instead of finding the pool gone. */
static void init_during_exit_gets_a_working_library(void **state)
{
  VixDiskLibConnectParams p;
  VixDiskLibConnection c = NULL;
  pthread_t t;

  (void)state;
  assert_int_equal(init(), VIX_OK);
  slow_shutdown = 1;
  assert_int_equal(pthread_create(&t, NULL, exit_thread, NULL), 0);
  usleep(100 * 1000); /* Exit is inside the slow teardown now */
  assert_int_equal(init(), VIX_OK);
  pthread_join(t, NULL);
  slow_shutdown = 0;

  memset(&p, 0, sizeof p);
  p.serverName = (char *)"127.0.0.1";
  p.port = closed_port();
  p.credType = VIXDISKLIB_CRED_UID;
  p.creds.uid.userName = (char *)"u";
  p.creds.uid.password = (char *)"p";
  assert_int_equal(VixDiskLib_ConnectEx(&p, TRUE, NULL, NULL, &c),
                   VIX_E_HOST_NETWORK_CONN_REFUSED);
  assert_null(c);
  VixDiskLib_Exit();
}

struct reader {
  VixDiskLibHandle h;
  int stop;                /* atomic */
  unsigned long ok, noinit; /* atomic: the main thread watches ok */
  VixError other;          /* first unexpected result */
};

static void *read_loop(void *arg)
{
  struct reader *r = arg;
  static __thread uint8 buf[8 * 512];

  while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
    unsigned long done = __atomic_load_n(&r->ok, __ATOMIC_RELAXED);
    VixError e = VixDiskLib_Read(r->h, (done * 8) % DISK_SECTORS, 8, buf);

    if (e == VIX_OK)
      __atomic_add_fetch(&r->ok, 1, __ATOMIC_RELAXED);
    else if (e == VIX_E_DISK_NOINIT)
      __atomic_add_fetch(&r->noinit, 1, __ATOMIC_RELAXED);
    else if (!r->other)
      r->other = e;
  }
  return NULL;
}

/* Readers on their own disks keep going while another thread shuts the
 * library down and brings it up again, over and over: every read either
 * succeeds or says the library is not initialized, nothing else. */
static void reads_survive_init_exit_churn(void **state)
{
  const char *dir = fvx_test_tmpdir();
  struct reader r[READERS];
  pthread_t t[READERS];
  VixDiskLibConnection c = NULL;
  int rounds = fvx_test_under_valgrind() ? 20 : 200;

  (void)state;
  assert_int_equal(init(), VIX_OK);
  assert_int_equal(VixDiskLib_Connect(NULL, &c), VIX_OK);
  memset(r, 0, sizeof r);
  for (int i = 0; i < READERS; i++) {
    char path[4200];

    snprintf(path, sizeof path, "%s/d%d.vmdk", dir, i);
    fvx_test_create_disk(c, path, VIXDISKLIB_DISK_MONOLITHIC_FLAT,
                         DISK_SECTORS);
    assert_int_equal(VixDiskLib_Open(c, path, VIXDISKLIB_FLAG_OPEN_READ_ONLY,
                                     &r[i].h), VIX_OK);
    assert_int_equal(pthread_create(&t[i], NULL, read_loop, &r[i]), 0);
  }
  for (int k = 0; k < rounds; k++) {
    VixDiskLib_Exit();
    assert_int_equal(init(), VIX_OK);
  }
  /* Initialized again: every reader gets through now (on a loaded
   * machine a reader may not have run at all during the churn). */
  for (int i = 0; i < READERS; i++) {
    unsigned long before = __atomic_load_n(&r[i].ok, __ATOMIC_RELAXED);

    for (int w = 0; w < 10000 &&
                    __atomic_load_n(&r[i].ok, __ATOMIC_RELAXED) == before;
         w++)
      usleep(1000); /* a reader that failed stops counting: 10 s at most */
  }
  for (int i = 0; i < READERS; i++) {
    __atomic_store_n(&r[i].stop, 1, __ATOMIC_RELEASE);
    pthread_join(t[i], NULL);
    assert_int_equal(r[i].other, VIX_OK);
    assert_true(r[i].ok > 0);
    assert_int_equal(VixDiskLib_Close(r[i].h), VIX_OK);
  }
  assert_int_equal(VixDiskLib_Disconnect(c), VIX_OK);
  VixDiskLib_Exit();
  fvx_test_rmtree(dir);
}

struct opener {
  VixDiskLibConnection c;
  const char *path;
  int stop;       /* atomic */
  VixError other; /* first failure (cmocka asserts only on the main thread) */
};

static void *open_close_loop(void *arg)
{
  struct opener *o = arg;

  while (!__atomic_load_n(&o->stop, __ATOMIC_ACQUIRE) && !o->other) {
    VixDiskLibHandle h = NULL;

    o->other = VixDiskLib_Open(o->c, o->path, VIXDISKLIB_FLAG_OPEN_READ_ONLY,
                               &h);
    if (!o->other)
      o->other = VixDiskLib_Close(h);
  }
  return NULL;
}

/* Disconnect counts the connection's open disks while other threads open
 * and close more of them: with one disk held open it is refused every
 * time, and the count is read the way it is written (atomically). */
static void disconnect_sees_disks_opened_elsewhere(void **state)
{
  const char *dir = fvx_test_tmpdir();
  char a[4200], b[4200];
  struct opener o;
  pthread_t t;
  VixDiskLibConnection c = NULL;
  VixDiskLibHandle held = NULL;
  int rounds = fvx_test_under_valgrind() ? 200 : 5000;

  (void)state;
  snprintf(a, sizeof a, "%s/held.vmdk", dir);
  snprintf(b, sizeof b, "%s/busy.vmdk", dir);
  assert_int_equal(init(), VIX_OK);
  assert_int_equal(VixDiskLib_Connect(NULL, &c), VIX_OK);
  fvx_test_create_disk(c, a, VIXDISKLIB_DISK_MONOLITHIC_FLAT, DISK_SECTORS);
  fvx_test_create_disk(c, b, VIXDISKLIB_DISK_MONOLITHIC_FLAT, DISK_SECTORS);
  assert_int_equal(VixDiskLib_Open(c, a, VIXDISKLIB_FLAG_OPEN_READ_ONLY,
                                   &held), VIX_OK);
  memset(&o, 0, sizeof o);
  o.c = c;
  o.path = b;
  assert_int_equal(pthread_create(&t, NULL, open_close_loop, &o), 0);
  for (int k = 0; k < rounds; k++)
    assert_int_equal(VixDiskLib_Disconnect(c), VIX_E_OBJECT_IS_BUSY);
  __atomic_store_n(&o.stop, 1, __ATOMIC_RELEASE);
  pthread_join(t, NULL);
  assert_int_equal(o.other, VIX_OK);
  assert_int_equal(VixDiskLib_Close(held), VIX_OK);
  assert_int_equal(VixDiskLib_Disconnect(c), VIX_OK);
  VixDiskLib_Exit();
  fvx_test_rmtree(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(init_during_exit_gets_a_working_library),
    cmocka_unit_test(reads_survive_init_exit_churn),
    cmocka_unit_test(disconnect_sees_disks_opened_elsewhere),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
