/*
 * batch.h -- disable or enable methods on many VMs, a batch per round trip,
 * all or nothing.
 *
 * batch_disable() either leaves every VM disabled under the identity, or
 * gives back what this call took and says which VM failed and why.  It
 * never re-enables a method that the identity already held before the call
 * (see batch.c for how it knows).  Whether vCenter's DisableMethods is
 * atomic for many entities is not documented: it is the one assumption
 * 'assume_atomic' (see docs/cli.md, "Assumptions"); rollback is correct
 * either way, the assumption only saves a round trip on failure.
 */
#ifndef FVX_ACCESS_BATCH_H
#define FVX_ACCESS_BATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "access/access.h"
#include "access/wait.h"

#define BATCH_MAX_METHODS 4
#define BATCH_DEFAULT_SIZE 500
#define BATCH_MAX_SIZE 5000

enum batch_vm_state {
  BATCH_VM_PENDING = 0, /* not attempted, or given back (another VM failed) */
  BATCH_VM_OK,          /* done */
  BATCH_VM_HELD,        /* another source holds it: see holder */
  BATCH_VM_NOT_FOUND,   /* no such VM on the server */
  BATCH_VM_FAILED,      /* its batch failed otherwise: see the result */
};

/* One VM of a call.  The caller fills vm and zeroes the rest. */
struct batch_vm {
  struct vim_moref vm;
  enum batch_vm_state state;
  unsigned taken;   /* bit i: methods[i] disabled by this call */
  unsigned held;    /* bit i: methods[i] already held before the call */
  char holder[256]; /* BATCH_VM_HELD: the holder's sourceId */
};

struct batch_params {
  const char *identity;          /* the sourceId */
  const char *const *methods;    /* 1..BATCH_MAX_METHODS wire names */
  size_t n_methods;
  const char *reason;            /* reasonId */
  bool session_scope;            /* DisableMethods(sessionScope=true) */
  size_t batch_size;             /* VMs per round trip; 0: default */
  bool assume_atomic;            /* a failed DisableMethods changed nothing */
  long wait_ms;                  /* how long to wait for held VMs; 0: no */
  wait_progress_fn *progress;    /* may be NULL */
  void *opaque;
};

/* Disables p->methods on every VM of v (n entries).  Returns ACCESS_OK with
 * every state BATCH_VM_OK, or the failure in res with *failed = the index
 * of the VM at fault ((size_t)-1 when the server did not say which), that
 * VM's state HELD / NOT_FOUND / FAILED and every VM this call took given
 * back (state PENDING, taken 0).  If giving back itself fails, the VMs
 * still taken keep state OK and their taken bits, and the failure is
 * logged: the caller must record them. */
int batch_disable(struct vim_session *s, struct batch_vm *v, size_t n,
                  const struct batch_params *p, size_t *failed,
                  struct access_result *res);

/* Enables p->methods for p->identity on every VM of v.  Unknown VMs get
 * NOT_FOUND and do not stop the others; returns ACCESS_OK when every VM
 * is OK, else the first failure in res (the others are still attempted). */
int batch_enable(struct vim_session *s, struct batch_vm *v, size_t n,
                 const struct batch_params *p, struct access_result *res);

#endif
