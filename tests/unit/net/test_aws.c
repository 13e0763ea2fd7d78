#include "unit.h"

#include "net/aws.h"
#include "common/error.h"
#include "fixture.h"
#include "common/log.h"
#include "net/sigv4.h"
#include "common/util.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * Credentials resolution against tests/fixtures/aws_fixture.py, which checks
 * every request (method, path, query, form body, headers) and answers with
 * the documented shapes of GitHub's OIDC endpoint, STS and the ECS agent.
 */

#define ROLE      "arn:aws:iam::123456789012:role/deploy"
#define REQ_TOKEN "ghs_RequestToken0123456789"
#define JWT       "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOmV4YW1wbGUvYXBwIn0.c2lnbmF0dXJlLXNlY3JldA"
#define AKID      "ASIAFIXTUREEXAMPLE01"
#define SECRET    "fixtureSecret/Key+With=Chars0123456789ab"
#define SESSION   "FwoGZXIvYXdzEJr//////////wEaDFixtureSession+Token/=="
#define FILE_JWT  "eyJraWQiOiJmaWxlIn0.eyJzdWIiOiJzeXN0ZW06c2EifQ.ZmlsZS1zaWduYXR1cmU"
#define ECS_TOKEN "ecs-authorization-token-0123"

#define OIDC_EXCHANGE(audience, reply)                                                             \
    "{'method':'GET','path':'/oidc/token','query':{'api-version':'2.0','audience':'" audience      \
    "'},'headers':{'Authorization':'bearer " REQ_TOKEN "'},'reply':" reply "}"
#define OIDC_OK "{'status':200,'oidc_token':'" JWT "'}"

#define STS_EXCHANGE(path, token, session, reply)                                                  \
    "{'method':'POST','path':'" path "','form':{'Action':'AssumeRoleWithWebIdentity',"             \
    "'Version':'2011-06-15','RoleArn':'" ROLE "','RoleSessionName':'" session "',"                 \
    "'WebIdentityToken':'" token "','DurationSeconds':'900'},"                                     \
    "'headers':{'Content-Type':'application/x-www-form-urlencoded; charset=utf-8'},"               \
    "'absent_headers':['Authorization','X-Amz-Security-Token'],'reply':" reply "}"
#define STS_OK                                                                                     \
    "{'status':200,'sts_credentials':{'AccessKeyId':'" AKID "','SecretAccessKey':'" SECRET         \
    "','SessionToken':'" SESSION "','Expiration':'2030-01-01T00:15:00Z'}}"
#define STS_ERROR(status, code, message)                                                           \
    "{'status':" #status ",'sts_error':{'Code':'" code "','Message':'" message "'}}"

static const char *const all_secrets[] = {REQ_TOKEN, JWT,      AKID,      SECRET,
                                          SESSION,   FILE_JWT, ECS_TOKEN, NULL};

static const char *const aws_variables[] = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_WEB_IDENTITY_TOKEN_FILE",
    "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_STS",
    "AWS_PROFILE",
    "ACTIONS_ID_TOKEN_REQUEST_URL",
    "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
    "GITHUB_ACTIONS",
    "http_proxy",
    "https_proxy",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "all_proxy",
    NULL,
};

