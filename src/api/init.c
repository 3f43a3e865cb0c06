/*
 * init.c -- VixDiskLib_InitEx / Init / Exit: the library's life cycle.
 *
 * One mutex, the life-cycle lock, serialises InitEx, Exit and
 * freevix_set_config as wholes: Exit holds it from its first line to its
 * last, logging out the pooled sessions included, so an InitEx that comes
 * in meanwhile waits and then starts from a clean slate (never an
 * "initialized" flag with the pool already torn down behind it).  The flag
 * itself is an atomic written under that lock and read without it, so the
 * data path (every Read and Write checks it) never takes a global lock and
 * threads working on different disks never wait for each other.
 *
 * InitEx installs a log sink that routes freevix's levels to the callbacks
 * (debug and info to `log`, warnings and errors to `warn`); `panic` is kept
 * for VDDK compatibility but freevix never panics: it returns errors.
 * Everything InitEx sets -- callbacks, config overrides, the debug level
 * of "freevix.debug" -- is undone by Exit.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "access/access.h"
#include "freevix.h"
#include "api/api.h"
#include "api/remote_config.h"
#include "api/vim_errors.h"
#include "util/config.h"

/* Oldest and newest client API versions InitEx accepts. */
#define OLDEST_MAJOR 5
#define NEWEST_MAJOR VIXDISKLIB_VERSION_MAJOR

static pthread_mutex_t lifecycle_lock = PTHREAD_MUTEX_INITIALIZER;
/* Written with the lock held (release), read without it (acquire). */
static bool initialized;
/* freevix_set_config values: they win over the config file (until Exit). */
static struct override {
  char *key;
  char *value;
} overrides[16];
static size_t n_overrides;
static VixDiskLibGenericLogFunc *log_cb;
static VixDiskLibGenericLogFunc *warn_cb;

/* VDDK's callbacks take a va_list, so we build one around "%s". */
static void call_log_func(VixDiskLibGenericLogFunc *fn, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  fn(fmt, ap);
  va_end(ap);
}

static void callback_sink(void *opaque, enum fvx_log_level level,
                          const char *msg)
{
  VixDiskLibGenericLogFunc *fn = level >= FVX_LOG_WARN ? warn_cb : log_cb;

  (void)opaque;
  if (fn)
    call_log_func(fn, "%s", msg);
  else
    fprintf(stderr, "freevix: %s\n", msg);
}

bool fvx_api_initialized(void)
{
  return __atomic_load_n(&initialized, __ATOMIC_ACQUIRE);
}

static void set_initialized(bool v)
{
  __atomic_store_n(&initialized, v, __ATOMIC_RELEASE);
}

VixError fvx_api_require_init(const char *fn)
{
  if (fvx_api_initialized())
    return VIX_OK;
  fvx_error("%s called before VixDiskLib_InitEx (or after VixDiskLib_Exit)",
            fn);
  return VIX_E_DISK_NOINIT;
}

/* True for keys VDDK documents for its own transports: accepted and
 * ignored without a warning, since a VDDK config file may well carry them. */
static bool is_vddk_key(const char *key)
{
  return strncmp(key, "vixDiskLib.", 11) == 0 || strcmp(key, "tmpDirectory") == 0;
}

static const char *const freevix_keys[] = {
  "freevix.debug", "freevix.connectTimeoutMs", "freevix.timeoutMs",
  "freevix.retryDeadlineMs", "freevix.caFile", "freevix.insecure",
  "freevix.allowHttp", "freevix.reasonId", "freevix.sessionPoolSize",
};

static bool is_freevix_key(const char *key)
{
  if (fvx_remote_config_key(key))
    return true;
  for (size_t i = 0; i < sizeof freevix_keys / sizeof freevix_keys[0]; i++)
    if (strcmp(key, freevix_keys[i]) == 0)
      return true;
  return false;
}

/* A key's value: a freevix_set_config override, else the file's. */
static const char *setting(const struct fvx_config *cfg, const char *key);

/* setting() as remote_config.c looks keys up. */
static const char *lookup(const void *cfg, const char *key)
{
  return setting(cfg, key);
}

static const char *setting(const struct fvx_config *cfg, const char *key)
{
  for (size_t i = n_overrides; i-- > 0;)
    if (strcmp(overrides[i].key, key) == 0)
      return overrides[i].value;
  return fvx_config_get(cfg, key);
}

