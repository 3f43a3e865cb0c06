/*
 * conn.c -- a remote VixDiskLib connection: the VM, its snapshot, the disks
 * of that configuration, their datastores, the transport order.
 *
 * Everything a later Open needs is read here, in a handful of round trips,
 * so that a wrong vmxSpec, an unknown snapshot or a snapshot of another VM
 * fails at ConnectEx with a clear message (real VDDK defers much of it to
 * Open).  The session is checked out of the access pool for the lifetime
 * of the connection: generic service tickets, NFC tickets and CBT queries
 * go through it, from several threads (src/vim serialises calls on one
 * session).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/pool.h"
#include "access/target.h"
#include "disk/disk.h"
#include "disk/error.h"
#include "remote/internal.h"
#include "util/log.h"

/* At most this many datastores are looked up for one connection. */
#define MAX_DATASTORES 64

const char *remote_mode_name(enum remote_mode m)
{
  switch (m) {
  case REMOTE_MODE_NBDSSL:
    return "nbdssl";
  case REMOTE_MODE_NBD:
    return "nbd";
  case REMOTE_MODE_HTTPS:
    return "https";
  }
  return "?";
}

bool remote_mode_order(const char *modes, enum remote_mode order[3],
                       size_t *n)
{
  /* The default: VDDK's network transports first (they read running VMs'
   * snapshots), the datastore HTTP interface last. */
  const char *p = modes ? modes : "nbdssl:nbd";

  *n = 0;
  while (*p) {
    size_t len = strcspn(p, ":");
    bool known = false, seen = false;
    enum remote_mode m = REMOTE_MODE_HTTPS;

    for (int i = REMOTE_MODE_NBDSSL; i <= REMOTE_MODE_HTTPS; i++) {
      const char *name = remote_mode_name((enum remote_mode)i);

      if (strlen(name) == len && strncmp(p, name, len) == 0) {
        known = true;
        m = (enum remote_mode)i;
      }
    }
    if (!known) {
      /* Modes freevix has no remote implementation of are skipped. */
      if (!((len == 4 && strncmp(p, "file", 4) == 0) ||
            (len == 3 && strncmp(p, "san", 3) == 0) ||
            (len == 6 && strncmp(p, "hotadd", 6) == 0)))
        return false;
    } else {
      for (size_t i = 0; i < *n; i++)
        seen = seen || order[i] == m;
      if (!seen)
        order[(*n)++] = m;
    }
    p += len;
    if (*p == ':')
      p++;
  }
  if (*n == 0)
    return false;
  /* Asked for VDDK's network transports (nbdkit passes "nbdssl:nbd"), the
   * program wants the disk over the network: the datastore HTTPS path
   * serves where NFC cannot. */
  for (size_t i = 0; i < *n; i++)
    if (order[i] == REMOTE_MODE_HTTPS)
      return true;
  order[(*n)++] = REMOTE_MODE_HTTPS;
  return true;
}

int remote_fail_vim(struct remote_conn *c, const struct vim_error *err,
                    struct access_result *res)
{
  if (!access_session_reusable(err))
    c->reusable = false;
  return access_fail_vim(res, err);
}

int remote_fail_disk(int status, const char *what, struct access_result *res)
{
  const struct disk_error *e = disk_last_error();
  bool have = e->status == status && e->detail[0];

  if (have && strstr(e->detail, what))
    access_fail(res, ACCESS_E_DISK, "%s", e->detail);
  else
    access_fail(res, ACCESS_E_DISK, "%s: %s", what,
                have ? e->detail : disk_status_str(status));
  res->disk_status = status;
  res->http_status = have ? e->http_status : 0;
  return ACCESS_E_DISK;
}

/* "snapshot-12" or "VirtualMachineSnapshot:snapshot-12". */
static bool parse_snapshot(const char *ref, struct vim_moref *out)
{
  if (strchr(ref, ':'))
    return vim_moref_parse(out, ref) == VIM_OK &&
           strcmp(out->type, "VirtualMachineSnapshot") == 0;
  return vim_moref_set(out, "VirtualMachineSnapshot", ref);
}

static int check_snapshot(struct remote_conn *c, const char *ref,
                          struct access_result *res)
{
  struct vim_moref owner;
  struct vim_error err;
  int r;

  if (!parse_snapshot(ref, &c->snapshot))
    return access_fail(res, ACCESS_E_SNAPSHOT,
                       "snapshotRef \"%.100s\" is not a snapshot managed "
                       "object id (e.g. \"snapshot-12\")", ref);
  r = vim_snapshot_vm(c->s, &c->snapshot, &owner, &err);
  if (r == VIM_E_NOT_FOUND)
    return access_fail(res, ACCESS_E_SNAPSHOT,
                       "snapshot %s does not exist on %s", c->snapshot.value,
                       c->ci.server);
  if (r != VIM_OK)
    return remote_fail_vim(c, &err, res);
  if (strcmp(owner.value, c->vm.value) != 0)
    return access_fail(res, ACCESS_E_SNAPSHOT,
                       "snapshot %s belongs to VM %s, not to %s (%s)",
                       c->snapshot.value, owner.value, c->vm.value,
                       c->place.name);
  return ACCESS_OK;
}

