/*
 * test_backup_cli_sim.c -- `freevix backup`, `verify`, `restore` and
 * `list` against freevix-sim, checked through its admin endpoint: a
 * running VM whose guest writes while it is backed up, three incrementals
 * reading only what changed, a CBT reset, kill -9 at each step followed by
 * `freevix sweep`, hostile directories, a full local disk, a VM without
 * disks, a VM without CBT, a flipped byte, several VMs at once, and
 * `freevix prune` keeping the newest chains.
 *
 * The command runs as a child (under valgrind in the .valgrind twin when
 * FREEVIX_CLI_WRAPPER says so); its steps come through the test hook
 * (cli/backup.h), which is how a guest write lands between the snapshot
 * and the reads, and how a kill lands exactly at a step.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "backup_test.h"
#include "freevix.h"
#include "manifest.h"
#include "sim.h"
#include "testutil.h"
#include "vim/internal.h" /* a ReconfigVM_Task the library has no call for */

#define N_VMS 9
#define MIB (1024ull * 1024)
#define DISK_SIZE (8 * MIB)
#define CBT_BLOCK (64 * 1024ull)
#define IDENTITY "freevix-backup"

/* snprintf into an array, failing the test when it does not fit. */
#define FMT(buf, ...) \
  assert_true(snprintf(buf, sizeof buf, __VA_ARGS__) < (int)sizeof buf)

static struct fvx_sim sim;
static char vms[N_VMS][64], names[N_VMS][128], specs[N_VMS][96];
static char tmp[4096], state_dir[4200], repo[4200], out_path[4200];

static struct bt_cli cli_of(bt_step_fn *fn, void *data)
{
  struct bt_cli c;

  memset(&c, 0, sizeof c);
  c.sim = &sim;
  c.state_dir = state_dir;
  c.out_path = out_path;
  c.on_step = fn;
  c.data = data;
  return c;
}

/* `freevix backup --vm SPEC --to repo EXTRA...`; returns the status. */
static int backup(int vm, const char *const *extra, bt_step_fn *fn,
                  void *data, char **out)
{
  const char *args[32] = {"backup", "--vm", specs[vm], "--to", repo};
  struct bt_cli c = cli_of(fn, data);
  size_t n = 5;

  for (size_t i = 0; extra && extra[i] && n < 30; i++)
    args[n++] = extra[i];
  args[n] = NULL;
  return bt_run(&c, args, out);
}

/* A command that takes no connection options (list, restore). */
static int local_cmd(const char *const *args, char **out)
{
  struct bt_cli c = cli_of(NULL, NULL);

  c.sim = NULL;
  return bt_run(&c, args, out);
}

static void vm_dir(int vm, char *out, size_t n)
{
  assert_true(snprintf(out, n, "%s/%s", repo, names[vm]) < (int)n);
}

static void load_point(int vm, unsigned point, struct manifest *m)
{
  char path[4400], why[512];

  FMT(path, "%s/%s/point-%04u.json", repo, names[vm],
           point);
  if (!manifest_read(path, m, why, sizeof why))
    fail_msg("%s: %s", path, why);
}

static void file_sha256(const char *path, char out[65])
{
  static const char hex[] = "0123456789abcdef";
  unsigned char buf[65536], md[32];
  unsigned int len = 0;
  EVP_MD_CTX *c = EVP_MD_CTX_new();
  FILE *f = fopen(path, "rb");
  size_t n;

  assert_non_null(f);
  assert_non_null(c);
  EVP_DigestInit_ex(c, EVP_sha256(), NULL);
  while ((n = fread(buf, 1, sizeof buf, f)) > 0)
    EVP_DigestUpdate(c, buf, n);
  EVP_DigestFinal_ex(c, md, &len);
  EVP_MD_CTX_free(c);
  fclose(f);
  for (int i = 0; i < 32; i++) {
    out[2 * i] = hex[md[i] >> 4];
    out[2 * i + 1] = hex[md[i] & 15];
  }
  out[64] = '\0';
}

/* Restores point of vm as a raw image and returns its SHA-256. */
static void restore_raw(int vm, unsigned point, char out[65])
{
  char dir[4300], file[4400], pt[16];
  const char *args[] = {"restore", dir, "--point", pt, "--to", file,
                        "--format", "raw", NULL};

  vm_dir(vm, dir, sizeof dir);
  FMT(pt, "%u", point);
  FMT(file, "%s/restore-%d-%u.img", tmp, vm, point);
  unlink(file);
  assert_int_equal(local_cmd(args, NULL), 0);
  file_sha256(file, out);
  unlink(file);
}

