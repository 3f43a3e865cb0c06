/*
 * test_backup_units.c -- the backup command's parts that need no server:
 * the JSON parser's limits, manifests written and read back and refused
 * when damaged, backup directories (points, leftovers, the lock), and the
 * copy engine on local disks -- a full copy keeping holes, an incremental
 * into a child over its parent, a streamOptimized sink, a raw sink, a
 * cancel -- each checked against a SHA-256 computed here.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "backupdir.h"
#include "copy.h"
#include "json.h"
#include "manifest.h"
#include "spans.h"
#include "testutil.h"
#include "vixDiskLib.h"

#define SECTORS 16384u /* 8 MiB */

static char dir[4096];
static VixDiskLibConnection local;

static void quiet(const char *fmt, va_list ap)
{
  (void)fmt;
  (void)ap;
}

static int setup(void **state)
{
  (void)state;
  snprintf(dir, sizeof dir, "%s", fvx_test_tmpdir());
  assert_int_equal(VixDiskLib_InitEx(8, 0, quiet, quiet, NULL, NULL, NULL),
                   VIX_OK);
  assert_int_equal(VixDiskLib_Connect(NULL, &local), VIX_OK);
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  VixDiskLib_Disconnect(local);
  VixDiskLib_Exit();
  fvx_test_rmtree(dir);
  return 0;
}

/* ---- JSON ----------------------------------------------------------------- */

static void json_limits(void **state)
{
  static const char *const bad[] = {
    "", "{", "[1,]", "{\"a\":1,\"a\":2}", "01", "1.5", "1e3", "-",
    "9223372036854775808", "\"\\u0000\"", "\"\\ud800\"", "\"\\udc00x\"",
    "\"\x01\"", "\"\xc0\x80\"", "\"\xed\xa0\x80\"", "nul", "[1] 2",
    "{\"a\" 1}", "\"abc", "\"\\q\"",
  };
  char deep[200], why[160];
  struct json *j;

  (void)state;
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    if (json_parse(bad[i], strlen(bad[i]), &j, why, sizeof why)) {
      json_free(j);
      fail_msg("accepted bad JSON %zu: %s", i, bad[i]);
    }
  }
  memset(deep, '[', 40);
  memset(deep + 40, ']', 40);
  assert_false(json_parse(deep, 80, &j, why, sizeof why));
  assert_non_null(strstr(why, "deeply"));
  {
    static const char ok[] = "{\"k\": [\"\\u00e9\\ud83d\\ude00\", "
                             "-9223372036854775808, true, null]}";

    assert_true(json_parse(ok, strlen(ok), &j, why, sizeof why));
  }
  {
    const struct json *k = json_get(j, "k");

    assert_non_null(k);
    assert_int_equal(k->n, 4);
    assert_string_equal(k->child->s, "\xc3\xa9\xf0\x9f\x98\x80");
    assert_int_equal(k->child->next->i, INT64_MIN);
  }
  json_free(j);
}

/* ---- manifests ----------------------------------------------------------- */

static void sample(struct manifest *m, unsigned point, bool incremental)
{
  static unsigned chain[2];

  memset(m, 0, sizeof *m);
  m->point = point;
  m->kind = incremental ? POINT_INCREMENTAL : POINT_FULL;
  m->parent = incremental ? point - 1 : 0;
  chain[0] = point - 1;
  chain[1] = point;
  m->chain = incremental ? chain : &chain[1];
  m->n_chain = incremental ? 2 : 1;
  snprintf(m->server, sizeof m->server, "vc.example");
  m->port = 443;
  snprintf(m->vm_moref, sizeof m->vm_moref, "vm-42");
  snprintf(m->vm_name, sizeof m->vm_name, "web \"01\"");
  snprintf(m->vm_spec, sizeof m->vm_spec, "moref=vm-42");
  snprintf(m->snapshot_moref, sizeof m->snapshot_moref, "snapshot-7");
  snprintf(m->snapshot_name, sizeof m->snapshot_name, "freevix-backup x");
  snprintf(m->disk_format, sizeof m->disk_format, "vmdk");
  snprintf(m->started, sizeof m->started, "2025-01-01T00:00:00Z");
  snprintf(m->finished, sizeof m->finished, "2025-01-01T00:01:00Z");
  m->n_disks = 1;
  m->disks = calloc(1, sizeof *m->disks);
  m->disks[0].key = 2000;
  m->disks[0].capacity = 8 << 20;
  manifest_disk_name(point, 2000, m->disks[0].file);
  if (incremental)
    manifest_disk_name(point - 1, 2000, m->disks[0].parent_file);
  memset(m->disks[0].sha256, 'a', 64);
}

