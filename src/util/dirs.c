/*
 * dirs.c -- mkdir -p (dirs.h).
 */
#include "util/dirs.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

int fvx_mkdirs(const char *path, mode_t mode)
{
  char tmp[4096];
  size_t len = strlen(path);

  if (len >= sizeof tmp)
    return ENAMETOOLONG;
  memcpy(tmp, path, len + 1);
  /* Each parent in turn: cut the path at every '/' after the first byte. */
  for (char *p = tmp + 1; *p; p++) {
    if (*p != '/')
      continue;
    *p = '\0';
    if (mkdir(tmp, mode) != 0 && errno != EEXIST)
      return errno;
    *p = '/';
  }
  if (mkdir(tmp, mode) != 0 && errno != EEXIST)
    return errno;
  return 0;
}
