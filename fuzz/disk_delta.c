/*
 * disk_delta.c -- fuzz targets: the vmfsSparse (COWD) and SEsparse
 * readers, header to mapped runs, on a file image held in memory.
 *
 * Built twice: fuzz_disk_cowd (FUZZ_COWD) and fuzz_disk_sesparse.  The
 * input is the start of an extent file; the file is taken to be 64 times
 * longer, reading as zeros past the input (what a sparse file or the
 * seam's pread gives), so entries may point past the bytes the fuzzer
 * supplies.  The header is decoded and checked (SEsparse: the volatile
 * header too), the directory decoded, and the first runs of the extent
 * mapped, decoding every table a run touches -- the path an open and a
 * read take, minus the I/O.  Nothing may read out of bounds, crash, leak
 * or allocate more than the file could hold.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "disk/delta.h"
#include "disk/disk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct image {
  const uint8_t *data;
  size_t size;
  const struct delta_layout *l;
  const struct delta_format *f;
  uint64_t *gd;
  uint8_t *raw;  /* one table's bytes */
  uint64_t *gt;  /* the decoded table */
  uint64_t cached;
};

/* len bytes at off of the image: the input, then zeros. */
static void fetch(const struct image *im, uint8_t *buf, size_t len,
                  uint64_t off)
{
  size_t n = 0;

  if (off < im->size)
    n = im->size - off < len ? (size_t)(im->size - off) : len;
  memcpy(buf, im->data + (off < im->size ? off : 0), n);
  memset(buf + n, 0, len - n);
}

static int entry(void *ctx, uint64_t g, uint64_t *out)
{
  struct image *im = ctx;
  uint64_t idx = g / DELTA_GTES;
  int st;

  *out = DELTA_HOLE;
  if (idx >= im->l->gd_entries || im->gd[idx] == 0)
    return DISK_OK;
  if (im->cached != idx) {
    im->cached = UINT64_MAX;
    fetch(im, im->raw, (size_t)DELTA_GTES * im->l->entry_bytes,
          im->gd[idx] * DISK_SECTOR);
    st = delta_gt_decode(im->l, im->f, im->raw, idx, im->gt, "fuzz");
    if (st)
      return st;
    im->cached = idx;
  }
  *out = im->gt[g % DELTA_GTES];
  return DISK_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  uint64_t file_size = (uint64_t)size * 64, s = 0;
  struct delta_layout l;
  struct image im;
  uint8_t hdr[COWD_HEADER_BYTES];
  uint8_t *gdraw;
  int st, i;

  memset(&im, 0, sizeof im);
  im.data = data;
  im.size = size;
  fetch(&im, hdr, sizeof hdr, 0);
#ifdef FUZZ_COWD
  im.f = &cowd_format;
  st = cowd_header_decode(&l, hdr, file_size, "fuzz");
#else
  {
    uint64_t vs;

    im.f = &sesparse_format;
    st = sesparse_header_decode(&l, hdr, file_size, &vs, "fuzz");
    if (!st) {
      fetch(&im, hdr, SESPARSE_HEADER_BYTES, vs * DISK_SECTOR);
      st = sesparse_volatile_check(hdr, "fuzz");
    }
  }
#endif
  if (st)
    return 0;
  im.l = &l;
  im.cached = UINT64_MAX;
  gdraw = malloc((size_t)(l.gd_entries * l.entry_bytes) + 1);
  im.gd = malloc((size_t)(l.gd_entries + 1) * sizeof *im.gd);
  im.raw = malloc((size_t)DELTA_GTES * 8);
  im.gt = malloc((size_t)DELTA_GTES * sizeof *im.gt);
  if (gdraw && im.gd && im.raw && im.gt) {
    fetch(&im, gdraw, (size_t)(l.gd_entries * l.entry_bytes),
          l.gd_offset * DISK_SECTOR);
    st = delta_gd_decode(&l, im.f, gdraw, l.gd_entries, im.gd, "fuzz");
    for (i = 0; !st && i < 256 && s < l.capacity; i++) {
      struct extent_map m;

      st = delta_map_run(l.grain, s, l.capacity - s, entry, &im, MAP_DATA,
                         &m);
      if (!st)
        s += m.len;
    }
  }
  free(gdraw);
  free(im.gd);
  free(im.raw);
  free(im.gt);
  return 0;
}