static void manifests(void **state)
{
  static const struct {
    const char *from, *to, *says;
  } damage[] = {
    {"\"version\": 1", "\"version\": 2", "newer freevix"},
    {"\"format\": \"freevix-backup\"", "\"format\": \"x\"", "not a freevix"},
    {"\"point\": 2", "\"point\": 0", "point: out of range"},
    {"\"kind\": \"incremental\"", "\"kind\": \"full\"", "parent"},
    {"point-0001-disk-2000.vmdk", "../etc/passwd", "parent_file: must be"},
    {"\"capacity\": 8388608", "\"capacity\": 100", "multiple of 512"},
    {"\"sha256\": \"aaaa", "\"sha256\": \"Aaaa", "lowercase hex"},
    {"\"moref\": \"vm-42\"", "\"moref\": 42", "vm.moref: must be a string"},
    {"\"chain\": [\n    1,", "\"chain\": [\n    3,", "chain"},
  };
  struct manifest m, back;
  char why[512], path[4200], *text;

  (void)state;
  sample(&m, 2, true);
  assert_int_equal(manifest_write(dir, &m, why, sizeof why), 0);
  free(m.disks);
  snprintf(path, sizeof path, "%s/point-0002.json", dir);
  assert_true(manifest_read(path, &back, why, sizeof why));
  assert_int_equal(back.point, 2);
  assert_int_equal(back.kind, POINT_INCREMENTAL);
  assert_int_equal(back.parent, 1);
  assert_string_equal(back.vm_name, "web \"01\"");
  assert_string_equal(back.disks[0].parent_file, "point-0001-disk-2000.vmdk");
  manifest_free(&back);
  text = fvx_test_read_file(path, NULL);
  assert_non_null(text);
  for (size_t i = 0; i < sizeof damage / sizeof damage[0]; i++) {
    char *at = strstr(text, damage[i].from), *bad;
    size_t len = strlen(text) + strlen(damage[i].to) + 1;

    if (!at)
      fail_msg("case %zu: \"%s\" not in the manifest", i, damage[i].from);
    bad = malloc(len);
    snprintf(bad, len, "%.*s%s%s", (int)(at - text), text, damage[i].to,
             at + strlen(damage[i].from));
    if (manifest_parse(bad, strlen(bad), &back, why, sizeof why))
      fail_msg("case %zu accepted", i);
    if (!strstr(why, damage[i].says))
      fail_msg("case %zu: \"%s\" does not say \"%s\"", i, why,
               damage[i].says);
    manifest_free(&back);
    free(bad);
  }
  free(text);
  unlink(path);
}

static void backup_directories(void **state)
{
  struct backup_dir d, other;
  struct manifest m;
  char sub[4200], why[512], path[4400], name[256];
  unsigned point;
  int32_t key;

  (void)state;
  assert_true(manifest_parse_name("point-0012.json", &point));
  assert_int_equal(point, 12);
  assert_true(manifest_parse_name("point-123456.json", &point));
  assert_false(manifest_parse_name("point-012.json", &point));
  assert_false(manifest_parse_name("point-00012.json", &point));
  assert_false(manifest_parse_name("point-0000.json", &point));
  assert_true(manifest_parse_disk_name("point-0003-disk-2001.vmdk", &point,
                                       &key));
  assert_int_equal(key, 2001);
  assert_false(manifest_parse_disk_name("point-0003-disk-.vmdk", &point,
                                        &key));
  bdir_vm_name("../web/01 \xc3\xbc", "vm-1", name);
  assert_string_equal(name, "_._web_01___");
  bdir_vm_name("", "vm-1", name);
  assert_string_equal(name, "vm-1");
  bdir_vm_name("//", "vm-1", name);
  assert_string_equal(name, "vm-1");

  snprintf(sub, sizeof sub, "%s/vmdir/x", dir);
  assert_int_equal(bdir_open(&d, sub, BDIR_CREATE | BDIR_LOCK, why,
                             sizeof why), 0);
  assert_int_equal(bdir_open(&other, sub, BDIR_LOCK, why, sizeof why),
                   BDIR_E_BUSY);
  sample(&m, 1, false);
  assert_int_equal(manifest_write(sub, &m, why, sizeof why), 0);
  free(m.disks);
  snprintf(path, sizeof path, "%s/point-0002-disk-2000.vmdk", sub);
  close(open(path, O_CREAT | O_WRONLY, 0600));
  snprintf(path, sizeof path, "%s/notes.txt", sub);
  close(open(path, O_CREAT | O_WRONLY, 0600));
  bdir_close(&d);
  assert_int_equal(bdir_open(&d, sub, BDIR_LOCK, why, sizeof why), 0);
  assert_int_equal(d.n_points, 1);
  assert_int_equal(d.n_leftovers, 1);
  assert_string_equal(d.leftovers[0], "point-0002-disk-2000.vmdk");
  assert_true(bdir_check(&d, "vc.example", "vm-42", why, sizeof why));
  assert_false(bdir_check(&d, "vc.example", "vm-7", why, sizeof why));
  assert_non_null(strstr(why, "a backup of vm-42"));
  assert_int_equal(bdir_remove_leftovers(&d, NULL, NULL), 0);
  bdir_close(&d);
  assert_int_equal(access(path, F_OK), 0); /* not ours: kept */
}

/* ---- the copy engine ------------------------------------------------------- */

static void sha_hex(const unsigned char *data, size_t n, char out[65])
{
  unsigned char md[32];
  unsigned int len;

  EVP_Digest(data, n, md, &len, EVP_sha256(), NULL);
  copy_hex(md, out);
}

/* Creates path (monolithicSparse or stream) and opens it for writing. */
static VixDiskLibHandle create(const char *path, VixDiskLibDiskType type)
{
  VixDiskLibCreateParams cp;
  VixDiskLibHandle h;

  memset(&cp, 0, sizeof cp);
  cp.diskType = type;
  cp.adapterType = VIXDISKLIB_ADAPTER_SCSI_LSILOGIC;
  cp.hwVersion = VIXDISKLIB_HWVERSION_CURRENT;
  cp.capacity = SECTORS;
  unlink(path);
  assert_int_equal(VixDiskLib_Create(local, path, &cp, NULL, NULL), VIX_OK);
  assert_int_equal(VixDiskLib_Open(local, path, 0, &h), VIX_OK);
  return h;
}

/* Writes a pattern at [sector, sector + n) of h and of image. */
static void put(VixDiskLibHandle h, unsigned char *image, uint64_t sector,
                uint64_t n, unsigned char seed)
{
  unsigned char *b = image + sector * 512;

  for (uint64_t i = 0; i < n * 512; i++)
    b[i] = (unsigned char)(seed + i * 7 + (i >> 9));
  assert_int_equal(VixDiskLib_Write(h, sector, n, b), VIX_OK);
}

static void copy_engine(void **state)
{
  unsigned char *image = calloc(SECTORS, 512);
  char src_p[4200], full_p[4200], child_p[4200], stream_p[4200], want[65];
  char got[65];
  VixDiskLibHandle src, full, child, stream;
  struct spans alloc, changed = {NULL, 0, 0}, fill;
  struct copy_job j;
  volatile sig_atomic_t stop = 0;

  (void)state;
  assert_non_null(image);
  snprintf(src_p, sizeof src_p, "%s/src.vmdk", dir);
  snprintf(full_p, sizeof full_p, "%s/full.vmdk", dir);
  snprintf(child_p, sizeof child_p, "%s/child.vmdk", dir);
  snprintf(stream_p, sizeof stream_p, "%s/stream.vmdk", dir);
  src = create(src_p, VIXDISKLIB_DISK_MONOLITHIC_SPARSE);
  put(src, image, 0, 3, 1);
  put(src, image, 1000, 4000, 2);   /* more than a request */
  put(src, image, 9000, 1, 3);
  memset(image + 9000 * 512, 0, 512); /* allocated zeros stay holes */
  assert_int_equal(VixDiskLib_Write(src, 9000, 1, image + 9000 * 512),
                   VIX_OK);
  put(src, image, SECTORS - 2, 2, 4);
  sha_hex(image, (size_t)SECTORS * 512, want);

  /* Full: the allocated blocks, zeros elsewhere, holes kept. */
  assert_int_equal(spans_allocated(src, SECTORS, 128, &alloc), VIX_OK);
  assert_true(alloc.n >= 4);
  full = create(full_p, VIXDISKLIB_DISK_MONOLITHIC_SPARSE);
  memset(&j, 0, sizeof j);
  j.src = src;
  j.capacity = SECTORS;
  j.spans = &alloc;
  j.dst = full;
  j.sink = COPY_SINK_DISK;
  j.chunk = 512;
  j.depth = 3;
  assert_int_equal(copy_run(&j), VIX_OK);
  copy_hex(j.sha256, got);
  assert_string_equal(got, want);
  assert_int_equal(j.bytes_read, spans_total(&alloc) * 512);
  assert_true(j.bytes_written < j.bytes_read); /* the zero grain */

  /* Incremental: change the source, copy the changes into a child of the
   * full copy; the hash covers the parent's data too. */
  put(src, image, 1500, 10, 5);
  memset(image + 9000 * 512, 0, 512);
  put(src, image, 12000, 3, 6);
  assert_true(spans_add(&changed, 1500, 10));
  assert_true(spans_add(&changed, 12000, 3));
  sha_hex(image, (size_t)SECTORS * 512, want);
  assert_int_equal(VixDiskLib_CreateChild(full, child_p,
                                          VIXDISKLIB_DISK_MONOLITHIC_SPARSE,
                                          NULL, NULL), VIX_OK);
  VixDiskLib_Close(full);
  assert_int_equal(VixDiskLib_Open(local, child_p, 0, &child), VIX_OK);
  assert_int_equal(spans_allocated(child, SECTORS, 128, &fill), VIX_OK);
  memset(&j, 0, sizeof j);
  j.src = src;
  j.capacity = SECTORS;
  j.spans = &changed;
  j.fill = COPY_FILL_DST;
  j.dst = child;
  j.fill_spans = &fill;
  j.sink = COPY_SINK_DISK;
  j.write_zeros = true;
  assert_int_equal(copy_run(&j), VIX_OK);
  copy_hex(j.sha256, got);
  assert_string_equal(got, want);
  assert_int_equal(j.bytes_read, 13 * 512);
  spans_free(&fill);
  VixDiskLib_Close(child);

  /* streamOptimized: written in order; and a raw sink. */
  spans_free(&alloc);
  assert_int_equal(spans_allocated(src, SECTORS, 128, &alloc), VIX_OK);
  stream = create(stream_p, VIXDISKLIB_DISK_STREAM_OPTIMIZED);
  memset(&j, 0, sizeof j);
  j.src = src;
  j.capacity = SECTORS;
  j.spans = &alloc;
  j.dst = stream;
  j.sink = COPY_SINK_DISK;
  assert_int_equal(copy_run(&j), VIX_OK);
  VixDiskLib_Close(stream);
  {
    char raw_p[4200];
    int fd;

    snprintf(raw_p, sizeof raw_p, "%s/raw.img", dir);
    fd = open(raw_p, O_RDWR | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(ftruncate(fd, (off_t)SECTORS * 512), 0);
    assert_int_equal(VixDiskLib_Open(local, stream_p,
                                     VIXDISKLIB_FLAG_OPEN_READ_ONLY, &stream),
                     VIX_OK);
    spans_free(&alloc);
    assert_int_equal(spans_allocated(stream, SECTORS, 128, &alloc), VIX_OK);
    memset(&j, 0, sizeof j);
    j.src = stream;
    j.capacity = SECTORS;
    j.spans = &alloc;
    j.sink = COPY_SINK_FD;
    j.fd = fd;
    assert_int_equal(copy_run(&j), VIX_OK);
    copy_hex(j.sha256, got);
    assert_string_equal(got, want);
    assert_int_equal(pread(fd, image, (size_t)SECTORS * 512, 0),
                     (ssize_t)SECTORS * 512);
    sha_hex(image, (size_t)SECTORS * 512, got);
    assert_string_equal(got, want);
    close(fd);
  }

  /* A cancel stops the copy, with every request finished. */
  stop = SIGINT;
  memset(&j, 0, sizeof j);
  j.src = stream;
  j.capacity = SECTORS;
  j.spans = &alloc;
  j.cancel = &stop;
  assert_int_equal(copy_run(&j), VIX_E_CANCELLED);
  assert_non_null(strstr(j.what, "cancelled"));
  VixDiskLib_Close(stream);
  VixDiskLib_Close(src);
  spans_free(&alloc);
  spans_free(&changed);
  free(image);
}

/* spans_union: overlapping, touching, nested and disjoint spans merge
 * into one sorted list (what a restore into a VM writes). */
static void span_union(void **state)
{
  struct spans a = {0}, b = {0}, u, empty = {0};

  (void)state;
  assert_true(spans_add(&a, 0, 10));
  assert_true(spans_add(&a, 20, 5));
  assert_true(spans_add(&a, 100, 50));
  assert_true(spans_add(&b, 5, 10));    /* overlaps [0,10) */
  assert_true(spans_add(&b, 25, 5));    /* touches [20,25) */
  assert_true(spans_add(&b, 110, 10));  /* inside [100,150) */
  assert_true(spans_add(&b, 200, 1));
  assert_true(spans_union(&a, &b, &u));
  assert_int_equal(u.n, 4);
  assert_int_equal(u.v[0].start, 0);
  assert_int_equal(u.v[0].count, 15);
  assert_int_equal(u.v[1].start, 20);
  assert_int_equal(u.v[1].count, 10);
  assert_int_equal(u.v[2].start, 100);
  assert_int_equal(u.v[2].count, 50);
  assert_int_equal(u.v[3].start, 200);
  assert_int_equal(u.v[3].count, 1);
  spans_free(&u);
  assert_true(spans_union(&empty, &b, &u));
  assert_int_equal(spans_total(&u), spans_total(&b));
  spans_free(&u);
  spans_free(&a);
  spans_free(&b);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(json_limits),
    cmocka_unit_test(manifests),
    cmocka_unit_test(backup_directories),
    cmocka_unit_test(copy_engine),
    cmocka_unit_test(span_union),
  };

  return cmocka_run_group_tests(tests, setup, teardown);
}
