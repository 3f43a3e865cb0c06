/*
 * descriptor.c -- parser and writer of the VMDK text descriptor.
 *
 * The parser walks the text line by line without copying it first; each
 * line is classified as blank/comment, header `key=value`, extent
 * `ACCESS SIZE TYPE ["file" [offset]]`, or ddb `ddb.key = "value"`, and
 * anything else is refused.  Every count and length is capped (see
 * descriptor.h), so a hostile descriptor costs at most a bounded amount of
 * memory and time.  The writer emits the layout VMware and qemu use.
 */
#include "disk/descriptor.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "disk/disk.h"
#include "disk/error.h"

void desc_free(struct descriptor *d)
{
  size_t i;

  if (!d)
    return;
  free(d->create_type);
  free(d->parent_hint);
  for (i = 0; i < d->n_extra; i++) {
    free(d->extra[i].key);
    free(d->extra[i].value);
  }
  free(d->extra);
  for (i = 0; i < d->n_ext; i++)
    free(d->ext[i].file);
  free(d->ext);
  for (i = 0; i < d->n_ddb; i++) {
    free(d->ddb[i].key);
    free(d->ddb[i].value);
  }
  free(d->ddb);
  memset(d, 0, sizeof *d);
}

uint64_t desc_capacity(const struct descriptor *d)
{
  uint64_t total = 0;
  size_t i;

  for (i = 0; i < d->n_ext; i++)
    total += d->ext[i].sectors; /* sum checked by the parser and editors */
  return total;
}

int desc_value_ok(const char *s)
{
  const unsigned char *p;

  if (!s || strlen(s) > DESC_MAX_VALUE)
    return 0;
  for (p = (const unsigned char *)s; *p; p++)
    if (*p < 0x20 || *p == 0x7f || *p == '"')
      return 0;
  return 1;
}

static int key_ok(const char *k, size_t n)
{
  size_t i;

  if (n == 0 || n > 256)
    return 0;
  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)k[i];

    if (!isalnum(c) && c != '.' && c != '_' && c != '-')
      return 0;
  }
  return 1;
}

static char *dup_n(const char *s, size_t n)
{
  char *p = malloc(n + 1);

  if (p) {
    memcpy(p, s, n);
    p[n] = '\0';
  }
  return p;
}

int desc_set_str(char **slot, const char *val)
{
  char *copy = NULL;

  if (val) {
    copy = strdup(val);
    if (!copy)
      return disk_fail(DISK_E_NOMEM, "out of memory");
  }
  free(*slot);
  *slot = copy;
  return DISK_OK;
}

/* Appends one key/value to an array (capped at DESC_MAX_KEYS). */
static int kv_push(struct desc_kv **arr, size_t *n, const char *k, size_t kn,
                   const char *v, size_t vn)
{
  struct desc_kv *na;

  if (*n >= DESC_MAX_KEYS)
    return DISK_E_DESCRIPTOR;
  na = realloc(*arr, (*n + 1) * sizeof **arr);
  if (!na)
    return DISK_E_NOMEM;
  *arr = na;
  na[*n].key = dup_n(k, kn);
  na[*n].value = dup_n(v, vn);
  if (!na[*n].key || !na[*n].value) {
    free(na[*n].key);
    free(na[*n].value);
    return DISK_E_NOMEM;
  }
  (*n)++;
  return DISK_OK;
}

static int kv_has(const struct desc_kv *arr, size_t n, const char *k,
                  size_t kn)
{
  size_t i;

  for (i = 0; i < n; i++)
    if (strlen(arr[i].key) == kn && strncasecmp(arr[i].key, k, kn) == 0)
      return 1;
  return 0;
}

