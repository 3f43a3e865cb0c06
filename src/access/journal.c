/*
 * journal.c -- the lease journal file, see journal.h.
 *
 * Crash safety comes from two rules.  Every change is a whole new file
 * renamed over the old one after fsync (and the directory is fsync'ed after
 * the rename), so a reader sees the old list or the new one, never half of
 * one.  And every reader and writer holds flock() on a separate lock file
 * for the whole read-modify-write, so two freevix processes never lose each
 * other's grants.  The lock file is never renamed, so the lock means the
 * same thing to everyone.
 *
 * Distrust comes from a third: the file is parsed strictly, and any line
 * that is not a well-formed grant makes the whole file "corrupt" (reported
 * with its line number).  Sweeping from a file we do not understand could
 * re-enable a disable that someone still needs; so we refuse and tell the
 * operator what to look at.
 */
#include "access/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "access/pool.h"
#include "util/buf.h"
#include "util/text.h"

#define JOURNAL_MAX_BYTES (16u << 20)
#define JOURNAL_FIELDS 10          /* of a grant */
#define JOURNAL_SNAPSHOT_FIELDS 12 /* of a snapshot record */

bool journal_dir(const char *dir, char *out, size_t n)
{
  const char *env = getenv("FREEVIX_STATE_DIR");
  const char *xdg = getenv("XDG_STATE_HOME");
  const char *home = getenv("HOME");
  int len;

  if (dir && *dir)
    len = snprintf(out, n, "%s", dir);
  else if (env && *env)
    len = snprintf(out, n, "%s", env);
  else if (geteuid() == 0)
    len = snprintf(out, n, "/var/lib/freevix");
  else if (xdg && *xdg == '/')
    len = snprintf(out, n, "%s/freevix", xdg);
  else if (home && *home == '/')
    len = snprintf(out, n, "%s/.local/state/freevix", home);
  else
    return false;
  return len > 0 && (size_t)len < n;
}

/* mkdir -p with mode 0700 for the parts we create. */
static int make_dirs(const char *dir)
{
  char tmp[4096];
  size_t len = strlen(dir);

  if (len >= sizeof tmp)
    return ENAMETOOLONG;
  memcpy(tmp, dir, len + 1);
  for (char *p = tmp + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
      return errno;
    *p = '/';
  }
  if (mkdir(tmp, 0700) != 0 && errno != EEXIST)
    return errno;
  return 0;
}

static int fail_corrupt(struct access_result *res, const struct journal *j,
                        unsigned line, const char *what)
{
  return access_fail(res, ACCESS_E_JOURNAL,
                     "lease journal %s is not usable (%s%s%.0u): refusing to "
                     "trust it; check which disables it lists, re-enable "
                     "them with `freevix end`, then move the file aside "
                     "(mv %s %s.bad)",
                     j->path, what, line ? ", line " : "", line, j->path,
                     j->path);
}

/* Decodes one %-escaped field into out (size n); false if malformed: a raw
 * blank or control character, a bad escape, empty, or not UTF-8. */
static bool unescape(const char *s, size_t len, char *out, size_t n)
{
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)s[i] < 0x21 || s[i] == 0x7f)
      return false;
  return fvx_percent_decode(s, len, out, n) && out[0] &&
         fvx_utf8_valid(out, strlen(out));
}

static bool parse_u64(const char *s, size_t len, uint64_t *out)
{
  uint64_t v = 0;

  if (len == 0 || len > 19)
    return false;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  *out = v;
  return true;
}

/* Splits a record line (len bytes, no newline) at its tabs into at most
 * max fields; returns how many there are (max + 1 when there are more). */
static size_t split_fields(const char *line, size_t len, const char **f,
                           size_t *fl, size_t max)
{
  const char *p = line, *end = line + len;
  size_t k = 0;

  for (;;) {
    const char *tab = memchr(p, '\t', (size_t)(end - p));

    if (k == max)
      return max + 1;
    f[k] = p;
    fl[k] = (size_t)((tab ? tab : end) - p);
    k++;
    if (!tab)
      return k;
    p = tab + 1;
  }
}

/* The owner fields every record ends with: pid, pid_start, created,
 * expires (f[0..3]).  A record nobody owns and nothing ends is never
 * written, so it is refused. */
