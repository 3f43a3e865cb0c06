/*
 * test_backup_journal.c -- the lease journal's snapshot records (version
 * 2): written and read back, version 1 kept while there are none, old
 * journals read, records of a newer freevix and malformed ones refused as
 * a whole, stale owners told apart from live ones.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "access/journal.h"
#include "testutil.h"

static char dir[4096];

static void write_journal(const char *text)
{
  char path[4200];
  FILE *f;

  snprintf(path, sizeof path, "%s/journal", dir);
  f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fputs(text, f) >= 0, 1);
  fclose(f);
}

static char *read_journal(void)
{
  char path[4200];

  snprintf(path, sizeof path, "%s/journal", dir);
  return fvx_test_read_file(path, NULL);
}

static int setup(void **state)
{
  (void)state;
  snprintf(dir, sizeof dir, "%s", fvx_test_tmpdir());
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  fvx_test_rmtree(dir);
  return 0;
}

static void record(struct journal_snapshot *s, const char *name,
                   const char *moref)
{
  memset(s, 0, sizeof *s);
  snprintf(s->server, sizeof s->server, "vc.example");
  s->port = 443;
  snprintf(s->vm, sizeof s->vm, "vm-42");
  snprintf(s->name, sizeof s->name, "%s", name);
  snprintf(s->snapshot, sizeof s->snapshot, "%s", moref);
  snprintf(s->source, sizeof s->source, "nightly");
  s->pid = 1;
  s->pid_start = 7;
  s->created = 1700000000;
}

/* Snapshot records (with and without a moref, with blanks and '%' in the
 * name) go out as version 2 and come back unchanged next to the grants;
 * without them the file stays version 1. */
static void records_round_trip(void **state)
{
  struct access_result res;
  struct journal_grant g;
  struct journal_snapshot a, b;
  struct journal j;
  char *text;

  (void)state;
  assert_int_equal(journal_open(&j, dir, &res), ACCESS_OK);
  memset(&g, 0, sizeof g);
  snprintf(g.server, sizeof g.server, "vc.example");
  g.port = 443;
  snprintf(g.vm, sizeof g.vm, "vm-42");
  snprintf(g.method, sizeof g.method, "RelocateVM_Task");
  snprintf(g.source, sizeof g.source, "nightly");
  g.pid = 1;
  g.created = 1700000000;
  assert_int_equal(journal_add(&j, &g, &res), ACCESS_OK);
  assert_int_equal(journal_commit(&j, &res), ACCESS_OK);
  journal_close(&j);
  text = read_journal();
  assert_non_null(text);
  assert_int_equal(strncmp(text, "freevix-journal 1\n", 18), 0);
  free(text);

  assert_int_equal(journal_open(&j, dir, &res), ACCESS_OK);
  record(&a, "freevix 2024 100% sure", "");
  record(&b, "second", "snapshot-12");
  b.pid = 0;
  b.expires = 1800000000;
  assert_int_equal(journal_add_snapshot(&j, &a, &res), ACCESS_OK);
  assert_int_equal(journal_add_snapshot(&j, &b, &res), ACCESS_OK);
  assert_int_equal(journal_commit(&j, &res), ACCESS_OK);
  journal_close(&j);
  text = read_journal();
  assert_non_null(text);
  assert_int_equal(strncmp(text, "freevix-journal 2\n", 18), 0);
  assert_non_null(strstr(text, "snapshot\t1\tvc.example\t443\tvm-42\t"
                               "freevix%202024%20100%25%20sure\t-\tnightly\t"
                               "1\t7\t1700000000\t0\n"));
  free(text);

  assert_int_equal(journal_open(&j, dir, &res), ACCESS_OK);
  assert_int_equal(j.n, 1);
  assert_int_equal(j.n_snaps, 2);
  assert_string_equal(j.snaps[0].name, "freevix 2024 100% sure");
  assert_string_equal(j.snaps[0].snapshot, "");
  assert_string_equal(j.snaps[1].snapshot, "snapshot-12");
  assert_int_equal(j.snaps[1].expires, 1800000000);
  assert_int_equal(journal_find_snapshot(&j, &b), 1);
  journal_remove_snapshot(&j, 0);
  journal_remove_snapshot(&j, 0);
  assert_int_equal(journal_commit(&j, &res), ACCESS_OK);
  journal_close(&j);
  text = read_journal();
  assert_int_equal(strncmp(text, "freevix-journal 1\n", 18), 0);
  free(text);
}

