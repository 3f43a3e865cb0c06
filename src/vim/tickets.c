/*
 * tickets.c -- single-use tickets for the data paths: a generic service
 * ticket for one datastore HTTP request, and NFC tickets for port 902.
 *
 * SessionManager.AcquireGenericServiceTicket takes a
 * SessionManagerHttpServiceRequestSpec (xsi:type on <spec>, children method
 * then url, as govmomi's types order them) and answers
 * {id, hostName, sslThumbprint}.  The NFC calls go to the NfcService that
 * the internal RetrieveInternalContent names (resolved and cached by
 * session.c): NfcGetVmFiles(vm) and NfcRandomAccessOpen{Disk,Readonly}(vm,
 * diskDeviceKey, hostForAccess), each answering a HostServiceTicket
 * (reference/nfc.md §1).  Namespace and SOAPAction: VIM_NS_NFC.
 *
 * Tickets are secrets.  The requests are marked secret, so the answer body
 * and parse tree are wiped; the decoders copy into the caller's struct only
 * fields that fit whole (a cut ticket is useless and a cut secret a leak
 * risk) and wipe the struct on any failure.  Each ticket call makes a new
 * ticket on the server, so it is never repeated once it may have been sent.
 */
#include <stdlib.h>
#include <string.h>

#include "util/mem.h"
#include "vim/internal.h"

int vim_internal_content_decode(const xmlNode *result, struct vim_moref *out,
                                struct vim_error *err)
{
  struct vim_moref m;

  if (!vim_xml_moref(vim_xml_child(vim_xml_child(result, "returnval"),
                                   "nfcService"), &m))
    return vim_fail(err, VIM_E_NOT_FOUND,
                    "RetrieveInternalContent names no nfcService");
  *out = m;
  return VIM_OK;
}

/* Copies a field that must fit whole; "" when absent, or an error when
 * 'required'.  Fails with VIM_E_PROTOCOL naming the field (never its
 * value). */
static int field(const xmlNode *rv, const char *name, char *out, size_t size,
                 bool required, const char *what, struct vim_error *err)
{
  if (!vim_xml_child_fits(rv, name, out, size))
    return vim_fail(err, VIM_E_PROTOCOL, "%s: %s longer than %zu bytes",
                    what, name, size - 1);
  if (required && !out[0])
    return vim_fail(err, VIM_E_PROTOCOL, "%s: no %s", what, name);
  return VIM_OK;
}

int vim_service_ticket_decode(const xmlNode *result,
                              struct vim_service_ticket *out,
                              struct vim_error *err)
{
  static const char what[] = "AcquireGenericServiceTicket";
  const xmlNode *rv = vim_xml_child(result, "returnval");
  int rc;

  memset(out, 0, sizeof *out);
  rc = field(rv, "id", out->id, sizeof out->id, true, what, err);
  if (rc == VIM_OK)
    rc = field(rv, "hostName", out->host_name, sizeof out->host_name, false,
               what, err);
  if (rc == VIM_OK)
    rc = field(rv, "sslThumbprint", out->ssl_thumbprint,
               sizeof out->ssl_thumbprint, false, what, err);
  if (rc != VIM_OK)
    fvx_wipe(out, sizeof *out);
  return rc;
}

int vim_host_ticket_decode(const xmlNode *result, struct vim_host_ticket *out,
                           struct vim_error *err)
{
  static const char what[] = "HostServiceTicket";
  const xmlNode *rv = vim_xml_child(result, "returnval"), *port;
  uint64_t p = 902;
  int rc;

