/*
 * disk_meta.c -- the external interface to the disk database (the ddb.*
 * lines of the descriptor): GetMetadataKeys, ReadMetadata, WriteMetadata.
 *
 * Keys are given and listed without their "ddb." prefix, as VDDK does
 * ("adapterType", "geometry.cylinders", "uuid"); the prefixed form is
 * accepted too.  Both readers use VDDK's two-call protocol: a NULL buffer or
 * a short one gives VIX_E_BUFFER_TOOSMALL with *requiredLen set to the size
 * needed, terminating NUL(s) included.
 */
#include <string.h>

#include "api/disk_api.h"

VixError VixDiskLib_GetMetadataKeys(VixDiskLibHandle diskHandle, char *keys,
                                    size_t maxLen, size_t *requiredLen)
{
  VixError err = fvx_disk_handle_check("VixDiskLib_GetMetadataKeys",
                                       diskHandle);
  size_t need = 0;
  int st;

  if (err)
    return err;
  FVX_API_TRACE("VixDiskLib_GetMetadataKeys", "%p, maxLen=%zu)",
                (void *)diskHandle, maxLen);
  st = disk_meta_keys(diskHandle->disk, keys, keys ? maxLen : 0, &need);
  if (requiredLen)
    *requiredLen = need;
  /* A short buffer is the first half of VDDK's two-call protocol. */
  return fvx_disk_report("VixDiskLib_GetMetadataKeys", st,
                         st == DISK_E_TOOSMALL ? FVX_LOG_DEBUG
                                               : FVX_LOG_ERROR);
}

VixError VixDiskLib_ReadMetadata(VixDiskLibHandle diskHandle, const char *key,
                                 char *buf, size_t bufLen,
                                 size_t *requiredLen)
{
  VixError err = fvx_disk_handle_check("VixDiskLib_ReadMetadata", diskHandle);
  const char *val;
  size_t need;
  int st;

  if (err)
    return err;
  FVX_API_TRACE("VixDiskLib_ReadMetadata", "%p, key=%s, bufLen=%zu)",
                (void *)diskHandle, key ? key : "(null)", bufLen);
  if (!key) {
    fvx_error("VixDiskLib_ReadMetadata: key is NULL");
    return VIX_E_INVALID_ARG;
  }
  st = disk_meta_get(diskHandle->disk, key, &val);
  if (st) /* asking for a key that may be absent is a probe */
    return fvx_disk_report("VixDiskLib_ReadMetadata", st,
                           st == DISK_E_KEY ? FVX_LOG_DEBUG : FVX_LOG_ERROR);
  need = strlen(val) + 1;
  if (requiredLen)
    *requiredLen = need;
  if (!buf || bufLen < need)
    return VIX_E_BUFFER_TOOSMALL;
  memcpy(buf, val, need);
  return VIX_OK;
}

VixError VixDiskLib_WriteMetadata(VixDiskLibHandle diskHandle,
                                  const char *key, const char *val)
{
  VixError err = fvx_disk_handle_check("VixDiskLib_WriteMetadata",
                                       diskHandle);

  if (err)
    return err;
  FVX_API_TRACE("VixDiskLib_WriteMetadata", "%p, key=%s, val=%s)",
                (void *)diskHandle, key ? key : "(null)",
                val ? val : "(null)");
  if (!key || !val) {
    fvx_error("VixDiskLib_WriteMetadata: key and val must not be NULL");
    return VIX_E_INVALID_ARG;
  }
  return fvx_disk_report("VixDiskLib_WriteMetadata",
                         disk_meta_set(diskHandle->disk, key, val),
                         FVX_LOG_ERROR);
}
