/*
 * wait.h -- a bounded wait for a VM that another source holds.
 *
 * When DisableMethods meets MethodAlreadyDisabledFault the holder is often
 * a Storage vMotion that ends by itself.  VMware's sample sleeps 60 s and
 * tries again for ten minutes; freevix follows the running relocate task
 * instead (vim_vm_running_task, then vim_task_wait until it ends) and, when
 * no task explains the hold (another backup), polls with a capped backoff.
 * Both stop at the caller's deadline.
 */
#ifndef FVX_ACCESS_WAIT_H
#define FVX_ACCESS_WAIT_H

#include <stdint.h>

#include "vim/vim.h"

/* Told after each step: which VM, who holds it, how long we have waited of
 * how long we may (ms), and the holder's task progress (0..100, -1 when no
 * task is known).  The strings live for the call only. */
typedef void wait_progress_fn(void *opaque, const char *vm, const char *holder,
                              int64_t waited_ms, int64_t budget_ms,
                              int task_progress);

struct wait_state {
  int64_t start;          /* fvx_now_ms() when waiting began */
  int64_t deadline;       /* fvx_now_ms() after which we give up */
  int64_t backoff_ms;     /* next poll interval (starts at WAIT_POLL_MIN_MS) */
  wait_progress_fn *progress;
  void *opaque;
};

#define WAIT_POLL_MIN_MS 200
#define WAIT_POLL_MAX_MS 5000

/* Starts a wait of budget_ms from now.  Can't fail. */
void wait_init(struct wait_state *w, int64_t budget_ms,
               wait_progress_fn *progress, void *opaque);

/* Waits for one reason to try again: the VM's running relocate task ended,
 * or one backoff step passed (never past the deadline).  Returns VIM_OK
 * when the caller should try again, VIM_E_DEADLINE when the deadline had
 * passed on entry or passed while the task still ran.  Failures to look the task up are not errors: we poll. */
int wait_for_vm(struct vim_session *s, const struct vim_moref *vm,
                const char *holder, struct wait_state *w);

#endif
