/*
 * stream.c -- streamOptimized extents: compressed grains framed by markers.
 *
 * Reading: every allocated grain-table entry points at a grain marker
 * (64-bit LBA, 32-bit compressed size) followed by zlib data.  map() reports
 * such runs as CODED; read() inflates one grain at a time into the scratch
 * grain (the last grain decoded stays cached, so sequential sub-grain reads
 * inflate each grain once).  The marker's LBA must be the grain's own and
 * its size must fit the bounded compressed buffer, else the extent needs
 * repair.  When the header's directory offset is "at end", the footer (a
 * copy of the header three sectors before the end, between a footer marker
 * and the end-of-stream marker) gives it.
 *
 * Writing is sequential only (VMware: no random writes): the writer appends
 * marker-framed grains in increasing order, emits each grain table (with its
 * marker) once its grains are written, then the directory, the footer and
 * the end-of-stream marker.  Tables with no grain stay unallocated (0), and
 * so do grains that are all zeros.  Only one table and one grain are held in
 * memory, whatever the disk's size.
 *
 * Create and Clone drive the writer directly.  VixDiskLib_Write reaches it
 * through the append mode: a stream opened writable that holds no grain
 * table yet (what Create leaves) and keeps its directory at the end gets
 * the append ops.  Its first write cuts the file at the old directory's
 * marker -- from then on the file has no footer and is refused on open
 * ("not finalised") until the close writes tables, directory, footer and
 * end-of-stream marker (extent_ops.finish).  Writes must not go back: a
 * write starting before the end of the previous one is DISK_E_NOTSEQUENTIAL
 * and changes nothing.  The grain being filled is kept in memory, filled
 * first from what lies below (zeros for a base disk), so writes need not be
 * grain-aligned; gaps and a partial last grain read as what lay below.
 * While the file is cut it cannot be read (DISK_E_UNSUPPORTED).  Streams
 * that hold data are never written in place.
 */
#include "disk/stream.h"

#include <endian.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "disk/descriptor.h"
#include "disk/disk.h"
#include "disk/error.h"
#include "disk/file.h"
#include "disk/file_posix.h"

#define MARKER_EOS 0u
#define MARKER_GT 1u
#define MARKER_GD 2u
#define MARKER_FOOTER 3u
#define GRAIN_HDR 12u /* lba (8) + size (4) */
#define STREAM_DESC_SECTORS 20u
#define STREAM_OVERHEAD 128u

static uint64_t zcap_for(uint64_t grain_bytes)
{
  return compressBound((uLong)grain_bytes) + GRAIN_HDR + DISK_SECTOR;
}

static int stream_map(struct extent *e, uint64_t sector, uint64_t n,
                      struct extent_map *out)
{
  return sparse_map_run(e, sector, n, MAP_CODED, out);
}

/* Inflates grain g (entry v > 1) into sp->grain_buf. */
static int decode_grain(struct extent *e, uint64_t g, uint32_t v)
{
  struct sparse *sp = e->sp;
  uint64_t off = (uint64_t)v * DISK_SECTOR;
  const uint8_t *data = sp->zbuf;
  size_t got, zlen;
  uLongf dlen = (uLongf)sp->grain_bytes;
  int st, zr;

  if (sp->cached_valid && sp->cached_grain == g)
    return DISK_OK;
  sp->cached_valid = false;
  st = disk_file_pread(e->file, sp->zbuf, sp->zcap, off, &got);
  if (st)
    return st;
  zlen = got;
  if (sp->h.flags & SPARSE_FLAG_MARKERS) {
    uint64_t lba;
    uint32_t size;

    memcpy(&lba, sp->zbuf, 8);
    memcpy(&size, sp->zbuf + 8, 4);
    lba = le64toh(lba);
    size = le32toh(size);
    if (got < GRAIN_HDR || lba != g * sp->h.grain || size > got - GRAIN_HDR)
      return disk_fail(DISK_E_NEEDSREPAIR,
                       "%s: grain marker at sector %" PRIu32
                       " is damaged (lba %" PRIu64 ", size %" PRIu32 ")",
                       extent_name(e), v, lba, size);
    data += GRAIN_HDR;
    zlen = size;
  }
  zr = uncompress(sp->grain_buf, &dlen, data, (uLong)zlen);
  if (zr != Z_OK)
    return disk_fail(DISK_E_NEEDSREPAIR,
                     "%s: compressed grain %" PRIu64
                     " does not inflate (zlib %d)",
                     extent_name(e), g, zr);
  if (dlen < sp->grain_bytes)
    memset(sp->grain_buf + dlen, 0, (size_t)(sp->grain_bytes - dlen));
  sp->cached_grain = g;
  sp->cached_valid = true;
  return DISK_OK;
}

