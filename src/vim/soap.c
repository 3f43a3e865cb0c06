/*
 * soap.c -- writing SOAP requests.
 *
 * Requests are small and have a fixed shape, so they are written as text
 * into a capped buffer rather than built as a tree.  Every string goes
 * through fvx_buf_xml_escape (the five special characters become entities;
 * control characters are refused) after a UTF-8 check, so an identity like
 * a<b&"c' arrives intact.  The writer's error is sticky: callers append
 * everything and check once.
 *
 * The envelope matches what govmomi sends: the method element carries the
 * default namespace (urn:vim25, or urn:internalvim25 for DisableMethods and
 * EnableMethods), so its children are in that namespace too, and _this is a
 * MoRef with a type attribute.
 */
#include <stdio.h>
#include <string.h>

#include "util/text.h"
#include "vim/internal.h"

void vim_soap_init(struct vim_soap *w)
{
  fvx_buf_init(&w->b, VIM_REQUEST_CAP);
  w->err = VIM_OK;
  w->bad = NULL;
}

void vim_soap_free(struct vim_soap *w)
{
  /* Login requests hold a password. */
  fvx_buf_free_secret(&w->b);
}

static void note(struct vim_soap *w, int rc, const char *name)
{
  if (rc == FVX_BUF_OK || w->err)
    return;
  if (rc == FVX_BUF_NOMEM)
    w->err = VIM_E_NOMEM;
  else if (rc == FVX_BUF_TOOBIG)
    w->err = VIM_E_TOO_BIG;
  else
    w->err = VIM_E_INVALID_ARG;
  w->bad = name;
}

void vim_soap_raw(struct vim_soap *w, const char *s)
{
  if (!w->err)
    note(w, fvx_buf_puts(&w->b, s), NULL);
}

static void escaped(struct vim_soap *w, const char *name, const char *text)
{
  if (w->err)
    return;
  if (!fvx_utf8_valid(text, strlen(text))) {
    w->err = VIM_E_INVALID_ARG;
    w->bad = name;
    return;
  }
  note(w, fvx_buf_xml_escape(&w->b, text), name);
}

void vim_soap_str(struct vim_soap *w, const char *name, const char *text)
{
  if (w->err)
    return;
  note(w, fvx_buf_printf(&w->b, "<%s>", name), name);
  escaped(w, name, text ? text : "");
  if (!w->err)
    note(w, fvx_buf_printf(&w->b, "</%s>", name), name);
}

void vim_soap_bool(struct vim_soap *w, const char *name, bool v)
{
  if (!w->err)
    note(w, fvx_buf_printf(&w->b, "<%s>%s</%s>", name, v ? "true" : "false",
                           name), name);
}

void vim_soap_int(struct vim_soap *w, const char *name, long v)
{
  if (!w->err)
    note(w, fvx_buf_printf(&w->b, "<%s>%ld</%s>", name, v, name), name);
}

void vim_soap_moref(struct vim_soap *w, const char *name,
                    const struct vim_moref *ref)
{
  if (w->err)
    return;
  note(w, fvx_buf_printf(&w->b, "<%s type=\"", name), name);
  escaped(w, name, ref->type);
  vim_soap_raw(w, "\">");
  escaped(w, name, ref->value);
  if (!w->err)
    note(w, fvx_buf_printf(&w->b, "</%s>", name), name);
}

int vim_soap_envelope(struct vim_soap *out, const char *method,
                      const char *ns, const struct vim_moref *this_,
                      const char *args, size_t args_len)
{
  vim_soap_raw(out,
               "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
               "<soapenv:Envelope"
               " xmlns:soapenv=\"" VIM_NS_SOAPENV "\""
               " xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\""
               " xmlns:xsi=\"" VIM_NS_XSI "\">"
               "<soapenv:Body><");
  vim_soap_raw(out, method);
  vim_soap_raw(out, " xmlns=\"");
  vim_soap_raw(out, ns);
  vim_soap_raw(out, "\">");
  vim_soap_moref(out, "_this", this_);
  if (args && args_len && !out->err)
    note(out, fvx_buf_append(&out->b, args, args_len), NULL);
  vim_soap_raw(out, "</");
  vim_soap_raw(out, method);
  vim_soap_raw(out, "></soapenv:Body></soapenv:Envelope>");
  return out->err;
}
