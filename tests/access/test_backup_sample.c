/*
 * test_backup_sample.c -- examples/backup_sample (the VDDK guide's loop)
 * against the simulator: it survives a Storage vMotion that ends after a
 * few seconds, and ends access when it is stopped with SIGTERM mid-backup.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "sim.h"
#include "testutil.h"

static struct fvx_sim sim;
static char vms[2][64];
static char names[2][128];

static int setup(void **state)
{
  (void)state;
  if (!getenv("BACKUP_SAMPLE"))
    fvx_test_skip("BACKUP_SAMPLE (path of examples/backup_sample) not set");
  fvx_sim_start(&sim, NULL);
  assert_true(fvx_sim_vms(&sim, vms, names, 2) >= 1);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  fvx_sim_stop(&sim);
  return 0;
}

/* Starts the sample for vm with its output in 'log'; returns its pid. */
static pid_t start_sample(const char *vm, const char *log, const char *read_s)
{
  char host[128], vmx[128];
  pid_t pid;

  snprintf(host, sizeof host, "%s:%d", sim.host, sim.port);
  fvx_sim_spec(vmx, sizeof vmx, vm);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    freopen(log, "w", stdout);
    setenv("FREEVIX_PASSWORD", "freevix", 1);
    setenv("BACKUP_SAMPLE_RETRY_SECONDS", "1", 1);
    setenv("BACKUP_SAMPLE_READ_SECONDS", read_s, 1);
    execl(getenv("BACKUP_SAMPLE"), "backup_sample", host, "admin", vmx,
          sim.thumbprint_sha1, (char *)NULL);
    _exit(127);
  }
  return pid;
}

static void survives_a_storage_vmotion(void **state)
{
  char body[128], log[4200];
  const char *dir = fvx_test_tmpdir();
  int status;
  char *out;
  pid_t pid;

  (void)state;
  snprintf(log, sizeof log, "%s/sample.log", dir);
  snprintf(body, sizeof body, "{\"vm\":\"%s\",\"seconds\":3}", vms[0]);
  assert_int_equal(fvx_sim_admin(&sim, "POST", "/relocate", body, NULL), 200);
  pid = start_sample(vms[0], log, "0");
  assert_int_equal(waitpid(pid, &status, 0), pid);
  out = fvx_test_read_file(log, NULL);
  printf("%s", out ? out : "");
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
  assert_non_null(strstr(out, "retry 1/10"));
  assert_non_null(strstr(out, "EndAccess: migration of the VM is allowed"));
  assert_int_equal(fvx_sim_count_disabled(&sim, vms[0], NULL, NULL), 0);
  free(out);
  fvx_test_rmtree(dir);
}

static void sigterm_mid_backup_still_ends_access(void **state)
{
  char log[4200];
  const char *dir = fvx_test_tmpdir();
  char *out = NULL;
  int status;
  pid_t pid;

  (void)state;
  snprintf(log, sizeof log, "%s/sample.log", dir);
  pid = start_sample(vms[0], log, "60");
  /* Wait (bounded) until it is reading the disks, then stop it. */
  for (int i = 0; i < 200; i++) {
    free(out);
    out = fvx_test_read_file(log, NULL);
    if (out && strstr(out, "reading the disks"))
      break;
    usleep(100 * 1000);
  }
  assert_non_null(strstr(out, "reading the disks"));
  assert_int_equal(fvx_sim_count_disabled(&sim, vms[0], "RelocateVM_Task",
                                          "backup_sample"), 1);
  kill(pid, SIGTERM);
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 128 + SIGTERM);
  assert_int_equal(fvx_sim_count_disabled(&sim, vms[0], NULL, NULL), 0);
  free(out);
  fvx_test_rmtree(dir);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(survives_a_storage_vmotion),
    cmocka_unit_test(sigterm_mid_backup_still_ends_access),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
