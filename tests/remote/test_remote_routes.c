/*
 * test_remote_routes.c -- which endpoint serves datastore reads
 * (freevix.httpsRoute: the VM's host with generic service tickets, or
 * vCenter with the session cookie; auto falls back to vCenter when the host
 * cannot be reached), and remote disks on a bare ESXi host (HostAgent: its
 * own files, dcPath ha-datacenter, NFC tickets without a host).
 *
 * The simulator counts /folder bytes per server (GET /stats
 * folder_bytes_by_server), which tells the routes apart.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "freevix.h"
#include "remote_test.h"
#include "testutil.h"
#include "vixDiskLib.h"

#define KEY 2000

static const char *const sim_args[] = {"--disk-size", "8MiB", "--vms", "2",
                                       "--running-base-read", "allow", NULL};

/* The number after the first key ending in key_end inside the object
 * "object" of GET /stats; missing reads as 0. */
static long stat_in(const char *object, const char *key_end)
{
  char *body = NULL, *p;
  long n = 0;

  assert_int_equal(fvx_sim_admin(&rt_sim, "GET", "/stats", NULL, &body), 200);
  p = strstr(body, object);
  if (p && (p = strstr(p, key_end)) != NULL)
    n = strtol(p + strlen(key_end), NULL, 10);
  free(body);
  return n;
}

/* Bytes /folder served by server (a host's name or "vcenter"). */
static long served(const char *server)
{
  char key[300];

  snprintf(key, sizeof key, "\"%s\":", server);
  return stat_in("\"folder_bytes_by_server\"", key);
}

/* Requests the simulator answered for the flat extent (HEAD and GET). */
static long flat_requests(void)
{
  return stat_in("\"requests_by_path\"", "-flat.vmdk\":");
}

/* Reads vm's snapshot snap over HTTPS (ReadAsync with async, else Read);
 * returns the Open result. */
static VixError read_https(const char *vm, const char *snap, int async)
{
  struct rt_vm v;
  VixDiskLibConnection conn;
  VixDiskLibHandle h;
  char expect[65], got[65], file[1024];
  VixError err;

  rt_sim_disk(vm, KEY, snap, expect, file, sizeof file);
  rt_params(&v, vm);
  assert_int_equal(VixDiskLib_ConnectEx(&v.p, TRUE, snap, "https", &conn),
                   VIX_OK);
  err = VixDiskLib_Open(conn, file, VIXDISKLIB_FLAG_OPEN_READ_ONLY, &h);
  if (!err) {
    rt_read_sha256(h, async, got);
    assert_string_equal(got, expect);
    assert_int_equal(VixDiskLib_Close(h), VIX_OK);
  }
  assert_int_equal(VixDiskLib_Disconnect(conn), VIX_OK);
  return err;
}

/* The simulator's connect_to with every host's HTTPS port replaced by a
 * closed one (port 1): hosts the client cannot reach. */
static void unreachable_hosts(char *out, size_t n)
{
  const char *p = rt_sim.connect_to;
  size_t len = 0;

  out[0] = '\0';
  while (*p) {
    size_t e = strcspn(p, ",");
    const char *https = memmem(p, e, ":443:", 5);

    if (https) {
      const char *last = memrchr(p, ':', e);
      int w = snprintf(out + len, n - len, "%s%.*s:1", len ? "," : "",
                       (int)(last - p), p);

      assert_true(w > 0 && (size_t)w < n - len);
      len += (size_t)w;
    }
    p += e;
    if (*p == ',')
      p++;
  }
}

/* InitEx again with these settings (after an Exit); read_ahead NULL keeps
 * freevix.httpsReadAhead's default. */
static void reinit(const char *route, const char *connect_to,
                   const char *read_ahead)
{
  VixDiskLib_Exit();
  assert_int_equal(freevix_set_config("freevix.connectTo", connect_to), VIX_OK);
  assert_int_equal(freevix_set_config("freevix.httpsRoute", route), VIX_OK);
  if (read_ahead)
    assert_int_equal(freevix_set_config("freevix.httpsReadAhead", read_ahead),
                     VIX_OK);
  assert_int_equal(VixDiskLib_InitEx(8, 0, NULL, NULL, NULL, NULL, NULL),
                   VIX_OK);
}

