/*
 * json.c -- see json.h.
 *
 * The parser is recursive descent over a cursor; depth is bounded, so the
 * recursion is too, and so are the members of an object (duplicates are
 * looked for in each, quadratic in their number) and array elements.  Numbers are integers in int64 range.  Object members
 * are kept in input order; a duplicate key is refused (a manifest with two
 * "sha256" members would be ambiguous).  The writer keeps one comma flag:
 * beginning a container resets it, ending one sets it for the parent.
 */
#include "json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cursor {
  const char *p, *start, *end;
  unsigned depth;
  char *why;
  size_t why_n;
};

static bool fail(struct cursor *c, const char *what)
{
  snprintf(c->why, c->why_n, "%s at byte %zu", what,
           (size_t)(c->p - c->start));
  return false;
}

static void skip_ws(struct cursor *c)
{
  while (c->p < c->end &&
         (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
    c->p++;
}

static bool literal(struct cursor *c, const char *word)
{
  size_t n = strlen(word);

  if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
    return fail(c, "unexpected text");
  c->p += n;
  return true;
}

static int hex4(const char *p)
{
  int v = 0;

  for (int i = 0; i < 4; i++) {
    char h = p[i];
    int d = h >= '0' && h <= '9'   ? h - '0'
            : h >= 'a' && h <= 'f' ? h - 'a' + 10
            : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                   : -1;

    if (d < 0)
      return -1;
    v = v * 16 + d;
  }
  return v;
}

static size_t put_utf8(char *o, unsigned cp)
{
  if (cp < 0x80) {
    o[0] = (char)cp;
    return 1;
  }
  if (cp < 0x800) {
    o[0] = (char)(0xC0 | (cp >> 6));
    o[1] = (char)(0x80 | (cp & 0x3F));
    return 2;
  }
  if (cp < 0x10000) {
    o[0] = (char)(0xE0 | (cp >> 12));
    o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[2] = (char)(0x80 | (cp & 0x3F));
    return 3;
  }
  o[0] = (char)(0xF0 | (cp >> 18));
  o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
  o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
  o[3] = (char)(0x80 | (cp & 0x3F));
  return 4;
}

/* Length of the valid UTF-8 sequence at p (at most left bytes), 0 when it
 * is not one (overlong forms, surrogates, above U+10FFFF). */
static size_t utf8_seq(const unsigned char *p, size_t left)
{
  unsigned cp;
  size_t n;

  if (p[0] < 0x80)
    return 1;
  if (p[0] >= 0xC2 && p[0] <= 0xDF) {
    n = 2;
    cp = p[0] & 0x1F;
  } else if (p[0] >= 0xE0 && p[0] <= 0xEF) {
    n = 3;
    cp = p[0] & 0x0F;
  } else if (p[0] >= 0xF0 && p[0] <= 0xF4) {
    n = 4;
    cp = p[0] & 0x07;
  } else {
    return 0;
  }
  if (left < n)
    return 0;
  for (size_t i = 1; i < n; i++) {
    if ((p[i] & 0xC0) != 0x80)
      return 0;
    cp = (cp << 6) | (p[i] & 0x3F);
  }
  if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
      (n == 4 && (cp < 0x10000 || cp > 0x10FFFF)))
    return 0;
  return n;
}

/* Parses a string at the opening quote into a new NUL-terminated buffer
 * (*out) of *len bytes.  Escapes never make the result longer than the
 * input, so the input length bounds the allocation. */
static bool parse_string(struct cursor *c, char **out, size_t *len)
{
  const char *q;
  char *buf, *o;

  c->p++; /* the quote */
  for (q = c->p; q < c->end && *q != '"'; q++)
    if (*q == '\\' && q + 1 < c->end)
      q++;
  if (q >= c->end)
    return fail(c, "unterminated string");
  buf = malloc((size_t)(q - c->p) + 1);
  if (!buf)
    return fail(c, "out of memory");
  o = buf;
  while (*c->p != '"') {
    unsigned char ch = (unsigned char)*c->p;

    if (ch < 0x20) {
      free(buf);
      return fail(c, "control character in a string");
    }
    if (ch == '\\') {
      char e = c->p[1];
      int cp;

      c->p += 2;
      switch (e) {
      case '"': *o++ = '"'; continue;
      case '\\': *o++ = '\\'; continue;
      case '/': *o++ = '/'; continue;
      case 'b': *o++ = '\b'; continue;
      case 'f': *o++ = '\f'; continue;
      case 'n': *o++ = '\n'; continue;
      case 'r': *o++ = '\r'; continue;
      case 't': *o++ = '\t'; continue;
      case 'u':
        break;
      default:
        free(buf);
        return fail(c, "bad escape");
      }
      cp = c->end - c->p >= 4 ? hex4(c->p) : -1;
      if (cp < 0) {
        free(buf);
        return fail(c, "bad \\u escape");
      }
      c->p += 4;
      if (cp >= 0xD800 && cp <= 0xDBFF) {
        int lo = c->end - c->p >= 6 && c->p[0] == '\\' && c->p[1] == 'u'
                     ? hex4(c->p + 2)
                     : -1;

        if (lo < 0xDC00 || lo > 0xDFFF) {
          free(buf);
          return fail(c, "unpaired surrogate");
        }
        c->p += 6;
        cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
      } else if ((cp >= 0xDC00 && cp <= 0xDFFF) || cp == 0) {
        free(buf);
        return fail(c, cp ? "unpaired surrogate" : "NUL in a string");
      }
      o += put_utf8(o, (unsigned)cp);
      continue;
    }
    {
      size_t n = utf8_seq((const unsigned char *)c->p,
                          (size_t)(q - c->p));

      if (!n) {
        free(buf);
        return fail(c, "invalid UTF-8 in a string");
      }
      memcpy(o, c->p, n);
      o += n;
      c->p += n;
    }
  }
  c->p++; /* the closing quote */
  *o = '\0';
  *out = buf;
  *len = (size_t)(o - buf);
  return true;
}

static bool parse_int(struct cursor *c, int64_t *out)
{
  const char *p = c->p;
  bool neg = false;
  uint64_t v = 0, limit;

  if (p < c->end && *p == '-') {
    neg = true;
    p++;
  }
  if (p >= c->end || *p < '0' || *p > '9')
    return fail(c, "expected a value");
  if (*p == '0' && p + 1 < c->end && p[1] >= '0' && p[1] <= '9')
    return fail(c, "leading zero");
  limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
  for (; p < c->end && *p >= '0' && *p <= '9'; p++) {
    uint64_t d = (uint64_t)(*p - '0');

    if (v > (limit - d) / 10)
      return fail(c, "integer out of range");
    v = v * 10 + d;
  }
  if (p < c->end && (*p == '.' || *p == 'e' || *p == 'E'))
    return fail(c, "only integers are allowed");
  *out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v)
             : (int64_t)v;
  c->p = p;
  return true;
}

