/*
 * props.c -- the property collector: generic retrieval and VM facts.
 *
 * vim_retrieve() asks for a set of property paths of a list of objects in a
 * single RetrievePropertiesEx (one propSet per object type, one objectSet
 * per object), then follows the paging token with
 * ContinueRetrievePropertiesEx until the server has sent everything.
 * Values are decoded by xsi:type into text, text arrays and MoRefs, which is
 * all the upper layers read; complex values are reported as present only.
 *
 * The result is one allocation tree owned by the caller and freed by
 * vim_objects_free(); the requested paths are copied into it so that
 * vim_prop.path stays valid as long as the result.  Callers that need more
 * than a flat object list (traversals, several property sets: place.c)
 * write the spec themselves and hand it to vim_collect(), which pages and
 * decodes the same way.
 */
#include <stdlib.h>
#include <string.h>

#include "util/text.h"
#include "vim/internal.h"

/* The public struct first, so a struct vim_objects * is one of these. */
struct objects_priv {
  struct vim_objects pub;
  size_t cap;
  size_t n_paths;
  char **paths;
};

static void prop_clear(struct vim_prop *p)
{
  if (p->kind == VIM_PROP_STRING)
    free((char *)p->str);
  if (p->kind == VIM_PROP_STRINGS) {
    for (size_t i = 0; i < p->n; i++)
      free((char *)p->strs[i]);
    free((char **)p->strs);
  }
  if (p->kind == VIM_PROP_MOREF || p->kind == VIM_PROP_MOREFS)
    free((struct vim_moref *)p->morefs);
  p->kind = VIM_PROP_UNSET;
  p->str = NULL;
  p->strs = NULL;
  p->morefs = NULL;
  p->n = 0;
}

void vim_objects_free(struct vim_objects *res)
{
  struct objects_priv *p = (struct objects_priv *)res;

  if (!res)
    return;
  for (size_t i = 0; i < res->n; i++) {
    for (size_t j = 0; j < res->objs[i].n_props; j++)
      prop_clear(&res->objs[i].props[j]);
    free(res->objs[i].props);
  }
  free(res->objs);
  for (size_t i = 0; i < p->n_paths; i++)
    free(p->paths[i]);
  free(p->paths);
  free(p);
}

static struct objects_priv *objects_new(const char *const *paths, size_t n)
{
  struct objects_priv *p = calloc(1, sizeof *p);

  if (!p)
    return NULL;
  p->paths = calloc(n ? n : 1, sizeof *p->paths);
  if (!p->paths) {
    free(p);
    return NULL;
  }
  p->n_paths = n;
  for (size_t i = 0; i < n; i++) {
    p->paths[i] = strdup(paths[i]);
    if (!p->paths[i]) {
      vim_objects_free(&p->pub);
      return NULL;
    }
  }
  return p;
}

int vim_props_test_new(const char *const *paths, size_t n,
                       struct vim_objects **out)
{
  struct objects_priv *p = objects_new(paths, n);

  *out = p ? &p->pub : NULL;
  return p ? VIM_OK : VIM_E_NOMEM;
}

static bool has_element_child(const xmlNode *n)
{
  return vim_xml_child(n, NULL) != NULL;
}

