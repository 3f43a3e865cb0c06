/*
 * internal.h -- what the files of src/https share, sectioned by file:
 *
 *   head.c     the head of an answer (head.h, kept apart for the fuzzer)
 *   path.c     datastore paths, resolve(), percent-encoding, URLs
 *   pool.c     the pool of libcurl easy handles of a site
 *   request.c  one exchange (auth, send, receive into the caller's buffer,
 *              check) and the retry loop around it
 *   file.c     the disk_vfs and disk_file of a site
 *   site.c     https_site_new/free/stats
 */
#ifndef FVX_HTTPS_INTERNAL_H
#define FVX_HTTPS_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>

#include "disk/file.h"
#include "disk/readahead.h"
#include "https/head.h"
#include "https/https.h"
#include "util/tls.h"

/* Longest datastore name, relative path, host name (with their NUL). */
#define HTTPS_DS_MAX 256
#define HTTPS_PATH_MAX 2048
#define HTTPS_HOST_MAX 256

/* Defaults and limits of struct https_options (docs/https.md). */
#define HTTPS_CONNECT_TIMEOUT_MS 30000L
#define HTTPS_TIMEOUT_MS 300000L
#define HTTPS_STALL_TIMEOUT_MS 60000L
#define HTTPS_MAX_RETRIES 3u
#define HTTPS_MAX_RETRIES_LIMIT 100u
#define HTTPS_CONNECTIONS 4u
#define HTTPS_CONNECTIONS_LIMIT 256u
/* Backoff before repeat k (k = 0, 1, ...): BASE << k, at most CAP; a
 * Retry-After up to CAP replaces it. */
#define HTTPS_BACKOFF_BASE_MS 50L
#define HTTPS_BACKOFF_CAP_MS 2000L
#define HTTPS_READ_AHEAD_BYTES (4u * 1024u * 1024u)

/* ---- path.c ---- */

/* The endpoint of base ("https://host[:port]"). */
struct https_base {
  bool tls;                  /* https (else plain http) */
  char host[HTTPS_HOST_MAX]; /* name, IPv4, or [IPv6] with its brackets */
  unsigned port;             /* 0: the scheme's default */
};

/* Parses o->base.  DISK_OK or DISK_E_ARG with the detail recorded. */
int https_base_parse(struct https_base *out, const char *base,
                     bool allow_http);

/* "scheme://host[:port]" into out (size n) with host instead of b's when
 * host is not NULL or "" (an IPv6 literal gets its brackets).  DISK_OK, or
 * DISK_E_ARG for a host that is not a plain host name or address (detail
 * recorded). */
int https_origin(char *out, size_t n, const struct https_base *b,
                 const char *host);

/* Splits a datastore path "[ds] dir/f.vmdk" into its datastore name and
 * its normalised relative path ("." and empty segments dropped, ".."
 * applied).  DISK_OK or DISK_E_NAME (malformed, a ".." above the
 * datastore's root, a control character, too long) with the detail
 * recorded; outputs unspecified then. */
int https_path_split(const char *path, char ds[HTTPS_DS_MAX],
                     char rel[HTTPS_PATH_MAX]);

/* Normalises dir + "/" + name (dir may be "") into out.  DISK_OK or
 * DISK_E_NAME as above. */
int https_path_join(const char *dir, const char *name,
                    char out[HTTPS_PATH_MAX]);

/* "/folder/<rel>?dcPath=<dc>&dsName=<ds>" with every path segment and
 * query value percent-encoded (RFC 3986 unreserved characters kept);
 * dcPath left out when dc is NULL.  malloc'd, NULL when out of memory. */
char *https_url_tail(const char *rel, const char *dc, const char *ds);

/* Appends the percent-encoding of s to out (size n): unreserved characters
 * (A-Z a-z 0-9 - . _ ~) and, with keep_slash, '/' stay; every other byte
 * becomes %XX.  False when it does not fit. */
bool https_pct_encode(char *out, size_t n, const char *s, bool keep_slash);

/* disk_vfs.resolve of a site (contract in https.h). */
char *https_resolve(const struct disk_vfs *vfs, const char *base,
                    const char *name, int *status);

/* ---- pool.c ---- */

/* One pooled easy handle and the TLS policy of its connection. */
struct https_conn {
  CURL *curl;                     /* NULL until first taken */
  bool busy;
  struct fvx_tls tls;             /* read by the verify callback */
  char conn_host[HTTPS_HOST_MAX]; /* host of its cached connection */
  struct fvx_pin conn_pin;        /* pin that connection was checked with */
  char errbuf[CURL_ERROR_SIZE];
};

/* Takes an idle handle, creating one while fewer than max_connections
 * exist and waiting for one otherwise.  DISK_OK or DISK_E_NOMEM. */
int https_pool_take(struct https_site *s, struct https_conn **out);

/* Gives a handle back (its connection stays open for the next request).
 * Can't fail. */
void https_pool_give(struct https_site *s, struct https_conn *c);

/* Cleans up every handle (closing connections).  No handle may be taken. */
void https_pool_close(struct https_site *s);

/* ---- request.c ---- */

/* HEAD for the size of the file at tail (a https_url_tail).  DISK_OK, or a
 * status with the detail recorded, after the retries of the site. */
int https_fetch_size(struct https_site *s, const char *tail, uint64_t *size);

/* GET bytes [off, off+len) (len >= 1, inside the file) into buf, resuming
 * after drops.  DISK_OK with all len bytes there, or a status with the
 * detail recorded (buf contents unspecified). */
int https_fetch_range(struct https_site *s, const char *tail, void *buf,
                      uint64_t off, size_t len);

/* ---- file.c ---- */

/* Fills s->vfs. */
void https_vfs_init(struct https_site *s);

/* ---- site.c ---- */

struct https_ds {
  char *name;   /* owned */
  char *volume; /* owned, "/vmfs/volumes/<vol>" without a trailing '/',
                   or NULL */
};

struct https_site {
  struct disk_vfs vfs; /* opaque: the site */
  struct https_base base;
  char *dc_path;       /* owned or NULL */
  struct https_ds *ds; /* owned, n_ds entries */
  size_t n_ds;
  struct fvx_pin pin;  /* the site's pin (empty: CA check) */
  char *ca_file;       /* owned or NULL */
  bool insecure;
  struct curl_slist *connect_to; /* owned or NULL */
  long connect_timeout_ms, timeout_ms, stall_s;
  unsigned max_retries;
  struct disk_readahead read_ahead; /* depth 0: none */
  https_auth_fn *auth;
  void *auth_opaque;
  https_alloc_fn *alloc;
  void *alloc_opaque;

  pthread_mutex_t lock; /* guards conns[].busy and n_conns */
  pthread_cond_t idle;
  struct https_conn *conns; /* owned, max_conns entries */
  unsigned max_conns;

  struct https_stats stats; /* updated with __atomic builtins */
};

/* Adds n to a counter of s->stats.  Can't fail. */
static inline void https_count(uint64_t *counter, uint64_t n)
{
  __atomic_add_fetch(counter, n, __ATOMIC_RELAXED);
}

/* The datastore called name, or NULL. */
const struct https_ds *https_site_ds(const struct https_site *s,
                                     const char *name);

#endif
