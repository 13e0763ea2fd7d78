#include "net/aws.h"
#include "common/error.h"
#include "net/http.h"
#include "common/log.h"
#include "net/sigv4.h"
#include "common/util.h"

#include <jansson.h>
#include <expat.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_SESSION_NAME "db-migrate"
#define DEFAULT_AUDIENCE     "sts.amazonaws.com"
#define STS_DURATION         "900"
#define HTTP_TIMEOUT_MS      10000L
#define HTTP_RETRIES         3
#define ECS_HOST             "http://169.254.170.2"
#define MESSAGE_MAX          400

void dbm_aws_credentials_free(dbm_aws_credentials *c)
{
    if (!c)
        return;
    dbm_secret_free(c->access_key_id);
    dbm_secret_free(c->secret_access_key);
    dbm_secret_free(c->session_token);
    free(c->source);
    free(c);
}

/* Takes ownership of the three strings; masks them. */
static dbm_aws_credentials *credentials_new(char *akid, char *secret, char *token,
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

/*
 * Text from a server, fit for a one-line message: control characters
 * replaced, bounded, and any occurrence of `secret` (the token we sent, which
 * an error message could echo) replaced by "***".
 */
static char *server_text(const char *text, const char *secret)
{
    char *printable = dbm_printable(text ? text : "");
    dbm_buf b = DBM_BUF_INIT;
    size_t slen = secret ? strlen(secret) : 0;

    for (const char *p = printable; *p && b.len < MESSAGE_MAX;) {
        if (slen >= 4 && strncmp(p, secret, slen) == 0) {
            dbm_buf_puts(&b, "***");
            p += slen;
        } else {
            dbm_buf_putc(&b, *p++);
        }
    }
    if (printable[0] && b.len >= MESSAGE_MAX)
        dbm_buf_puts(&b, "...");
    free(printable);
    return dbm_buf_detach(&b);
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

/* ---- STS ---- */

/*
 * STS answers XML. It is read with expat, a real XML parser (entities,
 * CDATA, character references and namespaces are its business), into the
 * text of each element keyed by its path of local names, e.g.
 * "ErrorResponse/Error/Code". Only the first element at a path is kept.
 */
typedef struct {
    char *path;
    dbm_buf text;
    bool done;
} xml_entry;

typedef struct {
    xml_entry *items;
    size_t count, cap;
    dbm_buf path; /* the open elements, '/'-separated */
} xml_doc;

static const char *local_name(const char *name)
{
    const char *colon = strrchr(name, ':');
    return colon ? colon + 1 : name;
}

static void xml_start(void *ud, const XML_Char *name, const XML_Char **attrs)
{
    xml_doc *d = ud;
    xml_entry *e;

    (void)attrs;
    if (d->path.len)
        dbm_buf_putc(&d->path, '/');
    dbm_buf_puts(&d->path, local_name(name));
    for (size_t i = 0; i < d->count; i++)
        if (strcmp(d->items[i].path, d->path.ptr) == 0)
            return;
    dbm_array_grow((void **)&d->items, &d->cap, d->count + 1, sizeof(*d->items));
    e = &d->items[d->count++];
    e->path = dbm_xstrdup(d->path.ptr);
}

static void xml_end(void *ud, const XML_Char *name)
{
    xml_doc *d = ud;
    char *slash;

    (void)name;
    for (size_t i = 0; i < d->count; i++)
        if (strcmp(d->items[i].path, d->path.ptr) == 0)
            d->items[i].done = true;
    slash = strrchr(d->path.ptr, '/');
    dbm_buf_truncate(&d->path, slash ? (size_t)(slash - d->path.ptr) : 0);
}

static void xml_chars(void *ud, const XML_Char *s, int len)
{
    xml_doc *d = ud;

    /* Text belongs to every open element whose entry is not finished. */
    for (size_t i = 0; i < d->count; i++) {
        size_t n = strlen(d->items[i].path);
        if (!d->items[i].done && strncmp(d->items[i].path, d->path.ptr, n) == 0 &&
            (d->path.ptr[n] == '\0' || d->path.ptr[n] == '/'))
            dbm_buf_put(&d->items[i].text, s, (size_t)len);
    }
}

static void xml_free(xml_doc *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->count; i++) {
        free(d->items[i].path);
        dbm_buf_wipe(&d->items[i].text);
    }
    free(d->items);
    dbm_buf_free(&d->path);
    free(d);
}

/* The text of the element at root/path[0]/path[1]/..., or NULL. Caller frees. */
static char *xml_text(xml_doc *doc, const char *root, const char *const *path)
{
    dbm_buf want = DBM_BUF_INIT;
    char *res = NULL;

    dbm_buf_puts(&want, root);
    for (; *path; path++)
        dbm_buf_printf(&want, "/%s", *path);
    for (size_t i = 0; i < doc->count; i++)
        if (doc->items[i].done && strcmp(doc->items[i].path, want.ptr) == 0)
            res = dbm_xstrdup(dbm_buf_cstr(&doc->items[i].text));
    dbm_buf_free(&want);
    return res;
}

static xml_doc *xml_parse(const dbm_http_response *resp)
{
    XML_Parser p;
    xml_doc *d;

    if (!resp->body_len || resp->body_len > (size_t)1 << 24)
        return NULL;
    if (!(p = XML_ParserCreate("UTF-8")))
        return NULL;
    d = dbm_xcalloc(1, sizeof(*d));
    dbm_buf_puts(&d->path, "");
    XML_SetUserData(p, d);
    XML_SetElementHandler(p, xml_start, xml_end);
    XML_SetCharacterDataHandler(p, xml_chars);
    if (XML_Parse(p, resp->body, (int)resp->body_len, 1) == XML_STATUS_ERROR) {
        xml_free(d);
        d = NULL;
    }
    XML_ParserFree(p);
    return d;
}

/* The STS endpoint: AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL, else the regional one. */
static char *sts_endpoint(const char *region)
{
    const char *v = dbm_getenv("AWS_ENDPOINT_URL_STS");

    if (!v)
        v = dbm_getenv("AWS_ENDPOINT_URL");
    if (v)
        return dbm_xstrdup(v);
    return dbm_xasprintf("https://sts.%s.amazonaws.com%s/", region,
                         dbm_starts_with(region, "cn-") ? ".cn" : "");
}

static void form_add(dbm_buf *b, const char *key, const char *value)
{
    char *enc = dbm_sigv4_uri_encode(value);
    dbm_buf_printf(b, "%s%s=%s", b->len ? "&" : "", key, enc);
    explicit_bzero(enc, strlen(enc));
    free(enc);
}

/* What to tell the user when STS refuses, by error code and by where the token came from. */
static void sts_hint(const char *code, const char *audience, int from_github)
{
    if (strcmp(code, "AccessDenied") == 0 && from_github)
        dbm_error_hint("the role's trust policy must allow sts:AssumeRoleWithWebIdentity for "
                       "the provider token.actions.githubusercontent.com, audience '%s' and this "
                       "repository's sub claim (repo:OWNER/REPO:...)",
                       audience);
    else if (strcmp(code, "AccessDenied") == 0)
        dbm_error_hint("the role's trust policy must allow sts:AssumeRoleWithWebIdentity for "
                       "the identity provider that issued the token");
    else if (strcmp(code, "InvalidIdentityToken") == 0 && from_github)
        dbm_error_hint("IAM needs an OpenID Connect provider for "
                       "https://token.actions.githubusercontent.com with the audience '%s'",
                       audience);
    else if (strcmp(code, "InvalidIdentityToken") == 0)
        dbm_error_hint("IAM needs an OpenID Connect provider for the token's issuer");
    else if (strcmp(code, "ExpiredTokenException") == 0)
        dbm_error_hint("the web identity token expired before it was used: run again");
    else if (strcmp(code, "ValidationError") == 0)
        dbm_error_hint("check role-to-assume (an IAM role ARN) and role-session-name");
    else
        dbm_error_hint("see the AWS STS documentation for '%s'", code);
}

/* The form of an AssumeRoleWithWebIdentity call. It holds the token: the caller wipes it. */
static void sts_form(dbm_buf *form, const char *role_arn, const char *session_name,
                     const char *web_token)
{
    form_add(form, "Action", "AssumeRoleWithWebIdentity");
    form_add(form, "Version", "2011-06-15");
    form_add(form, "RoleArn", role_arn);
    form_add(form, "RoleSessionName", session_name);
    form_add(form, "WebIdentityToken", web_token);
    form_add(form, "DurationSeconds", STS_DURATION);
}

/*
 * The error for an answer other than 200 (doc: its parsed body, or NULL):
 * STS's own code and message when it sent them, redacted of the token.
 */
static int sts_refused(const dbm_http_response *resp, xml_doc *doc, const char *role_arn,
                       const char *web_token, const char *audience, int from_github)
{
    static const char *const code_path[] = {"Error", "Code", NULL};
    static const char *const message_path[] = {"Error", "Message", NULL};
    char *code = doc ? xml_text(doc, "ErrorResponse", code_path) : NULL;
    char *message = doc ? xml_text(doc, "ErrorResponse", message_path) : NULL;
    int rc;

    if (code) {
        char *c = server_text(code, web_token), *m = server_text(message, web_token);
        if (resp->status >= 500) {
            rc =
                dbm_error_set(DBM_ECONNECT, "aws sts failed to assume role '%s' (HTTP %ld): %s: %s",
                              role_arn, resp->status, c, m);
            dbm_error_hint("retry later; STS answered with a server error");
        } else {
            rc = dbm_error_set(DBM_ECONNECT, "aws sts refused to assume role '%s': %s: %s",
                               role_arn, c, m);
            sts_hint(code, audience, from_github);
        }
        free(c);
        free(m);
    } else {
        rc = dbm_error_set(DBM_ECONNECT, "aws sts answered HTTP %ld to assume role '%s'",
                           resp->status, role_arn);
        dbm_error_hint("retry later; if it persists, check AWS_ENDPOINT_URL_STS and the "
                       "AWS health dashboard");
    }
    free(code);
    free(message);
    return rc;
}

/* The credentials in a successful answer (doc may be NULL: it did not parse). */
static int sts_credentials(dbm_aws_credentials **out, xml_doc *doc, const char *role_arn,
                           const char *source)
{
#define CREDS "AssumeRoleWithWebIdentityResult", "Credentials"
    static const char *const akid_path[] = {CREDS, "AccessKeyId", NULL};
    static const char *const secret_path[] = {CREDS, "SecretAccessKey", NULL};
    static const char *const token_path[] = {CREDS, "SessionToken", NULL};
#undef CREDS
    char *akid = NULL, *secret = NULL, *token = NULL;

    if (doc) {
        akid = xml_text(doc, "AssumeRoleWithWebIdentityResponse", akid_path);
        secret = xml_text(doc, "AssumeRoleWithWebIdentityResponse", secret_path);
        token = xml_text(doc, "AssumeRoleWithWebIdentityResponse", token_path);
    }
    if (!akid || !*akid || !secret || !*secret || !token || !*token) {
        dbm_secret_free(akid);
        dbm_secret_free(secret);
        dbm_secret_free(token);
        dbm_error_set(DBM_ECONNECT,
                      "unexpected answer from aws sts for role '%s': no credentials in it",
                      role_arn);
        dbm_error_hint("check AWS_ENDPOINT_URL_STS (or AWS_ENDPOINT_URL) if it is set");
        return DBM_ECONNECT;
    }
    *out = credentials_new(akid, secret, token, source);
    return 0;
}

/*
 * AssumeRoleWithWebIdentity needs no signature: the web identity token is the
 * proof. It is sent in a POST body rather than the URL, where proxies could log
 * it.
 */
static int sts_assume_role(dbm_aws_credentials **out, const char *region, const char *role_arn,
                           const char *session_name, const char *web_token, const char *audience,
                           const char *source)
{
    static const char *const headers[] = {
        "Content-Type: application/x-www-form-urlencoded; charset=utf-8",
        "Accept: text/xml",
        NULL,
    };
    dbm_buf form = DBM_BUF_INIT;
    dbm_http_response *resp = NULL;
    xml_doc *doc = NULL;
    char *url = sts_endpoint(region);
    int rc;

    *out = NULL;
    sts_form(&form, role_arn, session_name, web_token);
    rc = dbm_http_send(&resp, &(dbm_http_request){.method = "POST",
                                                  .url = url,
                                                  .headers = headers,
                                                  .body = form.ptr,
                                                  .body_len = form.len,
                                                  .timeout_ms = HTTP_TIMEOUT_MS,
                                                  .retries = HTTP_RETRIES});
    if (rc < 0) {
        dbm_error_hint("AWS STS could not be reached to assume '%s'; check the network, or "
                       "AWS_ENDPOINT_URL_STS if it is set",
                       role_arn);
        goto done;
    }
    doc = xml_parse(resp);
    if (resp->status != 200)
        rc =
            sts_refused(resp, doc, role_arn, web_token, audience, strcmp(source, "oidc-role") == 0);
    else
        rc = sts_credentials(out, doc, role_arn, source);
done:
    xml_free(doc);
    dbm_http_response_free(resp);
    dbm_buf_wipe(&form);
    free(url);
    return rc;
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
        rc = sts_assume_role(out, opts->region, opts->role_to_assume, session, jwt, audience,
                             "oidc-role");
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
    *out = credentials_new(dbm_xstrdup(akid), dbm_xstrdup(secret),
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
        rc = sts_assume_role(out, opts->region, role, session, jwt, NULL, "web-identity-file");
    dbm_secret_free(jwt);
    return rc;
}

/* ---- ECS (and EKS Pod Identity) container credentials ---- */

/*
 * A full URI may name only a loopback address, the container agents' link-local
 * addresses, or an https server: the authorization token and the answer are
 * credentials. The same rule as the AWS SDKs'.
 */
static int full_uri_allowed(const char *uri)
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
    } else if (!full_uri_allowed(full)) {
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
    *out = credentials_new(dbm_xstrdup(akid), dbm_xstrdup(secret), dbm_xstrdup(session), "ecs");

done:
    json_decref(root);
    dbm_secret_free(auth);
    dbm_secret_free(token);
    free(url);
    return rc;
}

int dbm_aws_credentials_resolve(dbm_aws_credentials **out, const dbm_aws_options *opts)
{
    int rc = 0;

    *out = NULL;
    if (!opts->region || !*opts->region) {
        rc = dbm_error_set(DBM_ECONFIG, "aws-iam authentication needs an aws region");
        dbm_error_hint("set the aws-region input (or AWS_REGION)");
        return rc;
    }
    if (opts->role_to_assume && *opts->role_to_assume)
        return from_oidc_role(out, opts);
    if ((rc = from_environment(out)) < 0 || *out)
        return rc;
    if ((rc = from_web_identity_file(out, opts)) < 0 || *out)
        return rc;
    if ((rc = from_container(out)) < 0 || *out)
        return rc;
    rc = dbm_error_set(DBM_ECONFIG, "no aws credentials found for aws-iam authentication");
    dbm_error_hint("set role-to-assume (the job needs `permissions: id-token: write`), or export "
                   "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (as "
                   "aws-actions/configure-aws-credentials does), or run with an ECS task role");
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
    rc = dbm_sigv4_rds_token(out, host, port, user, opts->region, c->access_key_id,
                             c->secret_access_key, c->session_token, time(NULL));
    if (rc == 0)
        dbm_mask(*out);
    dbm_aws_credentials_free(c);
    return rc;
}
