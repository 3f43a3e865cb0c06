/*
 * vim_errors.h -- mapping access-layer and vSphere failures to VixError.
 */
#ifndef FVX_API_VIM_ERRORS_H
#define FVX_API_VIM_ERRORS_H

#include "access/access.h"
#include "vixDiskLib.h"

/* Logs one line for the failure in res (prefixed by fn, naming the holder
 * of a disable or the missing privilege where the fault carries them) and
 * returns its VixError.  The table is docs/errors.md. */
VixError fvx_map_access_result(const char *fn, const struct access_result *res);

/* The VixError for a vSphere failure alone, without logging. */
VixError fvx_vim_to_vix(const struct vim_error *err);

#endif
