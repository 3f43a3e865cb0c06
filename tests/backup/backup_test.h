/*
 * backup_test.h -- what the backup tests ask the simulator about a VM: its
 * snapshots, the true SHA-256 of a disk, guest writes, CBT resets.  Every
 * helper fails the test (cmocka) when the simulator does not answer.
 */
#ifndef FVX_BACKUP_TEST_H
#define FVX_BACKUP_TEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim.h"
#include "vixDiskLib.h"

struct vim_session;

/* Connect params for the simulator's privileged user and the VM spec
 * (borrowed; NULL for none). */
void bt_params(const struct fvx_sim *sim, const char *spec,
               VixDiskLibConnectParams *p);

/* The VM's snapshots as GET /vms lists them: up to max morefs into refs
 * (may be NULL); returns how many it has. */
int bt_snapshots(const struct fvx_sim *sim, const char *vm, char refs[][64],
                 int max);

/* SHA-256 (64 hex digits) of the VM's disk key, now (snapshot NULL or "")
 * or at a snapshot, from GET /disk/sha256. */
void bt_disk_sha256(const struct fvx_sim *sim, const char *vm, int key,
                    const char *snapshot, char out[65]);

/* POST /guest/write of the seed's bytes at [offset, offset + length). */
void bt_guest_write(const struct fvx_sim *sim, const char *vm, int key,
                    uint64_t offset, uint64_t length, uint64_t seed);

/* POST /cbt/reset: every changeId of the VM faults from now on. */
void bt_cbt_reset(const struct fvx_sim *sim, const char *vm);

/* The VM's current changeId of disk key ("" without CBT in effect). */
void bt_change_id(const struct fvx_sim *sim, const char *vm, int key,
                  char *out, size_t n);

/* A sim integer statistic, top-level (folder_bytes) or of "nfc"
 * (bytes_read), from GET /stats; -1 when absent. */
long long bt_stat(const struct fvx_sim *sim, const char *section,
                  const char *key);

/* A SOAP session of the simulator's privileged user, for what the
 * library has no call for (vim_session_free it). */
struct vim_session *bt_operator(const struct fvx_sim *sim);

/* PowerOnVM_Task / PowerOffVM_Task, waited for. */
void bt_power(const struct fvx_sim *sim, const char *vm, int on);

/* Flips one bit of a data grain of a backup's VMDK; a second call undoes
 * it. */
void bt_flip_data_byte(const char *vmdk);

/* Quiet log callbacks for InitEx. */
void bt_quiet(const char *fmt, va_list ap);

/* ---- running the freevix command ----------------------------------------
 * $FREEVIX_CLI, behind the words of $FREEVIX_CLI_WRAPPER (valgrind in the
 * .valgrind twins; tests/support/cli.h), with FREEVIX_PASSWORD and
 * FREEVIX_STATE_DIR set and stdout and stderr to one file; unlike
 * fvx_cli_start, for commands with or without connection options, and
 * with the backup's step hook.  A backup's steps (cli/backup.h) come to
 * the step function through FREEVIX_BACKUP_STEP_FD; the command waits at
 * each step until the function returns. */

enum bt_step_action { BT_GO, BT_KILL };

typedef enum bt_step_action bt_step_fn(void *data, const char *vm,
                                       const char *step);

/* A step function: kills the command at step 'at' of VM 'vm' (any VM
 * when NULL; a step of another VM fails the test) and records it. */
struct bt_killer {
  const char *at;
  const char *vm;
  bool killed;
};
enum bt_step_action bt_kill_at(void *killer, const char *vm,
                               const char *step);

struct bt_cli {
  const struct fvx_sim *sim;  /* NULL: no connection options */
  const char *state_dir;      /* FREEVIX_STATE_DIR */
  const char *out_path;       /* the command's output */
  bt_step_fn *on_step;        /* may be NULL */
  void *data;
  unsigned long fsize_limit;  /* RLIMIT_FSIZE of the command; 0: none */
};

/* Runs `freevix args[0] [connection options] args[1..]` (NULL-ended) and
 * returns its exit status (128+N for signal N; a checker finding fails
 * the test, after printing the command's output).  *out (may be NULL) receives its output (free()). */
int bt_run(const struct bt_cli *c, const char *const *args, char **out);

/* True when the command runs under a checker: allow for its slowness. */
int bt_slow(void);

#endif
