/*
 * internal.h -- what the files of src/remote share, one section per file.
 *
 * conn.c connects (VM, snapshot, disks, datastores) and owns the session;
 * open.c picks a transport for Open; https_route.c builds a datastore
 * HTTPS site for one disk (route, authentication, CBT answers); cbt.c
 * turns QueryChangedDiskAreas("*") into an allocation map; settings.c
 * keeps the InitEx settings.
 */
#ifndef FVX_REMOTE_INTERNAL_H
#define FVX_REMOTE_INTERNAL_H

#include <pthread.h>

#include "remote/remote.h"
#include "vim/vim.h"

/* ---- settings.c ------------------------------------------------------- */

/* A copy of the settings taken under the lock (strings owned by the copy:
 * free with remote_settings_release).  Returns ACCESS_OK or ACCESS_E_NOMEM /
 * ACCESS_E_SHUTDOWN. */
int remote_settings_get(struct remote_settings *out);
void remote_settings_release(struct remote_settings *s);

/* ---- conn.c ------------------------------------------------------------ */

struct remote_conn {
  struct access_conninfo ci;  /* borrowed from the VixDiskLib connection */
  struct vim_session *s;      /* checked out of the pool for our lifetime */
  bool vcenter;               /* apiType VirtualCenter (else an ESXi host) */
  bool reusable;              /* the session may go back to the pool */
  struct vim_moref vm;
  struct vim_moref snapshot;  /* type "" without a snapshot */
  struct vim_vm_place place;
  struct vim_disk *disks;     /* of the snapshot's config, or the VM's */
  size_t n_disks;
  struct vim_datastore *ds;   /* every datastore the disks' chains use */
  size_t n_ds;
  enum remote_mode order[3];  /* transports to try, in order */
  size_t n_order;
  bool read_only;             /* ConnectEx(readOnly) */
  unsigned nfc_port;          /* nfcHostPort; 0: the ticket's port */
  struct remote_settings set; /* copied at connect */
  unsigned open_disks;        /* remote_disk objects alive */
};

/* Fills res for a failed vim call made on the connection (a dead session
 * is not pooled again).  Returns ACCESS_E_VIM. */
int remote_fail_vim(struct remote_conn *c, const struct vim_error *err,
                    struct access_result *res);

/* Fills res for a failed disk-layer call: ACCESS_E_DISK with the status,
 * the HTTP status and the detail of disk_last_error(), prefixed by what. */
int remote_fail_disk(int status, const char *what, struct access_result *res);

/* ---- https_route.c ------------------------------------------------------ */

struct https_ctx;

/* Opens disk d (path = its chain head) over the datastore HTTPS interface
 * on the route of the settings; *ctx receives the transport state that
 * remote_disk keeps (https_ctx_free after the disk is closed), *out the
 * disk.  Returns res->status (ACCESS_E_DISK with the disk status when the
 * host refused or the files are unreadable). */
int https_route_open(struct remote_conn *c, const struct vim_disk *d,
                     unsigned disk_flags, struct disk **out,
                     struct https_ctx **ctx, struct access_result *res);
void https_ctx_free(struct https_ctx *ctx);

/* ---- nfc_route.c -------------------------------------------------------- */

struct nfc_ctx;

/* Opens disk d (path = its chain head) over NFC (mode nbd or nbdssl),
 * writable or not; *ctx keeps what the ticket callback needs (nfc_ctx_free
 * after the disk is closed).  Returns res->status (ACCESS_E_DISK with the
 * disk status: DISK_E_LOCKED when the host refuses a running VM's disk). */
int nfc_route_open(struct remote_conn *c, const struct vim_disk *d,
                   enum remote_mode mode, bool writable, unsigned compression,
                   struct disk **out, struct nfc_ctx **ctx,
                   struct access_result *res);
void nfc_ctx_free(struct nfc_ctx *ctx);

/* ---- cbt.c -------------------------------------------------------------- */

struct cbt_map;

/* An allocation map of disk d answered from QueryChangedDiskAreas(changeId
 * "*") on the connection's snapshot (or the VM), for the flat extent file
 * flat_path of the chain's base: loaded on first use, all pages.  NULL when
 * CBT cannot answer (off, no changeId): then nothing is known. */
struct cbt_map *cbt_map_new(struct remote_conn *c, const struct vim_disk *d,
                            const char *flat_path);
void cbt_map_free(struct cbt_map *m);
/* An https_alloc_fn (https.h) over a cbt_map. */
int cbt_map_allocated(void *opaque, const char *ds_path, uint64_t off,
                      uint64_t len, uint64_t *run, bool *allocated);

#endif
