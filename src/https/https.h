/*
 * https.h -- the files of a datastore, read over vSphere's datastore HTTP
 * interface: GET https://<host>/folder/<path>?dcPath=<dc>&dsName=<ds> with
 * single Range requests (facts: reference/remote-disk.md §1).
 *
 * A struct https_site is one HTTP endpoint -- vCenter, or the ESXi host
 * that runs the VM -- with the datastores of one datacenter, a pool of
 * keep-alive connections, the certificate policy and the counters.  It
 * hands out a struct disk_vfs (disk/file.h) whose paths are datastore paths
 * "[ds] dir/file.vmdk", so the VMDK code in src/disk reads descriptors,
 * extents and parents through it without knowing HTTP.  This module knows
 * no vSphere SOAP either: authentication comes from a callback (a session
 * cookie through vCenter, a fresh generic service ticket per request
 * direct to the host), filled in by the layer above.
 *
 * READS.  A disk_file pread becomes one ranged GET (bytes=a-b) on an idle
 * pooled connection, or, with https_options.read_ahead, reads that come
 * in sequence are served from larger GETs sent ahead of them
 * (disk/readahead.h): fewer round trips and, direct to a host, fewer
 * tickets.  The answer must be 206 with exactly the bytes asked
 * for (a Content-Range that matches); 200 where 206 was expected, a short
 * or oversized body, or a wrong Content-Range is DISK_E_NET_PROTOCOL, never
 * silent zeros.  Bytes past the end of the file read as zeros (the size
 * comes from the HEAD at open and is fixed from then on; a 416 inside it
 * is DISK_E_RANGE).  A connection
 * dropped mid-body is resumed with a Range request for the rest, at most
 * https_options.max_retries times per read, with capped backoff; then
 * DISK_E_NET_CONNECT.  HTTP statuses map to statuses with the URL (never
 * a cookie or ticket) in the detail: 401/403 DISK_E_AUTH (or DISK_E_ACCESS
 * when the answer says permission), 404 DISK_E_NOTFOUND, 416
 * DISK_E_RANGE, 423 / a lock refusal DISK_E_LOCKED, 5xx DISK_E_NET_HTTP
 * (http_status in disk_error); 503 is retried within the bound first.
 *
 * THREADS.  ^Files of a site may be read from several threads at once
 * (DISK_FILE_CONCURRENT): each read takes a connection from the pool (at
 * most max_connections, waiting for one when all are busy), so several
 * range requests are in flight.  The auth callback is called from those
 * threads and must be thread-safe.
 *
 * WRITES.  None: the interface has no ranged PUT.  Files never have
 * DISK_FILE_CAN_WRITE, TRUNCATE or LOCK.
 *
 * OWNERSHIP.  ^The site is the caller's, freed with https_site_free after
 * every file opened from its vfs is closed.  Strings in https_options are
 * copied.
 */
#ifndef FVX_HTTPS_H
#define FVX_HTTPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "disk/file.h"

/* What one request sends, from the auth callback. */
struct https_auth {
  char cookie[1024];     /* Cookie header value, e.g. "vmware_soap_session=
                            ..." or "vmware_cgi_ticket=..." (a secret) */
  char thumbprint[128];  /* pin for this request's host; "" keeps the
                            site's */
  char host[256];        /* host to send this request to (a ticket's
                            hostName); "" keeps the URL's */
  bool single_use;       /* the cookie is good for this request only (a
                            ticket): a 401 is answered by one repeat with
                            a fresh one */
};

/* Fills *out for a request of method ("httpGet", "httpHead") on url (the
 * full URL the request will use).  Returns DISK_OK, or a DISK_E_* status
 * with the detail recorded (disk/error.h): the request is not sent. */
typedef int https_auth_fn(void *opaque, const char *url, const char *method,
                          struct https_auth *out);

/* Allocation of a file, for sources that can tell (the layer above answers
 * from Changed Block Tracking): as disk_file_ops.allocated, for the file
 * ds_path.  DISK_E_NOTCAPABLE: nothing is known about this file (it then
 * reports everything allocated). */
