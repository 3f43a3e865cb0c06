/*
 * vmref.c -- VM references as operators type them (see vmref.h).
 *
 * Classification is local and strict about bytes (valid UTF-8, no control
 * characters), loose about meaning: whatever is not a vmxSpec, a bare
 * moref or a path is a name.  Resolution reads the inventory once, builds
 * every VM's path from the parent links, sorts the VMs by name and by path
 * and looks each reference up by binary search, so a list of 100,000 names
 * costs one walk and n log n work.
 */
#include "access/vmref.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/pool.h"
#include "access/target.h"
#include "access/vmxspec.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/mem.h"
#include "util/text.h"

#define PATH_DEPTH_MAX 256       /* folders deep; deeper is a loop */
#define PATH_BYTES_MAX (64 * 1024)

static bool is_bare_moref(const char *s)
{
  if (strncmp(s, "vm-", 3) != 0 || !s[3])
    return false;
  for (s += 3; *s; s++)
    if (*s < '0' || *s > '9')
      return false;
  return true;
}

static bool is_vmxspec_form(const char *s)
{
  return strncmp(s, "moref=", 6) == 0 || strncmp(s, "moid=", 5) == 0 ||
         strncmp(s, "vm=", 3) == 0 ||
         (strchr(s, '?') && (strstr(s, "dcPath=") || strstr(s, "dsName=")));
}

enum vmref_kind vmref_classify(const char *s)
{
  size_t len;

  if (!s || !*s)
    return VMREF_BAD;
  len = strnlen(s, VMXSPEC_MAX);
  if (len >= VMXSPEC_MAX || !fvx_utf8_valid(s, len))
    return VMREF_BAD;
  for (const char *p = s; *p; p++)
    if ((unsigned char)*p < 0x20 || *p == 0x7f)
      return VMREF_BAD;
  if (is_vmxspec_form(s))
    return VMREF_VMXSPEC;
  if (s[0] == '/')
    return VMREF_PATH;
  if (is_bare_moref(s))
    return VMREF_MOREF;
  return VMREF_NAME;
}

/* ---- the inventory, indexed -------------------------------------------- */

struct entry {
  const char *key;
  size_t item;
};

struct index {
  const struct vim_inventory *inv;
  size_t *by_ref;        /* every item, sorted by (moref value, type) */
  char **paths;          /* per item; NULL for non-VMs and unreachable VMs */
  struct entry *by_name; /* VMs, sorted by name */
  struct entry *by_path; /* VMs with a path, sorted by path */
  size_t n_vms, n_paths;
};

static int cmp_ref(const void *a, const void *b, void *inv_)
{
  const struct vim_inventory *inv = inv_;
  const struct vim_moref *x = &inv->items[*(const size_t *)a].ref;
  const struct vim_moref *y = &inv->items[*(const size_t *)b].ref;
  int c = strcmp(x->value, y->value);

  return c ? c : strcmp(x->type, y->type);
}

static int cmp_entry(const void *a, const void *b)
{
  const struct entry *x = a, *y = b;
  int c = strcmp(x->key, y->key);

  return c ? c : (x->item > y->item) - (x->item < y->item);
}

/* The item whose moref is ref, or (size_t)-1. */
static size_t find_ref(const struct index *ix, const struct vim_moref *ref)
{
  size_t lo = 0, hi = ix->inv->n;

  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    const struct vim_moref *m = &ix->inv->items[ix->by_ref[mid]].ref;
    int c = strcmp(m->value, ref->value);

    if (!c)
      c = strcmp(m->type, ref->type);
    if (!c)
      return ix->by_ref[mid];
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return (size_t)-1;
}

static bool same_ref(const struct vim_moref *a, const struct vim_moref *b)
{
  return strcmp(a->value, b->value) == 0 && strcmp(a->type, b->type) == 0;
}

/* "/DC0/vm/x" for item i, built leaf first then reversed by components. */
static char *path_of(const struct index *ix, size_t i)
{
  const char *names[PATH_DEPTH_MAX];
  size_t depth = 0;
  struct fvx_buf b;
  size_t cur = i;

  for (;;) {
    const struct vim_inventory_item *it = &ix->inv->items[cur];

    if (depth == PATH_DEPTH_MAX)
      return NULL; /* too deep, or a loop */
    names[depth++] = it->name;
    if (!it->parent.type[0])
      return NULL; /* detached */
    if (same_ref(&it->parent, &ix->inv->root))
      break;
    cur = find_ref(ix, &it->parent);
    if (cur == (size_t)-1)
      return NULL;
  }
  fvx_buf_init(&b, PATH_BYTES_MAX);
  while (depth > 0)
    if (fvx_buf_puts(&b, "/") || fvx_buf_puts(&b, names[--depth])) {
      fvx_buf_free(&b);
      return NULL;
    }
  return fvx_buf_steal(&b);
}

