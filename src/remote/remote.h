/*
 * remote.h -- a VM's disks on vCenter or ESXi: what VixDiskLib_ConnectEx
 * and VixDiskLib_Open do on a remote connection.
 *
 * This layer knows vSphere (through src/vim and the access layer's session
 * pool) and the transports (src/https: the datastore HTTP interface;
 * src/nfc: VDDK's nbd/nbdssl), and builds disks of src/disk over them.  It
 * knows nothing of VixError: it reports an access_result (access.h) whose
 * status says what failed, with the vSphere fault or the disk status and a
 * one-line detail; the api layer maps it.
 *
 * CONNECT.  remote_connect logs in (a session of its own, kept for the
 * connection: tickets and CBT queries go through it), finds the VM of
 * vmxSpec, checks that the snapshot (if any) exists and belongs to it,
 * reads the disks of the snapshot's configuration (or of the VM's), its
 * host, datacenter and datastores.  Every problem shows here, not at Open.
 *
 * OPEN.  remote_open takes a datastore path "[ds] dir/disk.vmdk" that must
 * be the head of one of those disks' backing chains, and opens it through
 * the first transport of the connection's mode list that can serve it
 * (remote_mode_order): the datastore HTTPS path reads the descriptor and
 * every extent and parent with ranged GETs, direct to the host with
 * single-use generic service tickets or through vCenter with the session
 * cookie (freevix.httpsRoute); NFC opens the file on the host, which
 * interprets the chain.  A transport that refuses the file (a running VM's
 * locked disk) passes to the next; when none can, the error names what is
 * missing.
 *
 * THREADS.  ^A remote_conn is used by one thread at a time for connect,
 * open and close (VDDK's rule); an open remote_disk may be read from
 * several threads at once (src/disk's rule for read-only disks).
 */
#ifndef FVX_REMOTE_H
#define FVX_REMOTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "access/access.h"
#include "access/conninfo.h"

struct disk;

/* The transports, by VDDK's names; "https" is freevix's name for the
 * datastore HTTP interface (VDDK has no such mode). */
enum remote_mode {
  REMOTE_MODE_NBDSSL,
  REMOTE_MODE_NBD,
  REMOTE_MODE_HTTPS,
};

/* The mode's name ("nbdssl", "nbd", "https"); static. */
const char *remote_mode_name(enum remote_mode m);

/* Which HTTP endpoint serves datastore files (freevix.httpsRoute). */
enum remote_route {
  REMOTE_ROUTE_AUTO,    /* the VM's host; vCenter when the host cannot be
                           reached */
  REMOTE_ROUTE_HOST,    /* the VM's host only */
  REMOTE_ROUTE_VCENTER, /* vCenter only (the session cookie) */
};

/* Settings from the InitEx configuration (docs/config.md); strings are
 * copied by remote_init. */
struct remote_settings {
  enum remote_route route;
  const char *connect_to;     /* "HOST:PORT:ADDR:PORT,...": host names the
                                 client cannot reach as given */
  unsigned https_connections; /* range requests in flight per disk; 0: 4 */
  unsigned https_retries;     /* resumes per read; 0: 3 */
  unsigned https_read_ahead;  /* chunks read ahead of a sequence; 0: off */
  uint32_t https_read_ahead_bytes; /* bytes per chunk; 0: 4 MiB */
  long data_timeout_ms;       /* one data request; 0: 300000 */
  unsigned nfc_in_flight;     /* NFC requests in flight per disk; 0: 1 */
  uint32_t nfc_request_bytes; /* largest NFC IO; 0: 2 MiB (at most) */
  long nfc_timeout_ms;        /* one NFC reply; 0: 180000 */
  long nfc_keepalive_ms;      /* 0: off */
};

/* Called by InitEx / Exit (after the access layer).  remote_init returns
 * ACCESS_OK or ACCESS_E_NOMEM; remote_shutdown can't fail. */
int remote_init(const struct remote_settings *s);
void remote_shutdown(void);

struct remote_conn;

/* Parses a ConnectEx transportModes list (NULL: "nbdssl:nbd") into *order
 * (n entries, at most 3): "nbdssl", "nbd", "https" in the caller's order,
 * then "https" when the list did not name it (a program asking for VDDK's
 * network transports wants the disk over the network: the datastore path
 * serves where NFC cannot); "file", "san" and "hotadd" are skipped
 * (freevix has none of them for remote disks).  Returns false for an
 * unknown name or a list that leaves no remote mode. */
bool remote_mode_order(const char *modes, enum remote_mode order[3],
                       size_t *n);

/* Connects for ci (whose strings must live as long as the connection),
 * with snapshot_ref (NULL or "" for none: the VM's current disks).
 * Returns res->status; *out is the caller's (remote_disconnect). */
int remote_connect(struct remote_conn **out, const struct access_conninfo *ci,
                   unsigned nfc_port, const char *snapshot_ref,
                   const char *modes, bool read_only,
                   struct access_result *res);

/* Logs out and frees; every disk opened through it must be closed first.
 * NULL is a no-op. */
void remote_disconnect(struct remote_conn *c);

/* The disk heads of the connection ("[ds] dir/x.vmdk"), for messages and
 * tests: *n entries, pointers valid until remote_disconnect. */
const char *remote_disk_path(const struct remote_conn *c, size_t i);
size_t remote_disk_count(const struct remote_conn *c);

struct remote_disk;

/* Opens path.  disk_flags are src/disk's DISK_OPEN_*; a writable open
 * needs a transport that can write (NFC): over HTTPS the disk is opened
 * read-only and writes fail with DISK_E_NOTCAPABLE.  compression is
 * VixDiskLib's flag value (0, or the ZLIB/FASTLZ/SKIPZ bits) for NFC.
 * Returns res->status; *out is the caller's (remote_disk_close). */
int remote_open(struct remote_conn *c, const char *path, unsigned disk_flags,
                unsigned compression, struct remote_disk **out,
                struct access_result *res);

/* The disk (owned by rd), the transport it uses, and whether it can be
 * written. */
struct disk *remote_disk_disk(struct remote_disk *rd);
enum remote_mode remote_disk_mode(const struct remote_disk *rd);
bool remote_disk_writable(const struct remote_disk *rd);
/* How many requests on rd usefully run at once (range requests in flight
 * for HTTPS, pipelined requests for NFC); at least 1. */
unsigned remote_disk_parallel(const struct remote_disk *rd);

/* Closes the disk and its transport.  Returns the disk's close status
 * (DISK_OK or a DISK_E_*); NULL is a no-op. */
int remote_disk_close(struct remote_disk *rd);

#endif
