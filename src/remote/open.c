/*
 * open.c -- VixDiskLib_Open on a remote connection: the path must be the
 * head of one of the connection's disks, and the first transport of the
 * mode list that can serve it does.
 *
 * A transport "cannot serve" a disk when the host refuses the file to it
 * (a running VM's locked disk: DISK_E_LOCKED, DISK_E_ACCESS, an HTTP 403 or
 * 500 for a locked file) or cannot be reached (NFC's port closed, a host
 * the client cannot route to); the next mode is tried and the reason logged.
 * Any other failure (a missing file, a corrupt descriptor, a certificate
 * mismatch) is reported as it is, since another transport would only hide
 * it.  When every transport refused, the error says what each answered.
 *
 * Writes: only NFC writes (the datastore HTTP interface has no ranged
 * writes).  A writable open needs a read-write connection without a
 * snapshot (a snapshot's files are read-only) and goes to NFC alone: when
 * the host refuses it (a disk attached to a running VM, as VDDK refuses
 * it) Open fails rather than quietly opening read-only.  Without an NFC
 * mode in the list the disk is opened read-only over HTTPS, and writes fail
 * with a message saying why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/pool.h"
#include "disk/disk.h"
#include "remote/internal.h"
#include "util/log.h"

struct remote_disk {
  struct remote_conn *c;
  struct disk *disk;
  enum remote_mode mode;
  bool writable;
  struct https_ctx *https;
  struct nfc_ctx *nfc;
};

struct disk *remote_disk_disk(struct remote_disk *rd)
{
  return rd->disk;
}

enum remote_mode remote_disk_mode(const struct remote_disk *rd)
{
  return rd->mode;
}

bool remote_disk_writable(const struct remote_disk *rd)
{
  return rd->writable;
}

unsigned remote_disk_parallel(const struct remote_disk *rd)
{
  unsigned n = rd->mode == REMOTE_MODE_HTTPS ? rd->c->set.https_connections
                                             : rd->c->set.nfc_in_flight;

  if (!n)
    n = rd->mode == REMOTE_MODE_HTTPS ? 4 : 1;
  return n;
}

int remote_disk_close(struct remote_disk *rd)
{
  int st;

  if (!rd)
    return DISK_OK;
  st = disk_close(rd->disk);
  https_ctx_free(rd->https);
  nfc_ctx_free(rd->nfc);
  rd->c->open_disks--;
  free(rd);
  return st;
}

static const struct vim_disk *find_disk(const struct remote_conn *c,
                                        const char *path)
{
  for (size_t i = 0; i < c->n_disks; i++)
    if (c->disks[i].n_chain && strcmp(c->disks[i].chain[0].file_name,
                                      path) == 0)
      return &c->disks[i];
  return NULL;
}

static int no_such_disk(const struct remote_conn *c, const char *path,
                        struct access_result *res)
{
  char list[300] = "";
  size_t len = 0;

  for (size_t i = 0; i < c->n_disks && len < sizeof list - 4; i++) {
    int n = snprintf(list + len, sizeof list - len, "%s\"%s\"", i ? ", " : "",
                     remote_disk_path(c, i));

    if (n < 0 || (size_t)n >= sizeof list - len) {
      snprintf(list + (sizeof list - 5), 5, "...");
      break;
    }
    len += (size_t)n;
  }
  return access_fail(res, ACCESS_E_NO_SUCH_DISK,
                     "\"%.300s\" is not a disk of %s %s; its disks are: %s",
                     path, c->snapshot.type[0] ? "snapshot" : "VM",
                     c->snapshot.type[0] ? c->snapshot.value : c->vm.value,
                     c->n_disks ? list : "(none)");
}

/* True when the host refused the file to this transport (locked). */
static bool refused(const struct access_result *res)
{
  int st = res->disk_status;

  return res->status == ACCESS_E_DISK &&
         (st == DISK_E_LOCKED || st == DISK_E_ACCESS ||
          (st == DISK_E_NET_HTTP && res->http_status == 500));
}