static bool is_vm(const struct vim_inventory_item *it)
{
  return strcmp(it->ref.type, "VirtualMachine") == 0;
}

static void index_free(struct index *ix)
{
  if (ix->paths)
    for (size_t i = 0; i < ix->inv->n; i++)
      free(ix->paths[i]);
  free(ix->paths);
  free(ix->by_ref);
  free(ix->by_name);
  free(ix->by_path);
  memset(ix, 0, sizeof *ix);
}

/* Builds the index; false when out of memory.  A path that cannot be built
 * (a detached VM) is left out, not a failure. */
static bool index_build(struct index *ix, const struct vim_inventory *inv)
{
  size_t n = inv->n ? inv->n : 1;

  memset(ix, 0, sizeof *ix);
  ix->inv = inv;
  ix->by_ref = calloc(n, sizeof *ix->by_ref);
  ix->paths = calloc(n, sizeof *ix->paths);
  ix->by_name = calloc(n, sizeof *ix->by_name);
  ix->by_path = calloc(n, sizeof *ix->by_path);
  if (!ix->by_ref || !ix->paths || !ix->by_name || !ix->by_path)
    return false;
  for (size_t i = 0; i < inv->n; i++)
    ix->by_ref[i] = i;
  qsort_r(ix->by_ref, inv->n, sizeof *ix->by_ref, cmp_ref, (void *)inv);
  for (size_t i = 0; i < inv->n; i++) {
    if (!is_vm(&inv->items[i]))
      continue;
    ix->by_name[ix->n_vms].key = inv->items[i].name;
    ix->by_name[ix->n_vms++].item = i;
    ix->paths[i] = path_of(ix, i);
    if (ix->paths[i]) {
      ix->by_path[ix->n_paths].key = ix->paths[i];
      ix->by_path[ix->n_paths++].item = i;
    }
  }
  qsort(ix->by_name, ix->n_vms, sizeof *ix->by_name, cmp_entry);
  qsort(ix->by_path, ix->n_paths, sizeof *ix->by_path, cmp_entry);
  return true;
}