int desc_add_extent(struct descriptor *d, enum desc_access access,
                    uint64_t sectors, enum desc_extent_type type,
                    const char *file, uint64_t offset)
{
  struct desc_extent *na;
  char *f = NULL;
  uint64_t total;

  if (d->n_ext >= DESC_MAX_EXTENTS)
    return disk_fail(DISK_E_DESCRIPTOR, "more than %u extents",
                     DESC_MAX_EXTENTS);
  if (__builtin_add_overflow(desc_capacity(d), sectors, &total) ||
      total > DISK_MAX_SECTORS)
    return disk_fail(DISK_E_TOOBIG, "extents of more than %llu sectors",
                     (unsigned long long)DISK_MAX_SECTORS);
  if (file) {
    f = strdup(file);
    if (!f)
      return disk_fail(DISK_E_NOMEM, "out of memory");
  }
  na = realloc(d->ext, (d->n_ext + 1) * sizeof *na);
  if (!na) {
    free(f);
    return disk_fail(DISK_E_NOMEM, "out of memory");
  }
  d->ext = na;
  na[d->n_ext].access = access;
  na[d->n_ext].sectors = sectors;
  na[d->n_ext].type = type;
  na[d->n_ext].file = f;
  na[d->n_ext].offset = offset;
  d->n_ext++;
  return DISK_OK;
}

/* Parses an unsigned decimal (or 0x hex when 'hex') number of n bytes. */
static int parse_u64(const char *s, size_t n, int base, uint64_t *out)
{
  uint64_t v = 0;
  size_t i;

  if (n == 0 || n > 20)
    return 0;
  for (i = 0; i < n; i++) {
    int dgt;
    unsigned char c = (unsigned char)s[i];

    if (c >= '0' && c <= '9')
      dgt = c - '0';
    else if (base == 16 && c >= 'a' && c <= 'f')
      dgt = c - 'a' + 10;
    else if (base == 16 && c >= 'A' && c <= 'F')
      dgt = c - 'A' + 10;
    else
      return 0;
    if (__builtin_mul_overflow(v, (uint64_t)base, &v) ||
        __builtin_add_overflow(v, (uint64_t)dgt, &v))
      return 0;
  }
  *out = v;
  return 1;
}

/* Strips surrounding blanks of [*s, *s + *n). */
static void trim(const char **s, size_t *n)
{
  while (*n && (**s == ' ' || **s == '\t')) {
    (*s)++;
    (*n)--;
  }
  while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
    (*n)--;
}

/* Unquotes a value: "x" -> x; unquoted values are taken as they are.
 * Returns 0 when a quote is unbalanced or embedded. */
static int unquote(const char **v, size_t *vn)
{
  if (*vn >= 1 && (*v)[0] == '"') {
    if (*vn < 2 || (*v)[*vn - 1] != '"')
      return 0;
    (*v)++;
    *vn -= 2;
  }
  return memchr(*v, '"', *vn) == NULL;
}

static const struct {
  const char *name;
  enum desc_extent_type type;
} extent_types[] = {
    {"SPARSE", DESC_EXT_SPARSE},         {"FLAT", DESC_EXT_FLAT},
    {"ZERO", DESC_EXT_ZERO},             {"VMFS", DESC_EXT_VMFS},
    {"VMFSSPARSE", DESC_EXT_VMFSSPARSE}, {"VMFSRDM", DESC_EXT_VMFSRDM},
    {"VMFSRAW", DESC_EXT_VMFSRAW},       {"SESPARSE", DESC_EXT_SESPARSE},
};

/* Splits off the next blank-separated token of [*s, *s+*n). */
static int next_token(const char **s, size_t *n, const char **tok,
                      size_t *tn)
{
  trim(s, n);
  if (*n == 0)
    return 0;
  *tok = *s;
  if (**s == '"') {
    const char *end = memchr(*s + 1, '"', *n - 1);

    if (!end)
      return 0;
    *tn = (size_t)(end - *s) + 1;
  } else {
    *tn = 0;
    while (*tn < *n && (*s)[*tn] != ' ' && (*s)[*tn] != '\t')
      (*tn)++;
  }
  *s += *tn;
  *n -= *tn;
  return 1;
}

