/*
 * test_disk_readahead.c -- the read-ahead wrapper (disk/readahead.h) in
 * front of a source of our own.
 *
 * The source serves a pattern from memory, counts its reads and the bytes
 * they moved, can sleep in every read (a round trip), fail reads that touch
 * a chosen range, and know allocation; so the tests see exactly what the
 * wrapper asks of a source: how much read-ahead a sequence gets, that
 * random reads and allocated-only readers cost nothing extra, and that a
 * failed chunk is an error for the read that needs it, never zeros.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "disk/disk.h"
#include "disk/error.h"
#include "disk/file.h"
#include "disk/readahead.h"

#define MiB (1024u * 1024u)
#define ALLOC_UNIT (64u * 1024u)

static struct src {
  uint64_t size;
  unsigned caps;
  long delay_us;            /* sleep in every read */
  uint64_t fail_lo, fail_hi; /* reads touching [lo, hi) fail */
  int fail_status;           /* nonzero: fail (set while workers read) */
  const bool *alloc;        /* per ALLOC_UNIT */
  size_t n_alloc;
  /* counters, updated atomically (reads come from the wrapper's workers) */
  unsigned reads;
  uint64_t bytes;
  unsigned max_len;
} src;

static uint8_t pattern(uint64_t at)
{
  return (uint8_t)(at * 2654435761u >> 13);
}

static int src_pread(struct disk_file *f, void *buf, size_t len, uint64_t off,
                     size_t *got)
{
  uint8_t *p = buf;
  size_t real = off < src.size ? (size_t)(src.size - off) : 0;

  __atomic_add_fetch(&src.reads, 1, __ATOMIC_RELAXED);
  if (src.delay_us) {
    struct timespec ts = {0, src.delay_us * 1000};

    nanosleep(&ts, NULL);
  }
  if (__atomic_load_n(&src.fail_status, __ATOMIC_RELAXED) &&
      off < src.fail_hi && off + len > src.fail_lo)
    return disk_fail_http(DISK_E_NET_HTTP, 503, "%s: fake 503 at %llu",
                          f->name, (unsigned long long)off);
  if (real > len)
    real = len;
  for (size_t i = 0; i < real; i++)
    p[i] = pattern(off + i);
  memset(p + real, 0, len - real);
  __atomic_add_fetch(&src.bytes, (uint64_t)real, __ATOMIC_RELAXED);
  if (len > __atomic_load_n(&src.max_len, __ATOMIC_RELAXED))
    __atomic_store_n(&src.max_len, (unsigned)len, __ATOMIC_RELAXED);
  *got = real;
  return DISK_OK;
}

static int src_allocated(struct disk_file *f, uint64_t off, uint64_t len,
                         uint64_t *run, bool *allocated)
{
  uint64_t u = off / ALLOC_UNIT, end = off + len, pos;

  (void)f;
  *allocated = u < src.n_alloc && src.alloc[u];
  for (pos = (u + 1) * ALLOC_UNIT; pos < end; pos += ALLOC_UNIT)
    if ((pos / ALLOC_UNIT < src.n_alloc && src.alloc[pos / ALLOC_UNIT]) !=
        *allocated)
      break;
  *run = (pos < end ? pos : end) - off;
  return DISK_OK;
}

static int src_closes;

static void src_close(struct disk_file *f)
{
  src_closes++;
  free(f->name);
  free(f);
}

static const struct disk_file_ops src_ops = {
    .name = "fake",
    .pread = src_pread,
    .allocated = src_allocated,
    .close = src_close,
};

static struct disk_file *src_open(void)
{
  struct disk_file *f = calloc(1, sizeof *f);

  assert_non_null(f);
  f->ops = &src_ops;
  f->caps = src.caps;
  f->size = src.size;
  f->name = strdup("[mem] disk-flat.vmdk");
  assert_non_null(f->name);
  strcpy(f->id, "mem:disk-flat.vmdk");
  return f;
}

static int setup(void **state)
{
  (void)state;
  memset(&src, 0, sizeof src);
  src.size = 64 * MiB;
  src.caps = DISK_FILE_CONCURRENT;
  src_closes = 0;
  return 0;
}

static struct disk_file *wrap(unsigned depth, size_t chunk)
{
  struct disk_readahead o = {depth, chunk};
  struct disk_file *inner = src_open(), *out = NULL;

  assert_int_equal(disk_readahead_wrap(inner, &o, &out), DISK_OK);
  assert_non_null(out);
  return out;
}

