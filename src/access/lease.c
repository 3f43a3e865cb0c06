/*
 * lease.c -- access holders and their leases, see lease.h.
 *
 * The holder copies the connection info once and then, per call, takes a
 * session (its own for LEASE_SESSION, a pooled one otherwise), resolves or
 * batches, and gives the session back.
 *
 * Journal grants are written *before* DisableMethods: if the process dies
 * between the two, a sweep re-enables something that may not be disabled,
 * which is harmless; the other order could leave a disable nobody knows
 * about.  After the call, grants for methods the call did not take (it
 * failed, or the identity held them already, e.g. from a plain `prepare`)
 * are removed again, so a sweep never undoes a disable this holder did not
 * make.
 *
 * The keep-alive thread reads the root folder's name every keepalive_ms on
 * the lease's session: cheap, and it needs a live session (vCenter answers
 * NotAuthenticated otherwise; src/vim then reports VIM_E_SESSION_LOST
 * because the session holds session-scoped disables).
 */
#include "access/lease.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "access/pool.h"
#include "access/target.h"
#include "access/vmxspec.h"
#include "util/log.h"
#include "util/mem.h"

struct lease {
  struct access_conninfo ci;   /* strings below */
  char *server, *thumbprint, *user, *password, *cookie;
  char *identity, *reason, *state_dir;
  struct lease_opts o;         /* strings point at the copies */
  struct vim_session *session; /* LEASE_SESSION only */

  pthread_t keeper;
  bool keeper_running;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  bool stopping;               /* under mu */
  bool lost;                   /* under mu */
  size_t held;                 /* VMs held under the session (under mu) */
  struct vim_error loss;       /* under mu, valid when lost */
};

static bool copy_str(char **dst, const char *src)
{
  *dst = fvx_strdup0(src);
  return !src || *dst;
}

static void lease_free(struct lease *l)
{
  free(l->server);
  free(l->thumbprint);
  free(l->user);
  fvx_free_secret(l->password);
  fvx_free_secret(l->cookie);
  free(l->identity);
  free(l->reason);
  free(l->state_dir);
  pthread_mutex_destroy(&l->mu);
  pthread_cond_destroy(&l->cv);
  free(l);
}

static bool lost(struct lease *l, struct vim_error *loss)
{
  bool r;

  pthread_mutex_lock(&l->mu);
  r = l->lost;
  if (r && loss)
    *loss = l->loss;
  pthread_mutex_unlock(&l->mu);
  return r;
}

static void *keep_alive(void *arg)
{
  static const char *const paths[] = {"name"};
  struct lease *l = arg;
  const struct vim_service_content *sc;
  struct vim_error err;

  if (vim_service_content(l->session, &sc, &err) != VIM_OK)
    return NULL;
  pthread_mutex_lock(&l->mu);
  while (!l->stopping) {
    struct timespec until;
    struct vim_objects *objs = NULL;
    int r;

    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += l->o.keepalive_ms / 1000;
    until.tv_nsec += (l->o.keepalive_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
      until.tv_sec++;
      until.tv_nsec -= 1000000000L;
    }
    while (!l->stopping &&
           pthread_cond_timedwait(&l->cv, &l->mu, &until) == 0)
      ;
    if (l->stopping)
      break;
    pthread_mutex_unlock(&l->mu);
    r = vim_retrieve(l->session, &sc->root_folder, 1, paths, 1, &objs, &err);
    vim_objects_free(objs);
    pthread_mutex_lock(&l->mu);
    if (r == VIM_E_SESSION_LOST ||
        (r == VIM_E_FAULT &&
         err.fault.kind == VIM_FAULT_NOT_AUTHENTICATED)) {
      bool tell = l->held > 0 && !l->lost;

      l->lost = true;
      l->loss = err;
      l->loss.status = VIM_E_SESSION_LOST;
      pthread_mutex_unlock(&l->mu);
      fvx_error("session lease for '%s' lost (%s): vCenter has dropped its "
                "disables; the VMs are no longer protected", l->identity,
                err.detail);
      if (tell && l->o.lost)
        l->o.lost(l->o.lost_opaque, err.detail);
      return NULL;
    }
    if (r != VIM_OK)
      fvx_debug("lease keep-alive: %s", err.detail);
  }
  pthread_mutex_unlock(&l->mu);
  return NULL;
}

