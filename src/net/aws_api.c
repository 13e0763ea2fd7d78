/*
 * aws_api.c - a signed POST to an AWS JSON API, and what a refusal says.
 */
#include "net/aws_api.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "net/aws_internal.h"
#include "net/sigv4.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define JSON_TYPE   "application/x-amz-json-1.1"
#define MESSAGE_MAX 400

const dbm_aws_service dbm_aws_ecs = {"ecs", "AWS_ENDPOINT_URL_ECS",
                                     "AmazonEC2ContainerServiceV20141113"};
const dbm_aws_service dbm_aws_logs = {"logs", "AWS_ENDPOINT_URL_LOGS", "Logs_20140328"};
const dbm_aws_service dbm_aws_lambda = {"lambda", "AWS_ENDPOINT_URL_LAMBDA", NULL};

const char *dbm_aws_json_str(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The service's endpoint without a trailing '/': the override, else the regional one. */
static char *endpoint(const dbm_aws_service *svc, const char *region)
{
    const char *v = dbm_getenv(svc->endpoint_var);
    char *url;
    size_t n;

    if (!v)
        v = dbm_getenv("AWS_ENDPOINT_URL");
    url = v ? dbm_xstrdup(v)
            : dbm_xasprintf("https://%s.%s.amazonaws.com%s", svc->name, region,
                            dbm_starts_with(region, "cn-") ? ".cn" : "");
    n = strlen(url);
    while (n > 0 && url[n - 1] == '/')
        url[--n] = '\0';
    return url;
}

/* Text from the service, fit for one line: printable, bounded. Caller frees. */
static char *server_text(const char *text)
{
    char *p = dbm_printable(text ? text : "");

    if (strlen(p) > MESSAGE_MAX)
        memcpy(p + MESSAGE_MAX - 3, "...", 4);
    return p;
}

/* The word after `marker` in `message` (up to a space or the end), printable, or NULL. Caller
 * frees. */
static char *word_after(const char *message, const char *marker)
{
    const char *p = message ? strstr(message, marker) : NULL;
    char *word, *printable;
    size_t n;

    if (!p)
        return NULL;
    p += strlen(marker);
    n = strcspn(p, " \t\r\n");
    while (n > 0 && (p[n - 1] == '.' || p[n - 1] == ','))
        n--;
    if (!n)
        return NULL;
    word = dbm_xstrndup(p, n);
    printable = dbm_printable(word);
    free(word);
    return printable;
}

/*
 * The error for a refusal. AWS writes the code as "__type" (sometimes with
 * a namespace before '#'), or in the X-Amzn-ErrorType header, and the message
 * as "message" or "Message". AccessDenied's message names the action and the
 * resource ("is not authorized to perform: iam:PassRole on resource: arn");
 * when it does not, the call's own are named.
 */
static int refused(const dbm_http_response *resp, const dbm_aws_call *call)
{
    json_t *root = json_loadb(resp->body, resp->body_len, 0, NULL);
    char *header = dbm_http_header(resp, "X-Amzn-ErrorType");
    const char *type = dbm_aws_json_str(root, "__type");
    const char *message = dbm_aws_json_str(root, "message");
    char *raw_code, *code, *msg, *action = NULL, *resource = NULL;
    int rc;

    if (!type)
        type = header;
    if (!message)
        message = dbm_aws_json_str(root, "Message");
    if (type && strchr(type, '#'))
        type = strchr(type, '#') + 1;
    raw_code = dbm_xstrndup(type ? type : "", type ? strcspn(type, ":") : 0);
    code = server_text(raw_code);
    free(raw_code);
    msg = server_text(message);
    if (call->quiet_code && strcmp(code, call->quiet_code) == 0) {
        rc = DBM_ENOTFOUND;
    } else if (strstr(code, "AccessDenied") || resp->status == 403) {
        action = word_after(message, "perform: ");
        resource = word_after(message, "on resource: ");
        if (!action && call->iam_action)
            action = dbm_xstrdup(call->iam_action);
        if (!action)
            action = dbm_xasprintf("%s:%s", call->service->name, call->operation);
        if (!resource)
            resource = dbm_xstrdup(call->resource ? call->resource : "*");
        rc = dbm_error_set(DBM_ECONNECT, "aws %s %s was denied: %s is not allowed on %s",
                           call->service->name, call->operation, action, resource);
        dbm_error_hint("allow %s on %s in the policy of the role db-migrate runs as (%s); "
                       "aws said: %s",
                       action, resource, call->creds->source, *msg ? msg : code);
    } else if (resp->status >= 500 || resp->status == 429 || !*code) {
        rc = dbm_error_set(DBM_ECONNECT, "aws %s %s failed (HTTP %ld)%s%s%s%s", call->service->name,
                           call->operation, resp->status, *code ? ": " : "", code, *msg ? ": " : "",
                           msg);
        dbm_error_hint("retry later; if it persists, check %s (or AWS_ENDPOINT_URL) if it is "
                       "set, and the AWS health dashboard",
                       call->service->endpoint_var);
    } else if (strstr(code, "UnrecognizedClient") || strstr(code, "InvalidSignature") ||
               strstr(code, "ExpiredToken") || strstr(code, "IncompleteSignature")) {
        rc = dbm_error_set(DBM_ECONNECT, "aws %s %s refused the credentials (%s): %s: %s",
                           call->service->name, call->operation, call->creds->source, code, msg);
        dbm_error_hint("the credentials are not valid for this account or region, or expired");
    } else {
        rc = dbm_error_set(DBM_ECONFIG, "aws %s %s refused the request: %s: %s",
                           call->service->name, call->operation, code, msg);
        dbm_error_hint("check the %s settings (%s)", call->service->name,
                       call->resource ? call->resource : "the names given");
    }
    free(action);
    free(resource);
    free(code);
    free(msg);
    free(header);
    json_decref(root);
    return rc;
}

/* The signed headers into headers[2..4] (the caller frees them). */
static int sign(char *headers[], const dbm_aws_call *call, const char *url, const char *target,
                const char *body)
{
    char *host = NULL, *path = NULL, *auth = NULL, amz_date[17];
    dbm_buf canonical_path = DBM_BUF_INIT;
    const dbm_aws_credentials *c = call->creds;
    int rc;

    dbm_aws_url_host_path(&host, &path, url);
    /* SigV4 encodes the path once more for every service but S3: each '%' becomes "%25". */
    for (const char *p = path; *p; p++)
        if (*p == '%')
            dbm_buf_puts(&canonical_path, "%25");
        else
            dbm_buf_putc(&canonical_path, *p);
    rc = dbm_sigv4_sign_headers(&auth, amz_date,
                                &(dbm_sigv4_request){.method = "POST",
                                                     .host = host,
                                                     .path = canonical_path.ptr,
                                                     .content_type = JSON_TYPE,
                                                     .body = body,
                                                     .body_len = strlen(body),
                                                     .region = c->region,
                                                     .service = call->service->name,
                                                     .access_key_id = c->access_key_id,
                                                     .secret_access_key = c->secret_access_key,
                                                     .session_token = c->session_token,
                                                     .target = target,
                                                     .now = time(NULL)});
    if (rc == 0)
        dbm_aws_auth_headers(headers + 2, amz_date, auth, c->session_token);
    free(auth);
    free(host);
    free(path);
    dbm_buf_free(&canonical_path);
    return rc;
}

int dbm_aws_call_json(json_t **out, dbm_http_response **raw, const dbm_aws_call *call)
{
    char *headers[16] = {"Content-Type: " JSON_TYPE, NULL};
    char *base = endpoint(call->service, call->creds->region), *url, *target = NULL, *body;
    dbm_http_response *resp = NULL;
    size_t n = 5;
    int rc;

    *out = NULL;
    if (raw)
        *raw = NULL;
    url = dbm_xasprintf("%s%s", base, call->path ? call->path : "/");
    body = call->body ? json_dumps(call->body, JSON_COMPACT) : dbm_xstrdup("{}");
    if (call->service->target_prefix) {
        target = dbm_xasprintf("%s.%s", call->service->target_prefix, call->operation);
        headers[1] = dbm_xasprintf("X-Amz-Target: %s", target);
    }
    for (size_t i = 0; call->headers && call->headers[i] && n + 1 < 16; i++)
        headers[n++] = (char *)call->headers[i];
    if ((rc = sign(headers, call, url, target, body)) < 0)
        goto done;
    {
        const char *list[16];
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (headers[i])
                list[k++] = headers[i];
        list[k] = NULL;
        rc = dbm_http_send(&resp, &(dbm_http_request){.method = "POST",
                                                      .url = url,
                                                      .headers = list,
                                                      .body = body,
                                                      .body_len = strlen(body),
                                                      .timeout_ms = call->timeout_ms,
                                                      .retries = call->retries});
    }
    if (rc < 0) {
        dbm_error_hint("aws %s could not be reached; check the network, or %s (or "
                       "AWS_ENDPOINT_URL) if it is set",
                       call->service->name, call->service->endpoint_var);
        goto done;
    }
    if (resp->status < 200 || resp->status > 299) {
        rc = refused(resp, call);
        goto done;
    }
    *out = json_loadb(resp->body, resp->body_len, 0, NULL);
    if (raw) {
        *raw = resp;
        resp = NULL;
    }
done:
    dbm_http_response_free(resp);
    free(headers[1]);
    for (int i = 2; i < 5; i++)
        dbm_secret_free(headers[i]);
    free(target);
    free(body);
    free(url);
    free(base);
    return rc;
}
