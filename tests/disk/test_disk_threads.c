/*
 * test_disk_threads.c -- concurrent reads of read-only disks (disk.h,
 * THREADS): several threads call disk_read and disk_block_status on one
 * handle, on the same ranges at the same moment and on different ones, and
 * every answer must equal the single-threaded answer.
 *
 * The disks are chosen to make threads meet on the mutable state of an
 * extent: a 16 GiB sparse base whose data lies in grain tables 256 apart
 * (the same slot of the direct-mapped grain-table cache, so reads evict
 * each other's tables), a child over it written in partial grains, a
 * streamOptimized copy (the decoded-grain cache and the scratch grain), and
 * a flat disk.  Runs under ASan and valgrind like every test, and as
 * test_disk_threads.tsan under ThreadSanitizer (tests/disk/CMakeLists.txt).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "disk/disk.h"
#include "disk_test.h"
#include "testutil.h"

#define THREADS 8
#define QUERIES 48
#define MAX_SECTORS 300u
#define GT_SPAN (512u * 128u) /* sectors one grain table covers */

/* Places data sits (sector offsets): grain tables 0 and 256, and 3 and
 * 259, share a cache slot; one spot crosses from table 258 into 259. */
static const uint64_t spots[] = {0,
                                 777,
                                 256ull * GT_SPAN + 64,
                                 259ull * GT_SPAN - 100,
                                 3ull * GT_SPAN + 5,
                                 511ull * GT_SPAN + 1000};

struct query {
  uint64_t sector, n;
  uint8_t *want;       /* disk_read's bytes, single-threaded */
  uint64_t want_len;   /* disk_block_status's answer */
  bool want_alloc;
};

struct subject {
  struct disk *d;
  struct query q[QUERIES];
  int iterations;
  int bad;    /* answers that differed (atomic) */
  int failed; /* calls that failed (atomic) */
};

struct worker {
  struct subject *s;
  int id;
};

static void write_pattern(struct disk *d, uint64_t s, uint64_t n)
{
  uint8_t *b = malloc(n * DISK_SECTOR);
  uint64_t i;

  assert_non_null(b);
  for (i = 0; i < n * DISK_SECTOR; i++)
    b[i] = (uint8_t)dt_rand();
  assert_int_equal(disk_write(d, s, n, b), DISK_OK);
  free(b);
}

/* The disks, made once: base, child (over base), stream (a copy of
 * base), flat. */
static void make_disks(void)
{
  static bool made;
  struct disk_create_params p;
  struct disk *d;
  size_t i;

  if (made)
    return;
  made = true;
  dt_make("base.vmdk", DISK_KIND_MONO_SPARSE, 16ull << 21);
  assert_int_equal(disk_open(&d, dt_path("base.vmdk"), 0), DISK_OK);
  for (i = 0; i < sizeof spots / sizeof spots[0]; i++)
    write_pattern(d, spots[i], 700);
  assert_int_equal(disk_create_child(d, dt_path("child.vmdk"),
                                     DISK_KIND_MONO_SPARSE),
                   DISK_OK);
  assert_int_equal(disk_close(d), DISK_OK);
  assert_int_equal(disk_open(&d, dt_path("child.vmdk"), 0), DISK_OK);
  for (i = 0; i < sizeof spots / sizeof spots[0]; i++)
    write_pattern(d, spots[i] + 50, 30); /* partial grains */
  assert_int_equal(disk_close(d), DISK_OK);
  memset(&p, 0, sizeof p);
  p.kind = DISK_KIND_STREAM;
  p.adapter = DISK_ADAPTER_UNKNOWN; /* the source's */
  p.logical_sector_size = p.physical_sector_size = 512;
  assert_int_equal(disk_clone(dt_path("stream.vmdk"), dt_path("base.vmdk"),
                              &p, false, NULL, NULL),
                   DISK_OK);
  dt_make("flat.vmdk", DISK_KIND_MONO_FLAT, 8192);
  assert_int_equal(disk_open(&d, dt_path("flat.vmdk"), 0), DISK_OK);
  write_pattern(d, 0, 4000);
  write_pattern(d, 6000, 100);
  assert_int_equal(disk_close(d), DISK_OK);
}

