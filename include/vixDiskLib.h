/*
 * vixDiskLib.h -- freevix's VDDK-compatible public API.
 *
 * freevix is an open implementation of VMware's Virtual Disk Development Kit
 * library (libvixDiskLib.so.8).  This header declares the same functions,
 * types, enum and constant values, error codes and struct layouts as VDDK 8 on
 * Linux x86_64, so a program written against VDDK compiles against it without
 * edits and a binary built against VDDK runs against libvixDiskLib.so.8.
 *
 * The header compiles alone as C89 and as C++.  Extensions that VDDK lacks
 * are in freevix.h, never here.
 *
 * Ownership, in one place (details at each function):
 *   - Strings and structs the library returns are freed with the matching
 *     VixDiskLib_Free* call: GetErrorText -> FreeErrorText, GetInfo ->
 *     FreeInfo, QueryAllocatedBlocks -> FreeBlockList, GetConnectParams and
 *     AllocateConnectParams -> FreeConnectParams.  All Free* accept NULL.
 *   - ListTransportModes and GetTransportMode return static strings: never
 *     free them.
 *   - The library never keeps a pointer into caller memory after a call
 *     returns, except the buffer and callback data of ReadAsync/WriteAsync,
 *     which must stay valid until the completion callback has run.
 */
#ifndef _VIXDISKLIB_H_
#define _VIXDISKLIB_H_

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---------------------------------------------------------------------
 * Basic types (what VDDK takes from vm_basic_types.h).
 * --------------------------------------------------------------------- */
#ifndef _VM_BASIC_TYPES_H_
#define _VM_BASIC_TYPES_H_
typedef uint64_t uint64;
typedef int64_t int64;
typedef uint32_t uint32;
typedef int32_t int32;
typedef uint16_t uint16;
typedef int16_t int16;
typedef uint8_t uint8;
typedef int8_t int8;
typedef char Bool;
#endif
#ifndef FALSE
#define FALSE 0
#endif
#ifndef TRUE
#define TRUE 1
#endif

/* ---------------------------------------------------------------------
 * Errors.
 *
 * A VixError is 64 bits; the error code is in the low 16 bits.  freevix
 * never sets the upper bits.  Codes are only ever added, never renumbered.
 * --------------------------------------------------------------------- */
typedef uint64 VixError;

#define VIX_ERROR_CODE(err) ((err) & 0xFFFF)
#define VIX_SUCCEEDED(err) (VIX_OK == (err))
#define VIX_FAILED(err) (VIX_OK != (err))

enum {
  VIX_OK = 0,

  /* General errors */
  VIX_E_FAIL = 1,
  VIX_E_OUT_OF_MEMORY = 2,
  VIX_E_INVALID_ARG = 3,
  VIX_E_FILE_NOT_FOUND = 4,
  VIX_E_OBJECT_IS_BUSY = 5,
  VIX_E_NOT_SUPPORTED = 6,
  VIX_E_FILE_ERROR = 7,
  VIX_E_DISK_FULL = 8,
  VIX_E_INCORRECT_FILE_TYPE = 9,
  VIX_E_CANCELLED = 10,
  VIX_E_FILE_READ_ONLY = 11,
  VIX_E_FILE_ALREADY_EXISTS = 12,
  VIX_E_FILE_ACCESS_ERROR = 13,
  VIX_E_REQUIRES_LARGE_FILES = 14,
  VIX_E_FILE_ALREADY_LOCKED = 15,
  VIX_E_VMDB = 16,
  VIX_E_NOT_SUPPORTED_ON_REMOTE_OBJECT = 20,
  VIX_E_FILE_TOO_BIG = 21,
  VIX_E_FILE_NAME_INVALID = 22,
  VIX_E_ALREADY_EXISTS = 23,
  VIX_E_BUFFER_TOOSMALL = 24,
  VIX_E_OBJECT_NOT_FOUND = 25,
  VIX_E_HOST_NOT_CONNECTED = 26,
  VIX_E_INVALID_UTF8_STRING = 27,
  VIX_E_UNFINISHED_JOB = 29,
  VIX_E_NEED_KEY = 30,
  VIX_E_OPERATION_ALREADY_IN_PROGRESS = 31,
  VIX_E_LICENSE = 32,
  VIX_E_VM_HOST_DISCONNECTED = 34,
  VIX_E_AUTHENTICATION_FAIL = 35,
  VIX_E_HOST_CONNECTION_LOST = 36,
  VIX_E_DUPLICATE_NAME = 41,
  VIX_E_ARGUMENT_TOO_BIG = 44,

  /* Handle errors */
  VIX_E_INVALID_HANDLE = 1000,
  VIX_E_NOT_SUPPORTED_ON_HANDLE_TYPE = 1001,
  VIX_E_TOO_MANY_HANDLES = 1002,

  /* XML errors */
  VIX_E_NOT_FOUND = 2000,
  VIX_E_TYPE_MISMATCH = 2001,
  VIX_E_INVALID_XML = 2002,