/* Decodes one <val> into p (which is UNSET).  False on allocation failure. */
static bool decode_val(const xmlNode *val, struct vim_prop *p)
{
  char type[96];
  xmlNode *c;
  size_t n = 0;

  vim_xml_xsi_type(val, type, sizeof type);
  if (strcmp(type, "ManagedObjectReference") == 0) {
    struct vim_moref *m = calloc(1, sizeof *m);

    if (!m)
      return false;
    if (!vim_xml_moref(val, m)) {
      free(m);
      p->kind = VIM_PROP_OTHER;
      return true;
    }
    p->kind = VIM_PROP_MOREF;
    p->morefs = m;
    p->n = 1;
    return true;
  }
  if (strncmp(type, "ArrayOf", 7) == 0) {
    bool morefs = strcmp(type, "ArrayOfManagedObjectReference") == 0;

    for (c = vim_xml_child(val, NULL); c; c = vim_xml_next(c, NULL)) {
      if (!morefs && has_element_child(c)) {
        p->kind = VIM_PROP_OTHER; /* array of complex values */
        return true;
      }
      n++;
    }
    if (n == 0)
      return true; /* empty array: UNSET */
    if (morefs) {
      struct vim_moref *m = calloc(n, sizeof *m);
      size_t i = 0;

      if (!m)
        return false;
      for (c = vim_xml_child(val, NULL); c; c = vim_xml_next(c, NULL))
        if (vim_xml_moref(c, &m[i]))
          i++;
      p->kind = VIM_PROP_MOREFS;
      p->morefs = m;
      p->n = i;
      return true;
    } else {
      char **v = calloc(n, sizeof *v);
      size_t i = 0;

      if (!v)
        return false;
      p->kind = VIM_PROP_STRINGS;
      p->strs = (const char *const *)v;
      for (c = vim_xml_child(val, NULL); c; c = vim_xml_next(c, NULL)) {
        v[i] = vim_xml_text_dup(c);
        if (!v[i])
          return false; /* prop_clear frees the first i */
        i++;
        p->n = i;
      }
      return true;
    }
  }
  if (has_element_child(val)) {
    p->kind = VIM_PROP_OTHER;
    return true;
  }
  p->str = vim_xml_text_dup(val);
  if (!p->str)
    return false;
  p->kind = VIM_PROP_STRING;
  return true;
}

static int add_object(struct objects_priv *p, const xmlNode *oc,
                      struct vim_error *err)
{
  struct vim_object *o;
  xmlNode *ps, *ms;

  if (p->pub.n == p->cap) {
    size_t nc = p->cap ? p->cap * 2 : 8;
    struct vim_object *no = realloc(p->pub.objs, nc * sizeof *no);

    if (!no)
      return vim_fail(err, VIM_E_NOMEM, "out of memory");
    p->pub.objs = no;
    p->cap = nc;
  }
  o = &p->pub.objs[p->pub.n];
  memset(o, 0, sizeof *o);
  if (!vim_xml_moref(vim_xml_child(oc, "obj"), &o->ref))
    return vim_fail(err, VIM_E_PROTOCOL,
                    "RetrievePropertiesEx: object without a valid <obj>");
  o->props = calloc(p->n_paths ? p->n_paths : 1, sizeof *o->props);
  if (!o->props)
    return vim_fail(err, VIM_E_NOMEM, "out of memory");
  o->n_props = p->n_paths;
  for (size_t i = 0; i < p->n_paths; i++)
    o->props[i].path = p->paths[i];
  p->pub.n++; /* from here on vim_objects_free releases it */
  for (ps = vim_xml_child(oc, "propSet"); ps; ps = vim_xml_next(ps, "propSet")) {
    char name[256];

    vim_xml_child_text(ps, "name", name, sizeof name);
    for (size_t i = 0; i < p->n_paths; i++) {
      if (strcmp(name, p->paths[i]) != 0 || o->props[i].kind != VIM_PROP_UNSET)
        continue;
      if (!decode_val(vim_xml_child(ps, "val"), &o->props[i]))
        return vim_fail(err, VIM_E_NOMEM, "out of memory");
      break;
    }
  }
  for (ms = vim_xml_child(oc, "missingSet"); ms;
       ms = vim_xml_next(ms, "missingSet")) {
    struct vim_fault f;

    vim_fault_decode_localized(vim_xml_child(ms, "fault"), &f);
    if (f.kind == VIM_FAULT_MANAGED_OBJECT_NOT_FOUND)
      o->missing = true;
  }
  return VIM_OK;
}

