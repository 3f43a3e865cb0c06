/*
 * vddk_pattern.h -- one PrepareForAccess or EndAccess done the way VDDK
 * does it: a session of its own, logged in, one call, logged out.  The
 * baseline the access benches compare freevix's pooled and batched calls
 * against, made with our own SOAP client so the difference measured is the
 * pattern, not the client.
 */
#ifndef FVX_BENCH_VDDK_PATTERN_H
#define FVX_BENCH_VDDK_PATTERN_H

#include <stdbool.h>

#include "sim.h"

/* Disables (or enables) RelocateVM_Task on vm ("vm-42") for source
 * "bench" as admin/freevix; exits the process on failure. */
void vddk_pattern_call(const struct fvx_sim *sim, const char *vm,
                       bool disable);

#endif