  /* VM control errors */
  VIX_E_TIMEOUT_WAITING_FOR_TOOLS = 3000,
  VIX_E_UNRECOGNIZED_COMMAND = 3001,
  VIX_E_OP_NOT_SUPPORTED_ON_GUEST = 3003,
  VIX_E_PROGRAM_NOT_STARTED = 3004,
  VIX_E_CANNOT_START_READ_ONLY_VM = 3005,
  VIX_E_VM_NOT_RUNNING = 3006,
  VIX_E_VM_IS_RUNNING = 3007,
  VIX_E_CANNOT_CONNECT_TO_VM = 3008,
  VIX_E_POWEROP_SCRIPTS_NOT_AVAILABLE = 3009,
  VIX_E_NO_GUEST_OS_INSTALLED = 3010,
  VIX_E_VM_INSUFFICIENT_HOST_MEMORY = 3011,
  VIX_E_SUSPEND_ERROR = 3012,
  VIX_E_VM_NOT_ENOUGH_CPUS = 3013,
  VIX_E_HOST_USER_PERMISSIONS = 3014,
  VIX_E_GUEST_USER_PERMISSIONS = 3015,
  VIX_E_TOOLS_NOT_RUNNING = 3016,
  VIX_E_GUEST_OPERATIONS_PROHIBITED = 3017,
  VIX_E_ANON_GUEST_OPERATIONS_PROHIBITED = 3018,
  VIX_E_ROOT_GUEST_OPERATIONS_PROHIBITED = 3019,
  VIX_E_MISSING_ANON_GUEST_ACCOUNT = 3023,
  VIX_E_CANNOT_AUTHENTICATE_WITH_GUEST = 3024,
  VIX_E_UNRECOGNIZED_COMMAND_IN_GUEST = 3025,
  VIX_E_CONSOLE_GUEST_OPERATIONS_PROHIBITED = 3026,
  VIX_E_MUST_BE_CONSOLE_USER = 3027,
  VIX_E_VMX_MSG_DIALOG_AND_NO_UI = 3028,
  VIX_E_OPERATION_NOT_ALLOWED_FOR_LOGIN_TYPE = 3031,
  VIX_E_LOGIN_TYPE_NOT_SUPPORTED = 3032,
  VIX_E_EMPTY_PASSWORD_NOT_ALLOWED_IN_GUEST = 3033,
  VIX_E_INTERACTIVE_SESSION_NOT_PRESENT = 3034,
  VIX_E_INTERACTIVE_SESSION_USER_MISMATCH = 3035,
  VIX_E_CANNOT_POWER_ON_VM = 3041,
  VIX_E_NO_DISPLAY_SERVER = 3043,
  VIX_E_TOO_MANY_LOGONS = 3046,
  VIX_E_INVALID_AUTHENTICATION_SESSION = 3047,

  /* VM errors */
  VIX_E_VM_NOT_FOUND = 4000,
  VIX_E_NOT_SUPPORTED_FOR_VM_VERSION = 4001,
  VIX_E_CANNOT_READ_VM_CONFIG = 4002,
  VIX_E_TEMPLATE_VM = 4003,
  VIX_E_VM_ALREADY_LOADED = 4004,
  VIX_E_VM_ALREADY_UP_TO_DATE = 4006,
  VIX_E_VM_UNSUPPORTED_GUEST = 4011,

  /* Property errors */
  VIX_E_UNRECOGNIZED_PROPERTY = 6000,
  VIX_E_INVALID_PROPERTY_VALUE = 6001,
  VIX_E_READ_ONLY_PROPERTY = 6002,
  VIX_E_MISSING_REQUIRED_PROPERTY = 6003,
  VIX_E_INVALID_SERIALIZED_DATA = 6004,
  VIX_E_PROPERTY_TYPE_MISMATCH = 6005,

  /* Completion errors */
  VIX_E_BAD_VM_INDEX = 8000,

  /* Message errors */
  VIX_E_INVALID_MESSAGE_HEADER = 10000,
  VIX_E_INVALID_MESSAGE_BODY = 10001,

  /* Snapshot errors */
  VIX_E_SNAPSHOT_INVAL = 13000,
  VIX_E_SNAPSHOT_DUMPER = 13001,
  VIX_E_SNAPSHOT_DISKLIB = 13002,
  VIX_E_SNAPSHOT_NOTFOUND = 13003,
  VIX_E_SNAPSHOT_EXISTS = 13004,
  VIX_E_SNAPSHOT_VERSION = 13005,
  VIX_E_SNAPSHOT_NOPERM = 13006,
  VIX_E_SNAPSHOT_CONFIG = 13007,
  VIX_E_SNAPSHOT_NOCHANGE = 13008,
  VIX_E_SNAPSHOT_CHECKPOINT = 13009,
  VIX_E_SNAPSHOT_LOCKED = 13010,
  VIX_E_SNAPSHOT_INCONSISTENT = 13011,
  VIX_E_SNAPSHOT_NAMETOOLONG = 13012,
  VIX_E_SNAPSHOT_VIXFILE = 13013,
  VIX_E_SNAPSHOT_DISKLOCKED = 13014,
  VIX_E_SNAPSHOT_DUPLICATEDDISK = 13015,
  VIX_E_SNAPSHOT_INDEPENDENTDISK = 13016,
  VIX_E_SNAPSHOT_NONUNIQUE_NAME = 13017,
  VIX_E_SNAPSHOT_MEMORY_ON_INDEPENDENT_DISK = 13018,
  VIX_E_SNAPSHOT_MAXSNAPSHOTS = 13019,
  VIX_E_SNAPSHOT_MIN_FREE_SPACE = 13020,
  VIX_E_SNAPSHOT_HIERARCHY_TOODEEP = 13021,
  VIX_E_SNAPSHOT_NOT_REVERTABLE = 13024,

