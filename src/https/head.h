/*
 * head.h -- the head of one HTTP answer, parsed from the header lines
 * libcurl hands over (internal to src/https).
 *
 * Only what a ranged read depends on is kept: the status, the reason
 * phrase (for messages), Content-Length, Content-Range, Transfer-Encoding
 * chunked, a Content-Encoding other than identity, and Retry-After.  A
 * header we rely on that is malformed, repeated with another value, or
 * folded onto a continuation line marks the head bad: the answer is then a
 * protocol error, never guessed at.  Every parser here takes a length and
 * reads nothing beyond it (the fuzz target fuzz/https_head.c feeds them
 * hostile bytes).
 */
#ifndef FVX_HTTPS_HEAD_H
#define FVX_HTTPS_HEAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Values above this are refused as lengths and offsets (INT64_MAX). */
#define HTTPS_MAX_OFFSET ((uint64_t)INT64_MAX)

struct https_head {
  long status;           /* 0 until a status line was seen */
  char reason[64];       /* the reason phrase, printable ASCII, cut */
  bool done;             /* the blank line after a final (>= 200) status */
  bool has_length;
  uint64_t length;       /* Content-Length */
  bool has_range;
  uint64_t first, last;  /* Content-Range bytes first-last/... */
  bool total_known;
  uint64_t total;        /* .../total (when not "*") */
  bool chunked;          /* Transfer-Encoding names chunked */
  bool encoded;          /* Content-Encoding other than identity */
  long retry_after;      /* Retry-After in seconds, -1 when absent or a
                            date */
  bool bad;              /* see above */
  char bad_what[32];     /* which header made it bad */
  int last_header;       /* internal: the header of the previous line */
};

/* Forgets everything (a new answer starts).  Can't fail. */
void https_head_reset(struct https_head *h);

/* Feeds one line as libcurl passes it to CURLOPT_HEADERFUNCTION: a status
 * line (which starts a new head: 1xx interim answers are skipped this
 * way), a header line, or the blank line that ends the head.  The line
 * need not be NUL-terminated; its CR LF may be there or not.  Can't fail:
 * problems are recorded in h->bad. */
void https_head_line(struct https_head *h, const char *line, size_t n);

/* "HTTP/1.1 206 Partial Content": *code gets the three digits, reason the
 * phrase (printable ASCII, cut to rn - 1, may be empty).  False when the
 * line is no status line (code and reason unspecified). */
bool https_parse_status(const char *p, size_t n, long *code, char *reason,
                        size_t rn);

/* A Content-Range value "bytes first-last/total", where the total may be
 * a star (unknown: *total_known false); the unit is case-insensitive and
 * spaces may surround the value.  False for anything else, including the
 * unsatisfied-range form (a star before the slash),
 * last < first, a total not above last, or a number past HTTPS_MAX_OFFSET. */
bool https_parse_content_range(const char *p, size_t n, uint64_t *first,
                               uint64_t *last, uint64_t *total,
                               bool *total_known);

/* A decimal number alone (surrounding spaces and tabs allowed), at most
 * HTTPS_MAX_OFFSET.  False for an empty value, a sign, a list or trailing
 * text. */
bool https_parse_number(const char *p, size_t n, uint64_t *out);

#endif
