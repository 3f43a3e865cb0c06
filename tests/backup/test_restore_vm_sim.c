/*
 * test_restore_vm_sim.c -- `freevix restore DIR --vm SPEC` against
 * freevix-sim: a backup of a running VM, the guest then overwriting every
 * byte of its disk, the VM powered off and the point written back over NFC,
 * checked with the simulator's own SHA-256 of the disk (so the backup's
 * holes must have become zeros again); the point into another VM (--json,
 * nbd); what is refused before anything is written (a running VM, a disk
 * the VM lacks, a damaged backup, --to with --vm); nothing left disabled;
 * kill -9 at each step of a restore, then `freevix sweep` ends exactly its
 * PrepareForAccess and the next restore completes.
 * The backup goes to a relative --to.
 *
 * The command runs as a child (under valgrind in the .valgrind twin).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "backup_test.h"
#include "manifest.h"
#include "sim.h"
#include "testutil.h"

#define N_VMS 3
#define MIB (1024ull * 1024)
#define DISK_SIZE (8 * MIB)

#define FMT(buf, ...) \
  assert_true(snprintf(buf, sizeof buf, __VA_ARGS__) < (int)sizeof buf)

static struct fvx_sim sim;
static char vms[N_VMS][64], names[N_VMS][128], specs[N_VMS][96];
static char tmp[4096], state_dir[4200], repo[4200], out_path[4200];
static char dir0[4400];         /* VM 0's backup directory */
static char point_sha[65];      /* point 1's disk 2000 */

static int run_steps(const char *const *args, char **out, bt_step_fn *fn,
                     void *data)
{
  struct bt_cli c;

  memset(&c, 0, sizeof c);
  c.sim = &sim;
  c.state_dir = state_dir;
  c.out_path = out_path;
  c.on_step = fn;
  c.data = data;
  return bt_run(&c, args, out);
}

static int run(const char *const *args, char **out)
{
  return run_steps(args, out, NULL, NULL);
}

static bool contains(const char *text, const char *what)
{
  if (text && strstr(text, what))
    return true;
  print_error("expected \"%s\" in:\n%s\n", what, text ? text : "(nothing)");
  return false;
}

static void sha_now(int vm, char out[65])
{
  bt_disk_sha256(&sim, vms[vm], 2000, NULL, out);
}

static void assert_not_disabled(void)
{
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, NULL), 0);
}

/* VM 0 backed up while running (point 1), then its whole disk rewritten
 * by the guest, so a restore must write every block, zeros included. */
static int setup(void **state)
{
  static const char *const args[] = {"--vms", "3", "--disk-size", "8MiB",
                                     NULL};
  /* A relative --to (the command once passed it to VixDiskLib_Create,
   * which takes absolute paths only, and failed at the end). */
  const char *backup[] = {"backup", "--vm", specs[0], "--to", "repo", NULL};
  struct manifest m;
  char path[4500], why[512], now[65];

  (void)state;
  fvx_sim_start(&sim, args);
  assert_int_equal(fvx_sim_vms(&sim, vms, names, N_VMS), N_VMS);
  for (int i = 0; i < N_VMS; i++)
    FMT(specs[i], "moref=%.63s", vms[i]);
  FMT(tmp, "%s", fvx_test_tmpdir());
  FMT(state_dir, "%s/state", tmp);
  FMT(repo, "%s/repo", tmp);
  FMT(out_path, "%s/out", tmp);
  FMT(dir0, "%s/%s", repo, names[0]);
  assert_int_equal(chdir(tmp), 0);
  assert_int_equal(run(backup, NULL), 0);
  FMT(path, "%s/point-0001.json", dir0);
  if (!manifest_read(path, &m, why, sizeof why))
    fail_msg("%s: %s", path, why);
  assert_int_equal(m.n_disks, 1);
  FMT(point_sha, "%s", m.disks[0].sha256);
  manifest_free(&m);
  bt_guest_write(&sim, vms[0], 2000, 0, DISK_SIZE, 99);
  sha_now(0, now);
  assert_string_not_equal(now, point_sha);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  fvx_sim_stop(&sim);
  assert_int_equal(chdir("/"), 0);
  fvx_test_rmtree(tmp);
  return 0;
}

/* Everything refused is refused before PrepareForAccess or a write. */
static void refusals_change_nothing(void **state)
{
  const char *running[] = {"restore", dir0, "--vm", specs[0], NULL};
  const char *no_disk[] = {"restore", dir0, "--vm", specs[0], "--disk",
                           "2001", NULL};
  const char *both[] = {"restore", dir0, "--vm", specs[0], "--to", "/x",
                        NULL};
  char before[65], after[65], *out = NULL;

  (void)state;
  sha_now(0, before);
  /* VM 0 still runs. */
  assert_int_equal(run(running, &out), 1);
  assert_true(contains(out, "power it off first"));
  free(out);
  bt_power(&sim, vms[0], 0);
  assert_int_equal(run(no_disk, &out), 1);
  assert_true(contains(out, "has no disk 2001"));
  free(out);
  assert_int_equal(run(both, &out), 2);
  assert_true(contains(out, "--to FILE (a local file) or --vm SPEC"));
  free(out);
  sha_now(0, after);
  assert_string_equal(before, after);
  assert_not_disabled();
  assert_int_equal(bt_stat(&sim, "nfc", "bytes_written"), 0);
}