static void free_overrides(void)
{
  for (size_t i = 0; i < n_overrides; i++) {
    free(overrides[i].key);
    free(overrides[i].value);
  }
  n_overrides = 0;
}

/* Reads a non-negative decimal number; false if value is not one. */
static bool parse_number(const char *value, long *out)
{
  char *end;
  long v;

  if (!value)
    return true;
  v = strtol(value, &end, 10);
  if (end == value || *end || v < 0)
    return false;
  *out = v;
  return true;
}

static bool is_true(const char *value)
{
  return value && (strcmp(value, "1") == 0 || strcmp(value, "true") == 0 ||
                   strcmp(value, "TRUE") == 0 || strcmp(value, "yes") == 0);
}

/* Turns the configuration into access settings and the debug switch;
 * logs each unknown key and returns VIX_E_INVALID_ARG when a known key has
 * a bad value. */
static VixError settings_from_config(const struct fvx_config *cfg,
                                     struct access_settings *s, bool *debug)
{
  long pool = 0;
  struct {
    const char *key;
    long *out;
  } numbers[] = {
    {"freevix.connectTimeoutMs", &s->connect_timeout_ms},
    {"freevix.timeoutMs", &s->timeout_ms},
    {"freevix.retryDeadlineMs", &s->retry_deadline_ms},
    {"freevix.sessionPoolSize", &pool},
  };

  for (size_t i = 0; i < fvx_config_count(cfg); i++) {
    const char *key = fvx_config_key(cfg, i);

    if (is_vddk_key(key))
      fvx_debug("config line %u: VDDK setting \"%s\" accepted and ignored",
                fvx_config_line(cfg, i), key);
    else if (!is_freevix_key(key))
      fvx_info("config line %u: unknown key \"%s\" ignored",
               fvx_config_line(cfg, i), key);
  }
  for (size_t i = 0; i < sizeof numbers / sizeof numbers[0]; i++) {
    if (!parse_number(setting(cfg, numbers[i].key), numbers[i].out)) {
      fvx_error("config: %s must be a non-negative number of milliseconds "
                "or sessions", numbers[i].key);
      return VIX_E_INVALID_ARG;
    }
  }
  s->pool_max_idle = (size_t)pool;
  s->ca_file = setting(cfg, "freevix.caFile");
  s->insecure = is_true(setting(cfg, "freevix.insecure"));
  s->allow_http = is_true(setting(cfg, "freevix.allowHttp"));
  s->reason_id = setting(cfg, "freevix.reasonId");
  *debug = is_true(setting(cfg, "freevix.debug"));
  return VIX_OK;
}

static VixError load_config(const char *path, struct fvx_config **out)
{
  unsigned line = 0;

  switch (fvx_config_load(path, out, &line)) {
  case FVX_CONFIG_OK:
    return VIX_OK;
  case FVX_CONFIG_NOMEM:
    return VIX_E_OUT_OF_MEMORY;
  case FVX_CONFIG_IO:
    fvx_error("VixDiskLib_InitEx: cannot read config file %s", path);
    return VIX_E_FILE_NOT_FOUND;
  case FVX_CONFIG_SYNTAX:
    fvx_error("VixDiskLib_InitEx: config file %s line %u is malformed: "
              "expected key = \"value\"", path, line);
    return VIX_E_INVALID_ARG;
  case FVX_CONFIG_TOO_BIG:
    fvx_error("VixDiskLib_InitEx: config file %s is too large (line %u; "
              "limits: 1 MiB, 4 KiB per line)", path, line);
    return VIX_E_FILE_TOO_BIG;
  }
  return VIX_E_FAIL;
}

/*
 * The external interface.
 */