/* Fills a NoPermission result naming the privilege and the root folder. */
static int no_permission(struct access_result *res, const char *priv,
                         const char *root)
{
  struct vim_error e;

  memset(&e, 0, sizeof e);
  e.status = VIM_E_FAULT;
  e.fault.kind = VIM_FAULT_NO_PERMISSION;
  snprintf(e.fault.type, sizeof e.fault.type, "NoPermission");
  snprintf(e.fault.privilege, sizeof e.fault.privilege, "%s", priv);
  snprintf(e.fault.object, sizeof e.fault.object, "%s (the vCenter root)",
           root);
  snprintf(e.detail, sizeof e.detail, "the user lacks %s on %s", priv, root);
  return access_fail_vim(res, &e);
}

static int check_privileges(struct vim_session *s, struct access_result *res)
{
  static const char *const privs[] = {"Global.DisableMethods",
                                      "Global.EnableMethods"};
  const struct vim_service_content *sc;
  struct vim_error err;
  bool ok[2];
  int r = vim_service_content(s, &sc, &err);

  if (r == VIM_OK)
    r = vim_has_privilege(s, &sc->root_folder, privs, 2, ok, &err);
  if (r == VIM_E_FAULT && (err.fault.kind == VIM_FAULT_METHOD_NOT_FOUND ||
                           err.fault.kind == VIM_FAULT_NOT_IMPLEMENTED ||
                           err.fault.kind == VIM_FAULT_NOT_SUPPORTED)) {
    fvx_debug("HasPrivilegeOnEntities unavailable: privileges are checked "
              "by the first DisableMethods instead");
    return ACCESS_OK;
  }
  if (r != VIM_OK)
    return access_fail_vim(res, &err);
  for (size_t i = 0; i < 2; i++)
    if (!ok[i])
      return no_permission(res, privs[i], sc->root_folder.value);
  return ACCESS_OK;
}

/* The session for one call. */
static int take_session(struct lease *l, struct vim_session **s,
                        struct access_result *res)
{
  struct vim_error loss;

  if (lost(l, &loss))
    return access_fail_vim(res, &loss);
  if (l->session) {
    *s = l->session;
    return ACCESS_OK;
  }
  if (pool_checkout(&l->ci, s, res) != ACCESS_OK)
    return res->status;
  if (!vim_session_is_vcenter(*s)) {
    pool_checkin(&l->ci, *s, true);
    *s = NULL;
    fvx_warn("HostAgent is not a vCenter, cannot deactivate svMotion.");
    return access_fail(res, ACCESS_E_NOT_VCENTER,
                       "HostAgent is not a vCenter, cannot deactivate "
                       "svMotion.");
  }
  return ACCESS_OK;
}

static void give_session(struct lease *l, struct vim_session *s,
                         const struct access_result *res)
{
  if (s && s != l->session)
    pool_checkin(&l->ci, s, res->status != ACCESS_E_VIM ||
                                access_session_reusable(&res->vim));
}

int lease_open(const struct access_conninfo *ci, const struct lease_opts *o,
               struct lease **out, struct access_result *res)
{
  struct lease *l = calloc(1, sizeof *l);
  bool ok;

