/*
 * vim.h -- the vSphere SOAP client (vim25 / internalvim25) used by freevix.
 *
 * This layer talks to vCenter (or ESXi, or the simulator) and knows nothing
 * about VixDiskLib: it reports its own status codes plus a struct vim_error,
 * and the api layer maps them to VixError (src/api/vim_errors.c).  The design,
 * the retry table and every assumption about real vCenter are in docs/vim.md.
 *
 * OBJECTS.  A struct vim_session owns one libcurl easy handle (one persistent
 * keep-alive HTTPS connection), the session cookie, the cached ServiceContent
 * and the request counters.  Create it with vim_session_new(), then
 * authenticate with vim_login() or vim_use_cookie(), call, and release it with
 * vim_session_free() (which logs out only a session that vim_login() opened).
 *
 * THREADS.  ^A session may be used from several threads: every public call
 * takes the session's mutex for its whole duration (including retries,
 * re-login and task polling), so calls on one session are serialised and
 * never interleave on the wire.  Distinct sessions share nothing mutable and
 * run in parallel.  The library-wide initialisation of libcurl and libxml2 is
 * done once, internally, under pthread_once.  Pointers returned by
 * vim_service_content() stay valid until vim_session_free().
 *
 * ERRORS.  ^Every function that can fail returns an enum vim_status (VIM_OK
 * is 0) and, when 'err' is not NULL, fills *err: on success err->status is
 * VIM_OK and the rest is zeroed; on failure err->detail is one line without a
 * trailing newline and without secrets.  VIM_E_FAULT and VIM_E_TASK carry the
 * decoded vSphere fault in err->fault.  Lower layers do not log failures
 * above debug level: the caller decides how loudly to report them.
 *
 * SECRETS.  Passwords and cookies are copied into memory that is wiped before
 * it is freed; they never appear in logs or in err->detail.  libcurl's
 * verbose mode is never enabled.
 *
 * STRINGS.  All strings in and out are UTF-8.  Strings passed in are borrowed
 * for the duration of the call unless stated otherwise.
 */
#ifndef FVX_VIM_H
#define FVX_VIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------------
 * Status codes.  Add new codes last; never renumber.
 */
enum vim_status {
  VIM_OK = 0,
  VIM_E_NOMEM,        /* 1  out of memory */
  VIM_E_INVALID_ARG,  /* 2  bad argument (NULL, bad thumbprint, bad UTF-8) */
  VIM_E_RESOLVE,      /* 3  host name does not resolve */
  VIM_E_CONNECT,      /* 4  connection refused / unreachable / reset */
  VIM_E_TLS,          /* 5  TLS handshake failed (other than the checks below) */
  VIM_E_THUMBPRINT,   /* 6  certificate does not match the pinned thumbprint */
  VIM_E_CERT,         /* 7  CA verification failed (no thumbprint given) */
  VIM_E_TIMEOUT,      /* 8  connect or transfer timeout */
  VIM_E_HTTP,         /* 9  unexpected HTTP status, incl. 5xx without a fault */
  VIM_E_PROTOCOL,     /* 10 malformed / non-XML / wrong namespace / truncated */
  VIM_E_TOO_BIG,      /* 11 answer larger than max_body_bytes or max_depth */
  VIM_E_FAULT,        /* 12 SOAP fault: see err->fault */
  VIM_E_NOT_FOUND,    /* 13 a search or lookup found nothing */
  VIM_E_SESSION_LOST, /* 14 session expired while holding session-scoped
                             disables: they are gone */
  VIM_E_TASK,         /* 15 the task ended in error: see err->fault */
  VIM_E_DEADLINE,     /* 16 our own deadline passed (task still running) */
};

/* Short English sentence for a status (static storage, never NULL). */
const char *vim_status_str(int status);

/* The fault kinds the upper layers act on; the rest are VIM_FAULT_OTHER with
 * the type name in vim_fault.type.  Add new kinds last. */
enum vim_fault_kind {
  VIM_FAULT_OTHER = 0,
  VIM_FAULT_METHOD_ALREADY_DISABLED, /* source = sourceId of the holder */
  VIM_FAULT_METHOD_DISABLED,         /* source = MethodDisabled.source */
  VIM_FAULT_NO_PERMISSION,           /* privilege, object */
  VIM_FAULT_INVALID_LOGIN,
  VIM_FAULT_NOT_AUTHENTICATED,       /* the session is dead */
  VIM_FAULT_MANAGED_OBJECT_NOT_FOUND, /* object = obj */
  VIM_FAULT_INVALID_ARGUMENT,        /* object = invalidProperty */
  VIM_FAULT_NOT_SUPPORTED,
  VIM_FAULT_METHOD_NOT_FOUND,        /* object = receiver, source = method */
  VIM_FAULT_NOT_IMPLEMENTED,
  VIM_FAULT_INVALID_STATE,           /* InvalidState and its subtypes we know */
  VIM_FAULT_CONCURRENT_ACCESS,
  VIM_FAULT_REQUEST_CANCELED,
  VIM_FAULT_FILE,                    /* FileFault and its subtypes we know
                                        (FileNotFound, FileLocked, ...);
                                        object = FileFault.file */
};

