/*
 * backup_api.c -- freevix_vm_describe, freevix_vm_disks,
 * freevix_change_tracking, freevix_changed_areas: what the backup workflow
 * asks about a VM (the external interface of src/access/vmquery.c).
 *
 * Thin: check, trace, delegate, map.  Two things happen here because they
 * concern the public shapes only: the access layer's structs are copied
 * into the fixed-size public ones (a string that does not fit fails the
 * call, VIX_E_BUFFER_TOOSMALL, rather than being cut), and the CBT faults
 * that mean "take a full copy" become one documented code,
 * VIX_E_NOT_SUPPORTED.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/vmquery.h"
#include "api/api.h"
#include "api/remote_params.h"
#include "api/vim_errors.h"
#include "freevix.h"

/* Copies src into the array dst; false when it does not fit. */
static bool fits(char *dst, size_t n, const char *src)
{
  int w = snprintf(dst, n, "%s", src ? src : "");

  return w >= 0 && (size_t)w < n;
}

VixError freevix_vm_describe(const VixDiskLibConnectParams *connectParams,
                             freevix_vm_info *info)
{
  static const char fn[] = "freevix_vm_describe";
  struct access_conninfo ci;
  struct access_result res;
  struct access_vm_desc d;
  VixError err;

  if (info)
    memset(info, 0, sizeof *info);
  err = fvx_remote_begin(fn, connectParams, &ci);
  if (err)
    return err;
  if (!info) {
    fvx_error("%s: info is NULL", fn);
    return VIX_E_INVALID_ARG;
  }
  FVX_API_TRACE("freevix_vm_describe", "vmxSpec=%s)", connectParams->vmxSpec);
  if (access_vm_describe(&ci, &d, &res) != ACCESS_OK)
    return fvx_map_access_result(fn, &res);
  /* vim_vm_place's fields are no larger than ours. */
  snprintf(info->moref, sizeof info->moref, "%s", d.moref);
  snprintf(info->name, sizeof info->name, "%s", d.place.name);
  snprintf(info->powerState, sizeof info->powerState, "%s",
           d.place.power_state);
  info->changeTracking = d.place.change_tracking;
  snprintf(info->vmxPath, sizeof info->vmxPath, "%s", d.place.vmx_path);
  snprintf(info->host, sizeof info->host, "%s", d.place.host_name);
  return VIX_OK;
}

/* Fills the public struct from a vim disk; false when a string does not
 * fit (what names it). */
static bool copy_disk(freevix_disk *o, const struct vim_disk *d,
                      const char **what)
{
  const struct vim_disk_link *head = &d->chain[0];
  const struct vim_disk_link *base = &d->chain[d->n_chain - 1];

  o->key = d->key;
  o->capacity = d->capacity;
  o->chainLength = (uint32)d->n_chain;
  o->thin = head->thin;
  *what = "a label";
  if (!fits(o->label, sizeof o->label, d->label))
    return false;
  *what = "a disk path";
  if (!fits(o->path, sizeof o->path, head->file_name) ||
      !fits(o->basePath, sizeof o->basePath, base->file_name))
    return false;
  *what = "a changeId";
  if (!fits(o->changeId, sizeof o->changeId, head->change_id))
    return false;
  *what = "a disk mode, backing type, delta format or uuid";
  return fits(o->diskMode, sizeof o->diskMode, d->disk_mode) &&
         fits(o->backing, sizeof o->backing, head->backing_type) &&
         fits(o->deltaFormat, sizeof o->deltaFormat, head->delta_format) &&
         fits(o->uuid, sizeof o->uuid, d->uuid);
}

VixError freevix_vm_disks(const VixDiskLibConnectParams *connectParams,
                          const char *snapshotRef, freevix_disk **disks,
                          uint32 *numDisks)
{
  static const char fn[] = "freevix_vm_disks";
  struct access_conninfo ci;
  struct access_result res;
  struct vim_disk *vd;
  freevix_disk *out = NULL;
  size_t n;
  VixError err;

  if (disks)
    *disks = NULL;
  if (numDisks)
    *numDisks = 0;
  err = fvx_remote_begin(fn, connectParams, &ci);
  if (err)
    return err;
  if (!disks || !numDisks || (snapshotRef && !*snapshotRef)) {
    fvx_error("%s: disks and numDisks must not be NULL, snapshotRef NULL "
              "or a snapshot id", fn);
    return VIX_E_INVALID_ARG;
  }
  FVX_API_TRACE("freevix_vm_disks", "vmxSpec=%s, snapshot=%s)",
                connectParams->vmxSpec, snapshotRef ? snapshotRef : "(none)");
  if (access_vm_disks(&ci, snapshotRef, &vd, &n, &res) != ACCESS_OK)
    return fvx_map_access_result(fn, &res);
  if (n) {
    out = calloc(n, sizeof *out);
    if (!out) {
      vim_disks_free(vd, n);
      return VIX_E_OUT_OF_MEMORY;
    }
  }
  for (size_t i = 0; i < n; i++) {
    const char *what;

    if (!copy_disk(&out[i], &vd[i], &what)) {
      vim_disks_free(vd, n);
      free(out);
      fvx_error("%s: %s from the server does not fit freevix_disk", fn,
                what);
      return VIX_E_BUFFER_TOOSMALL;
    }
  }
  vim_disks_free(vd, n);
  *disks = out;
  *numDisks = (uint32)n;
  return VIX_OK;
}

