/*
 * test_cli_sim.c -- the freevix command ($FREEVIX_CLI) against freevix-sim:
 * crash safety of both lease kinds (kill -9), `run` ending access however
 * its command ends, bounded waits behind a Storage vMotion, sweeping, and
 * hostile input.  The simulator expires sessions idle for 2 s, so a
 * session lease whose holder was killed ends within seconds.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli.h"
#include "sim.h"
#include "testutil.h"


static struct fvx_sim sim;
static char vms[8][64];
static char spec[8][96];
static char tmp[4096];
static char state_dir[4200];
static pid_t started[16]; /* process groups still running (see teardown) */

/* Starts freevix with the connection options plus 'args' (NULL-ended),
 * stdout and stderr to <tmp>/out, in a process group of its own. */
static pid_t start(const char *const *args)
{
  char out[4300];
  pid_t pid;

  snprintf(out, sizeof out, "%s/out", tmp);
  pid = fvx_cli_start(&sim, args, out);
  for (size_t i = 0; i < sizeof started / sizeof started[0]; i++)
    if (!started[i]) {
      started[i] = pid;
      break;
    }
  return pid;
}

/* Waits for pid; returns its exit status (128+N for a signal). */
static int finish(pid_t pid)
{
  for (size_t i = 0; i < sizeof started / sizeof started[0]; i++)
    if (started[i] == pid)
      started[i] = 0;
  return fvx_cli_finish(pid);
}

/* Runs freevix and returns its status; *out (may be NULL) its output. */
static int run(const char *const *args, char **out)
{
  char path[4300];
  int rc = finish(start(args));

  snprintf(path, sizeof path, "%s/out", tmp);
  if (out)
    *out = fvx_test_read_file(path, NULL);
  return rc;
}

static void wait_for_count(const char *source, int want, int seconds)
{
  for (int i = 0; i < seconds * 10; i++) {
    if (fvx_sim_count_disabled(&sim, NULL, NULL, source) == want)
      return;
    usleep(100 * 1000);
  }
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, source), want);
}

static int setup(void **state)
{
  static const char *const args[] = {"--vms", "8", "--relocate-seconds", "1",
                                     "--session-idle-timeout", "2s", NULL};

  (void)state;
  fvx_cli_path(); /* skips when the command is not there */
  fvx_sim_start(&sim, args);
  assert_int_equal(fvx_sim_vms(&sim, vms, NULL, 8), 8);
  for (size_t i = 0; i < 8; i++)
    fvx_sim_spec(spec[i], sizeof spec[i], vms[i]);
  snprintf(tmp, sizeof tmp, "%s", fvx_test_tmpdir());
  snprintf(state_dir, sizeof state_dir, "%s/state", tmp);
  setenv("FREEVIX_STATE_DIR", state_dir, 1);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  /* A failed assertion leaves what it started running: stop it. */
  for (size_t i = 0; i < sizeof started / sizeof started[0]; i++)
    if (started[i] > 0) {
      kill(-started[i], SIGKILL);
      waitpid(started[i], NULL, 0);
      started[i] = 0;
    }
  fvx_sim_stop(&sim);
  fvx_test_rmtree(tmp);
  return 0;
}

/* `run` ends access when its command fails, when the command is killed by
 * a signal, and when freevix itself gets SIGTERM (forwarded). */
static void run_always_ends_access(void **state)
{
  const char *fails[] = {"run", "--identity", "runner", "--vm", spec[0],
                         "--", "sh", "-c", "exit 7", NULL};
  const char *killed[] = {"run", "--identity", "runner", "--vm", spec[0],
                          "--", "sh", "-c", "kill -KILL $$", NULL};
  const char *waits[] = {"run", "--identity", "runner", "--vm", spec[0],
                         "--", "sleep", "600", NULL};
  char *out = NULL;
  pid_t pid;

  (void)state;
  assert_int_equal(run(fails, &out), 7);
  assert_non_null(strstr(out, "migration allowed again"));
  free(out);
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, NULL), 0);
  assert_int_equal(run(killed, NULL), 128 + SIGKILL);
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, NULL), 0);

  pid = start(waits);
  wait_for_count("runner", 1, 20);
  kill(pid, SIGTERM);
  assert_int_equal(finish(pid), 128 + SIGTERM);
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, NULL), 0);
}

/* kill -9 of `freevix run --lease journal`: sweep re-enables exactly its
 * grants and leaves another identity's disable in place. */
