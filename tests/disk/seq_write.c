/*
 * seq_write.c -- the seeded sequential write plan (seq_write.h).
 */
#include "seq_write.h"

#include <stdlib.h>
#include <string.h>

#define MAX_WRITE 70000u /* sectors: more than one grain table's 65536 */

static uint64_t next(uint64_t *s)
{
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

VixError seq_write(VixDiskLibHandle h, uint64_t cap, unsigned seed,
                   uint8_t *model)
{
  uint64_t rng = 0x9e3779b97f4a7c15ull ^ seed, pos = 0;
  uint8_t *buf = malloc((size_t)MAX_WRITE * 512);
  VixError err = VIX_OK;

  if (!buf)
    return VIX_E_OUT_OF_MEMORY;
  while (pos < cap && !err) {
    uint64_t r = next(&rng), len, i;

    if (r % 4 == 0)
      pos += next(&rng) % 300; /* a gap */
    if (pos >= cap)
      break;
    len = r % 50 == 1 ? MAX_WRITE : 1 + next(&rng) % 700;
    if (len > cap - pos)
      len = cap - pos;
    if (r % 5 == 2) {
      memset(buf, 0, (size_t)len * 512);
    } else {
      for (i = 0; i < len * 64; i++) {
        uint64_t v = next(&rng);

        memcpy(buf + i * 8, &v, 8);
      }
      if (r % 7 == 3) /* a compressible stretch */
        memset(buf, 0x11, (size_t)(len * 512 / 2));
    }
    err = VixDiskLib_Write(h, pos, len, buf);
    memcpy(model + pos * 512, buf, (size_t)len * 512);
    pos += len;
  }
  free(buf);
  return err;
}
