/*
 * sigv4.h - AWS Signature Version 4: query-string presigning, for RDS IAM
 * tokens, and header signing, for the calls to AWS APIs (STS AssumeRole).
 *
 * Pure functions: the clock and the credentials are passed in, nothing is read
 * from the environment or the network. HMAC and SHA-256 come from OpenSSL.
 * libcurl's CURLOPT_AWS_SIGV4 signs headers only, hence this module.
 */
#ifndef DBM_SIGV4_H
#define DBM_SIGV4_H

#include <stddef.h>
#include <time.h>

/*
 * The RDS auth token: a presigned GET https://HOST:PORT/?Action=connect&DBUser=USER
 * for service rds-db in `region`, X-Amz-Expires=900, the session token (may be
 * NULL) included in the signed query, returned without the "https://" prefix.
 * *out (caller frees with dbm_secret_free) is the password to give libpq.
 */
int dbm_sigv4_rds_token(char **out, const char *host, int port, const char *user,
                        const char *region, const char *access_key_id,
                        const char *secret_access_key, const char *session_token, time_t now);

/* RFC 3986 percent-encoding as SigV4 wants it (unreserved kept). Caller frees. */
char *dbm_sigv4_uri_encode(const char *s);

/* A request to sign with headers. Every string is borrowed. */
typedef struct {
    const char *method;       /* "POST" */
    const char *host;         /* the Host header: lowercase, the port only when not the default */
    const char *path;         /* "/", already URI-encoded */
    const char *content_type; /* the Content-Type header sent */
    const char *body;         /* may be NULL: empty */
    size_t body_len;
    const char *region, *service;
    const char *access_key_id, *secret_access_key;
    const char *session_token; /* NULL for long-term keys; sent as X-Amz-Security-Token */
    const char *target;        /* the X-Amz-Target header of a JSON API call; NULL: none */
    time_t now;
} dbm_sigv4_request;

/*
 * Sign `r` (no query string) with the headers content-type, host, x-amz-date
 * and, with a session token, x-amz-security-token, and with a target,
 * x-amz-target. Writes the X-Amz-Date value
 * to amz_date and the Authorization header's value to *authorization (caller
 * frees). DBM_ECONFIG without credentials.
 */
int dbm_sigv4_sign_headers(char **authorization, char amz_date[17], const dbm_sigv4_request *r);

#endif
