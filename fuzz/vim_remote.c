/*
 * vim_remote.c -- fuzzes the decoders of the remote-disk calls on hostile
 * answers: the device list and backing chains (every <val> of the answer
 * is tried as config.hardware.device), a DiskChangeInfo page, a
 * HostServiceTicket, a generic service ticket and RetrieveInternalContent's
 * NfcService -- each given the answer element whatever its name, so one
 * input exercises them all.  Seeds: tests/vim/data's recorded answers.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vim/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every <val> below n (bounded) as a device list. */
static void devices(const xmlNode *n, int depth)
{
  for (; n && depth < 16; n = n->next) {
    if (n->type != XML_ELEMENT_NODE)
      continue;
    if (vim_xml_is(n, NULL, "val")) {
      struct vim_disk *d = NULL;
      size_t nd = 0;
      struct vim_error e;

      if (vim_disks_decode(n, &d, &nd, &e) == VIM_OK)
        vim_disks_free(d, nd);
    }
    devices(n->children, depth + 1);
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct vim_changed_areas a;
  struct vim_host_ticket ht;
  struct vim_service_ticket st;
  struct vim_moref m;
  struct vim_error e;
  xmlDoc *doc = NULL;
  xmlNode *body;

  if (vim_xml_parse((const char *)data, size, 1 << 20, 64, &doc, &e) != VIM_OK)
    return 0;
  if (vim_xml_body(doc, &body, &e) == VIM_OK) {
    devices(body, 0);
    if (vim_changed_areas_decode(body, &a, &e) == VIM_OK) {
      for (size_t i = 0; i < a.n; i++)
        if (a.areas[i].start < a.start ||
            a.areas[i].start - a.start + a.areas[i].length > a.length)
          __builtin_trap(); /* the decoder promised every area in the page */
      vim_changed_areas_free(&a);
    }
    if (vim_host_ticket_decode(body, &ht, &e) == VIM_OK &&
        (ht.port == 0 || ht.port > 65535 || !ht.session_id[0]))
      __builtin_trap();
    (void)vim_service_ticket_decode(body, &st, &e);
    (void)vim_internal_content_decode(body, &m, &e);
  }
  xmlFreeDoc(doc);
  return 0;
}
