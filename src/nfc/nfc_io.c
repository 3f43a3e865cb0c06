/*
 * nfc_io.c -- the calls on an open connection (reference/nfc.md §3.2):
 * reads and writes split into IO requests of at most max_request bytes,
 * DDB_GET, and the allocated-block query (type 13) split so that each
 * bitmap fits the receive buffer.  Each piece is one request through the
 * engine (nfc_aio.c), so several threads' pieces pipeline.
 */
#include "nfc/nfc_internal.h"

#include <string.h>

static int check_conn(struct nfc_conn *c, struct nfc_error *err)
{
  if (!c || c->magic != NFC_CONN_MAGIC || !c->opened)
    return nfc_fail(err, NFC_E_ARG, "not an open NFC connection");
  return NFC_OK;
}

/* off and len sector multiples, [off, off+len) within the capacity. */
static int check_range(struct nfc_conn *c, uint64_t off, size_t len,
                       struct nfc_error *err)
{
  uint32_t ss = c->info.sector_size;

  if (off % ss || len % ss)
    return nfc_fail(err, NFC_E_RANGE, "offset %llu or length %zu is not a "
                    "multiple of the %u-byte sector", (unsigned long long)off,
                    len, ss);
  if (off > c->info.capacity || len > c->info.capacity - off)
    return nfc_fail(err, NFC_E_RANGE, "[%llu, +%zu) passes the capacity of "
                    "%llu bytes", (unsigned long long)off, len,
                    (unsigned long long)c->info.capacity);
  return NFC_OK;
}

/* Longest piece: max_request rounded down to whole sectors. */
static size_t piece_max(const struct nfc_conn *c)
{
  size_t ss = c->info.sector_size, m = c->o.max_request / ss * ss;

  return m ? m : ss;
}

static int io_call(struct nfc_conn *c, bool write, uint64_t off, void *rbuf,
                   const void *wbuf, size_t len, struct nfc_error *err)
{
  size_t max = piece_max(c);

  for (size_t done = 0; done < len;) {
    size_t n = len - done < max ? len - done : max;
    struct nfc_op op;
    int st;

    memset(&op, 0, sizeof op);
    op.kind = write ? NFC_OP_WRITE : NFC_OP_READ;
    op.type = NFC_T_IO;
    op.disk_off = off + done;
    if (write) {
      op.wbuf = (const uint8_t *)wbuf + done;
      op.wlen = (uint32_t)n;
    } else {
      op.rbuf = (uint8_t *)rbuf + done;
      op.rlen = (uint32_t)n;
    }
    st = nfc_aio_call(c, &op, err);
    if (st != NFC_OK)
      return st;
    done += n;
  }
  return NFC_OK;
}

/* Checks a read or write of len bytes at off from/to buf. */
static int check_io(struct nfc_conn *c, bool write, uint64_t off,
                    const void *buf, size_t len, struct nfc_error *err)
{
  int st = check_conn(c, err);

  if (st == NFC_OK && write && !c->writable)
    st = nfc_fail(err, NFC_E_READONLY, "%s: the file was opened read-only",
                  c->s.peer);
  if (st == NFC_OK && len && !buf)
    st = nfc_fail(err, NFC_E_ARG, "no buffer for %zu bytes", len);
  if (st == NFC_OK)
    st = check_range(c, off, len, err);
  return st;
}

int nfc_read(struct nfc_conn *c, uint64_t off, void *buf, size_t len,
             struct nfc_error *err)
{
  int st = check_io(c, false, off, buf, len, err);

  return st != NFC_OK ? st : io_call(c, false, off, buf, NULL, len, err);
}

int nfc_write(struct nfc_conn *c, uint64_t off, const void *buf, size_t len,
              struct nfc_error *err)
{
  int st = check_io(c, true, off, buf, len, err);

  return st != NFC_OK ? st : io_call(c, true, off, NULL, buf, len, err);
}