static long long server_bytes(void)
{
  return bt_stat(&sim, NULL, "folder_bytes") +
         bt_stat(&sim, "nfc", "bytes_read");
}

static void assert_clean(int vm)
{
  assert_int_equal(bt_snapshots(&sim, vms[vm], NULL, 0), 0);
  assert_int_equal(fvx_sim_count_disabled(&sim, vms[vm], NULL, NULL), 0);
}

static bool contains(const char *text, const char *what)
{
  if (text && strstr(text, what))
    return true;
  print_error("expected \"%s\" in:\n%s\n", what, text ? text : "(nothing)");
  return false;
}

static int setup(void **state)
{
  static const char *const args[] = {"--vms", "9", "--disk-size", "8MiB",
                                     NULL};

  (void)state;
  fvx_sim_start(&sim, args);
  assert_int_equal(fvx_sim_vms(&sim, vms, names, N_VMS), N_VMS);
  for (int i = 0; i < N_VMS; i++)
    snprintf(specs[i], sizeof specs[i], "moref=%.63s", vms[i]);
  FMT(tmp, "%s", fvx_test_tmpdir());
  FMT(state_dir, "%s/state", tmp);
  FMT(repo, "%s/repo", tmp);
  FMT(out_path, "%s/out", tmp);
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

/* ---- a running VM whose guest writes during the backup ------------------ */

struct during {
  int vm;
  char snapshot[64];
  char snapshot_sha[65];
};

static enum bt_step_action write_after_snapshot(void *data, const char *vm,
                                                const char *step)
{
  struct during *d = data;
  char refs[4][64];

  (void)vm;
  if (strcmp(step, "snapshot") != 0)
    return BT_GO;
  assert_int_equal(bt_snapshots(&sim, vms[d->vm], refs, 4), 1);
  snprintf(d->snapshot, sizeof d->snapshot, "%s", refs[0]);
  bt_disk_sha256(&sim, vms[d->vm], 2000, d->snapshot, d->snapshot_sha);
  /* The guest goes on writing: into the snapshot's delta, not its data. */
  bt_guest_write(&sim, vms[d->vm], 2000, 0, 4096, 11);
  bt_guest_write(&sim, vms[d->vm], 2000, 5 * MIB + 7, 300000, 12);
  return BT_GO;
}

static void full_backup_of_a_running_vm(void **state)
{
  struct during d = {0, "", ""};
  VixDiskLibConnectParams p;
  struct manifest m;
  char now[65], restored[65], *out = NULL;

  (void)state;
  assert_int_equal(backup(0, NULL, write_after_snapshot, &d, &out), 0);
  assert_true(contains(out, "point 1 (full)"));
  free(out);
  load_point(0, 1, &m);
  assert_int_equal(m.kind, POINT_FULL);
  assert_string_equal(m.vm_moref, vms[0]);
  assert_string_equal(m.snapshot_moref, d.snapshot);
  assert_string_equal(m.power_state, "poweredOn");
  assert_int_equal(m.n_disks, 1);
  assert_string_equal(m.disks[0].sha256, d.snapshot_sha);
  assert_true(m.disks[0].transport[0] != '\0');
  manifest_free(&m);
  /* The guest's later writes are in the VM, not in the backup. */
  bt_disk_sha256(&sim, vms[0], 2000, NULL, now);
  assert_string_not_equal(now, d.snapshot_sha);
  restore_raw(0, 1, restored);
  assert_string_equal(restored, d.snapshot_sha);
  /* Nothing left behind, and the VM may be migrated again. */
  assert_clean(0);
  bt_params(&sim, specs[0], &p);
  assert_int_equal(freevix_relocate(&p, NULL, 60), VIX_OK);
}

/* ---- three incrementals --------------------------------------------------- */

/* Marks the CBT blocks [offset, offset + length) touches. */
static void mark_blocks(bool *blocks, uint64_t offset, uint64_t length)
{
  for (uint64_t b = offset / CBT_BLOCK; b <= (offset + length - 1) / CBT_BLOCK;
       b++)
    blocks[b] = true;
}

static void three_incrementals(void **state)
{
  static const struct {
    uint64_t offset, length;
  } writes[3][2] = {
    {{1 * MIB, 1}, {3 * MIB + 100, 200000}},
    {{0, 65536}, {7 * MIB - 10, 20}},          /* crosses a block edge */
    {{2 * MIB + 4096, 8192}, {2 * MIB + 4096, 8192}}, /* the same twice */
  };
  static const char *const first[] = {"--incremental", "--enable-cbt", NULL};
  static const char *const incr[] = {"--incremental", NULL};
  char sha[4][65], dir[4300], *out = NULL;
  struct manifest m;

  (void)state;
  assert_int_equal(backup(1, first, NULL, NULL, &out), 0);
  assert_true(contains(out, "Changed Block Tracking enabled"));
  free(out);
  bt_disk_sha256(&sim, vms[1], 2000, NULL, sha[0]);
  for (unsigned k = 0; k < 3; k++) {
    bool blocks[DISK_SIZE / CBT_BLOCK] = {false};
    uint64_t expect = 0;
    long long before, read;

    for (int w = 0; w < 2; w++) {
      bt_guest_write(&sim, vms[1], 2000, writes[k][w].offset,
                     writes[k][w].length, 20 + k * 2 + (unsigned)w);
      mark_blocks(blocks, writes[k][w].offset, writes[k][w].length);
    }
    for (size_t b = 0; b < DISK_SIZE / CBT_BLOCK; b++)
      expect += blocks[b] ? CBT_BLOCK : 0;
    before = server_bytes();
    assert_int_equal(backup(1, incr, NULL, NULL, NULL), 0);
    read = server_bytes() - before;
    bt_disk_sha256(&sim, vms[1], 2000, NULL, sha[k + 1]);
    load_point(1, k + 2, &m);
    assert_int_equal(m.kind, POINT_INCREMENTAL);
    assert_int_equal(m.parent, k + 1);
    assert_int_equal(m.n_chain, k + 2);
    assert_int_equal(m.disks[0].bytes_read, expect);
    assert_string_equal(m.disks[0].sha256, sha[k + 1]);
    /* What the server sent: the changed blocks and a little metadata. */
    assert_true(read >= (long long)expect);
    assert_true(read <= (long long)expect + 256 * 1024);
    printf("incremental %u: guest wrote %llu bytes, CBT blocks %llu, "
           "bytes from the server %lld (ratio %.2f)\n", k + 1,
           (unsigned long long)(writes[k][0].length + writes[k][1].length),
           (unsigned long long)expect, read,
           (double)read / (double)(writes[k][0].length +
                                   writes[k][1].length));
    manifest_free(&m);
  }
  /* Every point restores to what the VM held then. */
  for (unsigned k = 0; k < 4; k++) {
    char restored[65];

    restore_raw(1, k + 1, restored);
    assert_string_equal(restored, sha[k]);
  }
  vm_dir(1, dir, sizeof dir);
  {
    const char *args[] = {"list", dir, NULL};

    assert_int_equal(local_cmd(args, &out), 0);
    assert_true(contains(out, "incremental"));
    free(out);
  }
  {
    const char *args[] = {"verify", dir, NULL};
    struct bt_cli c = cli_of(NULL, NULL);

    c.sim = NULL;
    assert_int_equal(bt_run(&c, args, &out), 0);
    assert_true(contains(out, "4 disks ok, 0 failed"));
    free(out);
  }
  {
    /* The snapshots are gone: --deep says so and still checks locally. */
    const char *args[] = {"verify", dir, "--point", "2", "--deep", NULL};
    struct bt_cli c = cli_of(NULL, NULL);

    assert_int_equal(bt_run(&c, args, &out), 0);
    assert_true(contains(out, "no longer exists on the server"));
    assert_true(contains(out, "1 disk ok, 0 failed"));
    free(out);
  }
  assert_clean(1);
}

/* ---- a CBT reset ------------------------------------------------------------ */

static void cbt_reset_gives_a_full_backup(void **state)
{
  static const char *const first[] = {"--incremental", "--enable-cbt",
                                      "--format", "stream", NULL};
  static const char *const incr[] = {"--incremental", NULL};
  char sha[65], restored[65], *out = NULL;
  struct manifest m;

  (void)state;
  assert_int_equal(backup(2, first, NULL, NULL, NULL), 0);
  load_point(2, 1, &m);
  assert_string_equal(m.disk_format, "stream");
  manifest_free(&m);
  bt_guest_write(&sim, vms[2], 2000, 4 * MIB, 4096, 31);
  bt_cbt_reset(&sim, vms[2]);
  assert_int_equal(backup(2, incr, NULL, NULL, &out), 0);
  assert_true(contains(out, "reset"));
  assert_true(contains(out, "point 2 (full)"));
  free(out);
  load_point(2, 2, &m);
  assert_int_equal(m.kind, POINT_FULL);
  assert_non_null(strstr(m.note, "reset"));
  manifest_free(&m);
  /* From then on incrementals work again, on the stream base too. */
  bt_guest_write(&sim, vms[2], 2000, 6 * MIB, 4096, 32);
  assert_int_equal(backup(2, incr, NULL, NULL, &out), 0);
  assert_true(contains(out, "point 3 (incremental)"));
  free(out);
  bt_disk_sha256(&sim, vms[2], 2000, NULL, sha);
  restore_raw(2, 3, restored);
  assert_string_equal(restored, sha);
  assert_clean(2);
}

/* ---- kill -9 at each step, then sweep ------------------------------------ */

static void killed_backups_are_swept(void **state)
{
  static const struct {
    const char *step;
    int snapshots; /* the backup's, left by the kill */
  } steps[] = {
    {"prepared", 0}, {"snapshot", 1}, {"committed", 1},
    {"snapshot-removed", 0}, {"reading", 1}, /* leaves a partial file */
  };
  const char *keeper[] = {"prepare", "--lease", "none", "--identity",
                          "keeper", "--vm", specs[4], NULL};
  const char *sweep[] = {"sweep", NULL};
  const char *sweep_json[] = {"sweep", "--json", NULL};
  VixDiskLibConnectParams p;
  struct bt_cli c = cli_of(NULL, NULL);
  char *foreign = NULL, refs[4][64], *out = NULL;

  (void)state;
  /* Someone else's disable, and a snapshot nobody recorded. */
  assert_int_equal(bt_run(&c, keeper, NULL), 0);
  bt_params(&sim, specs[3], &p);
  assert_int_equal(freevix_snapshot_create(&p, "freevix-backup not ours", 60,
                                           &foreign), VIX_OK);
  for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++) {
    struct bt_killer k = {steps[i].step, NULL, false};

    assert_int_equal(backup(3, NULL, bt_kill_at, &k, NULL), 128 + 9);
    assert_true(k.killed);
    assert_int_equal(bt_snapshots(&sim, vms[3], NULL, 0),
                     1 + steps[i].snapshots);
    assert_int_equal(fvx_sim_count_disabled(&sim, vms[3], NULL, IDENTITY),
                     1);
    if (strcmp(steps[i].step, "committed") == 0) {
      /* The point exists and so does its snapshot: --deep compares. */
      char dir[4300];
      const char *deep[] = {"verify", dir, "--deep", NULL};

      vm_dir(3, dir, sizeof dir);
      assert_int_equal(bt_run(&c, deep, &out), 0);
      assert_true(contains(out, "(server): ok"));
      free(out);
    }
    if (strcmp(steps[i].step, "reading") == 0) {
      /* The same sweep as JSON lines: the snapshot's, then the grant's. */
      assert_int_equal(bt_run(&c, sweep_json, &out), 0);
      assert_true(contains(out, "{\"vm\":"));
      assert_true(contains(out, ",\"snapshot\":\"snapshot-"));
      assert_true(contains(out, ",\"method\":\"RelocateVM_Task\""));
      assert_true(contains(out, ",\"identity\":\"" IDENTITY "\""));
      assert_true(contains(out, ",\"ok\":true,\"error\":0,"
                                "\"dry_run\":false}\n"));
      assert_false(contains(out, "\"ok\":false"));
    } else {
      assert_int_equal(bt_run(&c, sweep, &out), 0);
      if (steps[i].snapshots)
        assert_true(contains(out, "removed snapshot"));
    }
    free(out);
    /* Exactly the backup's: the foreign snapshot and the keeper stay. */
    assert_int_equal(bt_snapshots(&sim, vms[3], refs, 4), 1);
    assert_string_equal(refs[0], foreign);
    assert_int_equal(fvx_sim_count_disabled(&sim, vms[3], NULL, NULL), 0);
    assert_int_equal(fvx_sim_count_disabled(&sim, vms[4], NULL, "keeper"),
                     1);
  }
  /* The next backup works, and clears what the killed ones left. */
  assert_int_equal(backup(3, NULL, NULL, NULL, &out), 0);
  assert_true(contains(out, "left by an interrupted backup"));
  /* Points 1 and 2 were committed before their kills; 3 was not. */
  assert_true(contains(out, "point-0003-disk-2000.vmdk, left by"));
  assert_true(contains(out, "point 3 (full)"));
  free(out);
  assert_int_equal(bt_snapshots(&sim, vms[3], NULL, 0), 1);
  assert_int_equal(freevix_snapshot_remove(&p, foreign, 60), VIX_OK);
  freevix_free(foreign);
  {
    const char *end[] = {"end", "--lease", "none", "--identity", "keeper",
                         "--vm", specs[4], NULL};

    assert_int_equal(bt_run(&c, end, NULL), 0);
  }
}

