/* text.c -- UTF-8 validation and bounded copies, see text.h. */
#include "util/text.h"

#include <stdio.h>
#include <string.h>

bool fvx_utf8_valid(const char *str, size_t n)
{
  const unsigned char *s = (const unsigned char *)str;
  size_t i = 0;

  while (i < n) {
    unsigned char c = s[i];
    size_t k;
    unsigned long cp;

    if (c < 0x80) {
      i++;
      continue;
    }
    if (c >= 0xC2 && c <= 0xDF) {
      k = 1;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      k = 2;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      k = 3;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (n - i <= k)
      return false;
    for (size_t j = 1; j <= k; j++) {
      if ((s[i + j] & 0xC0) != 0x80)
        return false;
      cp = (cp << 6) | (s[i + j] & 0x3F);
    }
    if ((k == 2 && cp < 0x800) || (k == 3 && cp < 0x10000) || cp > 0x10FFFF ||
        (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += k + 1;
  }
  return true;
}

size_t fvx_utf8_length(const char *s)
{
  size_t n = 0;

  for (; *s; s++)
    if (((unsigned char)*s & 0xC0) != 0x80)
      n++;
  return n;
}

bool fvx_strlcpy(char *dst, const char *src, size_t n)
{
  size_t len = strlen(src);

  if (len < n) {
    memcpy(dst, src, len + 1);
    return true;
  }
  memcpy(dst, src, n - 1);
  dst[n - 1] = '\0';
  return false;
}

int fvx_hex_digit(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

bool fvx_percent_decode(const char *s, size_t len, char *out, size_t n)
{
  size_t o = 0;

  for (size_t i = 0; i < len; i++) {
    char c = s[i];

    if (c == '%') {
      int hi, lo;

      if (i + 2 >= len)
        return false;
      hi = fvx_hex_digit(s[i + 1]);
      lo = fvx_hex_digit(s[i + 2]);
      if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
        return false;
      c = (char)(hi * 16 + lo);
      i += 2;
    }
    if (o + 1 >= n)
      return false;
    out[o++] = c;
  }
  out[o] = '\0';
  return true;
}

void fvx_vformat_line(char *out, size_t n, const char *fmt, va_list ap)
{
  vsnprintf(out, n, fmt, ap);
  for (char *p = out; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
}
