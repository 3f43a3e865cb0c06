/*
 * test_backup_api_sim.c -- the library's backup calls against freevix-sim:
 * a VM's description and disks (now and in a snapshot), CBT switched on
 * and taking effect at the next snapshot, changed areas since a changeId
 * (and "*"), a CBT reset answered with "take a full copy", snapshots with
 * journal records, and the sweep removing exactly the snapshots of dead
 * owners -- by moref, or by name when the moref was never recorded --
 * and nothing else.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "access/journal.h"
#include "backup_test.h"
#include "freevix.h"
#include "sim.h"
#include "testutil.h"

#define MIB (1024ull * 1024)

static struct fvx_sim sim;
static char vms[4][64];
static char specs[4][96];
static char tmp[4096];
static char state_dir[4200];

static int setup(void **state)
{
  static const char *const args[] = {"--vms", "4", NULL};

  (void)state;
  fvx_sim_start(&sim, args);
  assert_int_equal(fvx_sim_vms(&sim, vms, NULL, 4), 4);
  for (int i = 0; i < 4; i++)
    snprintf(specs[i], sizeof specs[i], "moref=%.63s", vms[i]);
  snprintf(tmp, sizeof tmp, "%s", fvx_test_tmpdir());
  snprintf(state_dir, sizeof state_dir, "%s/state", tmp);
  assert_int_equal(VixDiskLib_InitEx(8, 0, bt_quiet, bt_quiet, NULL, NULL,
                                     NULL), VIX_OK);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  VixDiskLib_Exit();
  fvx_sim_stop(&sim);
  fvx_test_rmtree(tmp);
  return 0;
}

static char *take(const char *spec, const char *name, Bool journal)
{
  VixDiskLibConnectParams p;
  freevix_snapshot_options o;
  char *ref = NULL;

  bt_params(&sim, spec, &p);
  memset(&o, 0, sizeof o);
  o.name = name;
  o.lease = journal ? FREEVIX_LEASE_JOURNAL : FREEVIX_LEASE_NONE;
  o.processOwned = 1;
  o.identity = "api-test";
  o.stateDir = state_dir;
  assert_int_equal(freevix_snapshot_create_ex(&p, &o, &ref), VIX_OK);
  assert_non_null(ref);
  return ref;
}

static void drop(const char *spec, char *ref, Bool journal)
{
  VixDiskLibConnectParams p;
  freevix_snapshot_options o;

  bt_params(&sim, spec, &p);
  memset(&o, 0, sizeof o);
  o.lease = journal ? FREEVIX_LEASE_JOURNAL : FREEVIX_LEASE_NONE;
  o.stateDir = state_dir;
  assert_int_equal(freevix_snapshot_remove_ex(&p, ref, &o), VIX_OK);
  freevix_free(ref);
}

/* Describe and list disks, now and in a snapshot; CBT on, in effect from
 * the snapshot after the one that applied it; changed areas since that
 * snapshot cover the guest's writes (at CBT's 64 KiB) and nothing else. */
