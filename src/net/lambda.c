/*
 * lambda.c - Lambda's Invoke: POST /2015-03-31/functions/NAME/invocations.
 */
#include "net/lambda.h"
#include "common/error.h"
#include "common/util.h"
#include "net/aws_api.h"
#include "net/http.h"
#include "net/sigv4.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

/* Standard base64 text decoded, or NULL when it is not base64. Caller frees. */
static char *base64_text(const char *b64)
{
    size_t n = b64 ? strlen(b64) : 0;
    unsigned char *out;
    int got;

    if (n == 0 || n % 4 != 0)
        return NULL;
    out = dbm_xmalloc(n / 4 * 3 + 1);
    got = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
    if (got < 0) {
        free(out);
        return NULL;
    }
    got -= (b64[n - 1] == '=') + (b64[n - 2] == '=');
    out[got] = '\0';
    return (char *)out;
}

int dbm_lambda_invoke(dbm_lambda_result *out, const dbm_aws_credentials *creds,
                      const char *function, json_t *event, long timeout_ms)
{
    static const char *const headers[] = {"X-Amz-Invocation-Type: RequestResponse",
                                          "X-Amz-Log-Type: Tail", NULL};
    char *enc = dbm_sigv4_uri_encode(function);
    char *path = dbm_xasprintf("/2015-03-31/functions/%s/invocations", enc);
    dbm_http_response *resp = NULL;
    char *log = NULL;
    int rc;

    memset(out, 0, sizeof(*out));
    rc = dbm_aws_call_json(&out->payload, &resp,
                           &(dbm_aws_call){.creds = creds,
                                           .service = &dbm_aws_lambda,
                                           .operation = "Invoke",
                                           .path = path,
                                           .headers = headers,
                                           .resource = function,
                                           .iam_action = "lambda:InvokeFunction",
                                           .body = event,
                                           .timeout_ms = timeout_ms,
                                           .retries = 0});
    if (rc == 0) {
        out->function_error = dbm_http_header(resp, "X-Amz-Function-Error");
        out->version = dbm_http_header(resp, "X-Amz-Executed-Version");
        log = dbm_http_header(resp, "X-Amz-Log-Result");
        out->log_tail = base64_text(log);
    }
    free(log);
    dbm_http_response_free(resp);
    free(path);
    free(enc);
    return rc;
}

void dbm_lambda_result_clear(dbm_lambda_result *r)
{
    json_decref(r->payload);
    free(r->function_error);
    free(r->log_tail);
    free(r->version);
    memset(r, 0, sizeof(*r));
}
