/*
 * task.c -- task-creating calls and waiting for tasks.
 *
 * CreateSnapshot_Task, RemoveSnapshot_Task, RelocateVM_Task and
 * PowerOnVM_Task/PowerOffVM_Task (and, through
 * vim_task_call, cbt.c's ReconfigVM_Task) change the inventory, so they are
 * never sent twice once the request may have reached the server (class
 * VIM_CALL_ONCE; see call.c).  Waiting polls
 * Task.info through the property collector with a capped backoff (50 ms
 * doubling to 1 s): simpler than WaitForUpdatesEx, needs no filter object on
 * the server, and costs one round trip per poll.  The session lock is held
 * for each poll only, so a long wait does not block other threads.
 */
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/text.h"
#include "vim/internal.h"

int vim_task_call(struct vim_session *s, const char *method,
                  const struct vim_moref *this_, struct vim_soap *a,
                  struct vim_moref *out_task, struct vim_error *err)
{
  const struct vim_req rq = {.method = method, .cls = VIM_CALL_ONCE,
                             .obj = this_};
  struct vim_reply r;
  struct vim_moref t;
  int rc;

  rc = vim_request(s, &rq, a, &r, err);
  if (rc != VIM_OK)
    return rc;
  if (!vim_xml_moref(vim_xml_child(r.result, "returnval"), &t)) {
    vim_reply_free(&r);
    return vim_fail(err, VIM_E_PROTOCOL, "%s returned no task", method);
  }
  vim_reply_free(&r);
  if (out_task)
    *out_task = t;
  return VIM_OK;
}

int vim_create_snapshot(struct vim_session *s, const struct vim_moref *vm,
                        const char *name, const char *description, bool memory,
                        bool quiesce, struct vim_moref *out_task,
                        struct vim_error *err)
{
  struct vim_soap a;

  if (!vm || !name)
    return vim_fail(err, VIM_E_INVALID_ARG, "vm or name is NULL");
  vim_soap_init(&a);
  vim_soap_str(&a, "name", name);
  if (description)
    vim_soap_str(&a, "description", description);
  vim_soap_bool(&a, "memory", memory);
  vim_soap_bool(&a, "quiesce", quiesce);
  return vim_task_call(s, "CreateSnapshot_Task", vm, &a, out_task, err);
}

int vim_remove_snapshot(struct vim_session *s, const struct vim_moref *snapshot,
                        bool remove_children, bool consolidate,
                        struct vim_moref *out_task, struct vim_error *err)
{
  struct vim_soap a;

  if (!snapshot)
    return vim_fail(err, VIM_E_INVALID_ARG, "snapshot is NULL");
  vim_soap_init(&a);
  vim_soap_bool(&a, "removeChildren", remove_children);
  vim_soap_bool(&a, "consolidate", consolidate);
  return vim_task_call(s, "RemoveSnapshot_Task", snapshot, &a, out_task,
                       err);
}

int vim_relocate(struct vim_session *s, const struct vim_moref *vm,
                 const struct vim_moref *datastore, struct vim_moref *out_task,
                 struct vim_error *err)
{
  struct vim_soap a;

  if (!vm)
    return vim_fail(err, VIM_E_INVALID_ARG, "vm is NULL");
  vim_soap_init(&a);
  vim_soap_raw(&a, "<spec>");
  if (datastore)
    vim_soap_moref(&a, "datastore", datastore);
  vim_soap_raw(&a, "</spec>");
  return vim_task_call(s, "RelocateVM_Task", vm, &a, out_task, err);
}

int vim_power(struct vim_session *s, const struct vim_moref *vm, bool on,
              struct vim_moref *out_task, struct vim_error *err)
{
  struct vim_soap a;

  if (!vm)
    return vim_fail(err, VIM_E_INVALID_ARG, "vm is NULL");
  vim_soap_init(&a);
  return vim_task_call(s, on ? "PowerOnVM_Task" : "PowerOffVM_Task", vm, &a,
                       out_task, err);
}

