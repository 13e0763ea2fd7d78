/*
 * lambda_invoke - Lambda's answer to Invoke (net/lambda.c): the payload, the
 * X-Amz-Function-Error and X-Amz-Executed-Version headers, the log tail in
 * X-Amz-Log-Result (base64), and Lambda's JSON error answers (net/aws_api.c:
 * the code, the message, an AccessDenied's action and resource). The input
 * is the answer ("STATUS\nheaders\n\nbody", fuzz.h).
 */
#include "fuzz.h"

#include "common/error.h"
#include "common/util.h"
#include "net/aws_internal.h"
#include "net/lambda.h"

#include <stdlib.h>
#include <string.h>

#define SECRET  "fuzz-secret-key"
#define SESSION "fuzz-session-token"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const env[] = {"AWS_ENDPOINT_URL_LAMBDA", "https://lambda.fuzz.test", NULL};
    dbm_aws_credentials *creds;
    dbm_lambda_result r;
    json_t *event;

    if (memmem(data, size, "fuzz-", 5))
        return 0;
    fuzz_env(env);
    creds = dbm_aws_credentials_new(dbm_xstrdup("AKIDFUZZ"), dbm_xstrdup(SECRET),
                                    dbm_xstrdup(SESSION), "environment");
    creds->region = dbm_xstrdup("eu-west-1");
    event = json_pack("{s:s, s:{s:s}}", "command", "apply", "inputs", "database-url",
                      "postgres://db/app");
    fuzz_http_serve(data, size, "https://lambda.fuzz.test");
    if (dbm_lambda_invoke(&r, creds, "db-migrate:live", event, 5000) == 0) {
        if (r.log_tail && r.log_tail[strlen(r.log_tail) + 1 - 1] != '\0')
            FUZZ_FAIL();
        dbm_lambda_result_clear(&r);
    } else if (r.payload || r.function_error || r.log_tail || r.version) {
        FUZZ_FAIL(); /* nothing is kept from a refused call */
    }
    if (strstr(dbm_error_message(), SECRET) || strstr(dbm_error_message(), SESSION))
        FUZZ_FAIL();
    fuzz_http_done();
    fuzz_error_done();
    json_decref(event);
    dbm_aws_credentials_free(creds);
    return 0;
}
