/*
 * xml.c -- parsing answers safely, and reading the tree.
 *
 * Answers come from the network, so the parser is configured for hostile
 * input: no network access (XML_PARSE_NONET), no entity substitution (no
 * XML_PARSE_NOENT) and no DTD loading; a document that carries a DTD at all
 * is refused before libxml2 sees it, which rules out external entities
 * (XXE) and entity bombs.  The size is capped by the caller (and while
 * receiving, in http.c); the nesting depth is capped after parsing (libxml2
 * itself stops at 256 levels without XML_PARSE_HUGE).
 *
 * Elements are matched by namespace URI and local name, so any prefix or a
 * default namespace is accepted, as any SOAP stack sends them.
 *
 * libxml2 reports problems on its own error channels, and by default
 * prints them on the host program's stderr -- a library must not.  Parser
 * errors carry the parser context, but encoding and I/O errors ("input
 * conversion failed", "encoder error") are raised without one, so a
 * per-context SAX handler does not see them, and Debian 12's libxml2
 * (2.9.14) has no xmlCtxtSetErrorHandler (2.13).  So each parse installs
 * our structured and generic handlers on the calling thread and restores
 * the thread's previous ones afterwards (quiet_begin / quiet_end).
 * libxml2 keeps these handlers per thread (its global state is
 * thread-local; only on the thread it first initialised on are they the
 * process-wide variables, which that same thread alone reads), so this
 * neither races with other threads nor overrides, beyond our own parse, a
 * handler that the host program or another library installed.  What the
 * handlers receive goes to freevix's log at debug level, at most
 * VIM_XML_LOG_MAX lines per parse.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "util/log.h"
#include "util/mem.h"
#include "util/text.h"
#include "vim/internal.h"

/* libxml2 messages logged per parse; a hostile answer can raise many. */
#define VIM_XML_LOG_MAX 8u
#define PARSE_LOG_MAGIC 0x786d6c71u /* "xmlq" */

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
  xmlInitParser();
}

/* True when the document has a DTD (or a comment/PI that spells one, which
 * we refuse too: vSphere never sends either). */
static bool has_doctype(const char *d, size_t len)
{
  static const char pat[] = "<!DOCTYPE";
  const size_t pl = sizeof pat - 1;

  return len >= pl && memmem(d, len, pat, pl) != NULL;
}

static bool too_deep(xmlNode *root, unsigned max_depth)
{
  xmlNode *n = root;
  unsigned depth = 1;

  /* Iterative walk: hostile input must not be able to exhaust our stack. */
  while (n) {
    if (n->type == XML_ELEMENT_NODE && depth > max_depth)
      return true;
    if (n->children && n->type == XML_ELEMENT_NODE) {
      n = n->children;
      depth++;
      continue;
    }
    while (n && !n->next && n != root) {
      n = n->parent;
      depth--;
    }
    if (!n || n == root)
      break;
    n = n->next;
  }
  return false;
}

/* What one parse has logged; the structured handler's context. */
struct parse_log {
  uint32_t magic;
  unsigned lines;
};

/* One line of libxml2's text, without its trailing newline, at debug. */
static void log_line(const char *what, const char *msg)
{
  char line[256];

  fvx_strlcpy(line, msg ? msg : "", sizeof line);
  for (char *p = line; *p; p++)
    if (*p == '\n' || *p == '\r')
      *p = ' ';
  fvx_debug("vim: libxml2 %s: %s", what, line);
}

static void on_structured(void *ctx, xmlErrorPtr e)
{
  struct parse_log *pl = ctx;
  char what[64];

  if (!pl || pl->magic != PARSE_LOG_MAGIC || !e)
    return;
  if (pl->lines++ >= VIM_XML_LOG_MAX)
    return;
  snprintf(what, sizeof what, "error %d/%d at line %d", e->domain, e->code,
           e->line);
  log_line(what, e->message);
}

