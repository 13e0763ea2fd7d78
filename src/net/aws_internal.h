/*
 * aws_internal.h - what aws.c, sts.c, aws_profile.c and credential_process.c share; not for
 * callers outside src/net.
 */
#ifndef DBM_AWS_INTERNAL_H
#define DBM_AWS_INTERNAL_H

#include "net/aws.h"

#include <stddef.h>
#include <time.h>

/* Takes ownership of the three strings (token may be NULL or ""); masks them. */
dbm_aws_credentials *dbm_aws_credentials_new(char *akid, char *secret, char *token,
                                             const char *source);

/* A call to STS. Every string is borrowed. */
typedef struct {
    const char *region;
    const char *role_arn;
    const char *session_name;
    const char *web_token;             /* set: AssumeRoleWithWebIdentity, unsigned */
    const char *audience;              /* the token's audience, for hints; may be NULL */
    const dbm_aws_credentials *signer; /* without web_token: AssumeRole signed with these */
    const char *external_id;           /* AssumeRole's ExternalId; may be NULL */
    const char *source;                /* the credentials' source, e.g. "profile:dev" */
    time_t now;                        /* signing time; 0: the clock */
} dbm_sts_call;

/*
 * Assume call->role_arn for 900 s at STS (AWS_ENDPOINT_URL_STS, else
 * AWS_ENDPOINT_URL, else the regional endpoint). DBM_ECONNECT when STS
 * cannot be reached or refuses (its code and message, redacted of any
 * secret, with a hint by code).
 */
int dbm_aws_sts_assume(dbm_aws_credentials **out, const dbm_sts_call *call);

/*
 * The Host header libcurl sends for `url` (lowercase, without a default port)
 * and its path ("/" when it has none), both for a signature. Caller frees both.
 */
void dbm_aws_url_host_path(char **host, char **path, const char *url);

/*
 * The headers a SigV4 signature adds, into out[0..2]: X-Amz-Date, Authorization
 * and, with a session token, X-Amz-Security-Token (else out[2] is left alone).
 * The caller frees them (they hold secrets: dbm_secret_free).
 */
void dbm_aws_auth_headers(char *out[3], const char *amz_date, const char *auth,
                          const char *session_token);

/* ---- shared config and credentials files (aws_profile.c) ---- */

/*
 * One key = value of an INI file, in the section it is under; or, with key
 * and value NULL, a section header. The strings are borrowed for the call.
 */
typedef int (*dbm_ini_fn)(void *ud, const char *section, const char *key, const char *value,
                          int line);

/*
 * Parse `text` (len bytes, need not be NUL-terminated) as the AWS CLI reads
 * its INI files: `[section]` headers (inner spaces trimmed), `key = value` or
 * `key: value` lines, `#` and `;` comment lines, blank lines, and a value
 * continued on the following indented lines (a nested `s3 =` block gives one
 * value: its lines joined with '\n'). Calls fn for each header and key in
 * order; a
 * non-zero return stops the parse and is returned. A line that is none of
 * these is DBM_ECONFIG naming `path` and the line number. Pure: no I/O.
 */
int dbm_ini_parse(const char *text, size_t len, const char *path, dbm_ini_fn fn, void *ud);

/*
 * Credentials from the shared files for AWS_PROFILE (else "default"):
 * static keys, role_arn with source_profile (AssumeRole), or
 * credential_process. *out is NULL when the profile is not there or holds no
 * credentials, unless AWS_PROFILE was set (DBM_ECONFIG naming the profile and
 * the files). `region` is what AssumeRole is signed for; `session_name` the
 * default role session name.
 */
int dbm_aws_profile_credentials(dbm_aws_credentials **out, const char *region,
                                const char *session_name);

/*
 * The credentials in the output of a credential_process (`len` bytes of
 * JSON): Version 1, AccessKeyId, SecretAccessKey, optional SessionToken and
 * Expiration (ISO 8601 UTC, not past). DBM_ECONFIG naming the profile and
 * what is wrong with the output, which is never quoted (it holds secrets).
 */
int dbm_aws_process_credentials(dbm_aws_credentials **out, const char *text, size_t len,
                                const char *profile_name);

/* ---- URLs (aws.c, sts.c) ---- */

/*
 * Whether AWS_CONTAINER_CREDENTIALS_FULL_URI may be called: https, or http to
 * a loopback address or the container agents' link-local addresses (the
 * authorization token and the answer are credentials; the AWS SDKs' rule).
 */
int dbm_aws_full_uri_allowed(const char *uri);

/* The region of the profile (config file), or NULL. Caller frees. */
int dbm_aws_profile_region(char **out);

/* ---- credential_process (credential_process.c) ---- */

/*
 * Run the credential_process `command` of the profile `profile_name` and read
 * the credentials it prints (their source "profile:NAME"). DBM_ECONFIG when it
 * cannot run, exits non-zero (with the first line of its stderr), prints no
 * valid credentials or expired ones; no message holds its stdout. Its stdout
 * past 64 KiB and stderr past 4 KiB are read and dropped.
 */
int dbm_aws_credential_process(dbm_aws_credentials **out, const char *command,
                               const char *profile_name);

#endif
