/*
 * manifest.c -- reading and writing backup manifests, see manifest.h.
 *
 * Reading is a walk over the parsed tree with one small accessor per
 * type; each says which member was missing, of the wrong type or out of
 * bounds, so an operator can tell a damaged manifest from a foreign file.
 * Cross-field rules come after: the chain ends with the point, an
 * incremental names its parent as the chain's previous point, every file
 * name is exactly the one this point (or its parent) would use.
 */
#include "manifest.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"

void manifest_free(struct manifest *m)
{
  free(m->chain);
  free(m->disks);
  free(m->skipped);
  memset(m, 0, sizeof *m);
}

void manifest_name(unsigned point, char out[64])
{
  snprintf(out, 64, "point-%04u.json", point);
}

void manifest_disk_name(unsigned point, int32_t key, char out[64])
{
  snprintf(out, 64, "point-%04u-disk-%d.vmdk", point, (int)key);
}

/* Parses the digits at *p (1-9 of them, no leading zero beyond the four
 * of the padding) into *out, advancing *p. */
static bool name_number(const char **p, unsigned *out)
{
  unsigned long v = 0;
  size_t n = 0;

  while ((*p)[n] >= '0' && (*p)[n] <= '9' && n < 10)
    v = v * 10 + (unsigned long)((*p)[n++] - '0');
  if (n < 4 || n > 9 || v == 0 || v > MANIFEST_MAX_POINT ||
      (n > 4 && (*p)[0] == '0'))
    return false;
  *p += n;
  *out = (unsigned)v;
  return true;
}

bool manifest_parse_name(const char *name, unsigned *point)
{
  const char *p = name + 6;

  if (strncmp(name, "point-", 6) != 0)
    return false;
  return name_number(&p, point) && strcmp(p, ".json") == 0;
}

bool manifest_parse_disk_name(const char *name, unsigned *point,
                              int32_t *key)
{
  const char *p = name;
  char *end;
  long k;

  if (strncmp(p, "point-", 6) != 0)
    return false;
  p += 6;
  if (!name_number(&p, point) || strncmp(p, "-disk-", 6) != 0)
    return false;
  p += 6;
  if (*p < '0' || *p > '9')
    return false;
  k = strtol(p, &end, 10);
  if (k > INT32_MAX || strcmp(end, ".vmdk") != 0)
    return false;
  *key = (int32_t)k;
  return true;
}

/* ---- reading ------------------------------------------------------------ */

struct reader {
  char *why;
  size_t why_n;
  const char *where; /* "", "vm.", "disks[2]." */
};

