#include "unit.h"

#include "common/error.h"
#include "net/sigv4.h"
#include "common/util.h"

#include <jansson.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* 2016-11-07T17:39:33Z */
#define KAT_TIME 1478540373

static void rds_token_matches_botocore_known_answer(void **state)
{
    char *tok = NULL;

    assert_int_equal(dbm_sigv4_rds_token(&tok, "prod-instance.us-east-1.rds.amazonaws.com", 3306,
                                         "someusername", "us-east-1", "akid", "skid", NULL,
                                         KAT_TIME),
                     0);
    assert_string_equal(
        tok, "prod-instance.us-east-1.rds.amazonaws.com:3306/?Action=connect&DBUser=someusername"
             "&X-Amz-Algorithm=AWS4-HMAC-SHA256"
             "&X-Amz-Credential=akid%2F20161107%2Fus-east-1%2Frds-db%2Faws4_request"
             "&X-Amz-Date=20161107T173933Z&X-Amz-Expires=900&X-Amz-SignedHeaders=host"
             "&X-Amz-Signature=d1138cdbc0ca63eec012ec0fc6c2267e03642168f5884a7795320d4c18374c61");
    dbm_secret_free(tok);
}

static void rds_token_signs_the_session_token(void **state)
{
    char *with = NULL, *without = NULL;

    assert_int_equal(dbm_sigv4_rds_token(&with, "h.example.com", 5432, "u", "us-east-1", "akid",
                                         "skid", "tok/en+=", KAT_TIME),
                     0);
    assert_int_equal(dbm_sigv4_rds_token(&without, "h.example.com", 5432, "u", "us-east-1", "akid",
                                         "skid", NULL, KAT_TIME),
                     0);
    assert_non_null(strstr(with, "&X-Amz-SignedHeaders=host&X-Amz-Security-Token=tok%2Fen%2B%3D"
                                 "&X-Amz-Signature="));
    assert_null(strstr(without, "X-Amz-Security-Token"));
    /* The signatures differ: the token is part of what is signed. */
    assert_string_not_equal(strstr(with, "X-Amz-Signature="), strstr(without, "X-Amz-Signature="));
    dbm_secret_free(with);
    dbm_secret_free(without);
}

static void rds_token_changes_with_every_input(void **state)
{
    char *base = NULL, *other = NULL;

    assert_int_equal(dbm_sigv4_rds_token(&base, "h", 5432, "u", "r", "a", "s", NULL, KAT_TIME), 0);
#define DIFFERS(...)                                                                               \
    do {                                                                                           \
        assert_int_equal(dbm_sigv4_rds_token(&other, __VA_ARGS__), 0);                             \
        assert_string_not_equal(strstr(base, "X-Amz-Signature="),                                  \
                                strstr(other, "X-Amz-Signature="));                                \
        dbm_secret_free(other);                                                                    \
    } while (0)
    DIFFERS("g", 5432, "u", "r", "a", "s", NULL, KAT_TIME);
    DIFFERS("h", 5433, "u", "r", "a", "s", NULL, KAT_TIME);
    DIFFERS("h", 5432, "v", "r", "a", "s", NULL, KAT_TIME);
    DIFFERS("h", 5432, "u", "q", "a", "s", NULL, KAT_TIME);
    DIFFERS("h", 5432, "u", "r", "b", "s", NULL, KAT_TIME);
    DIFFERS("h", 5432, "u", "r", "a", "t", NULL, KAT_TIME);
    DIFFERS("h", 5432, "u", "r", "a", "s", NULL, KAT_TIME + 1);
#undef DIFFERS
    dbm_secret_free(base);
}

