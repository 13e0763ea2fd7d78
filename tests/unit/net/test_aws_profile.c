#include "unit.h"

#include "net/aws.h"
#include "net/aws_internal.h"
#include "common/error.h"
#include "fixture.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The AWS shared config and credentials files: the INI reader on its own,
 * then profiles resolved through dbm_aws_credentials_resolve with files
 * written to a temporary directory, STS AssumeRole against
 * tests/fixtures/aws_fixture.py (which checks the signature with botocore).
 * credential_process has its own tests (test_credential_process.c).
 */

#define ROLE "arn:aws:iam::123456789012:role/deploy"
#include "net/aws_files.h"

/* ---- the INI reader ---- */

/* Each header as "[name]" and each key as "section|key=value", one a line. */
static int record(void *ud, const char *section, const char *key, const char *value, int line)
{
    (void)line;
    if (!key)
        dbm_buf_printf(ud, "[%s]\n", section);
    else
        dbm_buf_printf(ud, "%s|%s=%s\n", section, key, value);
    return 0;
}

static const struct {
    const char *text, *want;
} good_ini[] = {
    {"", ""},
    {"# only a comment\n; another\n\n", ""},
    {"[default]\naws_access_key_id = A\n", "[default]\ndefault|aws_access_key_id=A\n"},
    {"  [ default ]  \r\n  Region:eu-west-1\r\n", "[default]\ndefault|region=eu-west-1\n"},
    {"[profile   dev]\nregion=us-east-1", "[profile dev]\nprofile dev|region=us-east-1\n"},
    {"[profile dev]\n# region = commented\n;x = y\nregion = a # not a comment\n",
     "[profile dev]\nprofile dev|region=a # not a comment\n"},
    {"[d]\nkey = has = signs\nempty =\n", "[d]\nd|key=has = signs\nd|empty=\n"},
    {"[d]\ns3 =\n  max_concurrent_requests = 10\n  addressing_style = path\nregion = x\n",
     "[d]\nd|s3=max_concurrent_requests = 10\naddressing_style = path\nd|region=x\n"},
    {"\xef\xbb\xbf[a]\nk=v\n[b]\n[c]\nk=w\n", "[a]\na|k=v\n[b]\n[c]\nc|k=w\n"},
};

static void ini_reads_sections_keys_and_comments(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(good_ini) / sizeof(good_ini[0]); i++) {
        dbm_buf got = DBM_BUF_INIT;
        int rc = dbm_ini_parse(good_ini[i].text, strlen(good_ini[i].text), "f", record, &got);
        if (rc != 0 || strcmp(dbm_buf_cstr(&got), good_ini[i].want) != 0)
            fail_msg("case %zu: rc %d, got\n%s\nwant\n%s", i, rc, dbm_buf_cstr(&got),
                     good_ini[i].want);
        dbm_buf_free(&got);
    }
}

static const struct {
    const char *text;
    size_t len; /* 0: strlen */
    const char *message;
} bad_ini[] = {
    {"[default]\njust words\n", 0, "line 2 is neither a section header, a key = value"},
    {"key = before\n[default]\n", 0, "line 1 comes before any [section] header"},
    {"[default\nk = v\n", 0, "line 1 is a section header without its closing ']'"},
    {"[default] trailing\n", 0, "line 1 is a section header without its closing ']'"},
    {"[ ]\n", 0, "line 1 is a section header without a name"},
    {"[d]\n = secret\n", 0, "line 2 has no key before its '='"},
    {"[d]\nk = v\0w\n", 11, "line 2 holds a NUL byte"},
};

static void ini_rejects_bad_lines_with_the_line_number(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(bad_ini) / sizeof(bad_ini[0]); i++) {
        dbm_buf got = DBM_BUF_INIT;
        size_t len = bad_ini[i].len ? bad_ini[i].len : strlen(bad_ini[i].text);
        int rc = dbm_ini_parse(bad_ini[i].text, len, "/home/u/.aws/config", record, &got);
        dbm_buf_free(&got);
        assert_int_equal(rc, DBM_ECONFIG);
        if (!strstr(dbm_error_message(), bad_ini[i].message) ||
            !strstr(dbm_error_message(), "'/home/u/.aws/config'"))
            fail_msg("case %zu: %s", i, dbm_error_message());
        /* The line is not quoted: it could be a secret key. */
        assert_null(strstr(dbm_error_message(), "secret"));
    }
}