/* Looks up every datastore named by a link of the disks' chains. */
static int load_datastores(struct remote_conn *c, struct access_result *res)
{
  struct vim_moref refs[MAX_DATASTORES];
  struct vim_error err;
  size_t n = 0;

  for (size_t i = 0; i < c->n_disks; i++)
    for (size_t j = 0; j < c->disks[i].n_chain; j++) {
      const struct vim_moref *ds = &c->disks[i].chain[j].datastore;
      bool seen = !ds->value[0];

      for (size_t k = 0; k < n && !seen; k++)
        seen = strcmp(refs[k].value, ds->value) == 0;
      if (seen)
        continue;
      if (n == MAX_DATASTORES)
        return access_fail(res, ACCESS_E_DISK,
                           "the VM's disks use more than %d datastores",
                           MAX_DATASTORES);
      refs[n++] = *ds;
    }
  if (!n)
    return ACCESS_OK;
  if (vim_datastores_get(c->s, refs, n, &c->ds, &err) != VIM_OK)
    return remote_fail_vim(c, &err, res);
  c->n_ds = n;
  return ACCESS_OK;
}

static int connect_steps(struct remote_conn *c, const char *snapshot_ref,
                         struct access_result *res)
{
  struct access_target_vm t;
  struct vim_error err;
  int r;

  r = access_target_open_any(&c->ci, &t, res);
  c->s = t.session; /* ours until remote_disconnect, even on failure */
  if (r != ACCESS_OK)
    return res->status;
  c->vcenter = vim_session_is_vcenter(c->s);
  c->vm = t.vm;
  r = vim_vm_place_get(c->s, &c->vm, &c->place, &err);
  if (r == VIM_E_NOT_FOUND)
    return access_fail(res, ACCESS_E_VM_NOT_FOUND,
                       "no VM %s on %s (vmxSpec \"%s\")", c->vm.value,
                       c->ci.server, c->ci.vmx_spec);
  if (r != VIM_OK)
    return remote_fail_vim(c, &err, res);
  if (snapshot_ref && *snapshot_ref &&
      check_snapshot(c, snapshot_ref, res) != ACCESS_OK)
    return res->status;
  r = vim_disks_get(c->s, c->snapshot.type[0] ? &c->snapshot : &c->vm,
                    &c->disks, &c->n_disks, &err);
  if (r != VIM_OK)
    return remote_fail_vim(c, &err, res);
  if (load_datastores(c, res) != ACCESS_OK)
    return res->status;
  fvx_debug("remote: %s (%s, %s) on host %s, %zu disk(s)%s%s%s", c->vm.value,
            c->place.name, c->place.power_state, c->place.host_name,
            c->n_disks, c->snapshot.type[0] ? " of snapshot " : "",
            c->snapshot.type[0] ? c->snapshot.value : "",
            c->place.change_tracking ? ", CBT on" : "");
  for (size_t i = 0; i < c->n_disks; i++)
    if (c->disks[i].n_chain)
      fvx_debug("remote:   disk %d %s: %zu link(s), changeId \"%s\"",
                (int)c->disks[i].key, c->disks[i].chain[0].file_name,
                c->disks[i].n_chain, c->disks[i].chain[0].change_id);
  res->status = ACCESS_OK;
  return ACCESS_OK;
}

int remote_connect(struct remote_conn **out, const struct access_conninfo *ci,
                   unsigned nfc_port, const char *snapshot_ref,
                   const char *modes, bool read_only,
                   struct access_result *res)
{
  struct remote_conn *c;

  *out = NULL;
  c = calloc(1, sizeof *c);
  if (!c)
    return access_fail(res, ACCESS_E_NOMEM, "out of memory");
  c->ci = *ci;
  c->read_only = read_only;
  c->nfc_port = nfc_port;
  c->reusable = true;
  if (!remote_mode_order(modes, c->order, &c->n_order)) {
    free(c);
    return access_fail(res, ACCESS_E_TRANSPORT,
                       "transportModes \"%.256s\" names no transport freevix "
                       "can use for remote disks (nbdssl, nbd, https)",
                       modes ? modes : "");
  }
  if (remote_settings_get(&c->set) != ACCESS_OK) {
    free(c);
    return access_fail(res, ACCESS_E_SHUTDOWN, "library not initialized");
  }
  if (connect_steps(c, snapshot_ref, res) != ACCESS_OK) {
    remote_disconnect(c);
    return res->status;
  }
  *out = c;
  return ACCESS_OK;
}

void remote_disconnect(struct remote_conn *c)
{
  if (!c)
    return;
  if (c->open_disks)
    fvx_warn("remote: disconnecting with %u disk(s) open", c->open_disks);
  pool_checkin(&c->ci, c->s, c->reusable);
  vim_disks_free(c->disks, c->n_disks);
  free(c->ds);
  remote_settings_release(&c->set);
  memset(c, 0, sizeof *c);
  free(c);
}

size_t remote_disk_count(const struct remote_conn *c)
{
  return c->n_disks;
}

const char *remote_disk_path(const struct remote_conn *c, size_t i)
{
  if (i >= c->n_disks || !c->disks[i].n_chain)
    return NULL;
  return c->disks[i].chain[0].file_name;
}
