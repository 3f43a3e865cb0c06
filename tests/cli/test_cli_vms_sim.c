/*
 * test_cli_vms_sim.c -- the freevix command as operators type it, against
 * freevix-sim: VMs given by bare moref, name, inventory path or vmxSpec
 * (on the command line and in --vm-file), ambiguous names refused with
 * their candidates, unknown VMs an error of status, identities over the
 * limit named with their length, and `status` without --vm listing every
 * VM that has a disabled method.
 *
 * Two VMs get the same name in different folders through the SOAP API
 * (CreateFolder, MoveIntoFolder_Task, Rename_Task), as an administrator
 * would make them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli.h"
#include "sim.h"
#include "testutil.h"
#include "vim/internal.h"

#define N_VMS 4

static struct fvx_sim sim;
static char vms[N_VMS][64], names[N_VMS][128];
static char tmp[4096];

/* Runs freevix CMD with the connection options and args (NULL-ended);
 * returns its exit status, *out (may be NULL) its stdout and stderr. */
static int run(const char *const *args, char **out)
{
  char path[4200];
  int rc;

  snprintf(path, sizeof path, "%s/out", tmp);
  rc = fvx_cli_finish(fvx_cli_start(&sim, args, path));
  if (out)
    *out = fvx_test_read_file(path, NULL);
  return rc;
}

/* ---- inventory edits, straight through the SOAP client ---------------- */

static struct vim_session *admin_session(void)
{
  struct vim_options o;
  struct vim_session *s = NULL;
  struct vim_error e;

  memset(&o, 0, sizeof o);
  o.host = sim.host;
  o.port = (unsigned)sim.port;
  o.thumbprint = sim.thumbprint_sha1;
  assert_int_equal(vim_session_new(&s, &o, &e), VIM_OK);
  if (vim_login(s, sim.user, "freevix", &e) != VIM_OK)
    fail_msg("login: %s", e.detail);
  return s;
}

/* Calls method on this_ with the argument XML; the moref in the answer's
 * returnval goes to *out (may be NULL). */
static void call(struct vim_session *s, const char *method,
                 const struct vim_moref *this_, const char *args,
                 struct vim_moref *out)
{
  struct vim_soap a;
  struct vim_reply r;
  struct vim_error e;

  const struct vim_req rq = {.method = method, .cls = VIM_CALL_ONCE,
                             .obj = this_};

  vim_soap_init(&a);
  vim_soap_raw(&a, args);
  if (vim_request(s, &rq, &a, &r, &e) != VIM_OK)
    fail_msg("%s: %s", method, e.detail);
  if (out)
    assert_true(vim_xml_moref(vim_xml_child(r.result, "returnval"), out));
  vim_reply_free(&r);
}

static void wait_task(struct vim_session *s, const struct vim_moref *task)
{
  struct vim_error e;

  if (vim_task_wait(s, task, 30000, NULL, NULL, NULL, &e) != VIM_OK)
    fail_msg("task %s: %s", task->value, e.detail);
}

/* Moves VM 1 into a new folder /DC0/vm/dup and gives it VM 0's name. */
static void make_duplicate_name(void)
{
  struct vim_session *s = admin_session();
  struct vim_moref vm_folder, dup, vm, task;
  struct vim_error e;
  char args[512];

  assert_int_equal(vim_find_by_inventory_path(s, "DC0/vm", &vm_folder, &e),
                   VIM_OK);
  call(s, "CreateFolder", &vm_folder, "<name>dup</name>", &dup);
  vim_moref_set(&vm, "VirtualMachine", vms[1]);
  snprintf(args, sizeof args, "<list type=\"VirtualMachine\">%s</list>",
           vms[1]);
  call(s, "MoveIntoFolder_Task", &dup, args, &task);
  wait_task(s, &task);
  snprintf(args, sizeof args, "<newName>%s</newName>", names[0]);
  call(s, "Rename_Task", &vm, args, &task);
  wait_task(s, &task);
  vim_session_free(s);
}

