/*
 * disk_test.c -- helpers of the cmocka disk tests that use the public API
 * (disk_test.h).
 */
#include "disk_test.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util/log.h"

VixDiskLibConnection dt_conn;

void dt_create(const char *path, VixDiskLibDiskType type, uint64_t cap)
{
  VixDiskLibCreateParams p;

  memset(&p, 0, sizeof p);
  p.diskType = type;
  p.adapterType = VIXDISKLIB_ADAPTER_SCSI_BUSLOGIC;
  p.hwVersion = VIXDISKLIB_HWVERSION_WORKSTATION_5;
  p.capacity = cap;
  assert_int_equal(VixDiskLib_Create(dt_conn, path, &p, NULL, NULL), VIX_OK);
}

VixError dt_open_err(const char *path, uint32 flags)
{
  VixDiskLibHandle h = NULL;
  VixError err = VixDiskLib_Open(dt_conn, path, flags, &h);

  if (!err)
    VixDiskLib_Close(h);
  return err;
}

int dt_setup(void **state)
{
  dt_dir_setup(state);
  if (VixDiskLib_InitEx(8, 0, NULL, NULL, NULL, NULL, NULL) != VIX_OK ||
      VixDiskLib_Connect(NULL, &dt_conn) != VIX_OK)
    return -1;
  return 0;
}

int dt_teardown(void **state)
{
  VixDiskLib_Disconnect(dt_conn);
  VixDiskLib_Exit();
  return dt_dir_teardown(state);
}

char dt_last_line[1024];

static void keep_line(void *opaque, enum fvx_log_level level, const char *msg)
{
  (void)opaque;
  (void)level;
  snprintf(dt_last_line, sizeof dt_last_line, "%s", msg);
  fprintf(stderr, "freevix: %s\n", msg);
}

int dt_setup_logged(void **state)
{
  int r = dt_setup(state);

  fvx_log_set_sink(keep_line, NULL);
  return r;
}
