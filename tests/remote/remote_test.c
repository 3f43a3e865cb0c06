/*
 * remote_test.c -- the remote-disk tests' fixture, see remote_test.h.
 */
#include "remote_test.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "freevix.h"
#include "testutil.h"
#include "vim/vim.h"

struct fvx_sim rt_sim;
char rt_vms[8][64];

int rt_setup(const char *const *sim_args, const char *const *config)
{
  return rt_setup_api(sim_args, config, 8, 0, NULL);
}

int rt_setup_api(const char *const *sim_args, const char *const *config,
                 uint32 major, uint32 minor, VixDiskLibGenericLogFunc *log)
{
  VixDiskLib_Exit(); /* a no-op, unless a failed test left it initialized */
  fvx_sim_start(&rt_sim, sim_args);
  assert_true(fvx_sim_vms(&rt_sim, rt_vms, NULL, 8) >= 2);
  assert_int_equal(freevix_set_config("freevix.connectTo", rt_sim.connect_to),
                   VIX_OK);
  for (size_t i = 0; config && config[i]; i += 2)
    assert_int_equal(freevix_set_config(config[i], config[i + 1]), VIX_OK);
  assert_int_equal(VixDiskLib_InitEx(major, minor, log, log, log, NULL, NULL),
                   VIX_OK);
  return 0;
}

int rt_teardown(void)
{
  VixDiskLib_Exit();
  fvx_sim_stop(&rt_sim);
  return 0;
}

void rt_params(struct rt_vm *v, const char *vm)
{
  fvx_sim_spec(v->spec, sizeof v->spec, vm);
  fvx_sim_params(&rt_sim, &v->p, NULL, v->spec);
}

void rt_sim_disk(const char *vm, int key, const char *snapshot,
                 char sha256[65], char *file, size_t file_len)
{
  char path[256], *body = NULL;
  int st;

  snprintf(path, sizeof path, "/disk/sha256?vm=%s&disk=%d&snapshot=%s", vm,
           key, snapshot ? snapshot : "");
  st = fvx_sim_admin(&rt_sim, "GET", path, NULL, &body);
  if (st != 200)
    fail_msg("GET %s: %d %s", path, st, body ? body : "");
  assert_int_equal(fvx_sim_json_get(body, "sha256", sha256, 65), 0);
  if (file)
    assert_int_equal(fvx_sim_json_get(body, "file", file, file_len), 0);
  free(body);
}

void rt_guest_write(const char *vm, int key, uint64_t offset, uint64_t len,
                    unsigned seed)
{
  char json[256], *body = NULL;
  int st;

  snprintf(json, sizeof json,
           "{\"vm\":\"%s\",\"disk\":%d,\"offset\":%llu,\"length\":%llu,"
           "\"seed\":%u}", vm, key, (unsigned long long)offset,
           (unsigned long long)len, seed);
  st = fvx_sim_admin(&rt_sim, "POST", "/guest/write", json, &body);
  if (st != 200)
    fail_msg("POST /guest/write %s: %d %s", json, st, body ? body : "");
  free(body);
}

/* A session of our own to the simulator, for what an operator does. */
static struct vim_session *operator_session(void)
{
  struct vim_options o;
  struct vim_session *s;
  struct vim_error err;

  memset(&o, 0, sizeof o);
  o.host = rt_sim.host;
  o.port = (unsigned)rt_sim.port;
  o.thumbprint = rt_sim.thumbprint_sha1;
  if (vim_session_new(&s, &o, &err) != VIM_OK ||
      vim_login(s, "admin", "freevix", &err) != VIM_OK)
    fail_msg("operator login: %s", err.detail);
  return s;
}

void rt_power_off(const char *vm)
{
  struct vim_session *s = operator_session();
  struct vim_moref ref, task;
  struct vim_error err;

  vim_moref_set(&ref, "VirtualMachine", vm);
  if (vim_power(s, &ref, false, &task, &err) != VIM_OK ||
      vim_task_wait(s, &task, 60000, NULL, NULL, NULL, &err) != VIM_OK)
    fail_msg("power off %s: %s", vm, err.detail);
  vim_session_free(s);
}

void rt_change_tracking(const char *vm)
{
  struct vim_session *s = operator_session();
  struct vim_moref ref, task;
  struct vim_error err;

  vim_moref_set(&ref, "VirtualMachine", vm);
  if (vim_set_change_tracking(s, &ref, true, &task, &err) != VIM_OK ||
      vim_task_wait(s, &task, 60000, NULL, NULL, NULL, &err) != VIM_OK)
    fail_msg("enable CBT on %s: %s", vm, err.detail);
  vim_session_free(s);
}

void rt_snapshot(const char *vm, const char *name, char *ref, size_t n)
{
  struct rt_vm v;
  char *snap = NULL;

  rt_params(&v, vm);
  assert_int_equal(freevix_snapshot_create(&v.p, name, 60, &snap), VIX_OK);
  snprintf(ref, n, "%s", snap);
  freevix_free(snap);
}