static void check_bytes(const uint8_t *buf, uint64_t off, size_t len)
{
  for (size_t i = 0; i < len; i++)
    if (buf[i] != (off + i < src.size ? pattern(off + i) : 0))
      fail_msg("byte %llu is %u, want %u", (unsigned long long)(off + i),
               buf[i], off + i < src.size ? pattern(off + i) : 0);
}

/* Reads [from, to) in len-byte reads, checking every byte. */
static void read_seq(struct disk_file *f, uint64_t from, uint64_t to,
                     size_t len)
{
  uint8_t *buf = malloc(len);

  assert_non_null(buf);
  for (uint64_t at = from; at < to; at += len) {
    size_t got = 0;

    assert_int_equal(disk_file_pread(f, buf, len, at, &got), DISK_OK);
    check_bytes(buf, at, len);
  }
  free(buf);
}

/* A whole-file sequence is read in chunks: the source sees one read per
 * chunk (plus the first read, which starts no sequence), and no byte
 * twice. */
static void test_sequence_reads_in_chunks(void **state)
{
  struct disk_file *f = wrap(4, 4 * MiB);

  (void)state;
  assert_string_equal(f->name, "[mem] disk-flat.vmdk");
  assert_string_equal(f->id, "mem:disk-flat.vmdk");
  assert_int_equal(f->size, src.size);
  read_seq(f, 0, src.size, MiB);
  assert_int_equal(src.bytes, src.size);
  /* chunks grow 1, 2, 4 MiB; then 4 MiB each */
  assert_true(src.reads <= 1 + 3 + src.size / (4 * MiB));
  assert_int_equal(src.max_len, 4 * MiB);
  disk_file_close(f);
  assert_int_equal(src_closes, 1);
}

/* Random reads go to the source as they are: nothing read ahead. */
static void test_random_reads_pass_through(void **state)
{
  struct disk_file *f = wrap(4, 4 * MiB);
  uint8_t buf[65536];
  uint64_t x = 12345;

  (void)state;
  for (int i = 0; i < 200; i++) {
    uint64_t at;

    x = x * 6364136223846793005u + 1442695040888963407u;
    at = (x >> 20) % (src.size - sizeof buf);
    assert_int_equal(disk_file_pread(f, buf, sizeof buf, at, NULL), DISK_OK);
    check_bytes(buf, at, sizeof buf);
  }
  assert_int_equal(src.reads, 200);
  assert_int_equal(src.bytes, 200 * sizeof buf);
  disk_file_close(f);
}

/* A short sequence costs at most about its own length in extra bytes: the
 * window grows with what the sequence has consumed. */
static void test_short_sequence_bounded(void **state)
{
  struct disk_file *f = wrap(8, MiB);

  (void)state;
  read_seq(f, 10 * MiB, 13 * MiB, MiB); /* three reads */
  disk_file_close(f);                   /* waits for what is in flight */
  assert_true(src.bytes <= 3 * MiB + 3 * MiB);
}

/* The same with small reads and large chunks: chunks start small. */
static void test_short_sequence_small_reads(void **state)
{
  struct disk_file *f = wrap(4, 4 * MiB);

  (void)state;
  read_seq(f, 10 * MiB, 10 * MiB + 4 * 65536, 65536);
  disk_file_close(f);
  assert_true(src.bytes <= 4 * 65536 + 4 * 65536);
}

/* Reads past the end are zeros and the got count is the file's part. */
static void test_end_of_file(void **state)
{
  struct disk_file *f;
  uint8_t buf[8192];
  size_t got = 1;

  (void)state;
  src.size = 3 * MiB + 1000;
  f = wrap(2, 64 * 1024);
  read_seq(f, 0, 3 * MiB, 64 * 1024);
  assert_int_equal(disk_file_pread(f, buf, sizeof buf, 3 * MiB, &got),
                   DISK_OK);
  assert_int_equal(got, 1000);
  check_bytes(buf, 3 * MiB, sizeof buf);
  assert_int_equal(disk_file_pread(f, buf, sizeof buf, 4 * MiB, &got),
                   DISK_OK);
  assert_int_equal(got, 0);
  check_bytes(buf, 4 * MiB, sizeof buf);
  assert_true(src.bytes <= src.size);
  disk_file_close(f);
}

/* A chunk that failed is the error of the read that needs it, with the
 * source's status and detail; a repeat of that read asks the source
 * again and gets the bytes. */
