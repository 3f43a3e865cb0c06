/*
 * nfc_compress.c -- the three compressions an IO fragment may carry
 * (reference/nfc.md §3.2 Compression, IO request @8 high 32 bits):
 *
 *   1 zlib   "a standard stream": zlib's own format, through zlib.
 *   2 FastLZ "raw": one FastLZ block with no header of its own (the
 *            uncompressed length is the fragment's @32).  Written here from
 *            the public description of the level-1 block format:
 *              - the first byte's top 3 bits name the level (000 = 1) and
 *                the first instruction is always a literal run;
 *              - 000LLLLL: a run of L+1 literal bytes (1..32) follows;
 *              - LLLDDDDD DDDDDDDD with LLL 1..6: copy LLL+2 bytes (3..8)
 *                from D+1 bytes back (D 13 bits: 1..8192);
 *              - 111DDDDD NNNNNNNN DDDDDDDD: copy N+9 bytes (9..264) from
 *                D+1 bytes back.
 *            Copies may overlap their own output (a run).  The encoder is a
 *            one-pass LZ77 with a 3-byte hash, no copied code.  Level 2
 *            blocks (top bits 001) are refused by the decoder.
 *   3 SkipZ  u32 total, u32 0, then (u32 off, u32 len, len bytes) for each
 *            non-zero run; the rest is zeros.
 *
 * The encoders keep a result only when it is shorter than the input; the
 * decoders check every length against the input and the exact output size.
 */
#include "nfc/nfc_internal.h"

#include <string.h>
#include <zlib.h>

/* zlib level for write fragments: speed over ratio, the NFC link is the
 * usual bottleneck (our choice; the sheet names none). */
#define NFC_ZLIB_LEVEL 1

static size_t zlib_compress(const uint8_t *src, size_t n, uint8_t *dst,
                            size_t cap)
{
  uLongf out = (uLongf)(cap < n ? cap : n - 1);

  if (compress2(dst, &out, src, (uLong)n, NFC_ZLIB_LEVEL) != Z_OK)
    return 0;
  return out < n ? (size_t)out : 0;
}

static int zlib_decompress(const uint8_t *src, size_t n, uint8_t *dst,
                           size_t dst_len)
{
  uLongf out = (uLongf)dst_len;
  uLong in = (uLong)n;

  if (dst_len == 0)
    return -1;
  if (uncompress2(dst, &out, src, &in) != Z_OK)
    return -1;
  return out == dst_len && in == n ? 0 : -1;
}

/* ---- FastLZ level 1 ----------------------------------------------------- */

#define FLZ_MAX_DIST 8191u   /* encoder: stay one below the format's 8192 */
#define FLZ_MAX_LEN 264u
#define FLZ_MIN_LEN 3u
#define FLZ_HASH_BITS 13
#define FLZ_MAX_LIT 32u

struct flz_out {
  uint8_t *p;
  size_t len, cap;
  bool full;
};

static void flz_byte(struct flz_out *o, uint8_t b)
{
  if (o->len >= o->cap) {
    o->full = true;
    return;
  }
  o->p[o->len++] = b;
}

static void flz_literals(struct flz_out *o, const uint8_t *s, size_t n)
{
  while (n > 0 && !o->full) {
    size_t run = n < FLZ_MAX_LIT ? n : FLZ_MAX_LIT;

    flz_byte(o, (uint8_t)(run - 1));
    if (o->len + run > o->cap) {
      o->full = true;
      return;
    }
    memcpy(o->p + o->len, s, run);
    o->len += run;
    s += run;
    n -= run;
  }
}

/* One copy instruction of len 3..264 from dist 1..8192 back. */
static void flz_copy(struct flz_out *o, size_t dist, size_t len)
{
  size_t d = dist - 1;

  if (len <= 8) {
    flz_byte(o, (uint8_t)((len - 2) << 5 | d >> 8));
  } else {
    flz_byte(o, (uint8_t)(7u << 5 | d >> 8));
    flz_byte(o, (uint8_t)(len - 9));
  }
  flz_byte(o, (uint8_t)(d & 0xff));
}

/* A match of any length >= 3 as copies of at most 264, none shorter
 * than 3. */
static void flz_match(struct flz_out *o, size_t dist, size_t len)
{
  while (len > 0) {
    size_t chunk = len < FLZ_MAX_LEN ? len : FLZ_MAX_LEN;

    if (len - chunk > 0 && len - chunk < FLZ_MIN_LEN)
      chunk = len - FLZ_MIN_LEN;
    flz_copy(o, dist, chunk);
    len -= chunk;
  }
}

static uint32_t flz_hash(const uint8_t *p)
{
  uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;

  return (v * 2654435761u) >> (32 - FLZ_HASH_BITS);
}

