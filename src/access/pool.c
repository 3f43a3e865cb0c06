/*
 * pool.c -- logged-in vCenter sessions kept between calls, see pool.h.
 *
 * The pool is a short list of idle sessions under one mutex; a checked-out
 * session belongs to its caller alone, so calls never wait for each other
 * on a session.  Keys include a SHA-256 of the secret, so a changed
 * password never reuses a session opened with the old one (the key itself
 * is never logged).
 */
#include "access/pool.h"

#include <errno.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/log.h"
#include "util/mem.h"

#define DEFAULT_MAX_IDLE 4
#define DEFAULT_REASON "Prevent vMotion during backup"

struct pool_entry {
  char *key;
  struct vim_session *s;
  struct pool_entry *next;
};

static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pool_entry *idle;
static bool pool_up;
static struct access_settings settings;
static char *settings_ca_file;
static char *settings_reason;

int access_fail(struct access_result *res, enum access_status status,
                const char *fmt, ...)
{
  va_list ap;

  memset(res, 0, sizeof *res);
  res->status = status;
  va_start(ap, fmt);
  vsnprintf(res->detail, sizeof res->detail, fmt, ap);
  va_end(ap);
  return status;
}

int access_fail_vim(struct access_result *res, const struct vim_error *err)
{
  memset(res, 0, sizeof *res);
  res->status = ACCESS_E_VIM;
  res->vim = *err;
  return ACCESS_E_VIM;
}

int access_init(const struct access_settings *s, struct access_result *res)
{
  char *ca = fvx_strdup0(s->ca_file);
  char *reason = strdup(s->reason_id ? s->reason_id : DEFAULT_REASON);

  if ((s->ca_file && !ca) || !reason) {
    free(ca);
    free(reason);
    return access_fail(res, ACCESS_E_NOMEM, "out of memory");
  }
  if (s->ca_file && access(s->ca_file, R_OK) != 0) {
    int e = errno;

    free(ca);
    free(reason);
    return access_fail(res, ACCESS_E_CONFIG, "freevix.caFile %.300s cannot "
                       "be read: %s", s->ca_file, strerror(e));
  }
  pthread_mutex_lock(&pool_lock);
  free(settings_ca_file);
  free(settings_reason);
  settings = *s;
  settings_ca_file = ca;
  settings_reason = reason;
  settings.ca_file = settings_ca_file;
  settings.reason_id = settings_reason;
  if (!settings.pool_max_idle)
    settings.pool_max_idle = DEFAULT_MAX_IDLE;
  pool_up = true;
  pthread_mutex_unlock(&pool_lock);
  if (s->insecure)
    fvx_warn("certificate verification is OFF (freevix.insecure): any "
             "server can impersonate vCenter");
  res->status = ACCESS_OK;
  return ACCESS_OK;
}

char *pool_reason_dup(void)
{
  char *r;

  pthread_mutex_lock(&pool_lock);
  r = strdup(settings_reason ? settings_reason : DEFAULT_REASON);
  pthread_mutex_unlock(&pool_lock);
  return r;
}

int pool_net_settings(struct pool_net *out)
{
  int r = ACCESS_OK;

  memset(out, 0, sizeof out[0]);
  pthread_mutex_lock(&pool_lock);
  if (!pool_up)
    r = ACCESS_E_SHUTDOWN;
  out->insecure = settings.insecure;
  out->allow_http = settings.allow_http;
  out->connect_timeout_ms = settings.connect_timeout_ms;
  if (settings.ca_file &&
      snprintf(out->ca_file, sizeof out->ca_file, "%s", settings.ca_file) >=
          (int)sizeof out->ca_file)
    r = ACCESS_E_NOMEM;
  pthread_mutex_unlock(&pool_lock);
  return r;
}

void access_shutdown(void)
{
  struct pool_entry *list;

  pthread_mutex_lock(&pool_lock);
  list = idle;
  idle = NULL;
  pool_up = false;
  free(settings_ca_file);
  free(settings_reason);
  settings_ca_file = settings_reason = NULL;
  memset(&settings, 0, sizeof settings);
  pthread_mutex_unlock(&pool_lock);
  while (list) {
    struct pool_entry *next = list->next;

    vim_session_free(list->s); /* logs out */
    fvx_free_secret(list->key);
    free(list);
    list = next;
  }
}

