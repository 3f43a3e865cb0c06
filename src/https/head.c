/*
 * head.c -- parsing the head of an HTTP answer (head.h).
 *
 * Each function walks [p, p+n) with an index and never past n; numbers are
 * accumulated with an overflow check against HTTPS_MAX_OFFSET.  Header
 * names compare case-insensitively (RFC 9110 §5.1); values are trimmed of
 * spaces and tabs (OWS).
 */
#include "https/head.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

enum { H_OTHER, H_LENGTH, H_RANGE, H_TE, H_CE, H_RETRY };

static bool is_ows(char c)
{
  return c == ' ' || c == '\t';
}

/* Trims OWS and the line end from both sides of [*p, *p + *n). */
static void trim(const char **p, size_t *n)
{
  while (*n && (is_ows(**p) || **p == '\r' || **p == '\n')) {
    (*p)++;
    (*n)--;
  }
  while (*n && (is_ows((*p)[*n - 1]) || (*p)[*n - 1] == '\r' ||
                (*p)[*n - 1] == '\n'))
    (*n)--;
}

/* Reads digits at p[*i..n) into *out; false when there are none or the
 * value passes HTTPS_MAX_OFFSET. */
static bool digits(const char *p, size_t n, size_t *i, uint64_t *out)
{
  uint64_t v = 0;
  size_t start = *i;

  while (*i < n && p[*i] >= '0' && p[*i] <= '9') {
    unsigned d = (unsigned)(p[*i] - '0');

    if (v > (HTTPS_MAX_OFFSET - d) / 10)
      return false;
    v = v * 10 + d;
    (*i)++;
  }
  *out = v;
  return *i > start;
}

bool https_parse_number(const char *p, size_t n, uint64_t *out)
{
  size_t i = 0;

  trim(&p, &n);
  return digits(p, n, &i, out) && i == n;
}

bool https_parse_content_range(const char *p, size_t n, uint64_t *first,
                               uint64_t *last, uint64_t *total,
                               bool *total_known)
{
  size_t i = 5;

  trim(&p, &n);
  if (n < 5 || strncasecmp(p, "bytes", 5) != 0)
    return false;
  if (i >= n || !is_ows(p[i]))
    return false;
  while (i < n && is_ows(p[i]))
    i++;
  if (!digits(p, n, &i, first) || i >= n || p[i] != '-')
    return false;
  i++;
  if (!digits(p, n, &i, last) || i >= n || p[i] != '/' || *last < *first)
    return false;
  i++;
  if (i < n && p[i] == '*') {
    *total_known = false;
    *total = 0;
    return i + 1 == n;
  }
  if (!digits(p, n, &i, total) || i != n || *total <= *last)
    return false;
  *total_known = true;
  return true;
}