static enum vim_task_state state_of(const char *s)
{
  if (strcmp(s, "queued") == 0)
    return VIM_TASK_QUEUED;
  if (strcmp(s, "running") == 0)
    return VIM_TASK_RUNNING;
  if (strcmp(s, "success") == 0)
    return VIM_TASK_SUCCESS;
  if (strcmp(s, "error") == 0)
    return VIM_TASK_ERROR;
  return VIM_TASK_UNKNOWN;
}

void vim_task_info_decode(const xmlNode *info, struct vim_task_info *out)
{
  char state[32], progress[16];

  memset(out, 0, sizeof *out);
  out->progress = -1;
  if (!info)
    return;
  vim_xml_moref(vim_xml_child(info, "task"), &out->task);
  vim_xml_child_text(info, "descriptionId", out->description_id,
                     sizeof out->description_id);
  vim_xml_moref(vim_xml_child(info, "entity"), &out->entity);
  vim_xml_child_text(info, "state", state, sizeof state);
  out->state = state_of(state);
  vim_xml_child_text(info, "progress", progress, sizeof progress);
  if (progress[0]) {
    long p = strtol(progress, NULL, 10);

    out->progress = p < 0 ? 0 : p > 100 ? 100 : (int)p;
  }
  vim_xml_moref(vim_xml_child(info, "result"), &out->result);
  if (out->state == VIM_TASK_ERROR)
    vim_fault_decode_localized(vim_xml_child(info, "error"), &out->fault);
}

int vim_task_info(struct vim_session *s, const struct vim_moref *task,
                  struct vim_task_info *out, struct vim_error *err)
{
  struct vim_reply r;
  xmlNode *val;
  int rc;

  if (!task || !out)
    return vim_fail(err, VIM_E_INVALID_ARG, "task or out is NULL");
  rc = vim_read_prop(s, task, "info", &r, &val, err);
  if (rc != VIM_OK)
    return rc;
  if (!val) {
    vim_reply_free(&r);
    return vim_fail(err, VIM_E_NOT_FOUND, "task %s:%s has no info",
                    task->type, task->value);
  }
  vim_task_info_decode(val, out);
  vim_reply_free(&r);
  if (!out->task.type[0])
    out->task = *task;
  return VIM_OK;
}

int vim_task_wait(struct vim_session *s, const struct vim_moref *task,
                  long deadline_ms, vim_progress_fn *progress, void *opaque,
                  struct vim_moref *result_out, struct vim_error *err)
{
  struct vim_error local;
  struct vim_task_info ti;
  int64_t end = fvx_now_ms() + (deadline_ms > 0 ? deadline_ms : 0);
  int64_t delay = 50;
  int rc;

  if (!task)
    return vim_fail(err, VIM_E_INVALID_ARG, "task is NULL");
  if (!err)
    err = &local;
  if (result_out)
    memset(result_out, 0, sizeof *result_out);
  for (;;) {
    int64_t left;

    rc = vim_task_info(s, task, &ti, err);
    if (rc != VIM_OK)
      return rc;
    if (progress)
      progress(opaque, ti.progress);
    if (ti.state == VIM_TASK_SUCCESS) {
      if (result_out)
        *result_out = ti.result;
      return VIM_OK;
    }
    if (ti.state == VIM_TASK_ERROR) {
      err->fault = ti.fault;
      return vim_fail(err, VIM_E_TASK, "task %s (%s) failed: %s%s%s",
                      task->value, ti.description_id,
                      ti.fault.type[0] ? ti.fault.type : "error",
                      ti.fault.message[0] ? ": " : "", ti.fault.message);
    }
    left = end - fvx_now_ms();
    if (left <= 0)
      return vim_fail(err, VIM_E_DEADLINE,
                      "task %s (%s) still %s after %ld ms (progress %d)",
                      task->value, ti.description_id,
                      ti.state == VIM_TASK_QUEUED ? "queued" : "running",
                      deadline_ms, ti.progress);
    fvx_sleep_ms(delay < left ? delay : left);
    delay = delay * 2 > 1000 ? 1000 : delay * 2;
  }
}

