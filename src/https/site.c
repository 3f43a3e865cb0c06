/*
 * site.c -- creating and freeing a site (https.h): options are checked and
 * copied here, once, so the rest of the module trusts them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk/disk.h"
#include "disk/error.h"
#include "https/internal.h"
#include "util/curl.h"
#include "util/log.h"
#include "util/mem.h"

/* Checks one CONNECT_TO entry "HOST:PORT:ADDR:PORT" (each part may be
 * empty as libcurl allows, ADDR may be a bracketed IPv6 literal). */
static bool connect_to_ok(const char *e, size_t n)
{
  size_t i = 0;
  int field = 0;

  while (field < 4) {
    size_t start = i;

    if (i < n && e[i] == '[') {
      while (i < n && e[i] != ']')
        i++;
      if (i == n)
        return false;
      i++;
    } else {
      while (i < n && e[i] != ':')
        i++;
    }
    for (size_t k = start; k < i; k++) {
      unsigned char c = (unsigned char)e[k];

      if (c <= ' ' || c == 0x7f || c == '/' || c == '@' ||
          ((field == 1 || field == 3) && (c < '0' || c > '9')))
        return false;
    }
    if ((field == 1 || field == 3) && i - start > 5)
      return false;
    field++;
    if (field < 4) {
      if (i >= n || e[i] != ':')
        return false;
      i++;
    }
  }
  return i == n;
}

static int parse_connect_to(struct https_site *s, const char *list)
{
  const char *p = list;

  while (list && *p) {
    size_t n = strcspn(p, ",");
    char entry[HTTPS_HOST_MAX * 2 + 16];
    struct curl_slist *t;

    if (n == 0 || n >= sizeof entry || !connect_to_ok(p, n))
      return disk_fail(DISK_E_ARG, "https: bad connect_to entry (want "
                                   "HOST:PORT:ADDR:PORT)");
    memcpy(entry, p, n);
    entry[n] = '\0';
    t = curl_slist_append(s->connect_to, entry);
    if (!t)
      return disk_fail(DISK_E_NOMEM, "out of memory");
    s->connect_to = t;
    p += n;
    if (*p == ',')
      p++;
  }
  return DISK_OK;
}

/* "/vmfs/volumes/<vol>" from a volume path or a "ds://" summary.url;
 * NULL (with the detail recorded) when it is neither. */
static char *volume_of(const char *v, int *rc)
{
  static const char prefix[] = "/vmfs/volumes/";
  size_t n;
  char *r;

  *rc = DISK_OK;
  if (strncmp(v, "ds://", 5) == 0)
    v += 5;
  n = strlen(v);
  while (n && v[n - 1] == '/')
    n--;
  if (n <= sizeof prefix - 1 || strncmp(v, prefix, sizeof prefix - 1) ||
      memchr(v + sizeof prefix - 1, '/', n - (sizeof prefix - 1))) {
    *rc = disk_fail(DISK_E_ARG, "https: volume path '%s' is not "
                                "/vmfs/volumes/<volume>/", v);
    return NULL;
  }
  r = malloc(n + 1);
  if (!r) {
    *rc = disk_fail(DISK_E_NOMEM, "out of memory");
    return NULL;
  }
  memcpy(r, v, n);
  r[n] = '\0';
  return r;
}

static int copy_datastores(struct https_site *s, const struct https_options *o)
{
  int rc = DISK_OK;

  if (!o->datastores || o->n_datastores == 0)
    return disk_fail(DISK_E_ARG, "https: a site needs its datastores");
  s->ds = calloc(o->n_datastores, sizeof *s->ds);
  if (!s->ds)
    return disk_fail(DISK_E_NOMEM, "out of memory");
  for (size_t i = 0; i < o->n_datastores; i++) {
    const struct https_datastore *d = &o->datastores[i];
    size_t nl = d->name ? strlen(d->name) : 0;

    if (nl == 0 || nl >= HTTPS_DS_MAX || strchr(d->name, ']') ||
        strpbrk(d->name, "\r\n\t"))
      return disk_fail(DISK_E_ARG, "https: unusable datastore name");
    if (https_site_ds(s, d->name))
      return disk_fail(DISK_E_ARG, "https: datastore '%s' given twice",
                       d->name);
    s->ds[i].name = strdup(d->name);
    if (!s->ds[i].name)
      return disk_fail(DISK_E_NOMEM, "out of memory");
    s->n_ds = i + 1;
    if (d->volume_path) {
      s->ds[i].volume = volume_of(d->volume_path, &rc);
      if (!s->ds[i].volume)
        return rc;
    }
  }
  return DISK_OK;
}