static bool bad(struct reader *r, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool bad(struct reader *r, const char *key, const char *fmt, ...)
{
  char what[256];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  snprintf(r->why, r->why_n, "%s%s: %s", r->where, key, what);
  return false;
}

static const struct json *member(struct reader *r, const struct json *o,
                                 const char *key, enum json_kind kind,
                                 bool null_ok)
{
  static const char *const names[] = {"null", "a boolean", "an integer",
                                      "a string", "an array", "an object"};
  const struct json *m = json_get(o, key);

  if (!m) {
    bad(r, key, "missing");
    return NULL;
  }
  if (m->kind == JSON_NULL && null_ok)
    return m;
  if (m->kind != kind) {
    bad(r, key, "must be %s", names[kind]);
    return NULL;
  }
  return m;
}

/* A string member into out (size n): no control characters, fits. */
static bool get_str(struct reader *r, const struct json *o, const char *key,
                    char *out, size_t n, bool nonempty)
{
  const struct json *m = member(r, o, key, JSON_STRING, false);

  if (!m)
    return false;
  if (m->s_len >= n)
    return bad(r, key, "longer than %zu bytes", n - 1);
  if (nonempty && m->s_len == 0)
    return bad(r, key, "empty");
  for (size_t i = 0; i < m->s_len; i++)
    if ((unsigned char)m->s[i] < 0x20 || m->s[i] == 0x7f)
      return bad(r, key, "holds a control character");
  memcpy(out, m->s, m->s_len + 1);
  return true;
}

static bool get_int(struct reader *r, const struct json *o, const char *key,
                    int64_t lo, int64_t hi, int64_t *out)
{
  const struct json *m = member(r, o, key, JSON_INT, false);

  *out = 0; /* defined on failure too (gcc -O3 cannot tell it is unused) */
  if (!m)
    return false;
  if (m->i < lo || m->i > hi)
    return bad(r, key, "out of range");
  *out = m->i;
  return true;
}

static bool get_u64(struct reader *r, const struct json *o, const char *key,
                    uint64_t *out)
{
  int64_t v = 0;

  if (!get_int(r, o, key, 0, INT64_MAX, &v))
    return false;
  *out = (uint64_t)v;
  return true;
}

static bool get_bool(struct reader *r, const struct json *o, const char *key,
                     bool *out)
{
  const struct json *m = member(r, o, key, JSON_BOOL, false);

  if (m)
    *out = m->b;
  return m != NULL;
}

static bool is_sha256(const char *s)
{
  size_t i;

  for (i = 0; s[i]; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
      return false;
  return i == 64;
}

static bool read_disk(struct reader *r, const struct json *o,
                      const struct manifest *m, struct manifest_disk *d)
{
  char want[64];
  int64_t v;

  if (o->kind != JSON_OBJECT)
    return bad(r, "", "must be an object");
  if (!get_int(r, o, "key", INT32_MIN, INT32_MAX, &v))
    return false;
  d->key = (int32_t)v;
  if (!get_str(r, o, "label", d->label, sizeof d->label, false) ||
      !get_u64(r, o, "capacity", &d->capacity) ||
      !get_str(r, o, "datastore_path", d->datastore_path,
               sizeof d->datastore_path, false) ||
      !get_str(r, o, "disk_mode", d->disk_mode, sizeof d->disk_mode, false) ||
      !get_str(r, o, "change_id", d->change_id, sizeof d->change_id, false) ||
      !get_str(r, o, "file", d->file, sizeof d->file, true) ||
      !get_str(r, o, "sha256", d->sha256, sizeof d->sha256, true) ||
      !get_str(r, o, "transport", d->transport, sizeof d->transport, false) ||
      !get_u64(r, o, "bytes_read", &d->bytes_read) ||
      !get_u64(r, o, "bytes_written", &d->bytes_written) ||
      !get_u64(r, o, "areas", &d->areas))
    return false;
  if (d->capacity == 0 || d->capacity % 512)
    return bad(r, "capacity", "must be a positive multiple of 512");
  if (!is_sha256(d->sha256))
    return bad(r, "sha256", "must be 64 lowercase hex digits");
  manifest_disk_name(m->point, d->key, want);
  if (strcmp(d->file, want) != 0)
    return bad(r, "file", "must be %s", want);
  if (m->kind == POINT_FULL) {
    if (!member(r, o, "parent_file", JSON_NULL, false))
      return bad(r, "parent_file", "must be null for a full backup");
    return true;
  }
  if (!get_str(r, o, "parent_file", d->parent_file, sizeof d->parent_file,
               true))
    return false;
  manifest_disk_name(m->parent, d->key, want);
  if (strcmp(d->parent_file, want) != 0)
    return bad(r, "parent_file", "must be %s", want);
  return true;
}

static bool read_skipped(struct reader *r, const struct json *o,
                         struct manifest_skipped *s)
{
  int64_t v;

  if (o->kind != JSON_OBJECT)
    return bad(r, "", "must be an object");
  if (!get_int(r, o, "key", INT32_MIN, INT32_MAX, &v))
    return false;
  s->key = (int32_t)v;
  return get_str(r, o, "label", s->label, sizeof s->label, false) &&
         get_str(r, o, "disk_mode", s->disk_mode, sizeof s->disk_mode,
                 false) &&
         get_str(r, o, "reason", s->reason, sizeof s->reason, false);
}

static bool read_chain(struct reader *r, const struct json *top,
                       struct manifest *m)
{
  const struct json *c = member(r, top, "chain", JSON_ARRAY, false);
  const struct json *e;
  size_t i = 0;

  if (!c)
    return false;
  if (c->n == 0 || c->n > MANIFEST_MAX_CHAIN)
    return bad(r, "chain", "must hold 1 to %u points", MANIFEST_MAX_CHAIN);
  m->chain = calloc(c->n, sizeof *m->chain);
  if (!m->chain)
    return bad(r, "chain", "out of memory");
  for (e = c->child; e; e = e->next, i++) {
    if (e->kind != JSON_INT || e->i < 1 || e->i > (int64_t)m->point ||
        (i && (unsigned)e->i <= m->chain[i - 1]))
      return bad(r, "chain", "must be increasing point numbers");
    m->chain[i] = (unsigned)e->i;
  }
  m->n_chain = c->n;
  if (m->chain[m->n_chain - 1] != m->point)
    return bad(r, "chain", "must end with this point");
  if (m->kind == POINT_FULL && m->n_chain != 1)
    return bad(r, "chain", "a full backup depends on no other point");
  if (m->kind == POINT_INCREMENTAL &&
      (m->n_chain < 2 || m->chain[m->n_chain - 2] != m->parent))
    return bad(r, "chain", "must end with the parent, then this point");
  return true;
}

static bool read_vm(struct reader *r, const struct json *top,
                    struct manifest *m)
{
  const struct json *vm = member(r, top, "vm", JSON_OBJECT, false);
  const struct json *snap;
  int64_t port;

  if (!vm)
    return false;
  r->where = "vm.";
  if (!get_str(r, vm, "server", m->server, sizeof m->server, true) ||
      !get_int(r, vm, "port", 1, 65535, &port) ||
      !get_str(r, vm, "moref", m->vm_moref, sizeof m->vm_moref, true) ||
      !get_str(r, vm, "name", m->vm_name, sizeof m->vm_name, false) ||
      !get_str(r, vm, "spec", m->vm_spec, sizeof m->vm_spec, true) ||
      !get_str(r, vm, "vmx_path", m->vmx_path, sizeof m->vmx_path, false) ||
      !get_str(r, vm, "power_state", m->power_state, sizeof m->power_state,
               false))
    return false;
  m->port = (unsigned)port;
  r->where = "";
  snap = member(r, top, "snapshot", JSON_OBJECT, false);
  if (!snap)
    return false;
  r->where = "snapshot.";
  if (!get_str(r, snap, "moref", m->snapshot_moref, sizeof m->snapshot_moref,
               true) ||
      !get_str(r, snap, "name", m->snapshot_name, sizeof m->snapshot_name,
               true) ||
      !get_bool(r, snap, "quiesced", &m->quiesced))
    return false;
  r->where = "";
  return true;
}

static bool read_lists(struct reader *r, const struct json *top,
                       struct manifest *m)
{
  const struct json *disks = member(r, top, "disks", JSON_ARRAY, false);
  const struct json *skipped = member(r, top, "skipped", JSON_ARRAY, false);
  const struct json *e;
  char where[64];
  size_t i = 0;

  if (!disks || !skipped)
    return false;
  if (disks->n == 0 || disks->n > MANIFEST_MAX_DISKS ||
      skipped->n > MANIFEST_MAX_DISKS)
    return bad(r, "disks", "must hold 1 to %u disks", MANIFEST_MAX_DISKS);
  m->disks = calloc(disks->n, sizeof *m->disks);
  m->skipped = calloc(skipped->n ? skipped->n : 1, sizeof *m->skipped);
  if (!m->disks || !m->skipped)
    return bad(r, "disks", "out of memory");
  for (e = disks->child; e; e = e->next, i++) {
    snprintf(where, sizeof where, "disks[%zu].", i);
    r->where = where;
    if (!read_disk(r, e, m, &m->disks[i]))
      return false;
    for (size_t k = 0; k < i; k++)
      if (m->disks[k].key == m->disks[i].key)
        return bad(r, "key", "appears twice");
  }
  m->n_disks = disks->n;
  for (i = 0, e = skipped->child; e; e = e->next, i++) {
    snprintf(where, sizeof where, "skipped[%zu].", i);
    r->where = where;
    if (!read_skipped(r, e, &m->skipped[i]))
      return false;
  }
  m->n_skipped = skipped->n;
  r->where = "";
  return true;
}

static bool read_top(struct reader *r, const struct json *top,
                     struct manifest *m)
{
  char text[32];
  const struct json *tool;
  int64_t v;

  if (top->kind != JSON_OBJECT)
    return bad(r, "manifest", "must be a JSON object");
  if (!get_str(r, top, "format", text, sizeof text, true) ||
      strcmp(text, MANIFEST_FORMAT) != 0)
    return bad(r, "format", "not \"%s\": not a freevix backup manifest",
               MANIFEST_FORMAT);
  if (!get_int(r, top, "version", 1, INT32_MAX, &v))
    return false;
  if (v != MANIFEST_VERSION)
    return bad(r, "version", "%lld: written by a newer freevix (this one "
               "reads version %d)", (long long)v, MANIFEST_VERSION);
  if (!get_int(r, top, "point", 1, MANIFEST_MAX_POINT, &v))
    return false;
  m->point = (unsigned)v;
  if (!get_str(r, top, "kind", text, sizeof text, true))
    return false;
  if (strcmp(text, "full") == 0)
    m->kind = POINT_FULL;
  else if (strcmp(text, "incremental") == 0)
    m->kind = POINT_INCREMENTAL;
  else
    return bad(r, "kind", "must be \"full\" or \"incremental\"");
  if (m->kind == POINT_FULL) {
    if (!member(r, top, "parent", JSON_NULL, false))
      return bad(r, "parent", "must be null for a full backup");
  } else {
    if (!get_int(r, top, "parent", 1, (int64_t)m->point - 1, &v))
      return false;
    m->parent = (unsigned)v;
  }
  tool = member(r, top, "tool", JSON_OBJECT, false);
  if (!tool || !read_chain(r, top, m) || !read_vm(r, top, m))
    return false;
  r->where = "tool.";
  if (!get_str(r, tool, "version", m->tool_version, sizeof m->tool_version,
               false))
    return false;
  r->where = "";
  if (!get_bool(r, top, "cbt", &m->cbt) ||
      !get_str(r, top, "disk_format", m->disk_format, sizeof m->disk_format,
               true) ||
      !get_str(r, top, "started", m->started, sizeof m->started, true) ||
      !get_str(r, top, "finished", m->finished, sizeof m->finished, true) ||
      !get_int(r, top, "duration_ms", 0, INT64_MAX, &m->duration_ms) ||
      !get_u64(r, top, "bytes_read", &m->bytes_read) ||
      !get_u64(r, top, "bytes_written", &m->bytes_written) ||
      !get_str(r, top, "note", m->note, sizeof m->note, false))
    return false;
  if (strcmp(m->disk_format, "vmdk") != 0 &&
      strcmp(m->disk_format, "stream") != 0)
    return bad(r, "disk_format", "must be \"vmdk\" or \"stream\"");
  return read_lists(r, top, m);
}

bool manifest_parse(const char *text, size_t len, struct manifest *m,
                    char *why, size_t why_n)
{
  struct reader r = {why, why_n, ""};
  struct json *top;
  char jwhy[160];
  bool ok;

  memset(m, 0, sizeof *m);
  if (len > MANIFEST_MAX_BYTES) {
    snprintf(why, why_n, "larger than %u bytes", MANIFEST_MAX_BYTES);
    return false;
  }
  if (!json_parse(text, len, &top, jwhy, sizeof jwhy)) {
    snprintf(why, why_n, "not JSON: %s", jwhy);
    return false;
  }
  ok = read_top(&r, top, m);
  json_free(top);
  return ok;
}

bool manifest_read(const char *path, struct manifest *m, char *why,
                   size_t why_n)
{
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  struct stat st;
  char *text;
  size_t got = 0;
  bool ok;

  memset(m, 0, sizeof *m);
  if (fd < 0) {
    snprintf(why, why_n, "cannot open: %s",
             errno == ELOOP ? "a symbolic link" : strerror(errno));
    return false;
  }
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
      st.st_size > (off_t)MANIFEST_MAX_BYTES) {
    close(fd);
    snprintf(why, why_n, "not a regular file of at most %u bytes",
             MANIFEST_MAX_BYTES);
    return false;
  }
  text = malloc((size_t)st.st_size + 1);
  if (!text) {
    close(fd);
    snprintf(why, why_n, "out of memory");
    return false;
  }
  while (got < (size_t)st.st_size) {
    ssize_t n = read(fd, text + got, (size_t)st.st_size - got);

    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    got += (size_t)n;
  }
  close(fd);
  ok = manifest_parse(text, got, m, why, why_n);
  free(text);
  return ok;
}

/* ---- writing ------------------------------------------------------------ */

static void format(const struct manifest *m, struct json_out *o)
{
  json_begin_object(o, NULL);
  json_str(o, "format", MANIFEST_FORMAT);
  json_int(o, "version", MANIFEST_VERSION);
  json_uint(o, "point", m->point);
  json_str(o, "kind", m->kind == POINT_FULL ? "full" : "incremental");
  if (m->kind == POINT_FULL)
    json_null(o, "parent");
  else
    json_uint(o, "parent", m->parent);
  json_begin_array(o, "chain");
  for (size_t i = 0; i < m->n_chain; i++)
    json_uint(o, NULL, m->chain[i]);
  json_end_array(o);
  json_begin_object(o, "vm");
  json_str(o, "server", m->server);
  json_uint(o, "port", m->port);
  json_str(o, "moref", m->vm_moref);
  json_str(o, "name", m->vm_name);
  json_str(o, "spec", m->vm_spec);
  json_str(o, "vmx_path", m->vmx_path);
  json_str(o, "power_state", m->power_state);
  json_end_object(o);
  json_begin_object(o, "snapshot");
  json_str(o, "moref", m->snapshot_moref);
  json_str(o, "name", m->snapshot_name);
  json_bool(o, "quiesced", m->quiesced);
  json_end_object(o);
  json_bool(o, "cbt", m->cbt);
  json_str(o, "disk_format", m->disk_format);
  json_begin_object(o, "tool");
  json_str(o, "name", "freevix");
  json_str(o, "version", m->tool_version);
  json_end_object(o);
  json_str(o, "started", m->started);
  json_str(o, "finished", m->finished);
  json_int(o, "duration_ms", m->duration_ms);
  json_uint(o, "bytes_read", m->bytes_read);
  json_uint(o, "bytes_written", m->bytes_written);
  json_str(o, "note", m->note);
  json_begin_array(o, "disks");
  for (size_t i = 0; i < m->n_disks; i++) {
    const struct manifest_disk *d = &m->disks[i];

    json_begin_object(o, NULL);
    json_int(o, "key", d->key);
    json_str(o, "label", d->label);
    json_uint(o, "capacity", d->capacity);
    json_str(o, "datastore_path", d->datastore_path);
    json_str(o, "disk_mode", d->disk_mode);
    json_str(o, "change_id", d->change_id);
    json_str(o, "file", d->file);
    if (m->kind == POINT_FULL)
      json_null(o, "parent_file");
    else
      json_str(o, "parent_file", d->parent_file);
    json_str(o, "sha256", d->sha256);
    json_str(o, "transport", d->transport);
    json_uint(o, "bytes_read", d->bytes_read);
    json_uint(o, "bytes_written", d->bytes_written);
    json_uint(o, "areas", d->areas);
    json_end_object(o);
  }
  json_end_array(o);
  json_begin_array(o, "skipped");
  for (size_t i = 0; i < m->n_skipped; i++) {
    const struct manifest_skipped *s = &m->skipped[i];

    json_begin_object(o, NULL);
    json_int(o, "key", s->key);
    json_str(o, "label", s->label);
    json_str(o, "disk_mode", s->disk_mode);
    json_str(o, "reason", s->reason);
    json_end_object(o);
  }
  json_end_array(o);
  json_end_object(o);
}

static int write_all(int fd, const char *p, size_t n)
{
  while (n) {
    ssize_t w = write(fd, p, n);

    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return w < 0 ? errno : EIO;
    p += w;
    n -= (size_t)w;
  }
  return 0;
}

int manifest_write(const char *dir, const struct manifest *m, char *why,
                   size_t why_n)
{
  char name[64], path[4200], tmp[4300];
  struct json_out o;
  int fd, dfd, e = 0;

  manifest_name(m->point, name);
  snprintf(path, sizeof path, "%s/%s", dir, name);
  snprintf(tmp, sizeof tmp, "%s/.%s.tmp.%ld", dir, name, (long)getpid());
  json_out_init(&o);
  format(m, &o);
  if (o.failed) {
    json_out_free(&o);
    snprintf(why, why_n, "out of memory");
    return ENOMEM;
  }
  fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0)
    e = errno;
  if (!e)
    e = write_all(fd, o.data, o.len);
  if (!e && fsync(fd) != 0)
    e = errno;
  if (fd >= 0 && close(fd) != 0 && !e)
    e = errno;
  json_out_free(&o);
  if (!e && rename(tmp, path) != 0)
    e = errno;
  if (e) {
    unlink(tmp);
    snprintf(why, why_n, "cannot write %s: %s", path, strerror(e));
    return e;
  }
  /* The rename is durable only once the directory is: until then the
   * point is not committed, and a failure takes the manifest back. */
  dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0 || fsync(dfd) != 0) {
    e = errno ? errno : EIO;
    unlink(path);
    snprintf(why, why_n, "cannot fsync %s: %s", dir, strerror(e));
  }
  if (dfd >= 0)
    close(dfd);
  return e;
}
