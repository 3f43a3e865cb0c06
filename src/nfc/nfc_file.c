/*
 * nfc_file.c -- an NFC connection as a disk_file (disk/file.h): the disk's
 * logical bytes, read (and written) through the host, which interprets the
 * VMDK chain itself.
 *
 * CONNECTIONS.  The file holds one connection at a time behind a small
 * reference count, so concurrent readers (DISK_FILE_CONCURRENT) share its
 * pipeline.  When a read or an allocation query finds the connection dead
 * (lost, timed out, malformed), the file fetches a new ticket through the
 * caller's callback (one ticket per connection, §1 "Ticket use"), opens a
 * new connection and retries, at most max_reconnects times per call; the
 * old connection is freed when its last user leaves.  A write is never
 * retried: a write in flight when the connection died may or may not have
 * reached the disk, so it fails and the caller decides.
 *
 * ALLOCATION.  allocated() asks type 13 (§3.2) in chunks of
 * NFC_FILE_ALLOC_CHUNK.  Partial chunks at either end answer with the
 * chunk's state (a false positive at worst); the tail past the last whole
 * chunk reports allocated.  After this file has written anything, every
 * range reports allocated: the sheet says a query on the write handle can
 * miss the write (§4 "Allocation after a write"), and false negatives are
 * not allowed.
 *
 * Statuses map to DISK_E_* with the host's message in the detail
 * (disk/error.h); the session id never appears.
 */
#include "nfc/nfc_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk/disk.h"
#include "disk/error.h"
#include "disk/file.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/text.h"

/* type-13 chunk of allocated(): 64 KiB (our choice; any sector multiple
 * works) and how many chunks one query asks (a 512-byte bitmap). */
#define NFC_FILE_ALLOC_CHUNK (64u * 1024u)
#define NFC_FILE_ALLOC_WINDOW 4096u
/* Unaligned reads go through a bounce buffer this large at a time. */
#define NFC_FILE_BOUNCE (1024u * 1024u)
#define NFC_FILE_RECONNECTS_DEFAULT 2u

/* The ddb keys GetInfo needs (§3.2 DDB_GET), read once at open. */
static const char *const ddb_keys[] = {
    "geometry.biosCylinders", "geometry.biosHeads", "geometry.biosSectors",
    "adapterType", "uuid"};
#define NFC_FILE_NKEYS (sizeof ddb_keys / sizeof ddb_keys[0])

struct nfc_ref {
  struct nfc_conn *c;
  unsigned users;
  bool retired;
};

struct nfc_file {
  struct disk_file base; /* first, as file.h asks */
  struct nfc_options o;
  char *default_host, *connect_to, *ca_file;
  char *path;
  bool writable;
  nfc_ticket_fn *ticket;
  void *ticket_opaque;
  unsigned max_reconnects;

  pthread_mutex_t mu;        /* cur, writes, wrote */
  pthread_cond_t cv;         /* writes drained */
  pthread_mutex_t reconnect; /* one reconnect at a time */
  struct nfc_ref *cur;
  unsigned writes;
  bool wrote;
  struct nfc_disk_info info;
  char *ddb[NFC_FILE_NKEYS];
};

static const struct disk_file_ops nfc_file_ops_ro, nfc_file_ops_rw;

/* ---- statuses ----------------------------------------------------------- */

static int disk_status_of(int st)
{
  switch (st) {
  case NFC_OK: return DISK_OK;
  case NFC_E_NOMEM: return DISK_E_NOMEM;
  case NFC_E_ARG: return DISK_E_ARG;
  case NFC_E_RESOLVE: return DISK_E_NET_RESOLVE;
  case NFC_E_CONNECT: return DISK_E_NET_CONNECT;
  case NFC_E_TLS: return DISK_E_NET_TLS;
  case NFC_E_PIN: return DISK_E_NET_PIN;
  case NFC_E_TIMEOUT: return DISK_E_NET_TIMEOUT;
  case NFC_E_AUTH: return DISK_E_AUTH;
  case NFC_E_PROTOCOL: return DISK_E_NET_PROTOCOL;
  case NFC_E_SERVER: return DISK_E_REMOTE;
  case NFC_E_READONLY: return DISK_E_READONLY;
  case NFC_E_LOCKED: return DISK_E_LOCKED;
  case NFC_E_NOTFOUND: return DISK_E_NOTFOUND;
  case NFC_E_RANGE: return DISK_E_RANGE;
  }
  return DISK_E_IO;
}