static void test_failed_chunk_is_an_error(void **state)
{
  struct disk_file *f = wrap(4, MiB);
  uint8_t *buf = malloc(MiB);
  const struct disk_error *e;
  int st = DISK_OK;
  uint64_t at;

  (void)state;
  assert_non_null(buf);
  src.fail_status = DISK_E_NET_HTTP;
  src.fail_lo = 6 * MiB;
  src.fail_hi = 6 * MiB + 1;
  for (at = 0; at < 16 * MiB; at += MiB) {
    st = disk_file_pread(f, buf, MiB, at, NULL);
    if (st != DISK_OK)
      break;
    check_bytes(buf, at, MiB);
  }
  assert_int_equal(st, DISK_E_NET_HTTP);
  assert_int_equal(at, 6 * MiB);
  e = disk_last_error();
  assert_int_equal(e->http_status, 503);
  assert_non_null(strstr(e->detail, "fake 503 at"));
  __atomic_store_n(&src.fail_status, 0, __ATOMIC_RELAXED);
  assert_int_equal(disk_file_pread(f, buf, MiB, at, NULL), DISK_OK);
  check_bytes(buf, at, MiB);
  free(buf);
  disk_file_close(f);
}

/* A chunk that failed before any read needed it is not a later read's
 * error: the failure may have passed, so that read asks the source. */
static void test_stale_failure_is_retried(void **state)
{
  struct disk_file *f = wrap(4, MiB);
  struct timespec ts = {0, 50 * 1000 * 1000};

  (void)state;
  src.fail_status = DISK_E_NET_HTTP;
  src.fail_lo = 6 * MiB;
  src.fail_hi = 6 * MiB + 1;
  read_seq(f, 0, 5 * MiB, MiB); /* queues chunks up to 9 MiB */
  nanosleep(&ts, NULL);         /* the one at 6 MiB has failed by now */
  __atomic_store_n(&src.fail_status, 0, __ATOMIC_RELAXED);
  read_seq(f, 5 * MiB, 16 * MiB, MiB);
  disk_file_close(f);
}

/* A reader of the allocated runs only (a backup) makes the source read
 * exactly those runs: the window stops at the end of the run. */
static void test_allocated_runs_only(void **state)
{
  static bool map[64 * MiB / ALLOC_UNIT];
  struct disk_file *f;
  uint64_t want = 0;

  (void)state;
  /* runs of 1..40 units, holes of 1..20 units */
  for (size_t u = 0, k = 0; u < sizeof map / sizeof map[0]; k++) {
    size_t run = 1 + (k * 7) % 40, hole = 1 + (k * 5) % 20;

    for (size_t i = 0; i < run && u < sizeof map / sizeof map[0]; i++)
      map[u++] = true;
    u += hole;
  }
  src.alloc = map;
  src.n_alloc = sizeof map / sizeof map[0];
  src.caps |= DISK_FILE_CAN_ALLOC;
  f = wrap(4, MiB);
  assert_true(f->caps & DISK_FILE_CAN_ALLOC);
  for (uint64_t at = 0; at < src.size;) {
    uint64_t run;
    bool a;

    assert_int_equal(disk_file_allocated(f, at, src.size - at, &run, &a),
                     DISK_OK);
    if (a) {
      read_seq(f, at, at + run, ALLOC_UNIT);
      want += run;
    }
    at += run;
  }
  disk_file_close(f);
  assert_true(want > 0);
  assert_int_equal(src.bytes, want);
}

/* ReadAsync's pattern: several threads take the next range in turn and
 * read it at once.  Every byte is right; the sequence is read ahead. */
struct taker {
  struct disk_file *f;
  pthread_mutex_t lock;
  uint64_t next;
  int failures;
};

static void *take_and_read(void *arg)
{
  struct taker *t = arg;
  uint8_t *buf = malloc(MiB);

  if (!buf)
    return NULL;
  for (;;) {
    uint64_t at;

    pthread_mutex_lock(&t->lock);
    at = t->next;
    t->next += MiB;
    /* the reads are taken in order but may reach the file in another */
    pthread_mutex_unlock(&t->lock);
    if (at >= src.size)
      break;
    if (disk_file_pread(t->f, buf, MiB, at, NULL) != DISK_OK) {
      __atomic_add_fetch(&t->failures, 1, __ATOMIC_RELAXED);
      continue;
    }
    for (size_t i = 0; i < MiB; i++)
      if (buf[i] != pattern(at + i)) {
        __atomic_add_fetch(&t->failures, 1, __ATOMIC_RELAXED);
        break;
      }
  }
  free(buf);
  return NULL;
}

