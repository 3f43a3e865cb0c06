/*
 * fault.c -- decoding vSphere faults into struct vim_fault.
 *
 * A SOAP fault from vSphere looks like
 *
 *   <soapenv:Fault><faultcode>ServerFaultCode</faultcode>
 *     <faultstring>text</faultstring>
 *     <detail><NoPermissionFault xsi:type="NoPermission">
 *       <object type="Folder">group-d1</object>
 *       <privilegeId>Global.DisableMethods</privilegeId>
 *     </NoPermissionFault></detail></soapenv:Fault>
 *
 * The type is the xsi:type of the detail element (prefix stripped), or,
 * when a server omits it, the element name without its "Fault" suffix.  A
 * task's error (LocalizedMethodFault) carries the same fields in
 * <fault xsi:type=...> beside <localizedMessage>.  Only the fields the upper
 * layers act on are kept; unknown types are VIM_FAULT_OTHER with the name.
 */
#include <stdio.h>
#include <string.h>

#include "util/text.h"
#include "vim/internal.h"

struct kind_name {
  const char *type;
  enum vim_fault_kind kind;
};

/* Exact type names, including the subtypes we meet in practice. */
static const struct kind_name kinds[] = {
  {"MethodAlreadyDisabledFault", VIM_FAULT_METHOD_ALREADY_DISABLED},
  {"MethodDisabled", VIM_FAULT_METHOD_DISABLED},
  {"NoPermission", VIM_FAULT_NO_PERMISSION},
  {"NoPermissionOnAD", VIM_FAULT_NO_PERMISSION},
  {"InvalidLogin", VIM_FAULT_INVALID_LOGIN},
  {"PasswordExpired", VIM_FAULT_INVALID_LOGIN},
  {"NotAuthenticated", VIM_FAULT_NOT_AUTHENTICATED},
  {"ManagedObjectNotFound", VIM_FAULT_MANAGED_OBJECT_NOT_FOUND},
  {"InvalidArgument", VIM_FAULT_INVALID_ARGUMENT},
  {"InvalidRequest", VIM_FAULT_INVALID_ARGUMENT},
  {"NotSupported", VIM_FAULT_NOT_SUPPORTED},
  {"MethodNotFound", VIM_FAULT_METHOD_NOT_FOUND},
  {"NotImplemented", VIM_FAULT_NOT_IMPLEMENTED},
  {"InvalidState", VIM_FAULT_INVALID_STATE},
  {"InvalidPowerState", VIM_FAULT_INVALID_STATE},
  {"TaskInProgress", VIM_FAULT_INVALID_STATE},
  {"ConcurrentAccess", VIM_FAULT_CONCURRENT_ACCESS},
  {"RequestCanceled", VIM_FAULT_REQUEST_CANCELED},
  {"FileFault", VIM_FAULT_FILE},
  {"FileNotFound", VIM_FAULT_FILE},
  {"FileLocked", VIM_FAULT_FILE},
  {"FileAlreadyExists", VIM_FAULT_FILE},
  {"FileNotWritable", VIM_FAULT_FILE},
  {"CannotAccessFile", VIM_FAULT_FILE},
  {"CannotCreateFile", VIM_FAULT_FILE},
  {"CannotDeleteFile", VIM_FAULT_FILE},
  {"NotADirectory", VIM_FAULT_FILE},
  {"NotAFile", VIM_FAULT_FILE},
};

enum vim_fault_kind vim_fault_kind_of(const char *type)
{
  for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
    if (strcmp(kinds[i].type, type) == 0)
      return kinds[i].kind;
  return VIM_FAULT_OTHER;
}

/* "Type:value" of a MoRef child, or its bare text. */
static void moref_text(const xmlNode *n, char *out, size_t size)
{
  struct vim_moref r;

  out[0] = '\0';
  if (!n)
    return;
  if (vim_xml_moref(n, &r)) {
    char tmp[sizeof r.type + sizeof r.value + 2];

    snprintf(tmp, sizeof tmp, "%s:%s", r.type, r.value);
    fvx_strlcpy(out, tmp, size);
    return;
  }
  vim_xml_text(n, out, size);
}

