/*
 * manifest.h -- the record of one backup point: what was backed up, from
 * where, into which files, with which SHA-256, depending on which earlier
 * points.  The manifest is the commit record of a point: a point exists
 * when, and only when, its manifest does (docs/backup.md, "Manifest").
 *
 * Format: JSON (cli/json.h), "format": "freevix-backup", "version": 1.
 * manifest_parse() is strict: every field below must be present with its
 * type and within its bounds, and the file names must be plain names of
 * the point's own files, so a manifest can never point a reader outside
 * its directory.  Members it does not know are ignored (a later freevix may
 * add some without a new version); a newer version is refused, named.
 * manifest_write() is atomic: a temporary file, fsync, rename, fsync of
 * the directory.
 */
#ifndef FREEVIX_CLI_MANIFEST_H
#define FREEVIX_CLI_MANIFEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MANIFEST_FORMAT "freevix-backup"
#define MANIFEST_VERSION 1
#define MANIFEST_MAX_BYTES (8u << 20)
#define MANIFEST_MAX_DISKS 256u
#define MANIFEST_MAX_CHAIN 65536u
#define MANIFEST_MAX_POINT 999999999u

enum point_kind { POINT_FULL, POINT_INCREMENTAL };

struct manifest_disk {
  int32_t key;               /* device key */
  char label[128];
  uint64_t capacity;         /* bytes, a positive multiple of 512 */
  char datastore_path[1024]; /* the disk's file in the snapshot */
  char disk_mode[64];
  char change_id[128];       /* CBT's changeId at this point; "" none */
  char file[128];            /* this point's VMDK, in the VM directory */
  char parent_file[128];     /* the previous point's, "" for a full */
  char sha256[65];           /* of the whole logical disk at this point */
  char transport[32];        /* GetTransportMode of the source */
  uint64_t bytes_read;       /* from the server */
  uint64_t bytes_written;    /* data written to the file */
  uint64_t areas;            /* areas read */
};

/* A disk the backup left out, and why. */
struct manifest_skipped {
  int32_t key;
  char label[128];
  char disk_mode[64];
  char reason[256];
};

struct manifest {
  unsigned point;            /* 1, 2, ... */
  enum point_kind kind;
  unsigned parent;           /* the point an incremental builds on; 0 */
  unsigned *chain;           /* the points it reads, base (a full) first,
                                ending with point itself */
  size_t n_chain;
  char server[256];
  unsigned port;
  char vm_moref[80];
  char vm_name[256];
  char vm_spec[2048];        /* as given on the command line */
  char vmx_path[1024];
  char power_state[32];
  char snapshot_moref[80];
  char snapshot_name[128];
  bool quiesced;
  bool cbt;                  /* changeTrackingEnabled at this point */
  char disk_format[16];      /* "vmdk" (monolithicSparse) or "stream" */
  char tool_version[32];
  char started[32];          /* UTC, ISO 8601 */
  char finished[32];
  int64_t duration_ms;
  uint64_t bytes_read;
  uint64_t bytes_written;
  char note[512];            /* e.g. why an incremental became a full */
  struct manifest_disk *disks;
  size_t n_disks;
  struct manifest_skipped *skipped;
  size_t n_skipped;
};

/* Frees what m owns and zeroes it; can't fail. */
void manifest_free(struct manifest *m);

/* Parses len bytes into *m (zeroed first; free with manifest_free, also
 * after a failure).  False with a one-line reason in why. */
bool manifest_parse(const char *text, size_t len, struct manifest *m,
                    char *why, size_t why_n);

/* Reads and parses the file at path (a regular file, not a symbolic link,
 * at most MANIFEST_MAX_BYTES). */
bool manifest_read(const char *path, struct manifest *m, char *why,
                   size_t why_n);

/* Writes m as dir/point-NNNN.json atomically.  Returns 0 or the errno of
 * what failed (nothing is left behind then; why says what). */
int manifest_write(const char *dir, const struct manifest *m, char *why,
                   size_t why_n);

/* The names of a point's files: "point-0003.json",
 * "point-0003-disk-2000.vmdk".  out must hold 64 bytes. */
void manifest_name(unsigned point, char out[64]);
void manifest_disk_name(unsigned point, int32_t key, char out[64]);

/* Parses "point-NNNN.json" (true, *point set) or, with key not NULL,
 * "point-NNNN-disk-K.vmdk" (*key set too). */
bool manifest_parse_name(const char *name, unsigned *point);
bool manifest_parse_disk_name(const char *name, unsigned *point,
                              int32_t *key);

#endif