  /* Host errors */
  VIX_E_HOST_DISK_INVALID_VALUE = 14003,
  VIX_E_HOST_DISK_SECTORSIZE = 14004,
  VIX_E_HOST_FILE_ERROR_EOF = 14005,
  VIX_E_HOST_NETBLKDEV_HANDSHAKE = 14006,
  VIX_E_HOST_SOCKET_CREATION_ERROR = 14007,
  VIX_E_HOST_SERVER_NOT_FOUND = 14008,
  VIX_E_HOST_NETWORK_CONN_REFUSED = 14009,
  VIX_E_HOST_TCP_SOCKET_ERROR = 14010,
  VIX_E_HOST_TCP_CONN_LOST = 14011,
  VIX_E_HOST_NBD_HASHFILE_VOLUME = 14012,
  VIX_E_HOST_NBD_HASHFILE_INIT = 14013,
  VIX_E_HOST_SERVER_SHUTDOWN = 14014,

  /* Disk errors */
  VIX_E_DISK_INVAL = 16000,
  VIX_E_DISK_NOINIT = 16001,
  VIX_E_DISK_NOIO = 16002,
  VIX_E_DISK_PARTIALCHAIN = 16003,
  VIX_E_DISK_NEEDSREPAIR = 16006,
  VIX_E_DISK_OUTOFRANGE = 16007,
  VIX_E_DISK_CID_MISMATCH = 16008,
  VIX_E_DISK_CANTSHRINK = 16009,
  VIX_E_DISK_PARTMISMATCH = 16010,
  VIX_E_DISK_UNSUPPORTEDDISKVERSION = 16011,
  VIX_E_DISK_OPENPARENT = 16012,
  VIX_E_DISK_NOTSUPPORTED = 16013,
  VIX_E_DISK_NEEDKEY = 16014,
  VIX_E_DISK_NOKEYOVERRIDE = 16015,
  VIX_E_DISK_NOTENCRYPTED = 16016,
  VIX_E_DISK_NOKEY = 16017,
  VIX_E_DISK_INVALIDPARTITIONTABLE = 16018,
  VIX_E_DISK_NOTNORMAL = 16019,
  VIX_E_DISK_NOTENCDESC = 16020,
  VIX_E_DISK_NEEDVMFS = 16022,
  VIX_E_DISK_RAWTOOBIG = 16024,
  VIX_E_DISK_TOOMANYOPENFILES = 16027,
  VIX_E_DISK_TOOMANYREDO = 16028,
  VIX_E_DISK_RAWTOOSMALL = 16029,
  VIX_E_DISK_INVALIDCHAIN = 16030,
  VIX_E_DISK_KEY_NOTFOUND = 16052,
  VIX_E_DISK_SUBSYSTEM_INIT_FAIL = 16053,
  VIX_E_DISK_INVALID_CONNECTION = 16054,
  VIX_E_DISK_ENCODING = 16061,
  VIX_E_DISK_CANTREPAIR = 16062,
  VIX_E_DISK_INVALIDDISK = 16063,
  VIX_E_DISK_NOLICENSE = 16064,
  VIX_E_DISK_NODEVICE = 16065,
  VIX_E_DISK_UNSUPPORTEDDEVICE = 16066,
  VIX_E_DISK_CAPACITY_MISMATCH = 16067,
  VIX_E_DISK_PARENT_NOTALLOWED = 16068,
  VIX_E_DISK_ATTACH_ROOTLINK = 16069,

  /* Crypto library errors */
  VIX_E_CRYPTO_UNKNOWN_ALGORITHM = 17000,
  VIX_E_CRYPTO_BAD_BUFFER_SIZE = 17001,
  VIX_E_CRYPTO_INVALID_OPERATION = 17002,
  VIX_E_CRYPTO_RANDOM_DEVICE = 17003,
  VIX_E_CRYPTO_NEED_PASSWORD = 17004,
  VIX_E_CRYPTO_BAD_PASSWORD = 17005,
  VIX_E_CRYPTO_NOT_IN_DICTIONARY = 17006,
  VIX_E_CRYPTO_NO_CRYPTO = 17007,
  VIX_E_CRYPTO_ERROR = 17008,
  VIX_E_CRYPTO_BAD_FORMAT = 17009,
  VIX_E_CRYPTO_LOCKED = 17010,
  VIX_E_CRYPTO_EMPTY = 17011,
  VIX_E_CRYPTO_KEYSAFE_LOCATOR = 17012,

  /* Remoting errors */
  VIX_E_CANNOT_CONNECT_TO_HOST = 18000,
  VIX_E_NOT_FOR_REMOTE_HOST = 18001,
  VIX_E_INVALID_HOSTNAME_SPECIFICATION = 18002,

  /* Screen capture errors */
  VIX_E_SCREEN_CAPTURE_ERROR = 19000,
  VIX_E_SCREEN_CAPTURE_BAD_FORMAT = 19001,
  VIX_E_SCREEN_CAPTURE_COMPRESSION_FAIL = 19002,
  VIX_E_SCREEN_CAPTURE_LARGE_DATA = 19003,

