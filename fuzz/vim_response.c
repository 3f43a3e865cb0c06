/*
 * vim_response.c -- fuzzes what vim_call does with an answer body: safe
 * parse, envelope checks, then the decoders that walk a result (property
 * collector pages, TaskInfo, ServiceContent fields).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "vim/internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const char *const paths[] = {"name", "disabledMethod", "runtime.host",
                                      "datastore", "info"};
  static const char *const methods[] = {"RetrievePropertiesEx",
                                        "ContinueRetrievePropertiesEx"};
  struct vim_reply r;
  struct vim_error e;

  for (size_t m = 0; m < 3; m++) {
    long http = m == 2 ? 500 : 200;

    if (vim_parse_answer(methods[m & 1], http, (const char *)data, size, 1 << 20,
                         64, &r, &e) != VIM_OK)
      continue;
    {
      struct vim_objects *res = NULL;
      char token[256];
      xmlNode *o;

      if (vim_props_test_new(paths, 5, &res) == VIM_OK) {
        vim_props_decode(r.result, paths, 5, res, token, sizeof token, &e);
        for (size_t i = 0; i < res->n; i++)
          for (size_t j = 0; j < res->objs[i].n_props; j++)
            (void)vim_object_prop(&res->objs[i], paths[j]);
        vim_objects_free(res);
      }
      o = vim_xml_child(vim_xml_child(r.result, "returnval"), "objects");
      for (xmlNode *ps = vim_xml_child(o, "propSet"); ps;
           ps = vim_xml_next(ps, "propSet")) {
        struct vim_task_info ti;

        vim_task_info_decode(vim_xml_child(ps, "val"), &ti);
      }
    }
    vim_reply_free(&r);
  }
  return 0;
}
