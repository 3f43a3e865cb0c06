/*
 * open.c -- VixDiskLib_Open on a remote connection: the path must be the
 * head of one of the connection's disks, and the first transport of the
 * mode list that can serve it does.
 *
 * A transport "cannot serve" a disk when the host refuses the file (a
 * running VM's locked disk: DISK_E_LOCKED, DISK_E_ACCESS, an HTTP 403/500
 * for a locked file) or when the transport does not exist yet in this
 * build; any other failure (a missing file, a corrupt descriptor, a network
 * error) is reported as it is, since another transport would only hide it.
 * When every transport refused, the error says what each one answered.
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

/* True when the host refused this file to this transport (another one may
 * serve it). */
static bool refused(const struct access_result *res)
{
  int st = res->disk_status;

  return res->status == ACCESS_E_DISK &&
         (st == DISK_E_LOCKED || st == DISK_E_ACCESS ||
          (st == DISK_E_NET_HTTP && res->http_status == 500));
}

int remote_open(struct remote_conn *c, const char *path, unsigned disk_flags,
                unsigned compression, struct remote_disk **out,
                struct access_result *res)
{
  const struct vim_disk *d = find_disk(c, path);
  struct remote_disk *rd;
  char why[400] = "";
  size_t wl = 0;

  (void)compression; /* for NFC writes */
  *out = NULL;
  if (!d)
    return no_such_disk(c, path, res);
  rd = calloc(1, sizeof *rd);
  if (!rd)
    return access_fail(res, ACCESS_E_NOMEM, "out of memory");
  rd->c = c;
  for (size_t i = 0; i < c->n_order; i++) {
    enum remote_mode m = c->order[i];
    int n;

    if (m != REMOTE_MODE_HTTPS) {
      /* NFC is not in this build yet: the next mode serves. */
      n = snprintf(why + wl, sizeof why - wl, "%s%s: not available",
                   wl ? "; " : "", remote_mode_name(m));
      wl += n > 0 && (size_t)n < sizeof why - wl ? (size_t)n : 0;
      continue;
    }
    if (https_route_open(c, d, disk_flags, &rd->disk, &rd->https, res) ==
        ACCESS_OK) {
      rd->mode = m;
      rd->writable = false;
      if (!(disk_flags & DISK_OPEN_READONLY))
        fvx_info("remote: %s opened read-only: the datastore HTTPS "
                 "interface cannot write (writes need nbd or nbdssl)", path);
      c->open_disks++;
      *out = rd;
      return ACCESS_OK;
    }
    if (!refused(res)) {
      free(rd);
      return res->status;
    }
    n = snprintf(why + wl, sizeof why - wl, "%s%s: %s", wl ? "; " : "",
                 remote_mode_name(m), res->detail);
    wl += n > 0 && (size_t)n < sizeof why - wl ? (size_t)n : 0;
  }
  free(rd);
  return access_fail(res, ACCESS_E_TRANSPORT,
                     "no transport can read %s (%s%s): %s", path,
                     c->place.power_state,
                     c->snapshot.type[0] ? ", from a snapshot" : "", why);
}
