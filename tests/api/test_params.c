/*
 * test_params.c -- ConnectParams ownership (reference/vddk-api.md 7.3, 9):
 * FreeConnectParams never frees caller strings in an AllocateConnectParams
 * struct, GetConnectParams hands out a deep copy, and structs the caller
 * allocated in the old 80-byte layout are never read past vimApiVer (ASan
 * and valgrind would report such a read).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "vixDiskLib.h"

static int setup(void **state)
{
  (void)state;
  return VixDiskLib_InitEx(8, 0, NULL, NULL, NULL, NULL, NULL) == VIX_OK ? 0
                                                                          : -1;
}

static int teardown(void **state)
{
  (void)state;
  VixDiskLib_Exit();
  return 0;
}

static void allocate_then_free_keeps_caller_strings(void **state)
{
  VixDiskLibConnectParams *p = VixDiskLib_AllocateConnectParams();
  char vmx[] = "moref=vm-42";
  char *server = strdup("vc.example"); /* the caller's, freed below */

  (void)state;
  assert_non_null(p);
  for (size_t i = 0; i < sizeof *p; i++)
    assert_int_equal(((unsigned char *)p)[i], 0);
  p->vmxSpec = vmx; /* stack memory: freeing it would crash */
  p->serverName = server;
  VixDiskLib_FreeConnectParams(p);
  assert_string_equal(server, "vc.example");
  free(server);
  VixDiskLib_FreeConnectParams(NULL);
}

static void get_connect_params_is_a_deep_copy(void **state)
{
  VixDiskLibConnectParams *p = VixDiskLib_AllocateConnectParams();
  VixDiskLibConnectParams *copy = NULL;
  VixDiskLibConnection conn = NULL;
  char vmx[] = "moref=vm-7";

  (void)state;
  p->vmxSpec = vmx;
  assert_int_equal(VixDiskLib_ConnectEx(p, TRUE, NULL, NULL, &conn), VIX_OK);
  assert_int_equal(VixDiskLib_GetConnectParams(conn, &copy), VIX_OK);
  assert_non_null(copy);
  assert_ptr_not_equal(copy->vmxSpec, vmx);
  assert_string_equal(copy->vmxSpec, "moref=vm-7");
  VixDiskLib_FreeConnectParams(copy); /* frees the copied strings too */
  assert_int_equal(VixDiskLib_Disconnect(conn), VIX_OK);
  VixDiskLib_FreeConnectParams(p);

  assert_int_equal(VixDiskLib_Connect(NULL, &conn), VIX_OK);
  assert_int_equal(VixDiskLib_GetConnectParams(conn, &copy), VIX_OK);
  assert_null(copy->serverName);
  VixDiskLib_FreeConnectParams(copy);
  assert_int_equal(VixDiskLib_GetConnectParams(conn, NULL), VIX_E_INVALID_ARG);
  assert_int_equal(VixDiskLib_Disconnect(conn), VIX_OK);
}

static void truncated_caller_struct_is_not_overread(void **state)
{
  /* The 6.5 layout ends after vimApiVer: 80 bytes. */
  size_t old_size = offsetof(VixDiskLibConnectParams, reserved);
  VixDiskLibConnectParams *p = calloc(1, old_size);
  VixDiskLibConnection conn = NULL;

  (void)state;
  assert_int_equal(old_size, 80);
  assert_int_equal(VixDiskLib_ConnectEx(p, FALSE, "", NULL, &conn), VIX_OK);
  assert_int_equal(VixDiskLib_Disconnect(conn), VIX_OK);
  assert_int_not_equal(VixDiskLib_PrepareForAccess(p, "test"), VIX_OK);
  free(p);
}

static void foreign_pointer_is_refused_not_freed(void **state)
{
  VixDiskLibConnectParams stack_params;

  (void)state;
  memset(&stack_params, 0, sizeof stack_params);
  VixDiskLib_FreeConnectParams(&stack_params); /* logged, not freed */
}

static void bad_connection_handles(void **state)
{
  VixDiskLibConnection conn = NULL;
  char junk[64];

  (void)state;
  memset(junk, 0x5a, sizeof junk);
  assert_int_equal(VixDiskLib_Disconnect(NULL), VIX_E_INVALID_ARG);
  assert_int_equal(VixDiskLib_Disconnect((VixDiskLibConnection)junk),
                   VIX_E_INVALID_ARG);
  assert_int_equal(VixDiskLib_Connect(NULL, NULL), VIX_E_INVALID_ARG);
  assert_int_equal(VixDiskLib_ConnectEx(NULL, FALSE, NULL, "file:warp", &conn),
                   VIX_E_INVALID_ARG);
  assert_int_equal(VixDiskLib_ConnectEx(NULL, FALSE, NULL, "nbdssl:file", &conn),
                   VIX_OK);
  assert_int_equal(VixDiskLib_Disconnect(conn), VIX_OK);
}

static void transport_modes_and_cleanup(void **state)
{
  uint32 cleaned = 9, remaining = 9;

  (void)state;
  assert_non_null(strstr(VixDiskLib_ListTransportModes(), "file"));
  assert_int_equal(VixDiskLib_Cleanup(NULL, &cleaned, &remaining), VIX_OK);
  assert_int_equal(cleaned, 0);
  assert_int_equal(remaining, 0);
  assert_int_equal(VixDiskLib_Cleanup(NULL, NULL, NULL), VIX_OK);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(allocate_then_free_keeps_caller_strings),
    cmocka_unit_test(get_connect_params_is_a_deep_copy),
    cmocka_unit_test(truncated_caller_struct_is_not_overread),
    cmocka_unit_test(foreign_pointer_is_refused_not_freed),
    cmocka_unit_test(bad_connection_handles),
    cmocka_unit_test(transport_modes_and_cleanup),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
