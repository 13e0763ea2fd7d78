/*
 * lambda.h - one synchronous Lambda invocation (Invoke, RequestResponse,
 * with the tail of the function's log).
 *
 * Knows Lambda's REST call and its answer's headers, not what the payload
 * means: the event and the response are the caller's (command/remote_lambda.c).
 */
#ifndef DBM_LAMBDA_H
#define DBM_LAMBDA_H

#include "net/aws.h"

#include <jansson.h>

typedef struct {
    json_t *payload;      /* the function's answer parsed, or NULL when it is not JSON */
    char *function_error; /* X-Amz-Function-Error ("Unhandled", ...), or NULL */
    char *log_tail;       /* the last 4 KB of the invocation's log (X-Amz-Log-Result decoded) */
    char *version;        /* X-Amz-Executed-Version, or NULL */
} dbm_lambda_result;

/*
 * Invoke `function` (name, name:qualifier or ARN) with `event` and wait up to
 * timeout_ms for its answer. Never retried: a second call would run the
 * migrations again. Errors as dbm_aws_call_json's (an AccessDenied names
 * lambda:InvokeFunction and the function). out's fields are the caller's.
 */
int dbm_lambda_invoke(dbm_lambda_result *out, const dbm_aws_credentials *creds,
                      const char *function, json_t *event, long timeout_ms);

void dbm_lambda_result_clear(dbm_lambda_result *r);

#endif
