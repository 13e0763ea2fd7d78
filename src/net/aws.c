#include "net/aws.h"
#include "net/aws_internal.h"
#include "common/error.h"
#include "net/http.h"
#include "common/log.h"
#include "net/sigv4.h"
#include "common/util.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_SESSION_NAME "db-migrate"
#define DEFAULT_AUDIENCE     "sts.amazonaws.com"
#define HTTP_TIMEOUT_MS      10000L
#define HTTP_RETRIES         3
#define ECS_HOST             "http://169.254.170.2"

void dbm_aws_credentials_free(dbm_aws_credentials *c)
{
    if (!c)
        return;
    dbm_secret_free(c->access_key_id);
    dbm_secret_free(c->secret_access_key);
    dbm_secret_free(c->session_token);
    free(c->source);
    free(c->region);
    free(c);
}

/* Takes ownership of the three strings; masks them. */
dbm_aws_credentials *dbm_aws_credentials_new(char *akid, char *secret, char *token,
                                             const char *source)
{
    dbm_aws_credentials *c = dbm_xcalloc(1, sizeof(*c));

    c->access_key_id = akid;
    c->secret_access_key = secret;
    c->session_token = token && *token ? token : NULL;
    if (token && !*token)
        free(token);
    c->source = dbm_xstrdup(source);
    dbm_mask(c->access_key_id);
    dbm_mask(c->secret_access_key);
    dbm_mask(c->session_token);
    return c;
}

/* Trailing whitespace (a newline at the end of a token file) removed in place. */
static void trim_right(char *s)
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
}

static int read_token_file(char **out, const char *path, const char *variable)
{
    char *data = NULL;
    size_t len = 0;
    int rc;

    *out = NULL;
    rc = dbm_read_file(&data, &len, path);
    if (rc < 0) {
        rc = dbm_error_set(DBM_ECONFIG, "unable to read the token file '%s' named by %s", path,
                           variable);
        dbm_error_hint("check that %s points to a readable file", variable);
        return rc;
    }
    trim_right(data);
    if (!*data) {
        free(data);
        rc = dbm_error_set(DBM_ECONFIG, "the token file '%s' named by %s is empty", path, variable);
        return rc;
    }
    dbm_mask(data);
    *out = data;
    return 0;
}