  memset(out, 0, sizeof *out);
  rc = field(rv, "sessionId", out->session_id, sizeof out->session_id, true,
             what, err);
  if (rc == VIM_OK)
    rc = field(rv, "host", out->host, sizeof out->host, false, what, err);
  if (rc == VIM_OK)
    rc = field(rv, "sslThumbprint", out->ssl_thumbprint,
               sizeof out->ssl_thumbprint, false, what, err);
  if (rc == VIM_OK)
    rc = field(rv, "service", out->service, sizeof out->service, false, what,
               err);
  if (rc == VIM_OK)
    rc = field(rv, "serviceVersion", out->service_version,
               sizeof out->service_version, false, what, err);
  port = vim_xml_child(rv, "port");
  if (rc == VIM_OK && port && (!vim_xml_u63(port, &p) || p == 0 || p > 65535))
    rc = vim_fail(err, VIM_E_PROTOCOL, "%s: port is not 1..65535", what);
  if (rc != VIM_OK) {
    fvx_wipe(out, sizeof *out);
    return rc;
  }
  out->port = (unsigned)p;
  return VIM_OK;
}

int vim_acquire_generic_ticket(struct vim_session *s, const char *url,
                               const char *method,
                               struct vim_service_ticket *out,
                               struct vim_error *err)
{
  static const struct vim_req rq = {.method = "AcquireGenericServiceTicket",
                                    .cls = VIM_CALL_ONCE,
                                    .to = VIM_TO_SESSION_MANAGER,
                                    .secret = true};
  struct vim_soap a;
  struct vim_reply r;
  int rc;

  if (!out)
    return vim_fail(err, VIM_E_INVALID_ARG, "out is NULL");
  fvx_wipe(out, sizeof *out);
  if (!url || !*url)
    return vim_fail(err, VIM_E_INVALID_ARG, "no URL for the ticket");
  vim_soap_init(&a);
  vim_soap_raw(&a, "<spec xsi:type=\"SessionManagerHttpServiceRequestSpec\">");
  if (method)
    vim_soap_str(&a, "method", method);
  vim_soap_str(&a, "url", url);
  vim_soap_raw(&a, "</spec>");
  rc = vim_request(s, &rq, &a, &r, err);
  if (rc != VIM_OK)
    return rc;
  rc = vim_service_ticket_decode(r.result, out, err);
  vim_reply_free(&r);
  return rc;
}

/* One NFC ticket call on the NfcService: vm, then (when given) the disk
 * key and the host. */
static int nfc_ticket(struct vim_session *s, const char *method,
                      const struct vim_moref *vm, const int32_t *disk_key,
                      const struct vim_moref *host,
                      struct vim_host_ticket *out, struct vim_error *err)
{
  const struct vim_req rq = {.method = method, .ns = VIM_NS_NFC,
                             .cls = VIM_CALL_ONCE, .to = VIM_TO_NFC_SERVICE,
                             .secret = true};
  struct vim_soap a;
  struct vim_reply r;
  int rc;

  if (!out)
    return vim_fail(err, VIM_E_INVALID_ARG, "out is NULL");
  fvx_wipe(out, sizeof *out);
  if (!vm)
    return vim_fail(err, VIM_E_INVALID_ARG, "vm is NULL");
  vim_soap_init(&a);
  vim_soap_moref(&a, "vm", vm);
  if (disk_key)
    vim_soap_int(&a, "diskDeviceKey", *disk_key);
  if (host)
    vim_soap_moref(&a, "hostForAccess", host);
  rc = vim_request(s, &rq, &a, &r, err);
  if (rc != VIM_OK)
    return rc;
  rc = vim_host_ticket_decode(r.result, out, err);
  vim_reply_free(&r);
  return rc;
}

int vim_nfc_get_vm_files(struct vim_session *s, const struct vim_moref *vm,
                         struct vim_host_ticket *out, struct vim_error *err)
{
  return nfc_ticket(s, "NfcGetVmFiles", vm, NULL, NULL, out, err);
}

int vim_nfc_random_access(struct vim_session *s, const struct vim_moref *vm,
                          int32_t disk_key, const struct vim_moref *host,
                          bool writable, struct vim_host_ticket *out,
                          struct vim_error *err)
{
  return nfc_ticket(s, writable ? "NfcRandomAccessOpenDisk"
                                : "NfcRandomAccessOpenReadonly",
                    vm, &disk_key, host, out, err);
}
