/*
 * remote_bench.h -- what the remote-disk benches (remote_https.c,
 * remote_nfc.c) share: the simulator with one big snapshot disk, the
 * freevix reader run as a child process per measurement, the peers run
 * the same way, the simulator's counters and CPU around each run, and the
 * median/spread of several rounds.
 *
 * Why child processes: each measurement's client CPU and peak RSS come
 * from wait4() of a process that did only that (the freevix reader, curl
 * or govmomi), never from the bench's own accumulated figures; the
 * simulator is another process whose CPU is read from /proc around the
 * run.  Children inherit the fixture through RB_* environment variables;
 * RB_CHILD_WRAP ("perf stat -e ... --") runs the freevix reader under a
 * profiler.  The simulator runs with Go's collector held back (GOGC=off,
 * GOMEMLIMIT=1GiB) unless GOGC is set: rb_setup says why.
 */
#ifndef FVX_BENCH_REMOTE_H
#define FVX_BENCH_REMOTE_H

#include <stddef.h>
#include <stdint.h>

#include "sim.h"

#define RB_KEY 2000 /* the disk's device key */

/* The simulator and the disk every run reads: the snapshot's disk of the
 * simulator's VM, its content written to about `fraction` allocated. */
struct rb_fixture {
  struct fvx_sim sim;
  char vm[64];             /* moref value, "vm-42" */
  char snapshot[80];       /* "snapshot-7" (a vim_moref value) */
  char disk_file[1024];    /* the snapshot's disk "[ds] dir/x.vmdk" */
  char flat_rel[1024];     /* its flat extent, "dir/x-flat.vmdk" */
  char ds[256];            /* datastore name */
  char dc[512];            /* datacenter inventory path */
  char host_name[256];     /* the VM's host ("DC0_H0") */
  char host_moref[80];
  int host_port;           /* that host's HTTPS listener on 127.0.0.1 */
  char sha256[65];         /* the simulator's hash of the disk */
  uint64_t capacity;       /* bytes */
  uint64_t allocated;      /* bytes allocated in the snapshot's disk */
};

/* Starts the simulator (its path from FREEVIX_SIM) with a 2 GiB disk and
 * the extra args, writes guest data into holes until `fraction` of the disk
 * is allocated, takes a snapshot, and learns everything above; exports
 * the RB_* variables the children read.  Exits the program on failure. */
void rb_setup(struct rb_fixture *fx, double fraction,
              const char *const *extra_args);
void rb_teardown(struct rb_fixture *fx);

/* The simulator's counters over one run (deltas: /stats is reset before). */
struct rb_counts {
  long folder_requests;   /* /folder HTTP requests, every listener */
  long tls_handshakes;    /* SDK listener */
  long host_tls_handshakes;
  long tickets;           /* AcquireGenericServiceTicket calls */
  long soap_calls;        /* every SOAP call */
  long nfc_connections;
  long nfc_io;            /* NFC IO requests */
  long long folder_bytes; /* /folder body bytes */
  long long nfc_bytes;    /* NFC disk bytes read */
};

/* One measurement. */
struct rb_result {
  int ok;
  uint64_t bytes;     /* moved by the transfer */
  uint64_t ops;       /* reads made (random reads) */
  double wall_ms;     /* the transfer alone */
  double cpu_ms;      /* the client process, start to exit (wait4) */
  long maxrss_kib;    /* the client process's peak RSS (wait4) */
  double sim_cpu_ms;  /* the simulator's CPU during the run */
  struct rb_counts c;
  char sha256[65];    /* verify runs: what the client read */
};

/* What the freevix child reads (remote_child.c). */
struct rb_read {
  const char *mode;   /* "https", "nbdssl", "nbd" */
  const char *route;  /* freevix.httpsRoute: "host", "vcenter" (https) */
  int random;         /* 0: the whole disk in 1 MiB reads; 1: 64 KiB at
                         uniformly random sectors for `seconds` */
  int depth;          /* 1: VixDiskLib_Read; >1: ReadAsync with this many
                         requests in flight */
  int in_flight;      /* freevix.nfcRequestsInFlight (NFC), 0: default */
  double seconds;     /* random reads */
  int verify;         /* hash what is read (not for timed runs) */
};

/* Runs the freevix child for r.  *out filled; exits on a broken child. */
void rb_run_freevix(const struct rb_fixture *fx, const struct rb_read *r,
                    struct rb_result *out);