static int parse_extent(struct descriptor *d, const char *s, size_t n)
{
  const char *tok, *file = NULL;
  size_t tn, fn = 0, i;
  enum desc_access access;
  uint64_t sectors, offset = 0;
  int type = -1;
  char *fcopy = NULL;
  int st;

  if (!next_token(&s, &n, &tok, &tn))
    return DISK_E_DESCRIPTOR;
  if (tn == 2 && memcmp(tok, "RW", 2) == 0)
    access = DESC_RW;
  else if (tn == 6 && memcmp(tok, "RDONLY", 6) == 0)
    access = DESC_RDONLY;
  else if (tn == 8 && memcmp(tok, "NOACCESS", 8) == 0)
    access = DESC_NOACCESS;
  else
    return DISK_E_DESCRIPTOR;
  if (!next_token(&s, &n, &tok, &tn) || !parse_u64(tok, tn, 10, &sectors))
    return DISK_E_DESCRIPTOR;
  if (!next_token(&s, &n, &tok, &tn))
    return DISK_E_DESCRIPTOR;
  for (i = 0; i < sizeof extent_types / sizeof extent_types[0]; i++)
    if (strlen(extent_types[i].name) == tn &&
        memcmp(extent_types[i].name, tok, tn) == 0)
      type = (int)extent_types[i].type;
  if (type < 0)
    return DISK_E_DESCRIPTOR;
  if (type != DESC_EXT_ZERO) {
    if (!next_token(&s, &n, &tok, &tn) || tn < 3 || tok[0] != '"')
      return DISK_E_DESCRIPTOR;
    file = tok + 1;
    fn = tn - 2;
    if (fn == 0 || fn > 4095 || memchr(file, '\0', fn))
      return DISK_E_DESCRIPTOR;
  }
  if (next_token(&s, &n, &tok, &tn)) {
    if (type != DESC_EXT_FLAT || !parse_u64(tok, tn, 10, &offset))
      return DISK_E_DESCRIPTOR;
  }
  trim(&s, &n);
  if (n != 0)
    return DISK_E_DESCRIPTOR;
  if (file) {
    fcopy = dup_n(file, fn);
    if (!fcopy)
      return DISK_E_NOMEM;
  }
  st = desc_add_extent(d, access, sectors, (enum desc_extent_type)type, fcopy,
                       offset);
  free(fcopy);
  return st == DISK_E_TOOBIG ? DISK_E_DESCRIPTOR : st;
}

static int parse_header(struct descriptor *d, const char *k, size_t kn,
                        const char *v, size_t vn, unsigned *seen)
{
  uint64_t num;

#define KEY_IS(lit) (kn == sizeof(lit) - 1 && strncasecmp(k, lit, kn) == 0)
  if (KEY_IS("version")) {
    if ((*seen & 1) || !parse_u64(v, vn, 10, &num) || num < 1 || num > 3)
      return DISK_E_DESCRIPTOR;
    d->version = (uint32_t)num;
    *seen |= 1;
  } else if (KEY_IS("CID")) {
    if ((*seen & 2) || vn > 8 || !parse_u64(v, vn, 16, &num))
      return DISK_E_DESCRIPTOR;
    d->cid = (uint32_t)num;
    *seen |= 2;
  } else if (KEY_IS("parentCID")) {
    if ((*seen & 4) || vn > 8 || !parse_u64(v, vn, 16, &num))
      return DISK_E_DESCRIPTOR;
    d->parent_cid = (uint32_t)num;
    *seen |= 4;
  } else if (KEY_IS("createType")) {
    if (d->create_type || vn == 0)
      return DISK_E_DESCRIPTOR;
    d->create_type = dup_n(v, vn);
    if (!d->create_type)
      return DISK_E_NOMEM;
  } else if (KEY_IS("parentFileNameHint")) {
    if (d->parent_hint || vn == 0)
      return DISK_E_DESCRIPTOR;
    d->parent_hint = dup_n(v, vn);
    if (!d->parent_hint)
      return DISK_E_NOMEM;
  } else {
    if (kv_has(d->extra, d->n_extra, k, kn))
      return DISK_E_DESCRIPTOR;
    return kv_push(&d->extra, &d->n_extra, k, kn, v, vn);
  }
#undef KEY_IS
  return DISK_OK;
}