static void rds_token_rejects_bad_inputs(void **state)
{
    char *tok = (char *)"untouched";

    assert_int_equal(dbm_sigv4_rds_token(&tok, "", 5432, "u", "r", "a", "s", NULL, 0), DBM_ECONFIG);
    assert_null(tok);
    assert_int_equal(dbm_sigv4_rds_token(&tok, "h/x", 5432, "u", "r", "a", "s", NULL, 0),
                     DBM_ECONFIG);
    assert_int_equal(dbm_sigv4_rds_token(&tok, "h@evil", 5432, "u", "r", "a", "s", NULL, 0),
                     DBM_ECONFIG);
    assert_int_equal(dbm_sigv4_rds_token(&tok, "h", 0, "u", "r", "a", "s", NULL, 0), DBM_ECONFIG);
    assert_int_equal(dbm_sigv4_rds_token(&tok, "h", 65536, "u", "r", "a", "s", NULL, 0),
                     DBM_ECONFIG);
    assert_int_equal(dbm_sigv4_rds_token(&tok, "h", 5432, "", "r", "a", "s", NULL, 0), DBM_ECONFIG);
    assert_int_equal(dbm_sigv4_rds_token(&tok, "h", 5432, "u", NULL, "a", "s", NULL, 0),
                     DBM_ECONFIG);
    assert_non_null(dbm_error_hint_text());
    assert_int_equal(dbm_sigv4_rds_token(&tok, "h", 5432, "u", "r", "a", "", NULL, 0), DBM_ECONFIG);
    /* The secret never appears in a message. */
    assert_int_equal(dbm_sigv4_rds_token(&tok, "h", 5432, "u", "r", NULL, "topsecret", NULL, 0),
                     DBM_ECONFIG);
    assert_null(strstr(dbm_error_message(), "topsecret"));
}

static void uri_encode_keeps_only_unreserved(void **state)
{
    static const struct {
        const char *in, *out;
    } cases[] = {
        {"", ""},
        {"AZaz09-_.~", "AZaz09-_.~"},
        {"a b", "a%20b"},
        {"@+/=&?#%:", "%40%2B%2F%3D%26%3F%23%25%3A"},
        {"é", "%C3%A9"},
        {"\xf0\x9f\x90\x98", "%F0%9F%90%98"},
        {"\x7f\x01", "%7F%01"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *enc = dbm_sigv4_uri_encode(cases[i].in);
        assert_string_equal(enc, cases[i].out);
        free(enc);
    }
}

static const char *python(void)
{
    const char *p = getenv("DBM_PYTHON");
    if (p && *p)
        return p;
    return access("/usr/bin/python3", X_OK) == 0 ? "/usr/bin/python3" : "python3";
}

/* Run gen_sigv4_vectors.py (next to this file) into `path`; its exit status. */
static int generate_vectors(const char *path, const char *count)
{
    char *script = dbm_xasprintf("%.*s/gen_sigv4_vectors.py",
                                 (int)(strrchr(__FILE__, '/') - __FILE__), __FILE__);
    char *argv[] = {(char *)python(), script, (char *)path, (char *)count, NULL};
    pid_t pid;
    int status = -1;

    if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ) != 0) {
        free(script);
        return -1;
    }
    waitpid(pid, &status, 0);
    free(script);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static const char *str_field(json_t *o, const char *name)
{
    json_t *v = json_object_get(o, name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/*
 * Botocore (Debian's python3-botocore) computes the tokens for a few hundred
 * generated inputs with its clock frozen; every one must match byte for byte.
 */
static void rds_token_matches_botocore_for_generated_inputs(void **state)
{
    char dir[] = "/tmp/dbm-sigv4-XXXXXX";
    char *path, line[8192];
    size_t compared = 0, with_token = 0, mismatches = 0;
    FILE *f;

    assert_non_null(mkdtemp(dir));
    path = dbm_xasprintf("%s/vectors.jsonl", dir);
    assert_int_equal(generate_vectors(path, "400"), 0);
    f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f)) {
        json_error_t err;
        json_t *v = json_loads(line, 0, &err);
        char *tok = NULL;

        assert_non_null(v);
        assert_int_equal(
            dbm_sigv4_rds_token(
                &tok, str_field(v, "host"), (int)json_integer_value(json_object_get(v, "port")),
                str_field(v, "user"), str_field(v, "region"), str_field(v, "access_key_id"),
                str_field(v, "secret_access_key"), str_field(v, "session_token"),
                (time_t)json_integer_value(json_object_get(v, "time"))),
            0);
        if (strcmp(tok, str_field(v, "token")) != 0) {
            if (mismatches++ < 5)
                print_error("mismatch for host '%s' user '%s':\n  got  %s\n  want %s\n",
                            str_field(v, "host"), str_field(v, "user"), tok, str_field(v, "token"));
        }
        compared++;
        if (str_field(v, "session_token"))
            with_token++;
        dbm_secret_free(tok);
        json_decref(v);
    }
    fclose(f);
    unlink(path);
    rmdir(dir);
    free(path);
    assert_int_equal(mismatches, 0);
    assert_true(compared >= 400);
    assert_true(with_token >= 100 && with_token < compared);
}

