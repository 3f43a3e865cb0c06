/*
 * test_lease_sim.c -- freevix_access_* and freevix_sweep in-process against
 * freevix-sim: batches and their rollback (under both atomicity
 * assumptions), bounded waits behind a Storage vMotion, a session lease
 * that is lost, journal expiry and sweeping, corrupt journals, the
 * privilege pre-flight.  Every outcome is checked through the simulator's
 * admin endpoint (the true disable table).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "freevix.h"
#include "sim.h"
#include "testutil.h"
#include "vixDiskLib.h"

#define N_VMS 24

static struct fvx_sim sim;
static char vms[N_VMS][64];
static char specs_buf[N_VMS][96];
static const char *specs[N_VMS];
static char tmp_dir[4096];   /* removed by teardown */
static char state_dir[4200]; /* <tmp_dir>/state: the journal */

static void quiet(const char *fmt, va_list ap)
{
  (void)fmt;
  (void)ap;
}

static freevix_access *open_access(const char *identity, uint32 lease,
                                   uint32 wait_ms, Bool atomic)
{
  VixDiskLibConnectParams p;
  freevix_access_options o;
  freevix_access *a = NULL;

  fvx_sim_params(&sim, &p, "admin", NULL);
  memset(&o, 0, sizeof o);
  o.identity = identity;
  o.lease = lease;
  o.waitMs = wait_ms;
  o.batchSize = 5;
  o.assumeAtomicDisable = atomic;
  o.stateDir = state_dir;
  o.keepAliveMs = 300;
  assert_int_equal(freevix_access_open(&p, &o, &a), VIX_OK);
  return a;
}

static int setup(void **state)
{
  static const char *const args[] = {"--vms", "24", "--relocate-seconds", "1",
                                     NULL};

  (void)state;
  fvx_sim_start(&sim, args);
  assert_int_equal(fvx_sim_vms(&sim, vms, NULL, N_VMS), N_VMS);
  for (size_t i = 0; i < N_VMS; i++) {
    fvx_sim_spec(specs_buf[i], sizeof specs_buf[i], vms[i]);
    specs[i] = specs_buf[i];
  }
  snprintf(tmp_dir, sizeof tmp_dir, "%s", fvx_test_tmpdir());
  snprintf(state_dir, sizeof state_dir, "%s/state", tmp_dir);
  return VixDiskLib_InitEx(8, 0, quiet, quiet, NULL, NULL, NULL) == VIX_OK
             ? 0
             : -1;
}

static int teardown(void **state)
{
  (void)state;
  VixDiskLib_Exit();
  fvx_sim_stop(&sim);
  fvx_test_rmtree(tmp_dir);
  return 0;
}

/* A batch meets a VM another source holds: nothing this call took is left
 * disabled, a VM the identity held before the call stays held, and the
 * result names the VM and its holder -- under both assumptions. */
static void batch_gives_back_and_names_the_vm(void **state)
{
  for (int atomic = 0; atomic <= 1; atomic++) {
    freevix_access *mine = open_access("backup-A", FREEVIX_LEASE_NONE, 0,
                                       (Bool)atomic);
    freevix_access *other = open_access("other", FREEVIX_LEASE_NONE, 0, 1);
    freevix_vm_result res[N_VMS];

    (void)state;
    /* Already ours before the call: VM 3 (first batch).  Held by
     * someone else: VM 17 (fourth batch of 5). */
    assert_int_equal(freevix_access_prepare(mine, &specs[3], 1, NULL),
                     VIX_OK);
    assert_int_equal(freevix_access_prepare(other, &specs[17], 1, NULL),
                     VIX_OK);
    assert_int_equal(freevix_access_prepare(mine, specs, N_VMS, res),
                     VMODL_TYPE_VIM_FAULT_METHOD_ALREADY_DISABLED_FAULT);
    assert_int_equal(res[17].error,
                     VMODL_TYPE_VIM_FAULT_METHOD_ALREADY_DISABLED_FAULT);
    assert_string_equal(res[17].holder, "other");
    assert_string_equal(res[17].moref, vms[17]);
    assert_int_equal(res[0].error, VIX_E_CANCELLED);
    assert_true(res[3].alreadyHeld);
    assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, "backup-A"), 1);
    assert_int_equal(fvx_sim_count_disabled(&sim, vms[3], NULL, "backup-A"),
                     1);
    assert_int_equal(fvx_sim_count_disabled(&sim, vms[17], NULL, "other"), 1);

    assert_int_equal(freevix_access_end(other, &specs[17], 1, NULL), VIX_OK);
    assert_int_equal(freevix_access_prepare(mine, specs, N_VMS, res), VIX_OK);
    assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, "backup-A"),
                     N_VMS);
    assert_true(res[3].alreadyHeld);
    assert_false(res[4].alreadyHeld);
    assert_int_equal(freevix_access_end(mine, specs, N_VMS, res), VIX_OK);
    assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, NULL), 0);
    assert_int_equal(freevix_access_close(mine), VIX_OK);
    assert_int_equal(freevix_access_close(other), VIX_OK);
  }
}

