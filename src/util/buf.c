/*
 * buf.c -- capped growable buffer, see buf.h.
 *
 * Growth doubles up to the cap; all size arithmetic is overflow-checked.
 */
#include "util/buf.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"

void fvx_buf_init(struct fvx_buf *b, size_t cap)
{
  b->data = NULL;
  b->len = 0;
  b->alloc = 0;
  b->cap = cap;
}

/* Makes room for 'extra' more bytes plus the terminator. */
static int reserve(struct fvx_buf *b, size_t extra)
{
  size_t need, want;
  char *p;

  if (extra > b->cap || b->len > b->cap - extra)
    return FVX_BUF_TOOBIG;
  need = b->len + extra + 1;
  if (need <= b->alloc)
    return FVX_BUF_OK;
  want = b->alloc ? b->alloc : 256;
  while (want < need)
    want = (want > SIZE_MAX / 2) ? need : want * 2;
  if (want > b->cap + 1)
    want = b->cap + 1;
  p = realloc(b->data, want);
  if (!p)
    return FVX_BUF_NOMEM;
  b->data = p;
  b->alloc = want;
  return FVX_BUF_OK;
}

int fvx_buf_append(struct fvx_buf *b, const void *p, size_t n)
{
  int r = reserve(b, n);

  if (r != FVX_BUF_OK)
    return r;
  if (n)
    memcpy(b->data + b->len, p, n);
  b->len += n;
  b->data[b->len] = '\0';
  return FVX_BUF_OK;
}

int fvx_buf_puts(struct fvx_buf *b, const char *s)
{
  return fvx_buf_append(b, s, strlen(s));
}

int fvx_buf_printf(struct fvx_buf *b, const char *fmt, ...)
{
  va_list ap;
  int n, r;

  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    return FVX_BUF_NOMEM;
  r = reserve(b, (size_t)n);
  if (r != FVX_BUF_OK)
    return r;
  va_start(ap, fmt);
  vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
  va_end(ap);
  b->len += (size_t)n;
  return FVX_BUF_OK;
}

int fvx_buf_xml_escape(struct fvx_buf *b, const char *s)
{
  size_t start = b->len;
  int r = FVX_BUF_OK;

  for (; *s && r == FVX_BUF_OK; s++) {
    unsigned char c = (unsigned char)*s;

    switch (c) {
    case '&':
      r = fvx_buf_puts(b, "&amp;");
      break;
    case '<':
      r = fvx_buf_puts(b, "&lt;");
      break;
    case '>':
      r = fvx_buf_puts(b, "&gt;");
      break;
    case '"':
      r = fvx_buf_puts(b, "&quot;");
      break;
    case '\'':
      r = fvx_buf_puts(b, "&apos;");
      break;
    default:
      /* XML 1.0 cannot carry most C0 controls, even as references. */
      if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
        r = FVX_BUF_BADCHAR;
      else
        r = fvx_buf_append(b, s, 1);
    }
  }
  if (r != FVX_BUF_OK) {
    b->len = start;
    if (b->data)
      b->data[start] = '\0';
  }
  return r;
}

void fvx_buf_reset(struct fvx_buf *b)
{
  b->len = 0;
  if (b->data)
    b->data[0] = '\0';
}

void fvx_buf_free(struct fvx_buf *b)
{
  free(b->data);
  fvx_buf_init(b, b->cap);
}

void fvx_buf_free_secret(struct fvx_buf *b)
{
  fvx_wipe(b->data, b->alloc);
  fvx_buf_free(b);
}

char *fvx_buf_steal(struct fvx_buf *b)
{
  char *p = b->data;

  if (!p)
    return strdup("");
  fvx_buf_init(b, b->cap);
  return p;
}
