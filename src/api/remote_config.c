/*
 * remote_config.c -- the configuration keys of remote disks, see
 * remote_config.h.  VDDK's own NFC timeout keys (vixDiskLib.nfc.*) are
 * honoured where freevix has the same setting.
 */
#include "api/remote_config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

/* Chunks read ahead of a sequence of datastore reads when the key is
 * unset (docs/config.md; the figures behind it in docs/performance.md). */
#define FVX_HTTPS_READ_AHEAD_DEFAULT 4

static const char *const keys[] = {
  "freevix.httpsRoute", "freevix.connectTo", "freevix.httpsConnections",
  "freevix.httpsRetries", "freevix.httpsReadAhead",
  "freevix.httpsReadAheadBytes", "freevix.dataTimeoutMs",
  "freevix.nfcRequestsInFlight", "freevix.nfcMaxRequestBytes",
  "freevix.nfcTimeoutMs", "freevix.nfcKeepaliveMs",
};

bool fvx_remote_config_key(const char *key)
{
  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
    if (strcmp(key, keys[i]) == 0)
      return true;
  return false;
}

/* A non-negative decimal no larger than max; unset leaves *out alone. */
static bool number(const char *v, long max, long *out)
{
  char *end;
  long x;

  if (!v)
    return true;
  errno = 0;
  x = strtol(v, &end, 10);
  if (end == v || *end || errno || x < 0 || x > max)
    return false;
  *out = x;
  return true;
}

VixError fvx_remote_config(fvx_config_lookup_fn *get, const void *cfg,
                           struct remote_settings *out)
{
  const char *route = get(cfg, "freevix.httpsRoute");
  long conns = 0, retries = 0, nfc_flight = 0, nfc_bytes = 0;
  long read_ahead = FVX_HTTPS_READ_AHEAD_DEFAULT, read_ahead_bytes = 0;
  /* Each 0 (the default) or from min to max. */
  struct {
    const char *key;
    long min, max;
    long *out;
  } numbers[] = {
    {"freevix.httpsConnections", 0, 64, &conns},
    {"freevix.httpsRetries", 0, 100, &retries},
    {"freevix.httpsReadAhead", 0, 64, &read_ahead},
    {"freevix.httpsReadAheadBytes", 64L * 1024, 64L << 20, &read_ahead_bytes},
    {"freevix.dataTimeoutMs", 0, 86400000L, &out->data_timeout_ms},
    {"freevix.nfcRequestsInFlight", 0, 64, &nfc_flight},
    /* the NFC client's own bounds on one IO (nfc_session.c) */
    {"freevix.nfcMaxRequestBytes", 64L * 1024, 2L << 20, &nfc_bytes},
    {"vixDiskLib.nfc.ReadTimeoutMsecs", 0, 86400000L, &out->nfc_timeout_ms},
    {"freevix.nfcTimeoutMs", 0, 86400000L, &out->nfc_timeout_ms},
    {"freevix.nfcKeepaliveMs", 0, 86400000L, &out->nfc_keepalive_ms},
  };

  memset(out, 0, sizeof *out);
  if (!route || strcmp(route, "auto") == 0) {
    out->route = REMOTE_ROUTE_AUTO;
  } else if (strcmp(route, "host") == 0) {
    out->route = REMOTE_ROUTE_HOST;
  } else if (strcmp(route, "vcenter") == 0) {
    out->route = REMOTE_ROUTE_VCENTER;
  } else {
    fvx_error("config: freevix.httpsRoute must be auto, host or vcenter");
    return VIX_E_INVALID_ARG;
  }
  for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
    long *v = numbers[i].out;

    if (!number(get(cfg, numbers[i].key), numbers[i].max, v) ||
        (*v && *v < numbers[i].min)) {
      if (numbers[i].min)
        fvx_error("config: %s must be 0 (the default) or from %ld to %ld",
                  numbers[i].key, numbers[i].min, numbers[i].max);
      else
        fvx_error("config: %s must be a number from 0 to %ld",
                  numbers[i].key, numbers[i].max);
      return VIX_E_INVALID_ARG;
    }
  }
  out->https_connections = (unsigned)conns;
  out->https_retries = (unsigned)retries;
  out->https_read_ahead = (unsigned)read_ahead;
  out->https_read_ahead_bytes = (uint32_t)read_ahead_bytes;
  out->nfc_in_flight = (unsigned)nfc_flight;
  out->nfc_request_bytes = (uint32_t)nfc_bytes;
  out->connect_to = get(cfg, "freevix.connectTo");
  return VIX_OK;
}