  /* Guest errors */
  VIX_E_GUEST_VOLUMES_NOT_FROZEN = 20000,
  VIX_E_NOT_A_FILE = 20001,
  VIX_E_NOT_A_DIRECTORY = 20002,
  VIX_E_NO_SUCH_PROCESS = 20003,
  VIX_E_FILE_NAME_TOO_LONG = 20004,
  VIX_E_OPERATION_DISABLED = 20005,

  /* Tools installation errors */
  VIX_E_TOOLS_INSTALL_NO_IMAGE = 21000,
  VIX_E_TOOLS_INSTALL_IMAGE_INACCESIBLE = 21001,
  VIX_E_TOOLS_INSTALL_NO_DEVICE = 21002,
  VIX_E_TOOLS_INSTALL_DEVICE_NOT_CONNECTED = 21003,
  VIX_E_TOOLS_INSTALL_CANCELLED = 21004,
  VIX_E_TOOLS_INSTALL_INIT_FAILED = 21005,
  VIX_E_TOOLS_INSTALL_AUTO_NOT_SUPPORTED = 21006,
  VIX_E_TOOLS_INSTALL_GUEST_NOT_READY = 21007,
  VIX_E_TOOLS_INSTALL_SIG_CHECK_FAILED = 21008,
  VIX_E_TOOLS_INSTALL_ERROR = 21009,
  VIX_E_TOOLS_INSTALL_ALREADY_UP_TO_DATE = 21010,
  VIX_E_TOOLS_INSTALL_IN_PROGRESS = 21011,
  VIX_E_TOOLS_INSTALL_IMAGE_COPY_FAILED = 21012,

  /* Wrapper errors */
  VIX_E_WRAPPER_WORKSTATION_NOT_INSTALLED = 22001,
  VIX_E_WRAPPER_VERSION_NOT_FOUND = 22002,
  VIX_E_WRAPPER_SERVICEPROVIDER_NOT_FOUND = 22003,
  VIX_E_WRAPPER_PLAYER_NOT_INSTALLED = 22004,
  VIX_E_WRAPPER_RUNTIME_NOT_INSTALLED = 22005,
  VIX_E_WRAPPER_MULTIPLE_SERVICEPROVIDERS = 22006,

  /* Mount errors */
  VIX_E_MNTAPI_MOUNTPT_NOT_FOUND = 24000,
  VIX_E_MNTAPI_MOUNTPT_IN_USE = 24001,
  VIX_E_MNTAPI_DISK_NOT_FOUND = 24002,
  VIX_E_MNTAPI_DISK_NOT_MOUNTED = 24003,
  VIX_E_MNTAPI_DISK_IS_MOUNTED = 24004,
  VIX_E_MNTAPI_DISK_NOT_SAFE = 24005,
  VIX_E_MNTAPI_DISK_CANT_OPEN = 24006,
  VIX_E_MNTAPI_CANT_READ_PARTS = 24007,
  VIX_E_MNTAPI_UMOUNT_APP_NOT_FOUND = 24008,
  VIX_E_MNTAPI_UMOUNT = 24009,
  VIX_E_MNTAPI_NO_MOUNTABLE_PARTITONS = 24010,
  VIX_E_MNTAPI_PARTITION_RANGE = 24011,
  VIX_E_MNTAPI_PERM = 24012,
  VIX_E_MNTAPI_DICT = 24013,
  VIX_E_MNTAPI_DICT_LOCKED = 24014,
  VIX_E_MNTAPI_OPEN_HANDLES = 24015,
  VIX_E_MNTAPI_CANT_MAKE_VAR_DIR = 24016,
  VIX_E_MNTAPI_NO_ROOT = 24017,
  VIX_E_MNTAPI_LOOP_FAILED = 24018,
  VIX_E_MNTAPI_DAEMON = 24019,
  VIX_E_MNTAPI_INTERNAL = 24020,
  VIX_E_MNTAPI_SYSTEM = 24021,
  VIX_E_MNTAPI_NO_CONNECTION_DETAILS = 24022,
  VIX_E_MNTAPI_INCOMPATIBLE_VERSION = 24300,
  VIX_E_MNTAPI_OS_ERROR = 24301,
  VIX_E_MNTAPI_DRIVE_LETTER_IN_USE = 24302,
  VIX_E_MNTAPI_DRIVE_LETTER_ALREADY_ASSIGNED = 24303,
  VIX_E_MNTAPI_VOLUME_NOT_MOUNTED = 24304,
  VIX_E_MNTAPI_VOLUME_ALREADY_MOUNTED = 24305,
  VIX_E_MNTAPI_FORMAT_FAILURE = 24306,
  VIX_E_MNTAPI_NO_DRIVER = 24307,
  VIX_E_MNTAPI_ALREADY_OPENED = 24308,
  VIX_E_MNTAPI_ITEM_NOT_FOUND = 24309,
  VIX_E_MNTAPI_UNSUPPROTED_BOOT_LOADER = 24310,
  VIX_E_MNTAPI_UNSUPPROTED_OS = 24311,
  VIX_E_MNTAPI_CODECONVERSION = 24312,
  VIX_E_MNTAPI_REGWRITE_ERROR = 24313,
  VIX_E_MNTAPI_UNSUPPORTED_FT_VOLUME = 24314,
  VIX_E_MNTAPI_PARTITION_NOT_FOUND = 24315,
  VIX_E_MNTAPI_PUTFILE_ERROR = 24316,
  VIX_E_MNTAPI_GETFILE_ERROR = 24317,
  VIX_E_MNTAPI_REG_NOT_OPENED = 24318,
  VIX_E_MNTAPI_REGDELKEY_ERROR = 24319,
  VIX_E_MNTAPI_CREATE_PARTITIONTABLE_ERROR = 24320,
  VIX_E_MNTAPI_OPEN_FAILURE = 24321,
  VIX_E_MNTAPI_VOLUME_NOT_WRITABLE = 24322,

