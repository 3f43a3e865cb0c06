/*
 * config.h -- the InitEx configuration file: `key = "value"` lines.
 *
 * Grammar (VDDK's): one setting per line, `key = value` where value may be
 * in double quotes; blank lines and lines starting with '#' are ignored;
 * leading and trailing blanks are trimmed.  Keys are case-sensitive.  The
 * file is at most 1 MiB and each line at most 4 KiB.
 *
 * A parsed configuration is immutable and owned by whoever called
 * fvx_config_load(); free it with fvx_config_free().
 */
#ifndef FVX_UTIL_CONFIG_H
#define FVX_UTIL_CONFIG_H

#include <stddef.h>

struct fvx_config;

enum fvx_config_status {
  FVX_CONFIG_OK = 0,
  FVX_CONFIG_NOMEM,
  FVX_CONFIG_IO,        /* could not open or read the file */
  FVX_CONFIG_SYNTAX,    /* a malformed line: see *bad_line */
  FVX_CONFIG_TOO_BIG,   /* file or line over the limits */
};

/* Parses 'path'.  On success *out is the configuration.  On failure *out is
 * NULL and, for FVX_CONFIG_SYNTAX / FVX_CONFIG_TOO_BIG, *bad_line (optional)
 * is the 1-based number of the offending line. */
enum fvx_config_status fvx_config_load(const char *path,
                                       struct fvx_config **out,
                                       unsigned *bad_line);

/* Parses text already in memory (len bytes); same contract as load. */
enum fvx_config_status fvx_config_parse(const char *text, size_t len,
                                        struct fvx_config **out,
                                        unsigned *bad_line);

/* The value of key, or NULL when absent (or cfg is NULL).  The string lives
 * as long as cfg. */
const char *fvx_config_get(const struct fvx_config *cfg, const char *key);

/* Number of entries and access by index, for iterating (e.g. to report
 * unknown keys).  Strings live as long as cfg. */
size_t fvx_config_count(const struct fvx_config *cfg);
const char *fvx_config_key(const struct fvx_config *cfg, size_t i);
unsigned fvx_config_line(const struct fvx_config *cfg, size_t i);

void fvx_config_free(struct fvx_config *cfg);

#endif
