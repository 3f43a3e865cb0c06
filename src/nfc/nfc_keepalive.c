/*
 * nfc_keepalive.c -- keeps an idle connection open (reference/nfc.md §4
 * Timeouts: "the host may close idle disks; read sector 0 periodically as
 * a keep-alive"; no NFC keep-alive message is known).
 *
 * DESIGN: a timer thread per connection, only when keepalive_ms > 0.  A
 * read "before the next request" would come too late -- by then the host
 * has already closed the idle disk -- so the thread wakes when the
 * connection has seen no request for keepalive_ms and reads sector 0
 * through the normal engine, like any caller.  A failed keep-alive read
 * kills the connection as any failed read does; the next caller sees it.
 */
#include "nfc/nfc_internal.h"

#include <stdlib.h>

#include "util/clock.h"
#include "util/log.h"

static void *keepalive_main(void *arg)
{
  struct nfc_conn *c = arg;
  uint8_t *sector = malloc(c->info.sector_size);

  pthread_mutex_lock(&c->mu);
  while (!c->ka_stop) {
    int64_t due = c->last_activity + c->o.keepalive_ms;

    if (sector && !c->dead && c->in_flight == 0 && fvx_now_ms() >= due) {
      struct nfc_error e;

      pthread_mutex_unlock(&c->mu);
      if (nfc_read(c, 0, sector, c->info.sector_size, &e) != NFC_OK)
        fvx_debug("nfc: keep-alive read failed: %s", e.detail);
      pthread_mutex_lock(&c->mu);
      continue;
    }
    if (c->dead || c->in_flight > 0 || !sector)
      due = fvx_now_ms() + c->o.keepalive_ms;
    nfc_cond_wait_until(&c->ka_cv, &c->mu, due);
  }
  pthread_mutex_unlock(&c->mu);
  free(sector);
  return NULL;
}

int nfc_keepalive_start(struct nfc_conn *c, struct nfc_error *err)
{
  if (c->o.keepalive_ms <= 0)
    return NFC_OK;
  c->ka_stop = false;
  if (pthread_create(&c->ka_thread, NULL, keepalive_main, c) != 0)
    return nfc_fail(err, NFC_E_NOMEM, "cannot start the keep-alive thread");
  c->ka_running = true;
  return NFC_OK;
}

void nfc_keepalive_stop(struct nfc_conn *c)
{
  if (!c->ka_running)
    return;
  pthread_mutex_lock(&c->mu);
  c->ka_stop = true;
  pthread_cond_signal(&c->ka_cv);
  pthread_mutex_unlock(&c->mu);
  pthread_join(c->ka_thread, NULL);
  c->ka_running = false;
}
