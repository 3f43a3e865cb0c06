/*
 * text.h -- string checks shared by every layer.
 */
#ifndef FVX_UTIL_TEXT_H
#define FVX_UTIL_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* True when the first n bytes of s are well-formed UTF-8 (no overlongs, no
 * surrogates, nothing above U+10FFFF). */
bool fvx_utf8_valid(const char *s, size_t n);

/* Number of code points in a valid UTF-8 string. */
size_t fvx_utf8_length(const char *s);

/* Copies src into dst (size n, n > 0), always NUL-terminating; returns false
 * when src had to be cut. */
bool fvx_strlcpy(char *dst, const char *src, size_t n);

#endif