static int stop_at_second(void *ud, const char *section, const char *key, const char *value,
                          int line)
{
    (void)section, (void)key, (void)value;
    *(int *)ud = line;
    return line == 3 ? 7 : 0;
}

static void ini_stops_when_the_callback_says_so(void **state)
{
    const char *text = "[a]\nk = 1\nk2 = 2\nk3 = 3\n";
    int last = 0;

    (void)state;
    assert_int_equal(dbm_ini_parse(text, strlen(text), "f", stop_at_second, &last), 7);
    assert_int_equal(last, 3);
}

/* ---- profiles ---- */

static const dbm_aws_options options = {.region = "eu-west-1"};

static void default_profile_static_keys_from_the_credentials_file(void **state)
{
    dbm_aws_credentials *c = NULL;

    (void)state;
    write_file(credentials_path,
               "[other]\naws_access_key_id = WRONG\naws_secret_access_key = WRONG\n"
               "[default]\naws_access_key_id = " SRC_AKID "\naws_secret_access_key = " SRC_SECRET
               "\naws_session_token = tok\n",
               0600);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &options), 0);
    assert_string_equal(c->access_key_id, SRC_AKID);
    assert_string_equal(c->secret_access_key, SRC_SECRET);
    assert_string_equal(c->session_token, "tok");
    assert_string_equal(c->source, "profile:default");
    assert_string_equal(c->region, "eu-west-1");
    dbm_aws_credentials_free(c);
}

static void named_profile_merges_config_and_credentials(void **state)
{
    dbm_aws_credentials *c = NULL;

    (void)state;
    /* [dev] in the config file is not the profile dev: config names need "profile ". */
    write_file(config_path,
               "[dev]\nregion = wrong-1\n[profile dev]\nregion = ap-south-1\n"
               "aws_access_key_id = FROMCONFIG\naws_secret_access_key = " SRC_SECRET "\n",
               0600);
    write_file(credentials_path, "[dev]\naws_access_key_id = " SRC_AKID "\n", 0600);
    setenv("AWS_PROFILE", "dev", 1);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &(dbm_aws_options){.region = NULL}), 0);
    assert_string_equal(c->access_key_id, SRC_AKID);
    assert_string_equal(c->secret_access_key, SRC_SECRET);
    assert_null(c->session_token);
    assert_string_equal(c->source, "profile:dev");
    assert_string_equal(c->region, "ap-south-1");
    dbm_aws_credentials_free(c);

    /* aws-region (or AWS_REGION) wins over the profile's region. */
    assert_int_equal(dbm_aws_credentials_resolve(&c, &options), 0);
    assert_string_equal(c->region, "eu-west-1");
    dbm_aws_credentials_free(c);
}

static void explicit_missing_profile_names_it_and_the_files(void **state)
{
    dbm_aws_credentials *c = NULL;

    (void)state;
    write_file(config_path, "[profile dev]\nregion = eu-west-1\n", 0600);
    setenv("AWS_PROFILE", "prod", 1);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &options), DBM_ECONFIG);
    assert_null(c);
    assert_non_null(strstr(dbm_error_message(), "aws profile 'prod' (AWS_PROFILE) is not in"));
    assert_non_null(strstr(dbm_error_message(), config_path));
    assert_non_null(strstr(dbm_error_message(), credentials_path));
    /* Also when the region would have come from the profile. */
    assert_int_equal(dbm_aws_credentials_resolve(&c, &(dbm_aws_options){.region = NULL}),
                     DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "'prod'"));
}

static void absent_default_profile_is_not_an_error(void **state)
{
    dbm_aws_credentials *c = NULL;

    (void)state;
    write_file(config_path, "[profile dev]\nregion = eu-west-1\n", 0600);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &options), DBM_ECONFIG);
    assert_string_equal(dbm_error_message(), "no aws credentials found for aws-iam authentication");
    assert_non_null(strstr(dbm_error_hint_text(), "AWS_PROFILE"));
}

