/*
 * opts.c -- the freevix command's options, shared by every subcommand.
 *
 * One table lists every long option; each subcommand names the subset it
 * accepts, so `freevix end --wait 5s` is refused instead of ignored.  The
 * password never comes from the command line (it would show in ps): only
 * from --password-file or the FREEVIX_PASSWORD environment variable.
 */
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "vmfile.h"

enum {
  OPT_SERVER = 256, OPT_PORT, OPT_USER, OPT_PASSWORD_FILE, OPT_THUMBPRINT,
  OPT_VM, OPT_VM_FILE, OPT_IDENTITY, OPT_WAIT, OPT_TTL, OPT_LEASE,
  OPT_DATASTORE, OPT_SIM, OPT_INSECURE, OPT_JSON, OPT_HELP, OPT_REASON,
  OPT_STATE_DIR, OPT_METHOD, OPT_BATCH_SIZE, OPT_KEEPALIVE, OPT_DRY_RUN,
  OPT_TO, OPT_INCREMENTAL, OPT_QUIESCE, OPT_JOBS, OPT_ENABLE_CBT, OPT_FORMAT,
  OPT_TRANSPORT, OPT_SKIP_INDEPENDENT, OPT_POINT, OPT_DEEP, OPT_DISK,
  OPT_NO_VERIFY, OPT_KEEP, OPT_FULL_EVERY,
};

static const struct option long_options[] = {
  {"server", required_argument, NULL, OPT_SERVER},
  {"port", required_argument, NULL, OPT_PORT},
  {"user", required_argument, NULL, OPT_USER},
  {"password-file", required_argument, NULL, OPT_PASSWORD_FILE},
  {"thumbprint", required_argument, NULL, OPT_THUMBPRINT},
  {"vm", required_argument, NULL, OPT_VM},
  {"vm-file", required_argument, NULL, OPT_VM_FILE},
  {"identity", required_argument, NULL, OPT_IDENTITY},
  {"wait", required_argument, NULL, OPT_WAIT},
  {"ttl", required_argument, NULL, OPT_TTL},
  {"lease", required_argument, NULL, OPT_LEASE},
  {"datastore", required_argument, NULL, OPT_DATASTORE},
  {"sim", required_argument, NULL, OPT_SIM},
  {"insecure", no_argument, NULL, OPT_INSECURE},
  {"json", no_argument, NULL, OPT_JSON},
  {"help", no_argument, NULL, OPT_HELP},
  {"reason", required_argument, NULL, OPT_REASON},
  {"state-dir", required_argument, NULL, OPT_STATE_DIR},
  {"method", required_argument, NULL, OPT_METHOD},
  {"batch-size", required_argument, NULL, OPT_BATCH_SIZE},
  {"keepalive", required_argument, NULL, OPT_KEEPALIVE},
  {"dry-run", no_argument, NULL, OPT_DRY_RUN},
  {"to", required_argument, NULL, OPT_TO},
  {"incremental", no_argument, NULL, OPT_INCREMENTAL},
  {"quiesce", no_argument, NULL, OPT_QUIESCE},
  {"jobs", required_argument, NULL, OPT_JOBS},
  {"enable-cbt", no_argument, NULL, OPT_ENABLE_CBT},
  {"format", required_argument, NULL, OPT_FORMAT},
  {"transport", required_argument, NULL, OPT_TRANSPORT},
  {"skip-independent", no_argument, NULL, OPT_SKIP_INDEPENDENT},
  {"point", required_argument, NULL, OPT_POINT},
  {"deep", no_argument, NULL, OPT_DEEP},
  {"disk", required_argument, NULL, OPT_DISK},
  {"no-verify", no_argument, NULL, OPT_NO_VERIFY},
  {"keep", required_argument, NULL, OPT_KEEP},
  {"full-every", required_argument, NULL, OPT_FULL_EVERY},
  {NULL, 0, NULL, 0},
};

int cli_begin(int argc, char **argv, const char *cmd, const char *allowed,
              cli_help_fn *help, struct cli_opts *o)
{
  if (!cli_parse(argc, argv, cmd, allowed, o)) {
    cli_opts_free(o);
    return EXIT_USAGE;
  }
  if (o->help) {
    help(cmd);
    cli_opts_free(o);
    return EXIT_OK;
  }
  return -1;
}

bool cli_option_takes_value(const char *arg)
{
  if (strncmp(arg, "--", 2) != 0 || strchr(arg, '='))
    return false;
  for (size_t i = 0; long_options[i].name; i++)
    if (strcmp(arg + 2, long_options[i].name) == 0)
      return long_options[i].has_arg == required_argument;
  return false;
}

/* True when name is in the comma-separated list. */
static bool allowed_here(const char *allowed, const char *name)
{
  size_t n = strlen(name);

  for (const char *p = allowed; *p;) {
    size_t len = strcspn(p, ",");

    if (len == n && strncmp(p, name, n) == 0)
      return true;
    p += len;
    if (*p == ',')
      p++;
  }
  return strcmp(name, "help") == 0;
}

