/*
 * api.h -- what the exported VixDiskLib_* entry points share.
 *
 * The entry points in src/api/ are thin (curl's "external interface"
 * files): they check the library state and their arguments, log the call at
 * debug level, delegate to access/ or disk/, and map the result to a VixError.
 * Everything they share lives here: the library state, the connection
 * object behind VixDiskLibConnection, and argument-check helpers.
 */
#ifndef FVX_API_H
#define FVX_API_H

#include <stdbool.h>
#include <stdint.h>

#include "vixDiskLib.h"
#include "util/log.h"

/* ---- library state (init.c) -------------------------------------------- */

/* True between a successful InitEx/Init and Exit.  Lock-free (an atomic
 * load): the data path calls it on every request. */
bool fvx_api_initialized(void);

/* Returns VIX_OK when the library is initialized; otherwise logs that 'fn'
 * was called before VixDiskLib_InitEx (or after Exit) and returns
 * VIX_E_DISK_NOINIT. */
VixError fvx_api_require_init(const char *fn);

/* Debug line for an entry point: "VixDiskLib_Open(path=..., flags=0x4)".
 * Arguments must already be masked (never pass a password or cookie). */
#define FVX_API_TRACE(fn, ...) fvx_debug(fn "(" __VA_ARGS__)

/* ---- connections (connect.c) --------------------------------------------- */

#define FVX_CONN_MAGIC 0x46565843u /* "FVXC" */

struct remote_conn; /* remote side, owned by remote/ */

/* The object behind VixDiskLibConnection (VDDK names it in the singular). */
struct VixDiskLibConnectParam {
  uint32_t magic;         /* FVX_CONN_MAGIC while valid, 0 after Disconnect */
  bool local;             /* hosted disks on this machine */
  bool read_only;         /* ConnectEx(readOnly = TRUE) */
  /* Deep copy of the caller's params (NULL for Connect(NULL)); secrets wiped
   * on Disconnect.  Source of GetConnectParams. */
  VixDiskLibConnectParams *params;
  /* Remote connections with a vmxSpec: the VM, snapshot and disks
   * (remote/remote.h); NULL for local ones.  Its access_conninfo borrows
   * the strings of 'params'. */
  struct remote_conn *remote;
  /* Disks opened through this connection; only ever read and written with
   * __atomic builtins (Open and Close may run on other threads). */
  unsigned open_handles;
};

/* True when c is a live connection (checks the magic; NULL is false). */
bool fvx_conn_valid(const struct VixDiskLibConnectParam *c);

/* ---- connect params (params.c) ------------------------------------------ */

/* Deep-copies a params struct.  The caller may have allocated it in an
 * older, shorter layout, so nothing past vimApiVer is read unless 'full'
 * (pass fvx_params_allocated_by_us(src), or true for our own copies).
 * Returns NULL when out of memory. */
VixDiskLibConnectParams *fvx_params_copy(const VixDiskLibConnectParams *src,
                                         bool full);

/* True when p came from VixDiskLib_AllocateConnectParams (and is still
 * live), so its fields past vimApiVer may be read. */
bool fvx_params_allocated_by_us(const VixDiskLibConnectParams *p);

/* Frees a copy made by fvx_params_copy (wiping secrets).  NULL is a no-op. */
void fvx_params_free_copy(VixDiskLibConnectParams *p);

/* ---- helpers --------------------------------------------------------------- */

/* Checks that path is a non-empty, absolute, NUL-terminated path of at most
 * PATH_MAX bytes; logs which of these failed (naming fn and what) and returns
 * VIX_E_INVALID_ARG / VIX_E_FILE_NAME_INVALID; VIX_OK when fine. */
VixError fvx_check_local_path(const char *fn, const char *what,
                              const char *path);

/* Checks a PrepareForAccess identity (the disables' sourceId): non-empty,
 * valid UTF-8, at most 50 characters; logs and returns VIX_E_INVALID_ARG,
 * VIX_E_INVALID_UTF8_STRING or VIX_E_ARGUMENT_TOO_BIG (access_api.c). */
VixError fvx_check_identity(const char *fn, const char *identity);

#endif
