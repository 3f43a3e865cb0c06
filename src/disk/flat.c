/*
 * flat.c -- FLAT and VMFS extents (raw data at an offset of a file) and
 * ZERO extents (no file; read as zeros).
 *
 * A flat extent maps every sector to DATA at flat_offset + sector * 512, so
 * the chain layer reads it with one pread per request; bytes past the end of
 * a short (sparse) file read as zeros.  Allocation is the file's business:
 * when its source can tell (DISK_FILE_CAN_ALLOC), chain.c asks it for the
 * block status of the DATA run.
 */
#include <inttypes.h>

#include "disk/disk.h"
#include "disk/error.h"
#include "disk/extent.h"
#include "disk/file.h"

static int flat_map(struct extent *e, uint64_t sector, uint64_t n,
                    struct extent_map *out)
{
  out->kind = MAP_DATA;
  out->len = n;
  out->offset = e->flat_offset + sector * DISK_SECTOR;
  return DISK_OK;
}

static int flat_write(struct extent *e, uint64_t sector, uint64_t n,
                      const uint8_t *buf, const struct below *below)
{
  uint64_t off = e->flat_offset + sector * DISK_SECTOR;

  (void)below;
  return disk_file_pwrite(e->file, buf, (size_t)(n * DISK_SECTOR), off);
}

static void flat_close(struct extent *e)
{
  (void)e;
}

static const struct extent_ops flat_ops = {
    .name = "flat",
    .map = flat_map,
    .write = flat_write,
    .flush = extent_sync,
    .close = flat_close,
};

int flat_open(struct extent *e, uint64_t offset_sectors)
{
  /* e->sectors <= DISK_MAX_SECTORS (descriptor.c checks the sum). */
  if (offset_sectors > DISK_MAX_SECTORS - e->sectors)
    return disk_fail(DISK_E_DESCRIPTOR,
                     "%s: flat extent offset %" PRIu64 " is out of range",
                     extent_name(e), offset_sectors);
  e->flat_offset = offset_sectors * DISK_SECTOR;
  e->ops = &flat_ops;
  return DISK_OK;
}

static int zero_map(struct extent *e, uint64_t sector, uint64_t n,
                    struct extent_map *out)
{
  (void)e;
  (void)sector;
  out->kind = MAP_ZERO;
  out->len = n;
  out->offset = 0;
  return DISK_OK;
}

static const struct extent_ops zero_ops = {
    .name = "zero",
    .map = zero_map,
    .flush = extent_no_flush,
    .close = flat_close,
};

int zero_open(struct extent *e)
{
  e->ops = &zero_ops;
  return DISK_OK;
}