int vim_props_decode(const xmlNode *result, const char *const *paths,
                     size_t n_paths, struct vim_objects *res, char *token,
                     size_t token_n, struct vim_error *err)
{
  struct objects_priv *p = (struct objects_priv *)res;
  xmlNode *rv = vim_xml_child(result, "returnval"), *oc;
  int rc;

  (void)paths;
  (void)n_paths;
  token[0] = '\0';
  if (!rv)
    return VIM_OK; /* nothing matched */
  if (!vim_xml_text(vim_xml_child(rv, "token"), token, token_n))
    return vim_fail(err, VIM_E_PROTOCOL, "paging token too long");
  for (oc = vim_xml_child(rv, "objects"); oc; oc = vim_xml_next(oc, "objects")) {
    rc = add_object(p, oc, err);
    if (rc != VIM_OK)
      return rc;
  }
  return VIM_OK;
}

/* Writes the PropertyFilterSpec. */
static void write_spec(struct vim_soap *a, const struct vim_moref *objs,
                       size_t n_objs, const char *const *paths, size_t n_paths,
                       unsigned page_size)
{
  vim_soap_raw(a, "<specSet>");
  for (size_t i = 0; i < n_objs; i++) {
    bool seen = false;

    for (size_t j = 0; j < i && !seen; j++)
      seen = strcmp(objs[j].type, objs[i].type) == 0;
    if (seen)
      continue;
    vim_soap_raw(a, "<propSet>");
    vim_soap_str(a, "type", objs[i].type);
    for (size_t k = 0; k < n_paths; k++)
      vim_soap_str(a, "pathSet", paths[k]);
    vim_soap_raw(a, "</propSet>");
  }
  for (size_t i = 0; i < n_objs; i++) {
    vim_soap_raw(a, "<objectSet>");
    vim_soap_moref(a, "obj", &objs[i]);
    vim_soap_raw(a, "</objectSet>");
  }
  vim_soap_raw(a, "</specSet><options>");
  if (page_size)
    vim_soap_int(a, "maxObjects", (long)page_size);
  vim_soap_raw(a, "</options>");
}

static const struct vim_req retrieve_req = {
  .method = "RetrievePropertiesEx", .cls = VIM_CALL_IDEMPOTENT,
  .to = VIM_TO_PROPERTY_COLLECTOR};
static const struct vim_req continue_req = {
  .method = "ContinueRetrievePropertiesEx", .cls = VIM_CALL_IDEMPOTENT,
  .to = VIM_TO_PROPERTY_COLLECTOR};

static int check_paths(const char *const *paths, size_t n_paths,
                       struct vim_error *err)
{
  if (!paths || n_paths == 0)
    return vim_fail(err, VIM_E_INVALID_ARG, "no property paths");
  for (size_t i = 0; i < n_paths; i++)
    if (!paths[i] || !*paths[i])
      return vim_fail(err, VIM_E_INVALID_ARG, "empty property path");
  return VIM_OK;
}

int vim_collect_locked(struct vim_session *s, struct vim_soap *spec,
                       const char *const *paths, size_t n_paths,
                       struct vim_objects **out, struct vim_error *err)
{
  const struct vim_req *rq = &retrieve_req;
  struct objects_priv *p;
  struct vim_reply r;
  char token[256];
  int rc;

  *out = NULL;
  rc = check_paths(paths, n_paths, err);
  if (rc != VIM_OK) {
    vim_soap_free(spec);
    return rc;
  }
  p = objects_new(paths, n_paths);
  if (!p) {
    vim_soap_free(spec);
    return vim_fail(err, VIM_E_NOMEM, "out of memory");
  }
  for (;;) {
    rc = vim_invoke(s, rq, spec, &r, err);
    vim_soap_free(spec);
    if (rc != VIM_OK)
      break;
    rc = vim_props_decode(r.result, paths, n_paths, &p->pub, token,
                          sizeof token, err);
    vim_reply_free(&r);
    if (rc != VIM_OK || !token[0])
      break;
    rq = &continue_req;
    vim_soap_init(spec);
    vim_soap_str(spec, "token", token);
  }
  if (rc != VIM_OK) {
    vim_objects_free(&p->pub);
    return rc;
  }
  *out = &p->pub;
  return VIM_OK;
}

int vim_retrieve_locked(struct vim_session *s, const struct vim_moref *objs,
                        size_t n_objs, const char *const *paths,
                        size_t n_paths, struct vim_objects **out,
                        struct vim_error *err)
{
  struct vim_soap a;
  int rc;