/* Records e for the disk layer: "<path>: <what>: <detail> (host: <msg>)". */
static int fail(const struct nfc_file *f, const struct nfc_error *e,
                const char *what)
{
  int ds = disk_status_of(e->status);

  if (e->server_msg[0] && !strstr(e->detail, e->server_msg))
    return disk_fail(ds, "%s: %s: %s (host: %s)", f->path, what, e->detail,
                     e->server_msg);
  return disk_fail(ds, "%s: %s: %s", f->path, what, e->detail);
}

/* ---- connections -------------------------------------------------------- */

/* A new ticket and a new connection. */
static int open_conn(struct nfc_file *f, struct nfc_conn **out,
                     struct nfc_disk_info *info, struct nfc_error *e)
{
  struct nfc_ticket t;
  struct nfc_options o = f->o;
  int st;

  memset(&t, 0, sizeof t);
  nfc_error_clear(e);
  if (f->ticket(f->ticket_opaque, &t, e) != 0) {
    fvx_wipe(&t, sizeof t);
    if (e->status == NFC_OK)
      nfc_fail(e, NFC_E_AUTH, "no NFC ticket");
    return e->status;
  }
  o.default_host = f->default_host;
  o.connect_to = f->connect_to;
  o.ca_file = f->ca_file;
  st = nfc_open(out, &t, &o, f->path, f->writable, info, e);
  fvx_wipe(&t, sizeof t);
  return st;
}

static struct nfc_ref *acquire(struct nfc_file *f)
{
  struct nfc_ref *r;

  pthread_mutex_lock(&f->mu);
  r = f->cur;
  r->users++;
  pthread_mutex_unlock(&f->mu);
  return r;
}

static void release(struct nfc_file *f, struct nfc_ref *r)
{
  bool free_it;

  pthread_mutex_lock(&f->mu);
  free_it = --r->users == 0 && r->retired;
  pthread_mutex_unlock(&f->mu);
  if (free_it) {
    nfc_close(r->c);
    free(r);
  }
}

/* Replaces the dead connection of old (unless another thread already did)
 * with a new one for a new ticket. */
static int reconnect(struct nfc_file *f, struct nfc_ref *old,
                     struct nfc_error *e)
{
  struct nfc_ref *r;
  struct nfc_disk_info info;
  struct nfc_conn *c;
  int st = NFC_OK;

  pthread_mutex_lock(&f->reconnect);
  pthread_mutex_lock(&f->mu);
  r = f->cur;
  pthread_mutex_unlock(&f->mu);
  if (r != old)
    goto out; /* someone else reconnected */
  st = open_conn(f, &c, &info, e);
  if (st != NFC_OK)
    goto out;
  if (info.capacity != f->info.capacity ||
      info.sector_size != f->info.sector_size) {
    nfc_close(c);
    st = nfc_fail(e, NFC_E_PROTOCOL, "the disk changed across a reconnect "
                  "(%llu bytes, was %llu)", (unsigned long long)info.capacity,
                  (unsigned long long)f->info.capacity);
    goto out;
  }
  r = calloc(1, sizeof *r);
  if (!r) {
    nfc_close(c);
    st = nfc_fail(e, NFC_E_NOMEM, "no memory to reconnect");
    goto out;
  }
  r->c = c;
  pthread_mutex_lock(&f->mu);
  old->retired = true; /* the caller still uses it: freed at release */
  f->cur = r;
  pthread_mutex_unlock(&f->mu);
  fvx_debug("nfc: %s: reconnected with a new ticket", f->path);
out:
  pthread_mutex_unlock(&f->reconnect);
  return st;
}

/* Runs fn on the current connection; on a dead one, reconnects and
 * retries (at most max_reconnects times). */
typedef int conn_fn(struct nfc_conn *c, void *arg, struct nfc_error *e);