static void routes(void **state)
{
  char snap[64], unreachable[4096];
  const char *vm;
  long before;

  (void)state;
  rt_setup(sim_args, NULL);
  vm = rt_vms[0];
  rt_snapshot(vm, "r-route", snap, sizeof snap);

  reinit("vcenter", rt_sim.connect_to, NULL);
  before = served("vcenter");
  assert_int_equal(read_https(vm, snap, 1), VIX_OK);
  assert_true(served("vcenter") > before + 4 * 1024 * 1024);

  /* The VM's host: every request with its own single-use ticket. */
  reinit("host", rt_sim.connect_to, NULL);
  assert_int_equal(fvx_sim_admin(&rt_sim, "POST", "/stats/reset", NULL, NULL),
                   200);
  assert_int_equal(read_https(vm, snap, 1), VIX_OK);
  assert_int_equal(served("vcenter"), 0);

  /* A host the client cannot reach (every name mapped to a closed port):
   * host fails with a network error, auto reads through vCenter. */
  unreachable_hosts(unreachable, sizeof unreachable);
  reinit("host", unreachable, NULL);
  assert_int_equal(read_https(vm, snap, 1), VIX_E_NET_HTTP_COULDNT_CONNECT);
  reinit("auto", unreachable, NULL);
  before = served("vcenter");
  assert_int_equal(read_https(vm, snap, 1), VIX_OK);
  assert_true(served("vcenter") > before);
  rt_teardown();
}

/* Sequential reads are read ahead (docs/https.md, "Read-ahead"): fewer
 * requests for the same bytes, and the bytes exact; with
 * freevix.httpsReadAhead 0 one request per read. */
static void read_ahead_in_sequence(void **state)
{
  char snap[64];
  long with, without, bytes_with, bytes_without;
  const char *vm;

  (void)state;
  rt_setup(sim_args, NULL);
  vm = rt_vms[1];
  rt_snapshot(vm, "r-ahead", snap, sizeof snap);
  reinit("vcenter", rt_sim.connect_to, NULL);
  assert_int_equal(fvx_sim_admin(&rt_sim, "POST", "/stats/reset", NULL, NULL),
                   200);
  assert_int_equal(read_https(vm, snap, 0), VIX_OK); /* 8 MiB, 1 MiB Reads */
  with = flat_requests();
  bytes_with = served("vcenter");

  reinit("vcenter", rt_sim.connect_to, "0");
  assert_int_equal(fvx_sim_admin(&rt_sim, "POST", "/stats/reset", NULL, NULL),
                   200);
  assert_int_equal(read_https(vm, snap, 0), VIX_OK);
  without = flat_requests();
  bytes_without = served("vcenter");
  print_message("flat extent: %ld requests with read-ahead, %ld without; "
                "%ld and %ld bytes\n", with, without, bytes_with,
                bytes_without);
  assert_true(with > 0);
  assert_true(without >= 8);     /* a HEAD and a GET per 1 MiB read */
  assert_true(with < without);
  assert_int_equal(bytes_with, bytes_without); /* nothing read twice */
  rt_teardown();
}

static void esx_host(void **state)
{
  static const char *const esx_args[] = {"--mode", "esx", "--disk-size",
                                         "8MiB", "--vms", "2", NULL};
  struct rt_vm v;
  VixDiskLibConnection conn;
  VixDiskLibHandle h;
  char snap[64], expect[65], got[65], file[1024];
  const char *vm;

  (void)state;
  rt_setup(esx_args, NULL);
  vm = rt_vms[0];
  rt_snapshot(vm, "r-esx", snap, sizeof snap);
  rt_guest_write(vm, KEY, 0, 65536, 31);
  rt_sim_disk(vm, KEY, snap, expect, file, sizeof file);
  rt_params(&v, vm);
  /* NFC on the host itself: the ticket names no host (nfc.md §1). */
  assert_int_equal(VixDiskLib_ConnectEx(&v.p, TRUE, snap, NULL, &conn),
                   VIX_OK);
  assert_int_equal(VixDiskLib_Open(conn, file, VIXDISKLIB_FLAG_OPEN_READ_ONLY,
                                   &h),
                   VIX_OK);
  assert_string_equal(VixDiskLib_GetTransportMode(h), "nbdssl");
  rt_read_sha256(h, 1, got);
  assert_string_equal(got, expect);
  assert_int_equal(VixDiskLib_Close(h), VIX_OK);
  assert_int_equal(VixDiskLib_Disconnect(conn), VIX_OK);
  /* The datastore path of a powered-off VM, dcPath ha-datacenter. */
  rt_power_off(rt_vms[1]);
  assert_int_equal(read_https(rt_vms[1], NULL, 1), VIX_OK);
  rt_teardown();
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(routes),
      cmocka_unit_test(read_ahead_in_sequence),
      cmocka_unit_test(esx_host),
  };

  return cmocka_run_group_tests(tests, NULL, NULL);
}
