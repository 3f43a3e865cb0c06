/*
 * disk_manage.c -- the external interface for whole-disk operations:
 * Create, CreateChild, Clone, Unlink, Rename, Grow, SpaceNeededForClone,
 * CheckRepair, Shrink, Defragment, IsAttachPossible, Attach.
 *
 * Every one is local-only: remote connections get VIX_E_NOT_SUPPORTED.
 */
#include <stdint.h>

#include "api/disk_api.h"

VixError VixDiskLib_Create(const VixDiskLibConnection connection,
                           const char *path,
                           const VixDiskLibCreateParams *createParams,
                           VixDiskLibProgressFunc progressFunc,
                           void *progressCallbackData)
{
  struct disk_create_params p;
  VixError err;
  int st;

  err = fvx_disk_local_check("VixDiskLib_Create", connection, "path", path);
  if (err)
    return err;
  FVX_API_TRACE("VixDiskLib_Create", "path=%s, type=%d, capacity=%llu)",
                path, createParams ? (int)createParams->diskType : -1,
                createParams
                    ? (unsigned long long)createParams->capacity : 0ull);
  err = fvx_disk_create_params("VixDiskLib_Create", createParams, &p);
  if (err)
    return err;
  if (p.kind == DISK_KIND_UNKNOWN || p.adapter == DISK_ADAPTER_UNKNOWN) {
    fvx_error("VixDiskLib_Create: disk and adapter types must be given");
    return VIX_E_INVALID_ARG;
  }
  st = disk_create(path, &p);
  if (!st && progressFunc)
    progressFunc(progressCallbackData, 100);
  return fvx_disk_report("VixDiskLib_Create", st, FVX_LOG_ERROR);
}

VixError VixDiskLib_CreateChild(VixDiskLibHandle diskHandle,
                                const char *childPath,
                                VixDiskLibDiskType diskType,
                                VixDiskLibProgressFunc progressFunc,
                                void *progressCallbackData)
{
  VixError err = fvx_disk_handle_check("VixDiskLib_CreateChild", diskHandle);
  int st;

  if (err)
    return err;
  FVX_API_TRACE("VixDiskLib_CreateChild", "%p, childPath=%s, type=%d)",
                (void *)diskHandle, childPath ? childPath : "(null)",
                (int)diskType);
  err = fvx_check_local_path("VixDiskLib_CreateChild", "childPath",
                             childPath);
  if (err)
    return err;
  if (diskType != VIXDISKLIB_DISK_MONOLITHIC_SPARSE &&
      diskType != VIXDISKLIB_DISK_SPLIT_SPARSE) {
    fvx_error("VixDiskLib_CreateChild: a child is MONOLITHIC_SPARSE or "
              "SPLIT_SPARSE, not type %d", (int)diskType);
    return VIX_E_INVALID_ARG;
  }
  st = disk_create_child(diskHandle->disk, childPath,
                         (enum disk_kind)diskType);
  if (!st && progressFunc)
    progressFunc(progressCallbackData, 100);
  return fvx_disk_report("VixDiskLib_CreateChild", st, FVX_LOG_ERROR);
}

VixError VixDiskLib_Clone(const VixDiskLibConnection dstConnection,
                          const char *dstPath,
                          const VixDiskLibConnection srcConnection,
                          const char *srcPath,
                          const VixDiskLibCreateParams *vixCreateParams,
                          VixDiskLibProgressFunc progressFunc,
                          void *progressCallbackData, Bool overWrite)
{
  struct fvx_progress prog = {progressFunc, progressCallbackData};
  struct disk_create_params p;
  VixError err;

  err = fvx_disk_local_check("VixDiskLib_Clone", dstConnection, "dstPath",
                             dstPath);
  if (!err)
    err = fvx_disk_local_check("VixDiskLib_Clone", srcConnection, "srcPath",
                               srcPath);
  if (err)
    return err;
  FVX_API_TRACE("VixDiskLib_Clone", "dst=%s, src=%s, type=%d, overWrite=%d)",
                dstPath, srcPath,
                vixCreateParams ? (int)vixCreateParams->diskType : -1,
                overWrite ? 1 : 0);
  err = fvx_disk_create_params("VixDiskLib_Clone", vixCreateParams, &p);
  if (err)
    return err;
  return fvx_disk_report("VixDiskLib_Clone",
                         disk_clone(dstPath, srcPath, &p, overWrite != 0,
                                    fvx_disk_progress, &prog),
                         FVX_LOG_ERROR);
}