/* True when a task's descriptionId names the wanted operation.  vCenter
 * says "VirtualMachine.relocate" for RelocateVM_Task; vcsim (and so the
 * simulator) says "VirtualMachine.relocateVm": both are accepted. */
static bool same_description(const char *have, const char *want)
{
  size_t wl = strlen(want);

  if (strcmp(have, want) == 0)
    return true;
  return strcmp(want, "VirtualMachine.relocate") == 0 &&
         strncmp(have, want, wl) == 0 && strcmp(have + wl, "Vm") == 0;
}

/* Task MoRefs of o's recentTask (NULL/0 when none). */
static const struct vim_prop *recent_of(const struct vim_objects *res)
{
  const struct vim_prop *p;

  p = res && res->n ? vim_object_prop(&res->objs[0], "recentTask") : NULL;
  if (!p || !p->n || (p->kind != VIM_PROP_MOREFS && p->kind != VIM_PROP_MOREF))
    return NULL;
  return p;
}

int vim_vm_running_task(struct vim_session *s, const struct vim_moref *vm,
                        const char *description_id, struct vim_moref *out_task,
                        struct vim_error *err)
{
  static const char *const recent[] = {"recentTask"};
  static const char *const info[] = {"info.descriptionId", "info.state",
                                     "info.entity"};
  struct vim_objects *res = NULL, *tasks = NULL;
  const struct vim_service_content *sc = NULL;
  const struct vim_prop *p;
  int rc;

  if (!vm || !description_id || !out_task)
    return vim_fail(err, VIM_E_INVALID_ARG, "vm, description or out is NULL");
  rc = vim_retrieve(s, vm, 1, recent, 1, &res, err);
  if (rc != VIM_OK)
    goto out;
  p = recent_of(res);
  rc = p ? VIM_OK : vim_service_content(s, &sc, err);
  if (rc != VIM_OK)
    goto out;
  if (!p && sc->task_manager.type[0]) {
    /* vcsim (and possibly ESXi) keep recent tasks on the TaskManager only;
     * filter them by info.entity below. */
    vim_objects_free(res);
    res = NULL;
    rc = vim_retrieve(s, &sc->task_manager, 1, recent, 1, &res, err);
    if (rc != VIM_OK)
      goto out;
    p = recent_of(res);
  }
  if (!p) {
    rc = vim_fail(err, VIM_E_NOT_FOUND, "no recent task on %s", vm->value);
    goto out;
  }
  rc = vim_retrieve(s, p->morefs, p->n, info, 3, &tasks, err);
  if (rc != VIM_OK)
    goto out;
  rc = vim_fail(err, VIM_E_NOT_FOUND, "no running %s task on %s",
                description_id, vm->value);
  for (size_t i = 0; i < tasks->n; i++) {
    const struct vim_prop *d = vim_object_prop(&tasks->objs[i], info[0]);
    const struct vim_prop *st = vim_object_prop(&tasks->objs[i], info[1]);
    const struct vim_prop *en = vim_object_prop(&tasks->objs[i], info[2]);

    if (!d || !st || d->kind != VIM_PROP_STRING ||
        st->kind != VIM_PROP_STRING)
      continue;
    if (en && en->kind == VIM_PROP_MOREF &&
        strcmp(en->morefs[0].value, vm->value) != 0)
      continue;
    if (same_description(d->str, description_id) &&
        (strcmp(st->str, "running") == 0 || strcmp(st->str, "queued") == 0)) {
      *out_task = tasks->objs[i].ref;
      vim_error_clear(err);
      rc = VIM_OK;
      break;
    }
  }
out:
  vim_objects_free(res);
  vim_objects_free(tasks);
  return rc;
}
