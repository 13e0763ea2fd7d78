/*
 * aws.h - AWS credentials for RDS IAM authentication.
 *
 * Resolution order: role-to-assume with the GitHub Actions OIDC token and STS
 * AssumeRoleWithWebIdentity; AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY/
 * AWS_SESSION_TOKEN; AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN; the shared
 * config and credentials files for AWS_PROFILE (static keys, role_arn with
 * source_profile, credential_process); the ECS task role
 * (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI). STS endpoint: regional,
 * overridden by AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL. Every credential
 * is masked before it can be printed. HTTP goes through http.h.
 */
#ifndef DBM_AWS_H
#define DBM_AWS_H

typedef struct {
    char *access_key_id;
    char *secret_access_key;
    char *session_token; /* NULL for long-term keys */
    char *source; /* "oidc-role", "environment", "web-identity-file", "profile:NAME", "ecs" */
    char *region; /* the region they were resolved for: aws-region, else the profile's */
} dbm_aws_credentials;

typedef struct {
    const char *region; /* NULL: the profile's region, else an error */
    const char *role_to_assume;
    const char *role_session_name; /* default "db-migrate" */
    const char *audience;          /* default "sts.amazonaws.com" */
} dbm_aws_options;

/*
 * Resolve credentials. Errors are DBM_ECONNECT (STS refused: AccessDenied,
 * InvalidIdentityToken, with STS's own message) or DBM_ECONFIG (what is
 * missing: the OIDC variables - the job lacks `permissions: id-token: write` -,
 * a region, any credentials at all), each one line with a hint.
 */
int dbm_aws_credentials_resolve(dbm_aws_credentials **out, const dbm_aws_options *opts);
void dbm_aws_credentials_free(dbm_aws_credentials *c); /* wipes; accepts NULL */

/*
 * The password for an RDS IAM login as `user` on host:port: resolves the
 * credentials as above and presigns a token (sigv4.h) valid 15 minutes from
 * now. The token is masked before it is returned. *out belongs to the caller,
 * who frees it with dbm_secret_free. Errors are those of
 * dbm_aws_credentials_resolve and dbm_sigv4_rds_token.
 */
int dbm_aws_rds_password(char **out, const dbm_aws_options *opts, const char *host, int port,
                         const char *user);

/* The linked expat's version ("2.5.0"; it reads STS answers), for --version. Static. */
const char *dbm_aws_xml_library_version(void);

#endif
