/*
 * simproc.h -- starting and stopping freevix-sim from the freevix command
 * (for `freevix demo`).
 */
#ifndef FREEVIX_CLI_SIMPROC_H
#define FREEVIX_CLI_SIMPROC_H

#include <sys/types.h>

struct simproc {
  pid_t pid;
  char host[64];
  unsigned port;
  char thumbprint_sha1[128];
  char admin[256];
};

/* Runs `path --mode MODE ARGS... --parent-pid <us>` and waits (at most 60 s)
 * for its JSON start-up line.  Returns 0, or -1 with a message on stderr. */
int simproc_start(struct simproc *sim, const char *path, const char *mode,
                  const char *const *args);

/* SIGTERM, then waits for it (SIGKILL after 5 s).  Safe on a zeroed struct. */
void simproc_stop(struct simproc *sim);

#endif
