/*
 * aws_files.h - what the AWS profile and credential_process tests share: keys,
 * a temporary directory holding the config and credentials files that
 * AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE name, the environment
 * cleared of every other credential source, and a file writer.
 */
#ifndef DBM_TEST_AWS_FILES_H
#define DBM_TEST_AWS_FILES_H

#include "unit.h"

#include "common/error.h"
#include "common/util.h"
#include "net/aws.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#define SRC_AKID   "AKIASOURCEPROFILE0001"
#define SRC_SECRET "sourceSecret/Key+0123456789abcdefghijklm"
#define AKID       "ASIAASSUMEDROLE00001"
#define SECRET     "assumedSecret/Key+With=Chars0123456789ab"
#define SESSION    "FwoGZXIvYXdzEJr//////////wEaDAssumed+Token/=="

static char dir[64];
static char config_path[128], credentials_path[128];

static const char *const variables[] = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_STS",
    "AWS_PROFILE",
    "GITHUB_ACTIONS",
    "http_proxy",
    "HTTPS_PROXY",
    NULL,
};

static int setup(void **state)
{
    (void)state;
    for (int i = 0; variables[i]; i++)
        unsetenv(variables[i]);
    setenv("NO_PROXY", "127.0.0.1", 1);
    snprintf(dir, sizeof(dir), "/tmp/dbm-aws-profile-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(config_path, sizeof(config_path), "%s/config", dir);
    snprintf(credentials_path, sizeof(credentials_path), "%s/credentials", dir);
    setenv("AWS_CONFIG_FILE", config_path, 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", credentials_path, 1);
    dbm_error_clear();
    return 0;
}

static int teardown(void **state)
{
    char *cmd = dbm_xasprintf("rm -rf '%s'", dir);

    (void)state;
    assert_int_equal(system(cmd), 0);
    free(cmd);
    return 0;
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *fp = fopen(path, "w");

    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
    assert_int_equal(chmod(path, mode), 0);
}

#endif