/* ---- hostile input ----------------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "wb");

  assert_non_null(f);
  fputs(text, f);
  fclose(f);
}

static void foreign_and_corrupt_manifests_are_refused(void **state)
{
  char dir[4300], path[4400], src[4400], *text, *out = NULL;

  (void)state;
  vm_dir(5, dir, sizeof dir);
  mkdir(repo, 0700);
  mkdir(dir, 0700);
  /* vm[0]'s manifest where vm[5]'s backups go. */
  FMT(src, "%s/%s/point-0001.json", repo, names[0]);
  text = fvx_test_read_file(src, NULL);
  assert_non_null(text);
  FMT(path, "%s/point-0001.json", dir);
  write_file(path, text);
  free(text);
  assert_int_equal(backup(5, NULL, NULL, NULL, &out), 1);
  assert_true(contains(out, "a backup of"));
  assert_true(contains(out, "nothing was changed"));
  free(out);
  assert_clean(5);
  write_file(path, "{\"format\": \"freevix-backup\", \"version\": 1,");
  assert_int_equal(backup(5, NULL, NULL, NULL, &out), 1);
  assert_true(contains(out, "not JSON"));
  free(out);
  write_file(path, "{\"format\": \"freevix-backup\", \"version\": 7}");
  assert_int_equal(backup(5, NULL, NULL, NULL, &out), 1);
  assert_true(contains(out, "newer freevix"));
  free(out);
  assert_clean(5);
  /* The same files are refused by list and verify. */
  {
    const char *args[] = {"list", dir, NULL};

    assert_int_equal(local_cmd(args, &out), 1);
    assert_true(contains(out, "newer freevix"));
    free(out);
  }
  unlink(path);
}

