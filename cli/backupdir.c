/*
 * backupdir.c -- a VM's backup directory, see backupdir.h.
 *
 * The scan classifies file names only; manifests are parsed by bdir_load
 * and bdir_check when someone needs their content.  The lock is flock on a
 * file that is never renamed or removed, held for the whole backup, and
 * taken without waiting: a second backup of the same VM into the same
 * directory is refused rather than queued behind the first.
 */
#include "backupdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/dirs.h"

#define LOCK_NAME ".freevix.lock"

/* Makes the directory's entries durable. */
static int sync_dir(const struct backup_dir *d)
{
  int fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int e = 0;

  if (fd < 0 || fsync(fd) != 0)
    e = errno ? errno : EIO;
  if (fd >= 0)
    close(fd);
  return e;
}

static void forget_point(struct backup_dir *d, unsigned point)
{
  size_t k = 0;

  for (size_t i = 0; i < d->n_points; i++)
    if (d->points[i] != point)
      d->points[k++] = d->points[i];
  d->n_points = k;
}

int bdir_remove_point(struct backup_dir *d, const struct manifest *m,
                      void (*report)(void *data, const char *file, int err),
                      void *data)
{
  char name[64], path[4300];
  int first = 0, e = 0;

  manifest_name(m->point, name);
  errno = 0;
  if (!bdir_file(d, name, path, sizeof path) || unlink(path) != 0)
    e = errno ? errno : ENAMETOOLONG;
  if (!e)
    e = sync_dir(d);
  if (report)
    report(data, name, e);
  if (e)
    return e;
  forget_point(d, m->point);
  for (size_t i = 0; i < m->n_disks; i++) {
    errno = 0;
    e = 0;
    if (!bdir_file(d, m->disks[i].file, path, sizeof path) ||
        (unlink(path) != 0 && errno != ENOENT))
      e = errno ? errno : ENAMETOOLONG;
    if (report)
      report(data, m->disks[i].file, e);
    if (e && !first)
      first = e;
  }
  return first;
}

uint64_t bdir_point_bytes(const struct backup_dir *d,
                          const struct manifest *m)
{
  uint64_t total = 0;

  for (size_t i = 0; i < m->n_disks; i++) {
    char path[4300];
    struct stat st;

    if (bdir_file(d, m->disks[i].file, path, sizeof path) &&
        stat(path, &st) == 0)
      total += (uint64_t)st.st_blocks * 512;
  }
  return total;
}

bool bdir_file(const struct backup_dir *d, const char *name, char *out,
               size_t n)
{
  int w = snprintf(out, n, "%s/%s", d->path, name);

  return w > 0 && (size_t)w < n;
}

void bdir_vm_name(const char *vm_name, const char *moref, char out[256])
{
  size_t k = 0;

  for (const char *p = vm_name; *p && k < 200; p++) {
    char c = *p;
    bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                (c >= '0' && c <= '9') || c == '-' || c == '_' ||
                (c == '.' && k > 0);

    out[k++] = keep ? c : '_';
  }
  out[k] = '\0';
  if (!k || strspn(out, "_") == k)
    snprintf(out, 256, "%s", moref);
}

static int add_point(struct backup_dir *d, unsigned point)
{
  unsigned *v;

  if (d->n_points == BDIR_MAX_ENTRIES)
    return BDIR_E_MANY;
  v = realloc(d->points, (d->n_points + 1) * sizeof *v);
  if (!v)
    return ENOMEM;
  d->points = v;
  d->points[d->n_points++] = point;
  return 0;
}

static int add_leftover(struct backup_dir *d, const char *name)
{
  char (*v)[128];
  size_t len = strlen(name);

  if (d->n_leftovers == BDIR_MAX_ENTRIES)
    return BDIR_E_MANY;
  if (len >= sizeof *v)
    return 0; /* not a name freevix writes */
  v = realloc(d->leftovers, (d->n_leftovers + 1) * sizeof *v);
  if (!v)
    return ENOMEM;
  d->leftovers = v;
  memcpy(d->leftovers[d->n_leftovers++], name, len + 1);
  return 0;
}

static bool has_point(const struct backup_dir *d, unsigned point)
{
  for (size_t i = 0; i < d->n_points; i++)
    if (d->points[i] == point)
      return true;
  return false;
}

static int by_number(const void *a, const void *b)
{
  unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;

  return x < y ? -1 : x > y;
}

/* Two passes over the names: manifests first, then the files that belong
 * to no manifest. */
static int scan(struct backup_dir *d)
{
  DIR *dir = opendir(d->path);
  struct dirent *e;
  int rc = 0;

  if (!dir)
    return errno;
  while (rc == 0 && (e = readdir(dir))) {
    unsigned point;

    if (manifest_parse_name(e->d_name, &point))
      rc = add_point(d, point);
  }
  rewinddir(dir);
  while (rc == 0 && (e = readdir(dir))) {
    unsigned point;
    int32_t key;

    if ((manifest_parse_disk_name(e->d_name, &point, &key) &&
         !has_point(d, point)) ||
        (strncmp(e->d_name, ".point-", 7) == 0 && strstr(e->d_name, ".tmp.")))
      rc = add_leftover(d, e->d_name);
  }
  closedir(dir);
  if (rc == 0 && d->n_points > 1)
    qsort(d->points, d->n_points, sizeof *d->points, by_number);
  return rc;
}

