/*
 * buf.h -- a growable byte buffer with a hard size cap.
 *
 * Every buffer that grows with input from the network or a file (SOAP
 * replies, descriptors) is an fvx_buf with a cap, so a hostile peer cannot
 * make us allocate without bound (curl's dynbuf).  The content is always
 * NUL-terminated (the terminator is not counted in len), so text can be used
 * in place.
 */
#ifndef FVX_UTIL_BUF_H
#define FVX_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct fvx_buf {
  char *data;   /* owned; NULL until the first append */
  size_t len;   /* bytes used, excluding the NUL terminator */
  size_t alloc; /* bytes allocated */
  size_t cap;   /* maximum len; appends beyond it fail */
};

enum fvx_buf_status { FVX_BUF_OK = 0, FVX_BUF_NOMEM = -1, FVX_BUF_TOOBIG = -2 };

/* Initializes an empty buffer that may grow to 'cap' bytes.  Can't fail. */
void fvx_buf_init(struct fvx_buf *b, size_t cap);

/* Appends n bytes.  On failure the buffer is unchanged. */
int fvx_buf_append(struct fvx_buf *b, const void *p, size_t n);
int fvx_buf_puts(struct fvx_buf *b, const char *s);
int fvx_buf_printf(struct fvx_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Appends s with the five XML special characters escaped (&<>"' become
 * entities) and control characters other than tab/newline/CR refused
 * (FVX_BUF_TOOBIG is not used for that: returns -3, FVX_BUF_BADCHAR). */
#define FVX_BUF_BADCHAR (-3)
int fvx_buf_xml_escape(struct fvx_buf *b, const char *s);

/* Empties the buffer, keeping its memory.  Can't fail. */
void fvx_buf_reset(struct fvx_buf *b);

/* Releases the memory (wiping it first if 'secret'); the buffer is left empty
 * and reusable. */
void fvx_buf_free(struct fvx_buf *b);
void fvx_buf_free_secret(struct fvx_buf *b);

/* Hands the content to the caller (free with free()) and empties the buffer;
 * returns "" copies for an empty buffer, NULL on allocation failure. */
char *fvx_buf_steal(struct fvx_buf *b);

#endif
