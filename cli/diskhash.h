/*
 * diskhash.h -- the SHA-256 of a whole disk read through VixDiskLib (a
 * local backup chain, or a snapshot's disk on the server), optionally
 * written out as a raw image on the way: what verify and restore check a
 * point against.
 */
#ifndef FREEVIX_CLI_DISKHASH_H
#define FREEVIX_CLI_DISKHASH_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "freevix.h"

struct dh_job {
  int fd;                          /* >= 0: also write a raw image here */
  volatile sig_atomic_t *cancel;   /* may be NULL */
  void (*progress)(void *data, uint64_t bytes_read);
  void *progress_data;
  /* Results. */
  char sha256[65];
  uint64_t bytes_read;
  char what[256];                  /* on failure */
};

/* Opens path (absolute) on connection c with flags and reads its capacity
 * in sectors.  Returns VIX_OK or the error (*h NULL). */
VixError dh_open(VixDiskLibConnection c, const char *path, uint32 flags,
                 VixDiskLibHandle *h, uint64_t *capacity);

/* Hashes the capacity sectors of h: the allocated blocks are read
 * (QueryAllocatedBlocks at 128 sectors), the rest counts as zeros.  With
 * hs->fd the data also goes to that file at its offsets (the caller sized
 * it, so holes stay holes).  Returns VIX_OK or the error (what says
 * where). */
VixError dh_hash(VixDiskLibHandle h, uint64_t capacity, struct dh_job *hs);

/* dh_open read-only, dh_hash, close: the SHA-256 of the disk at path on c
 * into sha256 ("" on failure).  On failure what (n bytes) says where,
 * naming the disk as name ("the backup": "opening the backup", "reading
 * the backup: ..."). */
VixError dh_hash_path(VixDiskLibConnection c, const char *path,
                      volatile sig_atomic_t *cancel, const char *name,
                      char sha256[65], char *what, size_t n);

#endif
