/*
 * disk_errors.c -- the one table from disk-layer statuses to VixError, and
 * the checks every disk entry point shares.
 *
 * The disk layer records the detail where it finds the problem
 * (disk/error.h) and logs nothing; fvx_disk_report logs it once, here,
 * prefixed by the entry point, and the status picks the code the caller
 * sees.  The table is the contract documented in docs/disk.md ("Errors").
 */
#include "api/disk_api.h"

#include <stddef.h>

#include "disk/error.h"

static const struct {
  int status;
  VixError err;
} disk_error_map[] = {
    {DISK_OK, VIX_OK},
    {DISK_E_NOMEM, VIX_E_OUT_OF_MEMORY},
    {DISK_E_IO, VIX_E_FILE_ERROR},
    {DISK_E_NOTFOUND, VIX_E_FILE_NOT_FOUND},
    {DISK_E_ACCESS, VIX_E_FILE_ACCESS_ERROR},
    {DISK_E_EXISTS, VIX_E_FILE_ALREADY_EXISTS},
    {DISK_E_LOCKED, VIX_E_FILE_ALREADY_LOCKED},
    {DISK_E_READONLY, VIX_E_FILE_READ_ONLY},
    {DISK_E_NOSPACE, VIX_E_DISK_FULL},
    {DISK_E_ARG, VIX_E_INVALID_ARG},
    {DISK_E_RANGE, VIX_E_DISK_OUTOFRANGE},
    {DISK_E_DESCRIPTOR, VIX_E_DISK_INVAL},
    {DISK_E_CORRUPT, VIX_E_DISK_INVALIDDISK},
    {DISK_E_NEEDSREPAIR, VIX_E_DISK_NEEDSREPAIR},
    {DISK_E_VERSION, VIX_E_DISK_UNSUPPORTEDDISKVERSION},
    {DISK_E_UNSUPPORTED, VIX_E_DISK_NOTSUPPORTED},
    {DISK_E_CID, VIX_E_DISK_CID_MISMATCH},
    {DISK_E_CHAIN, VIX_E_DISK_INVALIDCHAIN},
    {DISK_E_TOODEEP, VIX_E_DISK_TOOMANYREDO},
    {DISK_E_PARENT, VIX_E_DISK_PARTIALCHAIN},
    {DISK_E_KEY, VIX_E_DISK_KEY_NOTFOUND},
    {DISK_E_TOOSMALL, VIX_E_BUFFER_TOOSMALL},
    {DISK_E_TOOBIG, VIX_E_FILE_TOO_BIG},
    {DISK_E_CANTREPAIR, VIX_E_DISK_CANTREPAIR},
    {DISK_E_NAME, VIX_E_FILE_NAME_INVALID},
    {DISK_E_CANTSHRINK, VIX_E_DISK_CANTSHRINK},
    {DISK_E_CAPACITY, VIX_E_DISK_CAPACITY_MISMATCH},
    {DISK_E_ROOTLINK, VIX_E_DISK_ATTACH_ROOTLINK},
    {DISK_E_NOTCAPABLE, VIX_E_NOT_SUPPORTED},
    {DISK_E_NOTSEQUENTIAL, VIX_E_DISK_NOTSUPPORTED},
    /* Remote byte sources: VDDK's network codes (the log line carries the
     * URL or host, the HTTP status and the server's message). */
    {DISK_E_NET_RESOLVE, VIX_E_NET_HTTP_COULDNT_RESOLVE_HOST},
    {DISK_E_NET_CONNECT, VIX_E_NET_HTTP_COULDNT_CONNECT},
    {DISK_E_NET_TLS, VIX_E_NET_HTTP_SSL_CONNECT_ERROR},
    {DISK_E_NET_PIN, VIX_E_NET_HTTP_SSL_SECURITY},
    {DISK_E_NET_TIMEOUT, VIX_E_NET_HTTP_OPERATION_TIMEDOUT},
    {DISK_E_NET_HTTP, VIX_E_NET_HTTP_HTTP_RETURNED_ERROR},
    {DISK_E_NET_PROTOCOL, VIX_E_NET_HTTP_TRANSFER},
    {DISK_E_AUTH, VIX_E_INVALID_AUTHENTICATION_SESSION},
    {DISK_E_REMOTE, VIX_E_FILE_ERROR},
};

