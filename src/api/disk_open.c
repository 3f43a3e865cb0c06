/*
 * disk_open.c -- the external interface: Open, Close, GetInfo, FreeInfo,
 * GetTransportMode.
 *
 * A handle wraps one open disk chain (disk/disk.h) and counts itself in its
 * connection's open_handles, so Disconnect refuses to pull a connection
 * from under open disks.  Only local connections open disks for now.
 */
#include <stdlib.h>
#include <string.h>

#include "api/disk_api.h"

#define OPEN_FLAGS_KNOWN                                                     \
  (VIXDISKLIB_FLAG_OPEN_UNBUFFERED | VIXDISKLIB_FLAG_OPEN_SINGLE_LINK |      \
   VIXDISKLIB_FLAG_OPEN_READ_ONLY | VIXDISKLIB_FLAG_OPEN_COMPRESSION_MASK)

VixError VixDiskLib_Open(const VixDiskLibConnection connection,
                         const char *path, uint32 flags,
                         VixDiskLibHandle *diskHandle)
{
  struct VixDiskLibHandleStruct *h;
  uint32 comp = flags & VIXDISKLIB_FLAG_OPEN_COMPRESSION_MASK;
  unsigned dflags = 0;
  VixError err;
  int st;

  err = fvx_api_require_init("VixDiskLib_Open");
  if (err)
    return err;
  FVX_API_TRACE("VixDiskLib_Open", "path=%s, flags=0x%x)",
                path ? path : "(null)", (unsigned)flags);
  if (!diskHandle) {
    fvx_error("VixDiskLib_Open: diskHandle (the output) is NULL");
    return VIX_E_INVALID_ARG;
  }
  *diskHandle = NULL;
  err = fvx_disk_local_check("VixDiskLib_Open", connection, "path", path);
  if (err)
    return err;
  if ((flags & ~(uint32)OPEN_FLAGS_KNOWN) || (comp & (comp - 1))) {
    fvx_error("VixDiskLib_Open: flags 0x%x hold unknown bits or more than "
              "one compression algorithm", (unsigned)flags);
    return VIX_E_INVALID_ARG;
  }
  if ((flags & VIXDISKLIB_FLAG_OPEN_READ_ONLY) || connection->read_only)
    dflags |= DISK_OPEN_READONLY;
  if (flags & VIXDISKLIB_FLAG_OPEN_SINGLE_LINK)
    dflags |= DISK_OPEN_SINGLE_LINK;
  if (flags & VIXDISKLIB_FLAG_OPEN_UNBUFFERED)
    dflags |= DISK_OPEN_UNBUFFERED;
  h = calloc(1, sizeof *h);
  if (!h)
    return VIX_E_OUT_OF_MEMORY;
  st = disk_open(&h->disk, path, dflags);
  if (st) {
    free(h);
    return fvx_disk_report("VixDiskLib_Open", st, FVX_LOG_ERROR);
  }
  h->magic = FVX_DISK_MAGIC;
  h->conn = connection;
  h->flags = flags;
  __atomic_add_fetch(&connection->open_handles, 1, __ATOMIC_RELAXED);
  *diskHandle = h;
  return VIX_OK;
}

VixError VixDiskLib_Close(VixDiskLibHandle diskHandle)
{
  VixError err = fvx_disk_handle_check("VixDiskLib_Close", diskHandle);
  int st;

  if (err)
    return err;
  FVX_API_TRACE("VixDiskLib_Close", "%p)", (void *)diskHandle);
  diskHandle->magic = 0;
  st = disk_close(diskHandle->disk);
  if (fvx_conn_valid(diskHandle->conn))
    __atomic_sub_fetch(&diskHandle->conn->open_handles, 1, __ATOMIC_RELAXED);
  while (diskHandle->parked) { /* parents consumed by Attach */
    struct VixDiskLibHandleStruct *p = diskHandle->parked;

    diskHandle->parked = p->next;
    memset(p, 0, sizeof *p);
    free(p);
  }
  memset(diskHandle, 0, sizeof *diskHandle);
  free(diskHandle);
  return fvx_disk_report("VixDiskLib_Close", st, FVX_LOG_ERROR);
}

VixError VixDiskLib_GetInfo(VixDiskLibHandle diskHandle, VixDiskLibInfo **info)
{
  VixError err = fvx_disk_handle_check("VixDiskLib_GetInfo", diskHandle);
  struct disk_info di;
  size_t hl, ul;
  VixDiskLibInfo *out;
  char *p;

  if (err)
    return err;
  FVX_API_TRACE("VixDiskLib_GetInfo", "%p)", (void *)diskHandle);
  if (!info) {
    fvx_error("VixDiskLib_GetInfo: info (the output) is NULL");
    return VIX_E_INVALID_ARG;
  }
  *info = NULL;
  disk_get_info(diskHandle->disk, &di);
  hl = di.parent_hint ? strlen(di.parent_hint) + 1 : 0;
  ul = di.uuid ? strlen(di.uuid) + 1 : 0;
  /* One block: the struct, then its strings; FreeInfo frees it whole. */
  out = calloc(1, sizeof *out + hl + ul);
  if (!out)
    return VIX_E_OUT_OF_MEMORY;
  p = (char *)(out + 1);
  out->biosGeo.cylinders = di.bios.cylinders;
  out->biosGeo.heads = di.bios.heads;
  out->biosGeo.sectors = di.bios.sectors;
  out->physGeo.cylinders = di.phys.cylinders;
  out->physGeo.heads = di.phys.heads;
  out->physGeo.sectors = di.phys.sectors;
  out->capacity = di.capacity;
  out->adapterType = (VixDiskLibAdapterType)di.adapter;
  out->numLinks = di.num_links;
  if (hl) {
    memcpy(p, di.parent_hint, hl);
    out->parentFileNameHint = p;
    p += hl;
  }
  if (ul) {
    memcpy(p, di.uuid, ul);
    out->uuid = p;
  }
  out->logicalSectorSize = di.logical_sector_size;
  out->physicalSectorSize = di.physical_sector_size;
  *info = out;
  return VIX_OK;
}

void VixDiskLib_FreeInfo(VixDiskLibInfo *info)
{
  free(info);
}

const char *VixDiskLib_GetTransportMode(VixDiskLibHandle diskHandle)
{
  if (fvx_disk_handle_check("VixDiskLib_GetTransportMode", diskHandle))
    fvx_debug("VixDiskLib_GetTransportMode: answering \"file\" anyway");
  return "file";
}