  /* Success codes that are not VIX_OK */
  VIX_ASYNC = 25000,

  /* Async errors */
  VIX_E_ASYNC_MIXEDMODE_UNSUPPORTED = 26000,

  /* Network errors (HTTP transfers) */
  VIX_E_NET_HTTP_UNSUPPORTED_PROTOCOL = 30001,
  VIX_E_NET_HTTP_URL_MALFORMAT = 30003,
  VIX_E_NET_HTTP_COULDNT_RESOLVE_PROXY = 30005,
  VIX_E_NET_HTTP_COULDNT_RESOLVE_HOST = 30006,
  VIX_E_NET_HTTP_COULDNT_CONNECT = 30007,
  VIX_E_NET_HTTP_HTTP_RETURNED_ERROR = 30022,
  VIX_E_NET_HTTP_OPERATION_TIMEDOUT = 30028,
  VIX_E_NET_HTTP_SSL_CONNECT_ERROR = 30035,
  VIX_E_NET_HTTP_TOO_MANY_REDIRECTS = 30047,
  VIX_E_NET_HTTP_TRANSFER = 30200,
  VIX_E_NET_HTTP_SSL_SECURITY = 30201,
  VIX_E_NET_HTTP_GENERIC = 30202,

  /*
   * PrepareForAccess found RelocateVM_Task already disabled by another
   * source (another backup, or a Storage vMotion in progress): wait and
   * retry.  The VDDK programming guide's sample tests for this name; VDDK's
   * headers do not define it, so freevix gives it a value of its own,
   * 31001, outside every VIX_E_ family of VDDK's headers (the highest,
   * the network errors, end at 30202).  Earlier freevix builds used 30001,
   * which VDDK's header assigns to VIX_E_NET_HTTP_UNSUPPORTED_PROTOCOL.
   */
  VMODL_TYPE_VIM_FAULT_METHOD_ALREADY_DISABLED_FAULT = 31001
};

/* ---------------------------------------------------------------------
 * Versions.
 *
 * VDDK headers leave these to the application; freevix defines them (unless
 * the application already did) as the API version the library implements.
 * InitEx accepts requests from 5.0 up to this version.
 * --------------------------------------------------------------------- */
#ifndef VIXDISKLIB_VERSION_MAJOR
#define VIXDISKLIB_VERSION_MAJOR 8
#endif
#ifndef VIXDISKLIB_VERSION_MINOR
#define VIXDISKLIB_VERSION_MINOR 0
#endif

/* ---------------------------------------------------------------------
 * Constants.
 * --------------------------------------------------------------------- */
#define VIXDISKLIB_SECTOR_SIZE 512

#define VIXDISKLIB_FLAG_OPEN_UNBUFFERED 0x01
#define VIXDISKLIB_FLAG_OPEN_SINGLE_LINK 0x02
#define VIXDISKLIB_FLAG_OPEN_READ_ONLY 0x04
#define VIXDISKLIB_FLAG_OPEN_COMPRESSION_ZLIB 0x10
#define VIXDISKLIB_FLAG_OPEN_COMPRESSION_FASTLZ 0x20
#define VIXDISKLIB_FLAG_OPEN_COMPRESSION_SKIPZ 0x40
#define VIXDISKLIB_FLAG_OPEN_COMPRESSION_MASK 0x03F0

#define VIXDISKLIB_HWVERSION_WORKSTATION_4 3
#define VIXDISKLIB_HWVERSION_WORKSTATION_5 4
#define VIXDISKLIB_HWVERSION_ESX30 VIXDISKLIB_HWVERSION_WORKSTATION_5
#define VIXDISKLIB_HWVERSION_WORKSTATION_6 6
#define VIXDISKLIB_HWVERSION_ESX4X 7
#define VIXDISKLIB_HWVERSION_ESX50 8
#define VIXDISKLIB_HWVERSION_ESX51 9
#define VIXDISKLIB_HWVERSION_ESX55 10
#define VIXDISKLIB_HWVERSION_ESX60 11
#define VIXDISKLIB_HWVERSION_ESX65 13
#define VIXDISKLIB_HWVERSION_CURRENT VIXDISKLIB_HWVERSION_ESX65

/* QueryAllocatedBlocks chunk limits, in sectors. */
#define VIXDISKLIB_MIN_CHUNK_SIZE 128
#define VIXDISKLIB_MAX_CHUNK_SIZE 131072
#define VIXDISKLIB_MAX_CHUNK_NUMBER 524288

/* ---------------------------------------------------------------------
 * Types.
 * --------------------------------------------------------------------- */
typedef uint64 VixDiskLibSectorType;

/* Opaque handles.  VDDK names the connection's struct in the singular. */
typedef struct VixDiskLibConnectParam *VixDiskLibConnection;
typedef struct VixDiskLibHandleStruct *VixDiskLibHandle;