VixError freevix_change_tracking(const VixDiskLibConnectParams *connectParams,
                                 Bool enable, uint32 timeoutSec,
                                 Bool *wasEnabled)
{
  static const char fn[] = "freevix_change_tracking";
  struct access_conninfo ci;
  struct access_result res;
  bool was = false;
  VixError err = fvx_remote_begin(fn, connectParams, &ci);

  if (err)
    return err;
  FVX_API_TRACE("freevix_change_tracking", "vmxSpec=%s, enable=%d)",
                connectParams->vmxSpec, (int)enable);
  if (access_set_change_tracking(&ci, enable != 0, (long)timeoutSec * 1000,
                                 &was, &res) != ACCESS_OK)
    return fvx_map_access_result(fn, &res);
  if (wasEnabled)
    *wasEnabled = was;
  return VIX_OK;
}

/* True when a failed QueryChangedDiskAreas means "CBT cannot answer for
 * this changeId": a plain FileFault (hostd's cbt.noTrack and
 * cbt.cannotGetChanges; its subtypes such as FileLocked mean something
 * else), an InvalidArgument naming the changeId, or a server without the
 * call. */
static bool cbt_cannot_answer(const struct access_result *res)
{
  const struct vim_fault *f = &res->vim.fault;

  if (res->status != ACCESS_E_VIM || res->vim.status != VIM_E_FAULT)
    return false;
  switch (f->kind) {
  case VIM_FAULT_FILE:
    return strcmp(f->type, "FileFault") == 0;
  case VIM_FAULT_INVALID_ARGUMENT:
    return strcmp(f->object, "changeId") == 0;
  case VIM_FAULT_NOT_SUPPORTED:
  case VIM_FAULT_METHOD_NOT_FOUND:
  case VIM_FAULT_NOT_IMPLEMENTED:
    return true;
  default:
    return false;
  }
}

VixError freevix_changed_areas(const VixDiskLibConnectParams *connectParams,
                               const char *snapshotRef, int32 deviceKey,
                               uint64 offset, uint64 length,
                               const char *changeId, freevix_area **areas,
                               uint32 *numAreas)
{
  static const char fn[] = "freevix_changed_areas";
  struct access_conninfo ci;
  struct access_result res;
  struct vim_disk_area *va;
  freevix_area *out = NULL;
  size_t n;
  VixError err;

  if (areas)
    *areas = NULL;
  if (numAreas)
    *numAreas = 0;
  err = fvx_remote_begin(fn, connectParams, &ci);
  if (err)
    return err;
  if (!areas || !numAreas || !changeId || !*changeId ||
      strlen(changeId) > 1024 || (snapshotRef && !*snapshotRef) ||
      length > UINT64_MAX - offset || offset + length > (uint64)INT64_MAX) {
    fvx_error("%s: give a changeId (\"*\" for the areas in use), a range "
              "inside the disk and non-NULL areas and numAreas", fn);
    return VIX_E_INVALID_ARG;
  }
  FVX_API_TRACE("freevix_changed_areas", "vmxSpec=%s, snapshot=%s, key=%d, "
                "offset=%llu, length=%llu, changeId=%s)",
                connectParams->vmxSpec, snapshotRef ? snapshotRef : "(none)",
                (int)deviceKey, (unsigned long long)offset,
                (unsigned long long)length, changeId);
  if (length == 0)
    return VIX_OK;
  if (access_changed_areas(&ci, snapshotRef, deviceKey, offset, length,
                           changeId, FREEVIX_MAX_AREAS, &va, &n, &res) !=
      ACCESS_OK) {
    if (cbt_cannot_answer(&res)) {
      fvx_info("%s: CBT cannot answer for disk %d and changeId \"%s\" "
               "(%s: %s): take a full copy", fn, (int)deviceKey, changeId,
               res.vim.fault.type, res.vim.fault.message[0]
                                       ? res.vim.fault.message
                                       : res.vim.detail);
      return VIX_E_NOT_SUPPORTED;
    }
    if (res.status == ACCESS_E_VIM && res.vim.status == VIM_E_TOO_BIG) {
      fvx_error("%s: %s", fn, res.vim.detail);
      return VIX_E_ARGUMENT_TOO_BIG;
    }
    return fvx_map_access_result(fn, &res);
  }
  if (n) {
    out = malloc(n * sizeof *out);
    if (!out) {
      free(va);
      return VIX_E_OUT_OF_MEMORY;
    }
  }
  for (size_t i = 0; i < n; i++) {
    out[i].offset = va[i].start;
    out[i].length = va[i].length;
  }
  free(va);
  *areas = out;
  *numAreas = (uint32)n;
  return VIX_OK;
}