static void half_a_key_pair_and_bad_files_are_errors(void **state)
{
    dbm_aws_credentials *c = NULL;

    (void)state;
    write_file(credentials_path, "[default]\naws_access_key_id = " SRC_AKID "\n", 0600);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &options), DBM_ECONFIG);
    assert_string_equal(
        dbm_error_message(),
        "aws profile 'default' has aws_access_key_id but not aws_secret_access_key");

    write_file(credentials_path, "[default]\naws_secret_access_key " SRC_SECRET "\n", 0600);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &options), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "line 2"));
    assert_null(strstr(dbm_error_message(), SRC_SECRET));

    write_file(credentials_path, "[default]\n", 0000);
    if (geteuid() != 0) {
        assert_int_equal(dbm_aws_credentials_resolve(&c, &options), DBM_ECONFIG);
        assert_non_null(strstr(dbm_error_message(), "unable to read the aws credentials file"));
    }
}

/* ---- precedence ---- */

static void environment_keys_come_before_the_profile(void **state)
{
    dbm_aws_credentials *c = NULL;

    (void)state;
    write_file(credentials_path,
               "[default]\naws_access_key_id = " SRC_AKID "\naws_secret_access_key = x\n", 0600);
    setenv("AWS_ACCESS_KEY_ID", "AKIAFROMENVIRONMENT1", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "envsecret", 1);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &options), 0);
    assert_string_equal(c->access_key_id, "AKIAFROMENVIRONMENT1");
    assert_string_equal(c->source, "environment");
    dbm_aws_credentials_free(c);
}

static void profile_comes_before_the_container(void **state)
{
    dbm_aws_credentials *c = NULL;
    fixture f;

    (void)state;
    /* The container endpoint would be a request the (empty) scenario refuses. */
    assert_int_equal(fixture_start(&f, "[]"), 0);
    {
        char *url = fixture_url(&f, "/v2/credentials/x");
        setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
        free(url);
    }
    write_file(credentials_path,
               "[default]\naws_access_key_id = " SRC_AKID "\naws_secret_access_key = x\n", 0600);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &options), 0);
    assert_string_equal(c->source, "profile:default");
    dbm_aws_credentials_free(c);
    assert_int_equal(fixture_finish(&f), 0);
}

/* ---- role_arn + source_profile ---- */

#define ASSUME_ROLE_REQUEST(session_name, extra, sig)                                              \
    "{'method':'POST','path':'/sts','form':{'Action':'AssumeRole','Version':'2011-06-15',"         \
    "'RoleArn':'" ROLE "','RoleSessionName':'" session_name "'" extra ",'DurationSeconds':'900'}," \
    "'headers':{'Content-Type':'application/x-www-form-urlencoded; charset=utf-8'},"               \
    "'sigv4':" sig ","
#define ASSUME_ROLE_EXCHANGE(session_name, extra, sig)                                             \
    ASSUME_ROLE_REQUEST(session_name, extra, sig)                                                  \
    "'reply':{'status':200,'sts_action':'AssumeRole','sts_credentials':{"                          \
    "'AccessKeyId':'" AKID "','SecretAccessKey':'" SECRET "','SessionToken':'" SESSION "'}}}"
#define BASE_SIG                                                                                   \
    "{'access_key_id':'" SRC_AKID "','secret_access_key':'" SRC_SECRET "','region':'eu-west-1',"   \
    "'service':'sts'}"

static void set_sts_endpoint(const fixture *f)
{
    char *url = fixture_url(f, "/sts");
    setenv("AWS_ENDPOINT_URL_STS", url, 1);
    free(url);
}

static void role_profile_assumes_the_role_signed_with_the_source_profile(void **state)
{
    dbm_aws_credentials *c = NULL;
    fixture f;

    (void)state;
    assert_int_equal(
        fixture_start(
            &f, "[" ASSUME_ROLE_EXCHANGE("db-migrate", "", BASE_SIG) "," ASSUME_ROLE_EXCHANGE(
                    "laptop", ",'ExternalId':'ext-1'",
                    "{'access_key_id':'" SRC_AKID "','secret_access_key':'" SRC_SECRET
                    "','session_token':'srctoken','region':'eu-west-1','service':'sts'}") "]"),
        0);
    set_sts_endpoint(&f);
    write_file(config_path,
               "[profile deploy]\nrole_arn = " ROLE "\nsource_profile = base\n"
               "[profile deploy2]\nrole_arn = " ROLE "\nsource_profile = base2\n"
               "role_session_name = laptop\nexternal_id = ext-1\n",
               0600);
    write_file(credentials_path,
               "[base]\naws_access_key_id = " SRC_AKID "\naws_secret_access_key = " SRC_SECRET "\n"
               "[base2]\naws_access_key_id = " SRC_AKID "\naws_secret_access_key = " SRC_SECRET
               "\naws_session_token = srctoken\n",
               0600);
    setenv("AWS_PROFILE", "deploy", 1);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &options), 0);
    assert_string_equal(c->access_key_id, AKID);
    assert_string_equal(c->secret_access_key, SECRET);
    assert_string_equal(c->session_token, SESSION);
    assert_string_equal(c->source, "profile:deploy");
    dbm_aws_credentials_free(c);

    setenv("AWS_PROFILE", "deploy2", 1);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &options), 0);
    assert_string_equal(c->access_key_id, AKID);
    dbm_aws_credentials_free(c);
    assert_int_equal(fixture_finish(&f), 0);
}

