/*
 * error.h -- the disk layer's error detail: what failed, in one line, for
 * the layer above to report once.
 *
 * The disk layer does not log failures (libgit2's and src/vim's rule):
 * where a failure is detected it calls disk_fail(), which records the
 * status and a one-line detail ("/vm/x-flat.vmdk: read failed: Input/output
 * error") in a thread-local struct disk_error and returns the status, so
 * code reads `return disk_fail(DISK_E_IO, "%s: ...", name, ...)`.  The api
 * layer reads disk_last_error() after a failed call and chooses the log
 * level and the VixError; nothing is logged twice.  Expected conditions
 * that are not failures (a lock held elsewhere, seen while probing) may
 * still be logged at debug level.
 *
 * Byte sources (file.h) record their failures the same way; remote sources
 * add the HTTP status or the server's message.  The record of a thread is
 * replaced by the next failure on that thread; a success does not clear
 * it (check the status first, then read the detail).  A detail never holds
 * a secret (passwords, cookies, tickets).
 */
#ifndef FVX_DISK_ERROR_H
#define FVX_DISK_ERROR_H

struct disk_error {
  int status;        /* the DISK_E_* that was returned */
  long http_status;  /* remote sources: the HTTP status seen, 0 when none */
  char detail[512];  /* one line, no newline, no secrets */
};

/* Records status and the formatted detail for the calling thread and
 * returns status.  Can't fail (a long detail is cut). */
int disk_fail(int status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* disk_fail plus an HTTP status (remote sources). */
int disk_fail_http(int status, long http_status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* The calling thread's last failure (status 0 and "" when none yet).
 * Valid until that thread's next disk_fail. */
const struct disk_error *disk_last_error(void);

/* Forgets the calling thread's record (status 0, empty detail). */
void disk_error_clear(void);

#endif