static int check_limits(struct https_site *s, const struct https_options *o)
{
  long stall = o->stall_timeout_ms ? o->stall_timeout_ms
                                   : HTTPS_STALL_TIMEOUT_MS;

  if (o->connect_timeout_ms < 0 || o->timeout_ms < 0 ||
      o->stall_timeout_ms < 0)
    return disk_fail(DISK_E_ARG, "https: negative timeout");
  if (o->max_retries > HTTPS_MAX_RETRIES_LIMIT ||
      o->max_connections > HTTPS_CONNECTIONS_LIMIT)
    return disk_fail(DISK_E_ARG, "https: max_retries above %u or "
                     "max_connections above %u", HTTPS_MAX_RETRIES_LIMIT,
                     HTTPS_CONNECTIONS_LIMIT);
  s->connect_timeout_ms = o->connect_timeout_ms ? o->connect_timeout_ms
                                                : HTTPS_CONNECT_TIMEOUT_MS;
  s->timeout_ms = o->timeout_ms ? o->timeout_ms : HTTPS_TIMEOUT_MS;
  s->stall_s = (stall + 999) / 1000; /* libcurl counts whole seconds */
  s->max_retries = o->max_retries ? o->max_retries : HTTPS_MAX_RETRIES;
  s->max_conns = o->max_connections ? o->max_connections
                                    : HTTPS_CONNECTIONS;
  s->read_ahead.depth = o->read_ahead;
  s->read_ahead.chunk = o->read_ahead_bytes ? o->read_ahead_bytes
                                            : HTTPS_READ_AHEAD_BYTES;
  if (s->read_ahead.depth > DISK_READAHEAD_DEPTH_MAX ||
      s->read_ahead.chunk < DISK_READAHEAD_CHUNK_MIN ||
      s->read_ahead.chunk > DISK_READAHEAD_CHUNK_MAX)
    return disk_fail(DISK_E_ARG, "https: read-ahead of %u chunks of %zu "
                     "bytes is outside 0..%u chunks of %u..%u bytes",
                     s->read_ahead.depth, s->read_ahead.chunk,
                     DISK_READAHEAD_DEPTH_MAX, DISK_READAHEAD_CHUNK_MIN,
                     DISK_READAHEAD_CHUNK_MAX);
  return DISK_OK;
}

static int setup(struct https_site *s, const struct https_options *o)
{
  int rc;

  if (!o->auth)
    return disk_fail(DISK_E_ARG, "https: no auth callback");
  rc = https_base_parse(&s->base, o->base, o->allow_http);
  if (rc == DISK_OK && fvx_pin_parse(&s->pin, o->thumbprint) != 0)
    rc = disk_fail(DISK_E_ARG, "https: malformed thumbprint (want 20 or 32 "
                               "hex bytes)");
  if (rc == DISK_OK)
    rc = check_limits(s, o);
  if (rc == DISK_OK)
    rc = copy_datastores(s, o);
  if (rc == DISK_OK)
    rc = parse_connect_to(s, o->connect_to);
  if (rc != DISK_OK)
    return rc;
  if (fvx_curl_init() != 0)
    return disk_fail(DISK_E_NOMEM, "https: libcurl initialisation failed");
  if (s->base.tls && !fvx_curl_is_openssl())
    return disk_fail(DISK_E_NET_TLS, "https: libcurl is not built with "
                                     "OpenSSL: cannot check thumbprints");
  s->dc_path = fvx_strdup0(o->dc_path);
  s->ca_file = fvx_strdup0(o->ca_file);
  s->conns = calloc(s->max_conns, sizeof *s->conns);
  if ((o->dc_path && !s->dc_path) || (o->ca_file && !s->ca_file) ||
      !s->conns)
    return disk_fail(DISK_E_NOMEM, "out of memory");
  s->insecure = o->insecure;
  s->auth = o->auth;
  s->auth_opaque = o->auth_opaque;
  s->alloc = o->alloc;
  s->alloc_opaque = o->alloc_opaque;
  return DISK_OK;
}

int https_site_new(struct https_site **out, const struct https_options *o)
{
  struct https_site *s;
  int rc;

  if (!out || !o)
    return disk_fail(DISK_E_ARG, "https: no site or options");
  *out = NULL;
  s = calloc(1, sizeof *s);
  if (!s)
    return disk_fail(DISK_E_NOMEM, "out of memory");
  pthread_mutex_init(&s->lock, NULL);
  pthread_cond_init(&s->idle, NULL);
  https_vfs_init(s);
  rc = setup(s, o);
  if (rc != DISK_OK) {
    https_site_free(s);
    return rc;
  }
  if (s->insecure && s->base.tls)
    fvx_warn("https: certificate checks are off for %s (insecure option)",
             s->base.host);
  *out = s;
  return DISK_OK;
}

void https_site_free(struct https_site *s)
{
  if (!s)
    return;
  https_pool_close(s);
  free(s->conns);
  for (size_t i = 0; i < s->n_ds; i++) {
    free(s->ds[i].name);
    free(s->ds[i].volume);
  }
  free(s->ds);
  free(s->dc_path);
  free(s->ca_file);
  curl_slist_free_all(s->connect_to);
  pthread_cond_destroy(&s->idle);
  pthread_mutex_destroy(&s->lock);
  memset(s, 0, sizeof *s);
  free(s);
}

const struct disk_vfs *https_site_vfs(struct https_site *s)
{
  return s ? &s->vfs : NULL;
}

void https_site_stats(struct https_site *s, struct https_stats *out)
{
  out->requests = __atomic_load_n(&s->stats.requests, __ATOMIC_RELAXED);
  out->connects = __atomic_load_n(&s->stats.connects, __ATOMIC_RELAXED);
  out->tls_handshakes =
      __atomic_load_n(&s->stats.tls_handshakes, __ATOMIC_RELAXED);
  out->bytes = __atomic_load_n(&s->stats.bytes, __ATOMIC_RELAXED);
  out->retries = __atomic_load_n(&s->stats.retries, __ATOMIC_RELAXED);
}

const struct https_ds *https_site_ds(const struct https_site *s,
                                     const char *name)
{
  for (size_t i = 0; i < s->n_ds; i++)
    if (strcmp(s->ds[i].name, name) == 0)
      return &s->ds[i];
  return NULL;
}
