/*
 * disks.c -- what a VM or snapshot is made of: its VirtualDisk devices and
 * their backing chains.
 *
 * One property read (config.hardware.device) of the VM or of a
 * VirtualMachineSnapshot, whose config keeps the chain as it was when the
 * snapshot was taken.  The answer is an ArrayOfVirtualDevice; each
 * <VirtualDevice xsi:type="VirtualDisk"> carries key, deviceInfo.label,
 * capacityInBytes (vSphere 5.5+) or capacityInKB, and a backing whose
 * `parent` element is the next file down the chain, to the base.  Every
 * disk backing govmomi knows is read the same way: fileName (or, for the
 * RawDiskVer2 backings of hosted products, descriptorFileName), datastore,
 * diskMode, thinProvisioned, uuid, changeId, deltaDiskFormat -- a field a
 * type lacks is simply absent.  A parent element carries no xsi:type when
 * its type is its child's (the schema types `parent` as the same backing);
 * when it carries one (a SeSparse delta over a FlatVer2 base), that wins.
 *
 * Bounded: at most VIM_MAX_DEVICES devices and VIM_MAX_CHAIN files per
 * chain, counted before anything is allocated.
 */
#include <stdlib.h>
#include <string.h>

#include "vim/internal.h"

static void link_free(struct vim_disk_link *l)
{
  free(l->file_name);
  free(l->backing_type);
  free(l->delta_format);
  free(l->change_id);
}

void vim_disks_free(struct vim_disk *disks, size_t n)
{
  if (!disks)
    return;
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < disks[i].n_chain; j++)
      link_free(&disks[i].chain[j]);
    free(disks[i].chain);
    free(disks[i].label);
    free(disks[i].disk_mode);
    free(disks[i].uuid);
  }
  free(disks);
}

static bool is_disk(const xmlNode *dev)
{
  char type[64];

  vim_xml_xsi_type(dev, type, sizeof type);
  return strcmp(type, "VirtualDisk") == 0;
}

/* Reads one backing element into l; type is its (possibly inherited)
 * xsi:type.  False on allocation failure. */
static bool read_link(const xmlNode *b, const char *type,
                      struct vim_disk_link *l)
{
  const xmlNode *file = vim_xml_child(b, "fileName");

  if (!file)
    file = vim_xml_child(b, "descriptorFileName");
  l->file_name = vim_xml_text_dup(file);
  l->backing_type = strdup(type);
  l->delta_format = vim_xml_text_dup(vim_xml_child(b, "deltaDiskFormat"));
  l->change_id = vim_xml_text_dup(vim_xml_child(b, "changeId"));
  l->thin = vim_xml_bool(vim_xml_child(b, "thinProvisioned"));
  vim_xml_moref(vim_xml_child(b, "datastore"), &l->datastore);
  return l->file_name && l->backing_type && l->delta_format && l->change_id;
}

static int read_chain(const xmlNode *backing, struct vim_disk *d,
                      struct vim_error *err)
{
  char type[96];
  const xmlNode *b;
  size_t n = 0;

  for (b = backing; b; b = vim_xml_child(b, "parent"))
    if (++n > VIM_MAX_CHAIN)
      return vim_fail(err, VIM_E_TOO_BIG,
                      "disk %d: backing chain longer than %u files", d->key,
                      VIM_MAX_CHAIN);
  vim_xml_xsi_type(backing, type, sizeof type);
  if (!type[0])
    return vim_fail(err, VIM_E_PROTOCOL, "disk %d: backing without xsi:type",
                    d->key);
  d->chain = calloc(n, sizeof *d->chain);
  if (!d->chain)
    return vim_fail(err, VIM_E_NOMEM, "out of memory");
  for (b = backing; b; b = vim_xml_child(b, "parent")) {
    char own[sizeof type];

    vim_xml_xsi_type(b, own, sizeof own);
    if (own[0])
      memcpy(type, own, sizeof type);
    if (!read_link(b, type, &d->chain[d->n_chain++]))
      return vim_fail(err, VIM_E_NOMEM, "out of memory");
  }
  return VIM_OK;
}

