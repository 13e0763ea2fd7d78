/*
 * aws_api.h - signed calls to AWS's JSON APIs: ECS and CloudWatch Logs
 * (X-Amz-Target, application/x-amz-json-1.1) and Lambda's REST Invoke.
 *
 * A call is a POST signed with SigV4 (sigv4.h) with the credentials of aws.h,
 * sent to the service's regional endpoint, or to AWS_ENDPOINT_URL_<SERVICE>,
 * else AWS_ENDPOINT_URL, as the AWS SDKs allow. A refusal becomes one error
 * line with the service's code and message, redacted; an AccessDenied names
 * the IAM action and the resource that are missing. What the operations mean
 * is for ecs.h, logs.h and lambda.h.
 */
#ifndef DBM_AWS_API_H
#define DBM_AWS_API_H

#include "net/aws.h"
#include "net/http.h"

#include <jansson.h>

typedef struct {
    const char *name;          /* "ecs", "logs", "lambda": signing name, host prefix, IAM prefix */
    const char *endpoint_var;  /* "AWS_ENDPOINT_URL_ECS", ... */
    const char *target_prefix; /* "AmazonEC2ContainerServiceV20141113"; NULL for a REST API */
} dbm_aws_service;

extern const dbm_aws_service dbm_aws_ecs, dbm_aws_logs, dbm_aws_lambda;

/* One call. Every pointer is borrowed. */
typedef struct {
    const dbm_aws_credentials *creds; /* with its region */
    const dbm_aws_service *service;
    const char *operation;      /* "RunTask": X-Amz-Target's suffix and the IAM action's name */
    const char *path;           /* a REST API's path, URI-encoded; NULL: "/" */
    const char *const *headers; /* more headers, sent unsigned; NULL-terminated, may be NULL */
    const char *resource;       /* what the call acts on, for an AccessDenied without one */
    const char *iam_action;     /* the IAM action, when not "service:operation" */
    json_t *body;               /* the request; NULL: {} */
    long timeout_ms;            /* 0: 30 s */
    int retries;                /* 0 for calls that must not run twice (RunTask, Invoke) */
    const char *quiet_code;     /* a refusal with this code is DBM_ENOTFOUND, no message */
} dbm_aws_call;

/*
 * Send the call. A 2xx answer gives *out, its body parsed as JSON (NULL when
 * it is not JSON), and *resp, the raw answer, when resp is not NULL; both the
 * caller's. Otherwise the error names the service, the operation, the code
 * and the message: DBM_ECONNECT for an unreachable endpoint, a refused
 * identity (AccessDenied, with the action and resource in the hint), or a
 * server error; DBM_ECONFIG for a request the service rejects (a cluster,
 * function or task definition that does not exist, a bad parameter).
 */
int dbm_aws_call_json(json_t **out, dbm_http_response **resp, const dbm_aws_call *call);

/* A string member of a JSON object, or NULL (borrowed from obj). */
const char *dbm_aws_json_str(const json_t *obj, const char *key);

#endif
