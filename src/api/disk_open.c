/*
 * disk_open.c -- the external interface: Open, Close, GetInfo, FreeInfo,
 * GetTransportMode.
 *
 * A handle wraps one open disk chain (disk/disk.h) and counts itself in its
 * connection's open_handles, so Disconnect refuses to pull a connection
 * from under open disks.  On a local connection the path is an absolute
 * file name; on a remote one it is a datastore path "[ds] dir/x.vmdk" of
 * one of the VM's (or the snapshot's) disks, opened through the transport
 * remote/ picks (GetTransportMode names it).
 */
#include <stdlib.h>
#include <string.h>

#include "api/disk_api.h"
#include "api/vim_errors.h"
#include "remote/remote.h"

#define OPEN_FLAGS_KNOWN                                                     \
  (VIXDISKLIB_FLAG_OPEN_UNBUFFERED | VIXDISKLIB_FLAG_OPEN_SINGLE_LINK |      \
   VIXDISKLIB_FLAG_OPEN_READ_ONLY | VIXDISKLIB_FLAG_OPEN_COMPRESSION_MASK)

/* A remote Open needs a connection made with a vmxSpec and a datastore
 * path. */
static VixError remote_path_check(VixDiskLibConnection c, const char *path)
{
  if (!path || !*path || strnlen(path, 4096) >= 4096) {
    fvx_error("VixDiskLib_Open: path is NULL, empty or too long");
    return VIX_E_INVALID_ARG;
  }
  if (!c->remote) {
    fvx_error("VixDiskLib_Open: the connection has no vmxSpec: remote disks "
              "are opened through a ConnectEx that names their VM "
              "(vmxSpec \"moref=vm-42\")");
    return VIX_E_MISSING_REQUIRED_PROPERTY;
  }
  if (path[0] != '[') {
    fvx_error("VixDiskLib_Open: \"%.200s\" is not a datastore path: a "
              "remote disk is named \"[datastore] dir/disk.vmdk\", as the "
              "VM's configuration names it", path);
    return VIX_E_FILE_NAME_INVALID;
  }
  return VIX_OK;
}

static VixError open_remote(VixDiskLibConnection c, const char *path,
                            unsigned dflags, uint32 comp,
                            struct VixDiskLibHandleStruct *h)
{
  struct access_result res;

  if (remote_open(c->remote, path, dflags, comp, &h->remote, &res) !=
      ACCESS_OK)
    return fvx_map_access_result("VixDiskLib_Open", &res);
  h->disk = remote_disk_disk(h->remote);
  fvx_debug("VixDiskLib_Open: %s via %s", path,
            remote_mode_name(remote_disk_mode(h->remote)));
  return VIX_OK;
}

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
  if (fvx_conn_valid(connection) && !connection->local)
    err = remote_path_check(connection, path);
  else
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
  if (!connection->local) {
    err = open_remote(connection, path, dflags, comp, h);
    if (err) {
      free(h);
      return err;
    }
  } else {
    st = disk_open(&h->disk, path, dflags);
    if (st) {
      free(h);
      return fvx_disk_report("VixDiskLib_Open", st, FVX_LOG_ERROR);
    }
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
  /* Requests still queued complete first (VDDK requires a Wait before
   * Close; nbdkit does one, others may not). */
  fvx_async_free(diskHandle);
  diskHandle->magic = 0;
  if (diskHandle->remote)
    st = remote_disk_close(diskHandle->remote);
  else
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
  if (fvx_disk_handle_check("VixDiskLib_GetTransportMode", diskHandle)) {
    fvx_debug("VixDiskLib_GetTransportMode: answering \"file\" anyway");
    return "file";
  }
  if (diskHandle->remote)
    return remote_mode_name(remote_disk_mode(diskHandle->remote));
  return "file";
}
