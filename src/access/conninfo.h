/*
 * conninfo.h -- what the access layer needs to reach one vCenter as one
 * user, independent of VixDiskLib's struct (the api layer fills it).
 */
#ifndef FVX_ACCESS_CONNINFO_H
#define FVX_ACCESS_CONNINFO_H

enum access_cred { ACCESS_CRED_PASSWORD, ACCESS_CRED_COOKIE };

/* All strings are borrowed from the caller for the duration of one call. */
struct access_conninfo {
  const char *server;     /* host name or address; "http://" prefix allowed
                             only with allow_http */
  unsigned port;          /* 0: the default, see access_port() */
  const char *thumbprint; /* SHA-1 or SHA-256 colon hex; NULL: CA check */
  enum access_cred cred;
  const char *user;       /* both credential kinds (may be NULL for cookie) */
  const char *password;   /* ACCESS_CRED_PASSWORD */
  const char *cookie;     /* ACCESS_CRED_COOKIE: vmware_soap_session value */
  const char *vmx_spec;   /* the VM; NULL when the call needs none */
};

/* The port ci reaches: ci->port when set, else 80 for an "http://" server
 * and 443 otherwise.  The one place that default lives: sessions, pool
 * keys and journal grants all use it, and the vim layer is always given
 * the port explicitly.  Can't fail. */
unsigned access_port(const struct access_conninfo *ci);

#endif
