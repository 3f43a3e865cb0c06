/*
 * clock.h -- monotonic time and deadlines, for every bounded wait.
 */
#ifndef FVX_UTIL_CLOCK_H
#define FVX_UTIL_CLOCK_H

#include <stdint.h>

/* Milliseconds on the monotonic clock (arbitrary origin). */
int64_t fvx_now_ms(void);

/* Sleeps ms milliseconds (restarting after signals).  ms <= 0 returns at once. */
void fvx_sleep_ms(int64_t ms);

#endif
