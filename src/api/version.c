/* version.c -- freevix_version(). */
#include "freevix.h"

const char *freevix_version(void)
{
  return FREEVIX_VERSION;
}
