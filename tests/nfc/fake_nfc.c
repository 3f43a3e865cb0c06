/*
 * fake_nfc.c -- the scripted NFC server of fake_nfc.h.
 *
 * Test code, kept simple: blocking sockets with receive timeouts, one
 * connection at a time, the sheet's layouts (reference/nfc.md §2, §3)
 * written out by hand.  It uses the library's little-endian helpers and
 * (de)compressors (nfc_internal.h); everything else is its own.
 */
#include "fake_nfc.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "nfc/nfc_internal.h"
#include "util/tls.h"

#define FAKE_HANDLE 0x1122334455667788ull
#define FAKE_MAX_PENDING 64

struct cert {
  EVP_PKEY *key;
  X509 *x509;
  SSL_CTX *ctx;
  char thumb[100];
};

struct pending {
  uint32_t op_id;
  bool is_write;
  bool complete;          /* a write: all fragments in */
  uint64_t offset;
  uint32_t total, got, comp;
};

struct fake {
  struct fake_cfg cfg;
  int lfd;
  unsigned port;
  struct cert c1, c2;
  pthread_t thread;
  pthread_mutex_t mu;
  bool stop;
  int cur_fd;
  uint8_t *image;
  uint64_t capacity;
  struct fake_seen seen;
};

/* One connection's stream. */
struct fs {
  struct fake *f;
  int fd;
  SSL *ssl;
  unsigned conn;            /* 0-based */
  uint32_t buffer_size;
  uint32_t next_op;         /* the opId we expect next */
  bool malformed_done;
  struct pending pend[FAKE_MAX_PENDING];
  unsigned npend;
};

uint8_t fake_pattern(uint64_t off)
{
  return (uint8_t)(off * 7 + (off >> 9) * 13 + 1);
}