static int clean_environment(void **state)
{
    for (int i = 0; aws_variables[i]; i++)
        unsetenv(aws_variables[i]);
    setenv("NO_PROXY", "127.0.0.1", 1);
    /* The developer's own ~/.aws files must not take part. */
    setenv("AWS_CONFIG_FILE", "/nonexistent/aws-config", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/aws-credentials", 1);
    dbm_error_clear();
    return 0;
}

static void setenv_url(const char *name, const fixture *f, const char *path)
{
    char *url = fixture_url(f, path);
    setenv(name, url, 1);
    free(url);
}

static void github_oidc_environment(const fixture *f)
{
    setenv_url("ACTIONS_ID_TOKEN_REQUEST_URL", f, "/oidc/token?api-version=2.0");
    setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", REQ_TOKEN, 1);
    setenv_url("AWS_ENDPOINT_URL_STS", f, "/sts");
}

/* Neither the message nor the hint of the current error holds a secret. */
static void assert_error_has_no_secret(void)
{
    const char *hint = dbm_error_hint_text();
    for (int i = 0; all_secrets[i]; i++) {
        assert_null(strstr(dbm_error_message(), all_secrets[i]));
        if (hint)
            assert_null(strstr(hint, all_secrets[i]));
    }
}

static void assert_fixture_credentials(const dbm_aws_credentials *c, const char *source)
{
    assert_non_null(c);
    assert_string_equal(c->access_key_id, AKID);
    assert_string_equal(c->secret_access_key, SECRET);
    assert_string_equal(c->session_token, SESSION);
    assert_string_equal(c->source, source);
}

static const dbm_aws_options role_options = {.region = "eu-west-1", .role_to_assume = ROLE};
static const dbm_aws_options plain_options = {.region = "eu-west-1"};

static void oidc_role_is_assumed_through_sts(void **state)
{
    dbm_aws_credentials *c = NULL;
    fixture f;

    assert_int_equal(
        fixture_start(&f, "[" OIDC_EXCHANGE("sts.amazonaws.com", OIDC_OK) "," STS_EXCHANGE(
                              "/sts", JWT, "db-migrate", STS_OK) "]"),
        0);
    github_oidc_environment(&f);
    /* role-to-assume comes first: keys in the environment are not used. */
    setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENTKEY01", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "environment-secret", 1);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &role_options), 0);
    assert_int_equal(fixture_finish(&f), 0);
    assert_fixture_credentials(c, "oidc-role");
    dbm_aws_credentials_free(c);
}

static void oidc_audience_and_session_name_are_passed(void **state)
{
    dbm_aws_options opts = {.region = "us-east-2",
                            .role_to_assume = ROLE,
                            .role_session_name = "deploy-42",
                            .audience = "api://db migrate/é"};
    dbm_aws_credentials *c = NULL;
    fixture f;

    assert_int_equal(
        fixture_start(&f, "[" OIDC_EXCHANGE("api://db migrate/é", OIDC_OK) "," STS_EXCHANGE(
                              "/sts", JWT, "deploy-42", STS_OK) "]"),
        0);
    github_oidc_environment(&f);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &opts), 0);
    assert_int_equal(fixture_finish(&f), 0);
    assert_fixture_credentials(c, "oidc-role");
    dbm_aws_credentials_free(c);
}

static void oidc_variables_missing_names_the_permission(void **state)
{
    dbm_aws_credentials *c = NULL;

    assert_int_equal(dbm_aws_credentials_resolve(&c, &role_options), DBM_ECONFIG);
    assert_null(c);
    assert_non_null(strstr(dbm_error_message(), "ACTIONS_ID_TOKEN_REQUEST_URL"));
    assert_non_null(strstr(dbm_error_hint_text(), "id-token: write"));

    setenv("ACTIONS_ID_TOKEN_REQUEST_URL", "http://127.0.0.1:1/x?api-version=2.0", 1);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &role_options), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "ACTIONS_ID_TOKEN_REQUEST_TOKEN"));
    assert_non_null(strstr(dbm_error_hint_text(), "id-token: write"));
}

static void oidc_endpoint_refusal_is_a_connection_error(void **state)
{
    dbm_aws_credentials *c = NULL;
    fixture f;

    assert_int_equal(
        fixture_start(&f,
                      "[" OIDC_EXCHANGE("sts.amazonaws.com",
                                        "{'status':403,'raw':'{\\'message\\':\\'nope\\'}'}") "]"),
        0);
    github_oidc_environment(&f);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &role_options), DBM_ECONNECT);
    assert_int_equal(fixture_finish(&f), 0);
    assert_non_null(strstr(dbm_error_message(), "HTTP 403"));
    assert_non_null(strstr(dbm_error_hint_text(), "id-token: write"));
    assert_error_has_no_secret();
}