static int setup(void **state)
{
  (void)state;
  fvx_cli_path(); /* skips when the command is not there */
  fvx_sim_start(&sim, NULL);
  assert_int_equal(fvx_sim_vms(&sim, vms, names, N_VMS), N_VMS);
  snprintf(tmp, sizeof tmp, "%s", fvx_test_tmpdir());
  setenv("FREEVIX_STATE_DIR", tmp, 1);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  fvx_sim_stop(&sim);
  fvx_test_rmtree(tmp);
  return 0;
}

/* A VM that does not exist: status says so and exits 1, by moref, by bare
 * moref and by name; JSON says "found":false. */
static void status_of_unknown_vm_fails(void **state)
{
  const char *by_moref[] = {"status", "--vm", "moref=vm-404", NULL};
  const char *json[] = {"status", "--json", "--vm", "moref=vm-404", NULL};
  const char *bare[] = {"status", "--vm", "vm-404", NULL};
  const char *name[] = {"status", "--json", "--vm", "no-such-vm", NULL};
  char *out = NULL;

  (void)state;
  assert_int_equal(run(by_moref, &out), 1);
  assert_non_null(strstr(out, "cannot be found"));
  free(out);
  assert_int_equal(run(json, &out), 1);
  assert_non_null(strstr(out, "\"found\":false"));
  free(out);
  assert_int_equal(run(bare, NULL), 1);
  assert_int_equal(run(name, &out), 1);
  assert_non_null(strstr(out, "\"vm\":\"no-such-vm\",\"ok\":false,"
                              "\"found\":false"));
  free(out);
}

/* An identity over the limit is reported as such, with its length, before
 * anything is asked of vCenter. */
static void long_identity_is_named(void **state)
{
  char id[64], spec[96];
  const char *prep[] = {"prepare", "--identity", id, "--vm", spec, NULL};
  char *out = NULL;

  (void)state;
  memset(id, 'x', 63);
  id[63] = '\0';
  fvx_sim_spec(spec, sizeof spec, vms[0]);
  fvx_sim_admin(&sim, "POST", "/stats/reset", "{}", NULL);
  assert_int_equal(run(prep, &out), 2);
  assert_non_null(strstr(out, "--identity"));
  assert_non_null(strstr(out, "63 characters long; the limit is 50"));
  assert_null(strstr(out, "connecting"));
  free(out);
  assert_int_equal(fvx_sim_stat(&sim, "requests"), 0);
}

/* Every form operators type, on the command line and in --vm-file. */
static void every_form_of_vm_works(void **state)
{
  char moref[96], path[256], vmx[512], file[4200];
  const char *prep[] = {"prepare", "--identity", "forms", "--vm", vms[0],
                        "--vm", names[1], "--vm", path, "--vm", moref, NULL};
  const char *end[] = {"end", "--identity", "forms", "--vm-file", file, NULL};
  char *out = NULL;
  FILE *f;

  (void)state;
  snprintf(path, sizeof path, "/DC0/vm/%s", names[2]);
  fvx_sim_spec(moref, sizeof moref, vms[3]);
  assert_int_equal(run(prep, &out), 0);
  free(out);
  for (int i = 0; i < N_VMS; i++)
    assert_int_equal(fvx_sim_count_disabled(&sim, vms[i], "RelocateVM_Task",
                                            "forms"), 1);
  /* The datastore-path vmxSpec of VM 0, VM 1 by name, 2 by path, 3 bare. */
  snprintf(vmx, sizeof vmx, "%s/%s.vmx?dcPath=DC0&dsName=LocalDS_0",
           names[0], names[0]);
  snprintf(file, sizeof file, "%s/vms.txt", tmp);
  f = fopen(file, "w");
  assert_non_null(f);
  fprintf(f, "# all four\n%s\n  %s  \n%s/\n%s\n", vmx, names[1], path,
          vms[3]);
  fclose(f);
  assert_int_equal(run(end, &out), 0);
  free(out);
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, NULL), 0);
}