static bool parse_owner(const char *const *f, const size_t *fl, long *pid_out,
                        uint64_t *start_out, int64_t *created_out,
                        int64_t *expires_out)
{
  uint64_t pid, start, created, expires;

  if (!parse_u64(f[0], fl[0], &pid) || pid > INT32_MAX ||
      !parse_u64(f[1], fl[1], &start) ||
      !parse_u64(f[2], fl[2], &created) || created > INT64_MAX / 2 ||
      !parse_u64(f[3], fl[3], &expires) || expires > INT64_MAX / 2 ||
      (pid == 0 && expires == 0))
    return false;
  *pid_out = (long)pid;
  *start_out = start;
  *created_out = (int64_t)created;
  *expires_out = (int64_t)expires;
  return true;
}

/* Parses "grant\t..." (len bytes, no newline) into g. */
static bool parse_grant(const char *line, size_t len, struct journal_grant *g)
{
  const char *f[JOURNAL_FIELDS];
  size_t fl[JOURNAL_FIELDS];
  uint64_t port;

  if (split_fields(line, len, f, fl, JOURNAL_FIELDS) != JOURNAL_FIELDS)
    return false;
  if (fl[0] != 5 || memcmp(f[0], "grant", 5) != 0)
    return false;
  memset(g, 0, sizeof *g);
  if (!unescape(f[1], fl[1], g->server, sizeof g->server) ||
      !parse_u64(f[2], fl[2], &port) || port > 65535 ||
      !unescape(f[3], fl[3], g->vm, sizeof g->vm) ||
      !unescape(f[4], fl[4], g->method, sizeof g->method) ||
      !unescape(f[5], fl[5], g->source, sizeof g->source) ||
      !parse_owner(&f[6], &fl[6], &g->pid, &g->pid_start, &g->created,
                   &g->expires))
    return false;
  g->port = (unsigned)port;
  return true;
}

/* Parses "snapshot\t1\t..." into s: record version 1, then server, port,
 * vm, name, snapshot moref ("-" until known), source and the owner.  A
 * record of another version is refused (*newer set): a newer freevix
 * wrote it. */
static bool parse_snapshot(const char *line, size_t len,
                           struct journal_snapshot *s, bool *newer)
{
  const char *f[JOURNAL_SNAPSHOT_FIELDS];
  size_t fl[JOURNAL_SNAPSHOT_FIELDS];
  uint64_t port;
  size_t k = split_fields(line, len, f, fl, JOURNAL_SNAPSHOT_FIELDS);

  if (k < 2)
    return false;
  if (fl[1] != 1 || f[1][0] != '1') {
    *newer = fl[1] > 0 && f[1][0] >= '2' && f[1][0] <= '9';
    return false;
  }
  if (k != JOURNAL_SNAPSHOT_FIELDS)
    return false;
  memset(s, 0, sizeof *s);
  if (!unescape(f[2], fl[2], s->server, sizeof s->server) ||
      !parse_u64(f[3], fl[3], &port) || port > 65535 ||
      !unescape(f[4], fl[4], s->vm, sizeof s->vm) ||
      !unescape(f[5], fl[5], s->name, sizeof s->name) ||
      !unescape(f[6], fl[6], s->snapshot, sizeof s->snapshot) ||
      !unescape(f[7], fl[7], s->source, sizeof s->source) ||
      !parse_owner(&f[8], &fl[8], &s->pid, &s->pid_start, &s->created,
                   &s->expires))
    return false;
  if (strcmp(s->snapshot, JOURNAL_NO_SNAPSHOT) == 0)
    s->snapshot[0] = '\0';
  s->port = (unsigned)port;
  return true;
}

