/*
 * simproc.c -- runs freevix-sim as a child process, see simproc.h.
 *
 * The simulator prints one JSON line when it is ready; we read it through a
 * pipe with a deadline and pick the few fields we need with a small
 * extractor (the line is produced by our own simulator, and every field is
 * bounded-copied).  --parent-pid makes the simulator exit if we die.
 */
#include "simproc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define START_TIMEOUT_MS 60000

/* Copies the value of "key": "..." or "key": 123 from the JSON line. */
static int json_field(const char *line, const char *key, char *out, size_t n)
{
  char pat[64];
  const char *p;
  size_t len;

  snprintf(pat, sizeof pat, "\"%s\":", key);
  p = strstr(line, pat);
  if (!p)
    return -1;
  p += strlen(pat);
  if (*p == '"') {
    p++;
    len = strcspn(p, "\"");
  } else {
    len = strcspn(p, ",}");
  }
  if (len >= n)
    return -1;
  memcpy(out, p, len);
  out[len] = '\0';
  return 0;
}

static long now_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

int simproc_start(struct simproc *sim, const char *path, const char *mode,
                  const char *const *args)
{
  char line[4096], port[16], parent[32];
  const char *argv[32];
  size_t argc = 0, used = 0;
  long deadline;
  int fds[2];

  memset(sim, 0, sizeof *sim);
  if (pipe(fds) < 0)
    return -1;
  snprintf(parent, sizeof parent, "%ld", (long)getpid());
  argv[argc++] = path;
  argv[argc++] = "--mode";
  argv[argc++] = mode;
  argv[argc++] = "--parent-pid";
  argv[argc++] = parent;
  for (; args && *args && argc < 30; args++)
    argv[argc++] = *args;
  argv[argc] = NULL;

  sim->pid = fork();
  if (sim->pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return -1;
  }
  if (sim->pid == 0) {
    const char *debug = getenv("FREEVIX_DEBUG");

    dup2(fds[1], STDOUT_FILENO);
    /* The simulator's own log only when debugging: the demo narrates. */
    if (!debug || !*debug || strcmp(debug, "0") == 0) {
      int devnull = open("/dev/null", O_WRONLY);

      if (devnull >= 0)
        dup2(devnull, STDERR_FILENO);
    }
    close(fds[0]);
    close(fds[1]);
    execvp(path, (char *const *)argv); /* a bare name is looked up in PATH */
    fprintf(stderr, "freevix: cannot run %s: %s\n", path, strerror(errno));
    _exit(127);
  }
  close(fds[1]);

  deadline = now_ms() + START_TIMEOUT_MS;
  while (!memchr(line, '\n', used)) {
    struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
    long left = deadline - now_ms();
    ssize_t r;

    if (left <= 0 || used + 1 >= sizeof line ||
        poll(&pfd, 1, (int)left) <= 0) {
      fprintf(stderr, "freevix: %s did not start\n", path);
      goto fail;
    }
    r = read(fds[0], line + used, sizeof line - used - 1);
    if (r <= 0) {
      fprintf(stderr, "freevix: %s exited before it was ready\n", path);
      goto fail;
    }
    used += (size_t)r;
  }
  line[used] = '\0';
  close(fds[0]);
  if (json_field(line, "host", sim->host, sizeof sim->host) ||
      json_field(line, "port", port, sizeof port) ||
      json_field(line, "thumbprint_sha1", sim->thumbprint_sha1,
                 sizeof sim->thumbprint_sha1) ||
      json_field(line, "admin", sim->admin, sizeof sim->admin)) {
    fprintf(stderr, "freevix: unexpected start-up line from %s\n", path);
    simproc_stop(sim);
    return -1;
  }
  sim->port = (unsigned)atoi(port);
  return 0;

fail:
  close(fds[0]);
  simproc_stop(sim);
  return -1;
}

void simproc_stop(struct simproc *sim)
{
  if (sim->pid <= 0)
    return;
  kill(sim->pid, SIGTERM);
  for (int i = 0; i < 50; i++) {
    if (waitpid(sim->pid, NULL, WNOHANG) == sim->pid) {
      sim->pid = 0;
      return;
    }
    usleep(100000);
  }
  kill(sim->pid, SIGKILL);
  waitpid(sim->pid, NULL, 0);
  sim->pid = 0;
}