/* Log callbacks are function types (not pointers); InitEx takes pointers. */
typedef void(VixDiskLibGenericLogFunc)(const char *fmt, va_list args);
typedef void(VixDiskLibGenericLogVFunc)(int routing, const char *fmt,
                                        va_list args);

/* Progress callback; the return value is ignored.  May be called repeatedly
 * with the same percentage. */
typedef Bool (*VixDiskLibProgressFunc)(void *progressData,
                                       int percentCompleted);

/* Completion of ReadAsync/WriteAsync: called exactly once per accepted
 * request with its result, possibly before the submitting call returns. */
typedef void (*VixDiskLibCompletionCB)(void *cbData, VixError result);

typedef enum {
  VIXDISKLIB_DISK_MONOLITHIC_SPARSE = 1,
  VIXDISKLIB_DISK_MONOLITHIC_FLAT = 2,
  VIXDISKLIB_DISK_SPLIT_SPARSE = 3,
  VIXDISKLIB_DISK_SPLIT_FLAT = 4,
  VIXDISKLIB_DISK_VMFS_FLAT = 5,
  VIXDISKLIB_DISK_STREAM_OPTIMIZED = 6,
  VIXDISKLIB_DISK_VMFS_THIN = 7,
  VIXDISKLIB_DISK_VMFS_SPARSE = 8,
  VIXDISKLIB_DISK_UNKNOWN = 256
} VixDiskLibDiskType;

typedef enum {
  VIXDISKLIB_ADAPTER_IDE = 1,
  VIXDISKLIB_ADAPTER_SCSI_BUSLOGIC = 2,
  VIXDISKLIB_ADAPTER_SCSI_LSILOGIC = 3,
  VIXDISKLIB_ADAPTER_UNKNOWN = 256
} VixDiskLibAdapterType;

typedef enum {
  VIXDISKLIB_CRED_UID = 1,
  VIXDISKLIB_CRED_SESSIONID = 2,
  VIXDISKLIB_CRED_TICKETID = 3,
  VIXDISKLIB_CRED_SSPI = 4,
  VIXDISKLIB_CRED_UNKNOWN = 256
} VixDiskLibCredType;

/* VIXDISKLIB_SPEC_DATASTORE is 2 per the VDDK 8.0 U1 programming guide; an
 * internal VMware binding uses 128.  freevix accepts only VMX specs remotely,
 * so the value matters only to programs that set it. */
typedef enum {
  VIXDISKLIB_SPEC_VMX = 0,
  VIXDISKLIB_SPEC_VSTORAGE_OBJECT = 1,
  VIXDISKLIB_SPEC_DATASTORE = 2,
  VIXDISKLIB_SPEC_UNKNOWN = 256
} VixDiskLibSpecType;

typedef struct {
  uint32 cylinders;
  uint32 heads;
  uint32 sectors;
} VixDiskLibGeometry;

typedef struct {
  VixDiskLibGeometry biosGeo;   /* geometry reported to the BIOS */
  VixDiskLibGeometry physGeo;   /* physical geometry */
  VixDiskLibSectorType capacity; /* in 512-byte sectors */
  VixDiskLibAdapterType adapterType;
  int numLinks;                 /* 1 + number of redo logs in the chain */
  char *parentFileNameHint;     /* parent's file name, NULL for a base disk */
  char *uuid;                   /* ddb.uuid, NULL if the disk has none */
  uint32 logicalSectorSize;     /* bytes (since VDDK 7.0) */
  uint32 physicalSectorSize;    /* bytes (since VDDK 7.0) */
} VixDiskLibInfo;

typedef struct VixDiskLibUidPasswdCreds {
  char *userName;
  char *password;
} VixDiskLibUidPasswdCreds;

typedef struct VixDiskLibSessionIdCreds {
  char *cookie;   /* the vmware_soap_session cookie value */
  char *userName;
  char *key;
} VixDiskLibSessionIdCreds;

typedef struct VixDiskLibTicketIdCreds VixDiskLibTicketIdCreds;
typedef struct VixDiskLibConnectParamsState VixDiskLibConnectParamsState;

typedef struct {
  char *id;             /* first-class disk UUID */
  char *datastoreMoRef;
  char *ssId;           /* snapshot id, optional */
} VixDiskLibVStorageObjectSpec;

typedef struct {
  char *datastoreMoRef;
  char *diskFolder;
} VixDiskLibDatastoreSpec;

/*
 * Connection parameters: 128 bytes on Linux x86_64 (VDDK 6.7 and later).
 * Programs may allocate it themselves (older, shorter layouts stop after
 * vimApiVer), so freevix reads nothing past vimApiVer in a struct it did not
 * allocate with VixDiskLib_AllocateConnectParams.
 */
typedef struct VixDiskLibConnectParams {
  char *vmxSpec;     /* VM: "moref=vm-42" or "dir/x.vmx?dcPath=DC&dsName=DS" */
  char *serverName;  /* vCenter or ESXi; NULL for local disks */
  char *thumbPrint;  /* server certificate SHA-1 "xx:xx:..." (or SHA-256) */
  long privateUse;   /* ignored */
  VixDiskLibCredType credType;
  union VixDiskLibCreds {
    VixDiskLibUidPasswdCreds uid;
    VixDiskLibSessionIdCreds sessionId;
    VixDiskLibTicketIdCreds *ticketId;
  } creds;
  uint32 port;        /* port of the server; 0 means 443 (80 for http://) */
  uint32 nfcHostPort; /* ESXi NFC port, 0 means 902 */
  char *vimApiVer;    /* not used */
  char reserved[8];   /* internal */
  VixDiskLibConnectParamsState *state; /* internal */
  union {
    VixDiskLibVStorageObjectSpec vStorageObjSpec;
    VixDiskLibDatastoreSpec dsSpec;
  } spec;
  VixDiskLibSpecType specType;
} VixDiskLibConnectParams;