static int load(struct journal *j, struct access_result *res)
{
  struct stat st;
  char *text;
  size_t len, pos;
  int rc;
  int fd = open(j->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

  if (fd < 0) {
    if (errno == ENOENT)
      return ACCESS_OK; /* no grants yet */
    if (errno == ELOOP)
      return fail_corrupt(res, j, 0, "a symbolic link");
    return access_fail(res, ACCESS_E_JOURNAL_IO, "cannot read lease journal "
                       "%s: %s", j->path, strerror(errno));
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return fail_corrupt(res, j, 0, "not a regular file");
  }
  if (st.st_size > (off_t)JOURNAL_MAX_BYTES) {
    close(fd);
    return fail_corrupt(res, j, 0, "larger than 16 MiB");
  }
  len = (size_t)st.st_size;
  text = malloc(len + 1);
  if (!text) {
    close(fd);
    return access_fail(res, ACCESS_E_NOMEM, "out of memory");
  }
  for (pos = 0; pos < len;) {
    ssize_t r = read(fd, text + pos, len - pos);

    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    pos += (size_t)r;
  }
  close(fd);
  len = pos;
  text[len] = '\0';
  rc = journal_parse(j, text, len, res);
  free(text);
  return rc;
}

/* The version a header line names: 1 or 2, 0 when it is not one of ours
 * (*other set when it looks like another freevix's). */
static int header_version(const char *text, size_t eol, bool *other)
{
  static const char *const magics[] = {JOURNAL_MAGIC_V1, JOURNAL_MAGIC};

  *other = eol >= 16 && strncmp(text, "freevix-journal ", 16) == 0;
  for (int v = 1; v <= 2; v++)
    if (eol == strlen(magics[v - 1]) && memcmp(text, magics[v - 1], eol) == 0)
      return v;
  return 0;
}

int journal_parse(struct journal *j, const char *text, size_t len,
                  struct access_result *res)
{
  size_t pos, eol = strcspn(text, "\n");
  unsigned line = 1;
  bool other;
  int version;

  if (eol == len || memchr(text, '\0', len))
    return fail_corrupt(res, j, 0, len ? "no header line, or NUL bytes"
                                       : "empty file");
  version = header_version(text, eol, &other);
  if (!version)
    return fail_corrupt(res, j, 1, other ? "written by another version of "
                                           "freevix"
                                         : "not a freevix journal");
  for (pos = eol + 1; pos < len; pos = eol + 1) {
    struct journal_grant g;
    struct journal_snapshot s;
    bool newer = false;

    line++;
    eol = pos + strcspn(text + pos, "\n");
    if (eol == len)
      return fail_corrupt(res, j, line, "truncated last line");
    if (version >= 2 && eol - pos > 9 &&
        memcmp(text + pos, "snapshot\t", 9) == 0) {
      if (!parse_snapshot(text + pos, eol - pos, &s, &newer))
        return fail_corrupt(res, j, line, newer ? "a snapshot record of a "
                                                  "newer freevix"
                                                : "malformed snapshot record");
      if (journal_add_snapshot(j, &s, res) != ACCESS_OK)
        return res->status;
      continue;
    }
    if (!parse_grant(text + pos, eol - pos, &g))
      return fail_corrupt(res, j, line, "malformed grant");
    if (journal_add(j, &g, res) != ACCESS_OK)
      return res->status;
  }
  return ACCESS_OK;
}

int journal_open(struct journal *j, const char *dir, struct access_result *res)
{
  char lock[4300];
  int e;

  memset(j, 0, sizeof *j);
  j->lock_fd = -1;
  if (!journal_dir(dir, j->dir, sizeof j->dir))
    return access_fail(res, ACCESS_E_JOURNAL_IO, "no place for the lease "
                       "journal: set FREEVIX_STATE_DIR (or HOME)");
  snprintf(j->path, sizeof j->path, "%s/journal", j->dir);
  snprintf(lock, sizeof lock, "%s/journal.lock", j->dir);
  e = make_dirs(j->dir);
  if (e)
    return access_fail(res, ACCESS_E_JOURNAL_IO, "cannot create lease "
                       "journal directory %s: %s", j->dir, strerror(e));
  j->lock_fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (j->lock_fd < 0)
    return access_fail(res, ACCESS_E_JOURNAL_IO, "cannot open %s: %s", lock,
                       strerror(errno));
  while (flock(j->lock_fd, LOCK_EX) != 0) {
    if (errno != EINTR) {
      e = errno;
      journal_close(j);
      return access_fail(res, ACCESS_E_JOURNAL_IO, "cannot lock %s: %s", lock,
                         strerror(e));
    }
  }
  if (load(j, res) != ACCESS_OK) {
    journal_close(j);
    return res->status;
  }
  res->status = ACCESS_OK;
  return ACCESS_OK;
}

int journal_add(struct journal *j, const struct journal_grant *g,
                struct access_result *res)
{
  if (j->n == j->alloc) {
    size_t alloc = j->alloc ? 2 * j->alloc : 16;
    struct journal_grant *v = realloc(j->grants, alloc * sizeof *v);

    if (!v)
      return access_fail(res, ACCESS_E_NOMEM, "out of memory");
    j->grants = v;
    j->alloc = alloc;
  }
  j->grants[j->n++] = *g;
  return ACCESS_OK;
}

void journal_remove(struct journal *j, size_t i)
{
  if (i >= j->n)
    return;
  memmove(&j->grants[i], &j->grants[i + 1],
          (j->n - i - 1) * sizeof j->grants[0]);
  j->n--;
}

int journal_add_snapshot(struct journal *j, const struct journal_snapshot *s,
                         struct access_result *res)
{
  if (j->n_snaps == j->alloc_snaps) {
    size_t alloc = j->alloc_snaps ? 2 * j->alloc_snaps : 4;
    struct journal_snapshot *v = realloc(j->snaps, alloc * sizeof *v);

    if (!v)
      return access_fail(res, ACCESS_E_NOMEM, "out of memory");
    j->snaps = v;
    j->alloc_snaps = alloc;
  }
  j->snaps[j->n_snaps++] = *s;
  return ACCESS_OK;
}

void journal_remove_snapshot(struct journal *j, size_t i)
{
  if (i >= j->n_snaps)
    return;
  memmove(&j->snaps[i], &j->snaps[i + 1],
          (j->n_snaps - i - 1) * sizeof j->snaps[0]);
  j->n_snaps--;
}

size_t journal_find_snapshot(const struct journal *j,
                             const struct journal_snapshot *s)
{
  for (size_t i = 0; i < j->n_snaps; i++) {
    const struct journal_snapshot *o = &j->snaps[i];

    if (o->port == s->port && strcmp(o->server, s->server) == 0 &&
        strcmp(o->vm, s->vm) == 0 && strcmp(o->name, s->name) == 0)
      return i;
  }
  return (size_t)-1;
}

static int escape(struct fvx_buf *b, const char *s)
{
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    int r = c < 0x21 || c == 0x7f || c == '%'
                ? fvx_buf_printf(b, "%%%02X", c)
                : fvx_buf_append(b, s, 1);

    if (r != FVX_BUF_OK)
      return r;
  }
  return FVX_BUF_OK;
}