static void incremental_without_cbt_is_refused(void **state)
{
  static const char *const incr[] = {"--incremental", NULL};
  char *out = NULL;

  (void)state;
  assert_int_equal(backup(6, incr, NULL, NULL, &out), 1);
  assert_true(contains(out, "Changed Block Tracking off"));
  assert_true(contains(out, "--enable-cbt"));
  free(out);
  assert_clean(6);
}

/* A full local disk: a 1 MiB tmpfs when this test may mount one (root),
 * else a 1 MiB file size limit on the command (RLIMIT_FSIZE). */
static void full_local_disk(void **state)
{
  char small[4300], dir[4400], path[4500], *out = NULL;
  const char *args[] = {"backup", "--vm", specs[6], "--to", small, NULL};
  struct bt_cli c = cli_of(NULL, NULL);
  bool mounted;
  struct stat st;

  (void)state;
  FMT(small, "%s/small", tmp);
  mkdir(small, 0700);
  mounted = mount("tmpfs", small, "tmpfs", 0, "size=1m,mode=0700") == 0;
  if (!mounted)
    c.fsize_limit = 1024 * 1024;
  printf("full local disk: %s\n", mounted ? "a 1 MiB tmpfs"
                                          : "RLIMIT_FSIZE of 1 MiB");
  assert_int_equal(bt_run(&c, args, &out), 1);
  assert_true(contains(out, mounted ? "disk is full" : "error"));
  assert_true(contains(out, "removed"));
  free(out);
  FMT(dir, "%s/%s", small, names[6]);
  FMT(path, "%s/point-0001-disk-2000.vmdk", dir);
  assert_int_not_equal(stat(path, &st), 0);
  FMT(path, "%s/point-0001.json", dir);
  assert_int_not_equal(stat(path, &st), 0);
  assert_clean(6);
  if (mounted)
    assert_int_equal(umount(small), 0);
}