/* Unknown and malformed VMs fail the batch before anything changes. */
static void unknown_vm_changes_nothing(void **state)
{
  freevix_access *a = open_access("backup-A", FREEVIX_LEASE_NONE, 0, 0);
  const char *list[3] = {specs[0], "moref=vm-999999", specs[1]};
  const char *bad[2] = {specs[0], "no-such-form"};
  freevix_vm_result res[3];

  (void)state;
  assert_int_equal(freevix_access_prepare(a, list, 3, res),
                   VIX_E_VM_NOT_FOUND);
  assert_int_equal(res[1].error, VIX_E_VM_NOT_FOUND);
  assert_int_equal(res[0].error, VIX_E_CANCELLED);
  assert_int_equal(freevix_access_prepare(a, bad, 2, res),
                   VIX_E_INVALID_PROPERTY_VALUE);
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, NULL), 0);
  /* end attempts every VM and reports the unknown one. */
  assert_int_equal(freevix_access_end(a, list, 3, res), VIX_E_VM_NOT_FOUND);
  assert_int_equal(res[0].error, VIX_OK);
  assert_int_equal(res[2].error, VIX_OK);
  assert_int_equal(freevix_access_close(a), VIX_OK);
  /* Bad handles and arguments. */
  assert_int_equal(freevix_access_prepare(NULL, list, 1, NULL),
                   VIX_E_INVALID_HANDLE);
  assert_int_equal(freevix_access_close(NULL), VIX_OK);
}

struct waits {
  int calls;
  char holder[256];
};

static void on_wait(void *data, const char *vm, const char *holder,
                    uint32 waited, uint32 budget, int progress)
{
  struct waits *w = data;

  (void)vm;
  (void)waited;
  (void)budget;
  (void)progress;
  w->calls++;
  snprintf(w->holder, sizeof w->holder, "%s", holder);
}

/* A 3 s Storage vMotion holds the VM: a 10 s wait follows it and then
 * takes the VM; a 1 s wait gives up naming the holder. */
static void wait_follows_the_storage_vmotion(void **state)
{
  VixDiskLibConnectParams p;
  freevix_access_options o;
  freevix_access *a;
  freevix_vm_result res;
  struct waits w = {0, ""};
  char body[128];

  (void)state;
  fvx_sim_params(&sim, &p, "admin", NULL);
  memset(&o, 0, sizeof o);
  o.identity = "backup-W";
  o.waitFunc = on_wait;
  o.clientData = &w;
  snprintf(body, sizeof body, "{\"vm\":\"%s\",\"seconds\":3}", vms[5]);

  o.waitMs = 1000;
  assert_int_equal(freevix_access_open(&p, &o, &a), VIX_OK);
  assert_int_equal(fvx_sim_admin(&sim, "POST", "/relocate", body, NULL), 200);
  assert_int_equal(freevix_access_prepare(a, &specs[5], 1, &res),
                   VMODL_TYPE_VIM_FAULT_METHOD_ALREADY_DISABLED_FAULT);
  assert_string_equal(res.holder, "com.vmware.vcenter.svmotion");
  assert_true(w.calls > 0);
  assert_int_equal(freevix_access_close(a), VIX_OK);

  o.waitMs = 10000;
  assert_int_equal(freevix_access_open(&p, &o, &a), VIX_OK);
  assert_int_equal(freevix_access_prepare(a, &specs[5], 1, &res), VIX_OK);
  assert_string_equal(w.holder, "com.vmware.vcenter.svmotion");
  assert_int_equal(fvx_sim_count_disabled(&sim, vms[5], NULL, "backup-W"), 1);
  assert_int_equal(freevix_access_end(a, &specs[5], 1, NULL), VIX_OK);
  assert_int_equal(freevix_access_close(a), VIX_OK);
  /* Let the move finish in the inventory before the next test. */
  sleep(1);
}

static int lost_calls;

static void on_lost(void *data, const char *detail)
{
  (void)data;
  (void)detail;
  lost_calls++;
}

/* A session lease holds only while its session lives; when the session is
 * lost the holder is told and nothing is protected again silently. */
