/*
 * https_head.c -- fuzz target: the answer heads of datastore reads
 * (src/https/head.c) on hostile bytes.
 *
 * The input is cut at each '\n' (kept) into the lines libcurl would hand
 * the header callback; each line also goes through the single-value
 * parsers alone.  Nothing may read past a line, and what the head records
 * must be consistent: a range has first <= last < total, a finished head
 * has a final status.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "https/head.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct https_head *h)
{
  if (h->has_range &&
      (h->first > h->last || (h->total_known && h->total <= h->last)))
    abort();
  if (h->done && h->status < 200)
    abort();
  if (h->has_length && h->length > HTTPS_MAX_OFFSET)
    abort();
  if (memchr(h->reason, '\0', sizeof h->reason) == NULL)
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct https_head h;
  size_t i = 0;

  https_head_reset(&h);
  while (i < size) {
    const uint8_t *nl = memchr(data + i, '\n', size - i);
    size_t n = nl ? (size_t)(nl - (data + i)) + 1 : size - i;
    /* a copy of exactly n bytes, so ASan sees any read past the line */
    char *line = malloc(n ? n : 1);
    uint64_t a, b, t;
    bool known;
    long code;
    char reason[16];

    if (!line)
      return 0;
    memcpy(line, data + i, n);
    https_head_line(&h, line, n);
    check(&h);
    if (https_parse_content_range(line, n, &a, &b, &t, &known) &&
        (a > b || (known && t <= b) || b > HTTPS_MAX_OFFSET))
      abort();
    if (https_parse_number(line, n, &a) && a > HTTPS_MAX_OFFSET)
      abort();
    if (https_parse_status(line, n, &code, reason, sizeof reason) &&
        (code < 0 || code > 999 || !memchr(reason, '\0', sizeof reason)))
      abort();
    free(line);
    i += n;
  }
  return 0;
}
