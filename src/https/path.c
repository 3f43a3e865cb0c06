/*
 * path.c -- names on a datastore and the URLs that reach them.
 *
 * A file is named "[ds] dir/f.vmdk" (the datastore path of vSphere); its
 * URL is <origin>/folder/<dir/f.vmdk>?dcPath=<dc>&dsName=<ds>.  Relative
 * paths are kept normalised ("a/./b//c" is "a/b/c", "a/../b" is "b") so
 * that one file has one name, which is also its disk_file.id; a ".." that
 * would climb out of the datastore is refused, never clamped.  Bytes are
 * not reinterpreted: UTF-8 names go to the server byte for byte,
 * percent-encoded.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "disk/disk.h"
#include "disk/error.h"
#include "https/internal.h"
#include "util/text.h"

static bool has_control(const char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      return true;
  return false;
}

/* True when the last segment of s names a file: not empty (a trailing
 * '/'), ".", or "..". */
static bool names_file(const char *s)
{
  const char *last = strrchr(s, '/');

  last = last ? last + 1 : s;
  return *last && strcmp(last, ".") != 0 && strcmp(last, "..") != 0;
}

/* ---- the endpoint ---- */

/* Checks a host as it may stand in a URL: a name or IPv4 address
 * (letters, digits, '-', '.', '_') or a bracketed IPv6 literal (hex
 * digits, ':', '.', and a "%25" zone). */
static bool host_ok(const char *h)
{
  size_t n = strlen(h);

  if (n == 0 || n >= HTTPS_HOST_MAX)
    return false;
  if (h[0] == '[') {
    if (n < 3 || h[n - 1] != ']')
      return false;
    for (size_t i = 1; i + 1 < n; i++)
      if (!isxdigit((unsigned char)h[i]) && h[i] != ':' && h[i] != '.' &&
          h[i] != '%')
        return false;
    return true;
  }
  for (size_t i = 0; i < n; i++)
    if (!isalnum((unsigned char)h[i]) && h[i] != '-' && h[i] != '.' &&
        h[i] != '_')
      return false;
  return true;
}

int https_base_parse(struct https_base *out, const char *base,
                     bool allow_http)
{
  const char *p, *hend;
  size_t hl;

  memset(out, 0, sizeof *out);
  if (!base)
    return disk_fail(DISK_E_ARG, "https: no base URL");
  if (strncasecmp(base, "https://", 8) == 0) {
    out->tls = true;
    p = base + 8;
  } else if (strncasecmp(base, "http://", 7) == 0) {
    if (!allow_http)
      return disk_fail(DISK_E_ARG,
                       "https: %s is plain http; only https is allowed "
                       "(allow_http is for tests)", base);
    p = base + 7;
  } else {
    return disk_fail(DISK_E_ARG, "https: base URL must start with https://");
  }
  if (*p == '[') {
    hend = strchr(p, ']');
    hend = hend ? hend + 1 : p + strlen(p);
  } else {
    hend = p + strcspn(p, ":/");
  }
  hl = (size_t)(hend - p);
  if (hl == 0 || hl >= sizeof out->host)
    return disk_fail(DISK_E_ARG, "https: no usable host in base URL");
  memcpy(out->host, p, hl);
  out->host[hl] = '\0';
  if (!host_ok(out->host))
    return disk_fail(DISK_E_ARG, "https: bad host in base URL");
  p = hend;
  if (*p == ':') {
    char *end;
    unsigned long port;

    if (!isdigit((unsigned char)p[1]))
      return disk_fail(DISK_E_ARG, "https: bad port in base URL");
    port = strtoul(p + 1, &end, 10);
    if (port == 0 || port > 65535)
      return disk_fail(DISK_E_ARG, "https: bad port in base URL");
    out->port = (unsigned)port;
    p = end;
  }
  if (*p == '/')
    p++;
  if (*p)
    return disk_fail(DISK_E_ARG,
                     "https: base URL must be scheme://host[:port] only");
  return DISK_OK;
}