  *out = NULL;
  if (!l)
    return access_fail(res, ACCESS_E_NOMEM, "out of memory");
  pthread_mutex_init(&l->mu, NULL);
  pthread_cond_init(&l->cv, NULL);
  ok = copy_str(&l->server, ci->server) &&
       copy_str(&l->thumbprint, ci->thumbprint) &&
       copy_str(&l->user, ci->user) && copy_str(&l->password, ci->password) &&
       copy_str(&l->cookie, ci->cookie) &&
       copy_str(&l->identity, o->identity) &&
       copy_str(&l->state_dir, o->state_dir);
  if (ok) {
    l->reason = o->reason ? strdup(o->reason) : pool_reason_dup();
    ok = l->reason != NULL;
  }
  if (!ok) {
    lease_free(l);
    return access_fail(res, ACCESS_E_NOMEM, "out of memory");
  }
  l->ci = *ci;
  l->ci.server = l->server;
  l->ci.thumbprint = l->thumbprint;
  l->ci.user = l->user;
  l->ci.password = l->password;
  l->ci.cookie = l->cookie;
  l->ci.vmx_spec = NULL;
  l->o = *o;
  l->o.identity = l->identity;
  l->o.reason = l->reason;
  l->o.state_dir = l->state_dir;
  if (!l->o.keepalive_ms)
    l->o.keepalive_ms = LEASE_DEFAULT_KEEPALIVE_MS;
  if (l->o.mode == LEASE_JOURNAL && !l->o.ttl_ms && !l->o.process_owned)
    l->o.ttl_ms = LEASE_DEFAULT_TTL_MS;

  if (o->mode == LEASE_SESSION) {
    if (pool_open_session(&l->ci, &l->session, res) != ACCESS_OK) {
      lease_free(l);
      return res->status;
    }
  }
  if (o->check_privileges) {
    struct vim_session *s = NULL;

    if (take_session(l, &s, res) == ACCESS_OK)
      check_privileges(s, res);
    give_session(l, s, res);
    if (res->status != ACCESS_OK) {
      vim_session_free(l->session);
      lease_free(l);
      return res->status;
    }
  }
  if (l->session) {
    if (pthread_create(&l->keeper, NULL, keep_alive, l) != 0) {
      vim_session_free(l->session);
      lease_free(l);
      return access_fail(res, ACCESS_E_NOMEM, "cannot start the keep-alive "
                         "thread");
    }
    l->keeper_running = true;
  }
  *out = l;
  res->status = ACCESS_OK;
  return ACCESS_OK;
}

int lease_resolve(struct lease *l, const char *const *specs, size_t n,
                  struct batch_vm *v, size_t *failed,
                  struct access_result *res)
{
  struct vim_session *s = NULL;
  struct access_result first;

  *failed = (size_t)-1;
  memset(v, 0, n * sizeof *v);
  first.status = ACCESS_OK;
  for (size_t i = 0; i < n; i++) {
    struct access_target_vm t;
    char why[256];

    memset(&t, 0, sizeof t);
    if (!vmxspec_parse(specs[i], &t.spec, why, sizeof why)) {
      v[i].state = BATCH_VM_FAILED;
      if (first.status == ACCESS_OK) {
        access_fail(&first, ACCESS_E_VMXSPEC, "VM %zu (\"%.100s\"): %s",
                    i + 1, specs[i], why);
        *failed = i;
      }
      continue;
    }
    if (t.spec.kind == VMXSPEC_MOREF) {
      vim_moref_set(&v[i].vm, "VirtualMachine", t.spec.moref);
      continue;
    }
    if (!s && take_session(l, &s, res) != ACCESS_OK)
      return res->status;
    t.session = s;
    if (access_target_resolve(&t, res) != ACCESS_OK) {
      v[i].state = BATCH_VM_NOT_FOUND;
      if (first.status == ACCESS_OK) {
        first = *res;
        *failed = i;
      }
      if (res->status == ACCESS_E_VIM) { /* the server, not the spec */
        for (size_t k = i + 1; k < n; k++)
          v[k].state = BATCH_VM_FAILED;
        break;
      }
      continue;
    }
    v[i].vm = t.vm;
  }
  give_session(l, s, &first);
  *res = first;
  return res->status;
}