/* A string member of a JSON object, or NULL. */
static const char *json_str(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---- GET a JSON document ---- */

/*
 * GET `url` with `headers` and parse the 200 answer as JSON into *root (the
 * caller's, json_decref). Any other status is DBM_ECONNECT with `what`
 * followed by " HTTP 403" and `hint`; a body that
 * is not JSON gives *root NULL, for the caller's "unexpected answer" error.
 */
static int get_json(json_t **root, const char *url, const char *const *headers, const char *what,
                    const char *hint)
{
    dbm_http_response *resp = NULL;
    int rc;

    *root = NULL;
    rc = dbm_http_send(&resp, &(dbm_http_request){.method = "GET",
                                                  .url = url,
                                                  .headers = headers,
                                                  .timeout_ms = HTTP_TIMEOUT_MS,
                                                  .retries = HTTP_RETRIES});
    if (rc == 0 && resp->status != 200) {
        rc = dbm_error_set(DBM_ECONNECT, "%s HTTP %ld", what, resp->status);
        dbm_error_hint("%s", hint);
    } else if (rc == 0) {
        *root = json_loadb(resp->body, resp->body_len, 0, NULL);
    }
    dbm_http_response_free(resp);
    return rc;
}

/* ---- GitHub Actions OIDC ---- */

/*
 * The job's OIDC token for `audience`: GET $ACTIONS_ID_TOKEN_REQUEST_URL with
 * &audience=, bearer $ACTIONS_ID_TOKEN_REQUEST_TOKEN, answer {"value": JWT}.
 * The runner sets both variables only for jobs with `id-token: write`.
 */
static int github_oidc_token(char **out, const char *audience)
{
    const char *req_url = dbm_getenv("ACTIONS_ID_TOKEN_REQUEST_URL");
    const char *req_token = dbm_getenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN");
    const char *headers[] = {NULL, "Accept: application/json", NULL};
    char *enc = NULL, *url = NULL, *auth = NULL;
    json_t *root = NULL;
    const char *value;
    int rc = 0;

    *out = NULL;
    if (!req_url || !req_token) {
        rc = dbm_error_set(DBM_ECONFIG,
                           "role-to-assume is set but the job has no GitHub OIDC token (%s is "
                           "not set)",
                           !req_url ? "ACTIONS_ID_TOKEN_REQUEST_URL"
                                    : "ACTIONS_ID_TOKEN_REQUEST_TOKEN");
        dbm_error_hint("add `permissions: id-token: write` to the job (or the workflow)");
        goto done;
    }
    dbm_mask(req_token);
    enc = dbm_sigv4_uri_encode(audience);
    url = dbm_xasprintf("%s%caudience=%s", req_url, strchr(req_url, '?') ? '&' : '?', enc);
    auth = dbm_xasprintf("Authorization: bearer %s", req_token);
    headers[0] = auth;
    rc = get_json(&root, url, headers, "unable to get the GitHub OIDC token:",
                  "check that the job has `permissions: id-token: write`");
    if (rc < 0)
        goto done;
    value = json_str(root, "value");
    if (!value || !*value) {
        rc = dbm_error_set(DBM_ECONNECT,
                           "unexpected answer from the GitHub OIDC token endpoint: no 'value'");
        goto done;
    }
    *out = dbm_xstrdup(value);
    dbm_mask(*out);

done:
    json_decref(root);
    dbm_secret_free(auth);
    free(url);
    free(enc);
    return rc;
}

static int from_oidc_role(dbm_aws_credentials **out, const dbm_aws_options *opts)
{
    const char *audience = opts->audience && *opts->audience ? opts->audience : DEFAULT_AUDIENCE;
    const char *session = opts->role_session_name && *opts->role_session_name
                              ? opts->role_session_name
                              : DEFAULT_SESSION_NAME;
    char *jwt = NULL;
    int rc;

    rc = github_oidc_token(&jwt, audience);
    if (rc == 0)
        rc = dbm_aws_sts_assume(out, &(dbm_sts_call){.region = opts->region,
                                                     .role_arn = opts->role_to_assume,
                                                     .session_name = session,
                                                     .web_token = jwt,
                                                     .audience = audience,
                                                     .source = "oidc-role"});
    dbm_secret_free(jwt);
    return rc;
}

/* ---- environment, web identity file ---- */

static int from_environment(dbm_aws_credentials **out)
{
    const char *akid = dbm_getenv("AWS_ACCESS_KEY_ID");
    const char *secret = dbm_getenv("AWS_SECRET_ACCESS_KEY");

    *out = NULL;
    if (!akid && !secret)
        return 0;
    if (!akid || !secret) {
        int rc = dbm_error_set(DBM_ECONFIG, "%s is set but %s is not",
                               akid ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                               akid ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
        dbm_error_hint("set both, or neither to use another source of credentials");
        return rc;
    }
    *out = dbm_aws_credentials_new(dbm_xstrdup(akid), dbm_xstrdup(secret),
                                   dbm_xstrdup(dbm_getenv("AWS_SESSION_TOKEN")), "environment");
    return 0;
}

static int from_web_identity_file(dbm_aws_credentials **out, const dbm_aws_options *opts)
{
    const char *path = dbm_getenv("AWS_WEB_IDENTITY_TOKEN_FILE");
    const char *role = dbm_getenv("AWS_ROLE_ARN");
    const char *session = dbm_getenv("AWS_ROLE_SESSION_NAME");
    char *jwt = NULL;
    int rc;

    *out = NULL;
    if (!path && !role)
        return 0;
    if (!path || !role) {
        rc = dbm_error_set(DBM_ECONFIG, "%s is set but %s is not",
                           path ? "AWS_WEB_IDENTITY_TOKEN_FILE" : "AWS_ROLE_ARN",
                           path ? "AWS_ROLE_ARN" : "AWS_WEB_IDENTITY_TOKEN_FILE");
        dbm_error_hint("set both to assume a role with a web identity token file");
        return rc;
    }
    if (!session)
        session = opts->role_session_name && *opts->role_session_name ? opts->role_session_name
                                                                      : DEFAULT_SESSION_NAME;
    rc = read_token_file(&jwt, path, "AWS_WEB_IDENTITY_TOKEN_FILE");
    if (rc == 0)
        rc = dbm_aws_sts_assume(out, &(dbm_sts_call){.region = opts->region,
                                                     .role_arn = role,
                                                     .session_name = session,
                                                     .web_token = jwt,
                                                     .source = "web-identity-file"});
    dbm_secret_free(jwt);
    return rc;
}

/* ---- ECS (and EKS Pod Identity) container credentials ---- */

int dbm_aws_full_uri_allowed(const char *uri)
{
    static const char *const hosts[] = {"localhost",      "[::1]",          "169.254.170.2",
                                        "169.254.170.23", "[fd00:ec2::23]", NULL};
    const char *h, *end;
    size_t n;

    if (dbm_starts_with(uri, "https://"))
        return 1;
    if (!dbm_starts_with(uri, "http://"))
        return 0;
    h = uri + strlen("http://");
    if (*h == '[')
        end = strchr(h, ']') ? strchr(h, ']') + 1 : h + strlen(h);
    else
        end = h + strcspn(h, ":/?#");
    n = (size_t)(end - h);
    for (int i = 0; hosts[i]; i++)
        if (strlen(hosts[i]) == n && strncmp(h, hosts[i], n) == 0)
            return 1;
    if (n > 4 && strncmp(h, "127.", 4) == 0 && strspn(h, "0123456789.") == n)
        return 1;
    return 0;
}

static int from_container(dbm_aws_credentials **out)
{
    const char *rel = dbm_getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = dbm_getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    const char *token_file = dbm_getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *headers[] = {"Accept: application/json", NULL, NULL};
    char *url = NULL, *token = NULL, *auth = NULL;
    json_t *root = NULL;
    const char *akid, *secret, *session;
    int rc = 0;

    *out = NULL;
    if (!rel && !full)
        return 0;
    if (rel) {
        url = dbm_xasprintf(ECS_HOST "%s%s", rel[0] == '/' ? "" : "/", rel);
    } else if (!dbm_aws_full_uri_allowed(full)) {
        rc = dbm_error_set(DBM_ECONFIG,
                           "AWS_CONTAINER_CREDENTIALS_FULL_URI must use https or a loopback "
                           "address");
        dbm_error_hint("point it at the container credentials agent (169.254.170.2 or "
                       "169.254.170.23) or a local endpoint");
        goto done;
    } else {
        url = dbm_xstrdup(full);
    }
    if (token_file) {
        rc = read_token_file(&token, token_file, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
        if (rc < 0)
            goto done;
    } else if (dbm_getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN")) {
        token = dbm_xstrdup(dbm_getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN"));
        dbm_mask(token);
    }
    if (token) {
        auth = dbm_xasprintf("Authorization: %s", token);
        headers[1] = auth;
    }
    rc = get_json(&root, url, headers, "the container credentials endpoint answered",
                  "check the task role (taskRoleArn) of the ECS task definition");
    if (rc < 0)
        goto done;
    akid = json_str(root, "AccessKeyId");
    secret = json_str(root, "SecretAccessKey");
    session = json_str(root, "Token");
    if (!akid || !*akid || !secret || !*secret) {
        rc = dbm_error_set(DBM_ECONNECT,
                           "unexpected answer from the container credentials endpoint: no "
                           "credentials in it");
        goto done;
    }
    *out = dbm_aws_credentials_new(dbm_xstrdup(akid), dbm_xstrdup(secret), dbm_xstrdup(session),
                                   "ecs");

done:
    json_decref(root);
    dbm_secret_free(auth);
    dbm_secret_free(token);
    free(url);
    return rc;
}

/* The chain after role-to-assume, in the AWS SDKs' order; *out NULL when none gave credentials. */
static int from_chain(dbm_aws_credentials **out, const dbm_aws_options *opts)
{
    const char *session = opts->role_session_name && *opts->role_session_name
                              ? opts->role_session_name
                              : DEFAULT_SESSION_NAME;
    int rc;

    if ((rc = from_environment(out)) < 0 || *out)
        return rc;
    if ((rc = from_web_identity_file(out, opts)) < 0 || *out)
        return rc;
    if ((rc = dbm_aws_profile_credentials(out, opts->region, session)) < 0 || *out)
        return rc;
    return from_container(out);
}

int dbm_aws_credentials_resolve(dbm_aws_credentials **out, const dbm_aws_options *opts)
{
    dbm_aws_options o = *opts;
    char *profile_region = NULL;
    int rc = 0;

    *out = NULL;
    if (!o.region || !*o.region) {
        if ((rc = dbm_aws_profile_region(&profile_region)) < 0)
            return rc;
        o.region = profile_region;
    }
    if (!o.region || !*o.region) {
        rc = dbm_error_set(DBM_ECONFIG, "aws-iam authentication needs an aws region");
        dbm_error_hint("set the aws-region input (or AWS_REGION, or region in the aws profile)");
        goto done;
    }
    if (o.role_to_assume && *o.role_to_assume)
        rc = from_oidc_role(out, &o);
    else
        rc = from_chain(out, &o);
    if (rc == 0 && !*out) {
        rc = dbm_error_set(DBM_ECONFIG, "no aws credentials found for aws-iam authentication");
        dbm_error_hint("set role-to-assume (the job needs `permissions: id-token: write`), or "
                       "export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (a "
                       "profile of ~/.aws/config), or run with an ECS task role");
    }
    if (*out)
        (*out)->region = dbm_xstrdup(o.region);
done:
    free(profile_region);
    return rc;
}

int dbm_aws_rds_password(char **out, const dbm_aws_options *opts, const char *host, int port,
                         const char *user)
{
    dbm_aws_credentials *c = NULL;
    int rc;

    *out = NULL;
    rc = dbm_aws_credentials_resolve(&c, opts);
    if (rc < 0)
        return rc;
    rc = dbm_sigv4_rds_token(out, host, port, user, c->region, c->access_key_id,
                             c->secret_access_key, c->session_token, time(NULL));
    if (rc == 0)
        dbm_mask(*out);
    dbm_aws_credentials_free(c);
    return rc;
}