/* The child's entry: called by main() when argv[1] is "--child". */
int rb_child_main(int argc, char **argv);

/* Runs argv (argv[0] a path) with stdin_text on its stdin (may be NULL),
 * its stdout into out (size n, NUL-terminated), around the simulator's
 * counters; res gets the wall time of the whole process, its CPU and peak
 * RSS.  Returns the exit status (-1 when it could not run). */
int rb_run_process(const struct rb_fixture *fx, char *const *argv,
                   const char *stdin_text, char *out, size_t n,
                   struct rb_result *res);

/* The simulator's own reader over the snapshot's disk (GET
 * /disk/readrate): bytes per second, 0 on failure. */
double rb_sim_read_rate(const struct rb_fixture *fx);

/* The simulator's NFC responder read by its own reference client over
 * loopback (GET /nfc/readrate: nbdssl when ssl, else nbd; 1 MiB reads, one
 * in flight): bytes per second, 0 on failure. */
double rb_sim_nfc_rate(const struct rb_fixture *fx, int ssl);

/* The session cookie of a fresh login ("vmware_soap_session=...") and a
 * generic service ticket cookie ("vmware_cgi_ticket=...") for url and
 * GET, for the peers.  Secrets: the caller wipes them. */
void rb_session_cookie(const struct rb_fixture *fx, char *out, size_t n);
void rb_ticket_cookie(const struct rb_fixture *fx, const char *url,
                      char *out, size_t n);

/* ---- figures over rounds ------------------------------------------------ */

#define RB_ROUNDS_MAX 16

/* A bench's command line: "[ROUNDS [RANDOM_SECONDS [ONLY]]]" (3, 3, all;
 * ONLY: just the measurements whose name contains it). */
struct rb_args {
  int rounds;
  double rand_secs;
  const char *only;
};

/* The start of a bench's main(): runs the child and exits when argv[1] is
 * "--child"; parses the rest into *a; FREEVIX_SIM defaults to the built-in
 * simulator.  Returns 0, or 2 after printing the usage of `name`. */
int rb_main_args(int argc, char **argv, const char *name, struct rb_args *a);

/* One measurement of a bench, the same in every round. */
struct rb_measure {
  const char *name;
  struct rb_read read; /* freevix's read; mode NULL: a peer's measurement */
  const void *peer;    /* the bench's description of that peer */
};

/* One row of a table: the same measurement in every round. */
struct rb_row {
  const char *name;
  int n;
  struct rb_result r[RB_ROUNDS_MAX];
};

/* How a bench runs a peer's measurement (curl, govmomi): 0 with *res
 * filled, -1 when it could not (printed; the round has no figure). */
typedef int rb_peer_fn(const struct rb_fixture *fx, const void *peer,
                       struct rb_result *res);

/* The ceilings of a run, medians over the rounds (MB/s). */
struct rb_ceilings {
  double page_cache; /* the simulator's own reader, no socket */
  double nbdssl;     /* its NFC reference client over nbdssl (nfc_refs) */
  double nbd;        /* the same over nbd (nfc_refs) */
};

/* The body of a bench: first every sequential freevix read of m[] once,
 * untimed, hashing what it reads (the bench exits unless it is the
 * simulator's SHA-256); then a->rounds rounds, each starting with the
 * ceilings (printed with the machine's load: the simulator's own reader,
 * and with nfc_refs its NFC reference client over nbdssl and nbd) and
 * running every measurement once in m[]'s order, a peer's through peer();
 * only names containing a->only.  rows[i] gets m[i]'s results, *out the
 * ceilings' medians (printed). */
void rb_measure_all(const struct rb_fixture *fx, const struct rb_args *a,
                    const struct rb_measure *m, size_t n, rb_peer_fn *peer,
                    int nfc_refs, struct rb_row *rows,
                    struct rb_ceilings *out);

/* Median, minimum and maximum of n values. */
void rb_stats(const double *v, int n, double *median, double *min,
              double *max);

/* Prints a row: MB/s (median, min-max), client CPU s per GiB, peak RSS
 * MiB, simulator CPU s per GiB, HTTP requests, handshakes and tickets
 * (or NFC requests) per GiB; for random rows reads/s instead of MB/s.
 * ref_mbs > 0 adds the ratio of the medians. */
void rb_print_row(const struct rb_row *row, int random, double ref_mbs);
double rb_median_mbs(const struct rb_row *row);

/* "date, cores, load average" and a newline, for the header and each round. */
void rb_print_machine(void);

#endif
