/*
 * https_route.c -- one disk over the datastore HTTP interface: which
 * endpoint serves it, how each request authenticates, and which file CBT
 * answers allocation for (facts: reference/remote-disk.md §1, §4).
 *
 * Routes (freevix.httpsRoute):
 *   host     GET https://<the VM's host>/folder/...?dsName=<ds> (no dcPath,
 *            as govmomi does), each request with a fresh single-use generic
 *            service ticket (cookie vmware_cgi_ticket) acquired for exactly
 *            that URL and method, the host's certificate pinned to the
 *            ticket's sslThumbprint.  Faster than vCenter's proxy.
 *   vcenter  GET https://<vCenter>/folder/...?dcPath=<dc>&dsName=<ds> with
 *            the session cookie, pinned like the SOAP connection.
 *   auto     host; vCenter when the host cannot be reached (resolve,
 *            connect or timeout failure at open -- never after a
 *            certificate mismatch, which is an attack or a misconfiguration
 *            to report, not to route around).
 * On an ESXi host (apiType HostAgent) the server is the host: its cookie,
 * dcPath ha-datacenter.
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/pool.h"
#include "disk/disk.h"
#include "disk/error.h"
#include "disk/file.h"
#include "https/https.h"
#include "remote/internal.h"
#include "util/log.h"
#include "util/mem.h"

#define ESX_DATACENTER "ha-datacenter"

struct https_ctx {
  struct remote_conn *c;
  bool ticket;            /* host route: a generic service ticket per request */
  char cookie[1024];      /* vmware_soap_session=... (secret) */
  struct https_datastore ds[64];
  char volume[64][512];
  char name[64][256];     /* datastore names taken from file names */
  struct https_site *site;
  struct cbt_map *cbt;
};

void https_ctx_free(struct https_ctx *ctx)
{
  if (!ctx)
    return;
  https_site_free(ctx->site);
  cbt_map_free(ctx->cbt);
  fvx_wipe(ctx, sizeof *ctx);
  free(ctx);
}

/* https_auth_fn: the session cookie, or a ticket for exactly this request. */
static int auth(void *opaque, const char *url, const char *method,
                struct https_auth *out)
{
  struct https_ctx *ctx = opaque;
  struct vim_service_ticket t;
  struct vim_error err;
  int n;

  memset(out, 0, sizeof *out);
  if (!ctx->ticket) {
    snprintf(out->cookie, sizeof out->cookie, "%s", ctx->cookie);
    return DISK_OK;
  }
  if (vim_acquire_generic_ticket(ctx->c->s, url, method, &t, &err) != VIM_OK)
    return disk_fail(err.status == VIM_E_FAULT ? DISK_E_AUTH
                                                : DISK_E_NET_CONNECT,
                     "AcquireGenericServiceTicket for %s failed: %s",
                     method, err.detail);
  n = snprintf(out->cookie, sizeof out->cookie, "vmware_cgi_ticket=%s", t.id);
  snprintf(out->thumbprint, sizeof out->thumbprint, "%s", t.ssl_thumbprint);
  snprintf(out->host, sizeof out->host, "%s", t.host_name);
  out->single_use = true;
  fvx_wipe(&t, sizeof t);
  if (n < 0 || (size_t)n >= sizeof out->cookie) {
    fvx_wipe(out, sizeof *out);
    return disk_fail(DISK_E_AUTH, "service ticket too long");
  }
  return DISK_OK;
}

/* "host" or "[v6]" with the scheme of the server name stripped; *http says
 * whether it was "http://". */
static void server_host(const char *server, char *out, size_t n, bool *http)
{
  *http = strncmp(server, "http://", 7) == 0;
  if (*http)
    server += 7;
  else if (strncmp(server, "https://", 8) == 0)
    server += 8;
  if (strchr(server, ':') && server[0] != '[')
    snprintf(out, n, "[%s]", server);
  else
    snprintf(out, n, "%s", server);
}

/* The datastores of the connection as the site wants them: name plus the
 * volume path of summary.url ("ds:///vmfs/volumes/x/" -> "/vmfs/volumes/x/"),
 * then the "[ds]" names of d's chain that the server did not describe (an
 * ESXi host may leave the backing's datastore unset), by name only. */
static void fill_datastores(struct https_ctx *ctx, const struct vim_disk *d,
                            struct https_options *o)
{
  const struct remote_conn *c = ctx->c;
  size_t max = sizeof ctx->ds / sizeof ctx->ds[0], n = 0;

  for (size_t i = 0; i < c->n_ds && n < max; i++, n++) {
    const char *u = c->ds[i].url;

    ctx->ds[n].name = c->ds[i].name;
    ctx->ds[n].volume_path = NULL;
    if (strncmp(u, "ds://", 5) == 0 && u[5] == '/') {
      snprintf(ctx->volume[n], sizeof ctx->volume[n], "%s", u + 5);
      ctx->ds[n].volume_path = ctx->volume[n];
    }
  }
  for (size_t j = 0; j < d->n_chain && n < max; j++) {
    const char *f = d->chain[j].file_name, *end = strchr(f, ']');
    bool known = false;

    if (f[0] != '[' || !end || end - f - 1 >= (ptrdiff_t)sizeof ctx->name[0])
      continue;
    snprintf(ctx->name[n], sizeof ctx->name[n], "%.*s", (int)(end - f - 1),
             f + 1);
    for (size_t k = 0; k < n && !known; k++)
      known = strcmp(ctx->ds[k].name, ctx->name[n]) == 0;
    if (!known) {
      ctx->ds[n].name = ctx->name[n];
      ctx->ds[n].volume_path = NULL;
      n++;
    }
  }
  o->datastores = ctx->ds;
  o->n_datastores = n;
}

