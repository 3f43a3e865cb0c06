/*
 * measure.h -- the two clocks every bench reads: wall time on the
 * monotonic clock and this process's CPU time (user + system).
 */
#ifndef FVX_BENCH_MEASURE_H
#define FVX_BENCH_MEASURE_H

/* Milliseconds on the monotonic clock (arbitrary origin). */
double bench_now_ms(void);

/* CPU milliseconds this process has used so far (getrusage). */
double bench_cpu_ms(void);

#endif