static int stream_read(struct extent *e, uint64_t sector, uint64_t n,
                       uint8_t *buf)
{
  struct sparse *sp = e->sp;
  uint64_t grain = sp->h.grain;
  int st;

  while (n) {
    uint64_t g = sector / grain, in = sector % grain;
    uint64_t m = grain - in < n ? grain - in : n;
    uint32_t v;

    st = sparse_entry(e, g, &v);
    if (st)
      return st;
    if (v <= 1) {
      memset(buf, 0, (size_t)(m * DISK_SECTOR));
    } else {
      st = decode_grain(e, g, v);
      if (st)
        return st;
      memcpy(buf, sp->grain_buf + in * DISK_SECTOR,
             (size_t)(m * DISK_SECTOR));
    }
    sector += m;
    n -= m;
    buf += m * DISK_SECTOR;
  }
  return DISK_OK;
}

static int stream_append_attach(struct extent *e);

static const struct extent_ops stream_ops = {
    .name = "streamOptimized",
    .map = stream_map,
    .read = stream_read,
    .flush = extent_no_flush,
    .close = sparse_extent_close,
};

/* Reads the footer's header copy (when the directory is at the end). */
static int read_footer(struct extent *e, struct sparse_header *h)
{
  uint8_t raw[3 * DISK_SECTOR];
  uint32_t type;
  int st;

  if (e->file->size < 4 * DISK_SECTOR)
    return disk_fail(DISK_E_CORRUPT, "%s: streamOptimized file has no "
                     "footer: it was not finalised", extent_name(e));
  st = disk_file_pread(
      e->file, raw, sizeof raw,
      (e->file->size & ~(uint64_t)(DISK_SECTOR - 1)) - 3 * DISK_SECTOR, NULL);
  if (st)
    return st;
  memcpy(&type, raw + 12, 4);
  if (le32toh(type) != MARKER_FOOTER ||
      !disk_all_zero(raw + 2 * DISK_SECTOR, DISK_SECTOR))
    return disk_fail(DISK_E_CORRUPT, "%s: streamOptimized file does not "
                     "end with a footer and an end-of-stream marker: it was "
                     "not finalised (its writer stopped before closing it) "
                     "or it is truncated", extent_name(e));
  st = sparse_header_decode(h, raw + DISK_SECTOR, extent_name(e));
  if (st)
    return st;
  if (h->gd_offset == SPARSE_GD_AT_END)
    return disk_fail(DISK_E_CORRUPT,
                     "%s: stream footer has no grain directory",
                     extent_name(e));
  return DISK_OK;
}

int stream_open(struct extent *e, const struct sparse_header *hdr)
{
  struct sparse_header h = *hdr;
  int st;

  if (h.gd_offset == SPARSE_GD_AT_END) {
    st = read_footer(e, &h);
    if (st)
      return st;
    if (h.capacity != hdr->capacity || h.grain != hdr->grain ||
        h.gtes != hdr->gtes)
      return disk_fail(DISK_E_CORRUPT,
                       "%s: stream footer disagrees with the header",
                       extent_name(e));
  }
  st = sparse_load(&e->sp, e->file, &h);
  if (st)
    return st;
  e->sp->zcap = (size_t)zcap_for(e->sp->grain_bytes);
  e->sp->zbuf = malloc(e->sp->zcap);
  st = e->sp->zbuf
           ? sparse_grain_buf(e->sp)
           : disk_fail(DISK_E_NOMEM, "%s: out of memory", extent_name(e));
  if (st) {
    sparse_free(e->sp);
    e->sp = NULL;
    return st;
  }
  e->ops = &stream_ops;
  /* Only a stream whose header leaves the directory to the footer can be
   * appended to: its header stays right whatever is appended. */
  return e->writable && hdr->gd_offset == SPARSE_GD_AT_END
             ? stream_append_attach(e)
             : DISK_OK;
}