/* Journal grants for every (VM, method) of v. */
static int record(struct lease *l, const struct batch_vm *v, size_t n,
                  const struct journal_grant *base, struct access_result *res)
{
  struct journal j;

  if (journal_open(&j, l->o.state_dir, res) != ACCESS_OK)
    return res->status;
  for (size_t i = 0; i < n && res->status == ACCESS_OK; i++)
    for (size_t k = 0; k < l->o.n_methods && res->status == ACCESS_OK; k++) {
      struct journal_grant g = *base;

      snprintf(g.vm, sizeof g.vm, "%s", v[i].vm.value);
      snprintf(g.method, sizeof g.method, "%s", l->o.methods[k]);
      journal_add(&j, &g, res);
    }
  if (res->status == ACCESS_OK)
    journal_commit(&j, res);
  journal_close(&j);
  return res->status;
}

/* After the call: keeps only the grants of base whose method this call
 * took (taken bit set). */
static void unrecord_untaken(struct lease *l, const struct batch_vm *v,
                             size_t n, const struct journal_grant *base)
{
  struct access_result res;
  struct journal j;
  size_t removed = 0;

  if (journal_open(&j, l->o.state_dir, &res) != ACCESS_OK) {
    fvx_error("%s", res.detail);
    return;
  }
  for (size_t i = 0; i < j.n;) {
    struct journal_grant *g = &j.grants[i];
    bool drop = false;

    if (g->pid == base->pid && g->pid_start == base->pid_start &&
        g->created == base->created && g->expires == base->expires &&
        g->port == base->port && strcmp(g->server, base->server) == 0 &&
        strcmp(g->source, base->source) == 0) {
      for (size_t k = 0; k < n; k++) {
        if (strcmp(v[k].vm.value, g->vm) != 0)
          continue;
        for (size_t m = 0; m < l->o.n_methods; m++)
          if (strcmp(l->o.methods[m], g->method) == 0)
            drop = !(v[k].taken & (1u << m));
        break;
      }
    }
    if (drop) {
      journal_remove(&j, i);
      removed++;
    } else {
      i++;
    }
  }
  if (removed && journal_commit(&j, &res) != ACCESS_OK)
    fvx_error("%s", res.detail);
  journal_close(&j);
}

static void batch_params_of(const struct lease *l, struct batch_params *p)
{
  memset(p, 0, sizeof *p);
  p->identity = l->o.identity;
  p->methods = l->o.methods;
  p->n_methods = l->o.n_methods;
  p->reason = l->o.reason;
  p->session_scope = l->o.mode == LEASE_SESSION;
  p->batch_size = l->o.batch_size;
  p->assume_atomic = l->o.assume_atomic;
  p->wait_ms = l->o.wait_ms;
  p->progress = l->o.progress;
  p->opaque = l->o.progress_opaque;
}

int lease_prepare(struct lease *l, struct batch_vm *v, size_t n,
                  size_t *failed, struct access_result *res)
{
  struct vim_session *s = NULL;
  struct journal_grant base;
  struct batch_params p;

  *failed = (size_t)-1;
  batch_params_of(l, &p);
  if (take_session(l, &s, res) != ACCESS_OK)
    return res->status;
  if (l->o.mode == LEASE_JOURNAL) {
    memset(&base, 0, sizeof base);
    snprintf(base.server, sizeof base.server, "%s", l->server);
    base.port = access_port(&l->ci);
    snprintf(base.source, sizeof base.source, "%s", l->identity);
    if (l->o.process_owned && !journal_self(&base.pid, &base.pid_start)) {
      base.pid = 0;
      base.pid_start = 0;
      if (!l->o.ttl_ms)
        l->o.ttl_ms = LEASE_DEFAULT_TTL_MS; /* no /proc: fall back */
    }
    if (!l->o.process_owned)
      base.pid = 0;
    base.created = (int64_t)time(NULL);
    base.expires = l->o.ttl_ms ? base.created + (l->o.ttl_ms + 999) / 1000
                               : 0;
    if (record(l, v, n, &base, res) != ACCESS_OK) {
      give_session(l, s, res);
      return res->status;
    }
  }
  batch_disable(s, v, n, &p, failed, res);
  if (l->o.mode == LEASE_JOURNAL)
    unrecord_untaken(l, v, n, &base);
  if (l->session && res->status == ACCESS_OK) {
    pthread_mutex_lock(&l->mu);
    l->held += n;
    pthread_mutex_unlock(&l->mu);
  }
  give_session(l, s, res);
  return res->status;
}