VixError VixDiskLib_InitEx(uint32 majorVersion, uint32 minorVersion,
                           VixDiskLibGenericLogFunc *log,
                           VixDiskLibGenericLogFunc *warn,
                           VixDiskLibGenericLogFunc *panic, const char *libDir,
                           const char *configFile)
{
  struct access_settings settings;
  struct remote_settings remote;
  struct access_result res;
  struct fvx_config *cfg = NULL;
  bool debug = false;
  VixError err = VIX_OK;

  (void)panic; /* freevix reports failures, it never panics */
  pthread_mutex_lock(&lifecycle_lock);
  if (fvx_api_initialized()) {
    pthread_mutex_unlock(&lifecycle_lock);
    fvx_debug("VixDiskLib_InitEx: already initialized");
    return VIX_OK;
  }
  log_cb = log;
  warn_cb = warn;
  fvx_log_set_sink(callback_sink, NULL);
  FVX_API_TRACE("VixDiskLib_InitEx", "%u.%u, libDir=%s, configFile=%s)",
                majorVersion, minorVersion, libDir ? libDir : "(null)",
                configFile ? configFile : "(null)");

  if (majorVersion < OLDEST_MAJOR || majorVersion > NEWEST_MAJOR) {
    fvx_error("VixDiskLib_InitEx: API version %u.%u is not supported: "
              "freevix implements VixDiskLib %d.%d and accepts %d.0 to %d.x",
              majorVersion, minorVersion, VIXDISKLIB_VERSION_MAJOR,
              VIXDISKLIB_VERSION_MINOR, OLDEST_MAJOR, NEWEST_MAJOR);
    err = VIX_E_NOT_SUPPORTED;
    goto out;
  }
  if (configFile) {
    err = load_config(configFile, &cfg);
    if (err)
      goto out;
  }
  memset(&settings, 0, sizeof settings);
  err = settings_from_config(cfg, &settings, &debug);
  if (err)
    goto out;
  if (access_init(&settings, &res) != ACCESS_OK) {
    err = fvx_map_access_result("VixDiskLib_InitEx", &res);
    goto out;
  }
  err = fvx_remote_config(lookup, cfg, &remote);
  if (!err && remote_init(&remote) != ACCESS_OK)
    err = VIX_E_OUT_OF_MEMORY;
  if (err) {
    access_shutdown();
    goto out;
  }
  if (debug)
    fvx_log_set_level(FVX_LOG_DEBUG);
  set_initialized(true);
  fvx_info("freevix %s initialized (client API %u.%u)", FREEVIX_VERSION,
           majorVersion, minorVersion);

out:
  fvx_config_free(cfg);
  if (err) {
    fvx_log_set_sink(NULL, NULL);
    log_cb = warn_cb = NULL;
  }
  pthread_mutex_unlock(&lifecycle_lock);
  return err;
}

VixError VixDiskLib_Init(uint32 majorVersion, uint32 minorVersion,
                         VixDiskLibGenericLogFunc *log,
                         VixDiskLibGenericLogFunc *warn,
                         VixDiskLibGenericLogFunc *panic, const char *libDir)
{
  return VixDiskLib_InitEx(majorVersion, minorVersion, log, warn, panic,
                           libDir, NULL);
}

void VixDiskLib_Exit(void)
{
  pthread_mutex_lock(&lifecycle_lock);
  if (!fvx_api_initialized()) {
    pthread_mutex_unlock(&lifecycle_lock);
    return;
  }
  FVX_API_TRACE("VixDiskLib_Exit", ")");
  set_initialized(false);
  remote_shutdown();
  /* Still under the lock: logging out pooled sessions does network I/O and
   * logs through the callbacks, and an InitEx must not start before the
   * pool is gone (it would find itself initialized without one). */
  access_shutdown();
  fvx_log_set_sink(NULL, NULL);
  log_cb = warn_cb = NULL;
  free_overrides();
  fvx_log_reset_level();
  pthread_mutex_unlock(&lifecycle_lock);
}

VixError freevix_set_config(const char *key, const char *value)
{
  VixError err = VIX_OK;

  if (!key || !value || !is_freevix_key(key) || strlen(value) > 4096) {
    fvx_error("freevix_set_config: \"%s\" is not a freevix.* key of "
              "docs/config.md (or the value is missing or too long)",
              key ? key : "(null)");
    return VIX_E_INVALID_ARG;
  }
  pthread_mutex_lock(&lifecycle_lock);
  if (fvx_api_initialized()) {
    err = VIX_E_OBJECT_IS_BUSY;
  } else if (n_overrides == sizeof overrides / sizeof overrides[0]) {
    err = VIX_E_TOO_MANY_HANDLES;
  } else {
    overrides[n_overrides].key = strdup(key);
    overrides[n_overrides].value = strdup(value);
    if (!overrides[n_overrides].key || !overrides[n_overrides].value) {
      free(overrides[n_overrides].key);
      free(overrides[n_overrides].value);
      err = VIX_E_OUT_OF_MEMORY;
    } else {
      n_overrides++;
    }
  }
  pthread_mutex_unlock(&lifecycle_lock);
  if (err == VIX_E_OBJECT_IS_BUSY)
    fvx_error("freevix_set_config: call it before VixDiskLib_InitEx");
  return err;
}