/* ---- writer ---------------------------------------------------------- */

struct stream_writer {
  struct disk_file *f;   /* owned, or the extent's (append mode) */
  struct extent *e;      /* append mode: the extent written, else NULL */
  struct sparse_header h;
  uint64_t num_gts;
  uint64_t pos;          /* next free sector */
  uint32_t *gd;          /* directory, host order */
  uint32_t *gt;          /* current table, host order */
  uint64_t cur_gt;       /* index of gt, UINT64_MAX when none */
  bool gt_used;
  uint8_t *zbuf;
  size_t zcap;
  /* append mode */
  uint64_t start;        /* sector where appending begins */
  bool cut;              /* the file was cut at start: not finalised */
  uint64_t next;         /* first sector the next write may start at */
  uint64_t pg;           /* grain in pbuf, UINT64_MAX when none */
  uint8_t *pbuf;         /* that grain, being filled */
  bool pbelow_zero;      /* what lay below pbuf's grain was zeros */
  int broken;            /* status of a failed append or of finalising */
};

static int put_marker(struct stream_writer *w, uint64_t val, uint32_t type)
{
  uint8_t m[DISK_SECTOR] = {0};
  uint64_t v = htole64(val);
  uint32_t t = htole32(type);
  int st;

  memcpy(m, &v, 8);
  memcpy(m + 12, &t, 4);
  st = disk_file_pwrite(w->f, m, sizeof m, w->pos * DISK_SECTOR);
  if (!st)
    w->pos++;
  return st;
}

/* Writes a table (or directory) of n entries with its marker. */
static int put_table(struct stream_writer *w, const uint32_t *t, uint64_t n,
                     uint32_t type, uint64_t *at)
{
  uint64_t sectors = sparse_entry_sectors(n), i;
  uint32_t *le = calloc(1, (size_t)(sectors * DISK_SECTOR));
  int st;

  if (!le)
    return disk_fail(DISK_E_NOMEM, "%s: out of memory", w->f->name);
  for (i = 0; i < n; i++)
    le[i] = htole32(t[i]);
  st = put_marker(w, sectors, type);
  if (!st) {
    *at = w->pos;
    st = disk_file_pwrite(w->f, le, (size_t)(sectors * DISK_SECTOR),
                          w->pos * DISK_SECTOR);
  }
  free(le);
  if (!st)
    w->pos += sectors;
  return st;
}

static int flush_gt(struct stream_writer *w)
{
  uint64_t at;
  int st;

  if (w->cur_gt == UINT64_MAX || !w->gt_used)
    return DISK_OK;
  st = put_table(w, w->gt, w->h.gtes, MARKER_GT, &at);
  if (st)
    return st;
  if (at > SPARSE_MAX_SECTOR)
    return disk_fail(DISK_E_NOSPACE,
                     "%s: stream is full (32-bit sector offsets)", w->f->name);
  w->gd[w->cur_gt] = (uint32_t)at;
  return DISK_OK;
}

/* Frees w and closes its file unless the extent owns it (NULL: none). */
static void writer_free(struct stream_writer *w)
{
  if (!w->e)
    disk_file_close(w->f);
  free(w->gd);
  free(w->gt);
  free(w->zbuf);
  free(w->pbuf);
  free(w);
}

/* A writer for a stream with header h (directory at the end), appending
 * from sector pos; the caller sets f.  NULL with the detail recorded
 * (DISK_E_NOMEM, DISK_E_TOOBIG) in *st. */