static void vm_without_disks(void **state)
{
  static const char *const args[] = {"--vms", "1", "--disks-per-vm", "0",
                                     NULL};
  struct fvx_sim bare;
  char moref[1][64], name[1][128], spec[96], *out = NULL;
  const char *cmd[] = {"backup", "--vm", spec, "--to", repo, NULL};
  struct bt_cli c = cli_of(NULL, NULL);

  (void)state;
  fvx_sim_start(&bare, args);
  assert_int_equal(fvx_sim_vms(&bare, moref, name, 1), 1);
  FMT(spec, "moref=%s", moref[0]);
  c.sim = &bare;
  assert_int_equal(bt_run(&c, cmd, &out), 1);
  assert_true(contains(out, "has no virtual disks"));
  free(out);
  assert_int_equal(bt_snapshots(&bare, moref[0], NULL, 0), 0);
  assert_int_equal(fvx_sim_count_disabled(&bare, NULL, NULL, NULL), 0);
  fvx_sim_stop(&bare);
}

/* Makes the VM's disk 2000 independent_persistent in its configuration
 * (ReconfigVM_Task, device edit): what vCenter then tells a backup. */
static void make_independent(int vm, const char *file_name)
{
  struct vim_session *s = bt_operator(&sim);
  struct vim_moref ref, task;
  struct vim_error err;
  struct vim_soap a;
  char spec[2048];

  vim_moref_set(&ref, "VirtualMachine", vms[vm]);
  snprintf(spec, sizeof spec,
           "<spec><deviceChange><operation>edit</operation>"
           "<device xsi:type=\"VirtualDisk\"><key>2000</key>"
           "<deviceInfo><label>Hard disk 1</label><summary>8,192 KB"
           "</summary></deviceInfo>"
           "<backing xsi:type=\"VirtualDiskFlatVer2BackingInfo\">"
           "<fileName>%s</fileName>"
           "<diskMode>independent_persistent</diskMode>"
           "<thinProvisioned>true</thinProvisioned></backing>"
           "<controllerKey>1000</controllerKey><unitNumber>0</unitNumber>"
           "<capacityInKB>8192</capacityInKB></device></deviceChange></spec>",
           file_name);
  vim_soap_init(&a);
  vim_soap_raw(&a, spec);
  assert_int_equal(vim_task_call(s, "ReconfigVM_Task", &ref, &a, &task, &err),
                   VIM_OK);
  vim_soap_free(&a);
  assert_int_equal(vim_task_wait(s, &task, 60000, NULL, NULL, NULL, &err),
                   VIM_OK);
  vim_session_free(s);
}

