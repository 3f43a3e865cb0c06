/*
 * nfc_route.c -- one disk over VDDK's network transports nbd and nbdssl
 * (NFC on the host, port 902; facts: reference/nfc.md).
 *
 * The host interprets the VMDK chain: freevix opens the file the
 * configuration names -- for a snapshot, the file the snapshot's config
 * names, never the running VM's writable leaf (§1 "Disk and snapshot") --
 * and reads logical bytes, so the disk is a raw disk of src/disk over an
 * NFC disk_file (src/nfc/nfc_file.c).  Tickets come from the NfcService
 * through the connection's session, one per TCP connection, single use
 * (§1 "Ticket use"): NfcGetVmFiles for read-only opens, NfcRandomAccessOpenDisk
 * (VM, device key, host) for writable ones (§1: a GetVmFiles ticket cannot
 * write).  The ticket's thumbprint pins the host's certificate.
 *
 * The host to dial is the ticket's (vCenter), or the server itself when
 * the ticket has none (ESXi direct, §1 table); VDDK's nfcHostPort, when the
 * program set one, replaces the ticket's port.  freevix.connectTo maps
 * host names the client cannot reach as given, as for HTTPS.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/pool.h"
#include "disk/disk.h"
#include "disk/error.h"
#include "disk/file.h"
#include "nfc/nfc.h"
#include "remote/internal.h"
#include "util/log.h"
#include "util/mem.h"
#include "vixDiskLib.h"

/* The ddb keys a raw disk keeps for GetInfo and ReadMetadata (§3.2
 * DDB_GET: "GetInfo uses geometry.bios*, adapterType and uuid"). */
static const char *const ddb_keys[] = {
    "adapterType", "geometry.biosCylinders", "geometry.biosHeads",
    "geometry.biosSectors", "uuid", "virtualHWVersion",
};
#define N_DDB (sizeof ddb_keys / sizeof ddb_keys[0])

struct nfc_ctx {
  struct remote_conn *c;
  const struct vim_disk *d;
  bool writable;
  unsigned port; /* nfcHostPort when the program set one, else 0 */
};

void nfc_ctx_free(struct nfc_ctx *ctx)
{
  free(ctx);
}

/* nfc_ticket_fn: a fresh ticket for every connection. */
static int ticket(void *opaque, struct nfc_ticket *out, struct nfc_error *err)
{
  struct nfc_ctx *ctx = opaque;
  struct remote_conn *c = ctx->c;
  struct vim_host_ticket t;
  struct vim_error verr;
  int r;

  memset(out, 0, sizeof *out);
  if (ctx->writable)
    r = vim_nfc_random_access(c->s, &c->vm, ctx->d->key, &c->place.host, true,
                              &t, &verr);
  else
    r = vim_nfc_get_vm_files(c->s, &c->vm, &t, &verr);
  if (r != VIM_OK) {
    memset(err, 0, sizeof *err);
    err->status = verr.status == VIM_E_FAULT ? NFC_E_AUTH : NFC_E_CONNECT;
    snprintf(err->detail, sizeof err->detail, "%s failed: %.400s",
             ctx->writable ? "NfcRandomAccessOpenDisk" : "NfcGetVmFiles",
             verr.detail);
    return -1;
  }
  snprintf(out->host, sizeof out->host, "%s", t.host);
  out->port = ctx->port ? ctx->port : t.port;
  snprintf(out->ssl_thumbprint, sizeof out->ssl_thumbprint, "%s",
           t.ssl_thumbprint);
  snprintf(out->service, sizeof out->service, "%s", t.service);
  snprintf(out->session_id, sizeof out->session_id, "%s", t.session_id);
  fvx_wipe(&t, sizeof t);
  return 0;
}

