/*
 * test_nfc_wire.c -- the pure parts of the NFC client: the compressions
 * (hand-made FastLZ and SkipZ blocks from their format descriptions, and
 * round trips), the CONNECT_TO lookup, authd reply lines, the ERROR payload
 * guess, the OPEN_FILE reply and the bitmap length (reference/nfc.md §2,
 * §3.2).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nfc/nfc_internal.h"

/* ---- FastLZ level 1 ----------------------------------------------------- */

static void test_fastlz_vectors(void **state)
{
  /* literal "abc", then a long copy of 9 from 3 back: 111 00000, 9-9, 3-1 */
  static const uint8_t abc[] = {0x02, 'a', 'b', 'c', 0xe0, 0x00, 0x02};
  /* literal "a", then a short copy of 5 from 1 back: (5-2)<<5, 1-1 */
  static const uint8_t run[] = {0x00, 'a', 0x60, 0x00};
  /* a copy from before the start */
  static const uint8_t far[] = {0x00, 'a', 0x20, 0x05};
  /* a level-2 block (first byte 001xxxxx) */
  static const uint8_t lvl2[] = {0x20, 'a'};
  /* a literal run longer than the input */
  static const uint8_t cut[] = {0x05, 'a', 'b'};
  uint8_t out[16];

  (void)state;
  assert_int_equal(nfc_decompress(NFC_COMP_FASTLZ, abc, sizeof abc, out, 12),
                   0);
  assert_memory_equal(out, "abcabcabcabc", 12);
  assert_int_equal(nfc_decompress(NFC_COMP_FASTLZ, run, sizeof run, out, 6),
                   0);
  assert_memory_equal(out, "aaaaaa", 6);
  /* exact length only */
  assert_int_equal(nfc_decompress(NFC_COMP_FASTLZ, run, sizeof run, out, 7),
                   -1);
  assert_int_equal(nfc_decompress(NFC_COMP_FASTLZ, run, sizeof run, out, 5),
                   -1);
  assert_int_equal(nfc_decompress(NFC_COMP_FASTLZ, far, sizeof far, out, 4),
                   -1);
  assert_int_equal(nfc_decompress(NFC_COMP_FASTLZ, lvl2, sizeof lvl2, out, 1),
                   -1);
  assert_int_equal(nfc_decompress(NFC_COMP_FASTLZ, cut, sizeof cut, out, 6),
                   -1);
}

static void test_skipz_vectors(void **state)
{
  /* total 16, 0, then a run of 2 bytes at 4 */
  static const uint8_t one[] = {16, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 0,
                                2,  0, 0, 0, 0xaa, 0xbb};
  static const uint8_t past[] = {16, 0, 0, 0, 0, 0, 0, 0, 15, 0, 0, 0,
                                 2,  0, 0, 0, 0xaa, 0xbb};
  uint8_t out[16], want[16] = {0};

  (void)state;
  want[4] = 0xaa;
  want[5] = 0xbb;
  memset(out, 0x11, sizeof out);
  assert_int_equal(nfc_decompress(NFC_COMP_SKIPZ, one, sizeof one, out, 16),
                   0);
  assert_memory_equal(out, want, 16);
  /* all zeros: the 8-byte header alone */
  assert_int_equal(nfc_decompress(NFC_COMP_SKIPZ, one, 8, out, 16), 0);
  assert_int_equal(out[4], 0);
  assert_int_equal(nfc_decompress(NFC_COMP_SKIPZ, one, sizeof one, out, 15),
                   -1); /* total differs */
  assert_int_equal(nfc_decompress(NFC_COMP_SKIPZ, past, sizeof past, out, 16),
                   -1);
  assert_int_equal(nfc_decompress(NFC_COMP_SKIPZ, one, sizeof one - 1, out,
                                  16), -1);
}

static void fill(uint8_t *p, size_t n, int kind)
{
  uint32_t x = 12345;

  for (size_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    switch (kind) {
    case 0: p[i] = 0; break;
    case 1: p[i] = (uint8_t)(x >> 7); break;                 /* noise */
    case 2: p[i] = (uint8_t)"a sector of text, "[i % 18]; break;
    case 3: p[i] = (i / 700) % 3 ? 0 : (uint8_t)(x >> 9); break; /* sparse */
    default: p[i] = (uint8_t)(i % 251 < 3 ? x : i / 4096); break;
    }
  }
}

/* Every encoder round-trips, keeps only results that shrink, and the
 * FastLZ encoder never copies from farther than 8192 or longer than 264
 * (checked by the decoder's bounds: it refuses what it cannot place). */
