/*
 * nfc_wire.c -- the byte layouts of NFC (reference/nfc.md §2-§3) as pure
 * functions: little-endian fields, the AIO header, the IO message, the
 * OPEN_FILE reply, the allocated-block bitmap length, ERROR payloads and
 * the authd reply lines.
 *
 * Nothing here does I/O or allocates, so the fuzz targets can call every
 * decoder on hostile bytes.  The one guess about the ERROR payload (§5.1)
 * lives in nfc_error_decode and nowhere else.
 */
#include "nfc/nfc_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/text.h"

/* §3.2 AIO framing: magic, type, size, opId. */
void nfc_hdr_put(uint8_t out[NFC_AIO_HDR], uint32_t type, uint32_t size,
                 uint32_t op_id)
{
  fvx_put_le32(out, NFC_AIO_MAGIC);
  fvx_put_le32(out + 4, type);
  fvx_put_le32(out + 8, size);
  fvx_put_le32(out + 12, op_id);
}

int nfc_hdr_get(struct nfc_hdr *h, const uint8_t in[NFC_AIO_HDR])
{
  if (fvx_le32(in) != NFC_AIO_MAGIC)
    return -1;
  h->type = fvx_le32(in + 4);
  h->size = fvx_le32(in + 8);
  h->op_id = fvx_le32(in + 12);
  return 0;
}

/* §3.2 IO request table: @0 handle, @8 direction (low 32) and compression
 * (high 32), @16 disk offset, @24 total, @28 fragment offset, @32 fragment
 * length, @36 extra length, @40 0. */
void nfc_io_put(uint8_t out[NFC_P_IO], const struct nfc_io_msg *m)
{
  memset(out, 0, NFC_P_IO);
  fvx_put_le64(out, m->handle);
  fvx_put_le32(out + 8, m->dir);
  fvx_put_le32(out + 12, m->comp);
  fvx_put_le64(out + 16, m->offset);
  fvx_put_le32(out + 24, m->total);
  fvx_put_le32(out + 28, m->frag_off);
  fvx_put_le32(out + 32, m->frag_len);
  fvx_put_le32(out + 36, m->extra_len);
}

void nfc_io_get(struct nfc_io_msg *m, const uint8_t in[NFC_P_IO])
{
  m->handle = fvx_le64(in);
  m->dir = fvx_le32(in + 8);
  m->comp = fvx_le32(in + 12);
  m->offset = fvx_le64(in + 16);
  m->total = fvx_le32(in + 24);
  m->frag_off = fvx_le32(in + 28);
  m->frag_len = fvx_le32(in + 32);
  m->extra_len = fvx_le32(in + 36);
}

/* §3.2 OPEN_FILE reply: @8 handle, @16 type, @20 flags, @28 capacity
 * (u64, unaligned), @36 sector size (0 means 512), @40/44/48 C/H/S.
 * Bytes 0-7, 24-27 and 52-59 are unknown (§5.2) and ignored. */
int nfc_open_reply_get(struct nfc_open_reply *r, const uint8_t *p, size_t n)
{
  uint32_t ss;

  if (n < 52)
    return -1;
  ss = fvx_le32(p + 36);
  if (ss == 0)
    ss = 512;
  if (ss < 512 || ss > 65536 || (ss & (ss - 1)) != 0)
    return -1;
  r->handle = fvx_le64(p + 8);
  r->type = fvx_le32(p + 16);
  r->flags = fvx_le32(p + 20);
  r->info.capacity = fvx_le64(p + 28);
  r->info.sector_size = ss;
  r->info.cylinders = fvx_le32(p + 40);
  r->info.heads = fvx_le32(p + 44);
  r->info.sectors = fvx_le32(p + 48);
  return 0;
}

/* §3.2 type 13 reply: ceil(n/8) bytes rounded up to a multiple of 4. */
uint64_t nfc_bitmap_wire_len(uint64_t count)
{
  return ((count + 7) / 8 + 3) / 4 * 4;
}

/*
 * ERROR payloads -- ASSUMPTION (§5.1: layout and code table unknown; the
 * sheet reports an unattributed mock guessing "code, 0, text length").
 * We read:
 *   @0  u32 code (0x0b = VIX_E_FILE_READ_ONLY, §1 "Read-write", §3.2)
 *   @4  u32 0
 *   @8  u32 text length L
 *   @12 L bytes of text, inside the payload -- or, when they do not fit and
 *       nfc_options.error_text_inline is not set, as an extra after it
 *       (§3.2: an extra's length is inside the payload, not in size).
 * Anything that does not look like that is decoded defensively: a payload
 * of 4..11 bytes gives a code only; failing a structured text, the longest
 * printable run of 8+ bytes is kept as the text.  The status is
 * NFC_E_READONLY for 0x0b and NFC_E_SERVER otherwise, refined by two text
 * hints (also guesses): "lock" or "NfcFssrvrOpen" (§3.2 Errors) ->
 * NFC_E_LOCKED, "not found" / "no such
 * file" -> NFC_E_NOTFOUND.  docs/nfc.md "ERROR payload" says how a host
 * capture would settle this.
 */
