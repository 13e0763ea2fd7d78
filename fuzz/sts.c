/*
 * sts - AWS STS's answers to AssumeRole and AssumeRoleWithWebIdentity: the
 * XML (expat) read into credentials, or into an error with STS's code and
 * message (redacted of the token sent). The first byte picks the call:
 * even, AssumeRole signed with static keys; odd, web identity. The rest is
 * the answer ("STATUS\nheaders\n\nbody", see fuzz.h).
 */
#include "fuzz.h"

#include "common/error.h"
#include "common/util.h"
#include "net/aws_internal.h"

#include <stdlib.h>
#include <string.h>

#define WEB_TOKEN "eyJ.fuzz-web-token.sig"
#define SECRET    "fuzz-secret-key"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const env[] = {"AWS_ENDPOINT_URL_STS", "https://sts.fuzz.test", NULL};
    dbm_aws_credentials *signer, *out = NULL;
    bool web;

    /* The signing key is never sent: an answer cannot hold it. */
    if (size < 1 || memmem(data, size, SECRET, strlen(SECRET)))
        return 0;
    web = data[0] & 1;
    fuzz_env(env);
    signer =
        dbm_aws_credentials_new(dbm_xstrdup("AKIDFUZZ"), dbm_xstrdup(SECRET), NULL, "environment");
    fuzz_http_serve(data + 1, size - 1, NULL);
    if (dbm_aws_sts_assume(&out,
                           &(dbm_sts_call){.region = "eu-west-1",
                                           .role_arn = "arn:aws:iam::123456789012:role/deploy",
                                           .session_name = "db-migrate",
                                           .web_token = web ? WEB_TOKEN : NULL,
                                           .audience = NULL,
                                           .signer = web ? NULL : signer,
                                           .source = web ? "oidc-role" : "environment",
                                           .now = 1700000000}) == 0) {
        if (!out || !*out->access_key_id || !*out->secret_access_key)
            FUZZ_FAIL();
    } else if ((web && strstr(dbm_error_message(), WEB_TOKEN)) ||
               strstr(dbm_error_message(), SECRET)) {
        FUZZ_FAIL(); /* STS may echo the token it was sent: messages must not */
    }
    fuzz_http_done();
    dbm_aws_credentials_free(out);
    dbm_aws_credentials_free(signer);
    fuzz_error_done();
    return 0;
}