static void test_concurrent_readers(void **state)
{
  struct taker t = {.next = 0, .failures = 0};
  pthread_t th[4];

  (void)state;
  src.delay_us = 200;
  t.f = wrap(4, 2 * MiB);
  pthread_mutex_init(&t.lock, NULL);
  for (int i = 0; i < 4; i++)
    assert_int_equal(pthread_create(&th[i], NULL, take_and_read, &t), 0);
  for (int i = 0; i < 4; i++)
    pthread_join(th[i], NULL);
  pthread_mutex_destroy(&t.lock);
  assert_int_equal(t.failures, 0);
  /* some reads raced past the sequence check and went direct, the rest
   * came from chunks: fewer source reads than 1 MiB reads */
  assert_true(src.reads < src.size / MiB);
  disk_file_close(t.f);
}

/* An order in which ReadAsync's workers may reach the file: of every
 * eight 1 MiB reads taken in turn, the first two come six reads late (once
 * the sequence has begun).  Every byte is fetched from the source once: a
 * chunk a lagging reader still needs is not reused, and a sequence never
 * queues again what a slot holds.  (Before, 76 MiB were fetched for 64.) */
static void test_out_of_order_fetches_once(void **state)
{
  static const unsigned order[8] = {2, 3, 4, 5, 6, 7, 0, 1};
  struct disk_file *f = wrap(4, 2 * MiB);
  uint64_t n = src.size / MiB;
  uint8_t *buf = malloc(MiB);

  (void)state;
  assert_non_null(buf);
  assert_int_equal(n % 8, 0);
  for (uint64_t i = 0; i < n; i++) {
    /* (the first eight in order: before a sequence has begun, reads out
     * of order are random ones, and one of them may be fetched again) */
    uint64_t k = i < 8 ? i : i / 8 * 8 + order[i % 8];

    assert_int_equal(disk_file_pread(f, buf, MiB, k * MiB, NULL), DISK_OK);
    for (size_t b = 0; b < MiB; b += 4093)
      assert_int_equal(buf[b], pattern(k * MiB + b));
  }
  assert_int_equal(src.bytes, src.size);
  free(buf);
  disk_file_close(f);
}

/* Close while chunks are queued and one is being read: no hang, no
 * leak (valgrind and ASan twins). */
static void test_close_in_flight(void **state)
{
  struct disk_file *f = wrap(8, MiB);
  uint8_t buf[4096];

  (void)state;
  src.delay_us = 20000;
  assert_int_equal(disk_file_pread(f, buf, sizeof buf, 0, NULL), DISK_OK);
  assert_int_equal(disk_file_pread(f, buf, sizeof buf, sizeof buf, NULL),
                   DISK_OK);
  disk_file_close(f);
  assert_int_equal(src_closes, 1);
}

/* Unsuitable sources and options are refused; depth 0 is no wrapper. */
static void test_wrap_arguments(void **state)
{
  struct disk_readahead o = {4, MiB};
  struct disk_file *inner = src_open(), *out = (struct disk_file *)1;

  (void)state;
  inner->caps = DISK_FILE_CONCURRENT | DISK_FILE_CAN_WRITE;
  assert_int_equal(disk_readahead_wrap(inner, &o, &out), DISK_E_ARG);
  assert_null(out);
  inner->caps = 0;
  assert_int_equal(disk_readahead_wrap(inner, &o, &out), DISK_E_ARG);
  inner->caps = DISK_FILE_CONCURRENT;
  o.chunk = 4096;
  assert_int_equal(disk_readahead_wrap(inner, &o, &out), DISK_E_ARG);
  o.chunk = MiB;
  o.depth = DISK_READAHEAD_DEPTH_MAX + 1;
  assert_int_equal(disk_readahead_wrap(inner, &o, &out), DISK_E_ARG);
  o.depth = 0;
  assert_int_equal(disk_readahead_wrap(inner, &o, &out), DISK_OK);
  assert_ptr_equal(out, inner);
  disk_file_close(inner);
  assert_int_equal(src_closes, 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup(test_sequence_reads_in_chunks, setup),
      cmocka_unit_test_setup(test_random_reads_pass_through, setup),
      cmocka_unit_test_setup(test_short_sequence_bounded, setup),
      cmocka_unit_test_setup(test_short_sequence_small_reads, setup),
      cmocka_unit_test_setup(test_end_of_file, setup),
      cmocka_unit_test_setup(test_failed_chunk_is_an_error, setup),
      cmocka_unit_test_setup(test_stale_failure_is_retried, setup),
      cmocka_unit_test_setup(test_allocated_runs_only, setup),
      cmocka_unit_test_setup(test_concurrent_readers, setup),
      cmocka_unit_test_setup(test_out_of_order_fetches_once, setup),
      cmocka_unit_test_setup(test_close_in_flight, setup),
      cmocka_unit_test_setup(test_wrap_arguments, setup),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