/* True when this transport cannot serve the file: refused, or the host
 * cannot be reached over it (another mode may). */
static bool cannot_serve(const struct access_result *res)
{
  int st = res->disk_status;

  return refused(res) ||
         (res->status == ACCESS_E_DISK &&
          (st == DISK_E_NET_RESOLVE || st == DISK_E_NET_CONNECT ||
           st == DISK_E_NET_TIMEOUT));
}

static bool is_nfc(enum remote_mode m)
{
  return m == REMOTE_MODE_NBD || m == REMOTE_MODE_NBDSSL;
}

/* Appends "mode: why" to the list of refusals. */
static void note(char *why, size_t n, enum remote_mode m, const char *text)
{
  size_t len = strlen(why);

  snprintf(why + len, n - len, "%s%s: %s", len ? "; " : "",
           remote_mode_name(m), text);
}

static int open_mode(struct remote_conn *c, const struct vim_disk *d,
                     enum remote_mode m, bool writable, unsigned disk_flags,
                     unsigned compression, struct remote_disk *rd,
                     struct access_result *res)
{
  if (is_nfc(m))
    return nfc_route_open(c, d, m, writable, compression, &rd->disk, &rd->nfc,
                          res);
  return https_route_open(c, d, disk_flags, &rd->disk, &rd->https, res);
}

int remote_open(struct remote_conn *c, const char *path, unsigned disk_flags,
                unsigned compression, struct remote_disk **out,
                struct access_result *res)
{
  const struct vim_disk *d = find_disk(c, path);
  struct remote_disk *rd;
  bool want_write = !(disk_flags & DISK_OPEN_READONLY) && !c->read_only;
  bool writable = false, any_nfc = false, any_refused = false;
  char why[600] = "";

  *out = NULL;
  if (!d)
    return no_such_disk(c, path, res);
  for (size_t i = 0; i < c->n_order; i++)
    any_nfc = any_nfc || is_nfc(c->order[i]);
  if (want_write && c->snapshot.type[0]) {
    fvx_info("remote: %s opened read-only: it is the disk of snapshot %s, "
             "whose files are read-only", path, c->snapshot.value);
  } else if (want_write && !any_nfc) {
    fvx_info("remote: %s opened read-only: the datastore HTTPS interface "
             "cannot write (writes need nbd or nbdssl)", path);
  } else {
    writable = want_write;
  }
  rd = calloc(1, sizeof *rd);
  if (!rd)
    return access_fail(res, ACCESS_E_NOMEM, "out of memory");
  rd->c = c;
  for (size_t i = 0; i < c->n_order; i++) {
    enum remote_mode m = c->order[i];

    if (writable && !is_nfc(m))
      continue;
    if (open_mode(c, d, m, writable, disk_flags, compression, rd, res) ==
        ACCESS_OK) {
      rd->mode = m;
      rd->writable = writable;
      if (why[0])
        fvx_info("remote: %s read over %s (%s)", path, remote_mode_name(m),
                 why);
      c->open_disks++;
      *out = rd;
      return ACCESS_OK;
    }
    if (!cannot_serve(res) || (writable && refused(res))) {
      /* A host's refusal of a write is the answer: VDDK refuses writes to
       * a disk attached to a running VM too. */
      free(rd);
      return res->status;
    }
    any_refused = any_refused || refused(res);
    note(why, sizeof why, m, res->detail);
  }
  free(rd);
  if (!any_refused) {
    /* Nothing refused the file: the network is the problem, and its last
     * error (with every mode's answer in the detail) says which. */
    snprintf(res->detail, sizeof res->detail, "cannot reach %s: %.400s",
             path, why);
    return res->status;
  }
  return access_fail(res, ACCESS_E_TRANSPORT,
                     "no transport can %s %s (VM %s)%s: %s",
                     writable ? "write" : "read", path, c->place.power_state,
                     c->snapshot.type[0] ? ", snapshot disk" : "", why);
}