/* Appends "\t" and the escaped field. */
static int field(struct fvx_buf *b, const char *s)
{
  int r = fvx_buf_puts(b, "\t");

  return r == FVX_BUF_OK ? escape(b, s) : r;
}

static int owner(struct fvx_buf *b, long pid, uint64_t start, int64_t created,
                 int64_t expires)
{
  return fvx_buf_printf(b, "\t%ld\t%" PRIu64 "\t%" PRId64 "\t%" PRId64 "\n",
                        pid, start, created, expires);
}

/* A journal without snapshot records keeps version 1, which every freevix
 * reads; snapshot records make it version 2 (an older freevix then refuses
 * the file as a newer one's instead of misreading it). */
static int format(const struct journal *j, struct fvx_buf *b)
{
  int r = fvx_buf_printf(b, "%s\n", j->n_snaps ? JOURNAL_MAGIC
                                              : JOURNAL_MAGIC_V1);

  for (size_t i = 0; r == FVX_BUF_OK && i < j->n; i++) {
    const struct journal_grant *g = &j->grants[i];

    r = fvx_buf_puts(b, "grant");
    if (r == FVX_BUF_OK)
      r = field(b, g->server);
    if (r == FVX_BUF_OK)
      r = fvx_buf_printf(b, "\t%u", g->port);
    if (r == FVX_BUF_OK)
      r = field(b, g->vm);
    if (r == FVX_BUF_OK)
      r = field(b, g->method);
    if (r == FVX_BUF_OK)
      r = field(b, g->source);
    if (r == FVX_BUF_OK)
      r = owner(b, g->pid, g->pid_start, g->created, g->expires);
  }
  for (size_t i = 0; r == FVX_BUF_OK && i < j->n_snaps; i++) {
    const struct journal_snapshot *s = &j->snaps[i];

    r = fvx_buf_puts(b, "snapshot\t1");
    if (r == FVX_BUF_OK)
      r = field(b, s->server);
    if (r == FVX_BUF_OK)
      r = fvx_buf_printf(b, "\t%u", s->port);
    if (r == FVX_BUF_OK)
      r = field(b, s->vm);
    if (r == FVX_BUF_OK)
      r = field(b, s->name);
    if (r == FVX_BUF_OK)
      r = field(b, s->snapshot[0] ? s->snapshot : JOURNAL_NO_SNAPSHOT);
    if (r == FVX_BUF_OK)
      r = field(b, s->source);
    if (r == FVX_BUF_OK)
      r = owner(b, s->pid, s->pid_start, s->created, s->expires);
  }
  return r;
}