static void test_roundtrips(void **state)
{
  static const size_t sizes[] = {1, 2, 3, 4, 31, 32, 33, 300, 4096, 65536,
                                 1u << 20};

  (void)state;
  for (int comp = NFC_COMP_ZLIB; comp <= NFC_COMP_SKIPZ; comp++)
    for (int kind = 0; kind < 5; kind++)
      for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        size_t n = sizes[s], c;
        uint8_t *src = malloc(n), *dst = malloc(n), *back = malloc(n);

        fill(src, n, kind);
        c = nfc_compress((enum nfc_compression)comp, src, n, dst, n);
        assert_true(c < n);
        if (c) {
          assert_int_equal(nfc_decompress((enum nfc_compression)comp, dst, c,
                                          back, n), 0);
          assert_memory_equal(back, src, n);
          if (comp == NFC_COMP_FASTLZ)
            assert_int_equal(dst[0] >> 5, 0); /* a level-1 block */
        }
        /* what must shrink does (SkipZ only drops zeros) */
        if (n >= 4096 && (kind == 0 || kind == 3 ||
                          (kind == 2 && comp != NFC_COMP_SKIPZ)))
          assert_true(c > 0 && c < n * 3 / 4);
        if (n >= 4096 && kind == 1)
          assert_int_equal(c, 0);
        /* too small a buffer: no result rather than an overflow */
        assert_int_equal(nfc_compress((enum nfc_compression)comp, src, n,
                                      dst, 4), 0);
        free(src);
        free(dst);
        free(back);
      }
}

/* ---- CONNECT_TO --------------------------------------------------------- */

static void test_connect_to(void **state)
{
  char a[64];
  unsigned p = 0;

  (void)state;
  assert_int_equal(nfc_connect_to_lookup("h:1:x:2", "h", 1, a, sizeof a, &p),
                   1);
  assert_string_equal(a, "x");
  assert_int_equal(p, 2);
  assert_int_equal(nfc_connect_to_lookup("H:1:x:2", "h", 1, a, sizeof a, &p),
                   1); /* host names are case-insensitive */
  assert_int_equal(nfc_connect_to_lookup("h:1:x:2", "h", 3, a, sizeof a, &p),
                   0);
  assert_int_equal(nfc_connect_to_lookup(":902:127.0.0.1:", "esx", 902, a,
                                         sizeof a, &p), 1);
  assert_string_equal(a, "127.0.0.1");
  assert_int_equal(p, 902);
  assert_int_equal(nfc_connect_to_lookup("h:1::", "h", 1, a, sizeof a, &p), 1);
  assert_string_equal(a, "h");
  assert_int_equal(nfc_connect_to_lookup("[::1]:902:[fe80::2]:903", "::1",
                                         902, a, sizeof a, &p), 1);
  assert_string_equal(a, "fe80::2");
  assert_int_equal(p, 903);
  assert_int_equal(nfc_connect_to_lookup("a:1:b:2, c:3:d:4", "c", 3, a,
                                         sizeof a, &p), 1);
  assert_string_equal(a, "d");
  assert_int_equal(nfc_connect_to_lookup("a:1:b", "a", 1, a, sizeof a, &p),
                   -1);
  assert_int_equal(nfc_connect_to_lookup("a:x:b:2", "a", 1, a, sizeof a, &p),
                   -1);
  assert_int_equal(nfc_connect_to_lookup("[::1:902:b:2", "::1", 902, a,
                                         sizeof a, &p), -1);
  assert_int_equal(nfc_connect_to_lookup("a:1:b:2:3", "a", 1, a, sizeof a,
                                         &p), -1);
  assert_int_equal(nfc_connect_to_lookup("a:1:b:99999", "a", 1, a, sizeof a,
                                         &p), -1);
  assert_int_equal(nfc_connect_to_lookup(NULL, "a", 1, a, sizeof a, &p), 0);
}

/* ---- authd lines -------------------------------------------------------- */