static void killed_journal_holder_is_swept(void **state)
{
  const char *holder[] = {"run", "--lease", "journal", "--identity", "victim",
                          "--vm", spec[1], "--vm", spec[2], "--", "sleep",
                          "600", NULL};
  const char *keeper[] = {"prepare", "--lease", "none", "--identity",
                          "keeper", "--vm", spec[3], NULL};
  const char *live[] = {"prepare", "--identity", "live", "--vm", spec[4],
                        NULL};
  const char *sweep[] = {"sweep", NULL};
  const char *end_keeper[] = {"end", "--lease", "none", "--identity",
                              "keeper", "--vm", spec[3], NULL};
  const char *end_live[] = {"end", "--identity", "live", "--vm", spec[4],
                            NULL};
  char *out = NULL;
  pid_t pid;

  (void)state;
  assert_int_equal(run(keeper, NULL), 0);
  assert_int_equal(run(live, NULL), 0); /* journal grant, 24 h expiry */
  pid = start(holder);
  wait_for_count("victim", 2, 20);
  /* While the owner lives, nothing of it is swept. */
  assert_int_equal(run(sweep, &out), 0);
  assert_non_null(strstr(out, "0 grants swept"));
  free(out);
  assert_int_equal(kill(-pid, SIGKILL), 0); /* freevix and its sleep */
  assert_int_equal(finish(pid), 128 + SIGKILL);
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, "victim"), 2);

  assert_int_equal(run(sweep, &out), 0);
  assert_non_null(strstr(out, "2 grants swept"));
  assert_non_null(strstr(out, "is gone"));
  free(out);
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, "victim"), 0);
  assert_int_equal(fvx_sim_count_disabled(&sim, vms[3], NULL, "keeper"), 1);
  assert_int_equal(fvx_sim_count_disabled(&sim, vms[4], NULL, "live"), 1);
  assert_int_equal(run(end_keeper, NULL), 0);
  assert_int_equal(run(end_live, NULL), 0);
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, NULL), 0);
}

/* `prepare --ttl 2s` (20 s when the command runs under valgrind): swept
 * after it expires and not before. */
static void ttl_grant_is_swept_after_expiry(void **state)
{
  int slow = fvx_cli_slow();
  const char *prep[] = {"prepare", "--identity", "short", "--ttl",
                        slow ? "20s" : "2s", "--vm", spec[5], NULL};
  const char *sweep[] = {"sweep", "--json", NULL};
  char *out = NULL;
  time_t t0;

  (void)state;
  assert_int_equal(run(prep, NULL), 0);
  t0 = time(NULL); /* the grant was made before this */
  assert_int_equal(run(sweep, &out), 0);
  assert_null(strstr(out, "\"vm\""));
  free(out);
  assert_int_equal(fvx_sim_count_disabled(&sim, vms[5], NULL, "short"), 1);
  while (time(NULL) - t0 <= (slow ? 21 : 3))
    sleep(1);
  assert_int_equal(run(sweep, &out), 0);
  assert_non_null(strstr(out, "\"identity\":\"short\""));
  assert_non_null(strstr(out, "\"ok\":true"));
  free(out);
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, "short"), 0);
}

/* kill -9 of a session lease holder: once the simulator expires the idle
 * session (2 s), the VM can be relocated again.  While the holder lives,
 * its keep-alive keeps the session (and the protection) past 2 s. */
static void killed_session_holder_lets_go(void **state)
{
  const char *holder[] = {"run", "--lease", "session", "--keepalive",
                          "500ms", "--identity", "sess", "--vm", spec[6],
                          "--", "sleep", "600", NULL};
  const char *relocate[] = {"relocate", "--vm", spec[6], "--wait", "30s",
                            NULL};
  char *out = NULL;
  pid_t pid;

  (void)state;
  pid = start(holder);
  wait_for_count("sess", 1, 20);
  sleep(3);
  assert_int_equal(fvx_sim_count_disabled(&sim, vms[6], NULL, "sess"), 1);
  assert_int_equal(run(relocate, &out), 3); /* held: refused */
  assert_non_null(strstr(out, "sess"));
  free(out);
  assert_int_equal(kill(-pid, SIGKILL), 0);
  assert_int_equal(finish(pid), 128 + SIGKILL);
  wait_for_count("sess", 0, 15);
  assert_int_equal(run(relocate, NULL), 0);
}

/* A 3 s Storage vMotion (20 s when the command runs under valgrind, whose
 * start-up alone takes seconds): --wait 1s fails naming the holder, a long
 * --wait succeeds right after the move. */
static void wait_for_storage_vmotion(void **state)
{
  int slow = fvx_cli_slow();
  const char *short_wait[] = {"prepare", "--identity", "waiter", "--wait",
                              "1s", "--vm", spec[7], NULL};
  const char *long_wait[] = {"prepare", "--identity", "waiter", "--wait",
                             slow ? "60s" : "10s", "--vm", spec[7], NULL};
  const char *end[] = {"end", "--identity", "waiter", "--vm", spec[7], NULL};
  char body[128], *out = NULL;
  time_t t0;

  (void)state;
  snprintf(body, sizeof body, "{\"vm\":\"%s\",\"seconds\":%d}", vms[7],
           slow ? 20 : 3);
  assert_int_equal(fvx_sim_admin(&sim, "POST", "/relocate", body, NULL), 200);
  t0 = time(NULL);
  assert_int_equal(run(short_wait, &out), 3);
  assert_non_null(strstr(out, "com.vmware.vcenter.svmotion"));
  free(out);
  assert_int_equal(run(long_wait, NULL), 0);
  assert_true(time(NULL) - t0 <= (slow ? 50 : 8));
  assert_int_equal(fvx_sim_count_disabled(&sim, vms[7], NULL, "waiter"), 1);
  assert_int_equal(run(end, NULL), 0);
}

