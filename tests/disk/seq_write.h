/*
 * seq_write.h -- a seeded plan of sequential writes, as a backup program
 * writing a streamOptimized disk makes them: increasing sectors, random
 * lengths (one sector to more than a grain table's span), gaps, runs of
 * zeros, nothing grain-aligned.  Shared by the stream unit test and the
 * interop tool, so both check the same shapes.
 */
#ifndef FVX_TEST_SEQ_WRITE_H
#define FVX_TEST_SEQ_WRITE_H

#include <stdint.h>

#include "vixDiskLib.h"

/* Writes the plan of 'seed' over a disk of cap sectors through h and
 * records what was written in model (cap * 512 bytes, zeroed by the
 * caller: unwritten sectors stay zero).  The first failing Write's error,
 * or VIX_OK. */
VixError seq_write(VixDiskLibHandle h, uint64_t cap, unsigned seed,
                   uint8_t *model);

#endif
