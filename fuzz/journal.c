/*
 * journal.c -- fuzz target: the lease journal parser (journal_parse in
 * src/access/journal.c) on a whole file's bytes, then the staleness and
 * same-disable checks on every grant it accepts.  An accepted grant has
 * every text field non-empty and an owner or an expiry.
 */
#include <stdlib.h>
#include <string.h>

#include "access/journal.h"
#include "common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct journal j;
  struct access_result res;
  char *text, why[256];

  fuzz_quiet_logs();
  text = fuzz_string(data, size);
  if (!text)
    return 0;
  memset(&j, 0, sizeof j);
  j.lock_fd = -1;
  strcpy(j.path, "fuzz/journal");
  if (journal_parse(&j, text, size, &res) == ACCESS_OK) {
    for (size_t i = 0; i < j.n; i++) {
      const struct journal_grant *g = &j.grants[i];

      if (!g->server[0] || !g->vm[0] || !g->method[0] || !g->source[0] ||
          (!g->pid && !g->expires))
        abort();
      (void)journal_grant_stale(g, 1700000000, why, sizeof why);
      (void)journal_same_disable(g, &j.grants[0]);
    }
  } else if (!res.detail[0]) {
    abort(); /* every refusal says why */
  }
  journal_close(&j);
  free(text);
  return 0;
}
