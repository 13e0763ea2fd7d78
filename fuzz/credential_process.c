/*
 * credential_process - what an AWS profile's credential_process printed
 * (JSON: Version 1, keys, token, an ISO 8601 Expiration) read into
 * credentials. The output is never quoted in a message: it holds secrets.
 */
#include "fuzz.h"

#include "common/error.h"
#include "net/aws_internal.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    dbm_aws_credentials *out = NULL;
    char *text = fuzz_strndup(data, size);

    if (dbm_aws_process_credentials(&out, text, size, "dev") == 0) {
        if (!out || !*out->access_key_id || !*out->secret_access_key)
            FUZZ_FAIL();
    } else if (out) {
        FUZZ_FAIL();
    }
    dbm_aws_credentials_free(out);
    fuzz_error_done();
    free(text);
    return 0;
}