VixError fvx_disk_error(int status)
{
  size_t i;

  for (i = 0; i < sizeof disk_error_map / sizeof disk_error_map[0]; i++)
    if (disk_error_map[i].status == status)
      return disk_error_map[i].err;
  return VIX_E_FAIL;
}

VixError fvx_disk_report(const char *fn, int status, enum fvx_log_level level)
{
  const struct disk_error *e = disk_last_error();

  if (status == DISK_OK)
    return VIX_OK;
  if (e->status == status && e->detail[0])
    fvx_log(level, "%s: %s", fn, e->detail);
  else
    fvx_log(level, "%s: %s", fn, disk_status_str(status));
  disk_error_clear();
  return fvx_disk_error(status);
}

VixError fvx_disk_handle_check(const char *fn, VixDiskLibHandle h)
{
  VixError err = fvx_api_require_init(fn);

  if (err)
    return err;
  if (h && h->magic == FVX_DISK_MAGIC_ATTACHED) {
    fvx_error("%s: the disk handle was the parent of VixDiskLib_Attach and "
              "is no longer valid (the child handle holds its chain)", fn);
    return VIX_E_INVALID_ARG;
  }
  if (!h || h->magic != FVX_DISK_MAGIC) {
    fvx_error("%s: invalid disk handle (NULL, closed, or not a handle)", fn);
    return VIX_E_INVALID_ARG;
  }
  return VIX_OK;
}

VixError fvx_disk_local_check(const char *fn, VixDiskLibConnection c,
                              const char *what, const char *path)
{
  VixError err = fvx_api_require_init(fn);

  if (err)
    return err;
  if (!fvx_conn_valid(c)) {
    fvx_error("%s: invalid connection handle", fn);
    return VIX_E_INVALID_ARG;
  }
  if (!c->local) {
    fvx_error("%s: not possible on a remote connection: VixDiskLib creates, "
              "clones, grows and repairs local disks only (a remote disk is "
              "opened with VixDiskLib_Open and read or written through it)",
              fn);
    return VIX_E_NOT_SUPPORTED;
  }
  return fvx_check_local_path(fn, what, path);
}

VixError fvx_disk_create_params(const char *fn,
                                const VixDiskLibCreateParams *in,
                                struct disk_create_params *out)
{
  if (!in) {
    fvx_error("%s: createParams is NULL", fn);
    return VIX_E_INVALID_ARG;
  }
  out->kind = (enum disk_kind)in->diskType;
  out->adapter = (enum disk_adapter)in->adapterType;
  out->hw_version = in->hwVersion;
  out->capacity = in->capacity;
  out->logical_sector_size = in->logicalSectorSize ? in->logicalSectorSize
                                                   : 512;
  out->physical_sector_size = in->physicalSectorSize ? in->physicalSectorSize
                                                     : 512;
  if (in->diskType < VIXDISKLIB_DISK_MONOLITHIC_SPARSE ||
      (in->diskType > VIXDISKLIB_DISK_VMFS_SPARSE &&
       in->diskType != VIXDISKLIB_DISK_UNKNOWN)) {
    fvx_error("%s: disk type %d is not a VixDiskLibDiskType", fn,
              (int)in->diskType);
    return VIX_E_INVALID_ARG;
  }
  if (in->adapterType < VIXDISKLIB_ADAPTER_IDE ||
      (in->adapterType > VIXDISKLIB_ADAPTER_SCSI_LSILOGIC &&
       in->adapterType != VIXDISKLIB_ADAPTER_UNKNOWN)) {
    fvx_error("%s: adapter type %d is not a VixDiskLibAdapterType", fn,
              (int)in->adapterType);
    return VIX_E_INVALID_ARG;
  }
  if ((out->logical_sector_size != 512 && out->logical_sector_size != 4096) ||
      (out->physical_sector_size != 512 &&
       out->physical_sector_size != 4096)) {
    fvx_error("%s: sector sizes %u/%u: only 512 and 4096 exist", fn,
              out->logical_sector_size, out->physical_sector_size);
    return VIX_E_INVALID_ARG;
  }
  return VIX_OK;
}

void fvx_disk_progress(void *opaque, int percent)
{
  struct fvx_progress *p = opaque;

  if (p->fn)
    p->fn(p->data, percent);
}
