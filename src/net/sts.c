/*
 * sts.c - the two STS calls that give temporary credentials:
 * AssumeRoleWithWebIdentity (unsigned: the web identity token is the proof)
 * and AssumeRole (SigV4-signed with the caller's credentials, for profiles
 * with role_arn and source_profile). Both are POSTs with a form body, so that
 * no token travels in a URL where proxies could log it; answers are XML.
 */
#include "net/aws_internal.h"
#include "common/error.h"
#include "net/http.h"
#include "common/log.h"
#include "net/sigv4.h"
#include "common/util.h"

#include <expat.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define STS_DURATION    "900"
#define HTTP_TIMEOUT_MS 10000L
#define HTTP_RETRIES    3
#define MESSAGE_MAX     400
#define FORM_TYPE       "application/x-www-form-urlencoded; charset=utf-8"

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

/* What to tell the user when STS refuses AssumeRoleWithWebIdentity. */
static void web_identity_hint(const char *code, const char *audience, int from_github)
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

/* What to tell the user when STS refuses AssumeRole for a profile. */
static void assume_role_hint(const char *code, const char *source)
{
    if (strcmp(code, "AccessDenied") == 0)
        dbm_error_hint("the role's trust policy must allow sts:AssumeRole for the identity of "
                       "the source profile (%s), and that identity needs sts:AssumeRole on the "
                       "role",
                       source);
    else if (strcmp(code, "InvalidClientTokenId") == 0 ||
             strcmp(code, "SignatureDoesNotMatch") == 0 || strcmp(code, "ExpiredToken") == 0)
        dbm_error_hint("check the keys of the source profile (%s): they are not valid, or "
                       "expired",
                       source);
    else if (strcmp(code, "ValidationError") == 0)
        dbm_error_hint("check role_arn and role_session_name in the profile");
    else
        dbm_error_hint("see the AWS STS documentation for '%s'", code);
}

/* The form of the call. It may hold a token: the caller wipes it. */
static void sts_form(dbm_buf *form, const dbm_sts_call *call)
{
    form_add(form, "Action", call->web_token ? "AssumeRoleWithWebIdentity" : "AssumeRole");
    form_add(form, "Version", "2011-06-15");
    form_add(form, "RoleArn", call->role_arn);
    form_add(form, "RoleSessionName", call->session_name);
    if (call->web_token)
        form_add(form, "WebIdentityToken", call->web_token);
    if (call->external_id)
        form_add(form, "ExternalId", call->external_id);
    form_add(form, "DurationSeconds", STS_DURATION);
}

/* What an STS message could echo and must not be printed. */
static const char *call_secret(const dbm_sts_call *call)
{
    return call->web_token ? call->web_token
                           : (call->signer ? call->signer->secret_access_key : NULL);
}

/*
 * The error for an answer other than 200 (doc: its parsed body, or NULL):
 * STS's own code and message when it sent them, redacted of the token.
 */
static int sts_refused(const dbm_http_response *resp, xml_doc *doc, const dbm_sts_call *call)
{
    static const char *const code_path[] = {"Error", "Code", NULL};
    static const char *const message_path[] = {"Error", "Message", NULL};
    char *code = doc ? xml_text(doc, "ErrorResponse", code_path) : NULL;
    char *message = doc ? xml_text(doc, "ErrorResponse", message_path) : NULL;
    int rc;

    if (code) {
        char *c = server_text(code, call_secret(call)),
             *m = server_text(message, call_secret(call));
        if (resp->status >= 500) {
            rc =
                dbm_error_set(DBM_ECONNECT, "aws sts failed to assume role '%s' (HTTP %ld): %s: %s",
                              call->role_arn, resp->status, c, m);
            dbm_error_hint("retry later; STS answered with a server error");
        } else {
            rc = dbm_error_set(DBM_ECONNECT, "aws sts refused to assume role '%s': %s: %s",
                               call->role_arn, c, m);
            /* The hints quote the code: as cleaned for one line, never as sent. */
            if (call->web_token)
                web_identity_hint(c, call->audience ? call->audience : "sts.amazonaws.com",
                                  strcmp(call->source, "oidc-role") == 0);
            else
                assume_role_hint(c, call->signer->source);
        }
        free(c);
        free(m);
    } else {
        rc = dbm_error_set(DBM_ECONNECT, "aws sts answered HTTP %ld to assume role '%s'",
                           resp->status, call->role_arn);
        dbm_error_hint("retry later; if it persists, check AWS_ENDPOINT_URL_STS and the "
                       "AWS health dashboard");
    }
    free(code);
    free(message);
    return rc;
}