bool cli_parse_duration(const char *s, long *out_ms)
{
  char *end;
  double v;
  double scale = 1000.0;

  errno = 0;
  v = strtod(s, &end);
  if (end == s || errno || v < 0)
    return false;
  if (strcmp(end, "ms") == 0)
    scale = 1.0;
  else if (strcmp(end, "s") == 0 || *end == '\0')
    scale = 1000.0;
  else if (strcmp(end, "m") == 0)
    scale = 60000.0;
  else if (strcmp(end, "h") == 0)
    scale = 3600000.0;
  else
    return false;
  if (v * scale > 30.0 * 24 * 3600 * 1000) /* a month is plenty */
    return false;
  *out_ms = (long)(v * scale);
  return true;
}

static bool add_vm(struct cli_opts *o, const char *vm)
{
  const char **v;

  if (o->n_vms >= CLI_MAX_VMS) {
    fprintf(stderr, "freevix: more than %d VMs\n", CLI_MAX_VMS);
    return false;
  }
  v = realloc(o->vms, (o->n_vms + 1) * sizeof *v);
  if (!v)
    return false;
  o->vms = v;
  o->vms[o->n_vms] = strdup(vm);
  if (!o->vms[o->n_vms])
    return false;
  o->n_vms++;
  return true;
}

static bool add_entry(void *opaque, const char *entry)
{
  return add_vm(opaque, entry);
}

/* Reads VM specs from a file (vmfile.h); '-' is stdin. */
static bool read_vm_file(struct cli_opts *o, const char *path)
{
  FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
  bool ok;

  if (!f) {
    fprintf(stderr, "freevix: cannot open --vm-file %s: %s\n", path,
            strerror(errno));
    return false;
  }
  ok = vmfile_read(f, path, add_entry, o, stderr);
  if (f != stdin)
    fclose(f);
  return ok;
}

static char *read_password_file(const char *path)
{
  FILE *f = fopen(path, "r");
  char buf[4097];
  size_t n;
  char *pw;

  if (!f) {
    fprintf(stderr, "freevix: cannot open --password-file %s: %s\n", path,
            strerror(errno));
    return NULL;
  }
  n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = '\0';
  /* The first line is the password. */
  buf[strcspn(buf, "\r\n")] = '\0';
  pw = strdup(buf);
  explicit_bzero(buf, sizeof buf);
  return pw;
}

/* A whole number in [lo, hi] from optarg, or false with a message. */
static bool number_arg(const char *cmd, const char *name, long lo, long hi,
                       long *out)
{
  char *end;
  long v;

  errno = 0;
  v = strtol(optarg, &end, 10);
  if (errno || end == optarg || *end || v < lo || v > hi) {
    fprintf(stderr, "freevix %s: --%s must be %ld-%ld\n", cmd, name, lo, hi);
    return false;
  }
  *out = v;
  return true;
}

/* The options of backup, verify, restore and list. */
static bool parse_backup_option(int c, const char *cmd, struct cli_opts *o)
{
  long v;

  switch (c) {
  case OPT_TO:
    o->to = optarg;
    return true;
  case OPT_INCREMENTAL:
    o->incremental = true;
    return true;
  case OPT_QUIESCE:
    o->quiesce = true;
    return true;
  case OPT_ENABLE_CBT:
    o->enable_cbt = true;
    return true;
  case OPT_SKIP_INDEPENDENT:
    o->skip_independent = true;
    return true;
  case OPT_DEEP:
    o->deep = true;
    return true;
  case OPT_NO_VERIFY:
    o->no_verify = true;
    return true;
  case OPT_FORMAT:
    o->format = optarg;
    return true;
  case OPT_TRANSPORT:
    o->transport = optarg;
    return true;
  case OPT_JOBS:
    if (!number_arg(cmd, "jobs", 1, 64, &v))
      return false;
    o->jobs = (unsigned)v;
    return true;
  case OPT_POINT:
    if (!number_arg(cmd, "point", 1, 999999999, &v))
      return false;
    o->point = (unsigned)v;
    return true;
  case OPT_KEEP:
    if (!number_arg(cmd, "keep", 1, 999999999, &v))
      return false;
    o->keep = (unsigned)v;
    return true;
  case OPT_FULL_EVERY:
    if (!number_arg(cmd, "full-every", 1, 999999999, &v))
      return false;
    o->full_every = (unsigned)v;
    return true;
  case OPT_DISK:
    if (!number_arg(cmd, "disk", 0, INT32_MAX, &v))
      return false;
    o->disk = v;
    o->disk_given = true;
    return true;
  default:
    return false;
  }
}

bool cli_parse(int argc, char **argv, const char *cmd, const char *allowed,
               struct cli_opts *o)
{
  const char *env_pw = getenv("FREEVIX_PASSWORD");
  int c;

