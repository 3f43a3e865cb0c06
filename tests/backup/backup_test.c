/*
 * backup_test.c -- see backup_test.h.  The simulator's JSON is scanned
 * with plain string searches: its shapes are fixed (sim/README.md, admin
 * endpoint) and the keys looked for do not occur inside its strings.
 */
#include "backup_test.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "../support/cli.h" /* (cli/cli.h is the command's) */
#include "testutil.h"
#include "vim/internal.h"

void bt_params(const struct fvx_sim *sim, const char *spec,
               VixDiskLibConnectParams *p)
{
  memset(p, 0, sizeof *p);
  p->serverName = (char *)sim->host;
  p->port = (uint32)sim->port;
  p->thumbPrint = (char *)sim->thumbprint_sha1;
  p->credType = VIXDISKLIB_CRED_UID;
  p->creds.uid.userName = (char *)"admin";
  p->creds.uid.password = (char *)"freevix";
  p->vmxSpec = (char *)spec;
}

void bt_quiet(const char *fmt, va_list ap)
{
  (void)fmt;
  (void)ap;
}

/* The part of GET /vms describing vm: [*start, *end). */
static char *vm_object(const struct fvx_sim *sim, const char *vm,
                       const char **start, const char **end)
{
  char *body = NULL, key[96];
  const char *next;

  assert_int_equal(fvx_sim_admin(sim, "GET", "/vms", NULL, &body), 200);
  snprintf(key, sizeof key, "{\"moref\":\"%s\"", vm);
  *start = strstr(body, key);
  if (!*start)
    fail_msg("the simulator lists no VM %s", vm);
  next = strstr(*start + 1, "{\"moref\":\"vm-");
  *end = next ? next : *start + strlen(*start);
  return body;
}

int bt_snapshots(const struct fvx_sim *sim, const char *vm, char refs[][64],
                 int max)
{
  const char *start, *end, *p;
  char *body = vm_object(sim, vm, &start, &end);
  int n = 0;

  p = strstr(start, "\"snapshots\":[");
  assert_true(p && p < end);
  while ((p = strstr(p, "{\"moref\":\"snapshot-")) && p < end) {
    p += strlen("{\"moref\":\"");
    if (refs && n < max)
      snprintf(refs[n], 64, "%.*s", (int)strcspn(p, "\""), p);
    n++;
  }
  free(body);
  return n;
}

void bt_change_id(const struct fvx_sim *sim, const char *vm, int key,
                  char *out, size_t n)
{
  const char *start, *end, *p;
  char *body = vm_object(sim, vm, &start, &end), k[32];

  snprintf(k, sizeof k, "{\"key\":%d,", key);
  p = strstr(start, k);
  assert_true(p && p < end);
  p = strstr(p, "\"change_id\":\"");
  assert_non_null(p);
  p += strlen("\"change_id\":\"");
  snprintf(out, n, "%.*s", (int)strcspn(p, "\""), p);
  free(body);
}

void bt_disk_sha256(const struct fvx_sim *sim, const char *vm, int key,
                    const char *snapshot, char out[65])
{
  char path[256], *body = NULL;

  snprintf(path, sizeof path, "/disk/sha256?vm=%s&disk=%d&snapshot=%s", vm,
           key, snapshot ? snapshot : "");
  assert_int_equal(fvx_sim_admin(sim, "GET", path, NULL, &body), 200);
  assert_int_equal(fvx_sim_json_get(body, "sha256", out, 65), 0);
  assert_int_equal(strlen(out), 64);
  free(body);
}

void bt_guest_write(const struct fvx_sim *sim, const char *vm, int key,
                    uint64_t offset, uint64_t length, uint64_t seed)
{
  char json[256];

  snprintf(json, sizeof json, "{\"vm\":\"%s\",\"disk\":%d,\"offset\":%" PRIu64
           ",\"length\":%" PRIu64 ",\"seed\":%" PRIu64 "}", vm, key, offset,
           length, seed);
  assert_int_equal(fvx_sim_admin(sim, "POST", "/guest/write", json, NULL),
                   200);
}

void bt_cbt_reset(const struct fvx_sim *sim, const char *vm)
{
  char json[128];

  snprintf(json, sizeof json, "{\"vm\":\"%s\"}", vm);
  assert_int_equal(fvx_sim_admin(sim, "POST", "/cbt/reset", json, NULL), 200);
}

long long bt_stat(const struct fvx_sim *sim, const char *section,
                  const char *key)
{
  char *body = NULL, k[96];
  const char *p;
  long long v = -1;

  assert_int_equal(fvx_sim_admin(sim, "GET", "/stats", NULL, &body), 200);
  p = body;
  if (section) {
    snprintf(k, sizeof k, "\"%s\":{", section);
    p = strstr(body, k);
  }
  snprintf(k, sizeof k, "\"%s\":", key);
  if (p)
    p = strstr(p, k);
  if (p)
    v = strtoll(p + strlen(k), NULL, 10);
  free(body);
  return v;
}

/* ---- running the freevix command ---------------------------------------- */

int bt_slow(void)
{
  return fvx_cli_slow() || fvx_test_under_valgrind();
}

/* argv: the wrapper's words and the command (fvx_cli_prefix), args[0],
 * the connection options, args[1..].  The strings live until the next
 * call. */