int nfc_ddb_get(struct nfc_conn *c, const char *key, char *out, size_t n,
                bool *found, struct nfc_error *err)
{
  struct nfc_op op;
  size_t klen;
  int st = check_conn(c, err);

  if (st != NFC_OK)
    return st;
  if (!key || !out || n == 0 || !found)
    return nfc_fail(err, NFC_E_ARG, "nfc_ddb_get: missing argument");
  klen = strlen(key);
  if (klen == 0 || klen > 256)
    return nfc_fail(err, NFC_E_ARG, "ddb key of %zu bytes", klen);
  for (size_t i = 0; i < klen; i++)
    if ((unsigned char)key[i] <= 0x20 || (unsigned char)key[i] >= 0x7f)
      return nfc_fail(err, NFC_E_ARG, "ddb key is not printable ASCII");
  /* §3.2 DDB_GET: u64 handle, u32 key length, u32 0; extra = the key. */
  memset(&op, 0, sizeof op);
  op.kind = NFC_OP_DDB;
  op.type = NFC_T_DDB_GET;
  fvx_put_le64(op.payload, c->handle);
  fvx_put_le32(op.payload + 8, (uint32_t)klen);
  op.plen = NFC_P_DDB_GET;
  op.extra = (const uint8_t *)key;
  op.extra_len = (uint32_t)klen;
  op.rbuf = (uint8_t *)out;
  op.rlen = (uint32_t)(n - 1 < NFC_DDB_VALUE_MAX ? n - 1 : NFC_DDB_VALUE_MAX);
  st = nfc_aio_call(c, &op, err);
  if (st != NFC_OK)
    return st;
  *found = op.got > 0;
  if (op.got > n - 1) {
    out[0] = '\0';
    return nfc_fail(err, NFC_E_ARG, "ddb.%s has a %u-byte value; the buffer "
                    "holds %zu", key, op.got, n - 1);
  }
  out[op.got] = '\0';
  return NFC_OK;
}

int nfc_allocated(struct nfc_conn *c, uint64_t chunk, uint64_t start,
                  uint64_t count, uint8_t *bitmap, struct nfc_error *err)
{
  uint64_t span, cap_chunks, piece;
  int st = check_conn(c, err);

  if (st != NFC_OK)
    return st;
  if (!bitmap || count == 0 || chunk == 0 || chunk % c->info.sector_size)
    return nfc_fail(err, NFC_E_ARG, "allocated-block query: bad chunk size "
                    "%llu or no chunks", (unsigned long long)chunk);
  /* §3.2 type 13: start and length are chunk multiples, or an ERROR. */
  cap_chunks = c->info.capacity / chunk + (c->info.capacity % chunk != 0);
  if (start % chunk || start / chunk > cap_chunks ||
      count > cap_chunks - start / chunk)
    return nfc_fail(err, NFC_E_RANGE, "allocated-block query of %llu chunks "
                    "of %llu at %llu passes the disk or is misaligned",
                    (unsigned long long)count, (unsigned long long)chunk,
                    (unsigned long long)start);
  /* Pieces of whole bitmap bytes whose wire bitmap fits the buffer. */
  piece = (uint64_t)(c->rx_scratch_len / 4) * 32;
  for (uint64_t done = 0; done < count; done += span) {
    struct nfc_op op;

    span = count - done < piece ? count - done : piece;
    memset(&op, 0, sizeof op);
    op.kind = NFC_OP_ALLOC;
    op.type = NFC_T_ALLOCATED;
    /* @0 handle, @8 0, @16 chunk, @24 start in bytes, @32 count, @40 0 */
    fvx_put_le64(op.payload, c->handle);
    fvx_put_le64(op.payload + 16, chunk);
    fvx_put_le64(op.payload + 24, start + done * chunk);
    fvx_put_le64(op.payload + 32, span);
    op.plen = NFC_P_ALLOCATED;
    op.reply_extra = (uint32_t)nfc_bitmap_wire_len(span);
    op.rbuf = bitmap + done / 8;
    op.rlen = (uint32_t)((span + 7) / 8);
    st = nfc_aio_call(c, &op, err);
    if (st != NFC_OK)
      return st;
  }
  return NFC_OK;
}
