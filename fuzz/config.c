/*
 * config.c -- fuzz target: the InitEx configuration file parser
 * (src/util/config.c) on a whole file's bytes.  Every key it accepts must
 * be found again by fvx_config_get, with a value, and carry a line number
 * inside the file.
 */
#include <stdlib.h>

#include "common.h"
#include "util/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct fvx_config *cfg = NULL;
  unsigned line = 0;

  fuzz_quiet_logs();
  if (fvx_config_parse((const char *)data, size, &cfg, &line) !=
      FVX_CONFIG_OK) {
    if (cfg)
      abort(); /* nothing is handed out on failure */
    return 0;
  }
  for (size_t i = 0; i < fvx_config_count(cfg); i++) {
    const char *key = fvx_config_key(cfg, i);

    if (!key || !fvx_config_get(cfg, key) || fvx_config_line(cfg, i) == 0 ||
        fvx_config_line(cfg, i) > size + 1)
      abort();
  }
  fvx_config_free(cfg);
  return 0;
}