int https_origin(char *out, size_t n, const struct https_base *b,
                 const char *host)
{
  char h[HTTPS_HOST_MAX + 2];
  char port[16] = "";
  int w;

  if (host && *host) {
    if (strchr(host, ':') && host[0] != '[')
      snprintf(h, sizeof h, "[%s]", host);
    else
      snprintf(h, sizeof h, "%s", host);
    if (!host_ok(h))
      return disk_fail(DISK_E_ARG, "https: the host to send to is not a "
                                   "host name or address");
  } else {
    snprintf(h, sizeof h, "%s", b->host);
  }
  if (b->port)
    snprintf(port, sizeof port, ":%u", b->port);
  w = snprintf(out, n, "%s://%s%s", b->tls ? "https" : "http", h, port);
  if (w < 0 || (size_t)w >= n)
    return disk_fail(DISK_E_ARG, "https: host name too long");
  return DISK_OK;
}

/* ---- datastore paths ---- */

int https_path_join(const char *dir, const char *name,
                    char out[HTTPS_PATH_MAX])
{
  size_t o = 0;
  const char *parts[2] = {dir, name};

  out[0] = '\0';
  if (has_control(dir) || has_control(name))
    return disk_fail(DISK_E_NAME, "datastore path has a control character");
  for (int k = 0; k < 2; k++) {
    const char *p = parts[k];

    while (*p) {
      size_t sl = strcspn(p, "/");

      if (sl == 0 || (sl == 1 && p[0] == '.')) {
        /* empty or "." segment */
      } else if (sl == 2 && p[0] == '.' && p[1] == '.') {
        char *slash;

        if (o == 0)
          return disk_fail(DISK_E_NAME,
                           "'%s' climbs out of the datastore", name);
        out[o] = '\0';
        slash = strrchr(out, '/');
        o = slash ? (size_t)(slash - out) : 0;
      } else {
        if (o + (o ? 1 : 0) + sl >= HTTPS_PATH_MAX)
          return disk_fail(DISK_E_NAME, "datastore path too long");
        if (o)
          out[o++] = '/';
        memcpy(out + o, p, sl);
        o += sl;
      }
      p += sl;
      if (*p == '/')
        p++;
    }
  }
  out[o] = '\0';
  return DISK_OK;
}

int https_path_split(const char *path, char ds[HTTPS_DS_MAX],
                     char rel[HTTPS_PATH_MAX])
{
  const char *close;
  size_t dl;

  if (!path || path[0] != '[')
    return disk_fail(DISK_E_NAME, "'%s' is not a datastore path "
                                  "(\"[datastore] dir/file\")",
                     path ? path : "(null)");
  close = strchr(path, ']');
  dl = close ? (size_t)(close - path - 1) : 0;
  if (!close || dl == 0 || dl >= HTTPS_DS_MAX)
    return disk_fail(DISK_E_NAME, "'%s' has no usable datastore name", path);
  memcpy(ds, path + 1, dl);
  ds[dl] = '\0';
  if (has_control(ds))
    return disk_fail(DISK_E_NAME, "datastore name has a control character");
  close++;
  while (*close == ' ')
    close++;
  if (*close == '/')
    return disk_fail(DISK_E_NAME, "'%s': the path after the datastore must "
                                  "be relative", path);
  if (!names_file(close))
    return disk_fail(DISK_E_NAME, "'%s' names no file", path);
  if (https_path_join("", close, rel) != DISK_OK)
    return disk_last_error()->status;
  return DISK_OK;
}

/* ---- URLs ---- */

bool https_pct_encode(char *out, size_t n, const char *s, bool keep_slash)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t o = strlen(out);

  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;

    if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' ||
        (keep_slash && c == '/')) {
      if (o + 1 >= n)
        return false;
      out[o++] = (char)c;
    } else {
      if (o + 3 >= n)
        return false;
      out[o++] = '%';
      out[o++] = hex[c >> 4];
      out[o++] = hex[c & 15];
    }
  }
  out[o] = '\0';
  return true;
}