static int parse_line(struct descriptor *d, const char *s, size_t n,
                      unsigned *seen)
{
  const char *eq, *k, *v;
  size_t kn, vn, i;

  for (i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];

    if ((c < 0x20 && c != '\t') || c == 0x7f)
      return DISK_E_DESCRIPTOR;
  }
  trim(&s, &n);
  if (n == 0 || s[0] == '#')
    return DISK_OK;
  if ((n > 3 && memcmp(s, "RW ", 3) == 0) ||
      (n > 7 && memcmp(s, "RDONLY ", 7) == 0) ||
      (n > 9 && memcmp(s, "NOACCESS ", 9) == 0))
    return parse_extent(d, s, n);
  eq = memchr(s, '=', n);
  if (!eq)
    return DISK_E_DESCRIPTOR;
  k = s;
  kn = (size_t)(eq - s);
  v = eq + 1;
  vn = n - kn - 1;
  trim(&k, &kn);
  trim(&v, &vn);
  if (!key_ok(k, kn) || vn > DESC_MAX_VALUE || !unquote(&v, &vn))
    return DISK_E_DESCRIPTOR;
  if (kn > 4 && strncmp(k, "ddb.", 4) == 0) {
    if (kv_has(d->ddb, d->n_ddb, k, kn))
      return DISK_E_DESCRIPTOR;
    return kv_push(&d->ddb, &d->n_ddb, k, kn, v, vn);
  }
  return parse_header(d, k, kn, v, vn, seen);
}

int desc_parse(struct descriptor *d, const char *text, size_t len,
               const char *what)
{
  size_t pos = 0, lineno = 0;
  unsigned seen = 0;
  int st = DISK_OK;

  memset(d, 0, sizeof *d);
  d->parent_cid = DESC_CID_NONE;
  if (len > DESC_MAX_BYTES)
    return disk_fail(DISK_E_DESCRIPTOR,
                     "%s: descriptor of %zu bytes exceeds the %u-byte limit",
                     what, len, DESC_MAX_BYTES);
  while (pos < len && st == DISK_OK) {
    const char *line = text + pos;
    const char *nl = memchr(line, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - line) : len - pos;

    pos += n + (nl ? 1 : 0);
    lineno++;
    if (n && line[n - 1] == '\r')
      n--;
    st = parse_line(d, line, n, &seen);
    if (st == DISK_E_DESCRIPTOR)
      disk_fail(st, "%s: descriptor line %zu is not valid", what, lineno);
    else if (st)
      disk_fail(st, "%s: out of memory parsing descriptor line %zu", what,
                lineno);
  }
  if (st == DISK_OK && (!(seen & 2) || !d->create_type || d->n_ext == 0))
    st = disk_fail(DISK_E_DESCRIPTOR, "%s: descriptor lacks %s", what,
                   !(seen & 2)       ? "a CID"
                   : !d->create_type ? "a createType"
                                     : "extents");
  if (st == DISK_OK && !(seen & 1))
    d->version = 1;
  if (st != DISK_OK)
    desc_free(d);
  return st;
}

const char *desc_ddb_get(const struct descriptor *d, const char *key)
{
  size_t i;

  for (i = 0; i < d->n_ddb; i++)
    if (strcasecmp(d->ddb[i].key, key) == 0)
      return d->ddb[i].value;
  return NULL;
}

