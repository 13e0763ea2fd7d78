/*
 * aws_profile - the AWS shared config and credentials files: the INI reader
 * on its own, then the resolution of AWS_PROFILE ("dev" when the first byte
 * is odd, else the default) from both files: static keys, role_arn with
 * source_profile chains (AssumeRole answered by the rest of the input),
 * regions. The input is the first byte, the config file, the credentials
 * file and STS's answers, separated by "=====" lines (fuzz.h).
 * credential_process is never run here: an input naming it is skipped (its
 * output has the credential_process harness).
 */
#include "fuzz.h"

#include "common/error.h"
#include "net/aws_internal.h"

#include <stdlib.h>
#include <string.h>

static int collect(void *ud, const char *section, const char *key, const char *value, int line)
{
    (void)ud;
    if (!section || line < 1 || (key && !value) || (!key && value))
        FUZZ_FAIL();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *config, *credentials;
    size_t clen, crlen;
    char *cpath, *crpath, *region = NULL;
    dbm_aws_credentials *out = NULL;
    bool dev;

    if (size < 1 || memmem(data, size, "credential_process", 18))
        return 0;
    dev = data[0] & 1;
    data++, size--;
    if (!fuzz_next_part(&data, &size, &config, &clen))
        return 0;
    if (!fuzz_next_part(&data, &size, &credentials, &crlen))
        credentials = config, crlen = 0;
    cpath = fuzz_write("aws/config", config, clen);
    crpath = fuzz_write("aws/credentials", credentials, crlen);
    dbm_ini_parse((const char *)config, clen, cpath, collect, NULL);
    fuzz_error_done();
    {
        const char *const env[] = {"AWS_CONFIG_FILE",
                                   cpath,
                                   "AWS_SHARED_CREDENTIALS_FILE",
                                   crpath,
                                   "AWS_PROFILE",
                                   dev ? "dev" : NULL,
                                   "AWS_ENDPOINT_URL_STS",
                                   "https://sts.fuzz.test",
                                   NULL};
        fuzz_env(env);
    }
    fuzz_http_serve(data, size, NULL);
    if (dbm_aws_profile_credentials(&out, "eu-west-1", "db-migrate") == 0 && out &&
        !*out->access_key_id)
        FUZZ_FAIL();
    fuzz_error_done();
    dbm_aws_profile_region(&region);
    fuzz_http_done();
    free(region);
    dbm_aws_credentials_free(out);
    fuzz_error_done();
    free(cpath);
    free(crpath);
    return 0;
}
