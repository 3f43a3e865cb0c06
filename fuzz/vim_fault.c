/*
 * vim_fault.c -- fuzzes the fault decoders: a whole answer parsed as a
 * SOAP fault (HTTP 500), and every element of a parsed document decoded as
 * a LocalizedMethodFault (TaskInfo.error, missingSet.fault).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vim/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void walk(xmlNode *n, int depth)
{
  for (; n && depth < 64; n = n->next) {
    if (n->type == XML_ELEMENT_NODE) {
      struct vim_fault f;

      vim_fault_decode_localized(n, &f);
      vim_fault_decode(n, &f);
      walk(n->children, depth + 1);
    }
  }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct vim_reply r;
  struct vim_error e;
  xmlDoc *doc;

  (void)vim_parse_answer("DisableMethods", 500, (const char *)data, size,
                         1 << 20, 64, &r, &e);
  vim_reply_free(&r);
  if (vim_xml_parse((const char *)data, size, 1 << 20, 64, &doc, &e) ==
      VIM_OK) {
    walk(xmlDocGetRootElement(doc), 0);
    xmlFreeDoc(doc);
  }
  return 0;
}