/* The few messages libxml2 prints directly, outside its error records. */
static void on_generic(void *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void on_generic(void *ctx, const char *fmt, ...)
{
  char msg[256];
  va_list ap;

  (void)ctx; /* not always ours: libxml2 may pass its parser context */
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (msg[strspn(msg, " \r\n")])
    log_line("message", msg);
}

/* The calling thread's libxml2 error channels, saved around one parse. */
struct xml_quiet {
  xmlStructuredErrorFunc serror;
  void *serror_ctx;
  xmlGenericErrorFunc generic;
  void *generic_ctx;
};

static void quiet_begin(struct xml_quiet *q, struct parse_log *pl)
{
  q->serror = xmlStructuredError;
  q->serror_ctx = xmlStructuredErrorContext;
  q->generic = xmlGenericError;
  q->generic_ctx = xmlGenericErrorContext;
  xmlSetStructuredErrorFunc(pl, on_structured);
  xmlSetGenericErrorFunc(pl, on_generic);
}

static void quiet_end(const struct xml_quiet *q)
{
  xmlSetStructuredErrorFunc(q->serror_ctx, q->serror);
  xmlSetGenericErrorFunc(q->generic_ctx, q->generic);
}

/* Parses with the thread's error channels pointed at our log. */
static xmlDoc *read_quietly(xmlParserCtxt *ctxt, const char *data, int len,
                            int opts)
{
  struct parse_log pl = {PARSE_LOG_MAGIC, 0};
  struct xml_quiet q;
  xmlDoc *doc;

  quiet_begin(&q, &pl);
  doc = xmlCtxtReadMemory(ctxt, data, len, "answer.xml", NULL, opts);
  quiet_end(&q);
  if (pl.lines > VIM_XML_LOG_MAX)
    fvx_debug("vim: libxml2: %u more messages not logged",
              pl.lines - VIM_XML_LOG_MAX);
  return doc;
}

int vim_xml_parse(const char *data, size_t len, size_t max_body,
                  unsigned max_depth, xmlDoc **out, struct vim_error *err)
{
  xmlParserCtxt *ctxt;
  xmlDoc *doc;
  const xmlError *xe;
  int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;

  *out = NULL;
  pthread_once(&xml_once, xml_init);
  if (len > max_body)
    return vim_fail(err, VIM_E_TOO_BIG,
                    "answer of %zu bytes exceeds the limit of %zu", len,
                    max_body);
  if (len == 0)
    return vim_fail(err, VIM_E_PROTOCOL, "empty answer");
  if (len > (size_t)INT32_MAX)
    return vim_fail(err, VIM_E_TOO_BIG, "answer too large to parse");
  if (has_doctype(data, len))
    return vim_fail(err, VIM_E_PROTOCOL,
                    "answer carries a DTD; refused (vSphere never sends one)");
  ctxt = xmlNewParserCtxt();
  if (!ctxt)
    return vim_fail(err, VIM_E_NOMEM, "cannot create an XML parser");
  doc = read_quietly(ctxt, data, (int)len, opts);
  if (!doc || !ctxt->wellFormed) {
    char msg[200] = "not well-formed XML";
    int code;

    xe = xmlCtxtGetLastError(ctxt);
    code = xe ? xe->code : 0;
    if (xe && xe->message) {
      fvx_strlcpy(msg, xe->message, sizeof msg);
      msg[strcspn(msg, "\r\n")] = '\0';
    }
    if (doc)
      xmlFreeDoc(doc);
    xmlFreeParserCtxt(ctxt);
    if (strstr(msg, "depth") != NULL)
      return vim_fail(err, VIM_E_TOO_BIG, "answer nests too deeply: %s", msg);
    if (code == XML_ERR_NO_MEMORY)
      return vim_fail(err, VIM_E_NOMEM, "out of memory parsing the answer");
    return vim_fail(err, VIM_E_PROTOCOL, "answer is not well-formed XML "
                    "(%s%s)", msg,
                    (len >= 5 && memmem(data, len < 512 ? len : 512, "<html",
                                        5)) ? "; looks like an HTML page" : "");
  }
  xmlFreeParserCtxt(ctxt);
  if (doc->intSubset || doc->extSubset) {
    xmlFreeDoc(doc);
    return vim_fail(err, VIM_E_PROTOCOL, "answer carries a DTD; refused");
  }
  if (!xmlDocGetRootElement(doc)) {
    xmlFreeDoc(doc);
    return vim_fail(err, VIM_E_PROTOCOL, "answer has no root element");
  }
  if (too_deep(xmlDocGetRootElement(doc), max_depth)) {
    xmlFreeDoc(doc);
    return vim_fail(err, VIM_E_TOO_BIG, "answer nests deeper than %u levels",
                    max_depth);
  }
  *out = doc;
  return VIM_OK;
}

bool vim_xml_is(const xmlNode *n, const char *ns, const char *local)
{
  if (!n || n->type != XML_ELEMENT_NODE)
    return false;
  if (local && strcmp((const char *)n->name, local) != 0)
    return false;
  if (ns && (!n->ns || !n->ns->href ||
             strcmp((const char *)n->ns->href, ns) != 0))
    return false;
  return true;
}

static xmlNode *first_from(const xmlNode *n, const char *local)
{
  for (; n; n = n->next)
    if (n->type == XML_ELEMENT_NODE &&
        (!local || strcmp((const char *)n->name, local) == 0))
      return (xmlNode *)n;
  return NULL;
}

xmlNode *vim_xml_child(const xmlNode *parent, const char *local)
{
  return parent ? first_from(parent->children, local) : NULL;
}

xmlNode *vim_xml_next(const xmlNode *node, const char *local)
{
  return node ? first_from(node->next, local) : NULL;
}

int vim_xml_body(xmlDoc *doc, xmlNode **out, struct vim_error *err)
{
  xmlNode *env = xmlDocGetRootElement(doc), *body = NULL, *c;

  *out = NULL;
  if (!vim_xml_is(env, NULL, "Envelope"))
    return vim_fail(err, VIM_E_PROTOCOL,
                    "answer is not a SOAP envelope (root element <%s>)",
                    env ? (const char *)env->name : "?");
  if (!vim_xml_is(env, VIM_NS_SOAPENV, "Envelope"))
    return vim_fail(err, VIM_E_PROTOCOL,
                    "SOAP envelope in the wrong namespace (%s)",
                    env->ns && env->ns->href ? (const char *)env->ns->href
                                             : "none");
  for (c = vim_xml_child(env, NULL); c; c = vim_xml_next(c, NULL)) {
    if (vim_xml_is(c, VIM_NS_SOAPENV, "Body")) {
      body = c;
      break;
    }
  }
  if (!body)
    return vim_fail(err, VIM_E_PROTOCOL, "SOAP envelope has no Body");
  c = vim_xml_child(body, NULL);
  if (!c)
    return vim_fail(err, VIM_E_PROTOCOL, "SOAP Body is empty");
  *out = c;
  return VIM_OK;
}

/* Appends the text of n's direct text/CDATA children. */
static size_t text_into(const xmlNode *n, char *out, size_t size, bool *cut)
{
  size_t o = 0;

  *cut = false;
  for (const xmlNode *t = n ? n->children : NULL; t; t = t->next) {
    size_t l;

    if (t->type != XML_TEXT_NODE && t->type != XML_CDATA_SECTION_NODE)
      continue;
    if (!t->content)
      continue;
    l = strlen((const char *)t->content);
    if (out) {
      size_t room = size - 1 - o;

      if (l > room) {
        l = room;
        *cut = true;
      }
      memcpy(out + o, t->content, l);
    }
    o += l;
  }
  if (out)
    out[o] = '\0';
  return o;
}

bool vim_xml_text(const xmlNode *n, char *out, size_t size)
{
  bool cut;

  if (size == 0)
    return false;
  text_into(n, out, size, &cut);
  if (cut) {
    /* Do not leave half a UTF-8 sequence at the end. */
    size_t l = strlen(out);

    while (l > 0 && ((unsigned char)out[l - 1] & 0xC0) == 0x80)
      l--;
    if (l > 0 && ((unsigned char)out[l - 1] & 0x80))
      l--;
    out[l] = '\0';
  }
  return !cut;
}

char *vim_xml_text_dup(const xmlNode *n)
{
  bool cut;
  size_t l = text_into(n, NULL, 0, &cut);
  char *p = malloc(l + 1);

  if (!p)
    return NULL;
  text_into(n, p, l + 1, &cut);
  return p;
}

void vim_xml_xsi_type(const xmlNode *n, char *out, size_t size)
{
  xmlChar *v;
  const char *colon;

  out[0] = '\0';
  if (!n)
    return;
  v = xmlGetNsProp(n, (const xmlChar *)"type", (const xmlChar *)VIM_NS_XSI);
  if (!v)
    return;
  colon = strrchr((const char *)v, ':');
  fvx_strlcpy(out, colon ? colon + 1 : (const char *)v, size);
  xmlFree(v);
}

bool vim_xml_moref(const xmlNode *n, struct vim_moref *out)
{
  xmlChar *type;
  char value[sizeof out->value];
  bool ok;

  if (!n)
    return false;
  type = xmlGetNoNsProp(n, (const xmlChar *)"type");
  if (!type)
    return false;
  ok = vim_xml_text(n, value, sizeof value) &&
       vim_moref_set(out, (const char *)type, value);
  xmlFree(type);
  return ok;
}

void vim_xml_child_text(const xmlNode *parent, const char *local, char *out,
                        size_t size)
{
  vim_xml_text(vim_xml_child(parent, local), out, size);
}

void vim_xml_wipe(xmlDoc *doc)
{
  xmlNode *root = doc ? xmlDocGetRootElement(doc) : NULL, *n = root;

  /* Iterative walk, as in too_deep: the tree came from the network. */
  while (n) {
    if ((n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) &&
        n->content && !(doc->dict && xmlDictOwns(doc->dict, n->content)))
      fvx_wipe(n->content, strlen((const char *)n->content));
    if (n->children && n->type == XML_ELEMENT_NODE) {
      n = n->children;
      continue;
    }
    while (n && !n->next && n != root)
      n = n->parent;
    if (!n || n == root)
      break;
    n = n->next;
  }
}

bool vim_xml_child_fits(const xmlNode *parent, const char *local, char *out,
                        size_t size)
{
  bool cut;

  if (size == 0)
    return false;
  text_into(vim_xml_child(parent, local), out, size, &cut);
  if (cut)
    fvx_wipe(out, size);
  return !cut;
}

/* Reads n's text as an optionally signed decimal integer whose magnitude is
 * at most max: blanks around it allowed, nothing else. */
static bool read_integer(const xmlNode *n, uint64_t max, bool *neg,
                         uint64_t *mag)
{
  char buf[64];
  const char *p;
  size_t len;
  uint64_t v = 0;

  if (!n || !vim_xml_text(n, buf, sizeof buf))
    return false;
  p = buf + strspn(buf, " \t\r\n");
  len = strlen(p);
  while (len > 0 && strchr(" \t\r\n", p[len - 1]))
    len--;
  *neg = len > 0 && *p == '-';
  if (len > 0 && (*p == '-' || *p == '+')) {
    p++;
    len--;
  }
  if (len == 0 || strspn(p, "0123456789") < len)
    return false;
  for (size_t i = 0; i < len; i++) {
    unsigned digit = (unsigned)(p[i] - '0');

    if (v > (max - digit) / 10)
      return false;
    v = v * 10 + digit;
  }
  *mag = v;
  return true;
}

bool vim_xml_u63(const xmlNode *n, uint64_t *out)
{
  uint64_t v;
  bool neg;

  if (!read_integer(n, (uint64_t)INT64_MAX, &neg, &v) || (neg && v != 0))
    return false;
  *out = v;
  return true;
}

bool vim_xml_i32(const xmlNode *n, int32_t *out)
{
  uint64_t v;
  bool neg;

  if (!read_integer(n, (uint64_t)INT32_MAX + 1, &neg, &v) ||
      (!neg && v > (uint64_t)INT32_MAX))
    return false;
  *out = neg ? (int32_t)(-(int64_t)v) : (int32_t)v;
  return true;
}

bool vim_xml_bool(const xmlNode *n)
{
  char buf[16];
  const char *p;
  size_t len;

  if (!n || !vim_xml_text(n, buf, sizeof buf))
    return false;
  p = buf + strspn(buf, " \t\r\n");
  len = strcspn(p, " \t\r\n");
  return (len == 4 && strncmp(p, "true", 4) == 0) ||
         (len == 1 && *p == '1');
}
