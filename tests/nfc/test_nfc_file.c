/*
 * test_nfc_file.c -- an NFC connection as a disk_file (nfc_file_open)
 * against the fake server: capabilities, reads (aligned, unaligned, past
 * the end), the ddb values kept at open, allocation runs, writes and sync,
 * reconnects with new tickets on dropped reads (bounded), a dropped write
 * reported and not retried, and NFC errors as DISK_E_* with the host's
 * message in the detail.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "disk/disk.h"
#include "disk/error.h"
#include "disk/file.h"
#include "fake_nfc.h"
#include "nfc/nfc.h"

static const char path[] = "[ds1] vm/vm.vmdk";

struct tickets {
  struct fake *f;
  unsigned calls;
  bool refuse;
};

static int ticket_cb(void *opaque, struct nfc_ticket *out,
                     struct nfc_error *err)
{
  struct tickets *t = opaque;

  if (t->refuse) {
    err->status = NFC_E_AUTH;
    snprintf(err->detail, sizeof err->detail, "no permission for a ticket");
    return -1;
  }
  fake_ticket(t->f, out, t->calls++);
  return 0;
}

static int open_file(struct tickets *t, const struct nfc_options *o,
                     bool writable, unsigned max_reconnects,
                     struct disk_file **df)
{
  struct nfc_file_params p = {o, path, writable, ticket_cb, t,
                              max_reconnects};
  struct nfc_disk_info info;

  return nfc_file_open(df, &p, &info);
}

static void done(struct fake *f, struct fake_seen *seen)
{
  fake_stop(f);
  fake_seen(f, seen);
  if (seen->first_error[0])
    fail_msg("fake server: %s", seen->first_error);
}

static void test_file_read(void **state)
{
  struct fake_cfg cfg = {.transport = NFC_NBD};
  struct tickets t = {fake_start(&cfg), 0, false};
  struct nfc_options o = fake_options(NFC_NBD);
  struct disk_file *df;
  struct fake_seen seen;
  uint8_t buf[3000];
  size_t got;
  uint64_t run;
  bool alloc;

  (void)state;
  assert_int_equal(open_file(&t, &o, false, 0, &df), DISK_OK);
  assert_int_equal(df->size, 8u << 20);
  assert_int_equal(df->caps, DISK_FILE_CONCURRENT | DISK_FILE_CAN_ALLOC);
  assert_null(df->ops->pwrite);
  assert_string_equal(df->id, path);
  assert_string_equal(df->ops->name, "nfc");
  assert_string_equal(nfc_file_ddb(df, "adapterType"), "lsilogic");
  assert_string_equal(nfc_file_ddb(df, "geometry.biosHeads"), "255");
  assert_non_null(nfc_file_ddb(df, "uuid"));
  assert_null(nfc_file_ddb(df, "nosuch"));
  /* unaligned */
  assert_int_equal(df->ops->pread(df, buf, sizeof buf, 1000, &got), DISK_OK);
  assert_int_equal(got, sizeof buf);
  assert_memory_equal(buf, fake_image(t.f) + 1000, sizeof buf);
  /* past the end: zeros, got counts the bytes in the file */
  memset(buf, 0xaa, sizeof buf);
  assert_int_equal(df->ops->pread(df, buf, 2048, (8u << 20) - 1024, &got),
                   DISK_OK);
  assert_int_equal(got, 1024);
  assert_memory_equal(buf, fake_image(t.f) + (8u << 20) - 1024, 1024);
  for (int i = 1024; i < 2048; i++)
    assert_int_equal(buf[i], 0);
  /* allocation: the fake's second MiB is zeros */
  assert_int_equal(df->ops->allocated(df, 0, 8u << 20, &run, &alloc),
                   DISK_OK);
  assert_true(alloc);
  assert_int_equal(run, 1u << 20);
  assert_int_equal(df->ops->allocated(df, (1u << 20) + 100, 8u << 20, &run,
                                      &alloc), DISK_OK);
  assert_false(alloc);
  assert_int_equal(run, (1u << 20) - 100);
  df->ops->close(df);
  assert_int_equal(t.calls, 1);
  done(t.f, &seen);
  assert_true(seen.closed_cleanly);
  fake_free(t.f);
}

/* A read on a dropped connection reconnects with a new ticket. */
static void test_file_reconnect(void **state)
{
  struct fake_cfg cfg = {.transport = NFC_NBD, .drop_conns = 1};
  struct tickets t = {fake_start(&cfg), 0, false};
  struct nfc_options o = fake_options(NFC_NBD);
  struct disk_file *df;
  struct fake_seen seen;
  size_t n = 256 * 1024;
  uint8_t *buf = malloc(n);

  (void)state;
  assert_int_equal(open_file(&t, &o, false, 0, &df), DISK_OK);
  assert_int_equal(df->ops->pread(df, buf, n, 65536, NULL), DISK_OK);
  assert_memory_equal(buf, fake_image(t.f) + 65536, n);
  assert_int_equal(t.calls, 2);
  df->ops->close(df);
  done(t.f, &seen);
  assert_int_equal(seen.conns, 2);
  assert_string_equal(seen.sessions[0], "session-0");
  assert_string_equal(seen.sessions[1], "session-1");
  free(buf);
  fake_free(t.f);
}

