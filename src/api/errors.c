/*
 * errors.c -- every VixError code's text, and how lower-layer failures map
 * to VixError codes.
 *
 * One table gives each code of vixDiskLib.h an English sentence
 * (VixDiskLib_GetErrorText); codes are only ever added.  The mapping of
 * vSphere faults and transport failures to codes is in vim_errors.c, next to
 * the docs/errors.md table it mirrors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "api/errors.h"

struct error_text {
  VixError code;
  const char *name;
  const char *text;
};

#define E(code, text) {code, #code, text}

static const struct error_text error_texts[] = {
  E(VIX_OK, "The operation was successful."),
  E(VIX_E_FAIL, "Unknown error."),
  E(VIX_E_OUT_OF_MEMORY, "Memory allocation failed: out of memory."),
  E(VIX_E_INVALID_ARG, "One of the parameters was invalid."),
  E(VIX_E_FILE_NOT_FOUND, "A file was not found."),
  E(VIX_E_OBJECT_IS_BUSY, "The object is busy with another operation."),
  E(VIX_E_NOT_SUPPORTED, "The operation is not supported."),
  E(VIX_E_FILE_ERROR, "A file access error occurred on the host or guest operating system."),
  E(VIX_E_DISK_FULL, "An error occurred while writing a file; the disk is full."),
  E(VIX_E_INCORRECT_FILE_TYPE, "An error occurred while accessing a file: wrong file type."),
  E(VIX_E_CANCELLED, "The operation was canceled."),
  E(VIX_E_FILE_READ_ONLY, "The file is write-protected."),
  E(VIX_E_FILE_ALREADY_EXISTS, "The file already exists."),
  E(VIX_E_FILE_ACCESS_ERROR, "You do not have access rights to this file."),
  E(VIX_E_REQUIRES_LARGE_FILES, "The file system does not support large files."),
  E(VIX_E_FILE_ALREADY_LOCKED, "The file is already in use by another writer."),
  E(VIX_E_VMDB, "The system returned an error; communication with the virtual machine may have been interrupted."),
  E(VIX_E_NOT_SUPPORTED_ON_REMOTE_OBJECT, "The command is not supported on remote objects."),
  E(VIX_E_FILE_TOO_BIG, "The file is too big for the file system."),
  E(VIX_E_FILE_NAME_INVALID, "The file name is not valid."),
  E(VIX_E_ALREADY_EXISTS, "Already exists."),
  E(VIX_E_BUFFER_TOOSMALL, "Buffer is too small."),
  E(VIX_E_OBJECT_NOT_FOUND, "The request refers to an object that does not exist."),
  E(VIX_E_HOST_NOT_CONNECTED, "Unable to connect to the host."),
  E(VIX_E_INVALID_UTF8_STRING, "The string parameter has incorrect encoding: it is not valid UTF-8."),
  E(VIX_E_UNFINISHED_JOB, "The operation is still in progress."),
  E(VIX_E_NEED_KEY, "An encryption key is required for this operation."),
  E(VIX_E_OPERATION_ALREADY_IN_PROGRESS, "The operation is already in progress."),
  E(VIX_E_LICENSE, "The host is not licensed for this feature."),
  E(VIX_E_VM_HOST_DISCONNECTED, "The connection to the host was lost."),
  E(VIX_E_AUTHENTICATION_FAIL, "Authentication for the host failed: check the user name, password or session."),
  E(VIX_E_HOST_CONNECTION_LOST, "The connection to the host was lost."),
  E(VIX_E_DUPLICATE_NAME, "Another object is already using this name."),
  E(VIX_E_ARGUMENT_TOO_BIG, "One of the parameters was too big."),
  E(VIX_E_INVALID_HANDLE, "The handle is not a valid VIX object."),
  E(VIX_E_NOT_SUPPORTED_ON_HANDLE_TYPE, "The operation is not supported on this type of handle."),
  E(VIX_E_TOO_MANY_HANDLES, "Too many handles are open."),
  E(VIX_E_NOT_FOUND, "Invalid file: a required section of the file is missing."),
  E(VIX_E_TYPE_MISMATCH, "Invalid file: an object has the wrong type."),
  E(VIX_E_INVALID_XML, "Invalid file: the contents are not valid."),
  E(VIX_E_TIMEOUT_WAITING_FOR_TOOLS, "A timeout error occurred while waiting for the guest tools."),
  E(VIX_E_UNRECOGNIZED_COMMAND, "The command is not recognized by the virtual machine."),
  E(VIX_E_OP_NOT_SUPPORTED_ON_GUEST, "The requested operation is not supported on this guest operating system."),
  E(VIX_E_PROGRAM_NOT_STARTED, "A program could not run on the guest operating system."),
  E(VIX_E_CANNOT_START_READ_ONLY_VM, "Cannot power on a read-only virtual machine."),
  E(VIX_E_VM_NOT_RUNNING, "The virtual machine needs to be powered on."),
  E(VIX_E_VM_IS_RUNNING, "The virtual machine should not be powered on. It is already running."),
  E(VIX_E_CANNOT_CONNECT_TO_VM, "Cannot connect to the virtual machine."),
  E(VIX_E_POWEROP_SCRIPTS_NOT_AVAILABLE, "Cannot execute scripts."),
  E(VIX_E_NO_GUEST_OS_INSTALLED, "There is no operating system installed in the virtual machine."),
  E(VIX_E_VM_INSUFFICIENT_HOST_MEMORY, "Not enough physical memory is available to power on this virtual machine."),
  E(VIX_E_SUSPEND_ERROR, "An error occurred while suspending the virtual machine."),
  E(VIX_E_VM_NOT_ENOUGH_CPUS, "This virtual machine is configured to run with more CPUs than the host has."),
  E(VIX_E_HOST_USER_PERMISSIONS, "Insufficient permissions in the host operating system."),
  E(VIX_E_GUEST_USER_PERMISSIONS, "Authentication failure or insufficient permissions in the guest operating system."),
  E(VIX_E_TOOLS_NOT_RUNNING, "The guest tools are not running in the virtual machine."),
  E(VIX_E_GUEST_OPERATIONS_PROHIBITED, "Guest operations are not allowed on this virtual machine."),
  E(VIX_E_ANON_GUEST_OPERATIONS_PROHIBITED, "Guest operations are not allowed for the anonymous user on this virtual machine."),
  E(VIX_E_ROOT_GUEST_OPERATIONS_PROHIBITED, "Guest operations are not allowed for administrative users on this virtual machine."),
  E(VIX_E_MISSING_ANON_GUEST_ACCOUNT, "The virtual machine configuration must specify the guest account name to be used for anonymous guest operations."),
  E(VIX_E_CANNOT_AUTHENTICATE_WITH_GUEST, "The virtual machine cannot authenticate users with the guest."),
  E(VIX_E_UNRECOGNIZED_COMMAND_IN_GUEST, "The command is not recognized by the guest operating system."),
  E(VIX_E_CONSOLE_GUEST_OPERATIONS_PROHIBITED, "Guest operations are not allowed for console users on this virtual machine."),
  E(VIX_E_MUST_BE_CONSOLE_USER, "Only the console user can run the command."),
  E(VIX_E_VMX_MSG_DIALOG_AND_NO_UI, "The virtual machine is blocked waiting for a user operation."),
  E(VIX_E_OPERATION_NOT_ALLOWED_FOR_LOGIN_TYPE, "The command is not allowed by this login type."),
  E(VIX_E_LOGIN_TYPE_NOT_SUPPORTED, "This login type is not supported."),
  E(VIX_E_EMPTY_PASSWORD_NOT_ALLOWED_IN_GUEST, "The guest operating system does not support empty passwords."),
  E(VIX_E_INTERACTIVE_SESSION_NOT_PRESENT, "The specified guest user must be logged in interactively to perform this operation."),
  E(VIX_E_INTERACTIVE_SESSION_USER_MISMATCH, "The specified guest user does not match the user currently logged in interactively."),
  E(VIX_E_CANNOT_POWER_ON_VM, "The virtual machine could not start."),
  E(VIX_E_NO_DISPLAY_SERVER, "Cannot launch the UI because no display server is present in the current environment."),
  E(VIX_E_TOO_MANY_LOGONS, "The maximum number of concurrent logons was reached."),
  E(VIX_E_INVALID_AUTHENTICATION_SESSION, "The authentication session is not valid: log in again."),
  E(VIX_E_VM_NOT_FOUND, "The virtual machine cannot be found."),
  E(VIX_E_NOT_SUPPORTED_FOR_VM_VERSION, "The operation is not supported for this virtual machine version."),
  E(VIX_E_CANNOT_READ_VM_CONFIG, "Cannot read the virtual machine configuration file."),
  E(VIX_E_TEMPLATE_VM, "Cannot perform this operation on a template virtual machine."),
  E(VIX_E_VM_ALREADY_LOADED, "The virtual machine has already been loaded."),
  E(VIX_E_VM_ALREADY_UP_TO_DATE, "The virtual machine is already up to date."),
  E(VIX_E_VM_UNSUPPORTED_GUEST, "The specified guest operating system is not supported on the host that is the target of the operation."),
  E(VIX_E_UNRECOGNIZED_PROPERTY, "Unrecognized handle property identifier."),
  E(VIX_E_INVALID_PROPERTY_VALUE, "Invalid property value."),
  E(VIX_E_READ_ONLY_PROPERTY, "Cannot change a read-only property."),
  E(VIX_E_MISSING_REQUIRED_PROPERTY, "This handle is missing a required property."),
  E(VIX_E_INVALID_SERIALIZED_DATA, "A serialized object is invalid and cannot be deserialized."),
  E(VIX_E_PROPERTY_TYPE_MISMATCH, "The data provided does not match the property type."),
  E(VIX_E_BAD_VM_INDEX, "The index parameter does not correspond to a result set."),
  E(VIX_E_INVALID_MESSAGE_HEADER, "A message header was corrupted or has the incorrect version."),
  E(VIX_E_INVALID_MESSAGE_BODY, "A message body was corrupted or is missing."),
  E(VIX_E_SNAPSHOT_INVAL, "Unable to take snapshot: the snapshot parameters are invalid."),
  E(VIX_E_SNAPSHOT_DUMPER, "Unable to open the snapshot file."),
  E(VIX_E_SNAPSHOT_DISKLIB, "Disk error while taking the snapshot."),
  E(VIX_E_SNAPSHOT_NOTFOUND, "The snapshot does not exist."),
  E(VIX_E_SNAPSHOT_EXISTS, "The snapshot already exists."),
  E(VIX_E_SNAPSHOT_VERSION, "Snapshots are not allowed on this virtual machine version."),
  E(VIX_E_SNAPSHOT_NOPERM, "Insufficient permissions to take a snapshot."),
  E(VIX_E_SNAPSHOT_CONFIG, "There is an error in the snapshot configuration."),
  E(VIX_E_SNAPSHOT_NOCHANGE, "The state of the virtual machine has not changed since the last snapshot operation."),
  E(VIX_E_SNAPSHOT_CHECKPOINT, "Unable to save the snapshot file."),
  E(VIX_E_SNAPSHOT_LOCKED, "A snapshot operation is already in progress."),
  E(VIX_E_SNAPSHOT_INCONSISTENT, "The snapshot information is inconsistent."),
  E(VIX_E_SNAPSHOT_NAMETOOLONG, "The snapshot file name is too long."),
  E(VIX_E_SNAPSHOT_VIXFILE, "Cannot snapshot all metadata files."),
  E(VIX_E_SNAPSHOT_DISKLOCKED, "One or more disks are locked and cannot be snapshotted."),
  E(VIX_E_SNAPSHOT_DUPLICATEDDISK, "The virtual disk is used multiple times."),
  E(VIX_E_SNAPSHOT_INDEPENDENTDISK, "Cannot take snapshots of powered-on virtual machines with independent disks."),
  E(VIX_E_SNAPSHOT_NONUNIQUE_NAME, "The name does not uniquely identify one snapshot."),
  E(VIX_E_SNAPSHOT_MEMORY_ON_INDEPENDENT_DISK, "Failed to take a memory snapshot because the virtual machine is configured with independent disks."),
  E(VIX_E_SNAPSHOT_MAXSNAPSHOTS, "Exceeded the maximum number of permitted snapshots."),
  E(VIX_E_SNAPSHOT_MIN_FREE_SPACE, "Available free space is less than the configured minimum free space."),
  E(VIX_E_SNAPSHOT_HIERARCHY_TOODEEP, "The snapshot hierarchy is too deep."),
  E(VIX_E_SNAPSHOT_NOT_REVERTABLE, "Cannot revert: the snapshot is not revertable."),
  E(VIX_E_HOST_DISK_INVALID_VALUE, "The specified device is not a valid physical disk device."),
  E(VIX_E_HOST_DISK_SECTORSIZE, "The disk sector size check failed."),
  E(VIX_E_HOST_FILE_ERROR_EOF, "Read beyond the end of file."),
  E(VIX_E_HOST_NETBLKDEV_HANDSHAKE, "Error in protocol."),
  E(VIX_E_HOST_SOCKET_CREATION_ERROR, "Unable to create a socket."),
  E(VIX_E_HOST_SERVER_NOT_FOUND, "The specified server could not be contacted."),
  E(VIX_E_HOST_NETWORK_CONN_REFUSED, "The server refused the connection."),
  E(VIX_E_HOST_TCP_SOCKET_ERROR, "There was an error in communication."),
  E(VIX_E_HOST_TCP_CONN_LOST, "The connection was lost."),
  E(VIX_E_HOST_NBD_HASHFILE_VOLUME, "NBD_ERR_HASHFILE_VOLUME."),
  E(VIX_E_HOST_NBD_HASHFILE_INIT, "NBD_ERR_HASHFILE_INIT."),
  E(VIX_E_HOST_SERVER_SHUTDOWN, "The server is shutting down."),
  E(VIX_E_DISK_INVAL, "One of the parameters supplied is invalid."),
  E(VIX_E_DISK_NOINIT, "The disk library has not been initialized: call VixDiskLib_InitEx first."),
  E(VIX_E_DISK_NOIO, "The called function requires the virtual disk to be opened for I/O."),
  E(VIX_E_DISK_PARTIALCHAIN, "The called function cannot be performed on partial chains: open the parent virtual disk."),
  E(VIX_E_DISK_NEEDSREPAIR, "The specified virtual disk needs repair."),
  E(VIX_E_DISK_OUTOFRANGE, "You have requested access to an area of the virtual disk that is out of bounds."),
  E(VIX_E_DISK_CID_MISMATCH, "The parent virtual disk has been modified since the child was created: the content ID does not match."),
  E(VIX_E_DISK_CANTSHRINK, "The specified virtual disk cannot be shrunk because it is not the parent disk."),
  E(VIX_E_DISK_PARTMISMATCH, "The partition table on the physical disk has changed since the disk was created."),
  E(VIX_E_DISK_UNSUPPORTEDDISKVERSION, "The disk was created by a newer product and its version is not supported."),
  E(VIX_E_DISK_OPENPARENT, "The parent of this virtual disk could not be opened."),
  E(VIX_E_DISK_NOTSUPPORTED, "The specified feature is not supported by this version."),
  E(VIX_E_DISK_NEEDKEY, "One or more required keys were not provided."),
  E(VIX_E_DISK_NOKEYOVERRIDE, "Will not create an unencrypted child of an encrypted disk without explicit request."),
  E(VIX_E_DISK_NOTENCRYPTED, "Not an encrypted disk."),
  E(VIX_E_DISK_NOKEY, "No keys were supplied for encrypting the disk."),
  E(VIX_E_DISK_INVALIDPARTITIONTABLE, "The partition table is invalid."),
  E(VIX_E_DISK_NOTNORMAL, "Only sparse extents with embedded descriptors may be encrypted."),
  E(VIX_E_DISK_NOTENCDESC, "Not an encrypted descriptor file."),
  E(VIX_E_DISK_NEEDVMFS, "The file system is not VMFS."),
  E(VIX_E_DISK_RAWTOOBIG, "The physical disk is too big: the maximum size allowed is 2 TB."),
  E(VIX_E_DISK_TOOMANYOPENFILES, "The host's limit for open files has been exceeded."),
  E(VIX_E_DISK_TOOMANYREDO, "Too many levels of redo logs."),
  E(VIX_E_DISK_RAWTOOSMALL, "The physical disk is too small."),
  E(VIX_E_DISK_INVALIDCHAIN, "Invalid disk chain: cannot mix hosted and managed virtual disks in the same chain, or the chain loops."),
  E(VIX_E_DISK_KEY_NOTFOUND, "The specified key was not found in the disk database."),
  E(VIX_E_DISK_SUBSYSTEM_INIT_FAIL, "The disk library subsystem could not be initialized."),
  E(VIX_E_DISK_INVALID_CONNECTION, "Invalid connection handle."),
  E(VIX_E_DISK_ENCODING, "The disk encoding error."),
  E(VIX_E_DISK_CANTREPAIR, "The disk is corrupted and unrepairable."),
  E(VIX_E_DISK_INVALIDDISK, "The specified file is not a virtual disk."),
  E(VIX_E_DISK_NOLICENSE, "The host is not licensed for this feature."),
  E(VIX_E_DISK_NODEVICE, "The device does not exist."),
  E(VIX_E_DISK_UNSUPPORTEDDEVICE, "The operation is not supported on this type of device."),
  E(VIX_E_DISK_CAPACITY_MISMATCH, "The parent virtual disk's capacity is not the same as the child's capacity."),
  E(VIX_E_DISK_PARENT_NOTALLOWED, "Disk type cannot be allowed as parent."),
  E(VIX_E_DISK_ATTACH_ROOTLINK, "Both the parent and the child virtual disks are root links."),
  E(VIX_E_CRYPTO_UNKNOWN_ALGORITHM, "The encryption algorithm is not known."),
  E(VIX_E_CRYPTO_BAD_BUFFER_SIZE, "A buffer has the wrong size for the encryption operation."),
  E(VIX_E_CRYPTO_INVALID_OPERATION, "The encryption operation is not valid here."),
  E(VIX_E_CRYPTO_RANDOM_DEVICE, "The random number source could not be read."),
  E(VIX_E_CRYPTO_NEED_PASSWORD, "A password is required to decrypt the data."),
  E(VIX_E_CRYPTO_BAD_PASSWORD, "The password does not decrypt the data."),
  E(VIX_E_CRYPTO_NOT_IN_DICTIONARY, "The encryption key is missing from the key dictionary."),
  E(VIX_E_CRYPTO_NO_CRYPTO, "Encryption support is not available."),
  E(VIX_E_CRYPTO_ERROR, "An encryption error occurred."),
  E(VIX_E_CRYPTO_BAD_FORMAT, "The encrypted data is malformed."),
  E(VIX_E_CRYPTO_LOCKED, "The encrypted object is locked."),
  E(VIX_E_CRYPTO_EMPTY, "The key safe holds no keys."),
  E(VIX_E_CRYPTO_KEYSAFE_LOCATOR, "The key safe locator is not valid."),
  E(VIX_E_CANNOT_CONNECT_TO_HOST, "Cannot connect to the host."),
  E(VIX_E_NOT_FOR_REMOTE_HOST, "The operation is not supported on a remote host."),
  E(VIX_E_INVALID_HOSTNAME_SPECIFICATION, "The host name is not valid: give a name or an address, optionally with a port."),
  E(VIX_E_SCREEN_CAPTURE_ERROR, "The screen capture failed."),
  E(VIX_E_SCREEN_CAPTURE_BAD_FORMAT, "The screen capture has an unsupported format."),
  E(VIX_E_SCREEN_CAPTURE_COMPRESSION_FAIL, "The screen capture could not be compressed."),
  E(VIX_E_SCREEN_CAPTURE_LARGE_DATA, "The screen capture is too large."),
  E(VIX_E_GUEST_VOLUMES_NOT_FROZEN, "The guest's file systems could not be quiesced (frozen)."),
  E(VIX_E_NOT_A_FILE, "The path does not name a regular file."),
  E(VIX_E_NOT_A_DIRECTORY, "The path does not name a directory."),
  E(VIX_E_NO_SUCH_PROCESS, "There is no such process in the guest."),
  E(VIX_E_FILE_NAME_TOO_LONG, "The file name is too long."),
  E(VIX_E_OPERATION_DISABLED, "The operation is disabled in the guest."),
  E(VIX_E_TOOLS_INSTALL_NO_IMAGE, "No guest tools installation image was found."),
  E(VIX_E_TOOLS_INSTALL_IMAGE_INACCESIBLE, "The guest tools installation image cannot be read."),
  E(VIX_E_TOOLS_INSTALL_NO_DEVICE, "The virtual machine has no CD-ROM device for the guest tools installation."),
  E(VIX_E_TOOLS_INSTALL_DEVICE_NOT_CONNECTED, "The CD-ROM device for the guest tools installation is not connected."),
  E(VIX_E_TOOLS_INSTALL_CANCELLED, "The guest tools installation was cancelled."),
  E(VIX_E_TOOLS_INSTALL_INIT_FAILED, "The guest tools installation could not start."),
  E(VIX_E_TOOLS_INSTALL_AUTO_NOT_SUPPORTED, "Automatic guest tools installation is not supported for this guest."),
  E(VIX_E_TOOLS_INSTALL_GUEST_NOT_READY, "The guest is not ready for the guest tools installation."),
  E(VIX_E_TOOLS_INSTALL_SIG_CHECK_FAILED, "The guest tools installation image failed its signature check."),
  E(VIX_E_TOOLS_INSTALL_ERROR, "The guest tools installation failed."),
  E(VIX_E_TOOLS_INSTALL_ALREADY_UP_TO_DATE, "The guest tools are already up to date."),
  E(VIX_E_TOOLS_INSTALL_IN_PROGRESS, "A guest tools installation is already in progress."),
  E(VIX_E_TOOLS_INSTALL_IMAGE_COPY_FAILED, "The guest tools installation image could not be copied into the guest."),
  E(VIX_E_WRAPPER_WORKSTATION_NOT_INSTALLED, "VMware Workstation is not installed."),
  E(VIX_E_WRAPPER_VERSION_NOT_FOUND, "The requested VIX version is not installed."),
  E(VIX_E_WRAPPER_SERVICEPROVIDER_NOT_FOUND, "The requested service provider is not installed."),
  E(VIX_E_WRAPPER_PLAYER_NOT_INSTALLED, "VMware Player is not installed."),
  E(VIX_E_WRAPPER_RUNTIME_NOT_INSTALLED, "The VIX runtime is not installed."),
  E(VIX_E_WRAPPER_MULTIPLE_SERVICEPROVIDERS, "Several service providers match: choose one."),
  E(VIX_E_MNTAPI_MOUNTPT_NOT_FOUND, "The mount point does not exist."),
  E(VIX_E_MNTAPI_MOUNTPT_IN_USE, "The mount point is already in use."),
  E(VIX_E_MNTAPI_DISK_NOT_FOUND, "The virtual disk to mount was not found."),
  E(VIX_E_MNTAPI_DISK_NOT_MOUNTED, "The virtual disk is not mounted."),
  E(VIX_E_MNTAPI_DISK_IS_MOUNTED, "The virtual disk is already mounted."),
  E(VIX_E_MNTAPI_DISK_NOT_SAFE, "The virtual disk cannot be mounted safely (it may be in use by a running virtual machine)."),
  E(VIX_E_MNTAPI_DISK_CANT_OPEN, "The virtual disk to mount cannot be opened."),
  E(VIX_E_MNTAPI_CANT_READ_PARTS, "The partitions of the virtual disk cannot be read."),
  E(VIX_E_MNTAPI_UMOUNT_APP_NOT_FOUND, "The unmount program was not found."),
  E(VIX_E_MNTAPI_UMOUNT, "The volume could not be unmounted."),
  E(VIX_E_MNTAPI_NO_MOUNTABLE_PARTITONS, "The virtual disk has no partition that can be mounted."),
  E(VIX_E_MNTAPI_PARTITION_RANGE, "The partition number is out of range."),
  E(VIX_E_MNTAPI_PERM, "Insufficient permissions to mount the virtual disk."),
  E(VIX_E_MNTAPI_DICT, "The mount dictionary cannot be read or written."),
  E(VIX_E_MNTAPI_DICT_LOCKED, "The mount dictionary is locked by another process."),
  E(VIX_E_MNTAPI_OPEN_HANDLES, "Files on the mounted volume are still open."),
  E(VIX_E_MNTAPI_CANT_MAKE_VAR_DIR, "The mount state directory cannot be created."),
  E(VIX_E_MNTAPI_NO_ROOT, "Mounting requires administrator (root) privileges."),
  E(VIX_E_MNTAPI_LOOP_FAILED, "The loop device could not be set up."),
  E(VIX_E_MNTAPI_DAEMON, "The mount daemon failed."),
  E(VIX_E_MNTAPI_INTERNAL, "An internal error occurred in the mount library."),
  E(VIX_E_MNTAPI_SYSTEM, "The operating system refused the mount operation."),
  E(VIX_E_MNTAPI_NO_CONNECTION_DETAILS, "The mount has no connection details."),
  E(VIX_E_MNTAPI_INCOMPATIBLE_VERSION, "The mount library version is incompatible."),
  E(VIX_E_MNTAPI_OS_ERROR, "The operating system reported an error while mounting."),
  E(VIX_E_MNTAPI_DRIVE_LETTER_IN_USE, "The drive letter is already in use."),
  E(VIX_E_MNTAPI_DRIVE_LETTER_ALREADY_ASSIGNED, "The volume already has a drive letter."),
  E(VIX_E_MNTAPI_VOLUME_NOT_MOUNTED, "The volume is not mounted."),
  E(VIX_E_MNTAPI_VOLUME_ALREADY_MOUNTED, "The volume is already mounted."),
  E(VIX_E_MNTAPI_FORMAT_FAILURE, "The volume could not be formatted."),
  E(VIX_E_MNTAPI_NO_DRIVER, "The mount driver is not installed."),
  E(VIX_E_MNTAPI_ALREADY_OPENED, "The disk set is already opened."),
  E(VIX_E_MNTAPI_ITEM_NOT_FOUND, "The requested item was not found on the volume."),
  E(VIX_E_MNTAPI_UNSUPPROTED_BOOT_LOADER, "The boot loader is not supported."),
  E(VIX_E_MNTAPI_UNSUPPROTED_OS, "The guest operating system is not supported."),
  E(VIX_E_MNTAPI_CODECONVERSION, "A text encoding conversion failed."),
  E(VIX_E_MNTAPI_REGWRITE_ERROR, "The guest registry could not be written."),
  E(VIX_E_MNTAPI_UNSUPPORTED_FT_VOLUME, "Fault-tolerant (striped or mirrored) volumes are not supported."),
  E(VIX_E_MNTAPI_PARTITION_NOT_FOUND, "The partition was not found."),
  E(VIX_E_MNTAPI_PUTFILE_ERROR, "The file could not be copied into the volume."),
  E(VIX_E_MNTAPI_GETFILE_ERROR, "The file could not be copied from the volume."),
  E(VIX_E_MNTAPI_REG_NOT_OPENED, "The guest registry is not opened."),
  E(VIX_E_MNTAPI_REGDELKEY_ERROR, "The guest registry key could not be deleted."),
  E(VIX_E_MNTAPI_CREATE_PARTITIONTABLE_ERROR, "The partition table could not be created."),
  E(VIX_E_MNTAPI_OPEN_FAILURE, "The volume could not be opened."),
  E(VIX_E_MNTAPI_VOLUME_NOT_WRITABLE, "The volume is not writable."),
  E(VIX_ASYNC, "The operation was submitted and completes asynchronously."),
  E(VIX_E_ASYNC_MIXEDMODE_UNSUPPORTED, "Synchronous and asynchronous I/O cannot be mixed on this handle: wait for the outstanding requests first."),
  E(VIX_E_NET_HTTP_UNSUPPORTED_PROTOCOL, "The URL names a protocol that is not supported."),
  E(VIX_E_NET_HTTP_URL_MALFORMAT, "The URL is malformed."),
  E(VIX_E_NET_HTTP_COULDNT_RESOLVE_PROXY, "The proxy host name does not resolve."),
  E(VIX_E_NET_HTTP_COULDNT_RESOLVE_HOST, "The host name does not resolve."),
  E(VIX_E_NET_HTTP_COULDNT_CONNECT, "Cannot connect to the server."),
  E(VIX_E_NET_HTTP_HTTP_RETURNED_ERROR, "The server answered with an HTTP error status."),
  E(VIX_E_NET_HTTP_OPERATION_TIMEDOUT, "The HTTP transfer timed out."),
  E(VIX_E_NET_HTTP_SSL_CONNECT_ERROR, "The TLS handshake with the server failed."),
  E(VIX_E_NET_HTTP_TOO_MANY_REDIRECTS, "The server redirected too many times."),
  E(VIX_E_NET_HTTP_TRANSFER, "The HTTP transfer failed."),
  E(VIX_E_NET_HTTP_SSL_SECURITY, "The server's certificate could not be verified."),
  E(VIX_E_NET_HTTP_GENERIC, "An HTTP error occurred."),
  E(VMODL_TYPE_VIM_FAULT_METHOD_ALREADY_DISABLED_FAULT, "The method is already disabled by another source (another backup or a Storage vMotion in progress): wait and retry."),
};

#undef E

/* Looks up the entry for the code in the low 16 bits of err (the upper bits
 * may carry extra information, per VIX_ERROR_CODE); NULL when unknown. */
static const struct error_text *find_text(VixError err)
{
  VixError code = VIX_ERROR_CODE(err);

  for (size_t i = 0; i < sizeof error_texts / sizeof error_texts[0]; i++)
    if (error_texts[i].code == code)
      return &error_texts[i];
  return NULL;
}

const char *fvx_error_name(VixError err)
{
  const struct error_text *e = find_text(err);

  return e ? e->name : NULL;
}

/*
 * The external interface.
 */

char *VixDiskLib_GetErrorText(VixError err, const char *locale)
{
  const struct error_text *e = find_text(err);
  char *msg;

  if (locale)
    fvx_debug("VixDiskLib_GetErrorText: locale \"%s\" ignored, texts are "
              "English only", locale);
  if (e)
    return strdup(e->text);
  /* Never a bare "Unknown error": say which code it was. */
  if (asprintf(&msg, "Unknown error code %llu.",
               (unsigned long long)VIX_ERROR_CODE(err)) < 0)
    return NULL;
  return msg;
}

void VixDiskLib_FreeErrorText(char *errMsg)
{
  free(errMsg);
}
