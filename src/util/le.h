/*
 * le.h -- little-endian integers in byte buffers: every on-disk (VMDK) and
 * on-wire (NFC) field freevix reads or writes goes through these, at any
 * alignment.  Can't fail.
 */
#ifndef FVX_UTIL_LE_H
#define FVX_UTIL_LE_H

#include <stdint.h>

static inline uint32_t fvx_le32(const uint8_t *p)
{
  return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
         (uint32_t)p[3] << 24;
}

static inline uint64_t fvx_le64(const uint8_t *p)
{
  return (uint64_t)fvx_le32(p) | (uint64_t)fvx_le32(p + 4) << 32;
}

static inline void fvx_put_le32(uint8_t *p, uint32_t v)
{
  for (int i = 0; i < 4; i++)
    p[i] = (uint8_t)(v >> (8 * i));
}

static inline void fvx_put_le64(uint8_t *p, uint64_t v)
{
  fvx_put_le32(p, (uint32_t)v);
  fvx_put_le32(p + 4, (uint32_t)(v >> 32));
}

#endif
