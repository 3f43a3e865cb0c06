/* mem.c -- see mem.h. */
#include "util/mem.h"

#include <stdlib.h>
#include <string.h>

void fvx_wipe(void *p, size_t n)
{
  if (p && n)
    explicit_bzero(p, n);
}

void fvx_free_secret(char *s)
{
  if (!s)
    return;
  fvx_wipe(s, strlen(s));
  free(s);
}

char *fvx_strdup0(const char *s)
{
  return s ? strdup(s) : NULL;
}

void fvx_cleanup_free(void *ptr)
{
  free(*(void **)ptr);
}

void fvx_cleanup_free_secret(char **ptr)
{
  fvx_free_secret(*ptr);
}
