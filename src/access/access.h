/*
 * access.h -- PrepareForAccess / EndAccess and everything remote behind them.
 *
 * The access layer turns "this VM, this identity" into vSphere calls: it
 * parses vmxSpec strings, keeps a pool of logged-in vCenter sessions between
 * InitEx and Exit, finds the VM, and disables or enables its methods.  It
 * knows nothing of VixError: it reports a struct vim_error (src/vim) plus
 * its own status, and the api layer maps both (src/api/vim_errors.c).
 */
#ifndef FVX_ACCESS_H
#define FVX_ACCESS_H

#include <stdbool.h>
#include <stddef.h>

#include "access/conninfo.h"
#include "vim/vim.h"

/* Settings from the InitEx configuration file (see docs/config.md). */
struct access_settings {
  long connect_timeout_ms;  /* 0: default */
  long timeout_ms;          /* 0: default */
  long retry_deadline_ms;   /* 0: default */
  const char *ca_file;      /* NULL: system store; copied */
  bool insecure;            /* no certificate check at all (loudly logged) */
  bool allow_http;          /* talk plain HTTP when the server name says so */
  const char *reason_id;    /* reasonId sent with DisableMethods; copied */
  size_t pool_max_idle;     /* idle sessions kept per server/user; 0: default */
};

/* Outcome of an access call.  ACCESS_E_VIM carries the vSphere detail in
 * 'vim'; the others carry a one-line explanation in 'detail'. */
enum access_status {
  ACCESS_OK = 0,
  ACCESS_E_NOMEM,
  ACCESS_E_VMXSPEC,      /* malformed vmxSpec */
  ACCESS_E_NOT_VCENTER,  /* the server is an ESXi host (apiType HostAgent) */
  ACCESS_E_VM_NOT_FOUND, /* the vmxSpec names no VM on this server */
  ACCESS_E_DC_NOT_FOUND, /* dcPath names no datacenter */
  ACCESS_E_SHUTDOWN,     /* called after access_shutdown */
  ACCESS_E_CONFIG,       /* a setting cannot be used (detail names it) */
  ACCESS_E_VIM,          /* a vSphere call failed: see vim */
  ACCESS_E_JOURNAL,      /* the lease journal is unreadable, corrupt or
                            foreign (detail says which file and the fix) */
  ACCESS_E_JOURNAL_IO,   /* the lease journal could not be written */
  ACCESS_E_SNAPSHOT,     /* snapshotRef names no snapshot of this VM */
  ACCESS_E_NO_SUCH_DISK, /* the path is not a disk of the VM / snapshot */
  ACCESS_E_DISK,         /* the disk layer or a transport failed: see
                            disk_status (a DISK_E_*) and detail */
  ACCESS_E_TRANSPORT,    /* no transport of the mode list can serve the
                            disk (detail says why and what is missing) */
};

struct access_result {
  enum access_status status;
  struct vim_error vim;
  int disk_status;   /* ACCESS_E_DISK: the DISK_E_* status */
  long http_status;  /* ACCESS_E_DISK from a remote source: HTTP status */
  char detail[512];
};

/* Logs in (or takes a pooled session) for ci and gives the session back to
 * the pool: what ConnectEx uses to fail early on bad credentials, an
 * unreachable host or a certificate mismatch.  Returns res->status. */
int access_check_login(const struct access_conninfo *ci,
                       struct access_result *res);

/* Disables RelocateVM_Task on the VM of ci->vmx_spec with sourceId =
 * identity.  Disabling again under the same identity succeeds.  Returns
 * res->status; the VM's state is unchanged on failure. */
int access_prepare(const struct access_conninfo *ci, const char *identity,
                   struct access_result *res);

/* Re-enables RelocateVM_Task for that identity; succeeds when nothing is
 * disabled.  Returns res->status. */
int access_end(const struct access_conninfo *ci, const char *identity,
               struct access_result *res);

/* Called by InitEx (with the library's life-cycle lock held, so never
 * concurrently with access_shutdown).  Copies the settings.  Returns
 * ACCESS_OK, ACCESS_E_NOMEM, or ACCESS_E_CONFIG when a setting cannot be
 * used (freevix.caFile unreadable; res->detail names it); nothing changes
 * on failure. */
int access_init(const struct access_settings *settings,
                struct access_result *res);

/* Called by Exit: logs out every pooled session and frees the pool.  Can't
 * fail; safe to call when access_init was not. */
void access_shutdown(void);

#endif