static bool write_all(int fd, const char *p, size_t n)
{
  while (n) {
    ssize_t w = write(fd, p, n);

    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return false;
    p += w;
    n -= (size_t)w;
  }
  return true;
}

int journal_commit(struct journal *j, struct access_result *res)
{
  struct fvx_buf b;
  char tmp[4300];
  int fd, dfd, e = 0;

  fvx_buf_init(&b, JOURNAL_MAX_BYTES);
  if (format(j, &b) != FVX_BUF_OK) {
    fvx_buf_free(&b);
    return access_fail(res, ACCESS_E_JOURNAL_IO, "lease journal %s would "
                       "exceed 16 MiB (or out of memory)", j->path);
  }
  snprintf(tmp, sizeof tmp, "%s/journal.tmp.%ld", j->dir, (long)getpid());
  fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0 || !write_all(fd, b.data, b.len) || fsync(fd) != 0)
    e = errno ? errno : EIO;
  if (fd >= 0 && close(fd) != 0 && !e)
    e = errno;
  fvx_buf_free(&b);
  if (!e && rename(tmp, j->path) != 0)
    e = errno;
  if (e) {
    unlink(tmp);
    return access_fail(res, ACCESS_E_JOURNAL_IO, "cannot write lease journal "
                       "%s: %s", j->path, strerror(e));
  }
  dfd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    fsync(dfd);
    close(dfd);
  }
  res->status = ACCESS_OK;
  return ACCESS_OK;
}

void journal_close(struct journal *j)
{
  if (j->lock_fd >= 0)
    close(j->lock_fd); /* releases the flock */
  free(j->grants);
  free(j->snaps);
  j->grants = NULL;
  j->snaps = NULL;
  j->n = j->alloc = 0;
  j->n_snaps = j->alloc_snaps = 0;
  j->lock_fd = -1;
}

/* Field 22 of /proc/<pid>/stat: the start time in clock ticks since boot.
 * The command name (field 2) may hold spaces and parentheses, so counting
 * starts after its last ')'. */
static bool proc_start(long pid, uint64_t *out)
{
  char path[64], buf[1024];
  const char *p;
  size_t n;
  FILE *f;
  int field = 2;

  snprintf(path, sizeof path, "/proc/%ld/stat", pid);
  f = fopen(path, "re");
  if (!f)
    return false;
  n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  p = strrchr(buf, ')');
  if (!p)
    return false;
  for (p++; *p && field < 22; p++)
    if (*p == ' ')
      field++;
  if (field != 22)
    return false;
  return sscanf(p, "%" SCNu64, out) == 1;
}

bool journal_self(long *pid, uint64_t *start)
{
  *pid = (long)getpid();
  return proc_start(*pid, start);
}

bool journal_owner_stale(long pid, uint64_t pid_start, int64_t expires,
                         int64_t now, char *why, size_t n)
{
  uint64_t start;

  if (expires && now >= expires) {
    snprintf(why, n, "expired %" PRId64 " s ago", now - expires);
    return true;
  }
  if (pid && (!proc_start(pid, &start) || start != pid_start)) {
    snprintf(why, n, "owner process %ld is gone", pid);
    return true;
  }
  return false;
}

bool journal_grant_stale(const struct journal_grant *g, int64_t now,
                         char *why, size_t n)
{
  return journal_owner_stale(g->pid, g->pid_start, g->expires, now, why, n);
}

bool journal_same_disable(const struct journal_grant *a,
                          const struct journal_grant *b)
{
  return a->port == b->port && strcmp(a->server, b->server) == 0 &&
         strcmp(a->vm, b->vm) == 0 && strcmp(a->method, b->method) == 0 &&
         strcmp(a->source, b->source) == 0;
}
