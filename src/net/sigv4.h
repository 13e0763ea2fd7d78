/*
 * sigv4.h - AWS Signature Version 4 query-string presigning, for RDS IAM tokens.
 *
 * Pure functions: the clock and the credentials are passed in, nothing is read
 * from the environment or the network. HMAC and SHA-256 come from OpenSSL.
 * libcurl's CURLOPT_AWS_SIGV4 signs headers only, hence this module.
 */
#ifndef DBM_SIGV4_H
#define DBM_SIGV4_H

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

#endif