static void disks_and_cbt(void **state)
{
  VixDiskLibConnectParams p;
  freevix_vm_info info;
  freevix_disk *d = NULL;
  freevix_area *a = NULL;
  uint32 n = 0, na = 0;
  Bool was = 1;
  char *s1, *s2, *s3;
  char change_id[128];

  (void)state;
  bt_params(&sim, specs[0], &p);
  assert_int_equal(freevix_vm_describe(&p, &info), VIX_OK);
  assert_string_equal(info.moref, vms[0]);
  assert_string_equal(info.powerState, "poweredOn");
  assert_false(info.changeTracking);
  assert_int_equal(freevix_vm_disks(&p, NULL, &d, &n), VIX_OK);
  assert_int_equal(n, 1);
  assert_int_equal(d[0].key, 2000);
  assert_int_equal(d[0].capacity, 64 * MIB);
  assert_string_equal(d[0].diskMode, "persistent");
  assert_int_equal(d[0].chainLength, 1);
  assert_string_equal(d[0].changeId, "");
  freevix_free(d);

  /* Without CBT: "take a full copy". */
  s1 = take(specs[0], "no-cbt", 0);
  assert_int_equal(freevix_changed_areas(&p, s1, 2000, 0, 64 * MIB, "*", &a,
                                         &na), VIX_E_NOT_SUPPORTED);
  assert_null(a);
  drop(specs[0], s1, 0);

  assert_int_equal(freevix_change_tracking(&p, 1, 60, &was), VIX_OK);
  assert_false(was);
  assert_int_equal(freevix_change_tracking(&p, 1, 60, &was), VIX_OK);
  assert_true(was);
  assert_int_equal(freevix_vm_describe(&p, &info), VIX_OK);
  assert_true(info.changeTracking);

  s1 = take(specs[0], "applies-cbt", 0);  /* CBT takes effect here */
  assert_int_equal(freevix_vm_disks(&p, s1, &d, &n), VIX_OK);
  assert_string_equal(d[0].changeId, "");
  freevix_free(d);
  s2 = take(specs[0], "first-with-cbt", 0);
  assert_int_equal(freevix_vm_disks(&p, s2, &d, &n), VIX_OK);
  assert_int_equal(n, 1);
  assert_true(strlen(d[0].changeId) > 10);
  assert_int_equal(d[0].chainLength, 2);
  snprintf(change_id, sizeof change_id, "%s", d[0].changeId);
  freevix_free(d);

  /* "*": the allocated areas, the first MiB among them. */
  assert_int_equal(freevix_changed_areas(&p, s2, 2000, 0, 64 * MIB, "*", &a,
                                         &na), VIX_OK);
  assert_true(na > 0);
  assert_int_equal(a[0].offset, 0);
  assert_true(a[0].length >= MIB);
  freevix_free(a);

  bt_guest_write(&sim, vms[0], 2000, 5 * MIB + 100, 1000, 7);
  bt_guest_write(&sim, vms[0], 2000, 40 * MIB, 128 * 1024, 8);
  s3 = take(specs[0], "second-with-cbt", 0);
  assert_int_equal(freevix_changed_areas(&p, s3, 2000, 0, 64 * MIB, change_id,
                                         &a, &na), VIX_OK);
  assert_int_equal(na, 2);
  assert_int_equal(a[0].offset, 5 * MIB);
  assert_int_equal(a[0].length, 64 * 1024);
  assert_int_equal(a[1].offset, 40 * MIB);
  assert_int_equal(a[1].length, 128 * 1024);
  freevix_free(a);
  /* A sub-range is clipped. */
  assert_int_equal(freevix_changed_areas(&p, s3, 2000, 40 * MIB + 4096, 4096,
                                         change_id, &a, &na), VIX_OK);
  assert_int_equal(na, 1);
  assert_int_equal(a[0].offset, 40 * MIB + 4096);
  assert_int_equal(a[0].length, 4096);
  freevix_free(a);

  /* A snapshot of another VM, a disk the VM lacks. */
  bt_params(&sim, specs[1], &p);
  assert_int_equal(freevix_vm_disks(&p, s3, &d, &n), VIX_E_SNAPSHOT_NOTFOUND);
  assert_null(d);
  bt_params(&sim, specs[0], &p);
  assert_int_equal(freevix_vm_disks(&p, "snapshot-999999", &d, &n),
                   VIX_E_SNAPSHOT_NOTFOUND);
  assert_int_not_equal(freevix_changed_areas(&p, s3, 2077, 0, MIB, "*", &a,
                                             &na), VIX_OK);

  /* After a CBT reset the old changeId cannot be answered. */
  bt_cbt_reset(&sim, vms[0]);
  assert_int_equal(freevix_changed_areas(&p, s3, 2000, 0, 64 * MIB, change_id,
                                         &a, &na), VIX_E_NOT_SUPPORTED);
  drop(specs[0], s3, 0);
  drop(specs[0], s2, 0);
  drop(specs[0], s1, 0);
  assert_int_equal(bt_snapshots(&sim, vms[0], NULL, 0), 0);
}

/* A recorded snapshot: the record holds the moref while the snapshot
 * lives and goes with it; a duplicate name is refused before anything. */
static void recorded_snapshot(void **state)
{
  VixDiskLibConnectParams p;
  freevix_snapshot_options o;
  struct access_result res;
  struct journal j;
  char *ref, *dup = NULL;

  (void)state;
  ref = take(specs[1], "freevix-test recorded", 1);
  assert_int_equal(journal_open(&j, state_dir, &res), ACCESS_OK);
  assert_int_equal(j.n_snaps, 1);
  assert_string_equal(j.snaps[0].snapshot, ref);
  assert_string_equal(j.snaps[0].vm, vms[1]);
  assert_string_equal(j.snaps[0].source, "api-test");
  assert_int_equal(j.snaps[0].pid, (long)getpid());
  journal_close(&j);

  bt_params(&sim, specs[1], &p);
  memset(&o, 0, sizeof o);
  o.name = "freevix-test recorded";
  o.lease = FREEVIX_LEASE_JOURNAL;
  o.processOwned = 1;
  o.stateDir = state_dir;
  assert_int_equal(freevix_snapshot_create_ex(&p, &o, &dup),
                   VIX_E_SNAPSHOT_NONUNIQUE_NAME);
  assert_null(dup);
  assert_int_equal(bt_snapshots(&sim, vms[1], NULL, 0), 1);

  drop(specs[1], ref, 1);
  assert_int_equal(journal_open(&j, state_dir, &res), ACCESS_OK);
  assert_int_equal(j.n_snaps, 0);
  journal_close(&j);
  assert_int_equal(bt_snapshots(&sim, vms[1], NULL, 0), 0);
}

static long dead_pid(void)
{
  pid_t child = fork();

  if (child == 0)
    _exit(0);
  assert_int_equal(waitpid(child, NULL, 0), child);
  return child;
}

