/*
 * test_disk_random.c -- randomized writes, reads, grows, child chains,
 * attaches, shrinks and defragmentations against an in-memory model of the
 * disk.
 *
 * Each round creates a base disk of a random hosted type, then runs a
 * random mix of operations: writes of random ranges (random bytes or
 * zeros), reads compared with the model, grows (close, VixDiskLib_Grow,
 * reopen, the model gains zeros), new children (the chain gets a link; the
 * model is unchanged), reopens (also as the top child opened SINGLE_LINK
 * and attached to its reopened parent), Shrink and Defragment (the model is
 * unchanged; a child or a flat disk must refuse Shrink with its specific
 * error), and allocation queries (every sector the model holds non-zero
 * data in must lie in a reported block).  The seed is printed;
 * FREEVIX_SEED=<n> replays a run.  Bounded: a fixed number of operations
 * and a wall-clock cap.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "disk_test.h"
#include "testutil.h"
#include "vixDiskLib.h"

#define CHECK(cond, ...)                                                     \
  do {                                                                       \
    if (!(cond)) {                                                           \
      fprintf(stderr, "FAIL (seed %llu, op %d): ", (unsigned long long)seed, \
              op);                                                           \
      fprintf(stderr, __VA_ARGS__);                                          \
      fprintf(stderr, "\n");                                                 \
      exit(1);                                                               \
    }                                                                        \
  } while (0)

int main(void)
{
  const char *env = getenv("FREEVIX_SEED");
  uint64_t seed = env ? strtoull(env, NULL, 0) : (uint64_t)time(NULL);
  int rounds = fvx_test_under_valgrind() ? 2 : 6;
  int ops = fvx_test_under_valgrind() ? 150 : 1500, op = 0, r;
  time_t start = time(NULL);
  VixDiskLibConnection conn;
  const char *dir = fvx_test_tmpdir();
  static const VixDiskLibDiskType types[] = {
      VIXDISKLIB_DISK_MONOLITHIC_SPARSE, VIXDISKLIB_DISK_SPLIT_SPARSE,
      VIXDISKLIB_DISK_MONOLITHIC_FLAT, VIXDISKLIB_DISK_VMFS_FLAT};

  printf("seed %llu (replay with FREEVIX_SEED=%llu)\n",
         (unsigned long long)seed, (unsigned long long)seed);
  dt_seed(seed * 2654435761u + 12345);
  CHECK(VixDiskLib_InitEx(8, 0, NULL, NULL, NULL, NULL, NULL) == VIX_OK,
        "init");
  CHECK(VixDiskLib_Connect(NULL, &conn) == VIX_OK, "connect");
  for (r = 0; r < rounds && time(NULL) - start < 60; r++) {
    uint64_t cap = 2048 + dt_rand() % 8192; /* 1..5 MiB, odd sizes */
    uint8_t *model = calloc(cap, 512), *buf;
    VixDiskLibCreateParams p;
    VixDiskLibHandle h;
    static char chain[4][4200]; /* base, children */
    char path[4200];
    int links = 1, o;

    snprintf(path, sizeof path, "%s/r%d-base.vmdk", dir, r);
    strcpy(chain[0], path);
    memset(&p, 0, sizeof p);
    p.diskType = types[dt_rand() % 4];
    p.adapterType = VIXDISKLIB_ADAPTER_SCSI_LSILOGIC;
    p.capacity = cap;
    CHECK(VixDiskLib_Create(conn, path, &p, NULL, NULL) == VIX_OK,
          "create type %d", (int)p.diskType);
    CHECK(VixDiskLib_Open(conn, path, 0, &h) == VIX_OK, "open");
    for (o = 0; o < ops / rounds; o++, op++) {
      unsigned what = (unsigned)(dt_rand() % 100);
      uint64_t s = dt_rand() % cap, n = 1 + dt_rand() % 300;

      if (s + n > cap)
        n = cap - s;
      if (what < 45) { /* write */
        uint64_t i;

        buf = malloc(n * 512);
        for (i = 0; i < n * 64; i++)
          ((uint64_t *)buf)[i] = dt_rand() % 4 == 0 ? 0 : dt_rand();
        if (dt_rand() % 5 == 0)
          memset(buf, 0, n * 512);
        CHECK(VixDiskLib_Write(h, s, n, buf) == VIX_OK, "write %llu+%llu",
              (unsigned long long)s, (unsigned long long)n);
        memcpy(model + s * 512, buf, n * 512);
        free(buf);
      } else if (what < 85) { /* read */
        buf = malloc(n * 512);
        CHECK(VixDiskLib_Read(h, s, n, buf) == VIX_OK, "read");
        CHECK(memcmp(buf, model + s * 512, n * 512) == 0,
              "data differs at %llu+%llu (links %d)", (unsigned long long)s,
              (unsigned long long)n, links);
        free(buf);
      } else if (what < 90) { /* allocation query covers the data */
        VixDiskLibBlockList *bl;
        uint64_t chunks = (cap + 127) / 128, i, b = 0;

        CHECK(VixDiskLib_QueryAllocatedBlocks(h, 0, chunks * 128, 128, &bl) ==
                  VIX_OK, "query");
        for (i = 0; i < cap; i++) {
          static const uint8_t z[512];

          if (!memcmp(model + i * 512, z, 512))
            continue;
          while (b < bl->numBlocks &&
                 bl->blocks[b].offset + bl->blocks[b].length <= i)
            b++;
          CHECK(b < bl->numBlocks && bl->blocks[b].offset <= i,
                "sector %llu holds data but is not in a block",
                (unsigned long long)i);
        }
        VixDiskLib_FreeBlockList(bl);
      } else if (what < 93 && links == 1) { /* grow the base */
        uint64_t ncap = cap + 1 + dt_rand() % 4096;
        uint8_t *nm;

        CHECK(VixDiskLib_Close(h) == VIX_OK, "close");
        CHECK(VixDiskLib_Grow(conn, path, ncap, FALSE, NULL, NULL) == VIX_OK,
              "grow");
        nm = realloc(model, ncap * 512);
        CHECK(nm != NULL, "oom");
        model = nm;
        memset(model + cap * 512, 0, (ncap - cap) * 512);
        cap = ncap;
        CHECK(VixDiskLib_Open(conn, path, 0, &h) == VIX_OK, "reopen");
      } else if (what < 96 && links < 4) { /* new child on top */
        char child[4200];

        snprintf(child, sizeof child, "%s/r%d-c%d.vmdk", dir, r, links);
        CHECK(VixDiskLib_CreateChild(h, child,
                                     VIXDISKLIB_DISK_MONOLITHIC_SPARSE, NULL,
                                     NULL) == VIX_OK, "child");
        CHECK(VixDiskLib_Close(h) == VIX_OK, "close");
        CHECK(VixDiskLib_Open(conn, child, 0, &h) == VIX_OK, "open child");
        strcpy(path, child);
        strcpy(chain[links], child);
        links++;
      } else if (what < 98) { /* shrink or defragment in place */
        int shrink = (int)(dt_rand() % 2);
        VixError want = VIX_OK, got;

        if (shrink && links > 1)
          want = VIX_E_DISK_CANTSHRINK;
        else if (shrink && (p.diskType == VIXDISKLIB_DISK_MONOLITHIC_FLAT ||
                            p.diskType == VIXDISKLIB_DISK_VMFS_FLAT))
          want = VIX_E_DISK_NOTSUPPORTED;
        got = shrink ? VixDiskLib_Shrink(h, NULL, NULL)
                     : VixDiskLib_Defragment(h, NULL, NULL);
        CHECK(got == want, "%s gave %llu, expected %llu",
              shrink ? "shrink" : "defragment", (unsigned long long)got,
              (unsigned long long)want);
      } else if (what < 99 && links > 1) { /* reopen by Attach */
        VixDiskLibHandle parent;
        uint32 pflags = dt_rand() % 2 ? VIXDISKLIB_FLAG_OPEN_READ_ONLY : 0;

        CHECK(VixDiskLib_Close(h) == VIX_OK, "close");
        CHECK(VixDiskLib_Open(conn, chain[links - 1],
                              VIXDISKLIB_FLAG_OPEN_SINGLE_LINK, &h) == VIX_OK,
              "open child single link");
        CHECK(VixDiskLib_Open(conn, chain[links - 2], pflags, &parent) ==
                  VIX_OK, "open parent");
        CHECK(VixDiskLib_Attach(parent, h) == VIX_OK, "attach");
      } else { /* reopen */
        CHECK(VixDiskLib_Close(h) == VIX_OK, "close");
        CHECK(VixDiskLib_Open(conn, path, 0, &h) == VIX_OK, "reopen");
      }
    }
    CHECK(VixDiskLib_Close(h) == VIX_OK, "close");
    free(model);
  }
  VixDiskLib_Disconnect(conn);
  VixDiskLib_Exit();
  fvx_test_rmtree(dir);
  printf("ok: %d operations in %d rounds\n", op, r);
  return 0;
}
