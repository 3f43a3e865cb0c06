/*
 * test_abi_layout.c -- every size, offset and value the VDDK ABI fixes on
 * Linux x86_64 (reference/vddk-api.md sections 2 and 4).  A failure here
 * means binaries built against VDDK would misread our structs.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "vixDiskLib.h"

#define SIZE(t, n) assert_int_equal(sizeof(t), n)
#define OFF(t, f, n) assert_int_equal(offsetof(t, f), n)

static void basic_types(void **state)
{
  (void)state;
  SIZE(VixError, 8);
  SIZE(VixDiskLibSectorType, 8);
  SIZE(Bool, 1);
  SIZE(VixDiskLibHandle, 8);
  SIZE(VixDiskLibConnection, 8);
  SIZE(VixDiskLibDiskType, 4);
  SIZE(VixDiskLibAdapterType, 4);
  SIZE(VixDiskLibCredType, 4);
  SIZE(VixDiskLibSpecType, 4);
}

static void connect_params(void **state)
{
  (void)state;
  SIZE(VixDiskLibConnectParams, 128);
  OFF(VixDiskLibConnectParams, vmxSpec, 0);
  OFF(VixDiskLibConnectParams, serverName, 8);
  OFF(VixDiskLibConnectParams, thumbPrint, 16);
  OFF(VixDiskLibConnectParams, privateUse, 24);
  OFF(VixDiskLibConnectParams, credType, 32);
  OFF(VixDiskLibConnectParams, creds, 40);
  OFF(VixDiskLibConnectParams, creds.uid.userName, 40);
  OFF(VixDiskLibConnectParams, creds.uid.password, 48);
  OFF(VixDiskLibConnectParams, creds.sessionId.cookie, 40);
  OFF(VixDiskLibConnectParams, creds.sessionId.userName, 48);
  OFF(VixDiskLibConnectParams, creds.sessionId.key, 56);
  OFF(VixDiskLibConnectParams, creds.ticketId, 40);
  OFF(VixDiskLibConnectParams, port, 64);
  OFF(VixDiskLibConnectParams, nfcHostPort, 68);
  OFF(VixDiskLibConnectParams, vimApiVer, 72);
  OFF(VixDiskLibConnectParams, reserved, 80);
  OFF(VixDiskLibConnectParams, state, 88);
  OFF(VixDiskLibConnectParams, spec, 96);
  OFF(VixDiskLibConnectParams, spec.vStorageObjSpec.id, 96);
  OFF(VixDiskLibConnectParams, spec.vStorageObjSpec.datastoreMoRef, 104);
  OFF(VixDiskLibConnectParams, spec.vStorageObjSpec.ssId, 112);
  OFF(VixDiskLibConnectParams, specType, 120);
  SIZE(union VixDiskLibCreds, 24);
  SIZE(VixDiskLibVStorageObjectSpec, 24);
}

static void info_create_blocks(void **state)
{
  (void)state;
  SIZE(VixDiskLibGeometry, 12);
  OFF(VixDiskLibGeometry, heads, 4);
  OFF(VixDiskLibGeometry, sectors, 8);

  SIZE(VixDiskLibInfo, 64);
  OFF(VixDiskLibInfo, biosGeo, 0);
  OFF(VixDiskLibInfo, physGeo, 12);
  OFF(VixDiskLibInfo, capacity, 24);
  OFF(VixDiskLibInfo, adapterType, 32);
  OFF(VixDiskLibInfo, numLinks, 36);
  OFF(VixDiskLibInfo, parentFileNameHint, 40);
  OFF(VixDiskLibInfo, uuid, 48);
  OFF(VixDiskLibInfo, logicalSectorSize, 56);
  OFF(VixDiskLibInfo, physicalSectorSize, 60);

  SIZE(VixDiskLibCreateParams, 32);
  OFF(VixDiskLibCreateParams, diskType, 0);
  OFF(VixDiskLibCreateParams, adapterType, 4);
  OFF(VixDiskLibCreateParams, hwVersion, 8);
  OFF(VixDiskLibCreateParams, capacity, 16);
  OFF(VixDiskLibCreateParams, logicalSectorSize, 24);
  OFF(VixDiskLibCreateParams, physicalSectorSize, 28);

  SIZE(VixDiskLibBlock, 16);
  OFF(VixDiskLibBlock, length, 8);
  SIZE(VixDiskLibBlockList, 24);
  OFF(VixDiskLibBlockList, blocks, 8);
}

static void enum_and_constant_values(void **state)
{
  (void)state;
  assert_int_equal(VIXDISKLIB_DISK_MONOLITHIC_SPARSE, 1);
  assert_int_equal(VIXDISKLIB_DISK_MONOLITHIC_FLAT, 2);
  assert_int_equal(VIXDISKLIB_DISK_SPLIT_SPARSE, 3);
  assert_int_equal(VIXDISKLIB_DISK_SPLIT_FLAT, 4);
  assert_int_equal(VIXDISKLIB_DISK_VMFS_FLAT, 5);
  assert_int_equal(VIXDISKLIB_DISK_STREAM_OPTIMIZED, 6);
  assert_int_equal(VIXDISKLIB_DISK_VMFS_THIN, 7);
  assert_int_equal(VIXDISKLIB_DISK_VMFS_SPARSE, 8);
  assert_int_equal(VIXDISKLIB_DISK_UNKNOWN, 256);
  assert_int_equal(VIXDISKLIB_ADAPTER_IDE, 1);
  assert_int_equal(VIXDISKLIB_ADAPTER_SCSI_BUSLOGIC, 2);
  assert_int_equal(VIXDISKLIB_ADAPTER_SCSI_LSILOGIC, 3);
  assert_int_equal(VIXDISKLIB_ADAPTER_UNKNOWN, 256);
  assert_int_equal(VIXDISKLIB_CRED_UID, 1);
  assert_int_equal(VIXDISKLIB_CRED_SESSIONID, 2);
  assert_int_equal(VIXDISKLIB_CRED_TICKETID, 3);
  assert_int_equal(VIXDISKLIB_CRED_SSPI, 4);
  assert_int_equal(VIXDISKLIB_CRED_UNKNOWN, 256);
  assert_int_equal(VIXDISKLIB_SPEC_VMX, 0);
  assert_int_equal(VIXDISKLIB_SPEC_VSTORAGE_OBJECT, 1);
  assert_int_equal(VIXDISKLIB_SPEC_UNKNOWN, 256);
  assert_int_equal(VIXDISKLIB_FLAG_OPEN_UNBUFFERED, 0x01);
  assert_int_equal(VIXDISKLIB_FLAG_OPEN_SINGLE_LINK, 0x02);
  assert_int_equal(VIXDISKLIB_FLAG_OPEN_READ_ONLY, 0x04);
  assert_int_equal(VIXDISKLIB_FLAG_OPEN_COMPRESSION_ZLIB, 0x10);
  assert_int_equal(VIXDISKLIB_FLAG_OPEN_COMPRESSION_FASTLZ, 0x20);
  assert_int_equal(VIXDISKLIB_FLAG_OPEN_COMPRESSION_SKIPZ, 0x40);
  assert_int_equal(VIXDISKLIB_FLAG_OPEN_COMPRESSION_MASK, 0x03F0);
  assert_int_equal(VIXDISKLIB_SECTOR_SIZE, 512);
  assert_int_equal(VIXDISKLIB_MIN_CHUNK_SIZE, 128);
  assert_int_equal(VIXDISKLIB_MAX_CHUNK_SIZE, 131072);
  assert_int_equal(VIXDISKLIB_MAX_CHUNK_NUMBER, 524288);
  assert_int_equal(VIXDISKLIB_HWVERSION_WORKSTATION_4, 3);
  assert_int_equal(VIXDISKLIB_HWVERSION_WORKSTATION_5, 4);
  assert_int_equal(VIXDISKLIB_HWVERSION_ESX30, 4);
  assert_int_equal(VIXDISKLIB_HWVERSION_WORKSTATION_6, 6);
  assert_int_equal(VIXDISKLIB_HWVERSION_ESX4X, 7);
  assert_int_equal(VIXDISKLIB_HWVERSION_ESX50, 8);
  assert_int_equal(VIXDISKLIB_HWVERSION_ESX51, 9);
  assert_int_equal(VIXDISKLIB_HWVERSION_ESX55, 10);
  assert_int_equal(VIXDISKLIB_HWVERSION_ESX60, 11);
  assert_int_equal(VIXDISKLIB_HWVERSION_ESX65, 13);
  assert_int_equal(VIXDISKLIB_HWVERSION_CURRENT, 13);
  assert_int_equal(VIXDISKLIB_VERSION_MAJOR, 8);
  assert_int_equal(VIXDISKLIB_VERSION_MINOR, 0);
}

static void error_code_values(void **state)
{
  (void)state;
  assert_int_equal(VIX_OK, 0);
  assert_int_equal(VIX_E_FAIL, 1);
  assert_int_equal(VIX_E_INVALID_ARG, 3);
  assert_int_equal(VIX_E_NOT_SUPPORTED, 6);
  assert_int_equal(VIX_E_BUFFER_TOOSMALL, 24);
  assert_int_equal(VIX_E_OBJECT_NOT_FOUND, 25);
  assert_int_equal(VIX_E_INVALID_UTF8_STRING, 27);
  assert_int_equal(VIX_E_ARGUMENT_TOO_BIG, 44);
  assert_int_equal(VIX_E_INVALID_HANDLE, 1000);
  assert_int_equal(VIX_E_HOST_USER_PERMISSIONS, 3014);
  assert_int_equal(VIX_E_VM_NOT_FOUND, 4000);
  assert_int_equal(VIX_E_SNAPSHOT_NOT_REVERTABLE, 13024);
  assert_int_equal(VIX_E_HOST_SERVER_SHUTDOWN, 14014);
  assert_int_equal(VIX_E_DISK_INVAL, 16000);
  assert_int_equal(VIX_E_DISK_CID_MISMATCH, 16008);
  assert_int_equal(VIX_E_DISK_KEY_NOTFOUND, 16052);
  assert_int_equal(VIX_E_DISK_ATTACH_ROOTLINK, 16069);
  assert_int_equal(VIX_ASYNC, 25000);
  assert_int_equal(VIX_ERROR_CODE((VixError)0x123450000ULL | 3), 3);
  assert_true(VIX_SUCCEEDED(VIX_OK));
  assert_true(VIX_FAILED(VIX_E_FAIL));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(basic_types),
    cmocka_unit_test(connect_params),
    cmocka_unit_test(info_create_blocks),
    cmocka_unit_test(enum_and_constant_values),
    cmocka_unit_test(error_code_values),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
