/*
 * disk_grain.c -- fuzz target: grain directory and grain table checks.
 *
 * The first 16 bytes choose the geometry (capacity, grain size, directory
 * offsets, file size); the rest are directory and table entries, checked by
 * sparse_gd_check and sparse_gt_check.  They must never read out of bounds
 * or allocate more than the entries given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "disk/disk.h"
#include "disk/grain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct sparse_header h;
  uint32_t *words;
  uint64_t n, nw, file_sectors;

  fuzz_quiet_logs();
  if (size < 16)
    return 0;
  memset(&h, 0, sizeof h);
  h.version = 1;
  h.flags = SPARSE_FLAG_RGD;
  h.grain = 1u << (data[0] % 12);
  h.gtes = 1u + (uint32_t)((data[1] | data[2] << 8) % SPARSE_MAX_GTES);
  h.capacity = (uint64_t)(data[3] | data[4] << 8 | data[5] << 16) * h.grain;
  h.gd_offset = 1 + data[6];
  h.rgd_offset = 1 + data[7];
  h.overhead = data[8];
  file_sectors = (uint64_t)(data[9] | data[10] << 8 | data[11] << 16);
  nw = (size - 16) / 4;
  words = malloc((size_t)(nw ? nw : 1) * 4);
  if (!words)
    return 0;
  memcpy(words, data + 16, (size_t)nw * 4);
  n = sparse_num_gts(&h);
  if (n <= nw / 2)
    (void)sparse_gd_check(&h, words, words + n, n, file_sectors, "fuzz");
  if (h.gtes <= nw)
    (void)sparse_gt_check(&h, words + (nw - h.gtes), file_sectors, "fuzz");
  free(words);
  return 0;
}
