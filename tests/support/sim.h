/*
 * sim.h -- starting the simulator (sim/, freevix-sim) from C tests, and a
 * small client for its admin endpoint.
 *
 * Every test that needs a vCenter uses these: fvx_sim_start() runs
 * $FREEVIX_SIM on loopback ports, reads its one JSON start-up line and fills
 * struct fvx_sim; fvx_sim_stop() ends it.  A simulator still running when
 * the test process exits (a failed assertion, an early return) is killed by
 * an atexit handler, and the simulator itself exits when the test process
 * disappears (--parent-pid), so no test leaves one behind.
 */
#ifndef FVX_TEST_SIM_H
#define FVX_TEST_SIM_H

#include <stddef.h>
#include <sys/types.h>

#include "vixDiskLib.h"

struct fvx_sim {
  pid_t pid;
  char sdk_url[256];
  char host[64];
  int port;
  int tls;
  char admin_url[256];
  char thumbprint_sha1[128];
  char thumbprint_sha256[160];
  char cert_path[4096];
  char mode[16];      /* "vcenter" or "esx" */
  char user[64];      /* privileged user; password "freevix" unless changed */
  char ro_user[64];   /* read-only user */
  int stdout_fd;      /* the simulator's stdout (kept open until stop) */
  /* libcurl CONNECT_TO entries (freevix.connectTo) that send every host's
   * name to its loopback listeners: "H:443:127.0.0.1:P,H:902:127.0.0.1:Q"
   * for each host of the start-up line's "hosts". */
  char connect_to[4096];
};

/* Starts $FREEVIX_SIM with the extra args (NULL-terminated array, may be
 * NULL), reads the JSON line (30 s timeout, longer under valgrind), fills
 * *out.  Returns 0; calls fvx_test_skip() when FREEVIX_SIM is unset or not
 * executable; aborts the test (fail_msg) on other errors. */
int fvx_sim_start(struct fvx_sim *out, const char *const *extra_args);

/* SIGTERM, waitpid, SIGKILL after 10 s.  Safe on a stopped or zeroed sim. */
void fvx_sim_stop(struct fvx_sim *sim);

/* Fills *p (zeroed first) to reach sim as user (NULL: sim->user, the
 * privileged one) with the simulator's password "freevix", pinning its
 * SHA-1 thumbprint; vmx_spec may be NULL.  The strings are borrowed: sim
 * and vmx_spec must outlive p. */
void fvx_sim_params(const struct fvx_sim *sim, VixDiskLibConnectParams *p,
                    const char *user, const char *vmx_spec);

/* Writes "moref=<vm>", the vmxSpec of a simulator VM, into out (size n);
 * fails the test if it does not fit. */
void fvx_sim_spec(char *out, size_t n, const char *vm);

/* HTTP to the admin endpoint with libcurl (never through a proxy).  Returns
 * the HTTP status (-1 on transport failure); the response body goes to *out
 * (malloc'd, caller frees with free()) when out is not NULL.  json_body may
 * be NULL (no body). */
int fvx_sim_admin(const struct fvx_sim *sim, const char *method,
                  const char *path, const char *json_body, char **out);

/* GET /vms: fills up to max morefs ("vm-42") and names; returns the number
 * of VMs filled, -1 on error.  names may be NULL. */
int fvx_sim_vms(const struct fvx_sim *sim, char morefs[][64],
                char names[][128], size_t max);

/* Counts rows of GET /disabled matching entity, method and source (each
 * NULL = any; compared after JSON unescaping, so non-ASCII and escaped
 * characters compare exactly).  -1 on error. */
int fvx_sim_count_disabled(const struct fvx_sim *sim, const char *entity,
                           const char *method, const char *source);

/* Reads the string value of "key" in the first JSON object of json into out
 * (unescaped, UTF-8); returns 0, or -1 when absent.  For numbers and
 * booleans the literal text is returned. */
int fvx_sim_json_get(const char *json, const char *key, char *out, size_t n);

/* An integer field of GET /stats ("requests", "connections",
 * "tls_handshakes"); -1 on error. */
long fvx_sim_stat(const struct fvx_sim *sim, const char *key);

#endif