/* Drops every grant for a disable that is now gone. */
static void unrecord_ended(struct lease *l, const struct batch_vm *v,
                           size_t n)
{
  struct access_result res;
  struct journal j;
  size_t removed = 0;

  if (journal_open(&j, l->o.state_dir, &res) != ACCESS_OK) {
    fvx_warn("%s", res.detail);
    return;
  }
  for (size_t i = 0; i < j.n;) {
    const struct journal_grant *g = &j.grants[i];
    bool drop = false;

    if (g->port == access_port(&l->ci) &&
        strcmp(g->server, l->server) == 0 &&
        strcmp(g->source, l->identity) == 0)
      for (size_t k = 0; k < n && !drop; k++)
        for (size_t m = 0; m < l->o.n_methods && !drop; m++)
          drop = v[k].state == BATCH_VM_OK &&
                 strcmp(v[k].vm.value, g->vm) == 0 &&
                 strcmp(l->o.methods[m], g->method) == 0;
    if (drop) {
      journal_remove(&j, i);
      removed++;
    } else {
      i++;
    }
  }
  if (removed && journal_commit(&j, &res) != ACCESS_OK)
    fvx_error("%s", res.detail);
  journal_close(&j);
}

int lease_end(struct lease *l, struct batch_vm *v, size_t n,
              struct access_result *res)
{
  struct vim_session *s = NULL;
  struct batch_params p;

  batch_params_of(l, &p);
  if (take_session(l, &s, res) != ACCESS_OK)
    return res->status;
  batch_enable(s, v, n, &p, res);
  if (l->o.mode == LEASE_JOURNAL)
    unrecord_ended(l, v, n);
  if (l->session) {
    pthread_mutex_lock(&l->mu);
    for (size_t i = 0; i < n; i++)
      if (v[i].state == BATCH_VM_OK && l->held)
        l->held--;
    pthread_mutex_unlock(&l->mu);
  }
  give_session(l, s, res);
  return res->status;
}

static void join_list(char *out, size_t n, char *const *items, size_t k)
{
  size_t len = 0;

  out[0] = '\0';
  for (size_t i = 0; i < k && len < n; i++) {
    int w = snprintf(out + len, n - len, "%s%s", i ? "," : "", items[i]);

    if (w < 0)
      break;
    len += (size_t)w;
  }
}

/* Fills the holder fields of st[0..n) (st[i].vm set) from this machine's
 * journal.  A journal that cannot be read goes to problem (size
 * problem_n), not to a failure: the server's side is already known. */
static void journal_holders(struct lease *l, struct lease_vm_status *st,
                            size_t n, char *problem, size_t problem_n)
{
  struct journal j;
  struct access_result jr;

  problem[0] = '\0';
  if (journal_open(&j, l->o.state_dir, &jr) != ACCESS_OK) {
    snprintf(problem, problem_n, "%s", jr.detail);
    return;
  }
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < j.n; k++) {
      const struct journal_grant *g = &j.grants[k];

      if (g->port != access_port(&l->ci) ||
          strcmp(g->server, l->server) != 0 ||
          strcmp(g->vm, st[i].vm.value) != 0)
        continue;
      snprintf(st[i].holder, sizeof st[i].holder, "%s", g->source);
      st[i].owner_pid = g->pid;
      st[i].since = g->created;
      st[i].expires = g->expires;
      break;
    }
  journal_close(&j);
}