/* Two VMs share a name: the name is refused (exit 2) listing both with
 * moref and path, nothing changes, and each path still works. */
static void ambiguous_name_lists_candidates(void **state)
{
  char dup_path[256], first_path[256];
  const char *by_name[] = {"prepare", "--identity", "dup", "--vm", names[0],
                           NULL};
  const char *json[] = {"status", "--json", "--vm", names[0], NULL};
  const char *by_path[] = {"prepare", "--identity", "dup", "--vm", dup_path,
                           "--vm", first_path, NULL};
  const char *end[] = {"end", "--identity", "dup", "--vm", vms[0], "--vm",
                       vms[1], NULL};
  char *out = NULL, want[512];

  (void)state;
  make_duplicate_name();
  snprintf(first_path, sizeof first_path, "/DC0/vm/%s", names[0]);
  snprintf(dup_path, sizeof dup_path, "/DC0/vm/dup/%s", names[0]);
  assert_int_equal(run(by_name, &out), 2);
  assert_non_null(strstr(out, "names 2 VMs"));
  snprintf(want, sizeof want, "%s %s", vms[0], first_path);
  assert_non_null(strstr(out, want));
  snprintf(want, sizeof want, "%s %s", vms[1], dup_path);
  assert_non_null(strstr(out, want));
  free(out);
  assert_int_equal(fvx_sim_count_disabled(&sim, NULL, NULL, NULL), 0);

  assert_int_equal(run(json, &out), 2);
  snprintf(want, sizeof want, "{\"moref\":\"%s\",\"path\":\"%s\"}", vms[1],
           dup_path);
  assert_non_null(strstr(out, want));
  assert_non_null(strstr(out, "\"num_candidates\":2"));
  free(out);

  assert_int_equal(run(by_path, NULL), 0);
  assert_int_equal(fvx_sim_count_disabled(&sim, vms[0], NULL, "dup"), 1);
  assert_int_equal(fvx_sim_count_disabled(&sim, vms[1], NULL, "dup"), 1);
  assert_int_equal(run(end, NULL), 0);
}

/* status without --vm: every VM with a disabled method and its holder, in
 * text and JSON; the others are not listed. */
static void status_lists_every_held_vm(void **state)
{
  char spec2[96], spec3[96];
  const char *prep[] = {"prepare", "--identity", "lister", "--vm", spec2,
                        "--vm", spec3, NULL};
  const char *all[] = {"status", NULL};
  const char *json[] = {"status", "--json", NULL};
  const char *end[] = {"end", "--identity", "lister", "--vm", spec2, "--vm",
                       spec3, NULL};
  char *out = NULL, want[512];

  (void)state;
  fvx_sim_spec(spec2, sizeof spec2, vms[2]);
  fvx_sim_spec(spec3, sizeof spec3, vms[3]);
  assert_int_equal(run(all, &out), 0);
  assert_non_null(strstr(out, "0 VMs with disabled methods"));
  free(out);
  assert_int_equal(run(prep, NULL), 0);
  assert_int_equal(run(all, &out), 0);
  assert_non_null(strstr(out, "2 VMs with disabled methods"));
  snprintf(want, sizeof want, "%s (%s, %s): disabled RelocateVM_Task; held "
           "by 'lister'", vms[2], vms[2], names[2]);
  assert_non_null(strstr(out, want));
  assert_null(strstr(out, vms[0]));
  free(out);
  assert_int_equal(run(json, &out), 0);
  snprintf(want, sizeof want, "\"moref\":\"%s\",\"name\":\"%s\",\"found\":"
           "true,\"disabled\":\"RelocateVM_Task\",\"holder\":\"lister\"",
           vms[3], names[3]);
  assert_non_null(strstr(out, want));
  free(out);
  assert_int_equal(run(end, NULL), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(status_of_unknown_vm_fails),
    cmocka_unit_test(long_identity_is_named),
    cmocka_unit_test(every_form_of_vm_works),
    cmocka_unit_test(status_lists_every_held_vm),
    cmocka_unit_test(ambiguous_name_lists_candidates),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
