/*
 * disk_test.h -- what the cmocka disk tests share: a private directory and
 * disks made in it, through the public API (disk_test.c: also InitEx and a
 * local connection) or the internal one (disk_test_dir.c, which needs only
 * src/disk, so the TSan build of test_disk_threads can use it).
 */
#ifndef FVX_DISK_TEST_H
#define FVX_DISK_TEST_H

#include <stdint.h>

#include "disk/disk.h"
#include "vixDiskLib.h"

/* ---- disk_test_dir.c ---------------------------------------------------- */

extern const char *dt_dir; /* set by dt_dir_setup */

/* "<dt_dir>/<name>", in one of 8 rotating static buffers. */
char *dt_path(const char *name);
/* Creates the disk dt_path(name) through disk_create (LSI Logic, 512-byte
 * sectors); asserts success. */
void dt_make(const char *name, enum disk_kind kind, uint64_t cap);

/* A xorshift64 generator for test data and choices: dt_seed sets its
 * state (never 0), dt_rand steps it.  Not thread-safe. */
void dt_seed(uint64_t seed);
uint64_t dt_rand(void);

/* cmocka group setup/teardown: the directory alone (removed by
 * teardown). */
int dt_dir_setup(void **state);
int dt_dir_teardown(void **state);

/* ---- disk_test.c (public API) -------------------------------------------- */

extern VixDiskLibConnection dt_conn; /* local, set by dt_setup */

/* Creates a disk (BusLogic, hardware version 5); asserts success. */
void dt_create(const char *path, VixDiskLibDiskType type, uint64_t cap);
/* Opens and closes path with flags; returns the Open result. */
VixError dt_open_err(const char *path, uint32 flags);

/* cmocka group setup/teardown: the directory, InitEx and a local
 * connection. */
int dt_setup(void **state);
int dt_teardown(void **state);

/* The library's last log line: the api layer reports a failure's detail
 * once, as "VixDiskLib_Fn: <detail>".  Kept by the sink dt_setup_logged
 * installs after dt_setup (lines are printed to stderr too). */
extern char dt_last_line[1024];
int dt_setup_logged(void **state);

#endif