VixError VixDiskLib_Unlink(VixDiskLibConnection connection, const char *path)
{
  VixError err = fvx_disk_local_check("VixDiskLib_Unlink", connection,
                                      "path", path);

  if (err)
    return err;
  FVX_API_TRACE("VixDiskLib_Unlink", "path=%s)", path);
  return fvx_disk_report("VixDiskLib_Unlink", disk_unlink(path),
                         FVX_LOG_ERROR);
}

VixError VixDiskLib_Rename(const char *srcFileName, const char *dstFileName)
{
  VixError err = fvx_api_require_init("VixDiskLib_Rename");

  if (!err)
    err = fvx_check_local_path("VixDiskLib_Rename", "srcFileName",
                               srcFileName);
  if (!err)
    err = fvx_check_local_path("VixDiskLib_Rename", "dstFileName",
                               dstFileName);
  if (err)
    return err;
  FVX_API_TRACE("VixDiskLib_Rename", "src=%s, dst=%s)", srcFileName,
                dstFileName);
  return fvx_disk_report("VixDiskLib_Rename",
                         disk_rename(srcFileName, dstFileName), FVX_LOG_ERROR);
}

VixError VixDiskLib_Grow(VixDiskLibConnection connection, const char *path,
                         VixDiskLibSectorType capacity, Bool updateGeometry,
                         VixDiskLibProgressFunc progressFunc,
                         void *progressCallbackData)
{
  struct fvx_progress prog = {progressFunc, progressCallbackData};
  VixError err = fvx_disk_local_check("VixDiskLib_Grow", connection, "path",
                                      path);

  if (err)
    return err;
  FVX_API_TRACE("VixDiskLib_Grow", "path=%s, capacity=%llu, geometry=%d)",
                path, (unsigned long long)capacity, updateGeometry ? 1 : 0);
  return fvx_disk_report(
      "VixDiskLib_Grow",
      disk_grow(path, capacity, updateGeometry != 0, fvx_disk_progress, &prog),
      FVX_LOG_ERROR);
}

VixError VixDiskLib_SpaceNeededForClone(VixDiskLibHandle diskHandle,
                                        VixDiskLibDiskType cloneDiskType,
                                        uint64 *spaceNeeded)
{
  VixError err = fvx_disk_handle_check("VixDiskLib_SpaceNeededForClone",
                                       diskHandle);
  uint64_t need = 0;
  int st;

  if (err)
    return err;
  FVX_API_TRACE("VixDiskLib_SpaceNeededForClone", "%p, type=%d)",
                (void *)diskHandle, (int)cloneDiskType);
  if (!spaceNeeded ||
      ((cloneDiskType < VIXDISKLIB_DISK_MONOLITHIC_SPARSE ||
        cloneDiskType > VIXDISKLIB_DISK_VMFS_SPARSE) &&
       cloneDiskType != VIXDISKLIB_DISK_UNKNOWN)) {
    fvx_error("VixDiskLib_SpaceNeededForClone: spaceNeeded is NULL or the "
              "disk type %d is unknown", (int)cloneDiskType);
    return VIX_E_INVALID_ARG;
  }
  st = disk_space_for_clone(diskHandle->disk, (enum disk_kind)cloneDiskType,
                            &need);
  if (!st)
    *spaceNeeded = need;
  return fvx_disk_report("VixDiskLib_SpaceNeededForClone", st, FVX_LOG_ERROR);
}

