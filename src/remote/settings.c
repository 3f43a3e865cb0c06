/*
 * settings.c -- the remote-disk settings InitEx gave, kept between InitEx
 * and Exit under a lock; a connection takes its own copy at ConnectEx, so
 * an Exit racing with an open connection never frees what it reads.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "remote/internal.h"
#include "util/mem.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct remote_settings current;
static char *current_connect_to;
static bool up;

int remote_init(const struct remote_settings *s)
{
  char *ct = fvx_strdup0(s->connect_to);

  if (s->connect_to && !ct)
    return ACCESS_E_NOMEM;
  pthread_mutex_lock(&lock);
  free(current_connect_to);
  current = *s;
  current_connect_to = ct;
  current.connect_to = ct;
  up = true;
  pthread_mutex_unlock(&lock);
  return ACCESS_OK;
}

void remote_shutdown(void)
{
  pthread_mutex_lock(&lock);
  free(current_connect_to);
  current_connect_to = NULL;
  memset(&current, 0, sizeof current);
  up = false;
  pthread_mutex_unlock(&lock);
}

int remote_settings_get(struct remote_settings *out)
{
  int r = ACCESS_OK;

  pthread_mutex_lock(&lock);
  *out = current;
  out->connect_to = NULL;
  if (!up)
    r = ACCESS_E_SHUTDOWN;
  else if (current_connect_to) {
    out->connect_to = strdup(current_connect_to);
    if (!out->connect_to)
      r = ACCESS_E_NOMEM;
  }
  pthread_mutex_unlock(&lock);
  return r;
}

void remote_settings_release(struct remote_settings *s)
{
  free((char *)s->connect_to);
  s->connect_to = NULL;
}