static void independent_disk_is_refused(void **state)
{
  static const char *const skip[] = {"--skip-independent", NULL};
  VixDiskLibConnectParams p;
  freevix_disk *d = NULL;
  uint32 n = 0;
  char file[1024], *out = NULL;

  (void)state;
  bt_params(&sim, specs[5], &p);
  assert_int_equal(freevix_vm_disks(&p, NULL, &d, &n), VIX_OK);
  FMT(file, "%s", d[0].path);
  freevix_free(d);
  make_independent(5, file);
  assert_int_equal(freevix_vm_disks(&p, NULL, &d, &n), VIX_OK);
  assert_string_equal(d[0].diskMode, "independent_persistent");
  freevix_free(d);
  assert_int_equal(backup(5, NULL, NULL, NULL, &out), 1);
  assert_true(contains(out, "independent_persistent"));
  assert_true(contains(out, "--skip-independent"));
  free(out);
  assert_int_equal(backup(5, skip, NULL, NULL, &out), 1);
  assert_true(contains(out, "only independent disks"));
  free(out);
  assert_clean(5);
}

/* ---- verify finds damage --------------------------------------------------- */

static void verify_catches_a_flipped_byte(void **state)
{
  char dir[4300], path[4400], *out = NULL;
  const char *args[] = {"verify", dir, NULL};
  struct bt_cli c = cli_of(NULL, NULL);

  (void)state;
  c.sim = NULL;
  vm_dir(0, dir, sizeof dir);
  assert_int_equal(bt_run(&c, args, NULL), 0);
  FMT(path, "%s/point-0001-disk-2000.vmdk", dir);
  bt_flip_data_byte(path);
  assert_int_equal(bt_run(&c, args, &out), 1);
  assert_true(strstr(out, "MISMATCH") || contains(out, "FAILED"));
  free(out);
  bt_flip_data_byte(path);
}

