/*
 * sim.c -- see sim.h.
 *
 * The JSON handling is just enough for the simulator's flat objects: string
 * values are unescaped (including \uXXXX and surrogate pairs, since Go
 * escapes <, > and & that way), numbers and booleans are taken literally.
 */
#include "sim.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "testutil.h"

#define MAX_SIMS 32
static pid_t live[MAX_SIMS];
static int atexit_done;

static void kill_all(void)
{
  for (int i = 0; i < MAX_SIMS; i++) {
    if (live[i] > 0) {
      kill(live[i], SIGKILL);
      waitpid(live[i], NULL, 0);
      live[i] = 0;
    }
  }
}

static void track(pid_t pid, int add)
{
  for (int i = 0; i < MAX_SIMS; i++) {
    if (add && live[i] == 0) {
      live[i] = pid;
      return;
    }
    if (!add && live[i] == pid) {
      live[i] = 0;
      return;
    }
  }
}

/* Decodes the JSON string starting at p (after the opening quote). */
static const char *json_str(const char *p, char *out, size_t n)
{
  size_t o = 0;

  while (*p && *p != '"') {
    uint32_t c = (unsigned char)*p++;

    if (c == '\\') {
      char e = *p++;

      switch (e) {
      case 'n': c = '\n'; break;
      case 't': c = '\t'; break;
      case 'r': c = '\r'; break;
      case 'b': c = '\b'; break;
      case 'f': c = '\f'; break;
      case 'u': {
        unsigned v;

        if (sscanf(p, "%4x", &v) != 1)
          return NULL;
        p += 4;
        c = v;
        if (v >= 0xD800 && v < 0xDC00 && p[0] == '\\' && p[1] == 'u') {
          unsigned lo;

          if (sscanf(p + 2, "%4x", &lo) == 1 && lo >= 0xDC00 && lo < 0xE000) {
            c = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
            p += 6;
          }
        }
        break;
      }
      case '\0':
        return NULL;
      default: c = (unsigned char)e; break;
      }
      if (c >= 0x80) {
        char u[4];
        size_t l;

        if (c < 0x800) {
          u[0] = (char)(0xC0 | (c >> 6));
          u[1] = (char)(0x80 | (c & 0x3F));
          l = 2;
        } else if (c < 0x10000) {
          u[0] = (char)(0xE0 | (c >> 12));
          u[1] = (char)(0x80 | ((c >> 6) & 0x3F));
          u[2] = (char)(0x80 | (c & 0x3F));
          l = 3;
        } else {
          u[0] = (char)(0xF0 | (c >> 18));
          u[1] = (char)(0x80 | ((c >> 12) & 0x3F));
          u[2] = (char)(0x80 | ((c >> 6) & 0x3F));
          u[3] = (char)(0x80 | (c & 0x3F));
          l = 4;
        }
        for (size_t i = 0; i < l; i++)
          if (o + 1 < n)
            out[o++] = u[i];
        continue;
      }
    }
    if (o + 1 < n)
      out[o++] = (char)c;
  }
  if (n)
    out[o] = '\0';
  return *p == '"' ? p + 1 : NULL;
}

/* Skips a JSON string starting at the opening quote. */
static const char *skip_str(const char *p)
{
  p++;
  while (*p && *p != '"') {
    if (*p == '\\' && p[1])
      p++;
    p++;
  }
  return *p ? p + 1 : p;
}

/* Value of key within [obj, end) at the top level of that object. */
static int get_in(const char *obj, const char *end, const char *key, char *out,
                  size_t n)
{
  const char *p = obj;
  int depth = 0;
  size_t kl = strlen(key);

  while (p < end && *p) {
    if (*p == '"') {
      const char *s = p + 1, *q = skip_str(p);

      if (depth == 1 && (size_t)(q - s - 1) == kl && strncmp(s, key, kl) == 0) {
        while (*q == ' ' || *q == ':')
          q++;
        if (*q == '"')
          return json_str(q + 1, out, n) ? 0 : -1;
        {
          size_t l = strcspn(q, ",}] \n");

          if (l >= n)
            l = n - 1;
          memcpy(out, q, l);
          out[l] = '\0';
          return 0;
        }
      }
      p = q;
      continue;
    }
    if (*p == '{' || *p == '[')
      depth++;
    if (*p == '}' || *p == ']')
      depth--;
    p++;
  }
  return -1;
}

