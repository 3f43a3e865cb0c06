/*
 * nfc_authd.c -- the VMware authentication daemon handshake on port 902
 * (reference/nfc.md §2), from the plaintext banner to the byte stream NFC
 * runs on.
 *
 *   S: 220 banner                    plaintext (§2.1)
 *   C/S: TLS handshake               at once, both transports, pinned (§2.2)
 *   C: SESSION <sessionId>           no answer: do not wait (§2.3)
 *   C: BANNER_                       S: 220 banner
 *   C: THUMBPRINT_SHA2 PlainText     only when that banner says "SHA256
 *                                    supported"; S: 200 <SHA-256>
 *   C: PROXY <service>[ssl]          S: 200 Connect <endpoint>
 *   nbd:    drop TLS (no close_notify), NFC raw on the socket (§2.4)
 *   nbdssl: drop TLS, a second TLS handshake on the socket, pinned too
 *
 * Each line is its own write and, except SESSION, waits for its answer
 * before the next is sent (§5.8: pipelined lines are not known to work).
 * The session id is a secret: it is sent once and wiped, never logged.
 */
#include "nfc/nfc_internal.h"

#include <stdio.h>
#include <string.h>

#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/text.h"

/* Sends one CRLF line as one write. */
static int send_line(struct nfc_stream *s, const char *text, long timeout_ms,
                     const char *what, struct nfc_error *err)
{
  char buf[NFC_LINE_MAX];
  int n = snprintf(buf, sizeof buf, "%s\r\n", text);
  int st;

  if (n < 0 || (size_t)n >= sizeof buf)
    return nfc_fail(err, NFC_E_ARG, "%s line too long", what);
  st = nfc_stream_write_full(s, buf, (size_t)n, fvx_now_ms() + timeout_ms,
                             what, err);
  fvx_wipe(buf, sizeof buf);
  return st;
}

/* Reads one answer line and checks its code. */
static int expect_line(struct nfc_stream *s, char *line, int want,
                       long timeout_ms, const char *what,
                       struct nfc_error *err)
{
  int st = nfc_stream_read_line(s, line, NFC_LINE_MAX,
                                fvx_now_ms() + timeout_ms, what, err);

  if (st != NFC_OK)
    return st;
  return nfc_line_expect(line, want, what, err);
}

int nfc_authd(struct nfc_stream *s, const struct nfc_ticket *t,
              const struct nfc_options *o, struct nfc_error *err)
{
  char line[NFC_LINE_MAX], cmd[NFC_LINE_MAX];
  long io = o->io_timeout_ms;
  bool ssl = o->transport == NFC_NBDSSL;
  int st;

  /* §2.1 the plaintext banner */
  st = expect_line(s, line, 220, io, "the authd banner", err);
  if (st != NFC_OK)
    return st;
  /* §2.2 TLS at once, pinned to the ticket's thumbprint */
  st = nfc_tls_start(s, t->ssl_thumbprint, false, o->ca_file, o->legacy_tls,
                     fvx_now_ms() + o->connect_timeout_ms, err);
  if (st != NFC_OK)
    return st;
  /* §2.3 the commands */
  snprintf(cmd, sizeof cmd, "SESSION %s", t->session_id);
  st = send_line(s, cmd, io, "SESSION", err);
  fvx_wipe(cmd, sizeof cmd);
  if (st != NFC_OK)
    return st;
  st = send_line(s, "BANNER ", io, "BANNER", err);
  if (st == NFC_OK)
    st = expect_line(s, line, 220, io, "BANNER", err);
  if (st != NFC_OK)
    return st;
  /* The banner inside TLS decides (it is the authenticated copy). */
  if (nfc_banner_sha256(line)) {
    st = send_line(s, "THUMBPRINT_SHA2 PlainText", io, "THUMBPRINT_SHA2",
                   err);
    if (st == NFC_OK)
      st = expect_line(s, line, 200, io, "THUMBPRINT_SHA2", err);
    if (st != NFC_OK)
      return st;
  }
  snprintf(cmd, sizeof cmd, "PROXY %s%s", t->service, ssl ? "ssl" : "");
  st = send_line(s, cmd, io, "PROXY", err);
  if (st == NFC_OK)
    st = expect_line(s, line, 200, io, "PROXY", err);
  if (st != NFC_OK)
    return st;
  /* §2.3: "200 Connect <endpoint>"; the endpoint is not checked (§5.6:
   * nbdssl's answer on ESXi was not recorded). */
  if (strncmp(line, "200 Connect", 11) != 0) {
    fvx_strlcpy(err->server_msg, line, sizeof err->server_msg);
    return nfc_fail(err, NFC_E_PROTOCOL, "PROXY answered without Connect: "
                    "%s", line);
  }
  fvx_debug("nfc: %s: %s", s->peer, line);
  /* §2.4 */
  nfc_tls_drop(s);
  if (!ssl)
    return NFC_OK;
  return nfc_tls_start(s, o->second_tls_unpinned ? NULL : t->ssl_thumbprint,
                       o->second_tls_unpinned, o->ca_file, o->legacy_tls,
                       fvx_now_ms() + o->connect_timeout_ms, err);
}