/* A decoded SOAP fault (or a task's LocalizedMethodFault).  Every string is
 * NUL-terminated and cut to fit; empty when the server did not send it. */
struct vim_fault {
  enum vim_fault_kind kind;
  char type[64];       /* xsi:type of the detail, prefix stripped */
  char message[512];   /* faultstring / localizedMessage */
  char source[256];    /* MethodAlreadyDisabledFault.sourceId,
                          MethodDisabled.source, MethodNotFound.method */
  char privilege[128]; /* NoPermission.privilegeId */
  char object[128];    /* NoPermission.object, ManagedObjectNotFound.obj,
                          MethodNotFound.receiver ("Type:value"),
                          InvalidArgument.invalidProperty, FileFault.file */
};

struct vim_error {
  enum vim_status status;
  long http_status;        /* last HTTP status seen, 0 when none */
  struct vim_fault fault;  /* VIM_E_FAULT, VIM_E_TASK (and VIM_E_SESSION_LOST:
                              the NotAuthenticated that revealed it) */
  char detail[512];        /* one line: what failed and why; no secrets */
};

/* Fills err (may be NULL) with a failure of the caller's own making:
 * cleared, then status and a one-line detail.  Returns status. */
int vim_error_set(struct vim_error *err, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---------------------------------------------------------------------------
 * Managed object references: "VirtualMachine:vm-42" is {type, value}.
 */
struct vim_moref {
  char type[64];
  char value[80];
};

/* Parses "Type:value" into *out.  Returns VIM_OK or VIM_E_INVALID_ARG (out
 * unchanged). */
int vim_moref_parse(struct vim_moref *out, const char *s);

/* Fills *out from type and value; false when either is empty or too long. */
bool vim_moref_set(struct vim_moref *out, const char *type, const char *value);

/* ---------------------------------------------------------------------------
 * Sessions.
 */
struct vim_options {
  /* Host name or address, optionally prefixed "https://" or, with
   * allow_http, "http://"; an IPv6 literal may be given bare or in [].
   * Copied. */
  const char *host;
  unsigned port;          /* 0: 443 for https, 80 for http */
  const char *path;       /* SDK path; NULL: "/sdk". Copied. */
  /* SHA-1 (20 bytes) or SHA-256 (32 bytes) of the server's DER certificate,
   * hex with or without ':' separators, any case.  When set the certificate
   * must match it exactly (no CA or host name check); NULL: verify against
   * the system CA store plus ca_file.  Copied. */
  const char *thumbprint;
  const char *ca_file;    /* extra PEM CA file, or NULL.  Copied. */
  bool insecure;          /* no certificate check at all; logs a warning on
                             every new connection */
  bool allow_http;        /* permit an "http://" host (plain text) */
  long connect_timeout_ms;  /* 0: 30000 */
  long timeout_ms;          /* whole request; 0: 300000 */
  long retry_deadline_ms;   /* total time spent retrying one call; 0: 30000,
                               negative: never retry */
  size_t max_body_bytes;    /* 0: 64 MiB; answers above it: VIM_E_TOO_BIG */
  unsigned max_depth;       /* XML nesting limit; 0: 128 */
  unsigned page_size;       /* RetrievePropertiesEx maxObjects; 0: server's */
  const char *api_version;  /* SOAPAction "urn:vim25/<v>"; NULL: "7.0" */
};

struct vim_session;

/* Creates a session for opts (no network traffic yet).  *out receives a new
 * session, freed with vim_session_free(); NULL on failure.  Returns VIM_OK,
 * VIM_E_NOMEM or VIM_E_INVALID_ARG (bad host, bad thumbprint, "http://"
 * without allow_http). */
int vim_session_new(struct vim_session **out, const struct vim_options *opts,
                    struct vim_error *err);

/* Logs out if (and only if) the session was opened by vim_login() and is
 * still logged in, then closes the connection and wipes the secrets.  A
 * cookie given to vim_use_cookie() belongs to someone else and is never
 * logged out.  NULL is a harmless no-op.  Must not be called while another
 * thread still uses the session. */
void vim_session_free(struct vim_session *s);

/* SessionManager.Login.  Keeps a wiped-on-free copy of the password so that
 * an expired session can log in again once.  Clears the "holds scoped
 * disables" mark.  Never retried after the request may have reached the
 * server.  Returns VIM_OK, VIM_E_FAULT (kind VIM_FAULT_INVALID_LOGIN for bad
 * credentials) or a transport status. */
int vim_login(struct vim_session *s, const char *user, const char *password,
              struct vim_error *err);

/* Adopts an existing vmware_soap_session cookie (VDDK's SESSIONID
 * credentials; a leading "vmware_soap_session=" is stripped) and validates
 * it with one call (SessionManager.currentSession).  Such a session cannot
 * log in again and is never logged out by this library.  Returns VIM_OK,
 * VIM_E_FAULT (NOT_AUTHENTICATED: the cookie is dead) or a transport
 * status. */
int vim_use_cookie(struct vim_session *s, const char *cookie,
                   struct vim_error *err);

/* SessionManager.Logout for a session we logged into (a borrowed cookie is
 * only forgotten).  Returns VIM_OK; a NotAuthenticated answer counts as
 * success (already gone). */
int vim_logout(struct vim_session *s, struct vim_error *err);

/* What RetrieveServiceContent said.  The strings are empty when absent. */
struct vim_service_content {
  char api_type[32];      /* "VirtualCenter" or "HostAgent" */
  char api_version[32];   /* e.g. "8.0.1.0" */
  char instance_uuid[64];
  char full_name[128];
  struct vim_moref root_folder;
  struct vim_moref property_collector;
  struct vim_moref session_manager;
  struct vim_moref search_index;
  struct vim_moref authorization_manager;
  struct vim_moref task_manager;
};

/* Fetches ServiceContent once per session (later calls answer from the
 * cache without traffic).  *out points into the session, valid until
 * vim_session_free().  Returns VIM_OK or a transport/protocol status. */
int vim_service_content(struct vim_session *s,
                        const struct vim_service_content **out,
                        struct vim_error *err);

/* True when the cached apiType is "VirtualCenter" (false before content was
 * fetched). */
bool vim_session_is_vcenter(struct vim_session *s);

/* True after a DisableMethods with session_scope=true succeeded on this
 * session (until the next vim_login / vim_logout). */
bool vim_session_holds_scoped(struct vim_session *s);

/* Key of the current session (UserSession.key; not a secret, it is not the
 * cookie), "" when unknown.  Copied into out (size n). */
void vim_session_key(struct vim_session *s, char *out, size_t n);

struct vim_stats {
  uint64_t requests;        /* HTTP requests sent (each retry counts) */
  uint64_t connects;        /* new TCP connections (CURLINFO_NUM_CONNECTS) */
  uint64_t tls_handshakes;  /* TLS handshakes completed */
  uint64_t retries;         /* requests repeated by the retry policy */
  uint64_t relogins;        /* transparent re-logins after expiry */
};

/* Copies the counters.  Can't fail. */
void vim_session_stats(struct vim_session *s, struct vim_stats *out);

/* ---------------------------------------------------------------------------
 * Property collector: generic retrieval.
 *
 * Retrieves 'paths' of every object in 'objs' in one RetrievePropertiesEx
 * (plus ContinueRetrievePropertiesEx while the server pages).  Each value is
 * decoded by its xsi:type: simple values (string, int, boolean, enums) as
 * text, ArrayOf<simple> as a string array, ManagedObjectReference and
 * ArrayOfManagedObjectReference as morefs; other complex values are
 * reported as VIM_PROP_OTHER with no content.
 */
enum vim_prop_kind {
  VIM_PROP_UNSET = 0,  /* the server sent no value (empty array, unset) */
  VIM_PROP_STRING,
  VIM_PROP_STRINGS,
  VIM_PROP_MOREF,
  VIM_PROP_MOREFS,
  VIM_PROP_OTHER,
};

struct vim_prop {
  const char *path;        /* the requested path (points into the result) */
  enum vim_prop_kind kind;
  const char *str;         /* VIM_PROP_STRING */
  const char *const *strs; /* VIM_PROP_STRINGS: n entries */
  const struct vim_moref *morefs; /* VIM_PROP_MOREF (n = 1) / MOREFS */
  size_t n;
};

struct vim_object {
  struct vim_moref ref;
  bool missing;            /* the object does not exist (any longer) */
  size_t n_props;          /* == n_paths; props[i] answers paths[i] */
  struct vim_prop *props;
};

struct vim_objects {
  size_t n;
  struct vim_object *objs; /* in the order the server answered */
};

/* Fills *out with a new result, freed with vim_objects_free().  Objects
 * that do not exist come back with missing = true when the server reports
 * them per object; when it faults the whole call (vcsim, vCenter for one
 * object) the status is VIM_E_FAULT / MANAGED_OBJECT_NOT_FOUND.  Returns
 * VIM_OK, VIM_E_INVALID_ARG, VIM_E_NOMEM, VIM_E_FAULT or a transport status;
 * *out is NULL on failure. */
int vim_retrieve(struct vim_session *s, const struct vim_moref *objs,
                 size_t n_objs, const char *const *paths, size_t n_paths,
                 struct vim_objects **out, struct vim_error *err);

/* Finds the answer for obj (NULL if absent); points into 'res'. */
const struct vim_object *vim_objects_find(const struct vim_objects *res,
                                          const struct vim_moref *obj);
/* The value of path in o (NULL if not requested). */
const struct vim_prop *vim_object_prop(const struct vim_object *o,
                                       const char *path);

/* NULL is a harmless no-op. */
void vim_objects_free(struct vim_objects *res);

/* What the access layer wants to know about a VM. */
struct vim_vm_info {
  struct vim_moref vm;
  bool found;                 /* false: no such VM (the rest is empty) */
  char *name;                 /* "" when unset */
  char **disabled_methods;    /* n_disabled entries */
  size_t n_disabled;
  struct vim_moref host;      /* runtime.host; type "" when unset */
  struct vim_moref *datastores;
  size_t n_datastores;
  struct vim_moref current_snapshot; /* snapshot.currentSnapshot; type "" */
};

/* Reads name, disabledMethod, runtime.host, datastore and
 * snapshot.currentSnapshot of n VMs in one round trip (one more per missing
 * VM when the server faults the whole call).  *out receives an array of n
 * entries in the order of 'vms', freed with vim_vm_info_free(*out, n).
 * Returns VIM_OK (unknown VMs have found = false), or an error with *out
 * NULL. */
int vim_vm_info_get(struct vim_session *s, const struct vim_moref *vms,
                    size_t n, struct vim_vm_info **out, struct vim_error *err);
void vim_vm_info_free(struct vim_vm_info *infos, size_t n);

/* Checks that vm exists; name_out (size name_n, may be NULL) receives its
 * name.  Returns VIM_OK, VIM_E_NOT_FOUND or another error. */
int vim_vm_exists(struct vim_session *s, const struct vim_moref *vm,
                  char *name_out, size_t name_n, struct vim_error *err);

/* ---------------------------------------------------------------------------
 * Search index.  Each returns VIM_OK with *out filled, VIM_E_NOT_FOUND when
 * the server found nothing, or another error (*out unchanged).
 */

/* SearchIndex.FindByInventoryPath, e.g. "DC0" or "folder/DC0". */
int vim_find_by_inventory_path(struct vim_session *s, const char *path,
                               struct vim_moref *out, struct vim_error *err);

/* Resolves a datacenter by inventory path (a name at the root, or
 * "folder/dc"); VIM_E_NOT_FOUND unless the answer is a Datacenter. */
int vim_find_datacenter(struct vim_session *s, const char *path,
                        struct vim_moref *out, struct vim_error *err);

/* SearchIndex.FindByDatastorePath("[ds] dir/x.vmx").  The API requires a
 * datacenter: with dc NULL every datacenter directly under the root folder
 * is tried in turn. */
int vim_find_by_datastore_path(struct vim_session *s,
                               const struct vim_moref *dc, const char *path,
                               struct vim_moref *out, struct vim_error *err);

/* SearchIndex.FindByUuid (dc may be NULL).  vm_search: VMs (true) or hosts;
 * instance_uuid: match the vCenter instance UUID rather than the BIOS one. */
int vim_find_by_uuid(struct vim_session *s, const struct vim_moref *dc,
                     const char *uuid, bool vm_search, bool instance_uuid,
                     struct vim_moref *out, struct vim_error *err);

/* ---------------------------------------------------------------------------
 * AuthorizationManager: method disabling (urn:internalvim25) and privileges.
 */
struct vim_disabled_method {
  const char *method;    /* e.g. "RelocateVM_Task" */
  const char *reason_id; /* free text; may be NULL (sent empty) */
};

/* DisableMethods on all entities at once (one round trip).  On success with
 * session_scope, the session is marked vim_session_holds_scoped().  Faults:
 * METHOD_ALREADY_DISABLED (fault.source = holder), NO_PERMISSION,
 * MANAGED_OBJECT_NOT_FOUND, METHOD_NOT_FOUND on ESXi.  Treated as
 * idempotent for retries (see docs/vim.md). */
int vim_disable_methods(struct vim_session *s, const struct vim_moref *entities,
                        size_t n_entities,
                        const struct vim_disabled_method *methods,
                        size_t n_methods, const char *source_id,
                        bool session_scope, struct vim_error *err);

/* EnableMethods; source_id NULL sends an empty sourceId (which vCenter and
 * the simulator take as "every source").  Idempotent. */
int vim_enable_methods(struct vim_session *s, const struct vim_moref *entities,
                       size_t n_entities, const char *const *methods,
                       size_t n_methods, const char *source_id,
                       struct vim_error *err);

/* HasPrivilegeOnEntities for the current session's user on one entity:
 * out[i] tells whether privs[i] is granted.  Returns VIM_OK, or VIM_E_FAULT
 * with kind METHOD_NOT_FOUND / NOT_IMPLEMENTED / NOT_SUPPORTED when the
 * server lacks the call (callers then fall back to trying), or another
 * error. */
int vim_has_privilege(struct vim_session *s, const struct vim_moref *entity,
                      const char *const *privs, size_t n, bool *out,
                      struct vim_error *err);

/* ---------------------------------------------------------------------------
 * Tasks.  The three task-creating calls are never retried once the request
 * may have reached the server.  Each fills *out_task with the new Task.
 */
int vim_create_snapshot(struct vim_session *s, const struct vim_moref *vm,
                        const char *name, const char *description, bool memory,
                        bool quiesce, struct vim_moref *out_task,
                        struct vim_error *err);
int vim_remove_snapshot(struct vim_session *s, const struct vim_moref *snapshot,
                        bool remove_children, bool consolidate,
                        struct vim_moref *out_task, struct vim_error *err);
/* PowerOnVM_Task (on) or PowerOffVM_Task. */
int vim_power(struct vim_session *s, const struct vim_moref *vm, bool on,
              struct vim_moref *out_task, struct vim_error *err);
/* RelocateVM_Task with spec.datastore = datastore (NULL: empty spec). */
int vim_relocate(struct vim_session *s, const struct vim_moref *vm,
                 const struct vim_moref *datastore, struct vim_moref *out_task,
                 struct vim_error *err);

enum vim_task_state {
  VIM_TASK_UNKNOWN = 0,
  VIM_TASK_QUEUED,
  VIM_TASK_RUNNING,
  VIM_TASK_SUCCESS,
  VIM_TASK_ERROR,
};

struct vim_task_info {
  struct vim_moref task;
  enum vim_task_state state;
  int progress;               /* 0..100, -1 when unset */
  char description_id[128];   /* e.g. "VirtualMachine.relocate" */
  struct vim_moref entity;
  struct vim_moref result;    /* when the result is a moref */
  struct vim_fault fault;     /* state == VIM_TASK_ERROR */
};

/* One TaskInfo read (one round trip).  Returns VIM_OK, VIM_E_NOT_FOUND for
 * an unknown task, or another error. */
int vim_task_info(struct vim_session *s, const struct vim_moref *task,
                  struct vim_task_info *out, struct vim_error *err);

/* Called after each poll with the task's progress (0..100, -1 unknown). */
typedef void vim_progress_fn(void *opaque, int progress);

/* Polls the task (50 ms, doubling to 1 s) until it ends or deadline_ms
 * passes.  Returns VIM_OK (result_out, may be NULL, receives the result
 * moref or an empty one), VIM_E_TASK (err->fault = the task's fault),
 * VIM_E_DEADLINE (still running), or another error.  The session mutex is
 * released between polls, so other threads may use the session. */
int vim_task_wait(struct vim_session *s, const struct vim_moref *task,
                  long deadline_ms, vim_progress_fn *progress, void *opaque,
                  struct vim_moref *result_out, struct vim_error *err);

/* Looks at vm's recentTask (or, when the server leaves that empty, the
 * TaskManager's recentTask filtered by info.entity) for a queued or running
 * task whose descriptionId is description_id (e.g.
 * "VirtualMachine.relocate").  Two or three round trips.
 * Returns VIM_OK with *out_task, VIM_E_NOT_FOUND when none runs, or another
 * error. */
int vim_vm_running_task(struct vim_session *s, const struct vim_moref *vm,
                        const char *description_id, struct vim_moref *out_task,
                        struct vim_error *err);

/* ---------------------------------------------------------------------------
 * Remote disks: what a VM (or one of its snapshots) is made of, tickets for
 * the data paths, Changed Block Tracking.  Facts: reference/remote-disk.md,
 * reference/nfc.md §1.
 *
 * LIMITS.  ^Answers are decoded within these bounds; beyond them the call
 * fails with VIM_E_TOO_BIG and returns nothing (vSphere's own maxima are far
 * below: 32 snapshots per chain, a few hundred disks per VM).
 *
 * SECRETS.  ^Cookies and tickets filled into the caller's structs below are
 * the caller's to wipe (fvx_wipe / explicit_bzero) when done; this layer
 * never logs them or puts them in err->detail, and wipes its own copies
 * (the answer body and tree, temporaries).  On failure the output struct is
 * wiped.
 */
#define VIM_MAX_DEVICES 2048u   /* devices in one config.hardware.device */
#define VIM_MAX_CHAIN 64u       /* files in one disk's backing chain */
#define VIM_MAX_AREAS 1048576u  /* changed areas in one DiskChangeInfo page */
#define VIM_MAX_ANCESTORS 64u   /* inventory levels above a VM */

/* One file of a virtual disk's backing chain. */
struct vim_disk_link {
  char *file_name;        /* "[ds] dir/x-000001.vmdk" (descriptorFileName
                             for the RawDiskVer2 backings) */
  char *backing_type;     /* xsi:type, e.g. "VirtualDiskFlatVer2BackingInfo",
                             "VirtualDiskSeSparseBackingInfo",
                             "VirtualDiskSparseVer2BackingInfo"; a parent
                             without one has its child's type */
  char *delta_format;     /* deltaDiskFormat: "" for a base, "redoLogFormat",
                             "seSparseFormat", "nativeFormat" */
  char *change_id;        /* "" when unset */
  bool thin;              /* thinProvisioned */
  struct vim_moref datastore; /* type "" when unset */
};

/* One VirtualDisk device. */
struct vim_disk {
  int32_t key;            /* VirtualDevice.key (2000 = disk 1) */
  char *label;            /* deviceInfo.label, "" when unset */
  uint64_t capacity;      /* bytes (capacityInBytes, else capacityInKB) */
  char *disk_mode;        /* "persistent", "independent_persistent", ...
                             ("" when unset) */
  char *uuid;             /* backing.uuid, "" when unset */
  struct vim_disk_link *chain; /* head (the file the VM or snapshot writes
                                  or wrote to) first, base last; n_chain >= 1 */
  size_t n_chain;
};

/* The disks of a VM's current configuration (obj a VirtualMachine) or of a
 * snapshot's configuration (obj a VirtualMachineSnapshot): one round trip
 * (config.hardware.device).  Only VirtualDisk devices, in the server's
 * order.  *out (n entries, possibly 0; NULL when 0) is the caller's, freed
 * with vim_disks_free.  Returns VIM_OK, VIM_E_INVALID_ARG (obj of another
 * type), VIM_E_NOT_FOUND for an unknown object, VIM_E_TOO_BIG (limits
 * above), VIM_E_PROTOCOL (a disk without key or backing), or another error,
 * with *out NULL and *n 0. */
int vim_disks_get(struct vim_session *s, const struct vim_moref *obj,
                  struct vim_disk **out, size_t *n, struct vim_error *err);
/* NULL is a harmless no-op. */
void vim_disks_free(struct vim_disk *disks, size_t n);

/* What a remote open needs to know about a VM, in two round trips: the VM
 * with its inventory ancestors (one RetrievePropertiesEx following parent /
 * parentVApp), then its host's name.  Strings that do not fit fail the call
 * (VIM_E_TOO_BIG) rather than being cut. */
struct vim_vm_place {
  char name[256];
  char power_state[32];        /* "poweredOn", "poweredOff", "suspended" */
  bool change_tracking;        /* config.changeTrackingEnabled */
  char vmx_path[1024];         /* config.files.vmPathName "[ds] dir/x.vmx" */
  struct vim_moref host;       /* runtime.host; type "" when unset */
  char host_name[256];         /* that HostSystem's name ("" when unset) */
  struct vim_moref datacenter; /* the enclosing Datacenter */
  char dc_path[512];           /* its inventory path below the root folder
                                  ("DC0", "folder/DC0"): the dcPath value.
                                  Names are as the server sends them (a '/'
                                  inside a name already escaped as %2f); a
                                  URL needs them percent-encoded */
};
/* Returns VIM_OK, VIM_E_NOT_FOUND (no such VM), VIM_E_PROTOCOL (no
 * datacenter above it), VIM_E_TOO_BIG, or another error (*out zeroed). */
int vim_vm_place_get(struct vim_session *s, const struct vim_moref *vm,
                     struct vim_vm_place *out, struct vim_error *err);

/* The VM a snapshot belongs to (VirtualMachineSnapshot.vm).  VIM_E_NOT_FOUND
 * when there is no such snapshot; VIM_E_INVALID_ARG when snapshot is not a
 * VirtualMachineSnapshot. */
int vim_snapshot_vm(struct vim_session *s, const struct vim_moref *snapshot,
                    struct vim_moref *vm_out, struct vim_error *err);

/* Name and volume URL of datastores (summary.name, summary.url, e.g.
 * "ds:///vmfs/volumes/5f.../"), one round trip.  *out (n entries in the
 * order of refs) is the caller's, freed with free().  VIM_E_NOT_FOUND when
 * one of them does not exist; VIM_E_TOO_BIG when a name or URL does not
 * fit. */
struct vim_datastore {
  struct vim_moref ref;
  char name[256];
  char url[512];
};
int vim_datastores_get(struct vim_session *s, const struct vim_moref *refs,
                       size_t n, struct vim_datastore **out,
                       struct vim_error *err);

/* The value of this session's vmware_soap_session cookie into out (n
 * bytes): for datastore HTTP requests through vCenter.  The value is
 * exactly what the server set (quotes included) or what vim_use_cookie was
 * given, so "vmware_soap_session=" + out is the Cookie header value.  A
 * secret: wipe it.  VIM_E_INVALID_ARG when not logged in or n too small
 * (out wiped). */
int vim_session_cookie(struct vim_session *s, char *out, size_t n,
                       struct vim_error *err);

/* SessionManager.AcquireGenericServiceTicket for one URL and method
 * ("httpGet", "httpHead", ...; NULL: any method): single use
 * (remote-disk.md §1).  Sent with a SessionManagerHttpServiceRequestSpec.
 * Never repeated once the request may have reached the server.  Returns
 * VIM_OK, VIM_E_PROTOCOL (no id, or a field that does not fit), or another
 * error with *out wiped. */
struct vim_service_ticket {
  char id[256];             /* the vmware_cgi_ticket cookie value; secret */
  char host_name[256];      /* "" when the server sent none */
  char ssl_thumbprint[128]; /* "" when the server sent none */
};
int vim_acquire_generic_ticket(struct vim_session *s, const char *url,
                               const char *method,
                               struct vim_service_ticket *out,
                               struct vim_error *err);

/* VirtualMachine.QueryChangedDiskAreas (remote-disk.md §4): one call, one
 * page.  snapshot may be NULL; change_id "*" asks for the allocated areas.
 * *out is the caller's (vim_changed_areas_free).  The next page starts at
 * out->start + out->length; a page of length 0 means the server made no
 * progress (the end of the disk): stop.  Every area lies inside the page
 * (checked: VIM_E_PROTOCOL otherwise), in the server's order.  Faults:
 * FILE or INVALID_ARGUMENT for a changeId the disk does not know (take a
 * full copy), MANAGED_OBJECT_NOT_FOUND for a bad snapshot, NOT_SUPPORTED
 * when CBT is off.  Returns VIM_OK, VIM_E_INVALID_ARG (start_offset above
 * 2^63-1, empty change_id), VIM_E_TOO_BIG (more than VIM_MAX_AREAS), or
 * another error with *out empty. */
struct vim_disk_area {
  uint64_t start, length; /* bytes */
};
struct vim_changed_areas {
  uint64_t start, length;     /* the part of the disk this answer covers */
  struct vim_disk_area *areas;
  size_t n;
};
int vim_query_changed_areas(struct vim_session *s, const struct vim_moref *vm,
                            const struct vim_moref *snapshot, int32_t device_key,
                            uint64_t start_offset, const char *change_id,
                            struct vim_changed_areas *out,
                            struct vim_error *err);
/* Frees the areas and empties *a; NULL is a harmless no-op. */
void vim_changed_areas_free(struct vim_changed_areas *a);

/* ReconfigVM_Task with spec.changeTrackingEnabled = enable; *out_task as
 * for the other task-creating calls (never repeated once sent). */
int vim_set_change_tracking(struct vim_session *s, const struct vim_moref *vm,
                            bool enable, struct vim_moref *out_task,
                            struct vim_error *err);

/* The VM's snapshots (snapshot.rootSnapshotList), one round trip,
 * flattened depth first (a parent before its children).  *out (n
 * entries, possibly 0; NULL when 0) is the caller's, freed with free().
 * Returns VIM_OK, VIM_E_INVALID_ARG (vm not a VirtualMachine),
 * VIM_E_NOT_FOUND (no such VM), VIM_E_TOO_BIG (more than
 * VIM_MAX_SNAPSHOTS, deeper than VIM_MAX_CHAIN), VIM_E_PROTOCOL (a node
 * without a snapshot or with a name that does not fit), or another error,
 * with *out NULL.  Added by the backup branch: a snapshot's name is only
 * in this tree. */
#define VIM_MAX_SNAPSHOTS 4096u
struct vim_snapshot_entry {
  struct vim_moref ref;    /* the VirtualMachineSnapshot */
  struct vim_moref parent; /* type "" for a root */
  char name[256];
};
int vim_snapshots_get(struct vim_session *s, const struct vim_moref *vm,
                      struct vim_snapshot_entry **out, size_t *n,
                      struct vim_error *err);

/* NFC tickets (nfc.md §1).  vim_nfc_service finds the NfcService through
 * the internal RetrieveInternalContent ("nfcService" on vCenter,
 * "ha-nfc-service" on ESXi) and caches it in the session; VIM_E_NOT_FOUND
 * when the answer names none.  The calls go in urn:vim25 with the session's
 * SOAPAction, as VDDK sends them (docs/vim.md, assumptions).  Each ticket
 * call makes a new single-use ticket and is never repeated once the request
 * may have reached the server.  The ticket calls return VIM_OK,
 * VIM_E_PROTOCOL (no sessionId, a bad port, a field that does not fit),
 * VIM_E_FAULT, or another error, with *out wiped. */
struct vim_host_ticket {
  char host[256];           /* "" when absent: dial the server logged in to */
  unsigned port;            /* 902 when absent */
  char ssl_thumbprint[128];
  char service[32];         /* "vpxa-nfc" or "nfc" ("" when absent) */
  char service_version[16];
  char session_id[128];     /* single use; secret */
};
int vim_nfc_service(struct vim_session *s, struct vim_moref *out,
                    struct vim_error *err);
/* NfcGetVmFiles(vm): a read-only ticket. */
int vim_nfc_get_vm_files(struct vim_session *s, const struct vim_moref *vm,
                         struct vim_host_ticket *out, struct vim_error *err);
/* NfcRandomAccessOpenDisk (writable) or NfcRandomAccessOpenReadonly for one
 * disk: vm, its device key, the host that runs it (VDDK sends
 * vm.runtime.host; NULL leaves hostForAccess out). */
int vim_nfc_random_access(struct vim_session *s, const struct vim_moref *vm,
                          int32_t disk_key, const struct vim_moref *host,
                          bool writable, struct vim_host_ticket *out,
                          struct vim_error *err);

/* ===========================================================================
 * Inventory (src/vim/inventory.c; added by the core branch for the freevix
 * command's VM names and paths and its "who holds what" listing).
 *
 * One walk over every VirtualMachine, Folder, Datacenter and VirtualApp
 * of the VM tree below the root folder: one property-collector pass with
 * traversal specs (RetrievePropertiesEx, plus a ContinueRetrievePropertiesEx
 * per extra page), whatever the number of VMs.
 */
struct vim_inventory_item {
  struct vim_moref ref;       /* VirtualMachine, Folder, Datacenter, ... */
  char *name;                 /* as stored: '/', '%' and backslash come %-escaped */
  struct vim_moref parent;    /* inventory parent: parent; a vApp's VMs
                                 parentVApp; a vApp parentFolder; type ""
                                 when unset */
  char **disabled_methods;    /* VMs: disabledMethod, n_disabled entries */
  size_t n_disabled;
};

struct vim_inventory {
  struct vim_moref root;      /* the root folder (parent of the top items) */
  size_t n;
  struct vim_inventory_item *items;
};

/* Reads the whole inventory (at most 1,000,000 objects: VIM_E_TOO_BIG
 * beyond).  *out receives a new inventory, freed with vim_inventory_free;
 * NULL on failure.  Returns VIM_OK, VIM_E_NOMEM, VIM_E_PROTOCOL,
 * VIM_E_TOO_BIG, VIM_E_FAULT or a transport status. */
int vim_inventory_get(struct vim_session *s, struct vim_inventory **out,
                      struct vim_error *err);
/* NULL is a harmless no-op. */
void vim_inventory_free(struct vim_inventory *inv);

#ifdef __cplusplus
}
#endif

#endif