static const char **command_line(const struct bt_cli *c,
                                 const char *const *args)
{
  static char port[16];
  static const char *argv[512];
  size_t n = fvx_cli_prefix(argv, 64);

  argv[n++] = args[0];
  if (c->sim) {
    snprintf(port, sizeof port, "%d", c->sim->port);
    argv[n++] = "--server";
    argv[n++] = c->sim->host;
    argv[n++] = "--port";
    argv[n++] = port;
    argv[n++] = "--thumbprint";
    argv[n++] = c->sim->thumbprint_sha1;
    argv[n++] = "--user";
    argv[n++] = "admin";
  }
  for (size_t i = 1; args[i] && n < 510; i++)
    argv[n++] = args[i];
  argv[n] = NULL;
  return argv;
}

/* Reads one line from fd (at most n - 1 bytes); false at end of file. */
static bool read_line(int fd, char *line, size_t n)
{
  size_t k = 0;

  while (k + 1 < n) {
    struct pollfd p = {fd, POLLIN, 0};
    ssize_t r;
    int ready = poll(&p, 1, bt_slow() ? 600000 : 180000);

    if (ready < 0 && errno == EINTR)
      continue;
    if (ready == 0)
      fail_msg("the freevix command said nothing for minutes");
    r = read(fd, &line[k], 1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return false;
    if (line[k] == '\n')
      break;
    k++;
  }
  line[k] = '\0';
  return true;
}

int bt_run(const struct bt_cli *c, const char *const *args, char **out)
{
  const char **argv = command_line(c, args);
  int steps[2], go[2], status, rc;
  char env[64], line[256];
  pid_t pid;

  assert_int_equal(pipe(steps), 0);
  assert_int_equal(pipe(go), 0);
  fflush(NULL);
  pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    int fd = open(c->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    setpgid(0, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    close(steps[0]);
    close(go[1]);
    snprintf(env, sizeof env, "%d,%d", steps[1], go[0]);
    if (c->on_step)
      setenv("FREEVIX_BACKUP_STEP_FD", env, 1);
    setenv("FREEVIX_PASSWORD", "freevix", 1);
    if (c->state_dir)
      setenv("FREEVIX_STATE_DIR", c->state_dir, 1);
    if (c->fsize_limit) {
      struct rlimit rl = {c->fsize_limit, c->fsize_limit};

      signal(SIGXFSZ, SIG_IGN);
      setrlimit(RLIMIT_FSIZE, &rl);
    }
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  close(steps[1]);
  close(go[0]);
  while (read_line(steps[0], line, sizeof line)) {
    char *sp = strchr(line, ' ');
    enum bt_step_action a = BT_GO;

    if (sp)
      *sp++ = '\0';
    if (c->on_step)
      a = c->on_step(c->data, line, sp ? sp : "");
    if (a == BT_KILL) {
      kill(pid, SIGKILL);
      break;
    }
    if (write(go[1], "go\n", 3) != 3)
      break;
  }
  close(steps[0]);
  close(go[1]);
  while (waitpid(pid, &status, 0) < 0)
    assert_int_equal(errno, EINTR);
  if (out)
    *out = fvx_test_read_file(c->out_path, NULL);
  if ((WIFEXITED(status) && WEXITSTATUS(status) == FVX_CLI_CHECKER_EXIT)) {
    char *text = fvx_test_read_file(c->out_path, NULL);

    print_error("%s\n", text ? text : "");
    free(text);
  }
  rc = fvx_cli_exit_status(status); /* fails the test on a checker finding */
  return rc;
}

struct vim_session *bt_operator(const struct fvx_sim *sim)
{
  struct vim_options opts;
  struct vim_session *s = NULL;
  struct vim_error err;

  memset(&opts, 0, sizeof opts);
  opts.host = sim->host;
  opts.port = (unsigned)sim->port;
  opts.thumbprint = sim->thumbprint_sha1;
  if (vim_session_new(&s, &opts, &err) != VIM_OK ||
      vim_login(s, "admin", "freevix", &err) != VIM_OK)
    fail_msg("operator login: %s", err.detail);
  return s;
}

void bt_power(const struct fvx_sim *sim, const char *vm, int on)
{
  struct vim_session *s = bt_operator(sim);
  struct vim_moref ref, task;
  struct vim_error err;

  vim_moref_set(&ref, "VirtualMachine", vm);
  if (vim_power(s, &ref, on != 0, &task, &err) != VIM_OK ||
      vim_task_wait(s, &task, 60000, NULL, NULL, NULL, &err) != VIM_OK)
    fail_msg("power %s %s: %s", on ? "on" : "off", vm, err.detail);
  vim_session_free(s);
}

void bt_flip_data_byte(const char *vmdk)
{
  struct stat st;
  unsigned char b = 0;
  int fd = open(vmdk, O_RDWR | O_CLOEXEC);

  /* The last grain of a backup's VMDK is data (grains are appended). */
  if (fd < 0 || fstat(fd, &st) != 0 || st.st_size < 1000 ||
      pread(fd, &b, 1, st.st_size - 1000) != 1)
    fail_msg("%s: cannot read it", vmdk);
  b ^= 0x40;
  if (pwrite(fd, &b, 1, st.st_size - 1000) != 1)
    fail_msg("%s: cannot write it", vmdk);
  close(fd);
}

enum bt_step_action bt_kill_at(void *killer, const char *vm,
                               const char *step)
{
  struct bt_killer *k = killer;

  if (k->vm)
    assert_string_equal(vm, k->vm);
  if (strcmp(step, k->at) != 0)
    return BT_GO;
  k->killed = true;
  return BT_KILL;
}
