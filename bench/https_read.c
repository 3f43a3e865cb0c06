/*
 * https_read.c -- throughput of datastore reads over plain HTTP on
 * loopback (not a test): the scripted peer of tests/support serves a
 * 256 MiB file; freevix reads it once as one 256 MiB pread (one ranged
 * GET) and once as 1 MiB preads in sequence, then `curl -o /dev/null`
 * fetches the same URL, for comparison.  Prints MB/s (10^6 bytes) and the
 * CPU time of this process (peer included).
 *
 * Usage: https_read [MiB]   (default 256)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk/disk.h"
#include "disk/error.h"
#include "http_peer.h"
#include "https/https.h"
#include "measure.h"

static int no_auth(void *opaque, const char *url, const char *method,
                   struct https_auth *out)
{
  (void)opaque;
  (void)url;
  (void)method;
  snprintf(out->cookie, sizeof out->cookie, "vmware_soap_session=bench");
  return DISK_OK;
}

static void report(const char *what, size_t bytes, double ms, double cpu)
{
  printf("%-34s %8.1f MB/s  (%zu bytes in %.0f ms, %.0f ms CPU)\n", what,
         (double)bytes / 1e3 / ms, bytes, ms, cpu);
}

int main(int argc, char **argv)
{
  size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 256;
  size_t size = mib << 20;
  unsigned char *data = malloc(size), *buf = malloc(size);
  static const struct https_datastore ds[] = {{"ds1", NULL}};
  struct https_options o = {0};
  struct http_peer *peer;
  struct https_site *site;
  struct disk_file *f;
  const struct disk_vfs *vfs;
  char base[64], cmd[256];
  double t0, c0;
  int rc = 1;

  if (!data || !buf || !mib)
    return 1;
  for (size_t i = 0; i < size; i++)
    data[i] = (unsigned char)(i * 2654435761u >> 24);
  peer = peer_start(NULL);
  peer_add_file(peer, "/folder/vm/big-flat.vmdk", data, size);
  snprintf(base, sizeof base, "http://127.0.0.1:%d", peer_port(peer));
  o.base = base;
  o.allow_http = true;
  o.datastores = ds;
  o.n_datastores = 1;
  o.auth = no_auth;
  if (https_site_new(&site, &o) != DISK_OK)
    goto out;
  vfs = https_site_vfs(site);
  if (vfs->open(vfs, "[ds1] vm/big-flat.vmdk", 0, &f) != DISK_OK)
    goto out_site;

  memset(buf, 0, size);
  t0 = bench_now_ms();
  c0 = bench_cpu_ms();
  if (f->ops->pread(f, buf, size, 0, NULL) != DISK_OK ||
      memcmp(buf, data, size) != 0) {
    fprintf(stderr, "read failed: %s\n", disk_last_error()->detail);
    goto out_file;
  }
  report("freevix, one pread (one GET)", size, bench_now_ms() - t0,
         bench_cpu_ms() - c0);

  t0 = bench_now_ms();
  c0 = bench_cpu_ms();
  for (size_t off = 0; off < size; off += 1 << 20)
    if (f->ops->pread(f, buf + off, 1 << 20, off, NULL) != DISK_OK) {
      fprintf(stderr, "read failed: %s\n", disk_last_error()->detail);
      goto out_file;
    }
  report("freevix, 1 MiB preads in sequence", size, bench_now_ms() - t0,
         bench_cpu_ms() - c0);

  snprintf(cmd, sizeof cmd, "curl -s -o /dev/null -w '%%{speed_download}' "
           "'%s/folder/vm/big-flat.vmdk?dsName=ds1'", base);
  {
    FILE *p;
    double speed = 0;

    t0 = bench_now_ms();
    p = popen(cmd, "r");
    if (p && fscanf(p, "%lf", &speed) == 1)
      printf("%-34s %8.1f MB/s  (%.0f ms wall, curl's own figure)\n",
             "curl -o /dev/null, same URL", speed / 1e6,
             bench_now_ms() - t0);
    if (p)
      pclose(p);
  }
  rc = 0;
out_file:
  f->ops->close(f);
out_site:
  https_site_free(site);
out:
  peer_stop(peer);
  free(data);
  free(buf);
  return rc;
}
