/*
 * disk_test.h -- what the cmocka disk tests share: a private directory, a
 * local connection, and helpers that create and open disks in it.
 */
#ifndef FVX_DISK_TEST_H
#define FVX_DISK_TEST_H

#include <stdint.h>

#include "vixDiskLib.h"

extern const char *dt_dir;            /* set by dt_setup */
extern VixDiskLibConnection dt_conn;  /* local, set by dt_setup */

/* "<dt_dir>/<name>", in one of 8 rotating static buffers. */
char *dt_path(const char *name);
/* Creates a disk (BusLogic, hardware version 5); asserts success. */
void dt_create(const char *path, VixDiskLibDiskType type, uint64_t cap);
/* Opens and closes path with flags; returns the Open result. */
VixError dt_open_err(const char *path, uint32 flags);

/* cmocka group setup/teardown: InitEx, a local connection, the directory
 * (removed by teardown). */
int dt_setup(void **state);
int dt_teardown(void **state);

/* The library's last log line: the api layer reports a failure's detail
 * once, as "VixDiskLib_Fn: <detail>".  Kept by the sink dt_setup_logged
 * installs after dt_setup (lines are printed to stderr too). */
extern char dt_last_line[1024];
int dt_setup_logged(void **state);

#endif