  memset(o, 0, sizeof *o);
  optind = 1;
  opterr = 0;
  while ((c = getopt_long(argc, argv, "+", long_options, NULL)) != -1) {
    const char *name = NULL;

    if (c == '?') {
      fprintf(stderr, "freevix %s: unknown option %s (see freevix %s --help)\n",
              cmd, argv[optind - 1], cmd);
      return false;
    }
    for (const struct option *lo = long_options; lo->name; lo++)
      if (lo->val == c)
        name = lo->name;
    if (!name || !allowed_here(allowed, name)) {
      fprintf(stderr, "freevix %s: option --%s does not apply here\n", cmd,
              name ? name : "?");
      return false;
    }
    switch (c) {
    case OPT_SERVER:
      o->server = optarg;
      break;
    case OPT_PORT: {
      char *end;
      long v = strtol(optarg, &end, 10);

      if (*end || v <= 0 || v > 65535) {
        fprintf(stderr, "freevix %s: --port must be 1-65535\n", cmd);
        return false;
      }
      o->port = (unsigned)v;
      break;
    }
    case OPT_USER:
      o->user = optarg;
      break;
    case OPT_PASSWORD_FILE:
      free(o->password);
      o->password = read_password_file(optarg);
      if (!o->password)
        return false;
      break;
    case OPT_THUMBPRINT:
      o->thumbprint = optarg;
      break;
    case OPT_VM:
      if (!add_vm(o, optarg))
        return false;
      break;
    case OPT_VM_FILE:
      if (!read_vm_file(o, optarg))
        return false;
      break;
    case OPT_IDENTITY:
      o->identity = optarg;
      break;
    case OPT_WAIT:
    case OPT_TTL:
    case OPT_KEEPALIVE:
      if (!cli_parse_duration(optarg, c == OPT_WAIT  ? &o->wait_ms
                                      : c == OPT_TTL ? &o->ttl_ms
                                                     : &o->keepalive_ms)) {
        fprintf(stderr, "freevix %s: --%s takes a duration such as 30s, "
                "500ms, 10m\n", cmd, name);
        return false;
      }
      break;
    case OPT_LEASE:
      if (strcmp(optarg, "session") && strcmp(optarg, "journal") &&
          strcmp(optarg, "none")) {
        fprintf(stderr, "freevix %s: --lease is session, journal or none\n",
                cmd);
        return false;
      }
      o->lease = optarg;
      break;
    case OPT_REASON:
      o->reason = optarg;
      break;
    case OPT_STATE_DIR:
      o->state_dir = optarg;
      break;
    case OPT_METHOD:
      if (strcmp(optarg, "relocate") == 0 ||
          strcmp(optarg, "RelocateVM_Task") == 0) {
        o->methods |= FREEVIX_METHOD_RELOCATE;
      } else if (strcmp(optarg, "migrate") == 0 ||
                 strcmp(optarg, "MigrateVM_Task") == 0) {
        o->methods |= FREEVIX_METHOD_MIGRATE;
      } else {
        fprintf(stderr, "freevix %s: --method is relocate (RelocateVM_Task) "
                "or migrate (MigrateVM_Task)\n", cmd);
        return false;
      }
      break;
    case OPT_BATCH_SIZE: {
      char *end;
      long v = strtol(optarg, &end, 10);

      if (*end || v <= 0 || v > 5000) {
        fprintf(stderr, "freevix %s: --batch-size must be 1-5000\n", cmd);
        return false;
      }
      o->batch_size = (unsigned)v;
      break;
    }
    case OPT_DRY_RUN:
      o->dry_run = true;
      break;
    case OPT_DATASTORE:
      o->datastore = optarg;
      break;
    case OPT_SIM:
      o->sim = optarg;
      break;
    case OPT_INSECURE:
      o->insecure = true;
      break;
    case OPT_JSON:
      o->json = true;
      break;
    case OPT_HELP:
      o->help = true;
      break;
    default:
      if (!parse_backup_option(c, cmd, o))
        return false;
      break;
    }
  }
  o->rest = optind;
  if (!o->password && env_pw)
    o->password = strdup(env_pw);
  return true;
}

void cli_opts_free(struct cli_opts *o)
{
  for (size_t i = 0; i < o->n_vms; i++)
    free((char *)o->vms[i]);
  free(o->vms);
  free(o->specs);
  freevix_free(o->matches);
  if (o->password) {
    explicit_bzero(o->password, strlen(o->password));
    free(o->password);
  }
  memset(o, 0, sizeof *o);
}

void cli_params(const struct cli_opts *o, size_t i, VixDiskLibConnectParams *p)
{
  memset(p, 0, sizeof *p);
  p->serverName = (char *)o->server;
  p->port = o->port;
  p->thumbPrint = (char *)o->thumbprint;
  p->credType = VIXDISKLIB_CRED_UID;
  p->creds.uid.userName = (char *)o->user;
  p->creds.uid.password = o->password;
  if (i != (size_t)-1 && i < o->n_vms && o->specs)
    p->vmxSpec = (char *)o->specs[i];
}
