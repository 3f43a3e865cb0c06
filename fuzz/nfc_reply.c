/*
 * nfc_reply.c -- fuzzes the AIO reply decoder (src/nfc/nfc_aio.c): the
 * input after its first byte is what the "host" sends on a socket pair,
 * then it hangs up; the first byte picks the request the client makes
 * (read, DDB_GET, allocated blocks, write), the compression it asks and
 * whether ERROR texts may come as an extra.  Whatever the bytes, the call
 * must end (EOF comes at once) without a crash or a leak.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nfc/nfc_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static uint8_t buf[8192];
  struct nfc_options o;
  struct nfc_disk_info info = {1u << 20, 512, 16, 4, 32};
  struct nfc_conn *c;
  struct nfc_error e;
  int sv[2];
  char value[64];
  bool found;

  if (size < 1 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
    return 0;
  for (size_t off = 1; off < size;) {
    ssize_t w = write(sv[1], data + off, size - off);

    if (w <= 0)
      break;
    off += (size_t)w;
  }
  shutdown(sv[1], SHUT_WR);
  memset(&o, 0, sizeof o);
  o.io_timeout_ms = 1000;
  o.close_reply_ms = 100;
  o.buffer_size = 64 * 1024;
  o.compression = (enum nfc_compression)((data[0] >> 2) & 3);
  o.error_text_inline = (data[0] & 16) != 0;
  if (nfc_conn_attach(&c, sv[0], &o, 7, &info, true, &e) != NFC_OK) {
    close(sv[1]);
    return 0;
  }
  switch (data[0] & 3) {
  case 0:
    if (nfc_read(c, 0, buf, sizeof buf, &e) == NFC_OK)
      nfc_read(c, 512, buf, 512, &e);
    break;
  case 1:
    nfc_ddb_get(c, "uuid", value, sizeof value, &found, &e);
    break;
  case 2:
    nfc_allocated(c, 65536, 0, 16, buf, &e);
    break;
  default:
    memset(buf, 0x5a, 4096);
    nfc_write(c, 0, buf, 4096, &e);
    break;
  }
  nfc_close(c);
  close(sv[1]);
  return 0;
}
