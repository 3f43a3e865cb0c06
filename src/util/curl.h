/*
 * curl.h -- what every libcurl user in freevix sets up the same way: the
 * one-time global initialisation, the TLS policy of util/tls.h on an easy
 * handle, and header lists that hold secrets.
 *
 * src/vim (the SOAP session) and src/https (datastore reads) both drive
 * libcurl; this file keeps the parts that must not differ between them in
 * one place: certificate checks go through fvx_tls_curl_ctx, TLS 1.2 is the
 * floor, and a Cookie header is wiped before libcurl frees it.
 */
#ifndef FVX_UTIL_CURL_H
#define FVX_UTIL_CURL_H

#include <stdbool.h>

#include <curl/curl.h>

#include "util/tls.h"

/* curl_global_init, once per process (thread-safe).  Returns 0, or -1 when
 * libcurl could not initialise (nothing else can be done with it then). */
int fvx_curl_init(void);

/* True when libcurl's TLS backend is OpenSSL, the only one the pinning of
 * util/tls.h works with.  Valid after fvx_curl_init. */
bool fvx_curl_is_openssl(void);

/* Sets the TLS options of an https handle from t: TLS 1.2 or later, the
 * library's peer and host checks on in CA mode and off when t pins or is
 * insecure, and (with OpenSSL) CURLOPT_SSL_CTX_FUNCTION fvx_tls_curl_ctx
 * with t as its data, so t must outlive every connection of c.  Returns
 * true, or false when libcurl refused an option (c partly configured). */
bool fvx_curl_set_tls(CURL *c, struct fvx_tls *t);

/* Wipes every string of a header list, then frees it; NULL is a no-op. */
void fvx_curl_free_headers(struct curl_slist *h);

#endif
