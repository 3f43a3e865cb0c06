/*
 * test_batch_sim.c -- large batches against freevix-sim: 1,000 VMs with one
 * held by another source (nothing left disabled, the VM named), the round
 * trips a 1,000-VM prepare + end costs, and the alternative same-source
 * assumption (the simulator's --same-source-disable fault).  Heavy: not
 * run under valgrind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "freevix.h"
#include "sim.h"
#include "testutil.h"
#include "vixDiskLib.h"

#define MAX_VMS 1000

static struct fvx_sim sim;
static char vms[MAX_VMS][64];
static char specs_buf[MAX_VMS][96];
static const char *specs[MAX_VMS];
static freevix_vm_result res[MAX_VMS];

static void quiet(const char *fmt, va_list ap)
{
  (void)fmt;
  (void)ap;
}

static freevix_access *open_access(const char *identity, uint32 batch)
{
  VixDiskLibConnectParams p;
  freevix_access_options o;
  freevix_access *a = NULL;

  fvx_sim_params(&sim, &p, NULL, NULL);
  memset(&o, 0, sizeof o);
  o.identity = identity;
  o.batchSize = batch;
  assert_int_equal(freevix_access_open(&p, &o, &a), VIX_OK);
  return a;
}

static void start(const char *n, const char *same_source)
{
  const char *args[] = {"--vms", n, "--same-source-disable", same_source,
                        NULL};
  int count = atoi(n);

  fvx_sim_start(&sim, args);
  assert_int_equal(fvx_sim_vms(&sim, vms, NULL, MAX_VMS), count);
  for (int i = 0; i < count; i++) {
    fvx_sim_spec(specs_buf[i], sizeof specs_buf[i], vms[i]);
    specs[i] = specs_buf[i];
  }
  assert_int_equal(VixDiskLib_InitEx(8, 0, quiet, quiet, NULL, NULL, NULL),
                   VIX_OK);
}

static int stop(void **state)
{
  (void)state;
  VixDiskLib_Exit();
  fvx_sim_stop(&sim);
  return 0;
}

static int setup_1000(void **state)
{
  (void)state;
  start("1000", "ok");
  return 0;
}

static int setup_fault(void **state)
{
  (void)state;
  start("24", "fault");
  return 0;
}

static void thousand_vms_one_held(void **state)
{
  VixDiskLibConnectParams p;
  freevix_access *a = open_access("backup-K", 200);
  long before, after;

  (void)state;
  fvx_sim_params(&sim, &p, NULL, specs[600]);
  assert_int_equal(VixDiskLib_PrepareForAccess(&p, "other"), VIX_OK);
  assert_int_equal(freevix_access_prepare(a, specs, MAX_VMS, res),
                   VMODL_TYPE_VIM_FAULT_METHOD_ALREADY_DISABLED_FAULT);
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, "backup-K"), 0);
  assert_int_equal(fvx_sim_count_disabled(&sim, vms[600], NULL, "other"), 1);
  assert_string_equal(res[600].moref, vms[600]);
  assert_string_equal(res[600].holder, "other");
  for (int i = 0; i < MAX_VMS; i++)
    if (i != 600)
      assert_int_equal(res[i].error, VIX_E_CANCELLED);
  assert_int_equal(VixDiskLib_EndAccess(&p, "other"), VIX_OK);

  /* All 1,000 in 5 batches: 2 round trips per batch each way at most. */
  before = fvx_sim_stat(&sim, "requests");
  assert_int_equal(freevix_access_prepare(a, specs, MAX_VMS, res), VIX_OK);
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, "backup-K"),
                   MAX_VMS);
  assert_int_equal(freevix_access_end(a, specs, MAX_VMS, res), VIX_OK);
  after = fvx_sim_stat(&sim, "requests");
  assert_true(after - before <= 5 * 2 + 5 + 2);
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, NULL), 0);
  assert_int_equal(freevix_access_close(a), VIX_OK);
}

/* Under the alternative assumption (re-disabling by the same source
 * faults, naming itself), a batch holding a VM the identity already had
 * still succeeds, and a VM held by someone else is still found. */
static void same_source_fault_assumption(void **state)
{
  VixDiskLibConnectParams p;
  freevix_access *a = open_access("backup-F", 5);

  (void)state;
  assert_int_equal(freevix_access_prepare(a, &specs[3], 1, NULL), VIX_OK);
  assert_int_equal(freevix_access_prepare(a, specs, 24, res), VIX_OK);
  assert_true(res[3].alreadyHeld);
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, "backup-F"), 24);
  assert_int_equal(freevix_access_end(a, specs, 24, NULL), VIX_OK);

  fvx_sim_params(&sim, &p, NULL, specs[10]);
  assert_int_equal(VixDiskLib_PrepareForAccess(&p, "other"), VIX_OK);
  assert_int_equal(freevix_access_prepare(a, &specs[3], 1, NULL), VIX_OK);
  assert_int_equal(freevix_access_prepare(a, specs, 24, res),
                   VMODL_TYPE_VIM_FAULT_METHOD_ALREADY_DISABLED_FAULT);
  assert_string_equal(res[10].holder, "other");
  /* Only the VM held before the call is left. */
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, "backup-F"), 1);
  assert_int_equal(fvx_sim_count_disabled(&sim, vms[3], NULL, "backup-F"), 1);
  assert_int_equal(VixDiskLib_EndAccess(&p, "other"), VIX_OK);
  assert_int_equal(freevix_access_end(a, &specs[3], 1, NULL), VIX_OK);
  assert_int_equal(freevix_access_close(a), VIX_OK);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(thousand_vms_one_held, setup_1000, stop),
    cmocka_unit_test_setup_teardown(same_source_fault_assumption, setup_fault,
                                    stop),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
