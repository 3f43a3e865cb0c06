/*
 * delta_images.h -- hand-built ESXi snapshot chains for the tests: a flat
 * base disk and a vmfsSparse (COWD) or SEsparse delta over it, each field
 * written from the published layout (libvmdk's format documentation for
 * COWD, qemu's block/vmdk.c for SEsparse), independently of src/disk.
 *
 * The content is a pure function of (grain, seed): dimg_kind() says what
 * each grain of the delta is, dimg_expected() computes what the chain
 * reads, so a test compares every byte read through freevix (or qemu-img)
 * with the model.  Grains are laid out in blocks of eight, every third
 * block in reverse, so some allocated grains lie back to back in the file
 * and some do not.
 *
 * Layout facts the tests poke at are returned in struct dimg_info.
 */
#ifndef FVX_TEST_DELTA_IMAGES_H
#define FVX_TEST_DELTA_IMAGES_H

#include <stdbool.h>
#include <stdint.h>

enum dimg_kind { DIMG_HOLE, DIMG_DATA, DIMG_ZERO, DIMG_UNMAPPED };

#define DIMG_BASE_CID 0x0000b0b0u
#define DIMG_DELTA_CID 0x0000c0c1u

struct dimg_info {
  uint64_t file_sectors; /* size of the delta file */
  uint64_t gd;           /* sector of the grain directory */
  uint64_t gt0;          /* sector of grain table 0 */
  uint32_t data_entry;   /* an entry of table 0 holding a grain */
  uint64_t grains;       /* SEsparse: sector of the grains area */
  uint64_t meta_end;     /* sectors before the first grain: all metadata */
};

/* What grain g of delta 'seed' holds (COWD deltas have no ZERO/UNMAPPED). */
enum dimg_kind dimg_kind(uint64_t g, unsigned seed, bool se);

/* Writes dir/base.vmdk (monolithicFlat, CID DIMG_BASE_CID) and
 * dir/base-flat.vmdk of cap sectors.  0 or -1 (message on stderr). */
int dimg_make_base(const char *dir, uint64_t cap);

/* Writes dir/<name>.vmdk (createType vmfsSparse, parent base.vmdk) and its
 * COWD extent dir/<name>-delta.vmdk with grains of 'grain' sectors. */
int dimg_make_cowd(const char *dir, const char *name, uint64_t cap,
                   uint32_t grain, unsigned seed, struct dimg_info *info);

/* Writes dir/<name>.vmdk (createType seSparse, parent base.vmdk) and its
 * SEsparse extent dir/<name>-sesparse.vmdk. */
int dimg_make_sesparse(const char *dir, const char *name, uint64_t cap,
                       unsigned seed, struct dimg_info *info);

/* The cap * 512 bytes the chain reads (out is the caller's). */
void dimg_expected(uint8_t *out, uint64_t cap, uint32_t grain,
                   unsigned seed, bool se);

#endif