int fvx_sim_json_get(const char *json, const char *key, char *out, size_t n)
{
  const char *p = strchr(json, '{');

  if (!p || n == 0)
    return -1;
  return get_in(p, p + strlen(p), key, out, n);
}

/* Calls fn for each top-level object of a JSON array. */
static int each_object(const char *json,
                       int (*fn)(const char *o, const char *end, void *ud),
                       void *ud)
{
  const char *p = strchr(json, '[');
  int n = 0;

  if (!p)
    return -1;
  p++;
  while (*p) {
    if (*p == '{') {
      const char *s = p;
      int depth = 0;

      while (*p) {
        if (*p == '"') {
          p = skip_str(p);
          continue;
        }
        if (*p == '{')
          depth++;
        if (*p == '}' && --depth == 0)
          break;
        p++;
      }
      if (!*p)
        return -1;
      p++;
      if (fn(s, p, ud) != 0)
        break;
      n++;
      continue;
    }
    if (*p == ']')
      break;
    p++;
  }
  return n;
}

static double now_s(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Fills sim->connect_to from the "hosts" array of the start-up line. */
static void parse_hosts(const char *line, struct fvx_sim *sim)
{
  const char *p = strstr(line, "\"hosts\":[");
  size_t len = 0;

  sim->connect_to[0] = '\0';
  while (p && (p = strchr(p, '{')) != NULL) {
    const char *end = strchr(p, '}');
    char obj[1024], name[256], https[16] = "", nfc[16] = "";
    int n;

    if (!end || (size_t)(end - p) >= sizeof obj)
      break;
    memcpy(obj, p, (size_t)(end - p + 1));
    obj[end - p + 1] = '\0';
    p = end + 1;
    if (fvx_sim_json_get(obj, "name", name, sizeof name) != 0)
      continue;
    fvx_sim_json_get(obj, "https_port", https, sizeof https);
    fvx_sim_json_get(obj, "nfc_port", nfc, sizeof nfc);
    n = snprintf(sim->connect_to + len, sizeof sim->connect_to - len,
                 "%s%s:443:127.0.0.1:%s,%s:902:127.0.0.1:%s", len ? "," : "",
                 name, https, name, nfc);
    if (n < 0 || (size_t)n >= sizeof sim->connect_to - len)
      fail_msg("too many simulator hosts for connect_to");
    len += (size_t)n;
  }
}

/* Copies a start-up line field; one that does not fit is the simulator's
 * bug, never silently cut. */
static void set_field(char *dst, size_t n, const char *key, const char *v)
{
  size_t len = strlen(v);

  if (len >= n)
    fail_msg("the simulator's \"%s\" (%zu bytes) does not fit in %zu", key,
             len, n - 1);
  memcpy(dst, v, len + 1);
}

int fvx_sim_start(struct fvx_sim *out, const char *const *extra)
{
  const char *bin = getenv("FREEVIX_SIM");
  const char *argv[64];
  char ppid[32], line[8192], val[4096];
  size_t argc = 0, len = 0;
  int pfd[2];
  pid_t pid;
  double limit = fvx_test_under_valgrind() ? 120 : 30, t0;

  memset(out, 0, sizeof *out);
  out->stdout_fd = -1;
  if (!bin || !*bin)
    fvx_test_skip("FREEVIX_SIM is not set (build with -DFREEVIX_SIM=ON)");
  if (access(bin, X_OK) != 0)
    fvx_test_skip("the simulator binary named by FREEVIX_SIM is missing");
  if (!atexit_done) {
    atexit(kill_all);
    atexit_done = 1;
  }
  snprintf(ppid, sizeof ppid, "%d", (int)getpid());
  argv[argc++] = bin;
  argv[argc++] = "--parent-pid";
  argv[argc++] = ppid;
  for (size_t i = 0; extra && extra[i] && argc < 62; i++)
    argv[argc++] = extra[i];
  argv[argc] = NULL;
  if (pipe2(pfd, O_CLOEXEC) != 0)
    fail_msg("pipe: %s", strerror(errno));
  pid = fork();
  if (pid < 0)
    fail_msg("fork: %s", strerror(errno));
  if (pid == 0) {
    dup2(pfd[1], 1);
    execv(bin, (char *const *)argv);
    _exit(127);
  }
  close(pfd[1]);
  track(pid, 1);
  out->pid = pid;
  out->stdout_fd = pfd[0];
  t0 = now_s();
  while (!memchr(line, '\n', len)) {
    struct pollfd pf = {.fd = pfd[0], .events = POLLIN};
    int left = (int)((limit - (now_s() - t0)) * 1000);
    ssize_t r;

    if (left <= 0 || len >= sizeof line - 1) {
      fvx_sim_stop(out);
      fail_msg("the simulator did not print its start-up line in time");
    }
    if (poll(&pf, 1, left) <= 0)
      continue;
    r = read(pfd[0], line + len, sizeof line - 1 - len);
    if (r <= 0) {
      fvx_sim_stop(out);
      fail_msg("the simulator exited before it was ready");
    }
    len += (size_t)r;
  }
  line[len] = '\0';
#define FIELD(k, dst)                                                    \
  do {                                                                   \
    if (fvx_sim_json_get(line, k, val, sizeof val) == 0)                 \
      set_field(dst, sizeof dst, k, val);                                \
  } while (0)
  FIELD("sdk", out->sdk_url);
  FIELD("host", out->host);
  FIELD("admin", out->admin_url);
  FIELD("thumbprint_sha1", out->thumbprint_sha1);
  FIELD("thumbprint_sha256", out->thumbprint_sha256);
  FIELD("cert", out->cert_path);
  FIELD("mode", out->mode);
  FIELD("user", out->user);
  FIELD("ro_user", out->ro_user);
#undef FIELD
  if (fvx_sim_json_get(line, "port", val, sizeof val) == 0)
    out->port = atoi(val);
  if (fvx_sim_json_get(line, "tls", val, sizeof val) == 0)
    out->tls = strcmp(val, "true") == 0;
  parse_hosts(line, out);
  if (!out->port || !out->admin_url[0]) {
    fvx_sim_stop(out);
    fail_msg("cannot read the simulator's start-up line: %s", line);
  }
  return 0;
}

void fvx_sim_stop(struct fvx_sim *sim)
{
  double t0;

  if (!sim || sim->pid <= 0)
    return;
  kill(sim->pid, SIGTERM);
  t0 = now_s();
  for (;;) {
    pid_t r = waitpid(sim->pid, NULL, WNOHANG);

    if (r == sim->pid || (r < 0 && errno != EINTR))
      break;
    if (now_s() - t0 > 10) {
      kill(sim->pid, SIGKILL);
      waitpid(sim->pid, NULL, 0);
      break;
    }
    usleep(10000);
  }
  track(sim->pid, 0);
  sim->pid = 0;
  if (sim->stdout_fd >= 0)
    close(sim->stdout_fd);
  sim->stdout_fd = -1;
}

void fvx_sim_params(const struct fvx_sim *sim, VixDiskLibConnectParams *p,
                    const char *user, const char *vmx_spec)
{
  memset(p, 0, sizeof *p);
  p->serverName = (char *)sim->host;
  p->port = (uint32)sim->port;
  p->thumbPrint = (char *)sim->thumbprint_sha1;
  p->credType = VIXDISKLIB_CRED_UID;
  p->creds.uid.userName = (char *)(user ? user : sim->user);
  p->creds.uid.password = (char *)"freevix";
  p->vmxSpec = (char *)vmx_spec;
}

void fvx_sim_spec(char *out, size_t n, const char *vm)
{
  int len = snprintf(out, n, "moref=%s", vm);

  if (len < 0 || (size_t)len >= n)
    fail_msg("vmxSpec for %s does not fit in %zu bytes", vm, n);
}

struct body {
  char *p;
  size_t n;
};

static size_t on_data(char *p, size_t sz, size_t nm, void *ud)
{
  struct body *b = ud;
  size_t n = sz * nm;
  char *q = realloc(b->p, b->n + n + 1);

  if (!q)
    return 0;
  memcpy(q + b->n, p, n);
  b->n += n;
  q[b->n] = '\0';
  b->p = q;
  return n;
}

int fvx_sim_admin(const struct fvx_sim *sim, const char *method,
                  const char *path, const char *json_body, char **out)
{
  CURL *c = curl_easy_init();
  struct curl_slist *h = NULL;
  struct body b = {NULL, 0};
  char url[512];
  long status = -1;
  CURLcode rc;

  if (out)
    *out = NULL;
  if (!c)
    return -1;
  snprintf(url, sizeof url, "%s%s", sim->admin_url, path);
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  if (json_body) {
    h = curl_slist_append(h, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, json_body);
  }
  rc = curl_easy_perform(c);
  if (rc == CURLE_OK)
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  curl_slist_free_all(h);
  if (out && rc == CURLE_OK)
    *out = b.p ? b.p : strdup("");
  else
    free(b.p);
  return rc == CURLE_OK ? (int)status : -1;
}

struct vms_ud {
  char (*morefs)[64];
  char (*names)[128];
  size_t max, n;
};

static int one_vm(const char *o, const char *end, void *ud)
{
  struct vms_ud *v = ud;

  if (v->n >= v->max)
    return 1;
  if (get_in(o, end, "moref", v->morefs[v->n], 64) != 0)
    return 1;
  if (v->names && get_in(o, end, "name", v->names[v->n], 128) != 0)
    v->names[v->n][0] = '\0';
  v->n++;
  return 0;
}

int fvx_sim_vms(const struct fvx_sim *sim, char morefs[][64],
                char names[][128], size_t max)
{
  char *body = NULL;
  struct vms_ud v = {morefs, names, max, 0};

  if (fvx_sim_admin(sim, "GET", "/vms", NULL, &body) != 200) {
    free(body);
    return -1;
  }
  each_object(body, one_vm, &v);
  free(body);
  return (int)v.n;
}

struct dis_ud {
  const char *entity, *method, *source;
  int count;
};

static int one_disabled(const char *o, const char *end, void *ud)
{
  struct dis_ud *d = ud;
  char v[1024];

  if (d->entity && (get_in(o, end, "entity", v, sizeof v) != 0 ||
                    strcmp(v, d->entity) != 0))
    return 0;
  if (d->method && (get_in(o, end, "method", v, sizeof v) != 0 ||
                    strcmp(v, d->method) != 0))
    return 0;
  if (d->source && (get_in(o, end, "source", v, sizeof v) != 0 ||
                    strcmp(v, d->source) != 0))
    return 0;
  d->count++;
  return 0;
}

int fvx_sim_count_disabled(const struct fvx_sim *sim, const char *entity,
                           const char *method, const char *source)
{
  char *body = NULL;
  struct dis_ud d = {entity, method, source, 0};

  if (fvx_sim_admin(sim, "GET", "/disabled", NULL, &body) != 200) {
    free(body);
    return -1;
  }
  if (each_object(body, one_disabled, &d) < 0)
    d.count = -1;
  free(body);
  return d.count;
}

long fvx_sim_stat(const struct fvx_sim *sim, const char *key)
{
  char *body = NULL, v[64];
  long r = -1;

  if (fvx_sim_admin(sim, "GET", "/stats", NULL, &body) == 200 &&
      fvx_sim_json_get(body, key, v, sizeof v) == 0)
    r = atol(v);
  free(body);
  return r;
}
