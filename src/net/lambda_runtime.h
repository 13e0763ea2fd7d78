/*
 * lambda_runtime.h - the client side of the AWS Lambda Runtime API, which
 * makes db-migrate a custom runtime (DESIGN section 10).
 *
 * The Runtime API is an HTTP server at AWS_LAMBDA_RUNTIME_API (host:port,
 * no scheme) inside the function's sandbox: the runtime asks it for the next
 * invocation (a long poll), then posts the invocation's response or error.
 * This module speaks that protocol and nothing else: what an event means and
 * what a response holds is command/lambda.c's.
 */
#ifndef DBM_LAMBDA_RUNTIME_H
#define DBM_LAMBDA_RUNTIME_H

#include <stdint.h>

typedef struct {
    char *request_id;    /* Lambda-Runtime-Aws-Request-Id */
    int64_t deadline_ms; /* Lambda-Runtime-Deadline-Ms: Unix epoch milliseconds; 0 if absent */
    char *trace_id;      /* Lambda-Runtime-Trace-Id, or NULL */
    char *event;         /* the event's body, NUL-terminated */
} dbm_lambda_invocation;

/*
 * Wait for the next invocation (GET /2018-06-01/runtime/invocation/next, no
 * timeout: the sandbox is frozen between invocations). *out belongs to the
 * caller (dbm_lambda_invocation_free). DBM_ECONNECT when the Runtime API
 * cannot be reached or answers with anything but 200 and a request id.
 */
int dbm_lambda_next(dbm_lambda_invocation **out, const char *api);

/* Post the invocation's response (a JSON document). 0, or DBM_ECONNECT. */
int dbm_lambda_respond(const char *api, const char *request_id, const char *json);

/*
 * Report that the invocation failed (POST .../error), or, with request_id
 * NULL, that the runtime could not start (POST /runtime/init/error). The body
 * is Lambda's {"errorMessage", "errorType"}; type is sent as the
 * Lambda-Runtime-Function-Error-Type header too. 0, or DBM_ECONNECT.
 */
int dbm_lambda_fail(const char *api, const char *request_id, const char *type, const char *message);

void dbm_lambda_invocation_free(dbm_lambda_invocation *inv); /* accepts NULL */

#endif