static void add_record(const char *vm, const char *name, const char *moref,
                       long pid, uint64_t start)
{
  struct access_result res;
  struct journal_snapshot s;
  struct journal j;

  memset(&s, 0, sizeof s);
  snprintf(s.server, sizeof s.server, "%s", sim.host);
  s.port = (unsigned)sim.port;
  snprintf(s.vm, sizeof s.vm, "%s", vm);
  snprintf(s.name, sizeof s.name, "%s", name);
  snprintf(s.snapshot, sizeof s.snapshot, "%s", moref);
  snprintf(s.source, sizeof s.source, "crashed");
  s.pid = pid;
  s.pid_start = start;
  s.created = (int64_t)time(NULL);
  assert_int_equal(journal_open(&j, state_dir, &res), ACCESS_OK);
  assert_int_equal(journal_add_snapshot(&j, &s, &res), ACCESS_OK);
  assert_int_equal(journal_commit(&j, &res), ACCESS_OK);
  journal_close(&j);
}

struct seen {
  int n;
  char why[8][256];
};

static void on_snapshot(void *data, const char *vm, const char *ref,
                        const char *name, const char *identity,
                        const char *why, VixError result)
{
  struct seen *s = data;

  (void)vm;
  (void)ref;
  (void)name;
  assert_string_equal(identity, "crashed");
  assert_int_equal(result, VIX_OK);
  if (s->n < 8)
    snprintf(s->why[s->n], sizeof s->why[0], "%s", why);
  s->n++;
}

/* The sweep removes the snapshots of dead owners' records: one by moref,
 * one by name (the taker died before learning the moref); a record whose
 * snapshot never came to exist is dropped; a live owner's snapshot, a
 * snapshot nobody recorded (with a name like a backup's) and a dead
 * owner's record naming a snapshot of another VM stay. */
static void sweep_removes_exactly_the_dead(void **state)
{
  VixDiskLibConnectParams p;
  freevix_sweep_options o;
  struct access_result res;
  struct journal j;
  struct seen seen;
  char *by_moref, *by_name, *foreign, *live, *other;
  char refs[8][64];
  uint32 grants = 9, snaps = 9;
  long self;
  uint64_t start;

  (void)state;
  by_moref = take(specs[2], "crashed after create", 0);
  by_name = take(specs[2], "crashed before the moref", 0);
  foreign = take(specs[2], "freevix-backup of someone else", 0);
  live = take(specs[2], "live backup", 1);
  other = take(specs[3], "another VM's", 0);
  add_record(vms[2], "crashed after create", by_moref, dead_pid(), 1);
  add_record(vms[2], "crashed before the moref", "", dead_pid(), 1);
  add_record(vms[2], "never taken", "", dead_pid(), 1);
  add_record(vms[2], "wrong VM", other, dead_pid(), 1);
  assert_int_equal(bt_snapshots(&sim, vms[2], NULL, 0), 4);

  bt_params(&sim, NULL, &p);
  memset(&o, 0, sizeof o);
  memset(&seen, 0, sizeof seen);
  o.stateDir = state_dir;
  o.dryRun = 1;
  o.snapshotFunc = on_snapshot;
  o.clientData = &seen;
  /* A dry run reports the four records (the live one is not stale) and
   * changes nothing. */
  assert_int_equal(freevix_sweep_ex(&p, &o, &grants, &snaps), VIX_OK);
  assert_int_equal(snaps, 4);
  assert_int_equal(grants, 0);
  assert_int_equal(bt_snapshots(&sim, vms[2], NULL, 0), 4);

  o.dryRun = 0;
  o.snapshotFunc = NULL;
  assert_int_not_equal(freevix_sweep_ex(&p, &o, &grants, &snaps), VIX_OK);
  assert_int_equal(snaps, 2);
  assert_int_equal(bt_snapshots(&sim, vms[2], refs, 8), 2);
  assert_true((!strcmp(refs[0], foreign) && !strcmp(refs[1], live)) ||
              (!strcmp(refs[1], foreign) && !strcmp(refs[0], live)));
  assert_int_equal(bt_snapshots(&sim, vms[3], NULL, 0), 1);

  /* Left: the live record and the one naming another VM's snapshot. */
  assert_int_equal(journal_open(&j, state_dir, &res), ACCESS_OK);
  assert_int_equal(j.n_snaps, 2);
  journal_close(&j);
  assert_true(journal_self(&self, &start));
  drop(specs[2], live, 1);
  drop(specs[2], foreign, 0);
  drop(specs[3], other, 0);
  freevix_free(by_moref);
  freevix_free(by_name);
  /* The other VM's snapshot is gone now: its record goes too. */
  assert_int_equal(freevix_sweep_ex(&p, &o, &grants, &snaps), VIX_OK);
  assert_int_equal(snaps, 0);
  assert_int_equal(journal_open(&j, state_dir, &res), ACCESS_OK);
  assert_int_equal(j.n_snaps, 0);
  journal_close(&j);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(disks_and_cbt),
    cmocka_unit_test(recorded_snapshot),
    cmocka_unit_test(sweep_removes_exactly_the_dead),
  };

  return cmocka_run_group_tests(tests, setup, teardown);
}