/* The first entry of e[0..n) with key k and how many share it. */
static size_t lookup(const struct entry *e, size_t n, const char *k,
                     size_t *count)
{
  size_t lo = 0, hi = n, first;

  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;

    if (strcmp(e[mid].key, k) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  first = lo;
  while (lo < n && strcmp(e[lo].key, k) == 0)
    lo++;
  *count = lo - first;
  return first;
}

/* A typed name as vCenter stores it: '%', '/' and '\' %-escaped.  NULL when
 * out of memory. */
static char *stored_form(const char *name)
{
  struct fvx_buf b;

  fvx_buf_init(&b, PATH_BYTES_MAX);
  for (const char *p = name; *p; p++) {
    int r = *p == '%'    ? fvx_buf_puts(&b, "%25")
            : *p == '/'  ? fvx_buf_puts(&b, "%2f")
            : *p == '\\' ? fvx_buf_puts(&b, "%5c")
                         : fvx_buf_append(&b, p, 1);

    if (r) {
      fvx_buf_free(&b);
      return NULL;
    }
  }
  return fvx_buf_steal(&b);
}

/* ---- one reference ---------------------------------------------------------- */

static bool set_str(char **dst, const char *src)
{
  *dst = strdup(src);
  return *dst != NULL;
}

/* The VM at item i resolves r.  False when out of memory. */
static bool found(struct vmref_result *r, const struct index *ix, size_t i)
{
  const struct vim_inventory_item *it = &ix->inv->items[i];
  char spec[96];

  snprintf(spec, sizeof spec, "moref=%s", it->ref.value);
  r->status = VMREF_OK;
  return set_str(&r->vmx_spec, spec) && set_str(&r->moref, it->ref.value) &&
         (!ix->paths[i] || set_str(&r->path, ix->paths[i]));
}

/* Several VMs carry the name: list the first ones.  False on NOMEM. */
static bool ambiguous(struct vmref_result *r, const struct index *ix,
                      const struct entry *e, size_t count)
{
  r->status = VMREF_E_AMBIGUOUS;
  r->n_candidates = count;
  for (size_t k = 0; k < count && k < VMREF_MAX_LISTED; k++) {
    const struct vim_inventory_item *it = &ix->inv->items[e[k].item];
    const char *path = ix->paths[e[k].item];

    if (asprintf(&r->listed[k], "%s %s", it->ref.value,
                 path ? path : "(no inventory path)") < 0) {
      r->listed[k] = NULL;
      return false;
    }
    r->n_listed++;
  }
  return true;
}

/* A name or path against the index.  False when out of memory. */
static bool resolve_one(struct vmref_result *r, const struct index *ix,
                        enum vmref_kind kind, const char *ref)
{
  const struct entry *table = kind == VMREF_PATH ? ix->by_path : ix->by_name;
  size_t n = kind == VMREF_PATH ? ix->n_paths : ix->n_vms;
  CLEANUP_FREE char *key = strdup(ref);
  size_t count, first, len;

  if (!key)
    return false;
  len = strlen(key);
  while (kind == VMREF_PATH && len > 1 && key[len - 1] == '/')
    key[--len] = '\0'; /* "/DC0/vm/x/" is "/DC0/vm/x" */
  first = lookup(table, n, key, &count);
  if (!count && kind == VMREF_NAME) {
    free(key);
    key = stored_form(ref);
    if (!key)
      return false;
    first = lookup(table, n, key, &count);
  }
  if (count == 1)
    return found(r, ix, table[first].item);
  if (count > 1)
    return ambiguous(r, ix, &table[first], count);
  r->status = VMREF_E_NOT_FOUND;
  return true;
}

/* The references that need no server; true when any needs the inventory. */
static bool classify_all(const char *const *refs, size_t n,
                         struct vmref_result *out, bool *nomem)
{
  bool need = false;

  *nomem = false;
  for (size_t i = 0; i < n && !*nomem; i++) {
    struct vmref_result *r = &out[i];
    char spec[96];

    switch (vmref_classify(refs[i])) {
    case VMREF_BAD:
      r->status = VMREF_E_BAD;
      snprintf(r->why, sizeof r->why, "%s",
               !refs[i] || !*refs[i] ? "empty"
               : strnlen(refs[i], VMXSPEC_MAX) >= VMXSPEC_MAX
                   ? "longer than 2047 bytes"
                   : "not valid UTF-8, or has control characters");
      break;
    case VMREF_VMXSPEC:
      *nomem = !set_str(&r->vmx_spec, refs[i]);
      break;
    case VMREF_MOREF:
      if (strlen(refs[i]) >= sizeof ((struct vim_moref *)0)->value) {
        r->status = VMREF_E_BAD;
        snprintf(r->why, sizeof r->why, "the managed object id is too long");
        break;
      }
      snprintf(spec, sizeof spec, "moref=%s", refs[i]);
      *nomem = !set_str(&r->vmx_spec, spec) || !set_str(&r->moref, refs[i]);
      break;
    case VMREF_PATH:
    case VMREF_NAME:
      need = true;
      break;
    }
  }
  return need;
}

int vmref_resolve(const struct access_conninfo *ci, const char *const *refs,
                  size_t n, struct vmref_result *out,
                  struct access_result *res)
{
  struct vim_inventory *inv = NULL;
  struct vim_session *s = NULL;
  struct vim_error err;
  struct index ix;
  bool nomem;

  memset(out, 0, n * sizeof *out);
  res->status = ACCESS_OK;
  if (!classify_all(refs, n, out, &nomem) || nomem)
    return nomem ? access_fail(res, ACCESS_E_NOMEM, "out of memory")
                 : ACCESS_OK;
  if (pool_checkout(ci, &s, res) != ACCESS_OK)
    return res->status;
  if (vim_inventory_get(s, &inv, &err) != VIM_OK) {
    pool_checkin(ci, s, access_session_reusable(&err));
    return access_fail_vim(res, &err);
  }
  pool_checkin(ci, s, true);
  fvx_debug("inventory: %zu objects", inv->n);
  if (!index_build(&ix, inv)) {
    index_free(&ix);
    vim_inventory_free(inv);
    return access_fail(res, ACCESS_E_NOMEM, "out of memory");
  }
  for (size_t i = 0; i < n && res->status == ACCESS_OK; i++) {
    enum vmref_kind kind = vmref_classify(refs[i]);

    if ((kind == VMREF_PATH || kind == VMREF_NAME) &&
        !resolve_one(&out[i], &ix, kind, refs[i]))
      access_fail(res, ACCESS_E_NOMEM, "out of memory");
  }
  index_free(&ix);
  vim_inventory_free(inv);
  return res->status;
}

void vmref_results_free(struct vmref_result *out, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    free(out[i].vmx_spec);
    free(out[i].moref);
    free(out[i].path);
    for (size_t k = 0; k < out[i].n_listed; k++)
      free(out[i].listed[k]);
    memset(&out[i], 0, sizeof out[i]);
  }
}
