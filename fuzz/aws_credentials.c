/*
 * aws_credentials - the credential sources that read an answer from a
 * server, through the whole resolution chain: the GitHub OIDC token
 * ({"value": JWT}) then STS, a web identity token file then STS, and the ECS
 * container credentials endpoint (relative URI, and full URI with an
 * authorization token). The first byte picks the source; the rest are the
 * answers in order, separated by "=====" lines (fuzz.h).
 */
#include "fuzz.h"

#include "common/error.h"
#include "net/aws.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *token_file = fuzz_write("web-identity-token", "eyJ.fuzz-file-token.sig", 23);
    const char *const oidc[] = {"ACTIONS_ID_TOKEN_REQUEST_URL",
                                "https://token.actions.test/t?x=1",
                                "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
                                "fuzz-request-token",
                                "AWS_ENDPOINT_URL_STS",
                                "https://sts.fuzz.test",
                                NULL};
    const char *const file[] = {"AWS_WEB_IDENTITY_TOKEN_FILE", token_file, "AWS_ROLE_ARN",
                                "arn:aws:iam::123456789012:role/deploy", NULL};
    const char *const ecs[] = {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/fuzz",
                               NULL};
    const char *const full[] = {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:9/creds",
                                "AWS_CONTAINER_AUTHORIZATION_TOKEN", "fuzz-container-token", NULL};
    const char *const *const sources[] = {oidc, file, ecs, full};
    dbm_aws_credentials *out = NULL;
    int which;

    /* The tokens sent are not in the answers: only then is one in a message a leak. */
    if (size < 1 || memmem(data, size, "fuzz-", 5)) {
        free(token_file);
        return 0;
    }
    which = data[0] % 4;
    fuzz_env(sources[which]);
    fuzz_http_serve(data + 1, size - 1, NULL);
    if (dbm_aws_credentials_resolve(
            &out, &(dbm_aws_options){.region = "eu-west-1",
                                     .role_to_assume =
                                         which == 0 ? "arn:aws:iam::1:role/r" : NULL}) == 0 &&
        (!out || !*out->access_key_id))
        FUZZ_FAIL();
    if (strstr(dbm_error_message(), "fuzz-request-token") ||
        strstr(dbm_error_message(), "fuzz-container-token") ||
        strstr(dbm_error_message(), "fuzz-file-token"))
        FUZZ_FAIL();
    fuzz_http_done();
    dbm_aws_credentials_free(out);
    fuzz_error_done();
    free(token_file);
    return 0;
}