static size_t fastlz_compress(const uint8_t *src, size_t n, uint8_t *dst,
                              size_t cap)
{
  uint32_t table[1u << FLZ_HASH_BITS]; /* position + 1; 0 = empty */
  struct flz_out o = {dst, 0, cap < n ? cap : n - 1, false};
  size_t ip = 0, anchor = 0;

  memset(table, 0, sizeof table);
  while (ip + FLZ_MIN_LEN <= n && !o.full) {
    uint32_t h = flz_hash(src + ip);
    size_t ref = table[h], len;

    table[h] = (uint32_t)(ip + 1);
    if (ref == 0 || ip - (ref - 1) > FLZ_MAX_DIST ||
        memcmp(src + ref - 1, src + ip, FLZ_MIN_LEN) != 0) {
      ip++;
      continue;
    }
    ref--;
    len = FLZ_MIN_LEN;
    while (ip + len < n && src[ref + len] == src[ip + len])
      len++;
    flz_literals(&o, src + anchor, ip - anchor);
    flz_match(&o, ip - ref, len);
    ip += len;
    anchor = ip;
  }
  flz_literals(&o, src + anchor, n - anchor);
  return o.full || o.len >= n ? 0 : o.len;
}

static int fastlz_decompress(const uint8_t *src, size_t n, uint8_t *dst,
                             size_t dst_len)
{
  size_t ip = 0, op = 0;

  if (n == 0 || dst_len == 0 || src[0] >> 5 != 0)
    return -1; /* empty, or not a level-1 block */
  while (ip < n) {
    unsigned ctrl = src[ip++];
    size_t len, dist;

    if (ctrl < 32) {
      len = ctrl + 1u;
      if (len > n - ip || len > dst_len - op)
        return -1;
      memcpy(dst + op, src + ip, len);
      ip += len;
      op += len;
      continue;
    }
    len = (ctrl >> 5) + 2u;
    dist = (size_t)(ctrl & 31u) << 8;
    if ((ctrl >> 5) == 7) {
      if (ip >= n)
        return -1;
      len = src[ip++] + 9u;
    }
    if (ip >= n)
      return -1;
    dist += src[ip++] + 1u;
    if (dist > op || len > dst_len - op)
      return -1;
    for (size_t i = 0; i < len; i++, op++)
      dst[op] = dst[op - dist];
  }
  return op == dst_len ? 0 : -1;
}

/* ---- SkipZ -------------------------------------------------------------- */

/* Zero gaps shorter than this stay inside a run: a run header costs 8. */
#define SKIPZ_MIN_GAP 16u

static size_t skipz_compress(const uint8_t *src, size_t n, uint8_t *dst,
                             size_t cap)
{
  size_t lim = cap < n ? cap : n - 1, o = 8, i = 0;

  if (lim < 8)
    return 0;
  fvx_put_le32(dst, (uint32_t)n);
  fvx_put_le32(dst + 4, 0);
  while (i < n) {
    size_t start, end, zeros = 0;

    while (i < n && src[i] == 0)
      i++;
    if (i == n)
      break;
    start = end = i;
    /* extend over short zero gaps */
    for (; i < n; i++) {
      if (src[i] != 0) {
        zeros = 0;
        end = i + 1;
      } else if (++zeros >= SKIPZ_MIN_GAP) {
        break;
      }
    }
    if (o + 8 + (end - start) > lim)
      return 0;
    fvx_put_le32(dst + o, (uint32_t)start);
    fvx_put_le32(dst + o + 4, (uint32_t)(end - start));
    memcpy(dst + o + 8, src + start, end - start);
    o += 8 + (end - start);
    i = end;
  }
  return o < n ? o : 0;
}

static int skipz_decompress(const uint8_t *src, size_t n, uint8_t *dst,
                            size_t dst_len)
{
  size_t ip = 8;

  if (n < 8 || fvx_le32(src) != dst_len)
    return -1;
  memset(dst, 0, dst_len);
  while (ip < n) {
    uint32_t off, len;

    if (n - ip < 8)
      return -1;
    off = fvx_le32(src + ip);
    len = fvx_le32(src + ip + 4);
    ip += 8;
    if (len > n - ip || off > dst_len || len > dst_len - off)
      return -1;
    memcpy(dst + off, src + ip, len);
    ip += len;
  }
  return 0;
}

size_t nfc_compress(enum nfc_compression comp, const uint8_t *src, size_t n,
                    uint8_t *dst, size_t cap)
{
  if (n < 2 || cap == 0)
    return 0;
  switch (comp) {
  case NFC_COMP_ZLIB: return zlib_compress(src, n, dst, cap);
  case NFC_COMP_FASTLZ: return fastlz_compress(src, n, dst, cap);
  case NFC_COMP_SKIPZ: return skipz_compress(src, n, dst, cap);
  case NFC_COMP_NONE: break;
  }
  return 0;
}

int nfc_decompress(enum nfc_compression comp, const uint8_t *src, size_t n,
                   uint8_t *dst, size_t dst_len)
{
  switch (comp) {
  case NFC_COMP_ZLIB: return zlib_decompress(src, n, dst, dst_len);
  case NFC_COMP_FASTLZ: return fastlz_decompress(src, n, dst, dst_len);
  case NFC_COMP_SKIPZ: return skipz_decompress(src, n, dst, dst_len);
  case NFC_COMP_NONE: break;
  }
  if (n != dst_len)
    return -1;
  memcpy(dst, src, n);
  return 0;
}
