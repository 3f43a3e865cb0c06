/*
 * text.h -- string checks shared by every layer.
 */
#ifndef FVX_UTIL_TEXT_H
#define FVX_UTIL_TEXT_H

#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>

/* True when the first n bytes of s are well-formed UTF-8 (no overlongs, no
 * surrogates, nothing above U+10FFFF). */
bool fvx_utf8_valid(const char *s, size_t n);

/* Number of code points in a valid UTF-8 string. */
size_t fvx_utf8_length(const char *s);

/* Copies src into dst (size n, n > 0), always NUL-terminating; returns false
 * when src had to be cut. */
bool fvx_strlcpy(char *dst, const char *src, size_t n);

/* Value of a hex digit (either case), -1 for anything else. */
int fvx_hex_digit(char c);

/* Decodes %XX escapes of [s, s+len) into out (size n, NUL-terminated).
 * False when an escape is malformed, decodes to NUL, or the result does
 * not fit; out is then unspecified. */
bool fvx_percent_decode(const char *s, size_t len, char *out, size_t n);

/* vsnprintf into out (size n, n > 0) as one line: CR and LF (a server's
 * text may carry them) become spaces; a long result is cut.  Can't fail. */
void fvx_vformat_line(char *out, size_t n, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif
