/*
 * test_disk_seam.c -- the byte-source seam under the VMDK code (file.h):
 * the checked wrappers and the POSIX vfs, disk_open_vfs over a source of
 * our own, and disk_open_raw.
 *
 * The fake source serves files from memory (copies of disks made on the
 * local file system), counts every call, and can be told to lack the write
 * capability or to fail its reads with a chosen status; through it the
 * tests see exactly what the format code asks of a source -- in particular
 * that it never writes to one without DISK_FILE_CAN_WRITE.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "disk/disk.h"
#include "disk/error.h"
#include "disk/file.h"
#include "disk_test.h"
#include "testutil.h"

/* ---- the fake source ---------------------------------------------------- */

#define FAKE_FILES 8
#define FAKE_CHUNK 65536u /* allocation granularity of the fake */

struct blob {
  char name[128];
  uint8_t *data;
  size_t len;
};

static struct fake {
  struct blob files[FAKE_FILES];
  size_t n;
  unsigned caps;     /* given to every file opened */
  int fail_reads;    /* status every pread returns, 0 for none */
  int fail_writes;   /* status every pwrite returns, 0 for none */
  const bool *alloc; /* per FAKE_CHUNK: allocated? (CAN_ALLOC files) */
  size_t n_alloc;
  int opens, preads, pwrites, syncs, truncates, locks, allocs, closes;
} fake;

struct fake_file {
  struct disk_file base;
  struct blob *b;
};

static struct blob *blob_of(struct disk_file *f)
{
  return ((struct fake_file *)f)->b;
}

static int fake_pread(struct disk_file *f, void *buf, size_t len, uint64_t off,
                      size_t *got)
{
  struct blob *b = blob_of(f);
  size_t real = off < b->len ? b->len - (size_t)off : 0;

  fake.preads++;
  if (fake.fail_reads)
    return disk_fail(fake.fail_reads, "%s: fake read failure", f->name);
  if (real > len)
    real = len;
  if (real)
    memcpy(buf, b->data + off, real);
  memset((uint8_t *)buf + real, 0, len - real);
  *got = real;
  return DISK_OK;
}

static int fake_pwrite(struct disk_file *f, const void *buf, size_t len,
                       uint64_t off)
{
  struct blob *b = blob_of(f);

  fake.pwrites++;
  if (fake.fail_writes)
    return disk_fail(fake.fail_writes, "%s: fake write refused", f->name);
  if (off + len > b->len) {
    uint8_t *nd = realloc(b->data, (size_t)off + len);

    assert_non_null(nd);
    memset(nd + b->len, 0, (size_t)off + len - b->len);
    b->data = nd;
    b->len = (size_t)off + len;
  }
  memcpy(b->data + off, buf, len);
  return DISK_OK;
}

static int fake_sync(struct disk_file *f)
{
  (void)f;
  fake.syncs++;
  return DISK_OK;
}

static int fake_truncate(struct disk_file *f, uint64_t size)
{
  (void)f;
  (void)size;
  fake.truncates++;
  return DISK_OK;
}

static int fake_lock(struct disk_file *f)
{
  (void)f;
  fake.locks++;
  return DISK_OK;
}

static int fake_allocated(struct disk_file *f, uint64_t off, uint64_t len,
                          uint64_t *run, bool *allocated)
{
  uint64_t c = off / FAKE_CHUNK, end = off + len, pos;

  (void)f;
  fake.allocs++;
  *allocated = c < fake.n_alloc && fake.alloc[c];
  for (pos = (c + 1) * FAKE_CHUNK; pos < end; pos += FAKE_CHUNK)
    if ((pos / FAKE_CHUNK < fake.n_alloc && fake.alloc[pos / FAKE_CHUNK]) !=
        *allocated)
      break;
  *run = (pos < end ? pos : end) - off;
  return DISK_OK;
}

static void fake_close(struct disk_file *f)
{
  fake.closes++;
  free(f->name);
  free(f);
}

static const struct disk_file_ops fake_ops = {
    .name = "fake",
    .pread = fake_pread,
    .pwrite = fake_pwrite,
    .sync = fake_sync,
    .truncate = fake_truncate,
    .lock = fake_lock,
    .allocated = fake_allocated,
    .close = fake_close,
};

static struct disk_file *fake_file(struct blob *b)
{
  struct fake_file *ff = calloc(1, sizeof *ff);

  assert_non_null(ff);
  ff->b = b;
  ff->base.ops = &fake_ops;
  ff->base.caps = fake.caps;
  ff->base.size = b->len;
  ff->base.name = strdup(b->name);
  assert_non_null(ff->base.name);
  snprintf(ff->base.id, sizeof ff->base.id, "fake:%s", b->name);
  return &ff->base;
}

/* Names are "[mem] file.vmdk"; the fake ignores DISK_VFS_WRITE and hands
 * out its files with fake.caps, as a careless remote source might. */
static int fake_open(const struct disk_vfs *vfs, const char *path,
                     unsigned flags, struct disk_file **out)
{
  size_t i;

  (void)vfs;
  (void)flags;
  *out = NULL;
  fake.opens++;
  for (i = 0; i < fake.n; i++)
    if (strcmp(fake.files[i].name, path) == 0) {
      *out = fake_file(&fake.files[i]);
      return DISK_OK;
    }
  return disk_fail(DISK_E_NOTFOUND, "%s: no such fake file", path);
}

static char *fake_resolve(const struct disk_vfs *vfs, const char *base,
                          const char *name, int *status)
{
  char *p = malloc(strlen(name) + 7);

  (void)vfs;
  (void)base;
  assert_non_null(p);
  sprintf(p, "[mem] %s", name);
  *status = DISK_OK;
  return p;
}

static const struct disk_vfs fake_vfs = {"fake", fake_open, fake_resolve,
                                         NULL};

static void fake_reset(unsigned caps)
{
  size_t i;

  for (i = 0; i < fake.n; i++)
    free(fake.files[i].data);
  memset(&fake, 0, sizeof fake);
  fake.caps = caps;
}

/* Adds a fake file "[mem] name" holding text. */
static void fake_add(const char *name, const char *text)
{
  struct blob *b = &fake.files[fake.n++];

  snprintf(b->name, sizeof b->name, "[mem] %s", name);
  b->len = strlen(text);
  b->data = (uint8_t *)strdup(text);
  assert_non_null(b->data);
}

/* Copies the local file name (in dt_dir) into the fake as "[mem] name". */
static struct blob *fake_load(const char *name)
{
  struct blob *b = &fake.files[fake.n++];

  snprintf(b->name, sizeof b->name, "[mem] %s", name);
  b->data = (uint8_t *)fvx_test_read_file(dt_path(name), &b->len);
  assert_non_null(b->data);
  return b;
}

/* ---- helpers ------------------------------------------------------------ */

static void fill(struct disk *d, uint64_t s, uint64_t n, uint8_t v)
{
  uint8_t *b = malloc(n * DISK_SECTOR);

  assert_non_null(b);
  memset(b, v, n * DISK_SECTOR);
  assert_int_equal(disk_write(d, s, n, b), DISK_OK);
  free(b);
}

/* A base with data and a child over it, on the local file system. */
static void make_chain(void)
{
  struct disk *d;

  dt_make("base.vmdk", DISK_KIND_MONO_SPARSE, 4096);
  assert_int_equal(disk_open(&d, dt_path("base.vmdk"), 0), DISK_OK);
  fill(d, 0, 1000, 0x11);
  assert_int_equal(
      disk_create_child(d, dt_path("child.vmdk"), DISK_KIND_MONO_SPARSE),
      DISK_OK);
  assert_int_equal(disk_close(d), DISK_OK);
  assert_int_equal(disk_open(&d, dt_path("child.vmdk"), 0), DISK_OK);
  fill(d, 500, 20, 0x22);
  assert_int_equal(disk_close(d), DISK_OK);
}

/* ---- wrappers and the posix vfs ----------------------------------------- */

static void test_posix_source(void **state)
{
  const struct disk_vfs *vfs = disk_vfs_posix();
  struct disk_file *ro, *rw, *again;
  uint8_t buf[600];
  char *name;
  size_t got = 99;
  uint64_t run;
  bool a;
  int st, fd;

  (void)state;
  fd = open(dt_path("plain"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, "hello", 5), 5);
  close(fd);
  assert_int_equal(vfs->open(vfs, dt_path("plain"), 0, &ro), DISK_OK);
  assert_int_equal(ro->size, 5);
  assert_true(ro->caps & DISK_FILE_CONCURRENT);
  assert_false(ro->caps & DISK_FILE_CAN_WRITE);
  /* past the end: zeros, and got says how much was real */
  memset(buf, 0xff, sizeof buf);
  assert_int_equal(disk_file_pread(ro, buf, sizeof buf, 2, &got), DISK_OK);
  assert_int_equal(got, 3);
  assert_memory_equal(buf, "llo\0\0", 5);
  /* one overflow rule for reads and writes, nothing sent */
  assert_int_equal(disk_file_pread(ro, buf, 2, (uint64_t)INT64_MAX, NULL),
                   DISK_E_TOOBIG);
  assert_int_equal(disk_file_pread(ro, buf, 1, UINT64_MAX, NULL),
                   DISK_E_TOOBIG);
  /* capabilities */
  assert_int_equal(disk_file_pwrite(ro, "x", 1, 0), DISK_E_NOTCAPABLE);
  assert_non_null(strstr(disk_last_error()->detail, "plain"));
  assert_int_equal(disk_file_truncate(ro, 0), DISK_E_NOTCAPABLE);
  assert_int_equal(disk_file_lock(ro), DISK_E_NOTCAPABLE);
  assert_int_equal(disk_file_allocated(ro, 0, 1, &run, &a), DISK_E_NOTCAPABLE);
  assert_int_equal(vfs->open(vfs, dt_path("plain"), DISK_VFS_WRITE, &rw),
                   DISK_OK);
  assert_int_equal(disk_file_pwrite(rw, "x", 1, (uint64_t)INT64_MAX),
                   DISK_E_TOOBIG);
  assert_int_equal(disk_file_pwrite(rw, "!", 1, 9), DISK_OK);
  assert_int_equal(rw->size, 10);
  assert_int_equal(disk_file_sync(rw), DISK_OK);
  assert_int_equal(disk_file_truncate(rw, 6), DISK_OK);
  assert_int_equal(rw->size, 6);
  /* the writer lock: one holder, a second open description conflicts */
  assert_int_equal(disk_file_lock(rw), DISK_OK);
  assert_int_equal(vfs->open(vfs, dt_path("plain"), DISK_VFS_WRITE, &again),
                   DISK_OK);
  assert_int_equal(disk_file_lock(again), DISK_E_LOCKED);
  /* identity: another name of the same file has the same id */
  assert_string_equal(ro->id, again->id);
  disk_file_close(again);
  assert_int_equal(vfs->open(vfs, dt_path("./plain"), 0, &again), DISK_OK);
  assert_string_equal(ro->id, again->id);
  disk_file_close(again);
  disk_file_close(rw);
  disk_file_close(ro);
  disk_file_close(NULL);
  /* only regular files; a missing one is NOTFOUND */
  assert_int_equal(vfs->open(vfs, dt_dir, 0, &ro), DISK_E_ARG);
  assert_null(ro);
  assert_int_equal(vfs->open(vfs, dt_path("none"), 0, &ro), DISK_E_NOTFOUND);
  /* names resolve in the directory of the base file */
  name = vfs->resolve(vfs, "/a/b/c.vmdk", "d-flat.vmdk", &st);
  assert_string_equal(name, "/a/b/d-flat.vmdk");
  free(name);
  name = vfs->resolve(vfs, "/a/b/c.vmdk", "/x/y.vmdk", &st);
  assert_string_equal(name, "/x/y.vmdk");
  free(name);
  assert_null(vfs->resolve(vfs, "/a/b/c.vmdk", "", &st));
  assert_int_equal(st, DISK_E_NAME);
}

/* ---- disk_open_vfs ------------------------------------------------------ */

/* Reads the whole disk d (cap sectors) into a new buffer. */
static uint8_t *read_all(struct disk *d, uint64_t cap)
{
  uint8_t *b = malloc(cap * DISK_SECTOR);

  assert_non_null(b);
  assert_int_equal(disk_read(d, 0, cap, b), DISK_OK);
  return b;
}

static void test_open_vfs_readonly_source(void **state)
{
  struct disk *local, *d;
  struct disk_info info;
  uint8_t *want, *got;
  struct blob *base, *child;
  uint8_t *base0, *child0;
  uint64_t len;
  bool alloc;

  (void)state;
  make_chain();
  fake_reset(DISK_FILE_CONCURRENT); /* read-only: no CAN_WRITE */
  base = fake_load("base.vmdk");
  child = fake_load("child.vmdk");
  base0 = malloc(base->len);
  child0 = malloc(child->len);
  memcpy(base0, base->data, base->len);
  memcpy(child0, child->data, child->len);
  assert_int_equal(
      disk_open(&local, dt_path("child.vmdk"), DISK_OPEN_READONLY), DISK_OK);
  want = read_all(local, 4096);
  disk_close(local);

  /* read-only over the fake: the same bytes, parents through the vfs */
  assert_int_equal(
      disk_open_vfs(&d, &fake_vfs, "[mem] child.vmdk", DISK_OPEN_READONLY),
      DISK_OK);
  disk_get_info(d, &info);
  assert_int_equal(info.num_links, 2);
  assert_string_equal(disk_path(d), "[mem] child.vmdk");
  got = read_all(d, 4096);
  assert_memory_equal(got, want, 4096 * DISK_SECTOR);
  assert_int_equal(disk_block_status(d, 500, 100, &len, &alloc), DISK_OK);
  assert_true(alloc);
  assert_int_equal(disk_meta_set(d, "x", "y"), DISK_E_READONLY);
  assert_true(fake.preads > 0);
  disk_close(d);
  free(got);

  /* read-write over a source that cannot write: refused before anything is
   * sent, the files untouched, everything opened closed again */
  fake.pwrites = fake.truncates = fake.locks = 0;
  fake.opens = fake.closes = 0;
  assert_int_equal(disk_open_vfs(&d, &fake_vfs, "[mem] child.vmdk", 0),
                   DISK_E_NOTCAPABLE);
  assert_null(d);
  assert_non_null(strstr(disk_last_error()->detail, "[mem] child.vmdk"));
  assert_int_equal(fake.pwrites, 0);
  assert_int_equal(fake.truncates, 0);
  assert_int_equal(fake.locks, 0);
  assert_int_equal(fake.opens, fake.closes);
  assert_memory_equal(base->data, base0, base->len);
  assert_memory_equal(child->data, child0, child->len);
  /* single link opens no parent */
  fake.opens = 0;
  assert_int_equal(disk_open_vfs(&d, &fake_vfs, "[mem] child.vmdk",
                                 DISK_OPEN_READONLY | DISK_OPEN_SINGLE_LINK),
                   DISK_OK);
  assert_int_equal(fake.opens, 1);
  disk_close(d);
  free(want);
  free(base0);
  free(child0);
  fake_reset(0);
}

static void test_open_vfs_read_failure(void **state)
{
  struct disk *d;
  uint8_t buf[DISK_SECTOR];

  (void)state;
  dt_make("fail.vmdk", DISK_KIND_MONO_FLAT, 64);
  fake_reset(DISK_FILE_CONCURRENT);
  fake_load("fail.vmdk");
  fake_load("fail-flat.vmdk");
  assert_int_equal(
      disk_open_vfs(&d, &fake_vfs, "[mem] fail.vmdk", DISK_OPEN_READONLY),
      DISK_OK);
  fake.fail_reads = DISK_E_NET_TIMEOUT;
  disk_error_clear();
  assert_int_equal(disk_read(d, 3, 1, buf), DISK_E_NET_TIMEOUT);
  assert_int_equal(disk_last_error()->status, DISK_E_NET_TIMEOUT);
  assert_non_null(strstr(disk_last_error()->detail, "[mem] fail-flat.vmdk"));
  fake.fail_reads = 0;
  assert_int_equal(disk_read(d, 3, 1, buf), DISK_OK);
  disk_close(d);
  /* a failure while opening is the open's result */
  fake.fail_reads = DISK_E_AUTH;
  assert_int_equal(
      disk_open_vfs(&d, &fake_vfs, "[mem] fail.vmdk", DISK_OPEN_READONLY),
      DISK_E_AUTH);
  fake_reset(0);
}

/* ---- disk_open_raw ------------------------------------------------------ */

static struct blob raw_blob;

/* A 4 MiB "remote disk": chunk i holds the byte i+1; chunks 16..47 are a
 * hole of the source (still readable: the source reports what it knows). */
static struct disk_file *raw_file(unsigned caps)
{
  static bool alloc[64];
  size_t i;

  free(raw_blob.data);
  memset(&raw_blob, 0, sizeof raw_blob);
  snprintf(raw_blob.name, sizeof raw_blob.name, "nfc://host/[ds] vm/d.vmdk");
  raw_blob.len = 64 * FAKE_CHUNK;
  raw_blob.data = malloc(raw_blob.len);
  assert_non_null(raw_blob.data);
  for (i = 0; i < 64; i++) {
    memset(raw_blob.data + i * FAKE_CHUNK, (int)(i + 1), FAKE_CHUNK);
    alloc[i] = i < 16 || i >= 48;
  }
  fake.caps = caps;
  fake.alloc = alloc;
  fake.n_alloc = 64;
  return fake_file(&raw_blob);
}

static const char *const raw_ddb[] = {"ddb.adapterType",
                                      "lsilogic",
                                      "geometry.cylinders",
                                      "8",
                                      "ddb.geometry.heads",
                                      "16",
                                      "ddb.geometry.sectors",
                                      "63",
                                      "ddb.uuid",
                                      "60 00 c2 11",
                                      NULL};

static void test_open_raw(void **state)
{
  struct disk *d;
  struct disk_info info;
  const char *v;
  uint8_t buf[8 * DISK_SECTOR];
  uint64_t len, cap = 64 * FAKE_CHUNK / DISK_SECTOR, sect = FAKE_CHUNK / 512;
  bool alloc;
  char keys[256];
  size_t need;

  (void)state;
  fake_reset(0);
  assert_int_equal(
      disk_open_raw(&d, raw_file(DISK_FILE_CAN_ALLOC | DISK_FILE_CONCURRENT),
                    raw_ddb, DISK_KIND_VMFS_FLAT, DISK_OPEN_READONLY),
      DISK_OK);
  disk_get_info(d, &info);
  assert_int_equal(info.capacity, cap);
  assert_int_equal(info.kind, DISK_KIND_VMFS_FLAT);
  assert_int_equal(info.adapter, DISK_ADAPTER_LSILOGIC);
  assert_int_equal(info.phys.cylinders, 8);
  assert_int_equal(info.bios.heads, 16);
  assert_int_equal(info.num_links, 1);
  assert_null(info.parent_hint);
  assert_string_equal(info.uuid, "60 00 c2 11");
  assert_int_equal(disk_meta_get(d, "adapterType", &v), DISK_OK);
  assert_string_equal(v, "lsilogic");
  assert_int_equal(disk_meta_keys(d, keys, sizeof keys, &need), DISK_OK);
  assert_string_equal(keys, "adapterType");
  assert_int_equal(disk_meta_set(d, "adapterType", "ide"), DISK_E_NOTCAPABLE);
  /* block status asks the source: allocated, hole, allocated */
  assert_int_equal(disk_block_status(d, 0, cap, &len, &alloc), DISK_OK);
  assert_true(alloc);
  assert_int_equal(len, 16 * sect);
  assert_int_equal(
      disk_block_status(d, 16 * sect, cap - 16 * sect, &len, &alloc), DISK_OK);
  assert_false(alloc);
  assert_int_equal(len, 32 * sect);
  assert_int_equal(disk_block_status(d, 48 * sect + 3, 10, &len, &alloc),
                   DISK_OK);
  assert_true(alloc);
  assert_int_equal(len, 10);
  assert_true(fake.allocs >= 3);
  /* ... but reads still read the bytes, holes included */
  fake.preads = 0;
  assert_int_equal(disk_read(d, 20 * sect, 8, buf), DISK_OK);
  assert_int_equal(fake.preads, 1);
  assert_int_equal(buf[0], 21);
  assert_int_equal(buf[sizeof buf - 1], 21);
  assert_int_equal(disk_write(d, 0, 1, buf), DISK_E_READONLY);
  fake.closes = 0;
  assert_int_equal(disk_close(d), DISK_OK);
  assert_int_equal(fake.closes, 1);

  /* without CAN_ALLOC everything is allocated, no query is made */
  fake.allocs = 0;
  assert_int_equal(disk_open_raw(&d, raw_file(0), NULL, DISK_KIND_UNKNOWN,
                                 DISK_OPEN_READONLY),
                   DISK_OK);
  assert_int_equal(disk_block_status(d, 0, cap, &len, &alloc), DISK_OK);
  assert_true(alloc);
  assert_int_equal(len, cap);
  assert_int_equal(fake.allocs, 0);
  assert_int_equal(disk_meta_get(d, "adapterType", &v), DISK_E_KEY);
  disk_close(d);

  /* writable over a source that cannot write: refused, the file closed */
  fake.closes = 0;
  assert_int_equal(
      disk_open_raw(&d, raw_file(0), NULL, DISK_KIND_VMFS_FLAT, 0),
      DISK_E_NOTCAPABLE);
  assert_null(d);
  assert_int_equal(fake.closes, 1);
  /* a bad ddb key: refused, the file closed */
  {
    static const char *const bad[] = {"ddb.bad key", "x", NULL};

    fake.closes = 0;
    assert_int_equal(disk_open_raw(&d, raw_file(0), bad, DISK_KIND_VMFS_FLAT,
                                   DISK_OPEN_READONLY),
                     DISK_E_ARG);
    assert_int_equal(fake.closes, 1);
  }

  /* writable: data goes to the logical offset, and nothing else is ever
   * written (no descriptor, no CID, no lock) */
  fake.pwrites = fake.truncates = fake.locks = fake.syncs = 0;
  assert_int_equal(
      disk_open_raw(&d, raw_file(DISK_FILE_CAN_WRITE | DISK_FILE_CAN_SYNC),
                    raw_ddb, DISK_KIND_VMFS_FLAT, 0),
      DISK_OK);
  memset(buf, 0xee, sizeof buf);
  assert_int_equal(disk_write(d, 100, 8, buf), DISK_OK);
  assert_int_equal(disk_write(d, 3000, 2, buf), DISK_OK);
  assert_int_equal(disk_flush(d), DISK_OK);
  assert_int_equal(disk_meta_set(d, "uuid", "z"), DISK_E_NOTCAPABLE);
  /* a write the source refuses comes back with its status and detail */
  fake.fail_writes = DISK_E_REMOTE;
  assert_int_equal(disk_write(d, 200, 1, buf), DISK_E_REMOTE);
  assert_non_null(strstr(disk_last_error()->detail, "refused"));
  fake.fail_writes = 0;
  assert_int_equal(disk_close(d), DISK_OK);
  assert_int_equal(fake.pwrites, 3);
  assert_int_equal(raw_blob.data[200 * DISK_SECTOR], 2); /* unchanged */
  assert_int_equal(fake.truncates, 0);
  assert_int_equal(fake.locks, 0);
  assert_true(fake.syncs >= 1);
  assert_int_equal(raw_blob.data[100 * DISK_SECTOR], 0xee);
  assert_int_equal(raw_blob.data[100 * DISK_SECTOR - 1], 1);
  assert_int_equal(raw_blob.data[108 * DISK_SECTOR], 1);
  assert_int_equal(raw_blob.data[3000 * DISK_SECTOR + 1023], 0xee);
  free(raw_blob.data);
  memset(&raw_blob, 0, sizeof raw_blob);
  fake_reset(0);
}