/* Hostile input: a 10,000-entry --vm list (1,000 when the command runs
 * under valgrind), garbage vm-files, XML metacharacters in identities,
 * corrupt journals. */
static void hostile_input(void **state)
{
  static char many_buf[10000][32];
  static const char *many[2 * 10000 + 4];
  const char *xml_id = "<a&b>\"'x]]></s:Envelope>";
  const char *xml_prep[] = {"prepare", "--identity", xml_id, "--vm", spec[0],
                            NULL};
  const char *xml_end[] = {"end", "--identity", xml_id, "--vm", spec[0],
                           NULL};
  char file[4300], journal[4300], *out = NULL;
  const char *from_file[] = {"prepare", "--identity", "f", "--vm-file", file,
                             NULL};
  const char *sweep[] = {"sweep", NULL};
  const char *status[] = {"status", "--vm", spec[0], NULL};
  size_t n = 0;
  FILE *f;

  (void)state;
  many[n++] = "prepare";
  many[n++] = "--identity";
  many[n++] = "many";
  for (int i = 0; i < (fvx_cli_slow() ? 1000 : 10000); i++) {
    snprintf(many_buf[i], sizeof many_buf[i], "moref=vm-%d", 900000 + i);
    many[n++] = "--vm";
    many[n++] = many_buf[i];
  }
  many[n] = NULL;
  assert_int_equal(run(many, &out), 1);
  assert_non_null(strstr(out, "vm-900000"));
  free(out);
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, NULL), 0);

  snprintf(file, sizeof file, "%s/vms.txt", tmp);
  f = fopen(file, "w");
  assert_non_null(f);
  fprintf(f, "# comment\n\n%s\n  \xff\xfe garbage ?? = \n", spec[0]);
  fclose(f);
  assert_int_equal(run(from_file, &out), 2);
  assert_non_null(strstr(out, "garbage"));
  free(out);
  f = fopen(file, "w");
  fprintf(f, "%s\nline with a \x01 control\n", spec[0]);
  fclose(f);
  assert_int_equal(run(from_file, &out), 2);
  assert_non_null(strstr(out, ":2: control character"));
  free(out);
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, NULL), 0);

  /* FREEVIX_CONFIG: the library's configuration file; a bad value stops
   * the command before anything is sent, naming the key; a good one is
   * used. */
  snprintf(file, sizeof file, "%s/freevix.conf", tmp);
  f = fopen(file, "w");
  assert_non_null(f);
  fprintf(f, "freevix.httpsReadAhead = \"65\"\n");
  fclose(f);
  setenv("FREEVIX_CONFIG", file, 1);
  assert_int_equal(run(xml_prep, &out), 1);
  assert_non_null(strstr(out, "freevix.httpsReadAhead"));
  free(out);
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, NULL), 0);
  f = fopen(file, "w");
  assert_non_null(f);
  fprintf(f, "freevix.reasonId = \"from the config file\"\n");
  fclose(f);
  assert_int_equal(run(xml_prep, NULL), 0);
  assert_int_equal(fvx_sim_admin(&sim, "GET", "/disabled", NULL, &out), 200);
  assert_non_null(strstr(out, "\"reason\":\"from the config file\""));
  free(out);
  assert_int_equal(run(xml_end, NULL), 0);
  unsetenv("FREEVIX_CONFIG");

  assert_int_equal(run(xml_prep, NULL), 0);
  assert_int_equal(fvx_sim_count_disabled(&sim, vms[0], NULL, xml_id), 1);
  assert_int_equal(run(status, &out), 0);
  assert_non_null(strstr(out, xml_id));
  free(out);
  assert_int_equal(run(xml_end, NULL), 0);
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, NULL), 0);

  snprintf(journal, sizeof journal, "%s/journal", state_dir);
  f = fopen(journal, "w");
  assert_non_null(f);
  fprintf(f, "{\"not\": \"a journal\"}\n");
  fclose(f);
  assert_int_equal(run(sweep, &out), 1);
  assert_non_null(strstr(out, "not a freevix journal"));
  assert_non_null(strstr(out, "mv "));
  free(out);
  assert_int_equal(run(status, &out), 0); /* still works, holder unknown */
  assert_non_null(strstr(out, "not usable"));
  free(out);
  unlink(journal);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(run_always_ends_access),
    cmocka_unit_test(killed_journal_holder_is_swept),
    cmocka_unit_test(ttl_grant_is_swept_after_expiry),
    cmocka_unit_test(killed_session_holder_lets_go),
    cmocka_unit_test(wait_for_storage_vmotion),
    cmocka_unit_test(hostile_input),
  };

  return cmocka_run_group_tests(tests, setup, teardown);
}
