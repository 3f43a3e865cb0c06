/*
 * remote_config.h -- the InitEx configuration keys of remote disks
 * (docs/config.md, "Remote disks"), turned into remote/'s settings.
 */
#ifndef FVX_API_REMOTE_CONFIG_H
#define FVX_API_REMOTE_CONFIG_H

#include <stdbool.h>

#include "remote/remote.h"
#include "vixDiskLib.h"

/* Looks a key up in the configuration (a freevix_set_config override or the
 * file); NULL when unset. */
typedef const char *fvx_config_lookup_fn(const void *cfg, const char *key);

/* True for the keys this file reads. */
bool fvx_remote_config_key(const char *key);

/* Fills *out from the keys (strings borrowed from cfg).  Logs and returns
 * VIX_E_INVALID_ARG for a bad value, naming the key. */
VixError fvx_remote_config(fvx_config_lookup_fn *get, const void *cfg,
                           struct remote_settings *out);

#endif