/* The credentials in a successful answer (doc may be NULL: it did not parse). */
static int sts_credentials(dbm_aws_credentials **out, xml_doc *doc, const dbm_sts_call *call)
{
    static const char *const akid_path[] = {"Credentials", "AccessKeyId", NULL};
    static const char *const secret_path[] = {"Credentials", "SecretAccessKey", NULL};
    static const char *const token_path[] = {"Credentials", "SessionToken", NULL};
    const char *action = call->web_token ? "AssumeRoleWithWebIdentity" : "AssumeRole";
    char *root = dbm_xasprintf("%sResponse/%sResult", action, action);
    char *akid = NULL, *secret = NULL, *token = NULL;

    if (doc) {
        akid = xml_text(doc, root, akid_path);
        secret = xml_text(doc, root, secret_path);
        token = xml_text(doc, root, token_path);
    }
    free(root);
    if (!akid || !*akid || !secret || !*secret || !token || !*token) {
        dbm_secret_free(akid);
        dbm_secret_free(secret);
        dbm_secret_free(token);
        dbm_error_set(DBM_ECONNECT,
                      "unexpected answer from aws sts for role '%s': no credentials in it",
                      call->role_arn);
        dbm_error_hint("check AWS_ENDPOINT_URL_STS (or AWS_ENDPOINT_URL) if it is set");
        return DBM_ECONNECT;
    }
    *out = dbm_aws_credentials_new(akid, secret, token, call->source);
    return 0;
}

/*
 * The Host header libcurl sends for `url` (lowercase, without a default port)
 * and the path, both for the signature. Caller frees both.
 */
void dbm_aws_url_host_path(char **host, char **path, const char *url)
{
    const char *h = strstr(url, "://") ? strstr(url, "://") + 3 : url;
    size_t n = strcspn(h, "/?#");
    int https = dbm_starts_with(url, "https://");

    *host = dbm_xstrndup(h, n);
    for (char *p = *host; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    n = strlen(*host);
    if (https && n > 4 && strcmp(*host + n - 4, ":443") == 0)
        (*host)[n - 4] = '\0';
    else if (!https && n > 3 && strcmp(*host + n - 3, ":80") == 0)
        (*host)[n - 3] = '\0';
    h += strcspn(h, "/?#");
    *path = *h == '/' ? dbm_xstrndup(h, strcspn(h, "?#")) : dbm_xstrdup("/");
}

void dbm_aws_auth_headers(char *out[3], const char *amz_date, const char *auth,
                          const char *session_token)
{
    out[0] = dbm_xasprintf("X-Amz-Date: %s", amz_date);
    out[1] = dbm_xasprintf("Authorization: %s", auth);
    if (session_token)
        out[2] = dbm_xasprintf("X-Amz-Security-Token: %s", session_token);
}

/* The SigV4 headers of an AssumeRole call into headers[2..5]; the caller frees them. */
static int sign_call(char *headers[6], const dbm_sts_call *call, const char *url,
                     const dbm_buf *form)
{
    char *host = NULL, *path = NULL, *auth = NULL, amz_date[17];
    const dbm_aws_credentials *c = call->signer;
    int rc;

    dbm_aws_url_host_path(&host, &path, url);
    rc = dbm_sigv4_sign_headers(&auth, amz_date,
                                &(dbm_sigv4_request){.method = "POST",
                                                     .host = host,
                                                     .path = path,
                                                     .content_type = FORM_TYPE,
                                                     .body = form->ptr,
                                                     .body_len = form->len,
                                                     .region = call->region,
                                                     .service = "sts",
                                                     .access_key_id = c->access_key_id,
                                                     .secret_access_key = c->secret_access_key,
                                                     .session_token = c->session_token,
                                                     .now = call->now ? call->now : time(NULL)});
    if (rc == 0)
        dbm_aws_auth_headers(headers + 2, amz_date, auth, c->session_token);
    free(auth);
    free(host);
    free(path);
    return rc;
}

int dbm_aws_sts_assume(dbm_aws_credentials **out, const dbm_sts_call *call)
{
    char *headers[6] = {"Content-Type: " FORM_TYPE, "Accept: text/xml", NULL, NULL, NULL, NULL};
    dbm_http_response *resp = NULL;
    dbm_buf form = DBM_BUF_INIT;
    xml_doc *doc = NULL;
    char *url = sts_endpoint(call->region);
    /* Messages name the role as one line: it comes from a profile file or an input. */
    char *role = dbm_printable(call->role_arn);
    dbm_sts_call shown = *call;
    int rc = 0;

    *out = NULL;
    shown.role_arn = role;
    sts_form(&form, call);
    if (!call->web_token)
        rc = sign_call(headers, call, url, &form);
    if (rc == 0)
        rc = dbm_http_send(&resp, &(dbm_http_request){.method = "POST",
                                                      .url = url,
                                                      .headers = (const char *const *)headers,
                                                      .body = form.ptr,
                                                      .body_len = form.len,
                                                      .timeout_ms = HTTP_TIMEOUT_MS,
                                                      .retries = HTTP_RETRIES});
    if (rc < 0) {
        dbm_error_hint("AWS STS could not be reached to assume '%s'; check the network, or "
                       "AWS_ENDPOINT_URL_STS if it is set",
                       role);
        goto done;
    }
    doc = xml_parse(resp);
    if (resp->status != 200)
        rc = sts_refused(resp, doc, &shown);
    else
        rc = sts_credentials(out, doc, &shown);
done:
    xml_free(doc);
    dbm_http_response_free(resp);
    dbm_buf_wipe(&form);
    for (int i = 2; i < 5; i++)
        dbm_secret_free(headers[i]);
    free(url);
    free(role);
    return rc;
}

const char *dbm_aws_xml_library_version(void)
{
    const XML_LChar *v = XML_ExpatVersion(); /* "expat_2.5.0" */

    return strncmp(v, "expat_", 6) == 0 ? v + 6 : v;
}