VixError VixDiskLib_CheckRepair(const VixDiskLibConnection connection,
                                const char *filename, Bool repair)
{
  VixError err = fvx_disk_local_check("VixDiskLib_CheckRepair", connection,
                                      "filename", filename);

  if (err)
    return err;
  FVX_API_TRACE("VixDiskLib_CheckRepair", "filename=%s, repair=%d)",
                filename, repair ? 1 : 0);
  return fvx_disk_report("VixDiskLib_CheckRepair",
                         disk_check(filename, repair != 0), FVX_LOG_ERROR);
}

VixError VixDiskLib_Shrink(VixDiskLibHandle diskHandle,
                           VixDiskLibProgressFunc progressFunc,
                           void *progressCallbackData)
{
  struct fvx_progress prog = {progressFunc, progressCallbackData};
  VixError err = fvx_disk_handle_check("VixDiskLib_Shrink", diskHandle);

  if (err)
    return err;
  FVX_API_TRACE("VixDiskLib_Shrink", "%p)", (void *)diskHandle);
  return fvx_disk_report(
      "VixDiskLib_Shrink",
      disk_shrink(diskHandle->disk, fvx_disk_progress, &prog), FVX_LOG_ERROR);
}

VixError VixDiskLib_Defragment(VixDiskLibHandle diskHandle,
                               VixDiskLibProgressFunc progressFunc,
                               void *progressCallbackData)
{
  struct fvx_progress prog = {progressFunc, progressCallbackData};
  VixError err = fvx_disk_handle_check("VixDiskLib_Defragment", diskHandle);

  if (err)
    return err;
  FVX_API_TRACE("VixDiskLib_Defragment", "%p)", (void *)diskHandle);
  return fvx_disk_report(
      "VixDiskLib_Defragment",
      disk_defragment(diskHandle->disk, fvx_disk_progress, &prog),
      FVX_LOG_ERROR);
}

/* Both handles live and distinct. */
static VixError attach_args(const char *fn, VixDiskLibHandle parent,
                            VixDiskLibHandle child)
{
  VixError err = fvx_disk_handle_check(fn, parent);

  if (!err)
    err = fvx_disk_handle_check(fn, child);
  if (!err && parent == child) {
    fvx_error("%s: parent and child are the same handle", fn);
    err = VIX_E_INVALID_ARG;
  }
  return err;
}

VixError VixDiskLib_IsAttachPossible(VixDiskLibHandle parent,
                                     VixDiskLibHandle child)
{
  VixError err = attach_args("VixDiskLib_IsAttachPossible", parent, child);

  if (err)
    return err;
  FVX_API_TRACE("VixDiskLib_IsAttachPossible", "parent=%p, child=%p)",
                (void *)parent, (void *)child);
  /* A "no" is the answer asked for, not a failure: logged at info. */
  return fvx_disk_report("VixDiskLib_IsAttachPossible",
                         disk_attach_check(parent->disk, child->disk),
                         FVX_LOG_INFO);
}

VixError VixDiskLib_Attach(VixDiskLibHandle parent, VixDiskLibHandle child)
{
  VixError err = attach_args("VixDiskLib_Attach", parent, child);
  struct VixDiskLibHandleStruct *tail;
  int st;

  if (err)
    return err; /* argument errors leave both handles as they were */
  FVX_API_TRACE("VixDiskLib_Attach", "parent=%p, child=%p)", (void *)parent,
                (void *)child);
  st = disk_attach(parent->disk, child->disk);
  /* VDDK: "the parent handle is invalid" afterwards, also on failure (the
   * programming guide: do not close it).  disk_attach moved its disk into
   * the child or closed it; the struct is parked on the child, with
   * whatever the parent had parked, and freed when the child closes. */
  parent->magic = FVX_DISK_MAGIC_ATTACHED;
  parent->disk = NULL;
  if (fvx_conn_valid(parent->conn))
    __atomic_sub_fetch(&parent->conn->open_handles, 1, __ATOMIC_RELAXED);
  parent->conn = NULL;
  parent->next = parent->parked;
  parent->parked = NULL;
  for (tail = parent; tail->next; tail = tail->next)
    ;
  tail->next = child->parked;
  child->parked = parent;
  return fvx_disk_report("VixDiskLib_Attach", st, FVX_LOG_ERROR);
}