static void sts_refusing_assume_role_names_the_source_profile(void **state)
{
    dbm_aws_credentials *c = NULL;
    fixture f;

    (void)state;
    assert_int_equal(
        fixture_start(&f,
                      "[" ASSUME_ROLE_REQUEST(
                          "db-migrate", "",
                          BASE_SIG) "'reply':{'status':"
                                    "403,'sts_error':{"
                                    "'Code':'AccessDenied','Message':'not authorized to perform: "
                                    "sts:AssumeRole'}}}]"),
        0);
    set_sts_endpoint(&f);
    write_file(config_path, "[profile deploy]\nrole_arn = " ROLE "\nsource_profile = base\n", 0600);
    write_file(credentials_path,
               "[base]\naws_access_key_id = " SRC_AKID "\naws_secret_access_key = " SRC_SECRET "\n",
               0600);
    setenv("AWS_PROFILE", "deploy", 1);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &options), DBM_ECONNECT);
    assert_non_null(strstr(dbm_error_message(), "AccessDenied: not authorized"));
    assert_non_null(strstr(dbm_error_hint_text(), "profile:base"));
    assert_null(strstr(dbm_error_message(), SRC_SECRET));
    assert_int_equal(fixture_finish(&f), 0);
}

static void role_profiles_without_a_usable_source_are_errors(void **state)
{
    static const struct {
        const char *profile, *message;
    } cases[] = {
        {"nosource", "aws profile 'nosource' has role_arn without source_profile"},
        {"missing", "the source_profile 'gone' of aws profile 'missing' is not in"},
        {"loop", "aws profile 'loop2' starts a chain of more than 5 roles"},
        {"mfa", "aws profile 'mfa' has role_arn with mfa_serial"},
        {"empty", "aws profile 'empty' has no credentials db-migrate can use"},
        {"sso", "aws profile 'sso' has no credentials db-migrate can use"},
    };
    dbm_aws_credentials *c = NULL;

    (void)state;
    write_file(config_path,
               "[profile nosource]\nrole_arn = " ROLE "\n"
               "[profile missing]\nrole_arn = " ROLE "\nsource_profile = gone\n"
               "[profile loop]\nrole_arn = " ROLE "\nsource_profile = loop2\n"
               "[profile loop2]\nrole_arn = " ROLE "\nsource_profile = loop\n"
               "[profile mfa]\nrole_arn = " ROLE "\nsource_profile = mfa\nmfa_serial = x\n"
               "[profile empty]\n"
               "[profile sso]\nsso_session = corp\n",
               0600);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        setenv("AWS_PROFILE", cases[i].profile, 1);
        assert_int_equal(dbm_aws_credentials_resolve(&c, &options), DBM_ECONFIG);
        if (!strstr(dbm_error_message(), cases[i].message))
            fail_msg("%s: %s", cases[i].profile, dbm_error_message());
    }
    assert_non_null(strstr(dbm_error_hint_text(), "export-credentials --profile sso"));
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(ini_reads_sections_keys_and_comments),
        T(ini_rejects_bad_lines_with_the_line_number),
        T(ini_stops_when_the_callback_says_so),
        T(default_profile_static_keys_from_the_credentials_file),
        T(named_profile_merges_config_and_credentials),
        T(explicit_missing_profile_names_it_and_the_files),
        T(absent_default_profile_is_not_an_error),
        T(half_a_key_pair_and_bad_files_are_errors),
        T(environment_keys_come_before_the_profile),
        T(profile_comes_before_the_container),
        T(role_profile_assumes_the_role_signed_with_the_source_profile),
        T(sts_refusing_assume_role_names_the_source_profile),
        T(role_profiles_without_a_usable_source_are_errors),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