/* Capacity in bytes: capacityInBytes when set, else capacityInKB. */
static int read_capacity(const xmlNode *dev, struct vim_disk *d,
                         struct vim_error *err)
{
  uint64_t v;

  if (vim_xml_u63(vim_xml_child(dev, "capacityInBytes"), &v) && v > 0) {
    d->capacity = v;
    return VIM_OK;
  }
  if (!vim_xml_u63(vim_xml_child(dev, "capacityInKB"), &v))
    return vim_fail(err, VIM_E_PROTOCOL, "disk %d: no valid capacity",
                    d->key);
  if (v > UINT64_MAX / 1024)
    return vim_fail(err, VIM_E_PROTOCOL, "disk %d: capacity overflows",
                    d->key);
  d->capacity = v * 1024;
  return VIM_OK;
}

static int read_disk(const xmlNode *dev, struct vim_disk *d,
                     struct vim_error *err)
{
  const xmlNode *backing = vim_xml_child(dev, "backing");
  int rc;

  if (!vim_xml_i32(vim_xml_child(dev, "key"), &d->key))
    return vim_fail(err, VIM_E_PROTOCOL, "VirtualDisk without a valid key");
  if (!backing)
    return vim_fail(err, VIM_E_PROTOCOL, "disk %d has no backing", d->key);
  rc = read_capacity(dev, d, err);
  if (rc != VIM_OK)
    return rc;
  d->label = vim_xml_text_dup(
      vim_xml_child(vim_xml_child(dev, "deviceInfo"), "label"));
  d->disk_mode = vim_xml_text_dup(vim_xml_child(backing, "diskMode"));
  d->uuid = vim_xml_text_dup(vim_xml_child(backing, "uuid"));
  if (!d->label || !d->disk_mode || !d->uuid)
    return vim_fail(err, VIM_E_NOMEM, "out of memory");
  return read_chain(backing, d, err);
}

int vim_disks_decode(const xmlNode *val, struct vim_disk **out, size_t *n,
                     struct vim_error *err)
{
  struct vim_disk *d;
  const xmlNode *dev;
  size_t n_dev = 0, n_disk = 0, i = 0;
  int rc = VIM_OK;

  *out = NULL;
  *n = 0;
  for (dev = vim_xml_child(val, NULL); dev; dev = vim_xml_next(dev, NULL)) {
    if (++n_dev > VIM_MAX_DEVICES)
      return vim_fail(err, VIM_E_TOO_BIG, "more than %u devices",
                      VIM_MAX_DEVICES);
    n_disk += is_disk(dev);
  }
  if (n_disk == 0)
    return VIM_OK;
  d = calloc(n_disk, sizeof *d);
  if (!d)
    return vim_fail(err, VIM_E_NOMEM, "out of memory");
  for (dev = vim_xml_child(val, NULL); dev && rc == VIM_OK;
       dev = vim_xml_next(dev, NULL)) {
    if (!is_disk(dev))
      continue;
    rc = read_disk(dev, &d[i++], err);
  }
  if (rc != VIM_OK) {
    vim_disks_free(d, i);
    return rc;
  }
  *out = d;
  *n = n_disk;
  return VIM_OK;
}

int vim_disks_get(struct vim_session *s, const struct vim_moref *obj,
                  struct vim_disk **out, size_t *n, struct vim_error *err)
{
  struct vim_reply r;
  xmlNode *val;
  int rc;

  if (!out || !n)
    return vim_fail(err, VIM_E_INVALID_ARG, "out or n is NULL");
  *out = NULL;
  *n = 0;
  if (!obj || (strcmp(obj->type, "VirtualMachine") != 0 &&
               strcmp(obj->type, "VirtualMachineSnapshot") != 0))
    return vim_fail(err, VIM_E_INVALID_ARG,
                    "disks: want a VirtualMachine or VirtualMachineSnapshot");
  rc = vim_read_prop(s, obj, "config.hardware.device", &r, &val, err);
  if (rc != VIM_OK)
    return rc;
  rc = vim_disks_decode(val, out, n, err);
  vim_reply_free(&r);
  return rc;
}