static void note(struct fake *f, unsigned conn, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void note(struct fake *f, unsigned conn, const char *fmt, ...)
{
  va_list ap;
  size_t n;

  if (conn != 0)
    return;
  pthread_mutex_lock(&f->mu);
  n = strlen(f->seen.transcript);
  va_start(ap, fmt);
  vsnprintf(f->seen.transcript + n, sizeof f->seen.transcript - n, fmt, ap);
  va_end(ap);
  n = strlen(f->seen.transcript);
  if (n + 1 < sizeof f->seen.transcript) {
    f->seen.transcript[n] = '\n';
    f->seen.transcript[n + 1] = '\0';
  }
  pthread_mutex_unlock(&f->mu);
}

static void bad(struct fake *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void bad(struct fake *f, const char *fmt, ...)
{
  va_list ap;

  pthread_mutex_lock(&f->mu);
  if (!f->seen.first_error[0]) {
    va_start(ap, fmt);
    vsnprintf(f->seen.first_error, sizeof f->seen.first_error, fmt, ap);
    va_end(ap);
  }
  pthread_mutex_unlock(&f->mu);
}

/* ---- certificates ------------------------------------------------------- */

static void make_cert(struct cert *c, const char *cn)
{
  X509_NAME *name;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;

  c->key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
  c->x509 = X509_new();
  if (!c->key || !c->x509)
    abort();
  X509_set_version(c->x509, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(c->x509), 1);
  X509_gmtime_adj(X509_getm_notBefore(c->x509), -3600);
  X509_gmtime_adj(X509_getm_notAfter(c->x509), 3600);
  name = X509_get_subject_name(c->x509);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             (const unsigned char *)cn, -1, -1, 0);
  X509_set_issuer_name(c->x509, name);
  X509_set_pubkey(c->x509, c->key);
  if (!X509_sign(c->x509, c->key, EVP_sha256()))
    abort();
  X509_digest(c->x509, EVP_sha1(), md, &mdlen);
  fvx_hex_colon(c->thumb, sizeof c->thumb, md, mdlen);
  c->ctx = SSL_CTX_new(TLS_server_method());
  if (!c->ctx || SSL_CTX_use_certificate(c->ctx, c->x509) != 1 ||
      SSL_CTX_use_PrivateKey(c->ctx, c->key) != 1)
    abort();
}

static void free_cert(struct cert *c)
{
  SSL_CTX_free(c->ctx);
  X509_free(c->x509);
  EVP_PKEY_free(c->key);
}

/* ---- I/O ---------------------------------------------------------------- */

static bool rd(struct fs *s, void *buf, size_t n)
{
  uint8_t *p = buf;

  while (n > 0) {
    ssize_t r;

    if (s->ssl) {
      size_t got = 0;

      if (SSL_read_ex(s->ssl, p, n, &got) != 1)
        return false;
      r = (ssize_t)got;
    } else {
      r = recv(s->fd, p, n, 0);
      if (r <= 0)
        return false;
    }
    p += r;
    n -= (size_t)r;
  }
  return true;
}

static bool wr(struct fs *s, const void *buf, size_t n)
{
  const uint8_t *p = buf;

  while (n > 0) {
    ssize_t r;

    if (s->ssl) {
      size_t put = 0;

      if (SSL_write_ex(s->ssl, p, n, &put) != 1)
        return false;
      r = (ssize_t)put;
    } else {
      r = send(s->fd, p, n, MSG_NOSIGNAL);
      if (r <= 0)
        return false;
    }
    p += r;
    n -= (size_t)r;
  }
  return true;
}

static bool rd_line(struct fs *s, char *line, size_t cap)
{
  size_t o = 0;

  for (;;) {
    char ch;

    if (!rd(s, &ch, 1))
      return false;
    if (ch == '\n')
      break;
    if (o + 1 >= cap)
      return false;
    line[o++] = ch;
  }
  if (o == 0 || line[o - 1] != '\r')
    return false; /* §2.3: CRLF lines */
  line[o - 1] = '\0';
  return true;
}

static bool wr_line(struct fs *s, const char *text)
{
  char buf[512];

  snprintf(buf, sizeof buf, "%s\r\n", text);
  return wr(s, buf, strlen(buf));
}

/* Data waiting within ms? */
static bool readable(struct fs *s, int ms)
{
  struct pollfd p = {s->fd, POLLIN, 0};

  if (s->ssl && SSL_pending(s->ssl) > 0)
    return true;
  return poll(&p, 1, ms) > 0;
}

static bool tls_accept(struct fs *s, struct cert *c)
{
  s->ssl = SSL_new(c->ctx);
  SSL_set_fd(s->ssl, s->fd);
  if (SSL_accept(s->ssl) != 1) {
    SSL_free(s->ssl);
    s->ssl = NULL;
    return false;
  }
  return true;
}

/* ---- authd (§2) --------------------------------------------------------- */

static const char banner_sha[] =
    "220 VMware Authentication Daemon Version 1.10: SSL Required, "
    "ServerDaemonProtocol:SOAP, MKSDisplayProtocol:VNC , VMXARGS supported, "
    "NFCSSL supported/t, SHA256 supported";
static const char banner_old[] =
    "220 VMware Authentication Daemon Version 1.10: SSL Required, "
    "ServerDaemonProtocol:SOAP, MKSDisplayProtocol:VNC , VMXARGS supported, "
    "NFCSSL supported/t";

static bool authd(struct fs *s)
{
  struct fake *f = s->f;
  const char *banner = f->cfg.no_sha256 ? banner_old : banner_sha;
  bool ssl = f->cfg.transport == NFC_NBDSSL;
  char line[512], want[64];

  if (!wr_line(s, banner) || !tls_accept(s, &f->c1))
    return false;
  if (!rd_line(s, line, sizeof line))
    return false;
  note(f, s->conn, "%s", line);
  if (strncmp(line, "SESSION ", 8) != 0)
    return false;
  pthread_mutex_lock(&f->mu);
  if (s->conn < 16)
    snprintf(f->seen.sessions[s->conn], sizeof f->seen.sessions[0], "%.63s",
             line + 8);
  pthread_mutex_unlock(&f->mu);
  if (!rd_line(s, line, sizeof line))
    return false;
  note(f, s->conn, "%s", line);
  if (strcmp(line, "BANNER ") != 0 || !wr_line(s, banner))
    return false;
  if (!rd_line(s, line, sizeof line))
    return false;
  note(f, s->conn, "%s", line);
  if (strncmp(line, "THUMBPRINT_SHA2", 15) == 0) {
    if (f->cfg.no_sha256)
      bad(f, "THUMBPRINT_SHA2 sent to a host without SHA256");
    if (!wr_line(s, "200 AB:CD:EF") || !rd_line(s, line, sizeof line))
      return false;
    note(f, s->conn, "%s", line);
  }
  snprintf(want, sizeof want, "PROXY vpxa-nfc%s", ssl ? "ssl" : "");
  if (strcmp(line, want) != 0)
    bad(f, "expected '%s', got '%s'", want, line);
  if (f->cfg.refuse_530) {
    wr_line(s, "530 Login incorrect");
    return false;
  }
  if (!wr_line(s, ssl ? "200 Connect ha-nfcssl" : "200 Connect ha-nfc"))
    return false;
  /* §2.4: forget TLS without close_notify */
  SSL_free(s->ssl);
  s->ssl = NULL;
  if (ssl && !tls_accept(s, f->cfg.second_cert_other ? &f->c2 : &f->c1))
    return false;
  return true;
}

/* ---- classic (§3.1) ----------------------------------------------------- */

static bool classic_reply(struct fs *s, uint32_t type, uint32_t at4,
                          uint32_t at16)
{
  uint8_t fr[NFC_CLASSIC_FRAME];

  memset(fr, 0, sizeof fr);
  fvx_put_le32(fr, type);
  fvx_put_le32(fr + 4, at4);
  fvx_put_le32(fr + 16, at16);
  return wr(s, fr, sizeof fr);
}

static bool classic(struct fs *s)
{
  struct fake *f = s->f;
  uint8_t fr[NFC_CLASSIC_FRAME];

  for (;;) {
    uint32_t type;

    if (!rd(s, fr, sizeof fr))
      return false;
    type = fvx_le32(fr);
    switch (type) {
    case 43:
      note(f, s->conn, "C43 %.9s", (const char *)fr + 4);
      break;
    case 33:
      note(f, s->conn, "C33");
      if (!classic_reply(s, 36, 0, 1))
        return false;
      break;
    case 51:
      note(f, s->conn, "C51 %u", fvx_le32(fr + 4));
      if (!classic_reply(s, 51, 11, 0))
        return false;
      break;
    case 54: {
      char a[32], b[32];
      uint32_t la = fvx_le32(fr + 4), lb = fvx_le32(fr + 8);

      if (la >= sizeof a || lb >= sizeof b || !rd(s, a, la) || !rd(s, b, lb))
        return false;
      a[la] = b[lb] = '\0';
      note(f, s->conn, "C54 %s %s", a, b);
      break;
    }
    case 55:
      note(f, s->conn, "C55 %u", fvx_le32(fr + 4));
      break;
    case 52:
      note(f, s->conn, "C52");
      return classic_reply(s, 52, 0, 0);
    default:
      bad(f, "unexpected classic frame %u", type);
      return false;
    }
  }
}

/* ---- AIO (§3.2) --------------------------------------------------------- */

static bool send_msg(struct fs *s, uint32_t type, uint32_t op,
                     const uint8_t *p, uint32_t n, const uint8_t *extra,
                     size_t extra_n)
{
  uint8_t h[NFC_AIO_HDR];

  nfc_hdr_put(h, type, n, op);
  return wr(s, h, sizeof h) && (!n || wr(s, p, n)) &&
         (!extra_n || wr(s, extra, extra_n));
}

static bool send_error(struct fs *s, uint32_t op, uint32_t code,
                       const char *text)
{
  uint8_t p[12 + 256];
  uint32_t n = (uint32_t)strlen(text);

  memset(p, 0, sizeof p);
  fvx_put_le32(p, code);
  fvx_put_le32(p + 8, n);
  if (s->f->cfg.error_text_extra)
    return send_msg(s, NFC_T_ERROR, op, p, 12, (const uint8_t *)text, n);
  memcpy(p + 12, text, n);
  return send_msg(s, NFC_T_ERROR, op, p, 12 + n, NULL, 0);
}

static void track_outstanding(struct fs *s)
{
  struct fake *f = s->f;

  pthread_mutex_lock(&f->mu);
  if (s->npend > f->seen.max_outstanding)
    f->seen.max_outstanding = s->npend;
  pthread_mutex_unlock(&f->mu);
}

static struct pending *find_pending(struct fs *s, uint32_t op)
{
  for (unsigned i = 0; i < s->npend; i++)
    if (s->pend[i].op_id == op)
      return &s->pend[i];
  return NULL;
}

/* A read's fragments (§3.2 Read), possibly reordered or broken. */
static bool answer_read(struct fs *s, const struct pending *r)
{
  struct fake *f = s->f;
  uint32_t frag = f->cfg.frag_size ? f->cfg.frag_size : s->buffer_size;
  uint32_t nfrag = (r->total + frag - 1) / frag;
  uint8_t *z = malloc(frag);
  bool first = !s->malformed_done, ok = true;

  s->malformed_done = true;
  if (!z)
    return false;
  if (f->cfg.delay_ms)
    usleep(f->cfg.delay_ms * 1000u);
  if (s->conn < f->cfg.drop_conns) {
    nfrag /= 2; /* half a reply (or none), then hang up */
    ok = false;
  }
  for (uint32_t i = 0; i < nfrag; i++) {
    uint32_t k = f->cfg.reverse_fragments ? nfrag - 1 - i : i;
    uint32_t off = k * frag, len = r->total - off < frag ? r->total - off
                                                          : frag;
    const uint8_t *data = f->image + r->offset + off;
    uint8_t p[NFC_P_IO], h[NFC_AIO_HDR];
    size_t clen = 0;
    uint32_t comp = 0, op = r->op_id, size = NFC_P_IO;

    if (r->comp)
      clen = nfc_compress((enum nfc_compression)r->comp, data, len, z, frag);
    if (clen) {
      comp = r->comp;
      data = z;
    } else {
      clen = len;
    }
    if (first && f->cfg.malformed == FAKE_OVERLAP && i == 1)
      off = f->cfg.reverse_fragments ? (nfrag - 1) * frag : 0;
    if (first && f->cfg.malformed == FAKE_OUT_OF_RANGE)
      off = r->total;
    if (first && f->cfg.malformed == FAKE_WRONG_OPID)
      op += 1000;
    if (first && f->cfg.malformed == FAKE_HUGE_SIZE)
      size = 256u << 20;
    memset(p, 0, sizeof p);
    fvx_put_le32(p + 8, NFC_DIR_READ);
    fvx_put_le32(p + 12, comp);
    fvx_put_le64(p + 16, r->offset);
    fvx_put_le32(p + 24, r->total);
    fvx_put_le32(p + 28, off);
    fvx_put_le32(p + 32, len);
    fvx_put_le32(p + 36, (uint32_t)clen);
    nfc_hdr_put(h, NFC_T_IO, size, op);
    if (first && f->cfg.malformed == FAKE_BAD_MAGIC)
      h[0] ^= 0xff;
    if (!wr(s, h, sizeof h) || !wr(s, p, sizeof p) || !wr(s, data, clen)) {
      ok = false;
      break;
    }
    if (first && f->cfg.malformed != FAKE_WELL_FORMED &&
        f->cfg.malformed != FAKE_OVERLAP)
      break;
  }
  free(z);
  return ok;
}

static bool answer(struct fs *s, unsigned i)
{
  struct pending r = s->pend[i];
  uint8_t p[NFC_P_IO];

  memmove(s->pend + i, s->pend + i + 1,
          (s->npend - i - 1) * sizeof s->pend[0]);
  s->npend--;
  if (!r.is_write)
    return answer_read(s, &r);
  if (s->f->cfg.delay_ms)
    usleep(s->f->cfg.delay_ms * 1000u);
  if (s->f->cfg.write_error)
    return send_error(s, r.op_id, NFC_ERR_CODE_READONLY,
                      "Write to a read-only disk");
  memset(p, 0, sizeof p);
  fvx_put_le64(p + 16, r.offset);
  fvx_put_le32(p + 24, r.total);
  return send_msg(s, NFC_T_IO, r.op_id, p, sizeof p, NULL, 0);
}

/* Answers the complete requests held, oldest (or newest) first. */
static bool flush(struct fs *s)
{
  for (;;) {
    unsigned pick = s->npend;

    for (unsigned i = 0; i < s->npend; i++) {
      unsigned k = s->f->cfg.reverse_replies ? s->npend - 1 - i : i;

      if (s->pend[k].complete) {
        pick = k;
        break;
      }
    }
    if (pick == s->npend)
      return true;
    if (!answer(s, pick))
      return false;
  }
}

static bool io_message(struct fs *s, uint32_t op, const uint8_t *p)
{
  struct fake *f = s->f;
  struct nfc_io_msg m;
  struct pending *r;

  nfc_io_get(&m, p);
  if (m.handle != FAKE_HANDLE)
    bad(f, "IO with handle %llx", (unsigned long long)m.handle);
  if (m.offset > f->capacity || m.total > f->capacity - m.offset) {
    bad(f, "IO past the disk");
    return false;
  }
  if (m.dir == NFC_DIR_READ) {
    if (m.frag_off != 0 || m.frag_len != m.total || m.extra_len != m.total)
      bad(f, "read request fields 28/32/36 = %u/%u/%u for %u", m.frag_off,
          m.frag_len, m.extra_len, m.total);
    if (s->npend == FAKE_MAX_PENDING)
      return false;
    s->pend[s->npend++] = (struct pending){op, false, true, m.offset,
                                           m.total, 0, m.comp};
    pthread_mutex_lock(&f->mu);
    f->seen.reads++;
    if (m.offset == 0 && m.total <= 4096)
      f->seen.zero_reads++;
    pthread_mutex_unlock(&f->mu);
    track_outstanding(s);
    return true;
  }
  /* a write fragment (§3.2 Write) */
  if (f->cfg.drop_write)
    return false;
  r = find_pending(s, op);
  if (!r) {
    if (m.frag_off != 0 || s->npend == FAKE_MAX_PENDING) {
      bad(f, "write opId %u starts at fragment offset %u", op, m.frag_off);
      return false;
    }
    r = &s->pend[s->npend++];
    *r = (struct pending){op, true, false, m.offset, m.total, 0, 0};
    pthread_mutex_lock(&f->mu);
    f->seen.writes++;
    pthread_mutex_unlock(&f->mu);
    track_outstanding(s);
  }
  if (m.frag_off != r->got || m.frag_len > r->total - r->got ||
      m.frag_len > s->buffer_size || m.extra_len > s->buffer_size) {
    bad(f, "write fragment [%u,+%u) extra %u, expected at %u of %u",
        m.frag_off, m.frag_len, m.extra_len, r->got, r->total);
    return false;
  }
  {
    uint8_t *extra = malloc(m.extra_len ? m.extra_len : 1);
    bool ok = extra && rd(s, extra, m.extra_len);

    if (ok && nfc_decompress((enum nfc_compression)m.comp, extra, m.extra_len,
                             f->image + m.offset + m.frag_off,
                             m.frag_len) != 0) {
      bad(f, "write fragment (compression %u) does not decompress", m.comp);
      ok = false;
    }
    free(extra);
    if (!ok)
      return false;
  }
  pthread_mutex_lock(&f->mu);
  f->seen.comp_mask |= 1u << (m.comp & 7);
  if (m.frag_len > f->seen.max_fragment)
    f->seen.max_fragment = m.frag_len;
  pthread_mutex_unlock(&f->mu);
  r->got += m.frag_len;
  r->complete = r->got == r->total;
  return true;
}

static bool open_file(struct fs *s, uint32_t op, const uint8_t *p)
{
  struct fake *f = s->f;
  uint32_t n = fvx_le32(p), flags = fvx_le32(p + 20);
  char path[512];
  uint8_t r[NFC_P_OPEN_FILE];

  if (n >= sizeof path || !rd(s, path, n))
    return false;
  path[n] = '\0';
  note(f, s->conn, "A4 %s type %u flags 0x%x", path, fvx_le32(p + 16),
       flags);
  if (f->cfg.readonly && flags == NFC_OPEN_FLAGS_RW)
    return send_error(s, op, NFC_ERR_CODE_READONLY,
                      "The file is read-only for this ticket");
  memset(r, 0, sizeof r);
  fvx_put_le64(r + 8, FAKE_HANDLE);
  fvx_put_le32(r + 16, 2);
  fvx_put_le32(r + 20, flags);
  fvx_put_le64(r + 28, f->capacity); /* unaligned */
  fvx_put_le32(r + 36, 0);           /* 0: 512 */
  fvx_put_le32(r + 40, 520);
  fvx_put_le32(r + 44, 16);
  fvx_put_le32(r + 48, 63);
  return send_msg(s, NFC_T_OPEN_FILE, op, r, sizeof r, NULL, 0);
}

static const char *ddb_value(const char *key)
{
  static const char *const table[][2] = {
      {"adapterType", "lsilogic"},
      {"geometry.biosCylinders", "1024"},
      {"geometry.biosHeads", "255"},
      {"geometry.biosSectors", "63"},
      {"uuid", "60 00 C2 9b 3a 1c 4e 7d-a0 11 22 33 44 55 66 77"},
  };

  for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
    if (strcmp(table[i][0], key) == 0)
      return table[i][1];
  return NULL;
}

static bool ddb_get(struct fs *s, uint32_t op, const uint8_t *p)
{
  uint32_t n = fvx_le32(p + 8);
  char key[300];
  const char *v;
  uint8_t r[NFC_P_DDB_GET];

  if (n >= sizeof key || !rd(s, key, n))
    return false;
  key[n] = '\0';
  v = ddb_value(key);
  memset(r, 0, sizeof r);
  fvx_put_le32(r + 12, v ? (uint32_t)strlen(v) : 0);
  return send_msg(s, NFC_T_DDB_GET, op, r, sizeof r, (const uint8_t *)v,
                  v ? strlen(v) : 0);
}

static bool allocated(struct fs *s, uint32_t op, const uint8_t *p)
{
  struct fake *f = s->f;
  uint64_t chunk = fvx_le64(p + 16), start = fvx_le64(p + 24);
  uint64_t count = fvx_le64(p + 32), len;
  uint8_t *bm;
  bool ok;

  if (!chunk || start % chunk || count == 0 || count > (1u << 20) ||
      start > f->capacity || count * chunk > f->capacity - start)
    return send_error(s, op, 0x20, "Misaligned allocation query");
  len = nfc_bitmap_wire_len(count);
  bm = calloc(1, len);
  if (!bm)
    return false;
  for (uint64_t i = 0; i < count; i++) {
    const uint8_t *c = f->image + start + i * chunk;

    for (uint64_t k = 0; k < chunk; k++)
      if (c[k]) {
        bm[i / 8] |= (uint8_t)(1u << (i % 8));
        break;
      }
  }
  ok = send_msg(s, NFC_T_ALLOCATED, op, p, NFC_P_ALLOCATED, bm, len);
  free(bm);
  return ok;
}

/* One AIO message; false ends the connection. */
static bool aio_message(struct fs *s)
{
  struct fake *f = s->f;
  uint8_t h[NFC_AIO_HDR], p[NFC_P_MAX];
  struct nfc_hdr hd;
  uint8_t zero[16] = {0};

  if (!rd(s, h, sizeof h))
    return false;
  if (nfc_hdr_get(&hd, h) != 0 || hd.size > sizeof p) {
    bad(f, "bad AIO header from the client");
    return false;
  }
  if (!rd(s, p, hd.size))
    return false;
  /* §3.2: opIds from 0, +1 per request; a write's fragments share one. */
  if (hd.op_id != s->next_op && !(hd.type == NFC_T_IO &&
                                  find_pending(s, hd.op_id)))
    bad(f, "opId %u where %u was expected", hd.op_id, s->next_op);
  if (hd.op_id == s->next_op)
    s->next_op++;
  switch (hd.type) {
  case NFC_T_OPEN_SESSION:
    note(f, s->conn, "A2");
    s->buffer_size = fvx_le32(p + 4);
    pthread_mutex_lock(&f->mu);
    f->seen.buffer_size = s->buffer_size;
    f->seen.buffer_count = fvx_le32(p + 8);
    pthread_mutex_unlock(&f->mu);
    return send_msg(s, hd.type, hd.op_id, zero, 16, NULL, 0);
  case NFC_T_SET_SOCK_OPTS: {
    uint8_t r[12];

    note(f, s->conn, "A9");
    fvx_put_le32(r, 1675000);
    fvx_put_le32(r + 4, 1675000);
    fvx_put_le32(r + 8, 1);
    return send_msg(s, hd.type, hd.op_id, r, 12, NULL, 0);
  }
  case NFC_T_SET_RES_POOL:
    note(f, s->conn, "A22 %u", fvx_le32(p));
    return send_msg(s, hd.type, hd.op_id, zero, 4, NULL, 0);
  case NFC_T_OPEN_FILE:
    return open_file(s, hd.op_id, p);
  case NFC_T_DDB_GET:
    return ddb_get(s, hd.op_id, p);
  case NFC_T_ALLOCATED:
    return allocated(s, hd.op_id, p);
  case NFC_T_IO:
    return hd.size == NFC_P_IO && io_message(s, hd.op_id, p);
  case NFC_T_CLOSE_FILE:
    note(f, s->conn, "A5");
    return send_msg(s, hd.type, hd.op_id, zero, 4, NULL, 0);
  case NFC_T_CLOSE_SESSION: {
    uint8_t fr[NFC_CLASSIC_FRAME];

    note(f, s->conn, "A3");
    if (!send_msg(s, hd.type, hd.op_id, zero, 4, NULL, 0) ||
        !rd(s, fr, sizeof fr))
      return false;
    note(f, s->conn, "C%u", fvx_le32(fr));
    pthread_mutex_lock(&f->mu);
    f->seen.closed_cleanly = fvx_le32(fr) == NFC_C_SESSION_COMPLETE;
    pthread_mutex_unlock(&f->mu);
    return false;
  }
  }
  bad(f, "unknown AIO type %u", hd.type);
  return false;
}

static void serve(struct fake *f, int fd, unsigned conn)
{
  struct fs *s = calloc(1, sizeof *s);
  struct timeval tv = {5, 0};
  int one = 1;

  if (!s)
    return;
  s->f = f;
  s->fd = fd;
  s->conn = conn;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  if (authd(s) && classic(s)) {
    for (;;) {
      bool more;

      pthread_mutex_lock(&f->mu);
      more = !f->stop;
      pthread_mutex_unlock(&f->mu);
      if (!more)
        break;
      /* Hold complete requests while more arrive (pipelining). */
      if (s->npend && !readable(s, (int)f->cfg.hold_ms)) {
        if (!flush(s))
          break;
        continue;
      }
      if (!s->npend && !readable(s, 100))
        continue;
      if (!aio_message(s))
        break;
      if (!f->cfg.hold_ms && !flush(s))
        break;
    }
  }
  SSL_free(s->ssl);
  free(s);
}

static void *fake_main(void *arg)
{
  struct fake *f = arg;

  for (unsigned conn = 0;; conn++) {
    struct pollfd p = {f->lfd, POLLIN, 0};
    bool stop;
    int fd;

    do {
      pthread_mutex_lock(&f->mu);
      stop = f->stop;
      pthread_mutex_unlock(&f->mu);
    } while (!stop && poll(&p, 1, 50) == 0);
    if (stop)
      break;
    fd = accept(f->lfd, NULL, NULL);
    if (fd < 0)
      continue;
    pthread_mutex_lock(&f->mu);
    f->seen.conns++;
    f->cur_fd = fd;
    pthread_mutex_unlock(&f->mu);
    serve(f, fd, conn);
    pthread_mutex_lock(&f->mu);
    f->cur_fd = -1;
    pthread_mutex_unlock(&f->mu);
    close(fd);
  }
  return NULL;
}

struct fake *fake_start(const struct fake_cfg *cfg)
{
  struct fake *f = calloc(1, sizeof *f);
  struct sockaddr_in a;
  socklen_t alen = sizeof a;

  if (!f)
    abort();
  f->cfg = *cfg;
  f->cur_fd = -1;
  f->capacity = cfg->capacity ? cfg->capacity : 8u << 20;
  f->image = malloc(f->capacity);
  if (!f->image)
    abort();
  for (uint64_t i = 0; i < f->capacity; i++)
    f->image[i] = (i >= (1u << 20) && i < (2u << 20)) ? 0 : fake_pattern(i);
  make_cert(&f->c1, "fake-esxi");
  make_cert(&f->c2, "other-esxi");
  pthread_mutex_init(&f->mu, NULL);
  f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (f->lfd < 0 || bind(f->lfd, (struct sockaddr *)&a, sizeof a) != 0 ||
      listen(f->lfd, 8) != 0 ||
      getsockname(f->lfd, (struct sockaddr *)&a, &alen) != 0)
    abort();
  f->port = ntohs(a.sin_port);
  if (pthread_create(&f->thread, NULL, fake_main, f) != 0)
    abort();
  return f;
}

unsigned fake_port(const struct fake *f)
{
  return f->port;
}

const char *fake_thumbprint(const struct fake *f)
{
  return f->c1.thumb;
}

const char *fake_other_thumbprint(const struct fake *f)
{
  return f->c2.thumb;
}

void fake_stop(struct fake *f)
{
  pthread_mutex_lock(&f->mu);
  f->stop = true;
  if (f->cur_fd >= 0)
    shutdown(f->cur_fd, SHUT_RDWR);
  pthread_mutex_unlock(&f->mu);
  pthread_join(f->thread, NULL);
}

void fake_free(struct fake *f)
{
  close(f->lfd);
  free_cert(&f->c1);
  free_cert(&f->c2);
  pthread_mutex_destroy(&f->mu);
  free(f->image);
  free(f);
}

void fake_seen(struct fake *f, struct fake_seen *out)
{
  pthread_mutex_lock(&f->mu);
  *out = f->seen;
  pthread_mutex_unlock(&f->mu);
}

const uint8_t *fake_image(const struct fake *f)
{
  return f->image;
}

void fake_ticket(const struct fake *f, struct nfc_ticket *t, unsigned n)
{
  memset(t, 0, sizeof *t);
  snprintf(t->host, sizeof t->host, "127.0.0.1");
  t->port = f->port;
  snprintf(t->ssl_thumbprint, sizeof t->ssl_thumbprint, "%s", f->c1.thumb);
  snprintf(t->service, sizeof t->service, "vpxa-nfc");
  snprintf(t->session_id, sizeof t->session_id, "session-%u", n);
}

struct nfc_options fake_options(enum nfc_transport t)
{
  struct nfc_options o;

  memset(&o, 0, sizeof o);
  o.transport = t;
  o.connect_timeout_ms = 10000;
  o.io_timeout_ms = 10000;
  o.buffer_size = 64 * 1024;
  return o;
}