/* ---- several VMs at once ------------------------------------------------- */

static void several_vms_as_json(void **state)
{
  /* One by moref, one by name (freevix_vm_lookup). */
  const char *args[] = {"backup", "--vm", specs[6], "--vm", names[7], "--to",
                        repo, "--jobs", "2", "--json", NULL};
  struct bt_cli c = cli_of(NULL, NULL);
  char *out = NULL;

  (void)state;
  assert_int_equal(bt_run(&c, args, &out), 0);
  assert_true(contains(out, "\"ok\":true,\"exit\":0"));
  assert_non_null(strstr(strstr(out, "\"ok\":true") + 1, "\"ok\":true"));
  free(out);
  assert_clean(6);
  assert_clean(7);
}

/* ---- prune ---------------------------------------------------------------- */

static bool exists_in(const char *dir, const char *name)
{
  char path[4500];

  FMT(path, "%s/%s", dir, name);
  return access(path, F_OK) == 0;
}

/* Chains {1, 2}, {3, 4}, {5}, made by --full-every 2: --keep 2 removes
 * 1 and 2 (newest first), what stays verifies and restores, and the next
 * incremental builds on point 5; a held lock, a bad --keep and a corrupt
 * manifest change nothing; the leftovers of an interrupted backup go; a
 * repository prunes, lists and verifies each VM directory. */
