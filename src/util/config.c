/*
 * config.c -- parser for `key = "value"` configuration files, see config.h.
 *
 * The whole file is read into a capped buffer, then split into lines.  The
 * parser is strict about shape (a key, '=', a value, nothing after a closing
 * quote) so that a typo is reported with its line number instead of being
 * silently taken as some other setting.
 */
#include "util/config.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

#define CONFIG_FILE_MAX (1024 * 1024)
#define CONFIG_LINE_MAX 4096

struct config_entry {
  char *key;
  char *value;
  unsigned line;
};

struct fvx_config {
  struct config_entry *entries;
  size_t n;
};

void fvx_config_free(struct fvx_config *cfg)
{
  if (!cfg)
    return;
  for (size_t i = 0; i < cfg->n; i++) {
    free(cfg->entries[i].key);
    free(cfg->entries[i].value);
  }
  free(cfg->entries);
  free(cfg);
}

static bool is_blank(char c)
{
  return c == ' ' || c == '\t' || c == '\r';
}

static bool is_key_char(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

enum line_kind { LINE_BLANK, LINE_ENTRY, LINE_BAD, LINE_NOMEM };

/* Parses one line [p, end); for LINE_ENTRY *key and *value are malloc'd. */
static enum line_kind parse_line(const char *p, const char *end, char **key,
                                 char **value)
{
  const char *k0, *k1, *v0, *v1;

  *key = *value = NULL;
  while (p < end && is_blank(*p))
    p++;
  while (end > p && is_blank(end[-1]))
    end--;
  if (p == end || *p == '#')
    return LINE_BLANK;

  k0 = p;
  while (p < end && is_key_char(*p))
    p++;
  k1 = p;
  if (k1 == k0)
    return LINE_BAD;
  while (p < end && is_blank(*p))
    p++;
  if (p == end || *p != '=')
    return LINE_BAD;
  p++;
  while (p < end && is_blank(*p))
    p++;
  if (p < end && *p == '"') {
    v0 = ++p;
    while (p < end && *p != '"')
      p++;
    if (p == end)
      return LINE_BAD; /* no closing quote */
    v1 = p++;
    if (p != end)
      return LINE_BAD; /* text after the closing quote */
  } else {
    v0 = p;
    v1 = end;
    for (const char *q = v0; q < v1; q++)
      if (*q == '"')
        return LINE_BAD;
  }
  for (const char *q = v0; q < v1; q++)
    if (*q == '\0')
      return LINE_BAD;

  *key = strndup(k0, (size_t)(k1 - k0));
  *value = strndup(v0, (size_t)(v1 - v0));
  if (!*key || !*value) {
    free(*key);
    free(*value);
    *key = *value = NULL;
    return LINE_NOMEM;
  }
  return LINE_ENTRY;
}

enum fvx_config_status fvx_config_parse(const char *text, size_t len,
                                        struct fvx_config **out,
                                        unsigned *bad_line)
{
  struct fvx_config *cfg;
  const char *p = text, *end = text + len;
  unsigned line = 0;
  size_t alloc = 0;

  *out = NULL;
  if (len > CONFIG_FILE_MAX)
    return FVX_CONFIG_TOO_BIG;
  cfg = calloc(1, sizeof *cfg);
  if (!cfg)
    return FVX_CONFIG_NOMEM;

  while (p < end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *eol = nl ? nl : end;
    char *key, *value;

    line++;
    if (eol - p > CONFIG_LINE_MAX) {
      if (bad_line)
        *bad_line = line;
      fvx_config_free(cfg);
      return FVX_CONFIG_TOO_BIG;
    }
    switch (parse_line(p, eol, &key, &value)) {
    case LINE_BLANK:
      break;
    case LINE_BAD:
      if (bad_line)
        *bad_line = line;
      fvx_config_free(cfg);
      return FVX_CONFIG_SYNTAX;
    case LINE_NOMEM:
      fvx_config_free(cfg);
      return FVX_CONFIG_NOMEM;
    case LINE_ENTRY:
      if (cfg->n == alloc) {
        size_t want = alloc ? alloc * 2 : 16;
        struct config_entry *e = realloc(cfg->entries, want * sizeof *e);

        if (!e) {
          free(key);
          free(value);
          fvx_config_free(cfg);
          return FVX_CONFIG_NOMEM;
        }
        cfg->entries = e;
        alloc = want;
      }
      cfg->entries[cfg->n].key = key;
      cfg->entries[cfg->n].value = value;
      cfg->entries[cfg->n].line = line;
      cfg->n++;
      break;
    }
    p = nl ? nl + 1 : end;
  }
  *out = cfg;
  return FVX_CONFIG_OK;
}

enum fvx_config_status fvx_config_load(const char *path,
                                       struct fvx_config **out,
                                       unsigned *bad_line)
{
  struct fvx_buf buf;
  char chunk[8192];
  enum fvx_config_status st = FVX_CONFIG_OK;
  FILE *f;

  *out = NULL;
  f = fopen(path, "rb");
  if (!f)
    return FVX_CONFIG_IO;
  fvx_buf_init(&buf, CONFIG_FILE_MAX);
  for (;;) {
    size_t n = fread(chunk, 1, sizeof chunk, f);
    int r;

    if (n == 0) {
      if (ferror(f))
        st = FVX_CONFIG_IO;
      break;
    }
    r = fvx_buf_append(&buf, chunk, n);
    if (r != FVX_BUF_OK) {
      st = r == FVX_BUF_TOOBIG ? FVX_CONFIG_TOO_BIG : FVX_CONFIG_NOMEM;
      break;
    }
  }
  fclose(f);
  if (st == FVX_CONFIG_OK)
    st = fvx_config_parse(buf.data ? buf.data : "", buf.len, out, bad_line);
  fvx_buf_free(&buf);
  return st;
}

const char *fvx_config_get(const struct fvx_config *cfg, const char *key)
{
  const char *found = NULL;

  if (!cfg)
    return NULL;
  /* The last assignment of a key wins, as in VDDK's files. */
  for (size_t i = 0; i < cfg->n; i++)
    if (strcmp(cfg->entries[i].key, key) == 0)
      found = cfg->entries[i].value;
  return found;
}

size_t fvx_config_count(const struct fvx_config *cfg)
{
  return cfg ? cfg->n : 0;
}

const char *fvx_config_key(const struct fvx_config *cfg, size_t i)
{
  return cfg && i < cfg->n ? cfg->entries[i].key : NULL;
}

unsigned fvx_config_line(const struct fvx_config *cfg, size_t i)
{
  return cfg && i < cfg->n ? cfg->entries[i].line : 0;
}
