/*
 * nfc_line.c -- fuzzes the NFC client's pure parsers (src/nfc/nfc_wire.c,
 * nfc_net.c, nfc_compress.c): authd reply lines and banners, ERROR
 * payloads (the §5.1 guess), OPEN_FILE replies, CONNECT_TO lists and the
 * three decompressors, all on the same hostile bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nfc/nfc_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char *line = malloc(size + 1), addr[64];
  static uint8_t out[65536];
  struct nfc_error e;
  struct nfc_open_reply r;
  unsigned port;
  size_t out_len;

  if (!line)
    return 0;
  memcpy(line, data, size);
  line[size] = '\0';
  nfc_error_clear(&e);
  nfc_line_code(line);
  nfc_banner_sha256(line);
  nfc_line_expect(line, 200, "PROXY", &e);
  nfc_connect_to_lookup(line, "esx.example", 902, addr, sizeof addr, &port);
  nfc_error_extra_len(data, size);
  nfc_error_decode(data, size, data, size, &e);
  nfc_open_reply_get(&r, data, size);
  /* the first two bytes give the decompressed length */
  out_len = size >= 2 ? ((size_t)data[0] | (size_t)data[1] << 8) + 1 : 1;
  for (int comp = NFC_COMP_NONE; comp <= NFC_COMP_SKIPZ; comp++)
    nfc_decompress((enum nfc_compression)comp, data, size, out, out_len);
  free(line);
  return 0;
}
