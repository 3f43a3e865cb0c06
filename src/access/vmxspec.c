/*
 * vmxspec.c -- VDDK vmxSpec parser, see vmxspec.h.
 *
 * Strict on purpose: a vmxSpec that we half-understand would make
 * PrepareForAccess protect the wrong VM, or none.
 */
#include "access/vmxspec.h"

#include <stdio.h>
#include <string.h>

#include "util/text.h"

static void say(char *why, size_t n, const char *msg)
{
  if (why && n)
    fvx_strlcpy(why, msg, n);
}

/* A managed object id: letters, digits, '-', '_', '.', ':' (vCenter ids look
 * like vm-42; some carry a ':'-separated server GUID). */
static bool valid_moid(const char *s)
{
  if (!*s)
    return false;
  for (; *s; s++) {
    char c = *s;

    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
          c == ':'))
      return false;
  }
  return true;
}

/* True when s has a byte below 0x20 or DEL. */
static bool has_control(const char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s < 0x20 || *s == 0x7f)
      return true;
  return false;
}

static bool parse_moref(const char *id, struct vmxspec *out, char *why,
                        size_t n)
{
  if (!valid_moid(id)) {
    say(why, n, "the managed object id after moref= is empty or has "
                "characters other than letters, digits and -_.:");
    return false;
  }
  if (!fvx_strlcpy(out->moref, id, sizeof out->moref)) {
    say(why, n, "the managed object id is too long");
    return false;
  }
  out->kind = VMXSPEC_MOREF;
  return true;
}

/* Parses "dir/name.vmx?dcPath=DC&dsName=DS" (parameters in any order). */
static bool parse_path(const char *spec, struct vmxspec *out, char *why,
                       size_t n)
{
  const char *q = strchr(spec, '?');
  const char *p;
  bool have_dc = false, have_ds = false;

  if (!q) {
    say(why, n, "expected moref=<id> or <dir>/<name>.vmx?dcPath=<datacenter>"
                "&dsName=<datastore>");
    return false;
  }
  if (q == spec || !fvx_percent_decode(spec, (size_t)(q - spec), out->path,
                             sizeof out->path)) {
    say(why, n, "the .vmx path before '?' is empty, too long or badly "
                "%-escaped");
    return false;
  }
  for (p = q + 1; *p;) {
    const char *amp = strchr(p, '&');
    size_t len = amp ? (size_t)(amp - p) : strlen(p);
    const char *eq = memchr(p, '=', len);
    size_t klen, vlen;

    if (!eq) {
      say(why, n, "a parameter after '?' has no '='");
      return false;
    }
    klen = (size_t)(eq - p);
    vlen = len - klen - 1;
    if (klen == 6 && memcmp(p, "dcPath", 6) == 0 && !have_dc) {
      if (!vlen || !fvx_percent_decode(eq + 1, vlen, out->dc_path, sizeof out->dc_path)) {
        say(why, n, "dcPath is empty, too long or badly %-escaped");
        return false;
      }
      have_dc = true;
    } else if (klen == 6 && memcmp(p, "dsName", 6) == 0 && !have_ds) {
      if (!vlen || !fvx_percent_decode(eq + 1, vlen, out->ds_name, sizeof out->ds_name)) {
        say(why, n, "dsName is empty, too long or badly %-escaped");
        return false;
      }
      have_ds = true;
    } else {
      say(why, n, "unknown or repeated parameter after '?' (only dcPath and "
                  "dsName are allowed, once each)");
      return false;
    }
    p = amp ? amp + 1 : p + len;
  }
  if (!have_dc || !have_ds) {
    say(why, n, have_dc ? "dsName is missing" : "dcPath is missing");
    return false;
  }
  if (has_control(out->path) || has_control(out->dc_path) ||
      has_control(out->ds_name)) {
    say(why, n, "a %-escape decodes to a control character");
    return false;
  }
  if (!strstr(out->path, ".vmx")) {
    say(why, n, "the path does not name a .vmx file");
    return false;
  }
  out->kind = VMXSPEC_PATH;
  return true;
}

bool vmxspec_parse(const char *spec, struct vmxspec *out, char *why, size_t n)
{
  memset(out, 0, sizeof *out);
  if (!spec || !*spec) {
    say(why, n, "vmxSpec is missing: it must name the VM (moref=vm-NN)");
    return false;
  }
  if (strlen(spec) >= VMXSPEC_MAX) {
    say(why, n, "vmxSpec is longer than 2047 bytes");
    return false;
  }
  if (!fvx_utf8_valid(spec, strlen(spec))) {
    say(why, n, "vmxSpec is not valid UTF-8");
    return false;
  }
  if (has_control(spec)) {
    say(why, n, "vmxSpec has a control character");
    return false;
  }
  if (strncmp(spec, "vm=", 3) == 0)
    spec += 3;
  if (strncmp(spec, "moref=", 6) == 0)
    return parse_moref(spec + 6, out, why, n);
  if (strncmp(spec, "moid=", 5) == 0)
    return parse_moref(spec + 5, out, why, n);
  return parse_path(spec, out, why, n);
}
