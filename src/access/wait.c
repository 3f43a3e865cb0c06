/*
 * wait.c -- waiting for another source to let go of a VM, see wait.h.
 *
 * One step of the wait: look for a relocate task running on the VM; if
 * there is one, wait for it (vim_task_wait polls it with its own 50 ms to
 * 1 s backoff and reports progress); otherwise sleep one backoff step,
 * 200 ms doubling to 5 s.  The step never runs past the deadline, and the
 * caller retries its DisableMethods after each step, so the VM is taken
 * within one poll of the holder letting go.
 */
#include "access/wait.h"

#include "util/clock.h"
#include "util/log.h"

struct task_progress {
  struct wait_state *w;
  const char *vm;
  const char *holder;
};

void wait_init(struct wait_state *w, int64_t budget_ms,
               wait_progress_fn *progress, void *opaque)
{
  w->start = fvx_now_ms();
  w->deadline = w->start + (budget_ms > 0 ? budget_ms : 0);
  w->backoff_ms = WAIT_POLL_MIN_MS;
  w->progress = progress;
  w->opaque = opaque;
}

static void report(struct wait_state *w, const char *vm, const char *holder,
                   int task_progress)
{
  if (w->progress)
    w->progress(w->opaque, vm, holder, fvx_now_ms() - w->start,
                w->deadline - w->start, task_progress);
}

static void on_task_progress(void *opaque, int progress)
{
  struct task_progress *tp = opaque;

  report(tp->w, tp->vm, tp->holder, progress);
}

int wait_for_vm(struct vim_session *s, const struct vim_moref *vm,
                const char *holder, struct wait_state *w)
{
  struct vim_moref task;
  struct vim_error err;
  int64_t left = w->deadline - fvx_now_ms();

  if (left <= 0)
    return VIM_E_DEADLINE;
  if (vim_vm_running_task(s, vm, "VirtualMachine.relocate", &task, &err) ==
      VIM_OK) {
    struct task_progress tp = {w, vm->value, holder};
    int r;

    fvx_debug("waiting for %s (%s holds %s)", task.value, holder, vm->value);
    r = vim_task_wait(s, &task, left, on_task_progress, &tp, NULL, &err);
    if (r == VIM_E_DEADLINE)
      return VIM_E_DEADLINE;
    /* Ended (well or not) or vanished: the hold should be gone; try again
     * soon, polling from the shortest step. */
    w->backoff_ms = WAIT_POLL_MIN_MS;
    report(w, vm->value, holder, 100);
    return VIM_OK;
  }
  report(w, vm->value, holder, -1);
  fvx_sleep_ms(w->backoff_ms < left ? w->backoff_ms : left);
  w->backoff_ms = w->backoff_ms * 2 > WAIT_POLL_MAX_MS ? WAIT_POLL_MAX_MS
                                                       : w->backoff_ms * 2;
  return VIM_OK; /* one more try, even at the deadline */
}
