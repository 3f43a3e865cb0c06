/*
 * backup_test.c -- see backup_test.h.  The simulator's JSON is scanned
 * with plain string searches: its shapes are fixed (sim/README.md, admin
 * endpoint) and the keys looked for do not occur inside its strings.
 */
#include "backup_test.h"

#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

void bt_params(const struct fvx_sim *sim, const char *spec,
               VixDiskLibConnectParams *p)
{
  memset(p, 0, sizeof *p);
  p->serverName = (char *)sim->host;
  p->port = (uint32)sim->port;
  p->thumbPrint = (char *)sim->thumbprint_sha1;
  p->credType = VIXDISKLIB_CRED_UID;
  p->creds.uid.userName = (char *)"admin";
  p->creds.uid.password = (char *)"freevix";
  p->vmxSpec = (char *)spec;
}

void bt_quiet(const char *fmt, va_list ap)
{
  (void)fmt;
  (void)ap;
}

/* The part of GET /vms describing vm: [*start, *end). */
static char *vm_object(const struct fvx_sim *sim, const char *vm,
                       const char **start, const char **end)
{
  char *body = NULL, key[96];
  const char *next;

  assert_int_equal(fvx_sim_admin(sim, "GET", "/vms", NULL, &body), 200);
  snprintf(key, sizeof key, "{\"moref\":\"%s\"", vm);
  *start = strstr(body, key);
  if (!*start)
    fail_msg("the simulator lists no VM %s", vm);
  next = strstr(*start + 1, "{\"moref\":\"vm-");
  *end = next ? next : *start + strlen(*start);
  return body;
}

int bt_snapshots(const struct fvx_sim *sim, const char *vm, char refs[][64],
                 int max)
{
  const char *start, *end, *p;
  char *body = vm_object(sim, vm, &start, &end);
  int n = 0;

  p = strstr(start, "\"snapshots\":[");
  assert_true(p && p < end);
  while ((p = strstr(p, "{\"moref\":\"snapshot-")) && p < end) {
    p += strlen("{\"moref\":\"");
    if (refs && n < max)
      snprintf(refs[n], 64, "%.*s", (int)strcspn(p, "\""), p);
    n++;
  }
  free(body);
  return n;
}

void bt_change_id(const struct fvx_sim *sim, const char *vm, int key,
                  char *out, size_t n)
{
  const char *start, *end, *p;
  char *body = vm_object(sim, vm, &start, &end), k[32];

  snprintf(k, sizeof k, "{\"key\":%d,", key);
  p = strstr(start, k);
  assert_true(p && p < end);
  p = strstr(p, "\"change_id\":\"");
  assert_non_null(p);
  p += strlen("\"change_id\":\"");
  snprintf(out, n, "%.*s", (int)strcspn(p, "\""), p);
  free(body);
}

void bt_disk_sha256(const struct fvx_sim *sim, const char *vm, int key,
                    const char *snapshot, char out[65])
{
  char path[256], *body = NULL;

  snprintf(path, sizeof path, "/disk/sha256?vm=%s&disk=%d&snapshot=%s", vm,
           key, snapshot ? snapshot : "");
  assert_int_equal(fvx_sim_admin(sim, "GET", path, NULL, &body), 200);
  assert_int_equal(fvx_sim_json_get(body, "sha256", out, 65), 0);
  assert_int_equal(strlen(out), 64);
  free(body);
}

void bt_guest_write(const struct fvx_sim *sim, const char *vm, int key,
                    uint64_t offset, uint64_t length, uint64_t seed)
{
  char json[256];

  snprintf(json, sizeof json, "{\"vm\":\"%s\",\"disk\":%d,\"offset\":%" PRIu64
           ",\"length\":%" PRIu64 ",\"seed\":%" PRIu64 "}", vm, key, offset,
           length, seed);
  assert_int_equal(fvx_sim_admin(sim, "POST", "/guest/write", json, NULL),
                   200);
}

void bt_cbt_reset(const struct fvx_sim *sim, const char *vm)
{
  char json[128];

  snprintf(json, sizeof json, "{\"vm\":\"%s\"}", vm);
  assert_int_equal(fvx_sim_admin(sim, "POST", "/cbt/reset", json, NULL), 200);
}

long long bt_stat(const struct fvx_sim *sim, const char *section,
                  const char *key)
{
  char *body = NULL, k[96];
  const char *p;
  long long v = -1;

  assert_int_equal(fvx_sim_admin(sim, "GET", "/stats", NULL, &body), 200);
  p = body;
  if (section) {
    snprintf(k, sizeof k, "\"%s\":{", section);
    p = strstr(body, k);
  }
  snprintf(k, sizeof k, "\"%s\":", key);
  if (p)
    p = strstr(p, k);
  if (p)
    v = strtoll(p + strlen(k), NULL, 10);
  free(body);
  return v;
}
