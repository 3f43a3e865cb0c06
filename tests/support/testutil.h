/*
 * testutil.h -- small helpers for the C tests.
 */
#ifndef FVX_TESTUTIL_H
#define FVX_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "vixDiskLib.h"

/* Creates a fresh private directory under $TMPDIR (or /tmp) and returns its
 * path (static storage, valid until the next call).  Aborts the test on
 * failure. */
const char *fvx_test_tmpdir(void);

/* Removes a directory tree (best effort). */
void fvx_test_rmtree(const char *path);

/* Reads a whole file into a malloc'd, NUL-terminated buffer; *len (optional)
 * receives its size.  NULL on error. */
char *fvx_test_read_file(const char *path, size_t *len);

/* Creates an empty local disk of the given type and size (LSI Logic,
 * hardware version 6) through VixDiskLib_Create on connection c; fails
 * the test otherwise. */
void fvx_test_create_disk(VixDiskLibConnection c, const char *path,
                          VixDiskLibDiskType type, uint64_t sectors);

/* Prints "SKIP: <reason>" and exits with 77, which CTest reports as skipped. */
void fvx_test_skip(const char *reason) __attribute__((noreturn));

/* True when running under valgrind (FREEVIX_UNDER_VALGRIND set by CTest):
 * tests may shorten their loops there. */
int fvx_test_under_valgrind(void);

#endif
