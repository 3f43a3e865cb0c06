/*
 * errors.h -- VixError names and the mapping of lower-layer failures.
 */
#ifndef FVX_API_ERRORS_H
#define FVX_API_ERRORS_H

#include "vixDiskLib.h"

/* The symbolic name of err's code ("VIX_E_FAIL"), or NULL when unknown.
 * Static string. */
const char *fvx_error_name(VixError err);

#endif