/* VixDiskLib's compression flag as NFC's (§3.2 IO "Compression"). */
static enum nfc_compression compression_of(unsigned flags)
{
  if (flags & VIXDISKLIB_FLAG_OPEN_COMPRESSION_ZLIB)
    return NFC_COMP_ZLIB;
  if (flags & VIXDISKLIB_FLAG_OPEN_COMPRESSION_FASTLZ)
    return NFC_COMP_FASTLZ;
  if (flags & VIXDISKLIB_FLAG_OPEN_COMPRESSION_SKIPZ)
    return NFC_COMP_SKIPZ;
  return NFC_COMP_NONE;
}

/* The server name without a scheme: the host of a ticket without one. */
static void server_host(const char *server, char *out, size_t n)
{
  if (strncmp(server, "https://", 8) == 0)
    server += 8;
  else if (strncmp(server, "http://", 7) == 0)
    server += 7;
  snprintf(out, n, "%s", server);
}

int nfc_route_open(struct remote_conn *c, const struct vim_disk *d,
                   enum remote_mode mode, bool writable, unsigned compression,
                   struct disk **out, struct nfc_ctx **ctxp,
                   struct access_result *res)
{
  struct nfc_ctx *ctx;
  struct nfc_options o;
  struct nfc_file_params p;
  struct nfc_disk_info info;
  struct disk_file *f = NULL;
  struct pool_net net;
  char host[300];
  const char *ddb[2 * N_DDB + 1];
  size_t n = 0;
  int st;

  *out = NULL;
  *ctxp = NULL;
  if (pool_net_settings(&net) != ACCESS_OK)
    return access_fail(res, ACCESS_E_SHUTDOWN, "library not initialized");
  ctx = calloc(1, sizeof *ctx);
  if (!ctx)
    return access_fail(res, ACCESS_E_NOMEM, "out of memory");
  ctx->c = c;
  ctx->d = d;
  ctx->writable = writable;
  ctx->port = c->nfc_port;
  server_host(c->ci.server, host, sizeof host);
  memset(&o, 0, sizeof o);
  o.transport = mode == REMOTE_MODE_NBD ? NFC_NBD : NFC_NBDSSL;
  o.default_host = host;
  o.connect_to = c->set.connect_to;
  o.connect_timeout_ms = net.connect_timeout_ms;
  o.io_timeout_ms = c->set.nfc_timeout_ms;
  o.max_request = c->set.nfc_request_bytes;
  o.max_in_flight = c->set.nfc_in_flight;
  o.compression = compression_of(compression);
  o.keepalive_ms = c->set.nfc_keepalive_ms;
  memset(&p, 0, sizeof p);
  p.options = &o;
  p.path = d->chain[0].file_name;
  p.writable = writable;
  p.ticket = ticket;
  p.ticket_opaque = ctx;
  st = nfc_file_open(&f, &p, &info);
  if (st) {
    nfc_ctx_free(ctx);
    return remote_fail_disk(st, d->chain[0].file_name, res);
  }
  for (size_t i = 0; i < N_DDB; i++) {
    const char *v = nfc_file_ddb(f, ddb_keys[i]);

    if (v) {
      ddb[n++] = ddb_keys[i];
      ddb[n++] = v;
    }
  }
  ddb[n] = NULL;
  /* The disk takes f; ddb values are copied before f can go away. */
  st = disk_open_raw(out, f, ddb,
                     d->n_chain > 1 ? DISK_KIND_VMFS_SPARSE
                                    : d->chain[0].thin ? DISK_KIND_VMFS_THIN
                                                       : DISK_KIND_VMFS_FLAT,
                     writable ? 0 : DISK_OPEN_READONLY);
  if (st) {
    nfc_ctx_free(ctx);
    return remote_fail_disk(st, d->chain[0].file_name, res);
  }
  fvx_debug("remote: %s over %s: %llu bytes, %u-byte sectors", p.path,
            remote_mode_name(mode), (unsigned long long)info.capacity,
            info.sector_size);
  *ctxp = ctx;
  res->status = ACCESS_OK;
  return ACCESS_OK;
}
