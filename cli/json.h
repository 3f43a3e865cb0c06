/*
 * json.h -- the little JSON the backup manifests need: a writer into a
 * growable buffer, and a strict, bounded parser into a tree.
 *
 * The parser takes RFC 8259 text with three limits of its own: integers
 * only (no fractions or exponents; the manifests hold none), at most
 * JSON_MAX_DEPTH levels, JSON_MAX_MEMBERS members per object and
 * JSON_MAX_ELEMENTS elements per array, and the caller's input size (it allocates one
 * node per value, so the tree is bounded by the text).  Strings must be
 * valid UTF-8 without NUL (\u0000 is refused).  A failure names the byte
 * offset and what was expected; nothing of the input is trusted after one.
 */
#ifndef FREEVIX_CLI_JSON_H
#define FREEVIX_CLI_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JSON_MAX_DEPTH 32
#define JSON_MAX_MEMBERS 256        /* of one object */
#define JSON_MAX_ELEMENTS 1048576   /* of one array */

enum json_kind {
  JSON_NULL,
  JSON_BOOL,
  JSON_INT,     /* fits int64_t */
  JSON_STRING,
  JSON_ARRAY,
  JSON_OBJECT,
};

struct json {
  enum json_kind kind;
  bool b;
  int64_t i;
  char *s;             /* JSON_STRING: NUL-terminated, UTF-8 */
  size_t s_len;
  char *key;           /* member name, when the parent is an object */
  struct json *child;  /* first element or member */
  struct json *next;   /* next sibling */
  size_t n;            /* elements or members */
};

/* Parses text (len bytes) into *out, freed with json_free.  Returns true,
 * or false with a one-line reason in why (size why_n). */
bool json_parse(const char *text, size_t len, struct json **out, char *why,
                size_t why_n);

/* Frees a tree; NULL is a no-op. */
void json_free(struct json *j);

/* The member 'key' of an object (NULL when absent or j is no object). */
const struct json *json_get(const struct json *j, const char *key);

/* A growable output buffer.  Every writer function records an allocation
 * failure in 'failed' and then does nothing; check it once at the end. */
struct json_out {
  char *data;
  size_t len, cap;
  bool failed;
  bool need_comma;     /* a value was written at this level */
  unsigned depth;
};

void json_out_init(struct json_out *o);
void json_out_free(struct json_out *o);

/* Structure: begin/end an object or array; 'key' names the member when
 * inside an object (NULL inside an array or at the top). */
void json_begin_object(struct json_out *o, const char *key);
void json_end_object(struct json_out *o);
void json_begin_array(struct json_out *o, const char *key);
void json_end_array(struct json_out *o);

/* Values, each with the member key (or NULL).  json_str writes null for a
 * NULL string. */
void json_str(struct json_out *o, const char *key, const char *s);
void json_int(struct json_out *o, const char *key, int64_t v);
void json_uint(struct json_out *o, const char *key, uint64_t v);
void json_bool(struct json_out *o, const char *key, bool v);
void json_null(struct json_out *o, const char *key);

#endif