typedef int https_alloc_fn(void *opaque, const char *ds_path, uint64_t off,
                           uint64_t len, uint64_t *run, bool *allocated);

/* A datastore of the site: its name and, for resolving absolute parent
 * hints, its volume path ("/vmfs/volumes/5f...-.../", from the datastore's
 * summary.url "ds:///vmfs/volumes/.../"; NULL when unknown). */
struct https_datastore {
  const char *name;
  const char *volume_path;
};

struct https_options {
  const char *base;        /* "https://host[:port]"; "http://" only with
                              allow_http */
  const char *dc_path;     /* dcPath query value, NULL to omit (direct to
                              an ESXi host) */
  const struct https_datastore *datastores;
  size_t n_datastores;
  const char *thumbprint;  /* pin for base's host; NULL: CA check */
  const char *ca_file;     /* extra CA file, NULL for none */
  bool insecure;           /* no certificate check (loudly logged) */
  bool allow_http;
  /* libcurl CONNECT_TO entries, comma-separated "HOST:PORT:ADDR:PORT": a
   * host name the client cannot reach as given (NAT, tests) is dialled at
   * ADDR:PORT while TLS and the Host header keep the name.  NULL: none. */
  const char *connect_to;
  long connect_timeout_ms; /* 0: 30000 */
  long timeout_ms;         /* one request, whole; 0: 300000 */
  unsigned max_retries;    /* resumes per read after a drop or a 503;
                              0: 3 */
  unsigned max_connections; /* pool size; 0: 4 */
  https_auth_fn *auth;     /* required */
  void *auth_opaque;
  https_alloc_fn *alloc;   /* NULL: files report everything allocated */
  void *alloc_opaque;
  /* Added by the https branch: a request that receives no byte for this
   * long fails with DISK_E_NET_TIMEOUT (CURLOPT_LOW_SPEED_TIME, whole
   * seconds, rounded up), so a stalled body cannot hold a connection for
   * all of timeout_ms.  0: 60000. */
  long stall_timeout_ms;
  /* Sequential read-ahead on every file (disk/readahead.h): chunks of
   * read_ahead_bytes (0: 4 MiB) kept in flight ahead of a sequence of
   * reads, each one ranged GET on the pool.  0: none. */
  unsigned read_ahead;
  size_t read_ahead_bytes;
};

struct https_stats {
  uint64_t requests;       /* HTTP requests sent (each resume counts) */
  uint64_t connects;       /* new TCP connections */
  uint64_t tls_handshakes;
  uint64_t bytes;          /* body bytes received */
  uint64_t retries;        /* resumed or repeated requests */
};

struct https_site;

/* Creates a site (no traffic yet).  *out is the caller's.  Returns DISK_OK,
 * DISK_E_NOMEM, or DISK_E_ARG (bad base, bad thumbprint, http without
 * allow_http, bad connect_to) with the detail recorded. */
int https_site_new(struct https_site **out, const struct https_options *o);

/* Closes the pooled connections and frees the site; NULL is a no-op.  Every
 * file opened through the site must be closed first. */
void https_site_free(struct https_site *s);

/* The vfs of the site.  Paths are "[ds] dir/file.vmdk" with ds one of the
 * site's datastores (DISK_E_NAME otherwise).  resolve() takes a descriptor's
 * extent name or parentFileNameHint: a relative name is taken in the
 * directory of base, on base's datastore; an absolute "/vmfs/volumes/<vol>/
 * dir/f.vmdk" is mapped through the datastores' volume paths; anything
 * else, or a ".." leaving the datastore, is DISK_E_NAME.  open() sends a
 * HEAD (through the auth callback) for the size and to check the file is
 * there, and gives a read-only, concurrent file; DISK_VFS_WRITE is
 * DISK_E_NOTCAPABLE.  The vfs lives as long as the site. */
const struct disk_vfs *https_site_vfs(struct https_site *s);

/* Copies the counters (all files and connections of the site).  Can't
 * fail. */
void https_site_stats(struct https_site *s, struct https_stats *out);

#endif