VixError rt_open(const char *vm, const char *snapshot, const char *modes,
                 bool write, VixDiskLibConnection *conn, VixDiskLibHandle *h)
{
  struct rt_vm v;
  char sha[65], file[1024];
  VixError err;

  rt_sim_disk(vm, 2000, snapshot, sha, file, sizeof file);
  rt_params(&v, vm);
  assert_int_equal(VixDiskLib_ConnectEx(&v.p, write ? FALSE : TRUE, snapshot,
                                        modes, conn),
                   VIX_OK);
  err = VixDiskLib_Open(*conn, file, write ? 0 : VIXDISKLIB_FLAG_OPEN_READ_ONLY,
                        h);
  if (err)
    assert_int_equal(VixDiskLib_Disconnect(*conn), VIX_OK);
  return err;
}

void rt_close(VixDiskLibConnection conn, VixDiskLibHandle h)
{
  assert_int_equal(VixDiskLib_Close(h), VIX_OK);
  assert_int_equal(VixDiskLib_Disconnect(conn), VIX_OK);
}

void rt_sim_chunks(const char *vm, const char *snapshot, uint8_t *map,
                   size_t n_chunks)
{
  char path[256], *body = NULL, *p;

  snprintf(path, sizeof path, "/disk/allocated?vm=%s&disk=2000&snapshot=%s",
           vm, snapshot ? snapshot : "");
  assert_int_equal(fvx_sim_admin(&rt_sim, "GET", path, NULL, &body), 200);
  memset(map, 0, (n_chunks + 7) / 8);
  for (p = strstr(body, "\"offset\":"); p; p = strstr(p + 1, "\"offset\":")) {
    unsigned long long off = strtoull(p + 9, NULL, 10), len;
    char *l = strstr(p, "\"length\":");

    assert_non_null(l);
    len = strtoull(l + 9, NULL, 10);
    for (unsigned long long c = off / 65536;
         c < (off + len + 65535) / 65536 && c < n_chunks; c++)
      map[c / 8] |= (uint8_t)(1u << (c % 8));
  }
  free(body);
}

void rt_allocated_chunks(VixDiskLibHandle h, uint8_t *map, size_t n_chunks)
{
  VixDiskLibBlockList *bl;

  assert_int_equal(VixDiskLib_QueryAllocatedBlocks(h, 0, n_chunks * 128, 128,
                                                   &bl),
                   VIX_OK);
  memset(map, 0, (n_chunks + 7) / 8);
  for (uint32 i = 0; i < bl->numBlocks; i++)
    for (uint64_t c = bl->blocks[i].offset / 128;
         c < (bl->blocks[i].offset + bl->blocks[i].length) / 128; c++)
      map[c / 8] |= (uint8_t)(1u << (c % 8));
  VixDiskLib_FreeBlockList(bl);
}

struct inflight {
  int done;
  VixError err;
};

static void on_done(void *data, VixError err)
{
  struct inflight *f = data;

  __atomic_store_n(&f->err, err, __ATOMIC_RELAXED);
  __atomic_store_n(&f->done, 1, __ATOMIC_RELEASE);
}

void rt_read_sha256(VixDiskLibHandle h, int async, char sha256[65])
{
  enum { CHUNK = 2048, DEPTH = 4 }; /* 1 MiB requests, 4 in flight */
  VixDiskLibInfo *info = NULL;
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  unsigned char digest[32];
  unsigned int dl = 0;
  uint8_t *buf = malloc((size_t)DEPTH * CHUNK * 512);
  uint64_t cap;

  assert_non_null(md);
  assert_non_null(buf);
  assert_int_equal(VixDiskLib_GetInfo(h, &info), VIX_OK);
  cap = info->capacity;
  VixDiskLib_FreeInfo(info);
  EVP_DigestInit_ex(md, EVP_sha256(), NULL);
  for (uint64_t pos = 0; pos < cap;) {
    struct inflight f[DEPTH];
    uint64_t n[DEPTH];
    int k = 0;

    memset(f, 0, sizeof f);
    for (; k < DEPTH && pos < cap; k++) {
      n[k] = cap - pos < CHUNK ? cap - pos : CHUNK;
      if (async) {
        assert_int_equal(VixDiskLib_ReadAsync(h, pos, n[k],
                                              buf + (size_t)k * CHUNK * 512,
                                              on_done, &f[k]),
                         VIX_ASYNC);
      } else {
        assert_int_equal(VixDiskLib_Read(h, pos, n[k],
                                         buf + (size_t)k * CHUNK * 512),
                         VIX_OK);
      }
      pos += n[k];
    }
    if (async) {
      assert_int_equal(VixDiskLib_Wait(h), VIX_OK);
      for (int i = 0; i < k; i++) {
        assert_int_equal(__atomic_load_n(&f[i].done, __ATOMIC_ACQUIRE), 1);
        assert_int_equal(f[i].err, VIX_OK);
      }
    }
    for (int i = 0; i < k; i++)
      EVP_DigestUpdate(md, buf + (size_t)i * CHUNK * 512, n[i] * 512);
  }
  EVP_DigestFinal_ex(md, digest, &dl);
  EVP_MD_CTX_free(md);
  free(buf);
  for (unsigned int i = 0; i < dl; i++)
    snprintf(sha256 + 2 * i, 3, "%02x", digest[i]);
}