static struct stream_writer *writer_new(const struct sparse_header *h,
                                        uint64_t pos, const char *what,
                                        int *st)
{
  struct stream_writer *w = calloc(1, sizeof *w);

  if (!w) {
    *st = disk_fail(DISK_E_NOMEM, "%s: out of memory", what);
    return NULL;
  }
  w->h = *h;
  w->h.gd_offset = SPARSE_GD_AT_END;
  w->num_gts = sparse_num_gts(h);
  w->cur_gt = UINT64_MAX;
  w->pg = UINT64_MAX;
  w->pos = w->start = pos;
  w->zcap = (size_t)zcap_for(h->grain * DISK_SECTOR);
  w->gd = calloc((size_t)(w->num_gts ? w->num_gts : 1), 4);
  w->gt = calloc(h->gtes, 4);
  w->zbuf = malloc(w->zcap);
  *st = DISK_OK;
  if (!w->gd || !w->gt || !w->zbuf)
    *st = disk_fail(DISK_E_NOMEM, "%s: out of memory", what);
  else if (w->num_gts * 4 > SPARSE_MAX_GD_BYTES)
    *st = disk_fail(DISK_E_TOOBIG,
                    "%s: %" PRIu64 " sectors need a grain directory larger "
                    "than %u bytes",
                    what, h->capacity, SPARSE_MAX_GD_BYTES);
  if (*st) {
    writer_free(w); /* no file yet */
    return NULL;
  }
  return w;
}

int stream_writer_open(struct stream_writer **out, const char *path,
                       uint64_t capacity, const char *desc)
{
  struct stream_writer *w;
  struct sparse_header h;
  size_t dlen = strlen(desc);
  uint8_t raw[DISK_SECTOR];
  int st;

  *out = NULL;
  if (dlen > STREAM_DESC_SECTORS * DISK_SECTOR)
    return disk_fail(DISK_E_DESCRIPTOR,
                     "%s: descriptor of %zu bytes does not fit the %u "
                     "sectors of a stream's descriptor area",
                     path, dlen, STREAM_DESC_SECTORS);
  memset(&h, 0, sizeof h);
  h.version = 3;
  h.flags = SPARSE_FLAG_NL_TEST | SPARSE_FLAG_COMPRESSED | SPARSE_FLAG_MARKERS;
  h.capacity = capacity;
  h.grain = STREAM_GRAIN;
  h.desc_offset = 1;
  h.desc_size = STREAM_DESC_SECTORS;
  h.gtes = 512;
  h.overhead = STREAM_OVERHEAD;
  h.compress = SPARSE_COMPRESS_DEFLATE;
  w = writer_new(&h, STREAM_OVERHEAD, path, &st);
  if (!w)
    return st;
  st = disk_posix_create(path, &w->f);
  if (st) {
    writer_free(w);
    return st;
  }
  sparse_header_encode(&w->h, raw);
  st = disk_file_pwrite(w->f, raw, sizeof raw, 0);
  if (!st)
    st = disk_file_pwrite(w->f, desc, dlen, DISK_SECTOR);
  if (st) {
    stream_writer_abort(w);
    return st;
  }
  *out = w;
  return DISK_OK;
}