int bdir_open(struct backup_dir *d, const char *path, unsigned flags,
              char *why, size_t why_n)
{
  char lock[4200];
  struct stat st;
  int rc;

  memset(d, 0, sizeof *d);
  d->lock_fd = -1;
  if (snprintf(d->path, sizeof d->path, "%s", path) >= (int)sizeof d->path) {
    snprintf(why, why_n, "%s: path too long", path);
    return ENAMETOOLONG;
  }
  if (flags & BDIR_CREATE) {
    rc = fvx_mkdirs(path, 0700);
    if (rc) {
      snprintf(why, why_n, "cannot create %s: %s", path, strerror(rc));
      return rc;
    }
  }
  if (lstat(path, &st) != 0) {
    rc = errno;
    snprintf(why, why_n, "%s: %s", path, strerror(rc));
    return rc;
  }
  if (!S_ISDIR(st.st_mode)) {
    snprintf(why, why_n, "%s: %s", path, S_ISLNK(st.st_mode)
                                             ? "a symbolic link"
                                             : "not a directory");
    return ENOTDIR;
  }
  if (flags & BDIR_LOCK) {
    bdir_file(d, LOCK_NAME, lock, sizeof lock);
    d->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (d->lock_fd < 0) {
      rc = errno;
      snprintf(why, why_n, "cannot open %s: %s", lock, strerror(rc));
      return rc;
    }
    if (flock(d->lock_fd, LOCK_EX | LOCK_NB) != 0) {
      rc = errno == EWOULDBLOCK ? BDIR_E_BUSY : errno;
      snprintf(why, why_n, "%s: %s", path,
               rc == BDIR_E_BUSY ? "another freevix backup is writing to it"
                                 : strerror(rc));
      bdir_close(d);
      return rc;
    }
  }
  rc = scan(d);
  if (rc) {
    snprintf(why, why_n, "cannot read %s: %s", path,
             rc == BDIR_E_MANY ? "too many points" : strerror(rc));
    bdir_close(d);
  }
  return rc;
}

void bdir_close(struct backup_dir *d)
{
  if (d->lock_fd >= 0)
    close(d->lock_fd);
  d->lock_fd = -1;
  free(d->points);
  free(d->leftovers);
  d->points = NULL;
  d->leftovers = NULL;
  d->n_points = d->n_leftovers = 0;
}

bool bdir_load(const struct backup_dir *d, unsigned point, struct manifest *m,
               char *why, size_t why_n)
{
  char name[64], path[4200], inner[400];

  manifest_name(point, name);
  if (!bdir_file(d, name, path, sizeof path)) {
    memset(m, 0, sizeof *m);
    snprintf(why, why_n, "%s/%s: path too long", d->path, name);
    return false;
  }
  if (!manifest_read(path, m, inner, sizeof inner)) {
    snprintf(why, why_n, "%s: %s", path, inner);
    return false;
  }
  if (m->point != point) {
    snprintf(why, why_n, "%s: says it is point %u", path, m->point);
    return false;
  }
  return true;
}

bool bdir_check(const struct backup_dir *d, const char *server,
                const char *moref, char *why, size_t why_n)
{
  for (size_t i = 0; i < d->n_points; i++) {
    struct manifest m;
    bool ok = bdir_load(d, d->points[i], &m, why, why_n);

    if (ok && ((server && strcmp(m.server, server) != 0) ||
               (moref && strcmp(m.vm_moref, moref) != 0))) {
      snprintf(why, why_n, "%s/point-%04u.json: a backup of %s on %s, not "
               "of %s on %s", d->path, d->points[i], m.vm_moref, m.server,
               moref ? moref : m.vm_moref, server ? server : m.server);
      ok = false;
    }
    manifest_free(&m);
    if (!ok)
      return false;
  }
  return true;
}

size_t bdir_remove_leftovers(struct backup_dir *d,
                             void (*report)(void *data, const char *file,
                                            int err),
                             void *data)
{
  size_t kept = 0;

  for (size_t i = 0; i < d->n_leftovers; i++) {
    char path[4300];
    int err = 0;

    if (!bdir_file(d, d->leftovers[i], path, sizeof path) ||
        unlink(path) != 0)
      err = errno ? errno : ENAMETOOLONG;
    if (err == ENOENT)
      err = 0;
    if (report)
      report(data, d->leftovers[i], err);
    if (err && kept != i)
      memmove(d->leftovers[kept], d->leftovers[i], sizeof d->leftovers[0]);
    if (err)
      kept++;
  }
  d->n_leftovers = kept;
  return kept;
}