  *out = NULL;
  if (!objs || n_objs == 0)
    return vim_fail(err, VIM_E_INVALID_ARG, "no objects given");
  rc = check_paths(paths, n_paths, err);
  if (rc != VIM_OK)
    return rc;
  vim_soap_init(&a);
  write_spec(&a, objs, n_objs, paths, n_paths, s->page_size);
  return vim_collect_locked(s, &a, paths, n_paths, out, err);
}

int vim_collect(struct vim_session *s, struct vim_soap *spec,
                const char *const *paths, size_t n_paths,
                struct vim_objects **out, struct vim_error *err)
{
  int rc;

  *out = NULL;
  rc = vim_session_enter(s, err);
  if (rc != VIM_OK) {
    vim_soap_free(spec);
    return rc;
  }
  rc = vim_collect_locked(s, spec, paths, n_paths, out, err);
  vim_session_leave(s);
  return rc;
}

int vim_retrieve(struct vim_session *s, const struct vim_moref *objs,
                 size_t n_objs, const char *const *paths, size_t n_paths,
                 struct vim_objects **out, struct vim_error *err)
{
  int rc;

  if (!out)
    return vim_fail(err, VIM_E_INVALID_ARG, "out is NULL");
  *out = NULL;
  rc = vim_session_enter(s, err);
  if (rc != VIM_OK)
    return rc;
  rc = vim_retrieve_locked(s, objs, n_objs, paths, n_paths, out, err);
  vim_session_leave(s);
  return rc;
}

const struct vim_object *vim_objects_find(const struct vim_objects *res,
                                          const struct vim_moref *obj)
{
  if (!res || !obj)
    return NULL;
  for (size_t i = 0; i < res->n; i++)
    if (strcmp(res->objs[i].ref.value, obj->value) == 0 &&
        strcmp(res->objs[i].ref.type, obj->type) == 0)
      return &res->objs[i];
  return NULL;
}

const struct vim_prop *vim_object_prop(const struct vim_object *o,
                                       const char *path)
{
  if (!o || !path)
    return NULL;
  for (size_t i = 0; i < o->n_props; i++)
    if (strcmp(o->props[i].path, path) == 0)
      return &o->props[i];
  return NULL;
}

int vim_read_prop_locked(struct vim_session *s, const struct vim_moref *obj,
                         const char *path, struct vim_reply *out,
                         xmlNode **val, struct vim_error *err)
{
  struct vim_error local;
  struct vim_soap a;
  xmlNode *objs, *ps;
  int rc;

  *val = NULL;
  if (!err)
    err = &local;
  vim_soap_init(&a);
  write_spec(&a, obj, 1, &path, 1, 0);
  rc = vim_invoke(s, &retrieve_req, &a, out, err);
  vim_soap_free(&a);
  if (rc == VIM_E_FAULT &&
      err->fault.kind == VIM_FAULT_MANAGED_OBJECT_NOT_FOUND)
    return vim_fail(err, VIM_E_NOT_FOUND, "no %s %s on the server",
                    obj->type, obj->value);
  if (rc != VIM_OK)
    return rc;
  objs = vim_xml_child(vim_xml_child(out->result, "returnval"), "objects");
  for (ps = vim_xml_child(objs, "propSet"); ps;
       ps = vim_xml_next(ps, "propSet")) {
    char name[256];

    vim_xml_child_text(ps, "name", name, sizeof name);
    if (strcmp(name, path) == 0) {
      *val = vim_xml_child(ps, "val");
      break;
    }
  }
  return VIM_OK;
}

int vim_read_prop(struct vim_session *s, const struct vim_moref *obj,
                  const char *path, struct vim_reply *out, xmlNode **val,
                  struct vim_error *err)
{
  int rc;

  memset(out, 0, sizeof *out);
  *val = NULL;
  rc = vim_session_enter(s, err);
  if (rc != VIM_OK)
    return rc;
  rc = vim_read_prop_locked(s, obj, path, out, val, err);
  vim_session_leave(s);
  return rc;
}