static void sts_access_denied_reports_sts_message(void **state)
{
    dbm_aws_credentials *c = NULL;
    fixture f;

    assert_int_equal(
        fixture_start(
            &f, "[" OIDC_EXCHANGE("sts.amazonaws.com", OIDC_OK) "," STS_EXCHANGE(
                    "/sts", JWT, "db-migrate",
                    STS_ERROR(403, "AccessDenied",
                              "Not authorized to perform sts:AssumeRoleWithWebIdentity")) "]"),
        0);
    github_oidc_environment(&f);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &role_options), DBM_ECONNECT);
    assert_int_equal(fixture_finish(&f), 0);
    assert_null(c);
    assert_string_equal(dbm_error_message(),
                        "aws sts refused to assume role '" ROLE "': AccessDenied: Not authorized "
                        "to perform sts:AssumeRoleWithWebIdentity");
    assert_non_null(strstr(dbm_error_hint_text(), "trust policy"));
    assert_non_null(strstr(dbm_error_hint_text(), "sts.amazonaws.com"));
    assert_error_has_no_secret();
}

static void sts_invalid_identity_token_reports_sts_message(void **state)
{
    dbm_aws_credentials *c = NULL;
    fixture f;

    assert_int_equal(
        fixture_start(&f, "[" OIDC_EXCHANGE("sts.amazonaws.com", OIDC_OK) "," STS_EXCHANGE(
                              "/sts", JWT, "db-migrate",
                              STS_ERROR(400, "InvalidIdentityToken",
                                        "No OpenIDConnect provider found in your account for "
                                        "https://token.actions.githubusercontent.com")) "]"),
        0);
    github_oidc_environment(&f);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &role_options), DBM_ECONNECT);
    assert_int_equal(fixture_finish(&f), 0);
    assert_non_null(strstr(dbm_error_message(), "InvalidIdentityToken: No OpenIDConnect provider "
                                                "found in your account"));
    assert_non_null(strstr(dbm_error_hint_text(), "OpenID Connect provider"));
    assert_error_has_no_secret();
}

static void sts_message_echoing_the_token_is_redacted(void **state)
{
    dbm_aws_credentials *c = NULL;
    fixture f;

    assert_int_equal(
        fixture_start(&f, "[" OIDC_EXCHANGE("sts.amazonaws.com", OIDC_OK) "," STS_EXCHANGE(
                              "/sts", JWT, "db-migrate",
                              STS_ERROR(400, "InvalidIdentityToken",
                                        "Token " JWT " & more <not> valid")) "]"),
        0);
    github_oidc_environment(&f);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &role_options), DBM_ECONNECT);
    assert_int_equal(fixture_finish(&f), 0);
    assert_non_null(strstr(dbm_error_message(), "Token *** & more <not> valid"));
    assert_error_has_no_secret();
}

static void sts_server_errors_are_retried(void **state)
{
    dbm_aws_credentials *c = NULL;
    fixture f;

    assert_int_equal(
        fixture_start(
            &f,
            "[" OIDC_EXCHANGE("sts.amazonaws.com", OIDC_OK) "," STS_EXCHANGE(
                "/sts", JWT, "db-migrate",
                "{'status':500,'sts_error':{'Type':'Receiver','Code':'InternalFailure',"
                "'Message':'An internal error occurred'}}") "," STS_EXCHANGE("/sts", JWT,
                                                                             "db-migrate",
                                                                             "{'status':503,"
                                                                             "'raw':''}") "," STS_EXCHANGE("/sts",
                                                                                                           JWT,
                                                                                                           "db-migrate",
                                                                                                           STS_OK) "]"),
        0);
    github_oidc_environment(&f);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &role_options), 0);
    assert_int_equal(fixture_finish(&f), 0);
    assert_fixture_credentials(c, "oidc-role");
    dbm_aws_credentials_free(c);
}

