/*
 * vddk_program.c -- a program written against VDDK's documented API, using
 * only VDDK names, built against vixDiskLib.h and linked against the shared
 * library exactly as a VDDK user would.  It calls the library-level entry
 * points and takes the address of every other function, so a missing
 * symbol fails the link.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vixDiskLib.h"

#define VIXDISKLIB_VERSION_MAJOR_WANTED 7
#define VIXDISKLIB_VERSION_MINOR_WANTED 0

static int failures;

static void check(int cond, const char *what)
{
  if (!cond) {
    fprintf(stderr, "FAIL: %s\n", what);
    failures++;
  }
}

static void LogFunc(const char *fmt, va_list args)
{
  printf("log: ");
  vprintf(fmt, args);
  printf("\n");
}

static void WarnFunc(const char *fmt, va_list args)
{
  printf("warn: ");
  vprintf(fmt, args);
  printf("\n");
}

static void PanicFunc(const char *fmt, va_list args)
{
  printf("panic: ");
  vprintf(fmt, args);
  printf("\n");
  exit(10);
}

typedef void (*AnyFunc)(void);

int main(void)
{
  VixDiskLibConnectParams *cnxParams;
  VixDiskLibConnection conn = NULL;
  VixError vixError;
  char *msg;
  /* Every function of the API, so the link proves they all exist. */
  AnyFunc all[] = {
    (AnyFunc)VixDiskLib_InitEx, (AnyFunc)VixDiskLib_Init,
    (AnyFunc)VixDiskLib_Exit, (AnyFunc)VixDiskLib_ListTransportModes,
    (AnyFunc)VixDiskLib_Cleanup, (AnyFunc)VixDiskLib_Connect,
    (AnyFunc)VixDiskLib_ConnectEx, (AnyFunc)VixDiskLib_Disconnect,
    (AnyFunc)VixDiskLib_PrepareForAccess, (AnyFunc)VixDiskLib_EndAccess,
    (AnyFunc)VixDiskLib_Create, (AnyFunc)VixDiskLib_CreateChild,
    (AnyFunc)VixDiskLib_Open, (AnyFunc)VixDiskLib_GetInfo,
    (AnyFunc)VixDiskLib_FreeInfo, (AnyFunc)VixDiskLib_GetTransportMode,
    (AnyFunc)VixDiskLib_Close, (AnyFunc)VixDiskLib_Read,
    (AnyFunc)VixDiskLib_ReadAsync, (AnyFunc)VixDiskLib_Write,
    (AnyFunc)VixDiskLib_WriteAsync, (AnyFunc)VixDiskLib_Flush,
    (AnyFunc)VixDiskLib_Wait, (AnyFunc)VixDiskLib_ReadMetadata,
    (AnyFunc)VixDiskLib_WriteMetadata, (AnyFunc)VixDiskLib_GetMetadataKeys,
    (AnyFunc)VixDiskLib_Unlink, (AnyFunc)VixDiskLib_Grow,
    (AnyFunc)VixDiskLib_Shrink, (AnyFunc)VixDiskLib_Defragment,
    (AnyFunc)VixDiskLib_Rename, (AnyFunc)VixDiskLib_Clone,
    (AnyFunc)VixDiskLib_GetErrorText, (AnyFunc)VixDiskLib_FreeErrorText,
    (AnyFunc)VixDiskLib_IsAttachPossible, (AnyFunc)VixDiskLib_Attach,
    (AnyFunc)VixDiskLib_SpaceNeededForClone, (AnyFunc)VixDiskLib_CheckRepair,
    (AnyFunc)VixDiskLib_GetConnectParams,
    (AnyFunc)VixDiskLib_FreeConnectParams,
    (AnyFunc)VixDiskLib_QueryAllocatedBlocks,
    (AnyFunc)VixDiskLib_FreeBlockList,
    (AnyFunc)VixDiskLib_AllocateConnectParams,
  };
  size_t i;

  for (i = 0; i < sizeof all / sizeof all[0]; i++)
    check(all[i] != NULL, "function address");

  vixError = VixDiskLib_InitEx(VIXDISKLIB_VERSION_MAJOR_WANTED,
                               VIXDISKLIB_VERSION_MINOR_WANTED, &LogFunc,
                               &WarnFunc, &PanicFunc, "/usr/lib/vmware-vix-disklib",
                               NULL);
  check(VIX_SUCCEEDED(vixError), "InitEx 7.0");
  printf("transport modes: %s\n", VixDiskLib_ListTransportModes());

  cnxParams = VixDiskLib_AllocateConnectParams();
  check(cnxParams != NULL, "AllocateConnectParams");
  vixError = VixDiskLib_ConnectEx(cnxParams, TRUE, NULL, NULL, &conn);
  check(VIX_SUCCEEDED(vixError), "ConnectEx local");
  check(VIX_SUCCEEDED(VixDiskLib_Disconnect(conn)), "Disconnect");

  vixError = VixDiskLib_PrepareForAccess(cnxParams, "vddk_program");
  check(VIX_FAILED(vixError), "PrepareForAccess without a server fails");
  msg = VixDiskLib_GetErrorText(vixError, NULL);
  check(msg != NULL && strlen(msg) > 0, "GetErrorText");
  printf("PrepareForAccess without a server: %s\n", msg ? msg : "(null)");
  VixDiskLib_FreeErrorText(msg);
  VixDiskLib_FreeErrorText(NULL);
  VixDiskLib_FreeConnectParams(cnxParams);

  VixDiskLib_Exit();
  printf("%d failure(s)\n", failures);
  return failures ? 1 : 0;
}
