/*
 * spans.h -- sorted, disjoint sector ranges of a disk: what a copy reads
 * (the allocated blocks of a full backup, CBT's changed areas of an
 * incremental) and what a chain holds.
 */
#ifndef FREEVIX_CLI_SPANS_H
#define FREEVIX_CLI_SPANS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "freevix.h"

struct span {
  uint64_t start;  /* sector */
  uint64_t count;  /* sectors, > 0 */
};

struct spans {
  struct span *v;
  size_t n, alloc;
};

/* Appends [start, start + count), merging with the last span when they
 * touch; spans must come in increasing order (anything else is merged or
 * refused: false, as is running out of memory). */
bool spans_add(struct spans *s, uint64_t start, uint64_t count);

void spans_free(struct spans *s);

/* The sectors in a or b (both sorted and disjoint) into out (emptied
 * first).  False when out of memory (out emptied). */
bool spans_union(const struct spans *a, const struct spans *b,
                 struct spans *out);

/* Total sectors. */
uint64_t spans_total(const struct spans *s);

/* The allocated blocks of h (capacity sectors) at a granularity of chunk
 * sectors (128 or more), from as many VixDiskLib_QueryAllocatedBlocks
 * calls as the chunk limit needs.  Returns VIX_OK or the error (s
 * emptied). */
VixError spans_allocated(VixDiskLibHandle h, uint64_t capacity, uint32 chunk,
                         struct spans *s);

/* Byte areas (sorted) as sectors, rounded out to whole sectors and clipped
 * to capacity sectors.  False when out of memory. */
bool spans_from_areas(const freevix_area *a, size_t n, uint64_t capacity,
                      struct spans *s);

#endif