/* A flipped byte in the backup: refused before the VM is touched. */
static void damaged_backup_is_not_written(void **state)
{
  const char *args[] = {"restore", dir0, "--vm", specs[0], NULL};
  char path[4500], before[65], after[65], *out = NULL;

  (void)state;
  sha_now(0, before);
  FMT(path, "%s/point-0001-disk-2000.vmdk", dir0);
  bt_flip_data_byte(path);
  assert_int_equal(run(args, &out), 1);
  assert_true(contains(out, "damaged, nothing written"));
  free(out);
  bt_flip_data_byte(path);
  sha_now(0, after);
  assert_string_equal(before, after);
  assert_not_disabled();
}

/* The point back into VM 0, read back, equal to the simulator's hash. */
static void restore_into_the_powered_off_vm(void **state)
{
  const char *args[] = {"restore", dir0, "--vm", specs[0], NULL};
  char now[65], *out = NULL;

  (void)state;
  assert_int_equal(run(args, &out), 0);
  assert_true(contains(out, "migration disabled (PrepareForAccess, "
                            "identity 'freevix-restore')"));
  assert_true(contains(out, "read back as in the manifest"));
  assert_true(contains(out, "migration allowed again (EndAccess)"));
  free(out);
  sha_now(0, now);
  assert_string_equal(now, point_sha);
  assert_not_disabled();
  /* The disk was overwritten whole by the guest: every byte went back. */
  assert_true(bt_stat(&sim, "nfc", "bytes_written") >= (long long)DISK_SIZE);
}

/* kill -9 after PrepareForAccess, during the writes and before EndAccess:
 * the VM stays unmovable under the restore's identity until `freevix
 * sweep`, which ends that and nothing else; the next restore completes. */
static void killed_restores_are_swept(void **state)
{
  static const char *const steps[] = {"prepared", "writing", "written"};
  const char *args[] = {"restore", dir0, "--vm", specs[0], NULL};
  const char *keeper[] = {"prepare", "--lease", "none", "--identity",
                          "keeper", "--vm", specs[2], NULL};
  const char *keeper_end[] = {"end", "--lease", "none", "--identity",
                              "keeper", "--vm", specs[2], NULL};
  const char *sweep[] = {"sweep", NULL};
  char now[65], *out = NULL;

  (void)state;
  assert_int_equal(run(keeper, NULL), 0); /* someone else's disable */
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    struct bt_killer k = {steps[i], vms[0], false};

    assert_int_equal(run_steps(args, NULL, bt_kill_at, &k), 128 + 9);
    assert_true(k.killed);
    assert_int_equal(fvx_sim_count_disabled(&sim, vms[0], NULL,
                                            "freevix-restore"), 1);
    assert_int_equal(run(sweep, &out), 0);
    free(out);
    assert_int_equal(fvx_sim_count_disabled(&sim, vms[0], NULL, NULL), 0);
    assert_int_equal(fvx_sim_count_disabled(&sim, vms[2], NULL, "keeper"),
                     1);
  }
  assert_int_equal(run(args, NULL), 0);
  sha_now(0, now);
  assert_string_equal(now, point_sha);
  assert_int_equal(run(keeper_end, NULL), 0);
  assert_not_disabled();
}

/* The same point into VM 1, over plain nbd, one JSON object per disk. */
static void restore_into_another_vm_as_json(void **state)
{
  const char *args[] = {"restore", dir0, "--vm", names[1], "--transport",
                        "nbd", "--identity", "restore-test", "--json",
                        NULL};
  char now[65], *out = NULL;

  (void)state;
  bt_power(&sim, vms[1], 0);
  assert_int_equal(run(args, &out), 0);
  assert_true(contains(out, "\"transport\":\"nbd\""));
  assert_true(contains(out, "\"verified\":true"));
  assert_true(contains(out, point_sha));
  free(out);
  sha_now(1, now);
  assert_string_equal(now, point_sha);
  assert_not_disabled();
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(refusals_change_nothing),
    cmocka_unit_test(damaged_backup_is_not_written),
    cmocka_unit_test(restore_into_the_powered_off_vm),
    cmocka_unit_test(killed_restores_are_swept),
    cmocka_unit_test(restore_into_another_vm_as_json),
  };

  return cmocka_run_group_tests(tests, setup, teardown);
}
