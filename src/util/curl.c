/*
 * curl.c -- the libcurl set-up shared by the SOAP client and the datastore
 * reader (curl.h).
 */
#include "util/curl.h"

#include <pthread.h>
#include <string.h>

#include "util/mem.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc = CURLE_FAILED_INIT;
static bool curl_openssl;

static void global_init(void)
{
  const curl_version_info_data *v;

  curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
  v = curl_version_info(CURLVERSION_NOW);
  curl_openssl = v && v->ssl_version &&
                 strncmp(v->ssl_version, "OpenSSL", 7) == 0;
}

int fvx_curl_init(void)
{
  pthread_once(&curl_once, global_init);
  return curl_init_rc == CURLE_OK ? 0 : -1;
}

bool fvx_curl_is_openssl(void)
{
  return curl_openssl;
}

bool fvx_curl_set_tls(CURL *c, struct fvx_tls *t)
{
  long verify = (t->pin.len || t->insecure) ? 0L : 1L;
  bool ok = true;

  ok &= curl_easy_setopt(c, CURLOPT_SSLVERSION,
                         (long)CURL_SSLVERSION_TLSv1_2) == CURLE_OK;
  ok &= curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, verify) == CURLE_OK;
  ok &= curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST,
                         verify ? 2L : 0L) == CURLE_OK;
  if (curl_openssl) {
    ok &= curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION,
                           fvx_tls_curl_ctx) == CURLE_OK;
    ok &= curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, t) == CURLE_OK;
  }
  return ok;
}

void fvx_curl_free_headers(struct curl_slist *h)
{
  for (struct curl_slist *p = h; p; p = p->next)
    fvx_wipe(p->data, strlen(p->data));
  curl_slist_free_all(h);
}
