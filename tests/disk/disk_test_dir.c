/*
 * disk_test_dir.c -- the disk tests' private directory, disks made in it
 * through the internal API, and their random numbers (disk_test.h).
 */
#include "disk_test.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "testutil.h"

const char *dt_dir;

char *dt_path(const char *name)
{
  static char p[8][4200];
  static int i;

  i = (i + 1) % 8;
  snprintf(p[i], sizeof p[i], "%s/%s", dt_dir, name);
  return p[i];
}

void dt_make(const char *name, enum disk_kind kind, uint64_t cap)
{
  struct disk_create_params p;

  memset(&p, 0, sizeof p);
  p.kind = kind;
  p.adapter = DISK_ADAPTER_LSILOGIC;
  p.capacity = cap;
  p.logical_sector_size = p.physical_sector_size = 512;
  assert_int_equal(disk_create(dt_path(name), &p), DISK_OK);
}

static uint64_t rs = 0x9e3779b97f4a7c15ull;

void dt_seed(uint64_t seed)
{
  rs = seed ? seed : 0x9e3779b97f4a7c15ull;
}

uint64_t dt_rand(void)
{
  rs ^= rs << 13;
  rs ^= rs >> 7;
  rs ^= rs << 17;
  return rs;
}

int dt_dir_setup(void **state)
{
  (void)state;
  dt_dir = fvx_test_tmpdir();
  return 0;
}

int dt_dir_teardown(void **state)
{
  (void)state;
  fvx_test_rmtree(dt_dir);
  return 0;
}