static void test_lines(void **state)
{
  struct nfc_error e;

  (void)state;
  assert_int_equal(nfc_line_code("220 VMware Authentication Daemon"), 220);
  assert_int_equal(nfc_line_code("200"), 200);
  assert_int_equal(nfc_line_code("20"), -1);
  assert_int_equal(nfc_line_code("2000 x"), -1);
  assert_int_equal(nfc_line_code(""), -1);
  assert_true(nfc_banner_sha256("220 ... NFCSSL supported/t, SHA256 "
                                "supported"));
  assert_false(nfc_banner_sha256("220 ... NFCSSL supported/t"));
  nfc_error_clear(&e);
  assert_int_equal(nfc_line_expect("200 Connect ha-nfc", 200, "PROXY", &e),
                   NFC_OK);
  assert_int_equal(nfc_line_expect("530 Login incorrect", 200, "PROXY", &e),
                   NFC_E_AUTH);
  assert_string_equal(e.server_msg, "530 Login incorrect");
  assert_int_equal(nfc_line_expect("501 Invalid arguments", 200, "PROXY", &e),
                   NFC_E_ARG);
  assert_int_equal(nfc_line_expect("garbage\x01", 220, "BANNER", &e),
                   NFC_E_PROTOCOL);
  assert_string_equal(e.server_msg, "garbage");
}

/* ---- ERROR payloads (the §5.1 guess) ------------------------------------ */

static void test_error_decode(void **state)
{
  uint8_t p[64];
  struct nfc_error e;

  (void)state;
  memset(p, 0, sizeof p);
  fvx_put_le32(p, 0x0b);
  fvx_put_le32(p + 8, 9);
  memcpy(p + 12, "read-only", 9);
  nfc_error_clear(&e);
  assert_int_equal(nfc_error_decode(p, 21, NULL, 0, &e), NFC_E_READONLY);
  assert_int_equal(e.server_code, 0x0b);
  assert_string_equal(e.server_msg, "read-only");
  assert_int_equal(nfc_error_extra_len(p, 21), 0);
  /* the text announced but not in the payload: an extra, when allowed */
  assert_int_equal(nfc_error_extra_len(p, 12), 9);
  fvx_put_le32(p, 5);
  assert_int_equal(nfc_error_decode(p, 12, (const uint8_t *)"File is locked",
                                    9, &e), NFC_E_SERVER);
  fvx_put_le32(p + 8, 14);
  assert_int_equal(nfc_error_decode(p, 12, (const uint8_t *)"File is locked",
                                    14, &e), NFC_E_LOCKED);
  assert_string_equal(e.server_msg, "File is locked");
  /* a code alone */
  assert_int_equal(nfc_error_decode(p, 4, NULL, 0, &e), NFC_E_SERVER);
  assert_int_equal(e.server_code, 5);
  assert_string_equal(e.server_msg, "");
  /* no structure: the longest printable run */
  memset(p, 0xff, sizeof p);
  memcpy(p + 20, "No such file here", 17);
  assert_int_equal(nfc_error_decode(p, 40, NULL, 0, &e), NFC_E_NOTFOUND);
  assert_string_equal(e.server_msg, "No such file here");
  assert_int_equal(nfc_error_decode(p, 0, NULL, 0, &e), NFC_E_SERVER);
  assert_int_equal(e.server_code, 0);
}

static void test_open_reply(void **state)
{
  uint8_t p[60];
  struct nfc_open_reply r;

  (void)state;
  memset(p, 0, sizeof p);
  fvx_put_le64(p + 8, 42);
  fvx_put_le64(p + 28, 0x123456789aull); /* unaligned */
  fvx_put_le32(p + 40, 1);
  fvx_put_le32(p + 44, 2);
  fvx_put_le32(p + 48, 3);
  assert_int_equal(nfc_open_reply_get(&r, p, sizeof p), 0);
  assert_int_equal(r.handle, 42);
  assert_int_equal(r.info.capacity, 0x123456789aull);
  assert_int_equal(r.info.sector_size, 512);
  assert_int_equal(r.info.cylinders, 1);
  assert_int_equal(r.info.sectors, 3);
  fvx_put_le32(p + 36, 4096);
  assert_int_equal(nfc_open_reply_get(&r, p, 52), 0);
  assert_int_equal(r.info.sector_size, 4096);
  fvx_put_le32(p + 36, 1000);
  assert_int_equal(nfc_open_reply_get(&r, p, sizeof p), -1);
  assert_int_equal(nfc_open_reply_get(&r, p, 51), -1);
  assert_int_equal(nfc_bitmap_wire_len(1), 4);
  assert_int_equal(nfc_bitmap_wire_len(32), 4);
  assert_int_equal(nfc_bitmap_wire_len(33), 8);
  assert_int_equal(nfc_bitmap_wire_len(0), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_fastlz_vectors),
      cmocka_unit_test(test_skipz_vectors),
      cmocka_unit_test(test_roundtrips),
      cmocka_unit_test(test_connect_to),
      cmocka_unit_test(test_lines),
      cmocka_unit_test(test_error_decode),
      cmocka_unit_test(test_open_reply),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
