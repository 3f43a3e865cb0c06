/*
 * https_test.h -- what the src/https tests share: a site over the
 * scripted peer, an auth callback that hands out a new secret ticket per
 * request (and records what it was asked), a log sink that keeps every
 * line, and file contents with a known pattern.
 */
#ifndef FVX_TEST_HTTPS_H
#define FVX_TEST_HTTPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "disk/disk.h"
#include "disk/error.h"
#include "disk/file.h"
#include "http_peer.h"
#include "https/https.h"

/* What the auth callback does and saw. */
struct test_auth {
  const char *prefix;       /* cookie prefix, "vmware_cgi_ticket=" */
  char host[256];           /* host override to give, "" none */
  char thumbprint[128];     /* pin to give, "" none */
  int fail;                 /* nonzero: answer this status */
  int garble;               /* 1: cookie without NUL, 2: CR LF in the
                               cookie, 3: host without NUL */
  bool single_use;          /* give https_auth.single_use (a ticket) */
  /* what it saw (guarded by a lock inside) */
  unsigned calls;
  char last_url[2048];
  char last_method[16];
};

/* The https_auth_fn of struct test_auth: cookie "<prefix>T<n>-s3cr3t". */
int test_auth_fn(void *opaque, const char *url, const char *method,
                 struct https_auth *out);

/* The secret part every test cookie carries (never to be seen in a detail
 * or a log line). */
#define TEST_SECRET "s3cr3t"

/* Options for a site on 127.0.0.1:port over http (tls false) or https,
 * datastore "ds1" (volume /vmfs/volumes/vol-1) and "ds 2", datacenter
 * "dc", short timeouts. */
void test_options(struct https_options *o, int port, bool tls,
                  struct test_auth *a);

/* Captures log lines (all levels) until test_log_stop; test_log_has
 * tells whether any captured line contains s. */
void test_log_start(void);
void test_log_stop(void);
bool test_log_has(const char *s);

/* Byte i of the test pattern of file seed. */
static inline unsigned char test_byte(unsigned seed, uint64_t i)
{
  uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull ^ seed;

  x ^= x >> 29;
  return (unsigned char)(x * 0xBF58476D1CE4E5B9ull >> 56);
}

/* A malloc'd buffer of n pattern bytes. */
unsigned char *test_pattern(unsigned seed, size_t n);

/* A peer (plain, or TLS with a fresh certificate) and a site over it. */
struct test_fx {
  char dir[4096];          /* temporary directory (holds the certificate) */
  bool tls;
  struct peer_tls cert;    /* tls only */
  struct http_peer *peer;
  struct https_options o;  /* test_options for the peer */
  struct test_auth auth;
  struct https_site *site; /* NULL until test_fx_site */
  struct disk_file *f;     /* what test_fx_open opened last */
  unsigned char *d1, *d2;  /* file contents the test serves (freed) */
};

/* Starts the peer and fills o.  Aborts the test on failure. */
struct test_fx *test_fx_new(bool tls);

/* Closes f, frees the site, stops the peer, removes dir, stops log
 * capture, frees d1/d2 and x. */
void test_fx_free(struct test_fx *x);

/* Replaces the site with a new one from x->o; its status. */
int test_fx_site(struct test_fx *x);

/* Closes x->f and opens name on the site's vfs into x->f; its status. */
int test_fx_open(struct test_fx *x, const char *name);

/* disk_file ops through the table (the disk layer's checked wrappers live
 * in another branch). */
int test_pread(struct disk_file *f, void *buf, size_t len, uint64_t off,
               size_t *got);
void test_close(struct disk_file *f);

#endif