typedef struct {
  VixDiskLibDiskType diskType;
  VixDiskLibAdapterType adapterType;
  uint16 hwVersion;
  VixDiskLibSectorType capacity; /* in sectors */
  uint32 logicalSectorSize;      /* bytes, 0 means 512 (since VDDK 7.0) */
  uint32 physicalSectorSize;     /* bytes, 0 means 512 (since VDDK 7.0) */
} VixDiskLibCreateParams;

typedef struct {
  VixDiskLibSectorType offset; /* first sector */
  VixDiskLibSectorType length; /* number of sectors */
} VixDiskLibBlock;

typedef struct {
  uint32 numBlocks;
  VixDiskLibBlock blocks[1]; /* numBlocks entries */
} VixDiskLibBlockList;

/* ---------------------------------------------------------------------
 * Library life cycle.
 * --------------------------------------------------------------------- */

/* Initializes the library for a client that needs API version
 * majorVersion.minorVersion (5.0 up to VIXDISKLIB_VERSION_MAJOR.MINOR;
 * newer requests fail with VIX_E_NOT_SUPPORTED).  log/warn/panic receive the
 * library's messages (NULL: print to stderr); libDir is accepted and
 * ignored; configFile (NULL allowed) holds `key = "value"` lines.  Calling it
 * again while initialized succeeds and changes nothing. */
VixError VixDiskLib_InitEx(uint32 majorVersion, uint32 minorVersion,
                           VixDiskLibGenericLogFunc *log,
                           VixDiskLibGenericLogFunc *warn,
                           VixDiskLibGenericLogFunc *panic, const char *libDir,
                           const char *configFile);

/* Deprecated form of InitEx without a config file. */
VixError VixDiskLib_Init(uint32 majorVersion, uint32 minorVersion,
                         VixDiskLibGenericLogFunc *log,
                         VixDiskLibGenericLogFunc *warn,
                         VixDiskLibGenericLogFunc *panic, const char *libDir);

/* Releases everything InitEx set up (pooled vCenter sessions are logged
 * out).  Connections and handles still open become invalid. */
void VixDiskLib_Exit(void);

/* Colon-separated list of transport modes (static string, do not free). */
const char *VixDiskLib_ListTransportModes(void);

/* Removes state left by connections that did not shut down cleanly.  Both
 * counters may be NULL. */
VixError VixDiskLib_Cleanup(const VixDiskLibConnectParams *connectParams,
                            uint32 *numCleanedUp, uint32 *numRemaining);

/* ---------------------------------------------------------------------
 * Connections.
 * --------------------------------------------------------------------- */

/* connectParams NULL (or serverName NULL): local disks. */
VixError VixDiskLib_Connect(const VixDiskLibConnectParams *connectParams,
                            VixDiskLibConnection *connection);

VixError VixDiskLib_ConnectEx(const VixDiskLibConnectParams *connectParams,
                              Bool readOnly, const char *snapshotRef,
                              const char *transportModes,
                              VixDiskLibConnection *connection);

VixError VixDiskLib_Disconnect(VixDiskLibConnection connection);

/* Returns a newly allocated copy of the parameters of a connection; free it
 * with FreeConnectParams. */
VixError VixDiskLib_GetConnectParams(const VixDiskLibConnection connection,
                                     VixDiskLibConnectParams **connectParams);

/* Allocates a zeroed 128-byte params struct (NULL when out of memory).  Free
 * it with FreeConnectParams, which then frees only the struct, never the
 * strings the caller stored in it. */
VixDiskLibConnectParams *VixDiskLib_AllocateConnectParams(void);

/* Frees a struct from AllocateConnectParams or GetConnectParams; NULL is a
 * harmless no-op.  For GetConnectParams results the strings are freed too
 * (secrets wiped first). */
void VixDiskLib_FreeConnectParams(VixDiskLibConnectParams *connectParams);

/* ---------------------------------------------------------------------
 * Access control around a backup (vCenter only).
 * --------------------------------------------------------------------- */

/* Asks vCenter to disable RelocateVM_Task on the VM named by
 * connectParams->vmxSpec, so Storage vMotion cannot move its disks while
 * they are read.  identity (1 to 50 characters of UTF-8) names the caller
 * and is used as the disable's source id. */
VixError VixDiskLib_PrepareForAccess(const VixDiskLibConnectParams *connectParams,
                                     const char *identity);

/* Re-enables what PrepareForAccess with the same identity disabled.
 * Succeeds when nothing is disabled (crash cleanup). */
VixError VixDiskLib_EndAccess(const VixDiskLibConnectParams *connectParams,
                              const char *identity);

/* ---------------------------------------------------------------------
 * Disks.
 * --------------------------------------------------------------------- */
VixError VixDiskLib_Create(const VixDiskLibConnection connection,
                           const char *path,
                           const VixDiskLibCreateParams *createParams,
                           VixDiskLibProgressFunc progressFunc,
                           void *progressCallbackData);