static void sts_server_errors_fail_after_the_retries(void **state)
{
#define STS_500 STS_EXCHANGE("/sts", JWT, "db-migrate", STS_ERROR(500, "InternalFailure", "oops"))
    dbm_aws_credentials *c = NULL;
    fixture f;

    assert_int_equal(fixture_start(&f, "[" OIDC_EXCHANGE("sts.amazonaws.com",
                                                         OIDC_OK) "," STS_500 "," STS_500
                                                                  "," STS_500 "," STS_500 "]"),
                     0);
#undef STS_500
    github_oidc_environment(&f);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &role_options), DBM_ECONNECT);
    assert_int_equal(fixture_finish(&f), 0);
    assert_non_null(strstr(dbm_error_message(), "HTTP 500"));
    assert_non_null(strstr(dbm_error_message(), "InternalFailure: oops"));
    assert_error_has_no_secret();
}

static void sts_endpoint_override_prefers_the_sts_variable(void **state)
{
    dbm_aws_credentials *c = NULL;
    fixture f;

    assert_int_equal(
        fixture_start(&f, "[" OIDC_EXCHANGE("sts.amazonaws.com", OIDC_OK) "," STS_EXCHANGE(
                              "/sts-specific", JWT, "db-migrate",
                              STS_OK) "," OIDC_EXCHANGE("sts.amazonaws.com",
                                                        OIDC_OK) "," STS_EXCHANGE("/generic", JWT,
                                                                                  "db-migrate",
                                                                                  STS_OK) "]"),
        0);
    github_oidc_environment(&f);
    setenv_url("AWS_ENDPOINT_URL_STS", &f, "/sts-specific");
    setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:1/not-this-one", 1);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &role_options), 0);
    assert_fixture_credentials(c, "oidc-role");
    dbm_aws_credentials_free(c);

    unsetenv("AWS_ENDPOINT_URL_STS");
    setenv_url("AWS_ENDPOINT_URL", &f, "/generic");
    assert_int_equal(dbm_aws_credentials_resolve(&c, &role_options), 0);
    assert_fixture_credentials(c, "oidc-role");
    dbm_aws_credentials_free(c);
    assert_int_equal(fixture_finish(&f), 0);
}

static void environment_keys_are_used_without_a_role(void **state)
{
    dbm_aws_credentials *c = NULL;

    setenv("AWS_ACCESS_KEY_ID", AKID, 1);
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    setenv("AWS_SESSION_TOKEN", SESSION, 1);
    /* Sources further down the order are not consulted. */
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token", 1);
    setenv("AWS_ROLE_ARN", ROLE, 1);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:1/creds", 1);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &plain_options), 0);
    assert_fixture_credentials(c, "environment");
    dbm_aws_credentials_free(c);

    unsetenv("AWS_SESSION_TOKEN");
    assert_int_equal(dbm_aws_credentials_resolve(&c, &plain_options), 0);
    assert_null(c->session_token);
    dbm_aws_credentials_free(c);
}

static void environment_key_without_secret_is_a_config_error(void **state)
{
    dbm_aws_credentials *c = NULL;

    setenv("AWS_ACCESS_KEY_ID", AKID, 1);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &plain_options), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "AWS_SECRET_ACCESS_KEY"));
    assert_error_has_no_secret();
}

static void web_identity_file_is_exchanged_through_sts(void **state)
{
    char path[] = "/tmp/dbm-webid-XXXXXX";
    dbm_aws_credentials *c = NULL;
    fixture f;
    int fd;

    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, FILE_JWT "\n", strlen(FILE_JWT) + 1), (ssize_t)strlen(FILE_JWT) + 1);
    close(fd);
    assert_int_equal(
        fixture_start(&f, "[" STS_EXCHANGE("/sts", FILE_JWT, "db-migrate", STS_OK) "," STS_EXCHANGE(
                              "/sts", FILE_JWT, "irsa-session", STS_OK) "]"),
        0);
    setenv_url("AWS_ENDPOINT_URL_STS", &f, "/sts");
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", path, 1);
    setenv("AWS_ROLE_ARN", ROLE, 1);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &plain_options), 0);
    assert_fixture_credentials(c, "web-identity-file");
    dbm_aws_credentials_free(c);

    setenv("AWS_ROLE_SESSION_NAME", "irsa-session", 1);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &plain_options), 0);
    assert_fixture_credentials(c, "web-identity-file");
    dbm_aws_credentials_free(c);
    assert_int_equal(fixture_finish(&f), 0);
    unlink(path);

    /* The file is gone: a configuration error that names it, not its contents. */
    assert_int_equal(dbm_aws_credentials_resolve(&c, &plain_options), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), path));
}