static void prune_keeps_the_newest_chains(void **state)
{
  static const char *const first[] = {"--incremental", "--enable-cbt", NULL};
  static const char *const incr[] = {"--incremental", NULL};
  static const char *const every2[] = {"--incremental", "--full-every", "2",
                                       NULL};
  static const char *const full_every[] = {"--full-every", "2", NULL};
  char dir[4300], file[4500], *out = NULL;
  const char *dry[] = {"prune", dir, "--keep", "2", "--dry-run", NULL};
  const char *keep2[] = {"prune", "--json", dir, "--keep", "2", NULL};
  const char *keep3[] = {"prune", dir, "--keep", "3", NULL};
  const char *keep1[] = {"prune", dir, "--keep", "1", NULL};
  const char *no_keep[] = {"prune", dir, NULL};
  const char *verify[] = {"verify", dir, NULL};
  const char *restore[] = {"restore", dir, "--point", "4", "--to", file,
                           "--format", "raw", NULL};
  struct manifest m;
  int fd;

  (void)state;
  vm_dir(8, dir, sizeof dir);
  FMT(file, "%s/pruned-point-4.raw", tmp);
  /* --full-every 2: chains of two points, made by the backup itself. */
  assert_int_equal(backup(8, full_every, NULL, NULL, &out), 2);
  assert_true(contains(out, "without --incremental every backup is full"));
  free(out);
  assert_int_equal(backup(8, first, NULL, NULL, NULL), 0);
  for (unsigned k = 2; k <= 5; k++) {
    bt_guest_write(&sim, vms[8], 2000, k * MIB, 4096, 70 + k);
    assert_int_equal(backup(8, every2, NULL, NULL, NULL), 0);
  }
  load_point(8, 3, &m);
  assert_int_equal(m.kind, POINT_FULL);
  assert_true(contains(m.note, "point 2 ends a chain of 2 points "
                               "(--full-every 2): full backup"));
  manifest_free(&m);
  load_point(8, 4, &m);
  assert_int_equal(m.kind, POINT_INCREMENTAL);
  assert_int_equal(m.parent, 3);
  manifest_free(&m);

  assert_int_equal(local_cmd(no_keep, &out), 2);
  assert_true(contains(out, "give --keep N"));
  free(out);
  assert_int_equal(local_cmd(dry, &out), 0);
  assert_true(contains(out, "would remove point 2 (incremental of 1"));
  assert_true(contains(out, "would remove 2 points"));
  free(out);
  assert_true(exists_in(dir, "point-0001.json"));
  assert_true(exists_in(dir, "point-0002-disk-2000.vmdk"));

  /* A backup holding the directory: nothing happens. */
  FMT(file, "%s/.freevix.lock", dir);
  fd = open(file, O_RDWR | O_CREAT, 0600);
  assert_true(fd >= 0);
  assert_int_equal(flock(fd, LOCK_EX), 0);
  assert_int_equal(local_cmd(keep2, &out), 3);
  assert_true(contains(out, "another freevix backup is writing to it"));
  free(out);
  close(fd);
  assert_true(exists_in(dir, "point-0001.json"));

  FMT(file, "%s/pruned-point-4.raw", tmp);
  assert_int_equal(local_cmd(keep2, &out), 0);
  /* newest first: 2 before 1 */
  assert_true(contains(out, "\"point\":2,\"kind\":\"incremental\","
                            "\"base\":1,"));
  assert_true(strstr(out, "\"point\":2") < strstr(out, "\"point\":1,"));
  assert_true(contains(out, "\"removed\":true,\"dry_run\":false,"
                            "\"error\":\"\"}"));
  free(out);
  assert_false(exists_in(dir, "point-0001.json"));
  assert_false(exists_in(dir, "point-0001-disk-2000.vmdk"));
  assert_false(exists_in(dir, "point-0002.json"));
  assert_false(exists_in(dir, "point-0002-disk-2000.vmdk"));
  assert_true(exists_in(dir, "point-0003-disk-2000.vmdk"));
  assert_int_equal(local_cmd(verify, NULL), 0);
  assert_int_equal(local_cmd(restore, NULL), 0);

  /* The next incremental builds on point 5 and is point 6. */
  bt_guest_write(&sim, vms[8], 2000, 6 * MIB, 4096, 76);
  assert_int_equal(backup(8, incr, NULL, NULL, NULL), 0);
  load_point(8, 6, &m);
  assert_int_equal(m.kind, POINT_INCREMENTAL);
  assert_int_equal(m.parent, 5);
  manifest_free(&m);

  /* A point's disk file without its manifest (what a crash mid-prune or
   * mid-backup leaves) goes; two chains are within --keep 3. */
  FMT(file, "%s/point-0009-disk-2000.vmdk", dir);
  fd = open(file, O_WRONLY | O_CREAT, 0600);
  assert_true(fd >= 0);
  close(fd);
  assert_int_equal(local_cmd(keep3, &out), 0);
  assert_true(contains(out, "point-0009-disk-2000.vmdk, left by an "
                            "interrupted backup"));
  assert_true(contains(out, "removed 0 points"));
  free(out);
  assert_false(exists_in(dir, "point-0009-disk-2000.vmdk"));
  assert_true(exists_in(dir, "point-0003.json"));
  /* The repository: every VM directory in it, this one included (the
   * exit codes depend on the other tests' directories). */
  {
    const char *repo_dry[] = {"prune", repo, "--keep", "2", "--dry-run",
                              NULL};
    const char *repo_list[] = {"list", repo, NULL};
    const char *repo_verify[] = {"verify", repo, NULL};
    char line[4400];

    FMT(line, "%s: would remove 0 points", dir);
    local_cmd(repo_dry, &out);
    assert_true(contains(out, line));
    free(out);
    FMT(line, "%s:\npoint  kind", dir);
    local_cmd(repo_list, &out);
    assert_true(contains(out, line));
    free(out);
    FMT(line, "%s:\npoint 3 disk 2000 (local): ok", dir);
    local_cmd(repo_verify, &out);
    assert_true(contains(out, line));
    free(out);
  }

  /* A manifest freevix cannot read: refused before any removal. */
  FMT(file, "%s/point-0005.json", dir);
  fd = open(file, O_WRONLY | O_TRUNC);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "{", 1), 1);
  close(fd);
  assert_int_equal(local_cmd(keep1, &out), 1);
  assert_true(contains(out, "point-0005.json"));
  free(out);
  assert_true(exists_in(dir, "point-0003.json"));
  assert_true(exists_in(dir, "point-0004-disk-2000.vmdk"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(full_backup_of_a_running_vm),
    cmocka_unit_test(three_incrementals),
    cmocka_unit_test(cbt_reset_gives_a_full_backup),
    cmocka_unit_test(killed_backups_are_swept),
    cmocka_unit_test(foreign_and_corrupt_manifests_are_refused),
    cmocka_unit_test(incremental_without_cbt_is_refused),
    cmocka_unit_test(full_local_disk),
    cmocka_unit_test(vm_without_disks),
    cmocka_unit_test(independent_disk_is_refused),
    cmocka_unit_test(verify_catches_a_flipped_byte),
    cmocka_unit_test(several_vms_as_json),
    cmocka_unit_test(prune_keeps_the_newest_chains),
  };

  return cmocka_run_group_tests(tests, setup, teardown);
}