char *https_url_tail(const char *rel, const char *dc, const char *ds)
{
  /* every byte may triple, plus the fixed parts */
  size_t n = 3 * (strlen(rel) + (dc ? strlen(dc) : 0) + strlen(ds)) + 64;
  char *t = malloc(n);
  bool ok;

  if (!t)
    return NULL;
  snprintf(t, n, "/folder/");
  ok = https_pct_encode(t, n, rel, true);
  if (dc) {
    ok = ok && fvx_strlcpy(t + strlen(t), "?dcPath=", n - strlen(t));
    ok = ok && https_pct_encode(t, n, dc, false);
  }
  ok = ok && fvx_strlcpy(t + strlen(t), dc ? "&dsName=" : "?dsName=",
                         n - strlen(t));
  ok = ok && https_pct_encode(t, n, ds, false);
  if (!ok) { /* cannot happen with the size above */
    free(t);
    return NULL;
  }
  return t;
}

/* ---- resolve ---- */

/* "[ds] rel" malloc'd, or NULL with *status DISK_E_NOMEM. */
static char *ds_path(const char *ds, const char *rel, int *status)
{
  size_t n = strlen(ds) + strlen(rel) + 4;
  char *r = malloc(n);

  if (!r) {
    *status = disk_fail(DISK_E_NOMEM, "out of memory");
    return NULL;
  }
  snprintf(r, n, "[%s] %s", ds, rel);
  *status = DISK_OK;
  return r;
}

/* name = "/vmfs/volumes/<vol>/rest": the datastore whose volume path or
 * name is <vol>. */
static char *resolve_volume(const struct https_site *s, const char *name,
                            int *status)
{
  static const char prefix[] = "/vmfs/volumes/";
  const char *vol = name + sizeof prefix - 1, *rest;
  size_t vl = strcspn(vol, "/");
  char rel[HTTPS_PATH_MAX];

  rest = vol + vl;
  if (!names_file(rest)) {
    *status = disk_fail(DISK_E_NAME, "'%s' names no file", name);
    return NULL;
  }
  for (size_t i = 0; vl && i < s->n_ds; i++) {
    const struct https_ds *d = &s->ds[i];
    const char *dv = d->volume ? d->volume + sizeof prefix - 1 : NULL;
    bool match = (dv && strlen(dv) == vl && strncmp(dv, vol, vl) == 0) ||
                 (strlen(d->name) == vl && strncmp(d->name, vol, vl) == 0);

    if (!match)
      continue;
    *status = https_path_join("", rest, rel);
    if (*status != DISK_OK)
      return NULL;
    return ds_path(d->name, rel, status);
  }
  *status = disk_fail(DISK_E_NAME, "'%s' is on no datastore of this site",
                      name);
  return NULL;
}

char *https_resolve(const struct disk_vfs *vfs, const char *base,
                    const char *name, int *status)
{
  const struct https_site *s = vfs->opaque;
  char ds[HTTPS_DS_MAX], rel[HTTPS_PATH_MAX], joined[HTTPS_PATH_MAX];
  char *slash;
  int dummy;

  if (!status)
    status = &dummy;
  if (!name || !names_file(name)) {
    *status = disk_fail(DISK_E_NAME, "'%s' names no file",
                        name ? name : "(null)");
    return NULL;
  }
  if (has_control(name)) {
    *status = disk_fail(DISK_E_NAME, "file name has a control character");
    return NULL;
  }
  if (strncmp(name, "/vmfs/volumes/", 14) == 0)
    return resolve_volume(s, name, status);
  if (name[0] == '/' || name[0] == '[' || strstr(name, "://")) {
    *status = disk_fail(DISK_E_NAME, "'%s' cannot be reached through the "
                                     "datastores of this site", name);
    return NULL;
  }
  *status = https_path_split(base, ds, rel);
  if (*status != DISK_OK)
    return NULL;
  if (!https_site_ds(s, ds)) {
    *status = disk_fail(DISK_E_NAME, "datastore '%s' is not one of this "
                                     "site's", ds);
    return NULL;
  }
  slash = strrchr(rel, '/');
  if (slash)
    *slash = '\0';
  else
    rel[0] = '\0';
  *status = https_path_join(rel, name, joined);
  if (*status != DISK_OK)
    return NULL;
  return ds_path(ds, joined, status);
}