/* A journal written by an older freevix (version 1, grants only) is read
 * as before. */
static void old_journal_is_read(void **state)
{
  struct access_result res;
  struct journal j;

  (void)state;
  write_journal("freevix-journal 1\n"
                "grant\tvc\t443\tvm-1\tRelocateVM_Task\tnightly\t0\t0\t1\t9\n");
  assert_int_equal(journal_open(&j, dir, &res), ACCESS_OK);
  assert_int_equal(j.n, 1);
  assert_int_equal(j.n_snaps, 0);
  journal_close(&j);
}

/* Anything not exactly a journal of a known version is refused whole,
 * naming the line; a record of a newer version says so. */
static void bad_records_are_refused(void **state)
{
  static const struct {
    const char *text;
    const char *says;
  } bad[] = {
    /* version 1 has no snapshot records */
    {"freevix-journal 1\nsnapshot\t1\tvc\t443\tvm-1\tn\t-\ts\t1\t0\t1\t0\n",
     "line 2"},
    {"freevix-journal 2\nsnapshot\t2\tvc\t443\tvm-1\tn\t-\ts\t1\t0\t1\t0\n",
     "newer freevix"},
    {"freevix-journal 2\nsnapshot\t1\tvc\t443\tvm-1\tn\t-\ts\t0\t0\t1\t0\n",
     "malformed snapshot"},                     /* no owner, no expiry */
    {"freevix-journal 2\nsnapshot\t1\tvc\t443\tvm-1\t\t-\ts\t1\t0\t1\t0\n",
     "malformed snapshot"},                     /* empty name */
    {"freevix-journal 2\nsnapshot\t1\tvc\t443\tvm-1\tn\t-\ts\t1\t0\t1\n",
     "malformed snapshot"},                     /* a field short */
    {"freevix-journal 2\nsnapshot\t1\tvc\t443\tvm-1\tn\t-\ts\t1\t0\t1\t0\tx\n",
     "malformed snapshot"},                     /* a field more */
    {"freevix-journal 2\nsnapshot\t1\tvc\t99999\tvm-1\tn\t-\ts\t1\t0\t1\t0\n",
     "malformed snapshot"},                     /* port */
    {"freevix-journal 2\nsnapshot\t1\tvc\t443\tvm 1\tn\t-\ts\t1\t0\t1\t0\n",
     "malformed snapshot"},                     /* raw blank */
    {"freevix-journal 2\nsnapshot\t1\tvc\t443\tvm-1\tn\t-\ts\t1\t0\t1\t0",
     "truncated"},
    {"freevix-journal 3\n", "another version"},
  };

  (void)state;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    struct access_result res;
    struct journal j;

    write_journal(bad[i].text);
    assert_int_equal(journal_open(&j, dir, &res), ACCESS_E_JOURNAL);
    if (!strstr(res.detail, bad[i].says))
      fail_msg("case %zu: \"%s\" does not say \"%s\"", i, res.detail,
               bad[i].says);
  }
}

/* A record is stale when its owner process is gone (a recycled pid does
 * not count as the owner) or its expiry passed; live otherwise. */
static void owners(void **state)
{
  char why[128];
  long self;
  uint64_t start;
  pid_t child;

  (void)state;
  assert_true(journal_self(&self, &start));
  assert_false(journal_owner_stale(self, start, 0, time(NULL), why,
                                   sizeof why));
  assert_true(journal_owner_stale(self, start + 1, 0, time(NULL), why,
                                  sizeof why));
  assert_non_null(strstr(why, "is gone"));
  child = fork();
  if (child == 0)
    _exit(0);
  assert_int_equal(waitpid(child, NULL, 0), child);
  assert_true(journal_owner_stale(child, 1, 0, time(NULL), why, sizeof why));
  assert_true(journal_owner_stale(0, 0, 100, 200, why, sizeof why));
  assert_non_null(strstr(why, "expired 100 s ago"));
  assert_false(journal_owner_stale(0, 0, 300, 200, why, sizeof why));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(records_round_trip, setup, teardown),
    cmocka_unit_test_setup_teardown(old_journal_is_read, setup, teardown),
    cmocka_unit_test_setup_teardown(bad_records_are_refused, setup, teardown),
    cmocka_unit_test(owners),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
