/*
 * names.c -- file names, createTypes and CIDs (names.h).
 *
 * Extent names follow VMware's scheme (the stem of the descriptor's name
 * plus "-flat", "-s001", "-f001"...), so Rename can recognise the extents
 * named after their disk and rename them along.  CIDs come from
 * getrandom(); should it fail, the pid and time still make a CID that
 * differs from the last one with high probability.
 */
#include "disk/names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "disk/error.h"

const char *disk_base_name(const char *path)
{
  const char *slash = strrchr(path, '/');

  return slash ? slash + 1 : path;
}

const char *disk_parent_hint(const char *child, const char *parent)
{
  const char *cb = disk_base_name(child), *pb = disk_base_name(parent);

  if (cb - child == pb - parent &&
      strncmp(child, parent, (size_t)(cb - child)) == 0)
    return pb;
  return parent;
}

/* Length of the stem of base: without a trailing ".vmdk". */
static size_t stem_len(const char *base)
{
  size_t len = strlen(base);

  if (len > 5 && strcasecmp(base + len - 5, ".vmdk") == 0)
    len -= 5;
  return len;
}

char *disk_extent_name(const char *path, char tag, unsigned i)
{
  const char *base = disk_base_name(path);
  size_t len = stem_len(base);
  char *out = malloc(len + 16);

  if (!out) {
    disk_fail(DISK_E_NOMEM, "%s: out of memory", path);
    return NULL;
  }
  if (i == 0)
    snprintf(out, len + 16, "%.*s-flat.vmdk", (int)len, base);
  else
    snprintf(out, len + 16, "%.*s-%c%03u.vmdk", (int)len, base, tag, i);
  return out;
}

char *disk_renamed_extent(const char *src, const char *dst, const char *file)
{
  const char *sb = disk_base_name(src), *db = disk_base_name(dst);
  size_t sl = stem_len(sb), dl = stem_len(db);
  char *out;

  if (strncmp(file, sb, sl) != 0) {
    out = strdup(file);
  } else {
    out = malloc(dl + strlen(file + sl) + 1);
    if (out) {
      memcpy(out, db, dl);
      strcpy(out + dl, file + sl);
    }
  }
  if (!out)
    disk_fail(DISK_E_NOMEM, "%s: out of memory", src);
  return out;
}

int disk_ddb_key(const char *key, char *out, size_t len)
{
  int n = strncmp(key, "ddb.", 4) == 0 ? snprintf(out, len, "%s", key)
                                       : snprintf(out, len, "ddb.%s", key);

  return n > 4 && (size_t)n < len ? DISK_OK : DISK_E_ARG;
}

uint32_t disk_new_cid(void)
{
  uint32_t cid = 0;

  do {
    if (getrandom(&cid, sizeof cid, 0) != (ssize_t)sizeof cid)
      cid ^= (uint32_t)getpid() * 2654435761u ^ (uint32_t)time(NULL);
  } while (cid >= 0xfffffffeu);
  return cid;
}

/* Every createType VMware's format documents (libvmdk's list), and the
 * kind GetInfo reports for it.  The first name of a kind is the one freevix
 * writes.  SEsparse has no VixDiskLibDiskType of its own: it reports
 * VMFS_SPARSE, the other ESXi snapshot delta (an assumption: VDDK's own
 * answer is not documented).  The device and custom types have no kind;
 * their extents decide whether they open (raw devices are refused there). */
static const struct {
  const char *name;
  enum disk_kind kind;
} kinds[] = {
    {"monolithicSparse", DISK_KIND_MONO_SPARSE},
    {"monolithicFlat", DISK_KIND_MONO_FLAT},
    {"twoGbMaxExtentSparse", DISK_KIND_SPLIT_SPARSE},
    {"twoGbMaxExtentFlat", DISK_KIND_SPLIT_FLAT},
    {"vmfs", DISK_KIND_VMFS_FLAT},
    {"streamOptimized", DISK_KIND_STREAM},
    {"vmfsThin", DISK_KIND_VMFS_THIN},
    {"vmfsSparse", DISK_KIND_VMFS_SPARSE},
    {"seSparse", DISK_KIND_VMFS_SPARSE},
    {"2GbMaxExtentSparse", DISK_KIND_SPLIT_SPARSE},
    {"2GbMaxExtentFlat", DISK_KIND_SPLIT_FLAT},
    {"vmfsPreallocated", DISK_KIND_VMFS_FLAT},
    {"vmfsEagerZeroedThick", DISK_KIND_VMFS_FLAT},
    {"custom", DISK_KIND_UNKNOWN},
    {"fullDevice", DISK_KIND_UNKNOWN},
    {"partitionedDevice", DISK_KIND_UNKNOWN},
    {"vmfsRaw", DISK_KIND_UNKNOWN},
    {"vmfsRDM", DISK_KIND_UNKNOWN},
    {"vmfsRawDeviceMap", DISK_KIND_UNKNOWN},
    {"vmfsRDMP", DISK_KIND_UNKNOWN},
    {"vmfsPassthroughRawDeviceMap", DISK_KIND_UNKNOWN},
};

int disk_kind_lookup(const char *create_type, enum disk_kind *out,
                     const char *what)
{
  size_t i;

  *out = DISK_KIND_UNKNOWN;
  for (i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (strcasecmp(kinds[i].name, create_type) == 0) {
      *out = kinds[i].kind;
      return DISK_OK;
    }
  return disk_fail(DISK_E_UNSUPPORTED, "%s: createType \"%s\" is not a "
                   "VMDK disk type freevix knows", what, create_type);
}

const char *disk_create_type(enum disk_kind kind)
{
  size_t i;

  for (i = 0; kind != DISK_KIND_UNKNOWN && i < sizeof kinds / sizeof kinds[0];
       i++)
    if (kinds[i].kind == kind)
      return kinds[i].name;
  return NULL;
}