static void session_lease_loss_is_reported(void **state)
{
  VixDiskLibConnectParams p;
  freevix_access_options o;
  freevix_access *a;
  int i;

  (void)state;
  fvx_sim_params(&sim, &p, "admin", NULL);
  memset(&o, 0, sizeof o);
  o.identity = "backup-S";
  o.lease = FREEVIX_LEASE_SESSION;
  o.keepAliveMs = 200;
  o.leaseLostFunc = on_lost;
  assert_int_equal(freevix_access_open(&p, &o, &a), VIX_OK);
  assert_int_equal(freevix_access_prepare(a, &specs[6], 2, NULL), VIX_OK);
  assert_int_equal(fvx_sim_count_disabled(&sim, vms[6], NULL, "backup-S"), 1);
  assert_int_equal(fvx_sim_admin(&sim, "POST", "/sessions/expire", "{}", NULL),
                   200);
  for (i = 0; i < 100 && !lost_calls; i++)
    usleep(100 * 1000);
  assert_int_equal(lost_calls, 1);
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, "backup-S"), 0);
  assert_int_equal(freevix_access_prepare(a, &specs[6], 1, NULL),
                   VIX_E_HOST_CONNECTION_LOST);
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, "backup-S"), 0);
  assert_int_equal(freevix_access_close(a), VIX_E_HOST_CONNECTION_LOST);

  /* A healthy lease ends its disables when closed (logout). */
  assert_int_equal(freevix_access_open(&p, &o, &a), VIX_OK);
  assert_int_equal(freevix_access_prepare(a, &specs[6], 1, NULL), VIX_OK);
  assert_int_equal(fvx_sim_count_disabled(&sim, vms[6], NULL, "backup-S"), 1);
  assert_int_equal(freevix_access_close(a), VIX_OK);
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, "backup-S"), 0);
}

struct swept {
  int n;
  char identity[64];
};

static void on_swept(void *data, const char *vm, const char *method,
                     const char *identity, const char *why, VixError result)
{
  struct swept *s = data;

  (void)vm;
  (void)method;
  (void)why;
  assert_int_equal(result, VIX_OK);
  s->n++;
  snprintf(s->identity, sizeof s->identity, "%s", identity);
}

/* A journal grant with a 2 s expiry is swept after it expires and not
 * before; another identity's disable on the same server stays. */
static void journal_grant_expires_then_is_swept(void **state)
{
  freevix_access *a;
  freevix_access *other = open_access("admin-hold", FREEVIX_LEASE_NONE, 0, 1);
  VixDiskLibConnectParams p;
  freevix_access_options o;
  struct swept s = {0, ""};
  freevix_vm_status st[2];
  uint32 n = 99;

  (void)state;
  fvx_sim_params(&sim, &p, "admin", NULL);
  memset(&o, 0, sizeof o);
  o.identity = "backup-J";
  o.lease = FREEVIX_LEASE_JOURNAL;
  o.ttlSec = 2;
  o.stateDir = state_dir;
  assert_int_equal(freevix_access_open(&p, &o, &a), VIX_OK);
  assert_int_equal(freevix_access_prepare(a, &specs[8], 2, NULL), VIX_OK);
  assert_int_equal(freevix_access_prepare(other, &specs[10], 1, NULL),
                   VIX_OK);
  assert_int_equal(freevix_access_status(a, &specs[8], 2, st), VIX_OK);
  assert_string_equal(st[0].holder, "backup-J");
  assert_string_equal(st[0].disabledMethods, "RelocateVM_Task");
  assert_true(st[0].expiresUnix > st[0].sinceUnix);

  assert_int_equal(freevix_sweep(&p, state_dir, 0, on_swept, &s, &n), VIX_OK);
  assert_int_equal(n, 0);
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, "backup-J"), 2);
  sleep(3);
  assert_int_equal(freevix_sweep(&p, state_dir, 1, on_swept, &s, &n), VIX_OK);
  assert_int_equal(n, 2); /* dry run: reported, not done */
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, "backup-J"), 2);
  s.n = 0;
  assert_int_equal(freevix_sweep(&p, state_dir, 0, on_swept, &s, &n), VIX_OK);
  assert_int_equal(n, 2);
  assert_int_equal(s.n, 2);
  assert_string_equal(s.identity, "backup-J");
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, "backup-J"), 0);
  assert_int_equal(fvx_sim_count_disabled(&sim, vms[10], NULL, "admin-hold"),
                   1);
  assert_int_equal(freevix_sweep(&p, state_dir, 0, NULL, NULL, &n), VIX_OK);
  assert_int_equal(n, 0);
  assert_int_equal(freevix_access_end(other, &specs[10], 1, NULL), VIX_OK);
  assert_int_equal(freevix_access_close(a), VIX_OK);
  assert_int_equal(freevix_access_close(other), VIX_OK);
}