static int with_reconnect(struct nfc_file *f, conn_fn *fn, void *arg,
                          const char *what)
{
  for (unsigned tries = 0;; tries++) {
    struct nfc_ref *r = acquire(f);
    struct nfc_error e;
    int st;

    nfc_error_clear(&e);
    st = fn(r->c, arg, &e);
    if (st == NFC_OK) {
      release(f, r);
      return DISK_OK;
    }
    if (!nfc_conn_dead(r->c) || tries >= f->max_reconnects) {
      char label[80];

      release(f, r);
      snprintf(label, sizeof label, tries ? "%s after %u reconnects" : "%s",
               what, tries);
      return fail(f, &e, label);
    }
    st = reconnect(f, r, &e);
    release(f, r);
    if (st != NFC_OK)
      return fail(f, &e, "reconnect");
  }
}

/* ---- reads -------------------------------------------------------------- */

struct read_arg {
  uint64_t off;
  void *buf;
  size_t len;
};

static int read_fn(struct nfc_conn *c, void *arg, struct nfc_error *e)
{
  struct read_arg *a = arg;

  return nfc_read(c, a->off, a->buf, a->len, e);
}

static int nfc_file_pread(struct disk_file *df, void *buf, size_t len,
                          uint64_t off, size_t *got)
{
  struct nfc_file *f = (struct nfc_file *)df;
  uint64_t ss = f->info.sector_size;
  size_t in = off >= df->size ? 0
              : len < df->size - off ? len
                                     : (size_t)(df->size - off);
  uint8_t *bounce;
  int st = DISK_OK;

  memset((uint8_t *)buf + in, 0, len - in); /* past the end: zeros */
  if (got)
    *got = in;
  if (in == 0)
    return DISK_OK;
  if (off % ss == 0 && in % ss == 0) {
    struct read_arg a = {off, buf, in};

    return with_reconnect(f, read_fn, &a, "read");
  }
  bounce = malloc(NFC_FILE_BOUNCE + 2 * ss);
  if (!bounce)
    return disk_fail(DISK_E_NOMEM, "%s: no memory for an unaligned read",
                     f->path);
  for (size_t done = 0; done < in && st == DISK_OK;) {
    uint64_t at = off + done, a0 = at / ss * ss;
    size_t n = in - done < NFC_FILE_BOUNCE ? in - done : NFC_FILE_BOUNCE;
    uint64_t a1 = (at + n + ss - 1) / ss * ss;
    struct read_arg a = {a0, bounce, (size_t)(a1 - a0)};

    st = with_reconnect(f, read_fn, &a, "read");
    if (st == DISK_OK)
      memcpy((uint8_t *)buf + done, bounce + (at - a0), n);
    done += n;
  }
  free(bounce);
  return st;
}

/* ---- writes ------------------------------------------------------------- */

static int nfc_file_pwrite(struct disk_file *df, const void *buf, size_t len,
                           uint64_t off)
{
  struct nfc_file *f = (struct nfc_file *)df;
  struct nfc_ref *r;
  struct nfc_error e;
  int st;

  if (off % f->info.sector_size || len % f->info.sector_size)
    return disk_fail(DISK_E_ARG, "%s: NFC writes whole %u-byte sectors "
                     "(offset %llu, length %zu)", f->path,
                     f->info.sector_size, (unsigned long long)off, len);
  if (off > df->size || len > df->size - off)
    return disk_fail(DISK_E_RANGE, "%s: write past the capacity of %llu "
                     "bytes", f->path, (unsigned long long)df->size);
  pthread_mutex_lock(&f->mu);
  f->writes++;
  f->wrote = true;
  pthread_mutex_unlock(&f->mu);
  r = acquire(f);
  nfc_error_clear(&e);
  st = nfc_write(r->c, off, buf, len, &e);
  release(f, r);
  pthread_mutex_lock(&f->mu);
  f->writes--;
  pthread_cond_broadcast(&f->cv);
  pthread_mutex_unlock(&f->mu);
  if (st != NFC_OK)
    return fail(f, &e, "write (not retried)");
  return DISK_OK;
}

/* NFC has no flush message (§3.2): a write returns once the host has
 * acknowledged it, so sync waits for the writes still in flight. */