int stream_writer_put(struct stream_writer *w, uint64_t grain,
                      const uint8_t *data)
{
  uint64_t gi = grain / w->h.gtes;
  uLongf zlen = (uLongf)(w->zcap - GRAIN_HDR);
  uint64_t lba = htole64(grain * w->h.grain), sectors;
  uint32_t size;
  int st;

  if (grain * w->h.grain >= w->h.capacity ||
      (w->cur_gt != UINT64_MAX && gi < w->cur_gt))
    return disk_fail(DISK_E_ARG,
                     "%s: grain %" PRIu64 " is out of order or range",
                     w->f->name, grain);
  if (gi != w->cur_gt) {
    st = flush_gt(w);
    if (st)
      return st;
    memset(w->gt, 0, (size_t)w->h.gtes * 4);
    w->cur_gt = gi;
    w->gt_used = false;
  }
  if (compress2(w->zbuf + GRAIN_HDR, &zlen, data,
                (uLong)(w->h.grain * DISK_SECTOR), Z_DEFAULT_COMPRESSION) !=
      Z_OK)
    return disk_fail(DISK_E_NOMEM, "%s: zlib cannot compress grain %" PRIu64,
                     w->f->name, grain);
  size = htole32((uint32_t)zlen);
  memcpy(w->zbuf, &lba, 8);
  memcpy(w->zbuf + 8, &size, 4);
  sectors = (GRAIN_HDR + zlen + DISK_SECTOR - 1) / DISK_SECTOR;
  memset(w->zbuf + GRAIN_HDR + zlen, 0,
         (size_t)(sectors * DISK_SECTOR - GRAIN_HDR - zlen));
  if (w->pos + sectors > SPARSE_MAX_SECTOR)
    return disk_fail(DISK_E_NOSPACE,
                     "%s: stream is full (32-bit sector offsets)", w->f->name);
  st = disk_file_pwrite(w->f, w->zbuf, (size_t)(sectors * DISK_SECTOR),
                        w->pos * DISK_SECTOR);
  if (st)
    return st;
  w->gt[grain % w->h.gtes] = (uint32_t)w->pos;
  w->gt_used = true;
  w->pos += sectors;
  return DISK_OK;
}

/* Writes the last table, the directory, the footer and the end-of-stream
 * marker, and syncs. */
static int writer_finalise(struct stream_writer *w)
{
  struct sparse_header foot;
  uint8_t raw[DISK_SECTOR];
  uint64_t at = 0;
  int st;

  st = flush_gt(w);
  if (!st)
    st = put_table(w, w->gd, w->num_gts, MARKER_GD, &at);
  if (!st) {
    foot = w->h;
    foot.gd_offset = at;
    sparse_header_encode(&foot, raw);
    st = put_marker(w, 1, MARKER_FOOTER);
    if (!st)
      st = disk_file_pwrite(w->f, raw, sizeof raw, w->pos * DISK_SECTOR);
    if (!st) {
      w->pos++;
      st = put_marker(w, 0, MARKER_EOS);
    }
  }
  if (!st)
    st = disk_file_sync(w->f);
  return st;
}

int stream_writer_finish(struct stream_writer *w)
{
  int st = writer_finalise(w);

  if (st) {
    stream_writer_abort(w);
    return st;
  }
  writer_free(w);
  return DISK_OK;
}

void stream_writer_abort(struct stream_writer *w)
{
  if (!w)
    return;
  disk_posix_discard(w->f->name);
  writer_free(w);
}

/* ---- append mode: VixDiskLib_Write on a new stream ---------------------- */

/* Appends the grain being filled unless it and what lay below it are all
 * zeros (then its entry stays 0 and reads the same). */
static int put_pending(struct stream_writer *w)
{
  uint64_t g = w->pg;

  if (g == UINT64_MAX)
    return DISK_OK;
  w->pg = UINT64_MAX;
  if (w->pbelow_zero &&
      disk_all_zero(w->pbuf, (size_t)(w->h.grain * DISK_SECTOR)))
    return DISK_OK;
  return stream_writer_put(w, g, w->pbuf);
}

/* Starts filling grain g from what lies below it. */
static int start_pending(struct stream_writer *w, uint64_t g,
                         const struct below *below)
{
  uint64_t valid = w->e->sectors - g * w->h.grain;
  size_t bytes = (size_t)(w->h.grain * DISK_SECTOR);
  int st;

  if (valid > w->h.grain)
    valid = w->h.grain;
  memset(w->pbuf, 0, bytes);
  st = below->read(below->opaque, g * w->h.grain, valid, w->pbuf);
  if (st)
    return st;
  w->pbelow_zero = disk_all_zero(w->pbuf, bytes);
  w->pg = g;
  return DISK_OK;
}