static bool parse_value(struct cursor *c, struct json *j);

/* Parses the members or elements of a container after its opening
 * bracket. */
static bool parse_container(struct cursor *c, struct json *j, bool object)
{
  struct json **tail = &j->child;
  char close = object ? '}' : ']';

  if (++c->depth > JSON_MAX_DEPTH)
    return fail(c, "nested too deeply");
  c->p++;
  skip_ws(c);
  if (c->p < c->end && *c->p == close) {
    c->p++;
    c->depth--;
    return true;
  }
  for (;;) {
    struct json *e = calloc(1, sizeof *e);
    char *key = NULL;
    size_t key_len;

    if (!e)
      return fail(c, "out of memory");
    *tail = e;
    tail = &e->next;
    if (++j->n > (object ? JSON_MAX_MEMBERS : JSON_MAX_ELEMENTS))
      return fail(c, object ? "too many members" : "too many elements");
    skip_ws(c);
    if (object) {
      if (c->p >= c->end || *c->p != '"')
        return fail(c, "expected a member name");
      if (!parse_string(c, &key, &key_len))
        return false;
      e->key = key;
      if (json_get(j, key) != e)
        return fail(c, "duplicate member name");
      skip_ws(c);
      if (c->p >= c->end || *c->p != ':')
        return fail(c, "expected ':'");
      c->p++;
    }
    if (!parse_value(c, e))
      return false;
    skip_ws(c);
    if (c->p < c->end && *c->p == ',') {
      c->p++;
      continue;
    }
    if (c->p < c->end && *c->p == close) {
      c->p++;
      c->depth--;
      return true;
    }
    return fail(c, object ? "expected ',' or '}'" : "expected ',' or ']'");
  }
}

static bool parse_value(struct cursor *c, struct json *j)
{
  skip_ws(c);
  if (c->p >= c->end)
    return fail(c, "unexpected end");
  switch (*c->p) {
  case '{':
    j->kind = JSON_OBJECT;
    return parse_container(c, j, true);
  case '[':
    j->kind = JSON_ARRAY;
    return parse_container(c, j, false);
  case '"':
    j->kind = JSON_STRING;
    return parse_string(c, &j->s, &j->s_len);
  case 't':
    j->kind = JSON_BOOL;
    j->b = true;
    return literal(c, "true");
  case 'f':
    j->kind = JSON_BOOL;
    return literal(c, "false");
  case 'n':
    j->kind = JSON_NULL;
    return literal(c, "null");
  default:
    j->kind = JSON_INT;
    return parse_int(c, &j->i);
  }
}