/*
 * Header signing of an STS AssumeRole POST, with and without a session token.
 * The expected signatures are botocore's SigV4Auth (python3-botocore 1.43)
 * for the same request at 2024-01-02T03:04:05Z.
 */
#define STS_BODY                                                                                   \
    "Action=AssumeRole&Version=2011-06-15&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2F"     \
    "deploy&RoleSessionName=db-migrate&DurationSeconds=900"

static void header_signature_matches_botocore_known_answer(void **state)
{
    dbm_sigv4_request r = {
        .method = "POST",
        .host = "sts.eu-west-1.amazonaws.com",
        .path = "/",
        .content_type = "application/x-www-form-urlencoded; charset=utf-8",
        .body = STS_BODY,
        .body_len = strlen(STS_BODY),
        .region = "eu-west-1",
        .service = "sts",
        .access_key_id = "AKIDEXAMPLE",
        .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        .session_token = "session/token+=",
        .now = 1704164645,
    };
    char amz_date[17], *auth = NULL;

    assert_int_equal(dbm_sigv4_sign_headers(&auth, amz_date, &r), 0);
    assert_string_equal(amz_date, "20240102T030405Z");
    assert_string_equal(
        auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/eu-west-1/sts/aws4_request, "
              "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, "
              "Signature=e6291e757783927b81a1e3c3ebe0fe60e0ebd1720df0787563469e287d634318");
    free(auth);

    r.session_token = NULL;
    assert_int_equal(dbm_sigv4_sign_headers(&auth, amz_date, &r), 0);
    assert_string_equal(
        auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/eu-west-1/sts/aws4_request, "
              "SignedHeaders=content-type;host;x-amz-date, "
              "Signature=dd229c859625362cc43291a7523e5ca42166d5e267e21b7612bb2264b973f844");
    free(auth);

    r.secret_access_key = "";
    assert_int_equal(dbm_sigv4_sign_headers(&auth, amz_date, &r), DBM_ECONFIG);
    assert_null(auth);
}

/*
 * A JSON API call (ECS RunTask) signs its X-Amz-Target header too. The expected
 * signatures are botocore's SigV4Auth for the same request at 2024-01-02T03:04:05Z.
 */
#define ECS_BODY "{\"cluster\":\"prod\",\"taskDefinition\":\"app:3\"}"

static void header_signature_signs_the_target(void **state)
{
    dbm_sigv4_request r = {
        .method = "POST",
        .host = "ecs.eu-west-1.amazonaws.com",
        .path = "/",
        .content_type = "application/x-amz-json-1.1",
        .body = ECS_BODY,
        .body_len = strlen(ECS_BODY),
        .region = "eu-west-1",
        .service = "ecs",
        .access_key_id = "AKIDEXAMPLE",
        .secret_access_key = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        .session_token = "session/token+=",
        .target = "AmazonEC2ContainerServiceV20141113.RunTask",
        .now = 1704164645,
    };
    char amz_date[17], *auth = NULL;

    assert_int_equal(dbm_sigv4_sign_headers(&auth, amz_date, &r), 0);
    assert_string_equal(
        auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/eu-west-1/ecs/aws4_request, "
              "SignedHeaders=content-type;host;x-amz-date;x-amz-security-token;x-amz-target, "
              "Signature=7e6d193b9fd489c9b8fb3007b213fa6fd8516ef5481550309d335657e82aca79");
    free(auth);
    r.session_token = NULL;
    assert_int_equal(dbm_sigv4_sign_headers(&auth, amz_date, &r), 0);
    assert_string_equal(
        auth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20240102/eu-west-1/ecs/aws4_request, "
              "SignedHeaders=content-type;host;x-amz-date;x-amz-target, "
              "Signature=d973bda8af58e8e4e705fa351b0daaf63dda54bc179700c3ff7674858edf08fc");
    free(auth);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rds_token_matches_botocore_known_answer),
        cmocka_unit_test(header_signature_signs_the_target),
        cmocka_unit_test(rds_token_signs_the_session_token),
        cmocka_unit_test(rds_token_changes_with_every_input),
        cmocka_unit_test(rds_token_rejects_bad_inputs),
        cmocka_unit_test(uri_encode_keeps_only_unreserved),
        cmocka_unit_test(rds_token_matches_botocore_for_generated_inputs),
        cmocka_unit_test(header_signature_matches_botocore_known_answer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