static void ecs_full_uri_is_queried_with_the_authorization_token(void **state)
{
#define ECS_EXCHANGE(token)                                                                        \
    "{'method':'GET','path':'/v2/credentials/3f9a','headers':{'Authorization':'" token "'},"       \
    "'reply':{'status':200,'ecs_credentials':{'AccessKeyId':'" AKID "','SecretAccessKey':'" SECRET \
    "','Token':'" SESSION "','Expiration':'2030-01-01T00:15:00Z',"                                 \
    "'RoleArn':'arn:aws:iam::123456789012:role/task'}}}"
    char path[] = "/tmp/dbm-ecstok-XXXXXX";
    dbm_aws_credentials *c = NULL;
    fixture f;
    int fd;

    fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "from-file-token\n", 16), 16);
    close(fd);
    assert_int_equal(
        fixture_start(&f, "[" ECS_EXCHANGE(ECS_TOKEN) "," ECS_EXCHANGE("from-file-token") "]"), 0);
#undef ECS_EXCHANGE
    setenv_url("AWS_CONTAINER_CREDENTIALS_FULL_URI", &f, "/v2/credentials/3f9a");
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", ECS_TOKEN, 1);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &plain_options), 0);
    assert_fixture_credentials(c, "ecs");
    dbm_aws_credentials_free(c);

    /* The token file, when given, wins over the token variable. */
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", path, 1);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &plain_options), 0);
    assert_fixture_credentials(c, "ecs");
    dbm_aws_credentials_free(c);
    assert_int_equal(fixture_finish(&f), 0);
    unlink(path);
}

static void ecs_full_uri_must_be_loopback_or_https(void **state)
{
    dbm_aws_credentials *c = NULL;

    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://169.254.169.254.example.com/creds", 1);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &plain_options), DBM_ECONFIG);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1.example.com/creds", 1);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &plain_options), DBM_ECONFIG);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "file:///etc/passwd", 1);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &plain_options), DBM_ECONFIG);
    assert_null(c);
}

static void no_credentials_is_a_config_error(void **state)
{
    dbm_aws_credentials *c = NULL;

    assert_int_equal(dbm_aws_credentials_resolve(&c, &plain_options), DBM_ECONFIG);
    assert_null(c);
    assert_string_equal(dbm_error_message(), "no aws credentials found for aws-iam authentication");
    assert_non_null(strstr(dbm_error_hint_text(), "role-to-assume"));
}

static void missing_region_is_a_config_error(void **state)
{
    dbm_aws_options opts = {.region = NULL};
    dbm_aws_credentials *c = NULL;

    setenv("AWS_ACCESS_KEY_ID", AKID, 1);
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    assert_int_equal(dbm_aws_credentials_resolve(&c, &opts), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "region"));
    assert_non_null(strstr(dbm_error_hint_text(), "aws-region"));
}

