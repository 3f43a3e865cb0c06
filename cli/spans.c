/*
 * spans.c -- sector range lists, see spans.h.
 */
#include "spans.h"

#include <stdlib.h>
#include <string.h>

bool spans_add(struct spans *s, uint64_t start, uint64_t count)
{
  if (count == 0)
    return true;
  if (s->n) {
    struct span *last = &s->v[s->n - 1];
    uint64_t end = last->start + last->count;

    if (start < last->start)
      return false;
    if (start <= end) {
      if (start + count > end)
        last->count = start + count - last->start;
      return true;
    }
  }
  if (s->n == s->alloc) {
    size_t alloc = s->alloc ? 2 * s->alloc : 64;
    struct span *v = realloc(s->v, alloc * sizeof *v);

    if (!v)
      return false;
    s->v = v;
    s->alloc = alloc;
  }
  s->v[s->n].start = start;
  s->v[s->n].count = count;
  s->n++;
  return true;
}

void spans_free(struct spans *s)
{
  free(s->v);
  memset(s, 0, sizeof *s);
}

uint64_t spans_total(const struct spans *s)
{
  uint64_t t = 0;

  for (size_t i = 0; i < s->n; i++)
    t += s->v[i].count;
  return t;
}

bool spans_union(const struct spans *a, const struct spans *b,
                 struct spans *out)
{
  size_t i = 0, k = 0;

  memset(out, 0, sizeof *out);
  while (i < a->n || k < b->n) {
    /* The next span by start; spans_add merges what overlaps. */
    const struct span *next =
        k >= b->n || (i < a->n && a->v[i].start <= b->v[k].start)
            ? &a->v[i++]
            : &b->v[k++];

    if (!spans_add(out, next->start, next->count)) {
      spans_free(out);
      return false;
    }
  }
  return true;
}

VixError spans_allocated(VixDiskLibHandle h, uint64_t capacity, uint32 chunk,
                         struct spans *s)
{
  /* Whole chunks per call, within VDDK's limit on their number. */
  uint64_t step = (uint64_t)chunk * VIXDISKLIB_MAX_CHUNK_NUMBER;

  memset(s, 0, sizeof *s);
  for (uint64_t pos = 0; pos < capacity; pos += step) {
    uint64_t n = capacity - pos < step ? capacity - pos : step;
    VixDiskLibBlockList *list = NULL;
    VixError err;

    /* The last call may end with a part of a chunk: round it up, the
     * library clips what lies past the capacity. */
    n = (n + chunk - 1) / chunk * chunk;
    err = VixDiskLib_QueryAllocatedBlocks(h, pos, n, chunk, &list);
    if (err != VIX_OK) {
      spans_free(s);
      return err;
    }
    for (uint32 i = 0; i < list->numBlocks; i++) {
      uint64_t start = list->blocks[i].offset, count = list->blocks[i].length;

      if (start >= capacity)
        continue;
      if (count > capacity - start)
        count = capacity - start;
      if (!spans_add(s, start, count)) {
        VixDiskLib_FreeBlockList(list);
        spans_free(s);
        return VIX_E_OUT_OF_MEMORY;
      }
    }
    VixDiskLib_FreeBlockList(list);
  }
  return VIX_OK;
}

bool spans_from_areas(const freevix_area *a, size_t n, uint64_t capacity,
                      struct spans *s)
{
  memset(s, 0, sizeof *s);
  for (size_t i = 0; i < n; i++) {
    uint64_t start = a[i].offset / VIXDISKLIB_SECTOR_SIZE;
    uint64_t end = (a[i].offset + a[i].length + VIXDISKLIB_SECTOR_SIZE - 1) /
                   VIXDISKLIB_SECTOR_SIZE;

    if (start >= capacity)
      continue;
    if (end > capacity)
      end = capacity;
    if (!spans_add(s, start, end - start)) {
      spans_free(s);
      return false;
    }
  }
  return true;
}