int lease_status(struct lease *l, const struct batch_vm *v, size_t n,
                 struct lease_vm_status *st, char *journal_problem,
                 size_t problem_n, struct access_result *res)
{
  struct vim_session *s = NULL;
  struct vim_vm_info *info = NULL;
  struct vim_moref *refs = calloc(n ? n : 1, sizeof *refs);
  struct vim_error err;

  memset(st, 0, n * sizeof *st);
  journal_problem[0] = '\0';
  if (!refs)
    return access_fail(res, ACCESS_E_NOMEM, "out of memory");
  for (size_t i = 0; i < n; i++)
    refs[i] = v[i].vm;
  if (take_session(l, &s, res) != ACCESS_OK) {
    free(refs);
    return res->status;
  }
  if (vim_vm_info_get(s, refs, n, &info, &err) != VIM_OK) {
    access_fail_vim(res, &err);
    give_session(l, s, res);
    free(refs);
    return res->status;
  }
  free(refs);
  res->status = ACCESS_OK;
  give_session(l, s, res);
  for (size_t i = 0; i < n; i++) {
    st[i].vm = v[i].vm;
    st[i].found = info[i].found;
    snprintf(st[i].name, sizeof st[i].name, "%s", info[i].name);
    join_list(st[i].disabled, sizeof st[i].disabled, info[i].disabled_methods,
              info[i].n_disabled);
  }
  vim_vm_info_free(info, n);
  journal_holders(l, st, n, journal_problem, problem_n);
  return ACCESS_OK;
}

int lease_status_all(struct lease *l, struct lease_vm_status **out,
                     size_t *n_out, char *journal_problem, size_t problem_n,
                     struct access_result *res)
{
  struct vim_session *s = NULL;
  struct vim_inventory *inv = NULL;
  struct lease_vm_status *st;
  struct vim_error err;
  size_t n = 0;

  *out = NULL;
  *n_out = 0;
  journal_problem[0] = '\0';
  if (take_session(l, &s, res) != ACCESS_OK)
    return res->status;
  if (vim_inventory_get(s, &inv, &err) != VIM_OK) {
    access_fail_vim(res, &err);
    give_session(l, s, res);
    return res->status;
  }
  res->status = ACCESS_OK;
  give_session(l, s, res);
  st = calloc(inv->n ? inv->n : 1, sizeof *st);
  if (!st) {
    vim_inventory_free(inv);
    return access_fail(res, ACCESS_E_NOMEM, "out of memory");
  }
  for (size_t i = 0; i < inv->n; i++) {
    const struct vim_inventory_item *it = &inv->items[i];

    if (!it->n_disabled || strcmp(it->ref.type, "VirtualMachine") != 0)
      continue;
    st[n].vm = it->ref;
    st[n].found = true;
    snprintf(st[n].name, sizeof st[n].name, "%s", it->name);
    join_list(st[n].disabled, sizeof st[n].disabled, it->disabled_methods,
              it->n_disabled);
    n++;
  }
  vim_inventory_free(inv);
  journal_holders(l, st, n, journal_problem, problem_n);
  *out = st;
  *n_out = n;
  return ACCESS_OK;
}

int lease_close(struct lease *l, struct access_result *res)
{
  struct vim_error loss;

  res->status = ACCESS_OK;
  if (!l)
    return ACCESS_OK;
  if (l->keeper_running) {
    pthread_mutex_lock(&l->mu);
    l->stopping = true;
    pthread_cond_signal(&l->cv);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->keeper, NULL);
  }
  if (lost(l, &loss) && l->held)
    access_fail_vim(res, &loss);
  vim_session_free(l->session); /* logout: vCenter ends scoped disables */
  lease_free(l);
  return res->status;
}
