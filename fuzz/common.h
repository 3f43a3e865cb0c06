/*
 * common.h -- what the fuzz targets share (fuzz/common.c is linked into
 * every one of them by fvx_add_fuzz).
 */
#ifndef FVX_FUZZ_COMMON_H
#define FVX_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* The libFuzzer entry point, declared once for every target. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Sends the library's log lines nowhere: a target logs on every input,
 * and what matters is crashes, leaks and sanitizer reports.  Can't fail;
 * cheap enough to call on every input. */
void fuzz_quiet_logs(void);

/* A NUL-terminated copy of data (malloc'd; the caller frees it), or NULL
 * when out of memory. */
char *fuzz_string(const uint8_t *data, size_t size);

#endif