static int nfc_file_sync(struct disk_file *df)
{
  struct nfc_file *f = (struct nfc_file *)df;

  pthread_mutex_lock(&f->mu);
  while (f->writes > 0)
    nfc_cond_wait_until(&f->cv, &f->mu, fvx_now_ms() + 1000);
  pthread_mutex_unlock(&f->mu);
  return DISK_OK;
}

/* ---- allocation --------------------------------------------------------- */

struct alloc_arg {
  uint64_t start, count;
  uint8_t *bitmap;
};

static int alloc_fn(struct nfc_conn *c, void *arg, struct nfc_error *e)
{
  struct alloc_arg *a = arg;

  return nfc_allocated(c, NFC_FILE_ALLOC_CHUNK, a->start, a->count,
                       a->bitmap, e);
}

static int nfc_file_allocated(struct disk_file *df, uint64_t off, uint64_t len,
                              uint64_t *run, bool *allocated)
{
  struct nfc_file *f = (struct nfc_file *)df;
  uint8_t bitmap[NFC_FILE_ALLOC_WINDOW / 8];
  uint64_t chunk = NFC_FILE_ALLOC_CHUNK, full = df->size / chunk;
  uint64_t c0 = off / chunk, c_end, k;
  struct alloc_arg a;
  bool wrote, state;
  int st;

  pthread_mutex_lock(&f->mu);
  wrote = f->wrote;
  pthread_mutex_unlock(&f->mu);
  if (off >= df->size) {
    *run = len;
    *allocated = false; /* past the end: reads as zeros */
    return DISK_OK;
  }
  if (wrote || c0 >= full) {
    *run = wrote || len < df->size - off ? len : df->size - off;
    *allocated = true;
    return DISK_OK;
  }
  c_end = len > df->size - off ? full : (off + len + chunk - 1) / chunk;
  if (c_end > full)
    c_end = full;
  a.start = c0 * chunk;
  a.count = c_end - c0 < NFC_FILE_ALLOC_WINDOW ? c_end - c0
                                               : NFC_FILE_ALLOC_WINDOW;
  a.bitmap = bitmap;
  st = with_reconnect(f, alloc_fn, &a, "allocated-block query");
  if (st != DISK_OK)
    return st;
  /* §3.2 type 13: LSB first, 1 = allocated. */
  state = bitmap[0] & 1;
  for (k = 1; k < a.count; k++)
    if (((bitmap[k / 8] >> (k % 8)) & 1) != state)
      break;
  *allocated = state;
  *run = (c0 + k) * chunk - off < len ? (c0 + k) * chunk - off : len;
  return DISK_OK;
}

/* ---- life --------------------------------------------------------------- */

static void nfc_file_free(struct nfc_file *f)
{
  for (size_t i = 0; i < NFC_FILE_NKEYS; i++)
    free(f->ddb[i]);
  free(f->default_host);
  free(f->connect_to);
  free(f->ca_file);
  free(f->path);
  free(f->base.name);
  free(f);
}

static void nfc_file_close(struct disk_file *df)
{
  struct nfc_file *f = (struct nfc_file *)df;

  if (f->cur) {
    nfc_close(f->cur->c);
    free(f->cur);
  }
  pthread_cond_destroy(&f->cv);
  pthread_mutex_destroy(&f->mu);
  pthread_mutex_destroy(&f->reconnect);
  nfc_file_free(f);
}

/* file.h: pwrite and sync are NULL without CAN_WRITE / CAN_SYNC. */
static const struct disk_file_ops nfc_file_ops_ro = {
    .name = "nfc",
    .pread = nfc_file_pread,
    .allocated = nfc_file_allocated,
    .close = nfc_file_close,
};
static const struct disk_file_ops nfc_file_ops_rw = {
    .name = "nfc",
    .pread = nfc_file_pread,
    .pwrite = nfc_file_pwrite,
    .sync = nfc_file_sync,
    .allocated = nfc_file_allocated,
    .close = nfc_file_close,
};

static bool copy_str(char **out, const char *s)
{
  *out = fvx_strdup0(s);
  return !s || *out;
}