static void write_file(const char *path, const char *text, size_t len)
{
  FILE *f = fopen(path, "wb");

  assert_non_null(f);
  assert_int_equal(fwrite(text, 1, len, f), len);
  fclose(f);
}

/* Corrupt and foreign journals are reported and never trusted: no sweep,
 * no new grants, the file left as it was, no crash. */
static void corrupt_journal_is_refused(void **state)
{
  static const struct {
    const char *text;
    size_t len;
  } bad[] = {
    {"", 0},
    {"hello world\n", 12},
    {"freevix-journal 3\n", 18},
    {"freevix-journal 1\ngrant\tx\n", 26},
    {"freevix-journal 1\ngrant\th\t443\tvm-1\tRelocateVM_Task\ts\t0\t0\t1\t0\n",
     62},
    {"freevix-journal 1\ngrant\th\t99999\tvm-1\tM\ts\t1\t0\t1\t0\n", 49},
    {"freevix-journal 1\ngrant\th\t443\tvm-1\tM\ts%zz\t1\t0\t1\t0\n", 50},
    {"freevix-journal 1\ngrant\th\t443\tvm-1\tM\ts\t1\t0\t1\t0", 46},
    {"freevix-journal 1\0\n", 19},
  };
  char dir[4300], path[4400];
  VixDiskLibConnectParams p;
  freevix_access_options o;
  freevix_access *a;

  (void)state;
  snprintf(dir, sizeof dir, "%s/corrupt", state_dir);
  snprintf(path, sizeof path, "%s/journal", dir);
  mkdir(state_dir, 0700);
  mkdir(dir, 0700);
  fvx_sim_params(&sim, &p, "admin", NULL);
  memset(&o, 0, sizeof o);
  o.identity = "backup-C";
  o.lease = FREEVIX_LEASE_JOURNAL;
  o.stateDir = dir;
  assert_int_equal(freevix_access_open(&p, &o, &a), VIX_OK);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    uint32 n = 7;
    size_t len;
    char *after;

    write_file(path, bad[i].text, bad[i].len);
    assert_int_equal(freevix_sweep(&p, dir, 0, NULL, NULL, &n),
                     VIX_E_INCORRECT_FILE_TYPE);
    assert_int_equal(n, 0);
    assert_int_equal(freevix_access_prepare(a, &specs[12], 1, NULL),
                     VIX_E_INCORRECT_FILE_TYPE);
    assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, "backup-C"), 0);
    after = fvx_test_read_file(path, &len);
    assert_non_null(after);
    assert_int_equal(len, bad[i].len);
    assert_memory_equal(after, bad[i].text, len);
    free(after);
  }
  /* A symbolic link in its place is refused too. */
  unlink(path);
  assert_int_equal(symlink("/etc/passwd", path), 0);
  assert_int_equal(freevix_sweep(&p, dir, 0, NULL, NULL, NULL),
                   VIX_E_INCORRECT_FILE_TYPE);
  unlink(path);
  assert_int_equal(freevix_access_close(a), VIX_OK);
}

/* The read-only user is told which privilege is missing, before anything
 * is attempted. */
static void privilege_preflight(void **state)
{
  VixDiskLibConnectParams p;
  freevix_access_options o;
  freevix_access *a = (freevix_access *)&o;

  (void)state;
  fvx_sim_params(&sim, &p, "reader", NULL);
  memset(&o, 0, sizeof o);
  o.identity = "backup-P";
  o.checkPrivileges = 1;
  assert_int_equal(freevix_access_open(&p, &o, &a),
                   VIX_E_HOST_USER_PERMISSIONS);
  assert_null(a);
  o.identity = "";
  assert_int_equal(freevix_access_open(&p, &o, &a), VIX_E_INVALID_ARG);
  o.identity = "x";
  o.methods = 0x80;
  assert_int_equal(freevix_access_open(&p, &o, &a), VIX_E_INVALID_ARG);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(batch_gives_back_and_names_the_vm),
    cmocka_unit_test(unknown_vm_changes_nothing),
    cmocka_unit_test(wait_follows_the_storage_vmotion),
    cmocka_unit_test(session_lease_loss_is_reported),
    cmocka_unit_test(journal_grant_expires_then_is_swept),
    cmocka_unit_test(corrupt_journal_is_refused),
    cmocka_unit_test(privilege_preflight),
  };

  return cmocka_run_group_tests(tests, setup, teardown);
}
