/* common.c -- see common.h. */
#include "common.h"

#include <stdlib.h>
#include <string.h>

#include "util/log.h"

static void quiet(void *opaque, enum fvx_log_level level, const char *msg)
{
  (void)opaque;
  (void)level;
  (void)msg;
}

void fuzz_quiet_logs(void)
{
  fvx_log_set_sink(quiet, NULL);
}

char *fuzz_string(const uint8_t *data, size_t size)
{
  char *s = malloc(size + 1);

  if (!s)
    return NULL;
  memcpy(s, data, size);
  s[size] = '\0';
  return s;
}
