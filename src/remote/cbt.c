/*
 * cbt.c -- allocation of a flat base extent from Changed Block Tracking.
 *
 * A flat extent has no metadata saying which of its bytes were ever
 * written; when the disk tracks changes, QueryChangedDiskAreas with
 * changeId "*" answers exactly that for a thin disk (remote-disk.md §4).
 * The map is loaded on the first allocation query, all pages (the next
 * page starts where the previous answer's coverage ends; a call at
 * offset == capacity faults, so the loop stops at the capacity), and kept
 * sorted for binary search.  It answers for the whole chain at the
 * snapshot, a superset of the base's own allocation: false positives only,
 * which the allocation contract allows.  Without CBT, or when the query
 * fails (a running VM without a snapshot cannot be asked), nothing is known
 * and the extent reports everything allocated.
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk/disk.h"
#include "disk/error.h"
#include "remote/internal.h"
#include "util/log.h"

/* Bound on the areas kept for one disk (16 bytes each). */
#define CBT_MAX_AREAS (1u << 22)

struct cbt_map {
  struct remote_conn *c;
  int32_t key;
  uint64_t capacity;
  char flat_path[1100];
  pthread_mutex_t lock;
  bool loaded, failed;
  struct vim_disk_area *areas; /* sorted, non-overlapping */
  size_t n;
};

struct cbt_map *cbt_map_new(struct remote_conn *c, const struct vim_disk *d,
                            const char *flat_path)
{
  struct cbt_map *m;

  if (!c->place.change_tracking || !d->chain[0].change_id[0])
    return NULL;
  m = calloc(1, sizeof *m);
  if (!m)
    return NULL;
  m->c = c;
  m->key = d->key;
  m->capacity = d->capacity;
  snprintf(m->flat_path, sizeof m->flat_path, "%s", flat_path);
  pthread_mutex_init(&m->lock, NULL);
  return m;
}

void cbt_map_free(struct cbt_map *m)
{
  if (!m)
    return;
  pthread_mutex_destroy(&m->lock);
  free(m->areas);
  free(m);
}

static int append(struct cbt_map *m, const struct vim_changed_areas *a,
                  size_t *cap)
{
  for (size_t i = 0; i < a->n; i++) {
    uint64_t s = a->areas[i].start, l = a->areas[i].length;

    if (!l || s >= m->capacity)
      continue;
    if (l > m->capacity - s)
      l = m->capacity - s;
    if (m->n && m->areas[m->n - 1].start + m->areas[m->n - 1].length >= s) {
      struct vim_disk_area *last = &m->areas[m->n - 1];

      if (s < last->start)
        return -1; /* out of order: do not trust the answer */
      if (s + l > last->start + last->length)
        last->length = s + l - last->start;
      continue;
    }
    if (m->n == *cap) {
      size_t nc = *cap ? *cap * 2 : 256;
      struct vim_disk_area *na;

      if (nc > CBT_MAX_AREAS)
        return -1;
      na = realloc(m->areas, nc * sizeof *na);
      if (!na)
        return -1;
      m->areas = na;
      *cap = nc;
    }
    m->areas[m->n].start = s;
    m->areas[m->n].length = l;
    m->n++;
  }
  return 0;
}

static void load(struct cbt_map *m)
{
  struct remote_conn *c = m->c;
  const struct vim_moref *snap = c->snapshot.type[0] ? &c->snapshot : NULL;
  uint64_t start = 0;
  size_t cap = 0;

  m->loaded = true;
  while (start < m->capacity) {
    struct vim_changed_areas a;
    struct vim_error err;

    if (vim_query_changed_areas(c->s, &c->vm, snap, m->key, start, "*", &a,
                                &err) != VIM_OK) {
      fvx_debug("remote: QueryChangedDiskAreas(\"*\") for disk %d failed "
                "(%s); its flat extent reports everything allocated",
                (int)m->key, err.detail);
      m->failed = true;
      return;
    }
    if (append(m, &a, &cap) != 0 || a.start + a.length <= start) {
      fvx_debug("remote: QueryChangedDiskAreas(\"*\") for disk %d gave an "
                "unusable answer at offset %" PRIu64, (int)m->key, start);
      vim_changed_areas_free(&a);
      m->failed = true;
      return;
    }
    start = a.start + a.length;
    vim_changed_areas_free(&a);
  }
  fvx_debug("remote: CBT reports %zu allocated area(s) on disk %d", m->n,
            (int)m->key);
}

int cbt_map_allocated(void *opaque, const char *ds_path, uint64_t off,
                      uint64_t len, uint64_t *run, bool *allocated)
{
  struct cbt_map *m = opaque;
  size_t lo = 0, hi;
  int st = DISK_OK;

  if (strcmp(ds_path, m->flat_path) != 0)
    return DISK_E_NOTCAPABLE;
  pthread_mutex_lock(&m->lock);
  if (!m->loaded)
    load(m);
  if (m->failed) {
    st = DISK_E_NOTCAPABLE;
    goto out;
  }
  /* First area ending after off. */
  hi = m->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;

    if (m->areas[mid].start + m->areas[mid].length <= off)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (lo < m->n && m->areas[lo].start <= off) {
    uint64_t end = m->areas[lo].start + m->areas[lo].length;

    *allocated = true;
    *run = end - off < len ? end - off : len;
  } else {
    uint64_t next = lo < m->n ? m->areas[lo].start : UINT64_MAX;

    *allocated = false;
    *run = next - off < len ? next - off : len;
  }
out:
  pthread_mutex_unlock(&m->lock);
  return st;
}