/* The password is a token presigned now with the resolved credentials. */
static void rds_password_presigns_with_the_resolved_credentials(void **state)
{
    char *password = NULL, *again = NULL;
    const char *date;
    struct tm tm = {0};
    time_t before = time(NULL);

    setenv("AWS_ACCESS_KEY_ID", AKID, 1);
    setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
    setenv("AWS_SESSION_TOKEN", SESSION, 1);
    assert_int_equal(dbm_aws_rds_password(&password, &plain_options, "db.example.com", 5432, "app"),
                     0);
    assert_true(dbm_starts_with(password, "db.example.com:5432/?Action=connect&DBUser=app&"));
    assert_non_null(strstr(password, "X-Amz-Credential=" AKID "%2F"));
    assert_non_null(strstr(password, "%2Feu-west-1%2Frds-db%2Faws4_request&"));
    date = strstr(password, "X-Amz-Date=");
    assert_non_null(date);
    assert_non_null(strptime(date + strlen("X-Amz-Date="), "%Y%m%dT%H%M%SZ", &tm));
    assert_true(timegm(&tm) >= before - 1 && timegm(&tm) <= time(NULL));
    assert_int_equal(dbm_sigv4_rds_token(&again, "db.example.com", 5432, "app", "eu-west-1", AKID,
                                         SECRET, SESSION, timegm(&tm)),
                     0);
    assert_string_equal(password, again);
    dbm_secret_free(password);
    dbm_secret_free(again);

    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    assert_int_equal(dbm_aws_rds_password(&password, &plain_options, "db.example.com", 5432, "app"),
                     DBM_ECONFIG);
    assert_null(password);
}

/* Under Actions every credential and token is announced with ::add-mask::. */
static void every_secret_is_masked_under_actions(void **state)
{
    char path[] = "/tmp/dbm-stdout-XXXXXX";
    char *out = NULL, *password = NULL, *line, *escaped;
    size_t len = 0;
    int fd, saved;
    fixture f;

    assert_int_equal(
        fixture_start(&f, "[" OIDC_EXCHANGE("sts.amazonaws.com", OIDC_OK) "," STS_EXCHANGE(
                              "/sts", JWT, "db-migrate", STS_OK) "]"),
        0);
    github_oidc_environment(&f);
    setenv("GITHUB_ACTIONS", "true", 1);
    fd = mkstemp(path);
    assert_true(fd >= 0);
    fflush(stdout);
    saved = dup(1);
    dup2(fd, 1);
    assert_int_equal(dbm_aws_rds_password(&password, &role_options, "db.example.com", 5432, "app"),
                     0);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    close(fd);
    unsetenv("GITHUB_ACTIONS");
    assert_int_equal(fixture_finish(&f), 0);
    assert_int_equal(dbm_read_file(&out, &len, path), 0);
    unlink(path);
    for (int i = 0; i < 5; i++) {
        line = dbm_xasprintf("::add-mask::%s\n", all_secrets[i]);
        assert_non_null(strstr(out, line));
        free(line);
    }
    /* The token holds '%': the runner wants it escaped as %25 in the command. */
    escaped = dbm_escape_command_data(password);
    line = dbm_xasprintf("::add-mask::%s\n", escaped);
    assert_non_null(strstr(out, line));
    free(escaped);
    free(line);
    /* Each mask comes before anything else mentions the secret. */
    assert_true(strstr(out, "::add-mask::" SECRET) == strstr(out, SECRET) - strlen("::add-mask::"));
    free(out);
    dbm_secret_free(password);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup(name, clean_environment)
    const struct CMUnitTest tests[] = {
        T(oidc_role_is_assumed_through_sts),
        T(oidc_audience_and_session_name_are_passed),
        T(oidc_variables_missing_names_the_permission),
        T(oidc_endpoint_refusal_is_a_connection_error),
        T(sts_access_denied_reports_sts_message),
        T(sts_invalid_identity_token_reports_sts_message),
        T(sts_message_echoing_the_token_is_redacted),
        T(sts_server_errors_are_retried),
        T(sts_server_errors_fail_after_the_retries),
        T(sts_endpoint_override_prefers_the_sts_variable),
        T(environment_keys_are_used_without_a_role),
        T(environment_key_without_secret_is_a_config_error),
        T(web_identity_file_is_exchanged_through_sts),
        T(ecs_full_uri_is_queried_with_the_authorization_token),
        T(ecs_full_uri_must_be_loopback_or_https),
        T(no_credentials_is_a_config_error),
        T(missing_region_is_a_config_error),
        T(rds_password_presigns_with_the_resolved_credentials),
        T(every_secret_is_masked_under_actions),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
