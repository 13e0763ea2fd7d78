#include "unit.h"

#include "net/aws.h"
#include "net/aws_internal.h"
#include "common/error.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * credential_process with real scripts: through a profile of a config file
 * written to a temporary directory (dbm_aws_credentials_resolve, as a run
 * meets it), and called directly for what only a program can do (exit
 * codes, output past the limit).
 */

#include "net/aws_files.h"

static const dbm_aws_options options = {.region = "eu-west-1"};

/* ---- credential_process ---- */

/* A script in the test directory; credential_process runs it with arguments, quoted. */
static void process_profile(const char *script_body)
{
    char script[160], *config;

    snprintf(script, sizeof(script), "%s/creds helper.sh", dir);
    write_file(script, script_body, 0700);
    config = dbm_xasprintf("[profile proc]\ncredential_process = \"%s\" --profile 'x y'\n", script);
    write_file(config_path, config, 0600);
    free(config);
    setenv("AWS_PROFILE", "proc", 1);
}

static void credential_process_output_gives_the_credentials(void **state)
{
    dbm_aws_credentials *c = NULL;

    (void)state;
    process_profile("#!/bin/sh\n[ \"$2\" = 'x y' ] || { echo \"bad args: $*\" >&2; exit 9; }\n"
                    "cat <<EOF\n{\"Version\": 1, \"AccessKeyId\": \"" AKID
                    "\", \"SecretAccessKey\": \"" SECRET "\", \"SessionToken\": \"" SESSION
                    "\", \"Expiration\": \"2099-01-01T00:00:00.123Z\"}\nEOF\n");
    assert_int_equal(dbm_aws_credentials_resolve(&c, &options), 0);
    assert_string_equal(c->access_key_id, AKID);
    assert_string_equal(c->secret_access_key, SECRET);
    assert_string_equal(c->session_token, SESSION);
    assert_string_equal(c->source, "profile:proc");
    dbm_aws_credentials_free(c);

    /* Long-term keys: no session token, no expiration. */
    process_profile("#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"" SRC_AKID
                    "\", \"SecretAccessKey\": \"" SRC_SECRET "\"}'\n");
    assert_int_equal(dbm_aws_credentials_resolve(&c, &options), 0);
    assert_string_equal(c->access_key_id, SRC_AKID);
    assert_null(c->session_token);
    dbm_aws_credentials_free(c);
}

static void credential_process_failures_are_clear_errors(void **state)
{
    static const struct {
        const char *script, *message;
    } cases[] = {
        {"#!/bin/sh\necho 'Error loading SSO Token: token expired' >&2\necho second >&2\nexit "
         "255\n",
         "the credential_process of aws profile 'proc' failed (exit 255): Error loading SSO "
         "Token: token expired"},
        {"#!/bin/sh\nexit 3\n", "the credential_process of aws profile 'proc' failed (exit 3)"},
        {"#!/bin/sh\necho not json\n", "printed no JSON object"},
        {"#!/bin/sh\necho '{\"Version\": 2, \"AccessKeyId\": \"a\", \"SecretAccessKey\": \"b\"}'\n",
         "printed no \"Version\": 1"},
        {"#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"a\"}'\n",
         "printed no AccessKeyId and SecretAccessKey"},
        {"#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"a\", \"SecretAccessKey\": \"" SECRET
         "\", \"Expiration\": \"2001-01-01T00:00:00Z\"}'\n",
         "printed credentials that expired at 2001-01-01T00:00:00Z"},
        {"#!/bin/sh\necho '{\"Version\": 1, \"AccessKeyId\": \"a\", \"SecretAccessKey\": \"b\", "
         "\"Expiration\": \"tomorrow\"}'\n",
         "printed an Expiration that is not an ISO 8601 UTC time"},
    };
    dbm_aws_credentials *c = NULL;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        process_profile(cases[i].script);
        assert_int_equal(dbm_aws_credentials_resolve(&c, &options), DBM_ECONFIG);
        assert_null(c);
        if (!strstr(dbm_error_message(), cases[i].message))
            fail_msg("case %zu: %s", i, dbm_error_message());
        assert_null(strstr(dbm_error_message(), SECRET));
        assert_null(strchr(dbm_error_message(), '\n'));
    }
}

/* Called directly: a command the shell cannot find, and output past the 64 KiB limit. */
static void credential_process_called_directly(void **state)
{
    dbm_aws_credentials *c = NULL;

    (void)state;
    assert_int_equal(dbm_aws_credential_process(&c,
                                                "printf '{\"Version\": 1, \"AccessKeyId\": "
                                                "\"%s\", \"SecretAccessKey\": \"%s\"}' " AKID
                                                " '" SECRET "'",
                                                "direct"),
                     0);
    assert_string_equal(c->access_key_id, AKID);
    assert_string_equal(c->secret_access_key, SECRET);
    assert_string_equal(c->source, "profile:direct");
    dbm_aws_credentials_free(c);
    c = NULL;

    assert_int_equal(dbm_aws_credential_process(&c, "no-such-credential-helper", "direct"),
                     DBM_ECONFIG);
    assert_null(c);
    assert_non_null(strstr(dbm_error_message(), "failed (exit 127)"));
    assert_non_null(strstr(dbm_error_message(), "not found"));

    /* 1 MiB of output is read to the end (the program is not blocked), kept to 64 KiB. */
    assert_int_equal(
        dbm_aws_credential_process(&c, "head -c 1048576 /dev/zero | tr '\\0' x", "direct"),
        DBM_ECONFIG);
    assert_null(c);
    assert_non_null(strstr(dbm_error_message(), "printed no JSON object"));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(credential_process_output_gives_the_credentials),
        T(credential_process_failures_are_clear_errors),
        T(credential_process_called_directly),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