/* The flat extent file of the chain's base descriptor, by ESXi's naming
 * ("x.vmdk" -> "x-flat.vmdk"): the file CBT's "*" answers for.  "" when
 * the base is not a flat disk. */
static void base_flat_path(const struct vim_disk *d, char *out, size_t n)
{
  const struct vim_disk_link *base = &d->chain[d->n_chain - 1];
  size_t len = strlen(base->file_name);

  out[0] = '\0';
  if (strcmp(base->backing_type, "VirtualDiskFlatVer2BackingInfo") != 0 ||
      len < 5 || strcmp(base->file_name + len - 5, ".vmdk") != 0)
    return;
  snprintf(out, n, "%.*s-flat.vmdk", (int)(len - 5), base->file_name);
}

static bool unreachable(int st)
{
  return st == DISK_E_NET_RESOLVE || st == DISK_E_NET_CONNECT ||
         st == DISK_E_NET_TIMEOUT;
}

/* Opens d over one route; *site is kept on success. */
static int open_route(struct https_ctx *ctx, const struct vim_disk *d,
                      bool host_route, unsigned disk_flags, struct disk **out)
{
  const struct remote_conn *c = ctx->c;
  struct pool_net net;
  struct https_options o;
  char host[300], base[400];
  bool http = false;
  int st;

  memset(&o, 0, sizeof o);
  if (pool_net_settings(&net) != ACCESS_OK)
    return disk_fail(DISK_E_ARG, "the library is shutting down");
  if (host_route) {
    snprintf(base, sizeof base, "https://%s", c->place.host_name);
    o.dc_path = NULL;
    o.thumbprint = NULL; /* every request pins the ticket's thumbprint */
  } else {
    server_host(c->ci.server, host, sizeof host, &http);
    snprintf(base, sizeof base, "%s://%s:%u", http ? "http" : "https", host,
             c->ci.port);
    o.dc_path = c->vcenter ? c->place.dc_path : ESX_DATACENTER;
    o.thumbprint = c->ci.thumbprint;
  }
  ctx->ticket = host_route;
  o.base = base;
  o.ca_file = net.ca_file[0] ? net.ca_file : NULL;
  o.insecure = net.insecure;
  o.allow_http = net.allow_http;
  o.connect_to = c->set.connect_to;
  o.connect_timeout_ms = net.connect_timeout_ms;
  o.timeout_ms = c->set.data_timeout_ms;
  o.max_retries = c->set.https_retries;
  o.max_connections = c->set.https_connections;
  o.read_ahead = c->set.https_read_ahead;
  o.read_ahead_bytes = c->set.https_read_ahead_bytes;
  o.auth = auth;
  o.auth_opaque = ctx;
  if (ctx->cbt) {
    o.alloc = cbt_map_allocated;
    o.alloc_opaque = ctx->cbt;
  }
  fill_datastores(ctx, d, &o);
  st = https_site_new(&ctx->site, &o);
  if (!st)
    st = disk_open_vfs(out, https_site_vfs(ctx->site), d->chain[0].file_name,
                       disk_flags | DISK_OPEN_READONLY);
  if (st) {
    https_site_free(ctx->site);
    ctx->site = NULL;
  }
  return st;
}

int https_route_open(struct remote_conn *c, const struct vim_disk *d,
                     unsigned disk_flags, struct disk **out,
                     struct https_ctx **ctxp, struct access_result *res)
{
  struct https_ctx *ctx;
  struct vim_error err;
  char flat[1100], value[900];
  enum remote_route route = c->set.route;
  int st;

  *out = NULL;
  *ctxp = NULL;
  ctx = calloc(1, sizeof *ctx);
  if (!ctx)
    return access_fail(res, ACCESS_E_NOMEM, "out of memory");
  ctx->c = c;
  if (vim_session_cookie(c->s, value, sizeof value, &err) != VIM_OK) {
    https_ctx_free(ctx);
    return remote_fail_vim(c, &err, res);
  }
  snprintf(ctx->cookie, sizeof ctx->cookie, "vmware_soap_session=%s", value);
  fvx_wipe(value, sizeof value);
  base_flat_path(d, flat, sizeof flat);
  if (flat[0])
    ctx->cbt = cbt_map_new(c, d, flat);

  if (!c->vcenter || !c->place.host_name[0])
    route = REMOTE_ROUTE_VCENTER; /* an ESXi host serves its own files */
  if (route == REMOTE_ROUTE_VCENTER) {
    st = open_route(ctx, d, false, disk_flags, out);
  } else {
    st = open_route(ctx, d, true, disk_flags, out);
    if (st && route == REMOTE_ROUTE_AUTO && unreachable(st)) {
      fvx_info("remote: host %s unreachable for datastore reads (%s); "
               "reading through vCenter", c->place.host_name,
               disk_last_error()->detail);
      st = open_route(ctx, d, false, disk_flags, out);
    }
  }
  if (st) {
    https_ctx_free(ctx);
    return remote_fail_disk(st, d->chain[0].file_name, res);
  }
  *ctxp = ctx;
  res->status = ACCESS_OK;
  return ACCESS_OK;
}
