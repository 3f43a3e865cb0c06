/* vddk_pattern.c -- see vddk_pattern.h. */
#include "vddk_pattern.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vim/vim.h"

void vddk_pattern_call(const struct fvx_sim *sim, const char *vm,
                       bool disable)
{
  struct vim_options o;
  struct vim_session *s;
  struct vim_moref ref;
  struct vim_disabled_method m = {"RelocateVM_Task", "bench"};
  const char *method = "RelocateVM_Task";
  struct vim_error err;
  int r;

  memset(&o, 0, sizeof o);
  o.host = sim->host;
  o.port = (unsigned)sim->port;
  o.thumbprint = sim->thumbprint_sha1;
  vim_moref_set(&ref, "VirtualMachine", vm);
  r = vim_session_new(&s, &o, &err);
  if (r == VIM_OK)
    r = vim_login(s, "admin", "freevix", &err);
  if (r == VIM_OK)
    r = disable ? vim_disable_methods(s, &ref, 1, &m, 1, "bench", false, &err)
                : vim_enable_methods(s, &ref, 1, &method, 1, "bench", &err);
  if (r != VIM_OK) {
    fprintf(stderr, "per-call login: %s\n", err.detail);
    exit(1);
  }
  vim_session_free(s); /* logs out */
}