/* The ddb values GetInfo needs; an ERROR for a key is "not there", a dead
 * connection fails the open. */
static int fetch_ddb(struct nfc_file *f)
{
  char value[1024];

  for (size_t i = 0; i < NFC_FILE_NKEYS; i++) {
    struct nfc_error e;
    bool found = false;

    nfc_error_clear(&e);
    if (nfc_ddb_get(f->cur->c, ddb_keys[i], value, sizeof value, &found,
                    &e) != NFC_OK) {
      if (nfc_conn_dead(f->cur->c))
        return fail(f, &e, "DDB_GET");
      fvx_debug("nfc: %s: ddb.%s: %s", f->path, ddb_keys[i], e.detail);
      continue;
    }
    if (found && !(f->ddb[i] = strdup(value)))
      return disk_fail(DISK_E_NOMEM, "%s: no memory for ddb values",
                       f->path);
  }
  return DISK_OK;
}

int nfc_file_open(struct disk_file **out, const struct nfc_file_params *p,
                  struct nfc_disk_info *info)
{
  static const struct nfc_options none;
  const struct nfc_options *o;
  struct nfc_file *f;
  struct nfc_error e;
  int st;

  if (!out || !p || !p->path || !p->ticket || !info)
    return disk_fail(DISK_E_ARG, "nfc_file_open: missing argument");
  *out = NULL;
  o = p->options ? p->options : &none;
  if (strlen(p->path) >= DISK_FILE_ID_MAX)
    return disk_fail(DISK_E_NAME, "%s: datastore path longer than %d bytes",
                     p->path, DISK_FILE_ID_MAX - 1);
  f = calloc(1, sizeof *f);
  if (!f)
    return disk_fail(DISK_E_NOMEM, "no memory for an NFC file");
  f->o = *o;
  f->o.default_host = f->o.connect_to = f->o.ca_file = NULL;
  if (!copy_str(&f->default_host, o->default_host) ||
      !copy_str(&f->connect_to, o->connect_to) ||
      !copy_str(&f->ca_file, o->ca_file) || !copy_str(&f->path, p->path) ||
      !copy_str(&f->base.name, p->path) ||
      !(f->cur = calloc(1, sizeof *f->cur))) {
    free(f->cur);
    nfc_file_free(f);
    return disk_fail(DISK_E_NOMEM, "no memory for an NFC file");
  }
  f->writable = p->writable;
  f->ticket = p->ticket;
  f->ticket_opaque = p->ticket_opaque;
  f->max_reconnects = p->max_reconnects ? p->max_reconnects
                                        : NFC_FILE_RECONNECTS_DEFAULT;
  st = open_conn(f, &f->cur->c, &f->info, &e);
  if (st != NFC_OK) {
    st = fail(f, &e, "open");
    free(f->cur);
    nfc_file_free(f);
    return st;
  }
  pthread_mutex_init(&f->mu, NULL);
  pthread_mutex_init(&f->reconnect, NULL);
  {
    pthread_condattr_t ca;

    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&f->cv, &ca);
    pthread_condattr_destroy(&ca);
  }
  f->base.ops = f->writable ? &nfc_file_ops_rw : &nfc_file_ops_ro;
  f->base.caps = DISK_FILE_CONCURRENT | DISK_FILE_CAN_ALLOC |
                 (f->writable ? DISK_FILE_CAN_WRITE | DISK_FILE_CAN_SYNC : 0);
  f->base.size = f->info.capacity;
  snprintf(f->base.id, sizeof f->base.id, "%s", f->path);
  st = fetch_ddb(f);
  if (st != DISK_OK) {
    nfc_file_close(&f->base);
    return st;
  }
  *info = f->info;
  *out = &f->base;
  return DISK_OK;
}

const char *nfc_file_ddb(struct disk_file *df, const char *key)
{
  struct nfc_file *f = (struct nfc_file *)df;

  if (!df || (df->ops != &nfc_file_ops_ro && df->ops != &nfc_file_ops_rw) ||
      !key)
    return NULL;
  for (size_t i = 0; i < NFC_FILE_NKEYS; i++)
    if (strcmp(ddb_keys[i], key) == 0)
      return f->ddb[i];
  return NULL;
}
