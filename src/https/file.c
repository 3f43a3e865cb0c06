/*
 * file.c -- the disk_vfs of a site and the read-only files it opens.
 *
 * open() splits and normalises the datastore path, checks the datastore is
 * the site's, builds the file's URL tail once, and sends a HEAD for the
 * size (which is fixed from then on).  A file is then immutable, so any
 * number of threads may read it at once (DISK_FILE_CONCURRENT); all the
 * state of a read lives in request.c's exchange.  pread clips the request
 * to the known size and zero-fills the rest; allocated() asks the site's
 * alloc callback.  Files larger than a read-ahead chunk are handed out
 * behind the site's read-ahead (disk/readahead.h), when it has one.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk/disk.h"
#include "disk/error.h"
#include "https/internal.h"
#include "util/text.h"

struct https_file {
  struct disk_file f;  /* first: the disk layer's view */
  struct https_site *s;
  char *tail;          /* "/folder/...?dcPath=..&dsName=.." (owned) */
  bool alloc;          /* the alloc callback answers for this file */
};

static int file_pread(struct disk_file *df, void *buf, size_t len,
                      uint64_t off, size_t *got)
{
  struct https_file *f = (struct https_file *)df;
  size_t n = 0;
  int rc = DISK_OK;

  if (off < df->size)
    n = df->size - off < len ? (size_t)(df->size - off) : len;
  if (n < len)
    memset((char *)buf + n, 0, len - n);
  if (n)
    rc = https_fetch_range(f->s, f->tail, buf, off, n);
  if (got)
    *got = rc == DISK_OK ? n : 0;
  return rc;
}

static int file_allocated(struct disk_file *df, uint64_t off, uint64_t len,
                          uint64_t *run, bool *allocated)
{
  struct https_file *f = (struct https_file *)df;
  int rc;

  rc = f->s->alloc(f->s->alloc_opaque, df->name, off, len, run, allocated);
  if (rc == DISK_E_NOTCAPABLE) {
    *run = len;
    *allocated = true;
    return DISK_OK;
  }
  if (rc == DISK_OK && (*run == 0 || *run > len))
    return disk_fail(DISK_E_ARG, "%s: the allocation callback answered a "
                     "run of %llu bytes for %llu asked", df->name,
                     (unsigned long long)*run, (unsigned long long)len);
  return rc;
}

static void file_close(struct disk_file *df)
{
  struct https_file *f = (struct https_file *)df;

  if (!f)
    return;
  free(f->tail);
  free(df->name);
  free(f);
}

/* Files the alloc callback answers for, and the others. */
static const struct disk_file_ops alloc_ops = {
    .name = "https",
    .pread = file_pread,
    .allocated = file_allocated,
    .close = file_close,
};
static const struct disk_file_ops plain_ops = {
    .name = "https",
    .pread = file_pread,
    .close = file_close,
};

/* The id of a datastore path: itself, or "sha256:<hex>" when too long. */
static void make_id(char id[DISK_FILE_ID_MAX], const char *name)
{
  unsigned char md[32];
  unsigned int mdlen = 0;

  if (fvx_strlcpy(id, name, DISK_FILE_ID_MAX))
    return;
  EVP_Digest(name, strlen(name), md, &mdlen, EVP_sha256(), NULL);
  memcpy(id, "sha256:", 7);
  for (unsigned i = 0; i < mdlen && 7 + 2 * i + 2 < DISK_FILE_ID_MAX; i++)
    snprintf(id + 7 + 2 * i, 3, "%02x", md[i]);
}

/* Whether the alloc callback answers for f: DISK_OK (f->alloc set or
 * not), or the callback's failure. */
static int probe_alloc(struct https_file *f)
{
  struct https_site *s = f->s;
  uint64_t run;
  bool a;
  int rc;

  if (!s->alloc || f->f.size == 0)
    return DISK_OK;
  rc = s->alloc(s->alloc_opaque, f->f.name, 0, 1, &run, &a);
  if (rc == DISK_E_NOTCAPABLE)
    return DISK_OK;
  if (rc == DISK_OK)
    f->alloc = true;
  return rc;
}

static int vfs_open(const struct disk_vfs *vfs, const char *path,
                    unsigned flags, struct disk_file **out)
{
  struct https_site *s = vfs->opaque;
  char ds[HTTPS_DS_MAX], rel[HTTPS_PATH_MAX];
  struct https_file *f = NULL;
  size_t nl;
  int rc;

  *out = NULL;
  if (flags & DISK_VFS_WRITE)
    return disk_fail(DISK_E_NOTCAPABLE, "%s: datastore files over HTTPS "
                     "are read-only", path ? path : "(null)");
  rc = https_path_split(path, ds, rel);
  if (rc != DISK_OK)
    return rc;
  if (!https_site_ds(s, ds))
    return disk_fail(DISK_E_NAME, "%s: datastore '%s' is not one of this "
                     "site's", path, ds);
  f = calloc(1, sizeof *f);
  nl = strlen(ds) + strlen(rel) + 4;
  if (f)
    f->f.name = malloc(nl);
  if (f && f->f.name)
    f->tail = https_url_tail(rel, s->dc_path, ds);
  if (!f)
    return disk_fail(DISK_E_NOMEM, "out of memory");
  if (!f->tail) {
    file_close(&f->f);
    return disk_fail(DISK_E_NOMEM, "out of memory");
  }
  snprintf(f->f.name, nl, "[%s] %s", ds, rel);
  make_id(f->f.id, f->f.name);
  f->f.ops = &plain_ops;
  f->f.caps = DISK_FILE_CONCURRENT;
  f->s = s;
  rc = https_fetch_size(s, f->tail, &f->f.size);
  if (rc == DISK_OK)
    rc = probe_alloc(f);
  if (rc != DISK_OK) {
    file_close(&f->f);
    return rc;
  }
  if (f->alloc) {
    f->f.ops = &alloc_ops;
    f->f.caps |= DISK_FILE_CAN_ALLOC;
  }
  /* Descriptors are small and read once: only larger files get read-ahead
   * (with depth 0, the wrapper hands the file back). */
  if (f->f.size > s->read_ahead.chunk) {
    rc = disk_readahead_wrap(&f->f, &s->read_ahead, out);
    if (rc != DISK_OK)
      file_close(&f->f);
    return rc;
  }
  *out = &f->f;
  return DISK_OK;
}

void https_vfs_init(struct https_site *s)
{
  s->vfs.name = "datastore";
  s->vfs.open = vfs_open;
  s->vfs.resolve = https_resolve;
  s->vfs.opaque = s;
}
