/*
 * lambda_event - db-migrate as a Lambda runtime: the Runtime API's answer to
 * the next-invocation request (net/lambda_runtime.c: status, request id,
 * deadline and trace headers, the event), then the event read into the
 * configuration and command of the run (command/lambda.c: command, inputs,
 * expect-migrations, audit), checked as a command line is, without running
 * it. The input is the answer ("STATUS\nheaders\n\nbody", fuzz.h).
 */
#include "fuzz.h"

#include "command/lambda.h"
#include "common/error.h"
#include "net/lambda_runtime.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const env[] = {"AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9001", NULL};
    dbm_lambda_invocation *inv = NULL;
    const dbm_command_row *cmd = NULL;
    dbm_config *cfg = NULL;
    json_t *event;

    fuzz_env(env);
    fuzz_http_serve(data, size, NULL);
    if (dbm_lambda_next(&inv, "127.0.0.1:9001") < 0) {
        if (inv)
            FUZZ_FAIL();
        fuzz_http_done();
        fuzz_error_done();
        return 0;
    }
    if (!inv || !inv->request_id || !*inv->request_id || !inv->event)
        FUZZ_FAIL();
    fuzz_http_done();
    event = json_loads(inv->event, 0, NULL);
    if (dbm_lambda_event_load(&cfg, &cmd, event) == 0) {
        if (!cfg || !cmd)
            FUZZ_FAIL();
    } else if (cfg || !*dbm_error_message()) {
        FUZZ_FAIL(); /* an invalid event is answered with its error */
    }
    fuzz_error_done();
    dbm_config_free(cfg);
    json_decref(event);
    dbm_lambda_invocation_free(inv);
    return 0;
}