VixError VixDiskLib_CreateChild(VixDiskLibHandle diskHandle,
                                const char *childPath,
                                VixDiskLibDiskType diskType,
                                VixDiskLibProgressFunc progressFunc,
                                void *progressCallbackData);

VixError VixDiskLib_Open(const VixDiskLibConnection connection,
                         const char *path, uint32 flags,
                         VixDiskLibHandle *diskHandle);

VixError VixDiskLib_GetInfo(VixDiskLibHandle diskHandle, VixDiskLibInfo **info);

void VixDiskLib_FreeInfo(VixDiskLibInfo *info);

/* Static string, do not free: "file" for local disks. */
const char *VixDiskLib_GetTransportMode(VixDiskLibHandle diskHandle);

VixError VixDiskLib_Close(VixDiskLibHandle diskHandle);

VixError VixDiskLib_Read(VixDiskLibHandle diskHandle,
                         VixDiskLibSectorType startSector,
                         VixDiskLibSectorType numSectors, uint8 *readBuffer);

VixError VixDiskLib_ReadAsync(VixDiskLibHandle diskHandle,
                              VixDiskLibSectorType startSector,
                              VixDiskLibSectorType numSectors,
                              uint8 *readBuffer,
                              VixDiskLibCompletionCB callback, void *cbData);

VixError VixDiskLib_Write(VixDiskLibHandle diskHandle,
                          VixDiskLibSectorType startSector,
                          VixDiskLibSectorType numSectors,
                          const uint8 *writeBuffer);

VixError VixDiskLib_WriteAsync(VixDiskLibHandle diskHandle,
                               VixDiskLibSectorType startSector,
                               VixDiskLibSectorType numSectors,
                               const uint8 *writeBuffer,
                               VixDiskLibCompletionCB callback, void *cbData);

VixError VixDiskLib_Flush(VixDiskLibHandle diskHandle);

VixError VixDiskLib_Wait(VixDiskLibHandle diskHandle);

VixError VixDiskLib_ReadMetadata(VixDiskLibHandle diskHandle, const char *key,
                                 char *buf, size_t bufLen,
                                 size_t *requiredLen);

VixError VixDiskLib_WriteMetadata(VixDiskLibHandle diskHandle,
                                  const char *key, const char *val);

VixError VixDiskLib_GetMetadataKeys(VixDiskLibHandle diskHandle, char *keys,
                                    size_t maxLen, size_t *requiredLen);

VixError VixDiskLib_Unlink(VixDiskLibConnection connection, const char *path);

VixError VixDiskLib_Grow(VixDiskLibConnection connection, const char *path,
                         VixDiskLibSectorType capacity, Bool updateGeometry,
                         VixDiskLibProgressFunc progressFunc,
                         void *progressCallbackData);

VixError VixDiskLib_Shrink(VixDiskLibHandle diskHandle,
                           VixDiskLibProgressFunc progressFunc,
                           void *progressCallbackData);

VixError VixDiskLib_Defragment(VixDiskLibHandle diskHandle,
                               VixDiskLibProgressFunc progressFunc,
                               void *progressCallbackData);

VixError VixDiskLib_Rename(const char *srcFileName, const char *dstFileName);

VixError VixDiskLib_Clone(const VixDiskLibConnection dstConnection,
                          const char *dstPath,
                          const VixDiskLibConnection srcConnection,
                          const char *srcPath,
                          const VixDiskLibCreateParams *vixCreateParams,
                          VixDiskLibProgressFunc progressFunc,
                          void *progressCallbackData, Bool overWrite);

VixError VixDiskLib_IsAttachPossible(VixDiskLibHandle parent,
                                     VixDiskLibHandle child);

VixError VixDiskLib_Attach(VixDiskLibHandle parent, VixDiskLibHandle child);

VixError VixDiskLib_SpaceNeededForClone(VixDiskLibHandle diskHandle,
                                        VixDiskLibDiskType cloneDiskType,
                                        uint64 *spaceNeeded);

/* Checks (and with repair TRUE, repairs) a sparse disk.  The return value
 * tells whether the check ran, and whether the disk is sound: problems found
 * and not repaired give VIX_E_DISK_NEEDSREPAIR. */
VixError VixDiskLib_CheckRepair(const VixDiskLibConnection connection,
                                const char *filename, Bool repair);

/* Lists the allocated ranges of [startSector, startSector+numSectors) at
 * chunkSize granularity; free the list with FreeBlockList. */
VixError VixDiskLib_QueryAllocatedBlocks(VixDiskLibHandle diskHandle,
                                         VixDiskLibSectorType startSector,
                                         VixDiskLibSectorType numSectors,
                                         VixDiskLibSectorType chunkSize,
                                         VixDiskLibBlockList **blockList);

VixError VixDiskLib_FreeBlockList(VixDiskLibBlockList *blockList);

/* ---------------------------------------------------------------------
 * Error texts.
 * --------------------------------------------------------------------- */

/* English text for err; locale must be NULL.  Free with FreeErrorText.
 * Returns NULL only when out of memory. */
char *VixDiskLib_GetErrorText(VixError err, const char *locale);

void VixDiskLib_FreeErrorText(char *errMsg);

#ifdef __cplusplus
}
#endif

#endif /* _VIXDISKLIB_H_ */