/* Opens name read-only and records the single-threaded answers to a fixed
 * set of queries around the places data sits. */
static void prepare(struct subject *s, const char *name)
{
  uint64_t cap;
  int i;

  memset(s, 0, sizeof *s);
  assert_int_equal(disk_open(&s->d, dt_path(name), DISK_OPEN_READONLY),
                   DISK_OK);
  cap = disk_capacity(s->d);
  for (i = 0; i < QUERIES; i++) {
    struct query *q = &s->q[i];
    uint64_t spot = spots[(size_t)i % (sizeof spots / sizeof spots[0])];

    q->n = 1 + dt_rand() % MAX_SECTORS;
    q->sector = (spot + dt_rand() % 900) % cap;
    if (q->sector + q->n > cap)
      q->sector = cap - q->n;
    q->want = malloc(q->n * DISK_SECTOR);
    assert_non_null(q->want);
    assert_int_equal(disk_read(s->d, q->sector, q->n, q->want), DISK_OK);
    assert_int_equal(disk_block_status(s->d, q->sector, q->n, &q->want_len,
                                       &q->want_alloc),
                     DISK_OK);
  }
  s->iterations = fvx_test_under_valgrind() ? 60 : 600;
}

static void finish(struct subject *s)
{
  int i;

  assert_int_equal(__atomic_load_n(&s->failed, __ATOMIC_RELAXED), 0);
  assert_int_equal(__atomic_load_n(&s->bad, __ATOMIC_RELAXED), 0);
  for (i = 0; i < QUERIES; i++)
    free(s->q[i].want);
  assert_int_equal(disk_close(s->d), DISK_OK);
}

/* Even workers walk the queries in step (the same ranges at once), odd ones
 * each from their own place. */
static void *work(void *opaque)
{
  struct worker *w = opaque;
  struct subject *s = w->s;
  uint8_t *buf = malloc(MAX_SECTORS * DISK_SECTOR);
  int it;

  if (!buf) {
    __atomic_add_fetch(&s->failed, 1, __ATOMIC_RELAXED);
    return NULL;
  }
  for (it = 0; it < s->iterations; it++) {
    int k = w->id % 2 ? (it * 7 + w->id * 13) % QUERIES : it % QUERIES;
    const struct query *q = &s->q[k];
    uint64_t len;
    bool alloc;

    if (disk_read(s->d, q->sector, q->n, buf) != DISK_OK ||
        disk_block_status(s->d, q->sector, q->n, &len, &alloc) != DISK_OK) {
      __atomic_add_fetch(&s->failed, 1, __ATOMIC_RELAXED);
      continue;
    }
    if (memcmp(buf, q->want, q->n * DISK_SECTOR) != 0 ||
        len != q->want_len || alloc != q->want_alloc)
      __atomic_add_fetch(&s->bad, 1, __ATOMIC_RELAXED);
  }
  free(buf);
  return NULL;
}

static void run(const char *name)
{
  struct subject s;
  struct worker w[THREADS];
  pthread_t t[THREADS];
  int i;

  make_disks();
  dt_seed(88172645463325252ull);
  prepare(&s, name);
  for (i = 0; i < THREADS; i++) {
    w[i].s = &s;
    w[i].id = i;
    assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
  }
  for (i = 0; i < THREADS; i++)
    pthread_join(t[i], NULL);
  finish(&s);
}

static void test_sparse_base(void **state)
{
  (void)state;
  run("base.vmdk");
}

static void test_sparse_chain(void **state)
{
  (void)state;
  run("child.vmdk");
}

static void test_stream(void **state)
{
  (void)state;
  run("stream.vmdk");
}

static void test_flat(void **state)
{
  (void)state;
  run("flat.vmdk");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_sparse_base),
      cmocka_unit_test(test_sparse_chain),
      cmocka_unit_test(test_stream),
      cmocka_unit_test(test_flat),
  };

  return cmocka_run_group_tests(tests, dt_dir_setup, dt_dir_teardown);
}