/* Flat links over a CAN_ALLOC source: holes of the bottom link are "not
 * allocated"; a flat link above a parent is never asked (its holes read as
 * zeros and hide the parent). */
static void test_flat_allocation_bottom_only(void **state)
{
  static bool alloc_map[64] = {true, false};
  struct disk *d;
  uint64_t len;
  bool alloc;

  (void)state;
  fake_reset(DISK_FILE_CAN_ALLOC);
  fake_add("par.vmdk", "CID=0000000a\ncreateType=\"monolithicFlat\"\n"
                       "RW 8192 FLAT \"d-flat.vmdk\" 0\n");
  fake_add("top.vmdk", "CID=0000000b\nparentCID=0000000a\n"
                       "parentFileNameHint=\"par.vmdk\"\n"
                       "createType=\"monolithicFlat\"\n"
                       "RW 8192 FLAT \"d-flat.vmdk\" 0\n");
  fake_add("d-flat.vmdk", "");
  fake.alloc = alloc_map;
  fake.n_alloc = 64;
  assert_int_equal(
      disk_open_vfs(&d, &fake_vfs, "[mem] par.vmdk", DISK_OPEN_READONLY),
      DISK_OK);
  assert_int_equal(disk_block_status(d, 0, 1000, &len, &alloc), DISK_OK);
  assert_true(alloc);
  assert_int_equal(len, 128);
  assert_int_equal(disk_block_status(d, 128, 1000, &len, &alloc), DISK_OK);
  assert_false(alloc);
  assert_int_equal(len, 1000);
  disk_close(d);
  assert_int_equal(
      disk_open_vfs(&d, &fake_vfs, "[mem] top.vmdk", DISK_OPEN_READONLY),
      DISK_OK);
  fake.allocs = 0;
  assert_int_equal(disk_block_status(d, 128, 1000, &len, &alloc), DISK_OK);
  assert_true(alloc);
  assert_int_equal(len, 1000);
  assert_int_equal(fake.allocs, 0);
  disk_close(d);
  fake_reset(0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_posix_source),
      cmocka_unit_test(test_open_vfs_readonly_source),
      cmocka_unit_test(test_open_vfs_read_failure),
      cmocka_unit_test(test_open_raw),
      cmocka_unit_test(test_flat_allocation_bottom_only),
  };

  return cmocka_run_group_tests(tests, dt_dir_setup, dt_dir_teardown);
}