bool https_parse_status(const char *p, size_t n, long *code, char *reason,
                        size_t rn)
{
  size_t i = 5, o = 0;

  if (n < 5 || memcmp(p, "HTTP/", 5) != 0)
    return false;
  while (i < n && ((p[i] >= '0' && p[i] <= '9') || p[i] == '.'))
    i++;
  if (i == 5 || i >= n || p[i] != ' ')
    return false;
  i++;
  if (n - i < 3)
    return false;
  for (size_t k = 0; k < 3; k++)
    if (p[i + k] < '0' || p[i + k] > '9')
      return false;
  *code = (p[i] - '0') * 100 + (p[i + 1] - '0') * 10 + (p[i + 2] - '0');
  i += 3;
  if (i < n && p[i] != ' ' && p[i] != '\r' && p[i] != '\n')
    return false;
  while (i < n && p[i] == ' ')
    i++;
  for (; i < n && rn && o + 1 < rn; i++) {
    unsigned char c = (unsigned char)p[i];

    if (c == '\r' || c == '\n')
      break;
    reason[o++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
  }
  if (rn)
    reason[o] = '\0';
  return true;
}

static void mark_bad(struct https_head *h, const char *what)
{
  if (!h->bad) {
    h->bad = true;
    snprintf(h->bad_what, sizeof h->bad_what, "%s", what);
  }
}

void https_head_reset(struct https_head *h)
{
  memset(h, 0, sizeof *h);
  h->retry_after = -1;
}

/* True when the comma-separated list [v, v+n) holds token tok. */
static bool list_has(const char *v, size_t n, const char *tok)
{
  size_t tl = strlen(tok), i = 0;

  while (i < n) {
    size_t s = i, e;
    const char *item;
    size_t il;

    while (i < n && v[i] != ',')
      i++;
    e = i;
    item = v + s;
    il = e - s;
    trim(&item, &il);
    if (il == tl && strncasecmp(item, tok, tl) == 0)
      return true;
    i++;
  }
  return false;
}

static void take_length(struct https_head *h, const char *v, size_t vn)
{
  uint64_t len;

  if (!https_parse_number(v, vn, &len) ||
      (h->has_length && h->length != len)) {
    mark_bad(h, "Content-Length");
    return;
  }
  h->has_length = true;
  h->length = len;
}

static void take_range(struct https_head *h, const char *v, size_t vn)
{
  uint64_t first, last, total;
  bool known;

  if (h->has_range ||
      !https_parse_content_range(v, vn, &first, &last, &total, &known)) {
    mark_bad(h, "Content-Range");
    return;
  }
  h->has_range = true;
  h->first = first;
  h->last = last;
  h->total = total;
  h->total_known = known;
}

static void take_header(struct https_head *h, const char *p, size_t n)
{
  static const struct {
    const char *name;
    int id;
  } known[] = {{"content-length", H_LENGTH}, {"content-range", H_RANGE},
               {"transfer-encoding", H_TE}, {"content-encoding", H_CE},
               {"retry-after", H_RETRY}};
  const char *colon = memchr(p, ':', n), *v;
  size_t nl, vn;
  uint64_t secs;

  h->last_header = H_OTHER;
  if (!colon)
    return; /* not a header; libcurl would have refused the answer */
  nl = (size_t)(colon - p);
  v = colon + 1;
  vn = n - nl - 1;
  for (size_t k = 0; k < sizeof known / sizeof known[0]; k++)
    if (strlen(known[k].name) == nl &&
        strncasecmp(p, known[k].name, nl) == 0)
      h->last_header = known[k].id;
  switch (h->last_header) {
  case H_LENGTH:
    take_length(h, v, vn);
    break;
  case H_RANGE:
    take_range(h, v, vn);
    break;
  case H_TE:
    h->chunked = h->chunked || list_has(v, vn, "chunked");
    break;
  case H_CE:
    trim(&v, &vn);
    if (vn && !(vn == 8 && strncasecmp(v, "identity", 8) == 0))
      h->encoded = true;
    break;
  case H_RETRY:
    h->retry_after = https_parse_number(v, vn, &secs) && secs < 86400
                         ? (long)secs
                         : -1;
    break;
  default:
    break;
  }
}

void https_head_line(struct https_head *h, const char *line, size_t n)
{
  const char *t = line;
  size_t tn = n;
  long code;
  char reason[sizeof h->reason];

  if (n >= 5 && memcmp(line, "HTTP/", 5) == 0) {
    https_head_reset(h);
    if (!https_parse_status(line, n, &code, reason, sizeof reason)) {
      mark_bad(h, "status line");
      return;
    }
    h->status = code;
    memcpy(h->reason, reason, sizeof reason);
    return;
  }
  trim(&t, &tn);
  if (tn == 0) {
    if (h->status >= 200)
      h->done = true;
    return;
  }
  if (h->status == 0) {
    mark_bad(h, "status line");
    return;
  }
  if (is_ows(line[0])) {
    /* obs-fold: a continuation of the previous header */
    if (h->last_header != H_OTHER)
      mark_bad(h, "folded header");
    return;
  }
  take_header(h, line, n);
}