/* "server\nport\nuser\nthumbprint\ncred\nsha256(secret)" (malloc'd). */
static char *pool_key(const struct access_conninfo *ci)
{
  const char *secret = ci->cred == ACCESS_CRED_COOKIE ? ci->cookie
                                                      : ci->password;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;
  char hex[2 * EVP_MAX_MD_SIZE + 1];
  char *key;

  if (!EVP_Digest(secret ? secret : "", secret ? strlen(secret) : 0, md,
                  &md_len, EVP_sha256(), NULL))
    return NULL;
  for (unsigned int i = 0; i < md_len; i++)
    snprintf(hex + 2 * i, 3, "%02x", md[i]);
  hex[2 * md_len] = '\0';
  if (asprintf(&key, "%s\n%u\n%s\n%s\n%d\n%s", ci->server, access_port(ci),
               ci->user ? ci->user : "", ci->thumbprint ? ci->thumbprint : "",
               (int)ci->cred, hex) < 0)
    return NULL;
  return key;
}

int pool_open_session(const struct access_conninfo *ci,
                      struct vim_session **out, struct access_result *res)
{
  const struct vim_service_content *sc;
  struct vim_options opts;
  struct vim_session *s = NULL;
  struct vim_error err;
  int r;

  *out = NULL;
  memset(&opts, 0, sizeof opts);
  pthread_mutex_lock(&pool_lock);
  opts.host = ci->server;
  opts.port = access_port(ci);
  opts.thumbprint = ci->thumbprint;
  opts.ca_file = settings.ca_file;
  opts.insecure = settings.insecure;
  opts.allow_http = settings.allow_http;
  opts.connect_timeout_ms = settings.connect_timeout_ms;
  opts.timeout_ms = settings.timeout_ms;
  opts.retry_deadline_ms = settings.retry_deadline_ms;
  r = vim_session_new(&s, &opts, &err);
  pthread_mutex_unlock(&pool_lock);
  if (r != VIM_OK)
    return access_fail_vim(res, &err);

  if (ci->cred == ACCESS_CRED_COOKIE)
    r = vim_use_cookie(s, ci->cookie, &err);
  else
    r = vim_login(s, ci->user, ci->password, &err);
  if (r == VIM_OK)
    r = vim_service_content(s, &sc, &err);
  if (r != VIM_OK) {
    vim_session_free(s);
    return access_fail_vim(res, &err);
  }
  fvx_debug("logged in to %s:%u as %s", ci->server, access_port(ci),
            ci->user ? ci->user : "(cookie)");
  *out = s;
  res->status = ACCESS_OK;
  return ACCESS_OK;
}

int pool_checkout(const struct access_conninfo *ci, struct vim_session **out,
                  struct access_result *res)
{
  CLEANUP_FREE_SECRET char *key = pool_key(ci);
  struct pool_entry **pp;

  *out = NULL;
  if (!key)
    return access_fail(res, ACCESS_E_NOMEM, "out of memory");
  pthread_mutex_lock(&pool_lock);
  if (!pool_up) {
    pthread_mutex_unlock(&pool_lock);
    return access_fail(res, ACCESS_E_SHUTDOWN, "library not initialized");
  }
  for (pp = &idle; *pp; pp = &(*pp)->next) {
    if (strcmp((*pp)->key, key) == 0) {
      struct pool_entry *e = *pp;

      *pp = e->next;
      pthread_mutex_unlock(&pool_lock);
      *out = e->s;
      fvx_free_secret(e->key);
      free(e);
      res->status = ACCESS_OK;
      return ACCESS_OK;
    }
  }
  pthread_mutex_unlock(&pool_lock);
  return pool_open_session(ci, out, res);
}

void pool_checkin(const struct access_conninfo *ci, struct vim_session *s,
                  bool reusable)
{
  struct pool_entry *e = NULL;
  char *key;
  size_t same = 0;

  if (!s)
    return;
  key = reusable ? pool_key(ci) : NULL;
  pthread_mutex_lock(&pool_lock);
  if (key && pool_up) {
    for (struct pool_entry *p = idle; p; p = p->next)
      same += strcmp(p->key, key) == 0;
    if (same < settings.pool_max_idle) {
      e = malloc(sizeof *e);
      if (e) {
        e->key = key;
        e->s = s;
        e->next = idle;
        idle = e;
      }
    }
  }
  pthread_mutex_unlock(&pool_lock);
  if (!e) {
    fvx_free_secret(key);
    vim_session_free(s);
  }
}