static int stream_append_write(struct extent *e, uint64_t sector, uint64_t n,
                               const uint8_t *buf, const struct below *below)
{
  struct stream_writer *w = e->sp->writer;
  uint64_t grain = w->h.grain, end = sector + n;
  int st = DISK_OK;

  if (w->broken)
    return disk_fail(w->broken, "%s: this streamOptimized disk takes no "
                     "more writes (an earlier write failed, or it is "
                     "finalised)", extent_name(e));
  if (sector < w->next)
    return disk_fail(DISK_E_NOTSEQUENTIAL, "%s: write at sector %" PRIu64
                     " after sectors up to %" PRIu64 " were written: a "
                     "streamOptimized disk is written once, in increasing "
                     "sector order", extent_name(e), sector, w->next);
  if (!w->cut) {
    /* The first write cuts the file at the old directory's marker. */
    st = disk_file_truncate(w->f, w->start * DISK_SECTOR);
    w->cut = !st;
    e->sp->cached_valid = false;
  }
  while (!st && n) {
    uint64_t g = sector / grain, in = sector % grain;
    uint64_t m = grain - in < n ? grain - in : n;

    if (g != w->pg) {
      st = put_pending(w);
      if (!st)
        st = start_pending(w, g, below);
      if (st)
        break;
    }
    memcpy(w->pbuf + in * DISK_SECTOR, buf, (size_t)(m * DISK_SECTOR));
    sector += m;
    n -= m;
    buf += m * DISK_SECTOR;
  }
  if (st)
    w->broken = st;
  else
    w->next = end;
  return st;
}

static int stream_append_map(struct extent *e, uint64_t sector, uint64_t n,
                             struct extent_map *out)
{
  if (e->sp->writer->cut)
    return disk_fail(DISK_E_UNSUPPORTED, "%s: a streamOptimized disk being "
                     "written cannot be read until it is closed",
                     extent_name(e));
  return stream_map(e, sector, n, out);
}

static int stream_append_finish(struct extent *e)
{
  struct stream_writer *w = e->sp->writer;
  int st;

  if (!w->cut)
    return DISK_OK; /* nothing written: still the finalised empty stream */
  if (w->broken)
    return disk_fail(w->broken, "%s: the streamOptimized disk is not "
                     "finalised: an earlier write failed", extent_name(e));
  st = put_pending(w);
  if (!st)
    st = writer_finalise(w);
  w->broken = st ? st : DISK_E_UNSUPPORTED; /* finalised: no more writes */
  if (!st)
    w->cut = false;
  return st;
}

static void stream_append_close(struct extent *e)
{
  writer_free(e->sp->writer);
  sparse_extent_close(e);
}

static const struct extent_ops stream_append_ops = {
    .name = "streamOptimized",
    .map = stream_append_map,
    .read = stream_read,
    .write = stream_append_write,
    .flush = extent_sync,
    .finish = stream_append_finish,
    .close = stream_append_close,
};

/* A writable stream gets the append ops when it can take them: no grain
 * table yet, and its directory at the end, right behind a directory marker
 * that follows the descriptor.  Others keep the read-only ops (writes are
 * refused before anything is written). */
static int stream_append_attach(struct extent *e)
{
  struct sparse *sp = e->sp;
  uint64_t i, at = sp->h.gd_offset - 1;
  uint8_t m[DISK_SECTOR];
  uint32_t type;
  int st;

  for (i = 0; i < sp->num_gts; i++)
    if (sp->gd[i])
      return DISK_OK;
  if (at < 1 || at < sp->h.desc_offset + sp->h.desc_size ||
      at < sp->h.overhead || !(e->file->caps & DISK_FILE_CAN_TRUNCATE))
    return DISK_OK;
  st = disk_file_pread(e->file, m, sizeof m, at * DISK_SECTOR, NULL);
  if (st)
    return st;
  memcpy(&type, m + 12, 4);
  if (le32toh(type) != MARKER_GD)
    return DISK_OK;
  sp->writer = writer_new(&sp->h, at, extent_name(e), &st);
  if (!sp->writer)
    return st;
  sp->writer->e = e;
  sp->writer->f = e->file;
  sp->writer->pbuf = malloc((size_t)sp->grain_bytes);
  if (!sp->writer->pbuf) {
    writer_free(sp->writer);
    sp->writer = NULL;
    return disk_fail(DISK_E_NOMEM, "%s: out of memory", extent_name(e));
  }
  e->ops = &stream_append_ops;
  return DISK_OK;
}
