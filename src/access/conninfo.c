/*
 * conninfo.c -- the default vCenter port, in one place (see conninfo.h).
 *
 * VDDK's connect params say "port 0: the library chooses"; freevix chooses
 * what the URL scheme implies: 443 for HTTPS, 80 for the plain "http://"
 * servers that freevix.allowHttp permits in test setups.
 */
#include "access/conninfo.h"

#include <string.h>

#define HTTPS_PORT 443u
#define HTTP_PORT 80u

unsigned access_port(const struct access_conninfo *ci)
{
  if (ci->port)
    return ci->port;
  if (ci->server && strncmp(ci->server, "http://", 7) == 0)
    return HTTP_PORT;
  return HTTPS_PORT;
}
