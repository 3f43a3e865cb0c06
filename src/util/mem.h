/*
 * mem.h -- small memory helpers: secret wiping and scope cleanup.
 *
 * Secrets (passwords, session cookies) are wiped with fvx_wipe() before their
 * memory is released, using explicit_bzero so the compiler cannot drop it.
 * The CLEANUP_* attributes free locals when they leave scope (nbdkit's
 * habit), for a function that owns one buffer across several returns (e.g.
 * pool_checkout's key, prepare.c's reasonId copy); functions owning more use
 * one `err` variable and one `out:` label.
 */
#ifndef FVX_UTIL_MEM_H
#define FVX_UTIL_MEM_H

#include <stddef.h>

/* Overwrites n bytes at p with zeros; p may be NULL.  Can't fail. */
void fvx_wipe(void *p, size_t n);

/* Wipes the NUL-terminated string s, then frees it; NULL is a no-op. */
void fvx_free_secret(char *s);

/* strdup that returns NULL for NULL input (and on allocation failure, which
 * callers must tell apart by checking the input). */
char *fvx_strdup0(const char *s);

/* Cleanup helpers for __attribute__((cleanup)). */
void fvx_cleanup_free(void *ptr);
void fvx_cleanup_free_secret(char **ptr);

#define CLEANUP_FREE __attribute__((cleanup(fvx_cleanup_free)))
#define CLEANUP_FREE_SECRET __attribute__((cleanup(fvx_cleanup_free_secret)))

#define FVX_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
