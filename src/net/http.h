/*
 * http.h - the only libcurl user: timeouts, retries with backoff, redaction.
 *
 * Requests are retried on connection failures, 429 and 5xx answers, with
 * exponential backoff and jitter. Header values and URLs' query strings are
 * never written to messages (they may carry tokens).
 */
#ifndef DBM_HTTP_H
#define DBM_HTTP_H

#include <stddef.h>

typedef struct {
    const char *method; /* "GET", "POST", "PATCH", ... */
    const char *url;
    const char *const *headers; /* "Name: value" strings, NULL-terminated; may be NULL */
    const char *body;           /* may be NULL */
    size_t body_len;
    long timeout_ms; /* whole request; 0: 30 s; negative: none (a long poll) */
    int retries;     /* extra attempts; 0: none */
} dbm_http_request;

typedef struct {
    long status;
    char *body; /* NUL-terminated */
    size_t body_len;
    char *headers; /* raw response headers of the last attempt, "Name: value\r\n" lines */
} dbm_http_response;

/*
 * Send a request. A response with any status is a success here (callers judge
 * the status); DBM_ECONNECT when no response arrived after the retries, with
 * the host (not the query string) in the message.
 */
int dbm_http_send(dbm_http_response **out, const dbm_http_request *req);

/* A response header's value (case-insensitive name), or NULL. Caller frees. */
char *dbm_http_header(const dbm_http_response *resp, const char *name);

void dbm_http_response_free(dbm_http_response *resp); /* accepts NULL */

/*
 * The loaded libcurl's version as curl_version_info gives it, with its TLS
 * library in parentheses ("7.88.1 (OpenSSL/3.0.17)"), for --version; the
 * caller frees it. NULL when libcurl cannot be loaded, the message recorded.
 */
char *dbm_http_library_version(void);

#endif
