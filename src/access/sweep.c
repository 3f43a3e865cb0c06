/*
 * sweep.c -- undoing the journal grants nobody can end any more, see
 * lease_sweep() in lease.h.
 *
 * The journal stays locked for the whole sweep, so a `freevix prepare`
 * running meanwhile records its grants before or after, never in between
 * our read and our rewrite.  Each stale grant costs one EnableMethods with
 * its own sourceId: vCenter then removes only that source's disable, so a
 * backup of another identity, an administrator's disable or a Storage
 * vMotion's hold is never touched.  A stale grant is only dropped from the
 * file, without calling vCenter, when a live grant names the same disable
 * (the same identity prepared the VM again): that disable is still wanted.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "access/lease.h"
#include "access/pool.h"
#include "access/target.h"
#include "util/log.h"

static bool covered_by_live(const struct journal *j, size_t i, int64_t now)
{
  char why[128];

  for (size_t k = 0; k < j->n; k++)
    if (k != i && journal_same_disable(&j->grants[i], &j->grants[k]) &&
        !journal_grant_stale(&j->grants[k], now, why, sizeof why))
      return true;
  return false;
}

int lease_sweep(const struct access_conninfo *ci, const char *state_dir,
                bool dry_run, sweep_report_fn *report, void *opaque,
                size_t *n_swept, struct access_result *res)
{
  struct vim_session *s = NULL;
  struct access_result first;
  unsigned port = access_port(ci);
  int64_t now = (int64_t)time(NULL);
  struct journal j;
  size_t removed = 0;

  *n_swept = 0;
  if (journal_open(&j, state_dir, res) != ACCESS_OK)
    return res->status;
  first.status = ACCESS_OK;
  for (size_t i = 0; i < j.n;) {
    struct journal_grant *g = &j.grants[i];
    struct access_result r;
    char why[128];
    bool drop = false;

    if (g->port != port || strcmp(g->server, ci->server) != 0 ||
        !journal_grant_stale(g, now, why, sizeof why)) {
      i++;
      continue;
    }
    r.status = ACCESS_OK;
    if (covered_by_live(&j, i, now)) {
      snprintf(why + strlen(why), sizeof why - strlen(why),
               "; a live grant holds the same disable, so it stays");
      drop = true;
    } else if (!dry_run) {
      struct vim_moref vm;
      struct vim_error err;
      const char *method = g->method;

      if (!s && pool_checkout(ci, &s, &r) != ACCESS_OK) {
        *res = r;
        journal_close(&j);
        return res->status;
      }
      vim_moref_set(&vm, "VirtualMachine", g->vm);
      if (vim_enable_methods(s, &vm, 1, &method, 1, g->source, &err) ==
          VIM_OK) {
        drop = true;
        ++*n_swept;
      } else if (err.status == VIM_E_FAULT &&
                 err.fault.kind == VIM_FAULT_MANAGED_OBJECT_NOT_FOUND) {
        snprintf(why + strlen(why), sizeof why - strlen(why),
                 "; the VM no longer exists");
        drop = true;
      } else {
        access_fail_vim(&r, &err);
        if (first.status == ACCESS_OK)
          first = r;
      }
    } else {
      ++*n_swept;
    }
    if (report)
      report(opaque, g, why, &r);
    if (drop && !dry_run) {
      journal_remove(&j, i);
      removed++;
    } else {
      i++;
    }
  }
  if (s)
    pool_checkin(ci, s, first.status == ACCESS_OK ||
                            access_session_reusable(&first.vim));
  if (removed && journal_commit(&j, res) != ACCESS_OK) {
    journal_close(&j);
    return res->status;
  }
  journal_close(&j);
  *res = first;
  return res->status;
}
