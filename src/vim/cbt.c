/*
 * cbt.c -- Changed Block Tracking: switching it on and asking what changed.
 *
 * QueryChangedDiskAreas(snapshot, deviceKey, startOffset, changeId) answers
 * one DiskChangeInfo: the part of the disk it covers (startOffset, length)
 * and the changed (or, for changeId "*", allocated) extents inside it.
 * vCenter pages by disk range, so a caller loops from the end of one page;
 * each call here is one page.  The answer is checked before it is kept:
 * numbers are xsd:long in [0, 2^63-1], every extent lies inside the page
 * (no overflow), and there are at most VIM_MAX_AREAS of them (counted
 * before allocating).  The call is a read: retried like any other.
 *
 * Switching CBT is ReconfigVM_Task with only changeTrackingEnabled in the
 * spec: a task-creating call, never repeated once sent.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vim/internal.h"

void vim_changed_areas_free(struct vim_changed_areas *a)
{
  if (!a)
    return;
  free(a->areas);
  memset(a, 0, sizeof *a);
}

/* True when [start, start + len) lies inside [lo, lo + span). */
static bool inside(uint64_t start, uint64_t len, uint64_t lo, uint64_t span)
{
  return start >= lo && len <= span && start - lo <= span - len;
}

int vim_changed_areas_decode(const xmlNode *result,
                             struct vim_changed_areas *out,
                             struct vim_error *err)
{
  const xmlNode *rv = vim_xml_child(result, "returnval"), *ca;
  struct vim_changed_areas a = {0};
  size_t n = 0;

  memset(out, 0, sizeof *out);
  if (!rv || !vim_xml_u63(vim_xml_child(rv, "startOffset"), &a.start) ||
      !vim_xml_u63(vim_xml_child(rv, "length"), &a.length))
    return vim_fail(err, VIM_E_PROTOCOL,
                    "QueryChangedDiskAreas: no valid startOffset and length");
  if (a.length > (uint64_t)INT64_MAX - a.start)
    return vim_fail(err, VIM_E_PROTOCOL,
                    "QueryChangedDiskAreas: page end overflows");
  for (ca = vim_xml_child(rv, "changedArea"); ca;
       ca = vim_xml_next(ca, "changedArea"))
    if (++n > VIM_MAX_AREAS)
      return vim_fail(err, VIM_E_TOO_BIG,
                      "QueryChangedDiskAreas: more than %u areas in a page",
                      VIM_MAX_AREAS);
  if (n) {
    a.areas = calloc(n, sizeof *a.areas);
    if (!a.areas)
      return vim_fail(err, VIM_E_NOMEM, "out of memory");
  }
  for (ca = vim_xml_child(rv, "changedArea"); ca;
       ca = vim_xml_next(ca, "changedArea")) {
    struct vim_disk_area *d = &a.areas[a.n];

    if (!vim_xml_u63(vim_xml_child(ca, "start"), &d->start) ||
        !vim_xml_u63(vim_xml_child(ca, "length"), &d->length) ||
        !inside(d->start, d->length, a.start, a.length)) {
      free(a.areas);
      return vim_fail(err, VIM_E_PROTOCOL,
                      "QueryChangedDiskAreas: area %zu is malformed or "
                      "outside the page [%" PRIu64 ", +%" PRIu64 ")", a.n,
                      a.start, a.length);
    }
    a.n++;
  }
  *out = a;
  return VIM_OK;
}

int vim_query_changed_areas(struct vim_session *s, const struct vim_moref *vm,
                            const struct vim_moref *snapshot, int32_t device_key,
                            uint64_t start_offset, const char *change_id,
                            struct vim_changed_areas *out,
                            struct vim_error *err)
{
  const struct vim_req rq = {.method = "QueryChangedDiskAreas",
                             .cls = VIM_CALL_IDEMPOTENT, .obj = vm};
  struct vim_soap a;
  struct vim_reply r;
  char num[32];
  int rc;

  if (!out)
    return vim_fail(err, VIM_E_INVALID_ARG, "out is NULL");
  memset(out, 0, sizeof *out);
  if (!vm || !change_id || !*change_id)
    return vim_fail(err, VIM_E_INVALID_ARG, "vm or change id is empty");
  if (start_offset > (uint64_t)INT64_MAX)
    return vim_fail(err, VIM_E_INVALID_ARG,
                    "start offset %" PRIu64 " is not an xsd:long",
                    start_offset);
  vim_soap_init(&a);
  if (snapshot)
    vim_soap_moref(&a, "snapshot", snapshot);
  vim_soap_int(&a, "deviceKey", device_key);
  snprintf(num, sizeof num, "%" PRIu64, start_offset);
  vim_soap_str(&a, "startOffset", num);
  vim_soap_str(&a, "changeId", change_id);
  rc = vim_request(s, &rq, &a, &r, err);
  if (rc != VIM_OK)
    return rc;
  rc = vim_changed_areas_decode(r.result, out, err);
  vim_reply_free(&r);
  return rc;
}

int vim_set_change_tracking(struct vim_session *s, const struct vim_moref *vm,
                            bool enable, struct vim_moref *out_task,
                            struct vim_error *err)
{
  struct vim_soap a;

  /* A NULL vm is refused by vim_request, before anything is sent. */
  vim_soap_init(&a);
  vim_soap_raw(&a, "<spec>");
  vim_soap_bool(&a, "changeTrackingEnabled", enable);
  vim_soap_raw(&a, "</spec>");
  return vim_task_call(s, "ReconfigVM_Task", vm, &a, out_task, err);
}