/* Every connection drops: the read gives up after max_reconnects. */
static void test_file_reconnect_bounded(void **state)
{
  struct fake_cfg cfg = {.transport = NFC_NBD, .drop_conns = 100};
  struct tickets t = {fake_start(&cfg), 0, false};
  struct nfc_options o = fake_options(NFC_NBD);
  struct disk_file *df;
  struct fake_seen seen;
  uint8_t buf[4096];

  (void)state;
  assert_int_equal(open_file(&t, &o, false, 2, &df), DISK_OK);
  assert_int_equal(df->ops->pread(df, buf, sizeof buf, 0, NULL),
                   DISK_E_NET_CONNECT);
  assert_non_null(strstr(disk_last_error()->detail, "after 2 reconnects"));
  assert_non_null(strstr(disk_last_error()->detail, path));
  assert_null(strstr(disk_last_error()->detail, "session-"));
  assert_int_equal(t.calls, 3);
  /* a refused ticket ends a reconnect at once */
  t.refuse = true;
  assert_int_equal(df->ops->pread(df, buf, sizeof buf, 0, NULL), DISK_E_AUTH);
  assert_non_null(strstr(disk_last_error()->detail, "no permission"));
  df->ops->close(df);
  done(t.f, &seen);
  assert_int_equal(seen.conns, 3);
  fake_free(t.f);
}

/* A write on a connection that drops fails and is not retried; the next
 * read reconnects. */
static void test_file_dropped_write(void **state)
{
  struct fake_cfg cfg = {.transport = NFC_NBD, .drop_write = true};
  struct tickets t = {fake_start(&cfg), 0, false};
  struct nfc_options o = fake_options(NFC_NBD);
  struct disk_file *df;
  struct fake_seen seen;
  uint8_t buf[8192];

  (void)state;
  memset(buf, 0x33, sizeof buf);
  assert_int_equal(open_file(&t, &o, true, 0, &df), DISK_OK);
  assert_int_equal(df->caps, DISK_FILE_CONCURRENT | DISK_FILE_CAN_ALLOC |
                                 DISK_FILE_CAN_WRITE | DISK_FILE_CAN_SYNC);
  assert_int_equal(df->ops->pwrite(df, buf, sizeof buf, 0),
                   DISK_E_NET_CONNECT);
  assert_non_null(strstr(disk_last_error()->detail, "not retried"));
  assert_int_equal(t.calls, 1);
  assert_int_equal(df->ops->pread(df, buf, sizeof buf, 0, NULL), DISK_OK);
  assert_memory_equal(buf, fake_image(t.f), sizeof buf);
  assert_int_equal(t.calls, 2);
  df->ops->close(df);
  done(t.f, &seen);
  fake_free(t.f);
}

static void test_file_write_sync(void **state)
{
  struct fake_cfg cfg = {.transport = NFC_NBD};
  struct tickets t = {fake_start(&cfg), 0, false};
  struct nfc_options o = fake_options(NFC_NBD);
  struct disk_file *df;
  struct fake_seen seen;
  uint8_t buf[4096];
  uint64_t run;
  bool alloc;

  (void)state;
  memset(buf, 0, sizeof buf);
  memset(buf + 1000, 0x77, 100);
  o.compression = NFC_COMP_SKIPZ;
  assert_int_equal(open_file(&t, &o, true, 0, &df), DISK_OK);
  assert_int_equal(df->ops->allocated(df, 1u << 20, 4096, &run, &alloc),
                   DISK_OK);
  assert_false(alloc);
  assert_int_equal(df->ops->pwrite(df, buf, sizeof buf, 1u << 20), DISK_OK);
  assert_int_equal(df->ops->pwrite(df, buf, 100, 0), DISK_E_ARG);
  assert_int_equal(df->ops->pwrite(df, buf, 512, 8u << 20), DISK_E_RANGE);
  assert_int_equal(df->ops->sync(df), DISK_OK);
  /* §4: after a write, allocation answers "allocated" */
  assert_int_equal(df->ops->allocated(df, 1u << 20, 4096, &run, &alloc),
                   DISK_OK);
  assert_true(alloc);
  df->ops->close(df);
  done(t.f, &seen);
  assert_memory_equal(fake_image(t.f) + (1u << 20), buf, sizeof buf);
  assert_true(seen.comp_mask & (1u << NFC_COMP_SKIPZ));
  fake_free(t.f);
}

static void test_file_errors(void **state)
{
  struct fake_cfg cfg = {.transport = NFC_NBD, .readonly = true};
  struct tickets t = {fake_start(&cfg), 0, false};
  struct nfc_options o = fake_options(NFC_NBD);
  struct disk_file *df = NULL;
  struct fake_seen seen;
  struct nfc_file_params bad = {&o, NULL, false, ticket_cb, &t, 0};
  struct nfc_disk_info info;

  (void)state;
  assert_int_equal(open_file(&t, &o, true, 0, &df), DISK_E_READONLY);
  assert_null(df);
  assert_non_null(strstr(disk_last_error()->detail,
                         "The file is read-only for this ticket"));
  assert_int_equal(nfc_file_open(&df, &bad, &info), DISK_E_ARG);
  t.refuse = true;
  assert_int_equal(open_file(&t, &o, false, 0, &df), DISK_E_AUTH);
  done(t.f, &seen);
  fake_free(t.f);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_file_read),
      cmocka_unit_test(test_file_reconnect),
      cmocka_unit_test(test_file_reconnect_bounded),
      cmocka_unit_test(test_file_dropped_write),
      cmocka_unit_test(test_file_write_sync),
      cmocka_unit_test(test_file_errors),
  };

  signal(SIGPIPE, SIG_IGN);
  return cmocka_run_group_tests(tests, NULL, NULL);
}
