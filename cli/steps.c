/* steps.c -- see steps.h. */
#include "steps.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static pthread_mutex_t hook_mu = PTHREAD_MUTEX_INITIALIZER;

void cli_step(const char *who, const char *step)
{
  const char *env = getenv("FREEVIX_BACKUP_STEP_FD");
  int wfd, rfd;
  char line[64];

  if (!env || sscanf(env, "%d,%d", &wfd, &rfd) != 2)
    return;
  pthread_mutex_lock(&hook_mu);
  dprintf(wfd, "%s %s\n", who, step);
  for (size_t i = 0; i < sizeof line - 1; i++) {
    ssize_t n = read(rfd, &line[i], 1);

    if (n < 0 && errno == EINTR) {
      i--;
      continue;
    }
    if (n <= 0 || line[i] == '\n')
      break;
  }
  pthread_mutex_unlock(&hook_mu);
}