int desc_ddb_set(struct descriptor *d, const char *key, const char *val)
{
  size_t i, kn = strlen(key);
  int st;

  if (!key_ok(key, kn) || !desc_value_ok(val))
    return disk_fail(DISK_E_ARG,
                     "metadata key \"%.64s\" or its value is not valid (keys "
                     "are [A-Za-z0-9._-], values hold no quotes or control "
                     "characters)",
                     key);
  for (i = 0; i < d->n_ddb; i++)
    if (strcasecmp(d->ddb[i].key, key) == 0)
      return desc_set_str(&d->ddb[i].value, val);
  st = kv_push(&d->ddb, &d->n_ddb, key, kn, val, strlen(val));
  if (st == DISK_E_DESCRIPTOR)
    return disk_fail(st, "more than %u metadata keys", DESC_MAX_KEYS);
  return st ? disk_fail(st, "out of memory") : DISK_OK;
}

static const char *type_name(enum desc_extent_type t)
{
  size_t i;

  for (i = 0; i < sizeof extent_types / sizeof extent_types[0]; i++)
    if (extent_types[i].type == t)
      return extent_types[i].name;
  return "ZERO";
}

static int buf_st(int r)
{
  return r == FVX_BUF_OK ? DISK_OK
         : r == FVX_BUF_NOMEM ? DISK_E_NOMEM
                              : DISK_E_NOSPACE;
}

int desc_format(const struct descriptor *d, struct fvx_buf *out)
{
  static const char *const access[] = {"RW", "RDONLY", "NOACCESS"};
  int r;
  size_t i;

  r = fvx_buf_printf(out,
                     "# Disk DescriptorFile\nversion=%u\nencoding=\"UTF-8\"\n"
                     "CID=%08x\nparentCID=%08x\ncreateType=\"%s\"\n",
                     d->version ? d->version : 1, d->cid, d->parent_cid,
                     d->create_type ? d->create_type : "monolithicSparse");
  if (!r && d->parent_hint)
    r = fvx_buf_printf(out, "parentFileNameHint=\"%s\"\n", d->parent_hint);
  for (i = 0; !r && i < d->n_extra; i++)
    if (strcasecmp(d->extra[i].key, "encoding") != 0)
      r = fvx_buf_printf(out, "%s=\"%s\"\n", d->extra[i].key,
                         d->extra[i].value);
  if (!r)
    r = fvx_buf_puts(out, "\n# Extent description\n");
  for (i = 0; !r && i < d->n_ext; i++) {
    const struct desc_extent *e = &d->ext[i];

    r = fvx_buf_printf(out, "%s %" PRIu64 " %s", access[e->access],
                       e->sectors, type_name(e->type));
    if (!r && e->file)
      r = fvx_buf_printf(out, " \"%s\"", e->file);
    if (!r && e->type == DESC_EXT_FLAT)
      r = fvx_buf_printf(out, " %" PRIu64, e->offset);
    if (!r)
      r = fvx_buf_puts(out, "\n");
  }
  if (!r)
    r = fvx_buf_puts(out, "\n# The Disk Data Base\n#DDB\n\n");
  for (i = 0; !r && i < d->n_ddb; i++)
    r = fvx_buf_printf(out, "%s = \"%s\"\n", d->ddb[i].key, d->ddb[i].value);
  return buf_st(r);
}

int desc_format_text(const struct descriptor *d, const char *what, char **out)
{
  struct fvx_buf b;
  int st;

  fvx_buf_init(&b, DESC_MAX_BYTES);
  st = desc_format(d, &b);
  *out = st ? NULL : fvx_buf_steal(&b);
  fvx_buf_free(&b);
  if (st == DISK_E_NOSPACE)
    return disk_fail(st, "%s: the descriptor would pass %u bytes", what,
                     DESC_MAX_BYTES);
  if (st || !*out)
    return disk_fail(DISK_E_NOMEM, "%s: out of memory", what);
  return DISK_OK;
}