/* Reads the typed fields from the element holding them. */
static void decode_fields(const xmlNode *d, struct vim_fault *f)
{
  switch (f->kind) {
  case VIM_FAULT_METHOD_ALREADY_DISABLED:
    vim_xml_child_text(d, "sourceId", f->source, sizeof f->source);
    break;
  case VIM_FAULT_METHOD_DISABLED:
    vim_xml_child_text(d, "source", f->source, sizeof f->source);
    break;
  case VIM_FAULT_NO_PERMISSION:
  case VIM_FAULT_NOT_AUTHENTICATED: {
    const xmlNode *mp;

    moref_text(vim_xml_child(d, "object"), f->object, sizeof f->object);
    vim_xml_child_text(d, "privilegeId", f->privilege, sizeof f->privilege);
    /* vSphere 8 moved the detail into missingPrivileges[]. */
    mp = vim_xml_child(d, "missingPrivileges");
    if (mp && !f->privilege[0])
      vim_xml_child_text(mp, "privileges", f->privilege, sizeof f->privilege);
    if (mp && !f->object[0])
      moref_text(vim_xml_child(mp, "entity"), f->object, sizeof f->object);
    break;
  }
  case VIM_FAULT_MANAGED_OBJECT_NOT_FOUND:
    moref_text(vim_xml_child(d, "obj"), f->object, sizeof f->object);
    break;
  case VIM_FAULT_INVALID_ARGUMENT:
    vim_xml_child_text(d, "invalidProperty", f->object, sizeof f->object);
    break;
  case VIM_FAULT_METHOD_NOT_FOUND:
    moref_text(vim_xml_child(d, "receiver"), f->object, sizeof f->object);
    vim_xml_child_text(d, "method", f->source, sizeof f->source);
    break;
  case VIM_FAULT_FILE:
    vim_xml_child_text(d, "file", f->object, sizeof f->object);
    break;
  default:
    break;
  }
}

/* Type from xsi:type, else from the element name ("XFault" -> "X"). */
static void type_of(const xmlNode *d, char *out, size_t size, bool strip)
{
  vim_xml_xsi_type(d, out, size);
  if (!out[0] && strip) {
    size_t l;

    fvx_strlcpy(out, (const char *)d->name, size);
    l = strlen(out);
    if (l > 5 && strcmp(out + l - 5, "Fault") == 0)
      out[l - 5] = '\0';
  }
}

void vim_fault_decode(const xmlNode *fault_el, struct vim_fault *f)
{
  const xmlNode *detail, *d;

  memset(f, 0, sizeof *f);
  vim_xml_child_text(fault_el, "faultstring", f->message, sizeof f->message);
  detail = vim_xml_child(fault_el, "detail");
  d = vim_xml_child(detail, NULL);
  if (!d) {
    /* No detail: keep the faultcode as the best name we have. */
    char code[64];
    const char *colon;

    vim_xml_child_text(fault_el, "faultcode", code, sizeof code);
    colon = strrchr(code, ':');
    fvx_strlcpy(f->type, colon ? colon + 1 : code, sizeof f->type);
    f->kind = VIM_FAULT_OTHER;
    return;
  }
  type_of(d, f->type, sizeof f->type, true);
  f->kind = vim_fault_kind_of(f->type);
  decode_fields(d, f);
}

void vim_fault_decode_localized(const xmlNode *lmf, struct vim_fault *f)
{
  const xmlNode *d;

  memset(f, 0, sizeof *f);
  if (!lmf)
    return;
  vim_xml_child_text(lmf, "localizedMessage", f->message, sizeof f->message);
  d = vim_xml_child(lmf, "fault");
  if (!d)
    return;
  type_of(d, f->type, sizeof f->type, false);
  f->kind = vim_fault_kind_of(f->type);
  decode_fields(d, f);
}