bool json_parse(const char *text, size_t len, struct json **out, char *why,
                size_t why_n)
{
  struct cursor c = {text, text, text + len, 0, why, why_n};
  struct json *j = calloc(1, sizeof *j);

  *out = NULL;
  if (!j) {
    snprintf(why, why_n, "out of memory");
    return false;
  }
  if (!parse_value(&c, j)) {
    json_free(j);
    return false;
  }
  skip_ws(&c);
  if (c.p != c.end) {
    fail(&c, "text after the value");
    json_free(j);
    return false;
  }
  *out = j;
  return true;
}

void json_free(struct json *j)
{
  while (j) {
    struct json *next = j->next;

    json_free(j->child);
    free(j->s);
    free(j->key);
    free(j);
    j = next;
  }
}

const struct json *json_get(const struct json *j, const char *key)
{
  if (!j || j->kind != JSON_OBJECT)
    return NULL;
  for (const struct json *m = j->child; m; m = m->next)
    if (m->key && strcmp(m->key, key) == 0)
      return m;
  return NULL;
}

/* ---- writer ------------------------------------------------------------ */

void json_out_init(struct json_out *o)
{
  memset(o, 0, sizeof *o);
}

void json_out_free(struct json_out *o)
{
  free(o->data);
  memset(o, 0, sizeof *o);
}

static void put(struct json_out *o, const char *s, size_t n)
{
  if (o->failed)
    return;
  if (o->cap - o->len <= n) {
    size_t cap = o->cap ? o->cap : 4096;
    char *d;

    while (cap - o->len <= n)
      cap *= 2;
    d = realloc(o->data, cap);
    if (!d) {
      o->failed = true;
      return;
    }
    o->data = d;
    o->cap = cap;
  }
  memcpy(o->data + o->len, s, n);
  o->len += n;
  o->data[o->len] = '\0';
}

static void putf(struct json_out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void putf(struct json_out *o, const char *fmt, ...)
{
  char buf[64];
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n > 0)
    put(o, buf, (size_t)n);
}

static void put_string(struct json_out *o, const char *s)
{
  put(o, "\"", 1);
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;

    if (ch == '"' || ch == '\\') {
      put(o, "\\", 1);
      put(o, s, 1);
    } else if (ch < 0x20) {
      putf(o, "\\u%04x", ch);
    } else {
      put(o, s, 1);
    }
  }
  put(o, "\"", 1);
}

/* The comma, indentation and key before a value. */
static void prefix(struct json_out *o, const char *key)
{
  if (o->need_comma)
    put(o, ",", 1);
  if (o->depth) {
    put(o, "\n", 1);
    for (unsigned i = 0; i < o->depth; i++)
      put(o, "  ", 2);
  }
  if (key) {
    put_string(o, key);
    put(o, ": ", 2);
  }
  o->need_comma = true;
}

static void begin(struct json_out *o, const char *key, const char *open)
{
  prefix(o, key);
  put(o, open, 1);
  o->depth++;
  o->need_comma = false;
}

static void end(struct json_out *o, const char *close)
{
  bool empty = !o->need_comma;

  o->depth--;
  if (!empty) {
    put(o, "\n", 1);
    for (unsigned i = 0; i < o->depth; i++)
      put(o, "  ", 2);
  }
  put(o, close, 1);
  o->need_comma = true;
  if (o->depth == 0)
    put(o, "\n", 1);
}

void json_begin_object(struct json_out *o, const char *key)
{
  begin(o, key, "{");
}

void json_end_object(struct json_out *o)
{
  end(o, "}");
}

void json_begin_array(struct json_out *o, const char *key)
{
  begin(o, key, "[");
}

void json_end_array(struct json_out *o)
{
  end(o, "]");
}

void json_str(struct json_out *o, const char *key, const char *s)
{
  prefix(o, key);
  if (s)
    put_string(o, s);
  else
    put(o, "null", 4);
}

void json_int(struct json_out *o, const char *key, int64_t v)
{
  prefix(o, key);
  putf(o, "%lld", (long long)v);
}

void json_uint(struct json_out *o, const char *key, uint64_t v)
{
  prefix(o, key);
  putf(o, "%llu", (unsigned long long)v);
}

void json_bool(struct json_out *o, const char *key, bool v)
{
  prefix(o, key);
  put(o, v ? "true" : "false", v ? 4 : 5);
}

void json_null(struct json_out *o, const char *key)
{
  prefix(o, key);
  put(o, "null", 4);
}
