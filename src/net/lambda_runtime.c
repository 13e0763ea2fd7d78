/*
 * lambda_runtime.c - GET next, POST response or error, over libcurl (http.c).
 *
 * The paths and headers are the Runtime API's, version 2018-06-01:
 * https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html
 */
#include "net/lambda_runtime.h"
#include "common/error.h"
#include "common/util.h"
#include "net/http.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define API_PREFIX "/2018-06-01/runtime"

/* A request to the Runtime API; *out holds the response whatever its status. */
static int call(dbm_http_response **out, const char *api, const char *method, const char *path,
                const char *const *headers, const char *body, long timeout_ms)
{
    char *url = dbm_xasprintf("http://%s" API_PREFIX "%s", api, path);
    dbm_http_request req = {method, url, headers, body, body ? strlen(body) : 0, timeout_ms, 2};
    int error = dbm_http_send(out, &req);

    free(url);
    return error;
}

int dbm_lambda_next(dbm_lambda_invocation **out, const char *api)
{
    dbm_http_response *resp = NULL;
    dbm_lambda_invocation *inv = NULL;
    char *deadline = NULL;
    int error;

    *out = NULL;
    /* A long poll: no timeout (the sandbox may be frozen until the next event). */
    if ((error = call(&resp, api, "GET", "/invocation/next", NULL, NULL, -1)) < 0)
        goto done;
    inv = dbm_xcalloc(1, sizeof(*inv));
    inv->request_id = dbm_http_header(resp, "Lambda-Runtime-Aws-Request-Id");
    if (resp->status != 200 || !inv->request_id || !*inv->request_id) {
        error = dbm_error_set(
            DBM_ECONNECT, "the Lambda Runtime API answered the next invocation with HTTP %ld%s",
            resp->status, inv->request_id && *inv->request_id ? "" : " and no request id");
        goto done;
    }
    if ((deadline = dbm_http_header(resp, "Lambda-Runtime-Deadline-Ms")))
        inv->deadline_ms = strtoll(deadline, NULL, 10);
    inv->trace_id = dbm_http_header(resp, "Lambda-Runtime-Trace-Id");
    inv->event = dbm_xstrdup(resp->body ? resp->body : "");
    *out = inv;
    inv = NULL;
done:
    free(deadline);
    dbm_lambda_invocation_free(inv);
    dbm_http_response_free(resp);
    return error;
}

/* POST body to path; a status other than 202 is an error naming what was refused. */
static int post(const char *api, const char *path, const char *const *headers, const char *body,
                const char *what)
{
    dbm_http_response *resp = NULL;
    int error = call(&resp, api, "POST", path, headers, body, 0);

    if (error == 0 && resp->status != 202)
        error =
            dbm_error_set(DBM_ECONNECT, "the Lambda Runtime API refused the %s: HTTP %ld %.200s",
                          what, resp->status, resp->body ? resp->body : "");
    dbm_http_response_free(resp);
    return error;
}

int dbm_lambda_respond(const char *api, const char *request_id, const char *json)
{
    const char *headers[] = {"Content-Type: application/json", NULL};
    char *path = dbm_xasprintf("/invocation/%s/response", request_id);
    int error = post(api, path, headers, json, "response");

    free(path);
    return error;
}

int dbm_lambda_fail(const char *api, const char *request_id, const char *type, const char *message)
{
    json_t *doc =
        json_pack("{s:s, s:s}", "errorMessage", message ? message : "", "errorType", type);
    char *body = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    char *type_header = dbm_xasprintf("Lambda-Runtime-Function-Error-Type: %s", type);
    const char *headers[] = {"Content-Type: application/json", type_header, NULL};
    char *path =
        request_id ? dbm_xasprintf("/invocation/%s/error", request_id) : dbm_xstrdup("/init/error");
    int error = post(api, path, headers, body ? body : "{}", request_id ? "error" : "init error");

    free(path);
    free(type_header);
    free(body);
    json_decref(doc);
    return error;
}

void dbm_lambda_invocation_free(dbm_lambda_invocation *inv)
{
    if (!inv)
        return;
    free(inv->request_id);
    free(inv->trace_id);
    free(inv->event);
    free(inv);
}