#define NFC_ERR_TEXT_AT 12u

uint32_t nfc_error_extra_len(const uint8_t *p, size_t n)
{
  uint32_t len;

  if (n < NFC_ERR_TEXT_AT)
    return 0;
  len = fvx_le32(p + 8);
  if (len <= n - NFC_ERR_TEXT_AT || len > NFC_REPLY_PAYLOAD_MAX)
    return 0;
  return len;
}

/* Copies the printable part of [s, s+n) into out (cap bytes): stops at a
 * NUL, turns other control bytes into spaces, trims the ends. */
static void keep_text(char *out, size_t cap, const uint8_t *s, size_t n)
{
  size_t o = 0;

  for (size_t i = 0; i < n && o + 1 < cap && s[i]; i++)
    out[o++] = (s[i] < 0x20 || s[i] == 0x7f) ? ' ' : (char)s[i];
  while (o > 0 && out[o - 1] == ' ')
    o--;
  out[o] = '\0';
  if (!fvx_utf8_valid(out, o)) {
    for (size_t i = 0; i < o; i++)
      if ((unsigned char)out[i] >= 0x80)
        out[i] = '?';
  }
  if (out[0] == ' ') {
    size_t k = strspn(out, " ");

    memmove(out, out + k, o - k + 1);
  }
}

/* The longest run of printable ASCII in [p, p+n), when >= 8 bytes. */
static void longest_printable(char *out, size_t cap, const uint8_t *p,
                              size_t n)
{
  size_t best = 0, best_at = 0, run = 0;

  for (size_t i = 0; i <= n; i++) {
    if (i < n && p[i] >= 0x20 && p[i] < 0x7f) {
      run++;
      continue;
    }
    if (run > best) {
      best = run;
      best_at = i - run;
    }
    run = 0;
  }
  if (best >= 8)
    keep_text(out, cap, p + best_at, best);
}

static bool contains_ci(const char *hay, const char *needle)
{
  size_t n = strlen(needle);

  for (; *hay; hay++)
    if (strncasecmp(hay, needle, n) == 0)
      return true;
  return false;
}

int nfc_error_decode(const uint8_t *p, size_t n, const uint8_t *extra,
                     size_t extra_n, struct nfc_error *err)
{
  uint32_t len;

  err->server_code = n >= 4 ? fvx_le32(p) : 0;
  err->server_msg[0] = '\0';
  if (n >= NFC_ERR_TEXT_AT) {
    len = fvx_le32(p + 8);
    if (len > 0 && len <= n - NFC_ERR_TEXT_AT)
      keep_text(err->server_msg, sizeof err->server_msg,
                p + NFC_ERR_TEXT_AT, len);
    else if (len > 0 && extra && extra_n == len)
      keep_text(err->server_msg, sizeof err->server_msg, extra, extra_n);
  }
  if (!err->server_msg[0])
    longest_printable(err->server_msg, sizeof err->server_msg, p, n);
  if (err->server_code == NFC_ERR_CODE_READONLY)
    return NFC_E_READONLY;
  /* §3.2 Errors: a powered-on VM's disk is refused at open with an
   * "NfcFssrvrOpen" permission error. */
  if (contains_ci(err->server_msg, "lock") ||
      contains_ci(err->server_msg, "NfcFssrvrOpen"))
    return NFC_E_LOCKED;
  if (contains_ci(err->server_msg, "not found") ||
      contains_ci(err->server_msg, "no such file"))
    return NFC_E_NOTFOUND;
  return NFC_E_SERVER;
}

/* §2.3: replies are "<3-digit code> <text>". */
int nfc_line_code(const char *line)
{
  if (!isdigit((unsigned char)line[0]) || !isdigit((unsigned char)line[1]) ||
      !isdigit((unsigned char)line[2]))
    return -1;
  if (line[3] != '\0' && line[3] != ' ' && line[3] != '-')
    return -1;
  return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

/* §2.1: ESXi 8's banner ends "..., SHA256 supported"; 6.5-7 leave it out. */
bool nfc_banner_sha256(const char *banner)
{
  return strstr(banner, "SHA256 supported") != NULL;
}

/* §2.3 "Other replies": 501 for bad arguments, 530 for refused logins. */
int nfc_line_expect(const char *line, int want, const char *what,
                    struct nfc_error *err)
{
  int code = nfc_line_code(line);

  if (code == want)
    return NFC_OK;
  keep_text(err->server_msg, sizeof err->server_msg, (const uint8_t *)line,
            strlen(line));
  if (code == 530)
    return nfc_fail(err, NFC_E_AUTH, "authd refused %s: %s", what,
                    err->server_msg);
  if (code == 501)
    return nfc_fail(err, NFC_E_ARG, "authd rejected the arguments of %s: %s",
                    what, err->server_msg);
  return nfc_fail(err, NFC_E_PROTOCOL,
                  "unexpected authd answer to %s (wanted %d): %s", what, want,
                  err->server_msg[0] ? err->server_msg : "(empty line)");
}
