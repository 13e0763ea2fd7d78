#include "unit.h"

#include "common/error.h"
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

/*
 * Each test starts from an environment without the variables the
 * configuration reads (action inputs, GitHub's, libpq's, DB_*, AWS_*), sets
 * the ones it is about, and loads the configuration from an argv.
 */
static int clean_env(void **state)
{
    static const char *const prefixes[] = {"INPUT_", "GITHUB_", "PG",          "DB_",
                                           "AWS_",   "RUNNER_", "DATABASE_URL"};
    bool again = true;

    while (again) {
        again = false;
        for (char **e = environ; *e && !again; e++)
            for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
                if (strncmp(*e, prefixes[i], strlen(prefixes[i])) == 0) {
                    char *name = strndup(*e, strcspn(*e, "="));
                    unsetenv(name);
                    free(name);
                    again = true; /* environ changed under the loop */
                    break;
                }
    }
    dbm_error_clear();
    return 0;
}

/* Load from "db-migrate" followed by the NULL-terminated arguments. */
static int load(dbm_config **cfg, ...)
{
    char *argv[16] = {(char *)"db-migrate"};
    int argc = 1;
    va_list ap;

    va_start(ap, cfg);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 15;)
        argv[argc++] = a;
    va_end(ap);
    return dbm_config_load(cfg, argc, argv);
}

/* The option's value with nothing, the environment default, the input, then the flag set. */
static void migrations_dir_flag_beats_input_beats_default(void **state)
{
    dbm_config *cfg = NULL;

    assert_int_equal(load(&cfg, NULL), 0);
    assert_string_equal(cfg->migrations_dir, "migrations");
    dbm_config_free(cfg);

    setenv("INPUT_MIGRATIONS-DIR", "from-input", 1);
    assert_int_equal(load(&cfg, NULL), 0);
    assert_string_equal(cfg->migrations_dir, "from-input");
    dbm_config_free(cfg);

    assert_int_equal(load(&cfg, "--migrations-dir", "from-flag", NULL), 0);
    assert_string_equal(cfg->migrations_dir, "from-flag");
    dbm_config_free(cfg);

    assert_int_equal(load(&cfg, "--migrations-dir=with-equals", NULL), 0);
    assert_string_equal(cfg->migrations_dir, "with-equals");
    dbm_config_free(cfg);
}

static void inputs_are_read_with_hyphens_or_underscores(void **state)
{
    dbm_config *cfg = NULL;

    setenv("INPUT_HISTORY_SCHEMA", "underscored", 1);
    assert_int_equal(load(&cfg, NULL), 0);
    assert_string_equal(cfg->history_schema, "underscored");
    dbm_config_free(cfg);

    /* The runner's own spelling (hyphens kept) wins over the hand-written one. */
    setenv("INPUT_HISTORY-SCHEMA", "hyphenated", 1);
    assert_int_equal(load(&cfg, NULL), 0);
    assert_string_equal(cfg->history_schema, "hyphenated");
    dbm_config_free(cfg);
}

static void lock_timeout_flag_beats_input_beats_default(void **state)
{
    dbm_config *cfg = NULL;

    assert_int_equal(load(&cfg, NULL), 0);
    assert_int_equal(cfg->lock_timeout_ms, 5000);
    assert_int_equal(cfg->run_lock_wait_ms, 600000);
    assert_int_equal(cfg->statement_timeout_ms, 0);
    assert_int_equal(cfg->lock_retries, 3);
    dbm_config_free(cfg);

    setenv("INPUT_LOCK-TIMEOUT", "2s", 1);
    assert_int_equal(load(&cfg, NULL), 0);
    assert_int_equal(cfg->lock_timeout_ms, 2000);
    dbm_config_free(cfg);

    assert_int_equal(load(&cfg, "--lock-timeout", "750ms", NULL), 0);
    assert_int_equal(cfg->lock_timeout_ms, 750);
    dbm_config_free(cfg);
}

static void database_url_flag_beats_input_beats_environment(void **state)
{
    dbm_config *cfg = NULL;

    setenv("DATABASE_URL", "postgresql://env/db", 1);
    assert_int_equal(load(&cfg, NULL), 0);
    assert_string_equal(cfg->database_url, "postgresql://env/db");
    dbm_config_free(cfg);

    setenv("INPUT_DATABASE-URL", "postgresql://input/db", 1);
    assert_int_equal(load(&cfg, NULL), 0);
    assert_string_equal(cfg->database_url, "postgresql://input/db");
    dbm_config_free(cfg);

    assert_int_equal(load(&cfg, "--database-url", "postgresql://flag/db", NULL), 0);
    assert_string_equal(cfg->database_url, "postgresql://flag/db");
    assert_false(cfg->database_from_pgenv);
    dbm_config_free(cfg);
}

static void database_url_env_beats_pg_variables_beats_db_variables(void **state)
{
    dbm_config *cfg = NULL;

    assert_int_equal(load(&cfg, NULL), 0);
    assert_null(cfg->database_url);
    dbm_config_free(cfg);

    setenv("DB_HOST", "dbhost", 1);
    setenv("DB_PORT", "5433", 1);
    setenv("DB_USER", "me", 1);
    setenv("DB_NAME", "app", 1);
    setenv("DB_PASSWORD", "it's", 1);
    assert_int_equal(load(&cfg, NULL), 0);
    assert_string_equal(cfg->database_url,
                        "host='dbhost' port='5433' user='me' dbname='app' password='it\\'s'");
    assert_false(cfg->database_from_pgenv);
    dbm_config_free(cfg);

    /* libpq reads PG* itself: the conninfo is empty and says so. */
    setenv("PGHOST", "pghost", 1);
    assert_int_equal(load(&cfg, NULL), 0);
    assert_string_equal(cfg->database_url, "");
    assert_true(cfg->database_from_pgenv);
    dbm_config_free(cfg);

    setenv("DATABASE_URL", "postgresql://url/db", 1);
    assert_int_equal(load(&cfg, NULL), 0);
    assert_string_equal(cfg->database_url, "postgresql://url/db");
    assert_false(cfg->database_from_pgenv);
    dbm_config_free(cfg);
}

static void aws_region_and_github_token_fall_back_to_their_variables(void **state)
{
    dbm_config *cfg = NULL;

    setenv("AWS_DEFAULT_REGION", "eu-west-1", 1);
    setenv("GITHUB_TOKEN", "env-token", 1);
    assert_int_equal(load(&cfg, NULL), 0);
    assert_string_equal(cfg->aws_region, "eu-west-1");
    assert_string_equal(cfg->github_token, "env-token");
    dbm_config_free(cfg);

    setenv("AWS_REGION", "us-east-2", 1);
    setenv("INPUT_GITHUB-TOKEN", "input-token", 1);
    assert_int_equal(load(&cfg, NULL), 0);
    assert_string_equal(cfg->aws_region, "us-east-2");
    assert_string_equal(cfg->github_token, "input-token");
    dbm_config_free(cfg);

    assert_int_equal(load(&cfg, "--aws-region", "ap-south-1", NULL), 0);
    assert_string_equal(cfg->aws_region, "ap-south-1");
    dbm_config_free(cfg);
}

static void report_file_defaults_to_the_runner_temp_in_actions_only(void **state)
{
    char tmpl[] = "/tmp/dbm-config-XXXXXX";
    char *dir = mkdtemp(tmpl);
    char *expected;
    dbm_config *cfg = NULL;

    assert_non_null(dir);
    setenv("RUNNER_TEMP", dir, 1);
    assert_int_equal(load(&cfg, NULL), 0);
    assert_null(cfg->report_file);
    dbm_config_free(cfg);

    setenv("GITHUB_ACTIONS", "true", 1);
    expected = malloc(strlen(dir) + 32);
    snprintf(expected, strlen(dir) + 32, "%s/db-migrate-report.json", dir);
    assert_int_equal(load(&cfg, NULL), 0);
    assert_string_equal(cfg->report_file, expected);
    dbm_config_free(cfg);

    setenv("INPUT_REPORT-FILE", "input.json", 1);
    assert_int_equal(load(&cfg, NULL), 0);
    assert_string_equal(cfg->report_file, "input.json");
    dbm_config_free(cfg);

    assert_int_equal(load(&cfg, "--report-file", "flag.json", NULL), 0);
    assert_string_equal(cfg->report_file, "flag.json");
    dbm_config_free(cfg);
    free(expected);
    rmdir(dir);
}

static void bad_values_are_config_errors_naming_the_option(void **state)
{
    static const struct {
        const char *arg, *value; /* value NULL: arg is the whole argument */
        const char *named;       /* what the message must name */
    } bad[] = {
        {"--lock-timeout", "5x", "lock-timeout"},
        {"--statement-timeout", "soon", "statement-timeout"},
        {"--wait", "-1s", "wait"},
        {"--run-lock-wait", "10", "run-lock-wait"},
        {"--lock-retries", "-1", "lock-retries"},
        {"--lock-retries", "99999999999", "lock-retries '99999999999' is out of range"},
        {"--lock-retries", "101", "lock-retries"},
        {"--out-of-order", "sometimes", "out-of-order"},
        {"--fail-on", "notice", "fail-on"},
        {"--format", "liquibase", "liquibase"},
        {"--auth", "kerberos", "auth"},
        {"--sslmode", "maybe", "sslmode"},
        {"--adopt-from", "liquibase", "adopt-from"},
        {"--comment-on-pr=maybe", NULL, "comment-on-pr"},
        {"--allow-apply-on-pull-request=perhaps", NULL, "allow-apply-on-pull-request"},
        {"--history-schema", "a_schema_name_that_is_much_longer_than_postgres_allows_for_names",
         "history-schema"},
        {"--target-version", "1\n2", "target-version"},
        {"--ssh-bastion", "me@bastion", "ssh-bastion"},
        {"--no-such-option", NULL, "--no-such-option"},
        {"--migrations-dir", NULL, "--migrations-dir"},
        {"--offline=yes", NULL, "--offline"},
    };
    dbm_config *cfg = NULL;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        dbm_error_clear();
        assert_int_equal(load(&cfg, bad[i].arg, bad[i].value, NULL), DBM_ECONFIG);
        assert_null(cfg);
        if (!strstr(dbm_error_message(), bad[i].named))
            fail_msg("'%s': message '%s' does not name '%s'", bad[i].arg, dbm_error_message(),
                     bad[i].named);
    }
}

static void bad_input_is_a_config_error_too(void **state)
{
    dbm_config *cfg = NULL;

    setenv("INPUT_LOCK-TIMEOUT", "bad", 1);
    assert_int_equal(load(&cfg, NULL), DBM_ECONFIG);
    assert_string_equal(dbm_error_message(), "invalid duration 'bad' for lock-timeout");
    assert_non_null(dbm_error_hint_text());
}

static void shown_dir_is_relative_to_the_workspace_without_dot_slash(void **state)
{
    static const struct {
        const char *workspace, *dir, *shown;
    } cases[] = {
        {NULL, "migrations", "migrations"},
        {NULL, "./migrations", "migrations"},
        {NULL, "././db/migrations", "db/migrations"},
        {NULL, ".", ""},
        {NULL, "./.", ""},
        {"/work/repo", "/work/repo/db/migrations", "db/migrations"},
        {"/work/repo", "/work/repo/./migrations", "migrations"},
        {"/work/repo", "/work/repository/migrations", "/work/repository/migrations"},
        {"/work/repo", "/elsewhere/migrations", "/elsewhere/migrations"},
        {"/work/repo", "relative/migrations", "relative/migrations"},
    };
    dbm_config *cfg = NULL;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (cases[i].workspace)
            setenv("GITHUB_WORKSPACE", cases[i].workspace, 1);
        else
            unsetenv("GITHUB_WORKSPACE");
        assert_int_equal(load(&cfg, "--migrations-dir", cases[i].dir, NULL), 0);
        assert_string_equal(cfg->shown_dir, cases[i].shown);
        assert_string_equal(cfg->migrations_dir, cases[i].dir);
        dbm_config_free(cfg);
    }
}

static void unknown_option_suggests_the_likely_one(void **state)
{
    dbm_config *cfg = NULL;

    assert_int_equal(load(&cfg, "--migration-dir", "db", "plan", NULL), DBM_ECONFIG);
    assert_string_equal(dbm_error_message(), "unknown option '--migration-dir'");
    assert_string_equal(dbm_error_hint_text(), "did you mean '--migrations-dir'?");
    assert_int_equal(load(&cfg, "--verbse", "plan", NULL), DBM_ECONFIG);
    assert_string_equal(dbm_error_hint_text(), "did you mean '--verbose'?");
    assert_int_equal(load(&cfg, "--accept-edits", "1", "repair", NULL), DBM_ECONFIG);
    assert_string_equal(dbm_error_hint_text(), "did you mean '--accept-edit'?");
    /* command is an input, never a flag; nothing close: the list. */
    assert_int_equal(load(&cfg, "--command", "plan", NULL), DBM_ECONFIG);
    assert_string_equal(dbm_error_hint_text(), "run 'db-migrate --help' for the list of options");
    assert_int_equal(load(&cfg, "--frobnicate", NULL), DBM_ECONFIG);
    assert_string_equal(dbm_error_hint_text(), "run 'db-migrate --help' for the list of options");
    /* --accept-edit is the command line's only: no INPUT_ variable sets it. */
    setenv("INPUT_ACCEPT-EDIT", "1", 1);
    assert_int_equal(load(&cfg, "repair", NULL), 0);
    assert_null(cfg->accept_edit);
    dbm_config_free(cfg);
    unsetenv("INPUT_ACCEPT-EDIT");
    assert_int_equal(load(&cfg, "repair", "--accept-edit", "20240101", NULL), 0);
    assert_string_equal(cfg->accept_edit, "20240101");
    dbm_config_free(cfg);
}

static void command_word_is_positional_then_input_then_plan(void **state)
{
    dbm_config *cfg = NULL;

    /* A bare call on the command line is for the usage; in Actions plan is the default. */
    assert_int_equal(load(&cfg, NULL), 0);
    assert_string_equal(cfg->command, "help");
    assert_true(cfg->no_command);
    assert_null(cfg->args[0]);
    dbm_config_free(cfg);
    setenv("GITHUB_ACTIONS", "true", 1);
    assert_int_equal(load(&cfg, NULL), 0);
    assert_string_equal(cfg->command, "plan");
    assert_false(cfg->no_command);
    dbm_config_free(cfg);
    unsetenv("GITHUB_ACTIONS");

    setenv("INPUT_COMMAND", "status", 1);
    assert_int_equal(load(&cfg, NULL), 0);
    assert_string_equal(cfg->command, "status");
    dbm_config_free(cfg);

    assert_int_equal(load(&cfg, "new", "add_users", NULL), 0);
    assert_string_equal(cfg->command, "new");
    assert_string_equal(cfg->args[0], "add_users");
    assert_null(cfg->args[1]);
    dbm_config_free(cfg);

    assert_int_equal(load(&cfg, "apply", "--help", NULL), 0);
    assert_string_equal(cfg->command, "help");
    dbm_config_free(cfg);

    assert_int_equal(load(&cfg, "--version", NULL), 0);
    assert_string_equal(cfg->command, "version");
    dbm_config_free(cfg);

    /* "--" ends the options: what follows is an argument even when it starts with "-". */
    assert_int_equal(load(&cfg, "new", "--", "-odd", NULL), 0);
    assert_string_equal(cfg->args[0], "-odd");
    dbm_config_free(cfg);

    /* Any number of arguments: which command takes how many is the command table's to say. */
    assert_int_equal(load(&cfg, "a", "b", "c", "d", NULL), 0);
    assert_int_equal(cfg->nargs, 3);
    assert_string_equal(cfg->args[2], "d");
    assert_null(cfg->args[3]);
    dbm_config_free(cfg);
}

static void switches_and_booleans(void **state)
{
    dbm_config *cfg = NULL;

    assert_int_equal(load(&cfg, NULL), 0);
    assert_false(cfg->offline);
    assert_false(cfg->comment_on_pr);
    assert_false(cfg->out_of_order_allow);
    assert_false(cfg->exit_code);
    assert_int_equal(cfg->fail_on, DBM_FAIL_ON_ERROR);
    dbm_config_free(cfg);

    assert_int_equal(load(&cfg, "status", "--exit-code", "--fail-on", "warning", NULL), 0);
    assert_true(cfg->exit_code);
    assert_int_equal(cfg->fail_on, DBM_FAIL_ON_WARNING);
    dbm_config_free(cfg);
    setenv("INPUT_FAIL-ON", "never", 1);
    assert_int_equal(load(&cfg, NULL), 0);
    assert_int_equal(cfg->fail_on, DBM_FAIL_ON_NEVER);
    dbm_config_free(cfg);
    unsetenv("INPUT_FAIL-ON");

    /* A boolean flag without a value is true; the next word stays the command. */
    assert_int_equal(load(&cfg, "--comment-on-pr", "plan", "--offline", NULL), 0);
    assert_true(cfg->comment_on_pr);
    assert_true(cfg->offline);
    assert_string_equal(cfg->command, "plan");
    dbm_config_free(cfg);

    setenv("INPUT_COMMENT-ON-PR", "true", 1);
    setenv("INPUT_OUT-OF-ORDER", "allow", 1);
    assert_int_equal(load(&cfg, "--comment-on-pr", "false", NULL), 0);
    assert_false(cfg->comment_on_pr);
    assert_true(cfg->out_of_order_allow);
    dbm_config_free(cfg);
}

/* run-in: ecs's override is `db-migrate CMD ...`: on an image whose entrypoint is the
 * binary, the leading word is nothing; anywhere else in the line it is an argument. */
static void leading_program_word_is_ignored(void **state)
{
    dbm_config *cfg = NULL;

    assert_int_equal(load(&cfg, "db-migrate", "status", "--lock-timeout", "2s", NULL), 0);
    assert_string_equal(cfg->command, "status");
    assert_null(cfg->args[0]);
    dbm_config_free(cfg);
    assert_int_equal(load(&cfg, "new", "db-migrate", NULL), 0);
    assert_string_equal(cfg->command, "new");
    assert_string_equal(cfg->args[0], "db-migrate");
    dbm_config_free(cfg);
}

/* The remote options: run-in's values, what ecs and lambda need, what is forwarded. */
static void remote_options_are_read_and_checked(void **state)
{
    dbm_config *cfg = NULL;

    assert_int_equal(load(&cfg, NULL), 0);
    assert_int_equal(cfg->run_in, DBM_RUN_IN_HERE);
    assert_int_equal(cfg->remote_timeout_ms, 3600000);
    dbm_config_free(cfg);
    setenv("INPUT_RUN-IN", "ecs", 1);
    setenv("INPUT_ECS-SERVICE", "api", 1);
    setenv("INPUT_ECS-ASSIGN-PUBLIC-IP", "true", 1);
    setenv("INPUT_LOCK-TIMEOUT", "9s", 1);
    setenv("INPUT_DATABASE-URL", "postgresql://u:secret@h/db", 1);
    assert_int_equal(load(&cfg, "--remote-timeout", "20m", NULL), 0);
    assert_int_equal(cfg->run_in, DBM_RUN_IN_ECS);
    assert_string_equal(cfg->ecs.service, "api");
    assert_string_equal(cfg->ecs.assign_public_ip, "ENABLED");
    assert_int_equal(cfg->remote_timeout_ms, 20 * 60000);
    /* Forwarded: the lock timeout as given; never the connection string. */
    assert_int_equal(cfg->nremote_opts, 1);
    assert_string_equal(cfg->remote_opts[0].name, "lock-timeout");
    assert_string_equal(cfg->remote_opts[0].value, "9s");
    dbm_config_free(cfg);
    unsetenv("INPUT_ECS-SERVICE");
    assert_int_equal(load(&cfg, NULL), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "ecs-task-definition or ecs-service"));
    setenv("INPUT_RUN-IN", "lambda", 1);
    assert_int_equal(load(&cfg, NULL), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "lambda-function"));
    setenv("INPUT_RUN-IN", "fargate", 1);
    assert_int_equal(load(&cfg, NULL), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "invalid value 'fargate' for run-in"));
}

/* shard I/N: digits only, 1 <= I <= N <= 1000; anything else is exit 2 saying what is wrong. */
static void shard_is_strict_digits_i_of_n(void **state)
{
    static const struct {
        const char *value;
        long index, count; /* 0, 0: refused */
        const char *why;
    } cases[] = {
        {"1/4", 1, 4, NULL},
        {"4/4", 4, 4, NULL},
        {"1/1", 1, 1, NULL},
        {"10/1000", 10, 1000, NULL},
        {" 1/4", 0, 0, "digits only"},
        {"+1/4", 0, 0, "digits only"},
        {"1/ 4", 0, 0, "digits only"},
        {"1/+4", 0, 0, "digits only"},
        {"1 /4", 0, 0, "digits only"},
        {"1/4 ", 0, 0, "digits only"},
        {"1/4\n", 0, 0, "digits only"},
        {"01/4", 0, 0, "leading zero"},
        {"1/04", 0, 0, "leading zero"},
        {"-1/4", 0, 0, "digits only"},
        {"1/-4", 0, 0, "digits only"},
        {"1", 0, 0, "digits only"},
        {"1/", 0, 0, "digits only"},
        {"/4", 0, 0, "digits only"},
        {"1/4/8", 0, 0, "digits only"},
        {"0x1/4", 0, 0, "digits only"},
        {"0/4", 0, 0, "count from 1"},
        {"0/0", 0, 0, "count from 1"},
        {"5/4", 0, 0, "I is greater than N"},
        {"1/1001", 0, 0, "N is more than 1000"},
        {"1/99999999999999999999999", 0, 0, "N is more than 1000"},
    };
    char path[] = "/tmp/dbm-config-XXXXXX";
    int fd = mkstemp(path);
    dbm_config *cfg = NULL;

    /* A shard needs targets to take its share of. */
    assert_true(fd >= 0);
    assert_true(write(fd, "targets:\n  - name: a\n    database-url: postgresql://h/d\n", 56) == 56);
    close(fd);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int rc = load(&cfg, "status", "--config", path, "--shard", cases[i].value, NULL);
        if (!cases[i].why) {
            assert_int_equal(rc, 0);
            assert_int_equal(cfg->shard_index, cases[i].index);
            assert_int_equal(cfg->shard_count, cases[i].count);
            dbm_config_free(cfg);
            cfg = NULL;
            continue;
        }
        if (rc != DBM_ECONFIG)
            fail_msg("shard '%s' was accepted", cases[i].value);
        assert_true(strncmp(dbm_error_message(), "invalid value '", 15) == 0);
        assert_non_null(strstr(dbm_error_message(), "' for shard: "));
        if (!strstr(dbm_error_message(), cases[i].why))
            fail_msg("shard '%s': %s", cases[i].value, dbm_error_message());
        assert_null(strchr(dbm_error_message(), '\n')); /* one line */
        assert_non_null(strstr(dbm_error_hint_text(), "give I/N"));
        dbm_error_clear();
    }
    /* The input reads the same way. */
    setenv("INPUT_SHARD", "+2/3", 1);
    assert_int_equal(load(&cfg, "status", NULL), DBM_ECONFIG);
    setenv("INPUT_SHARD", "2/3", 1);
    assert_int_equal(load(&cfg, "status", "--config", path, NULL), 0);
    assert_int_equal(cfg->shard_index, 2);
    dbm_config_free(cfg);
    unlink(path);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup(f, clean_env)
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(leading_program_word_is_ignored, clean_env),
        cmocka_unit_test_setup(remote_options_are_read_and_checked, clean_env),
        T(migrations_dir_flag_beats_input_beats_default),
        T(inputs_are_read_with_hyphens_or_underscores),
        T(lock_timeout_flag_beats_input_beats_default),
        T(database_url_flag_beats_input_beats_environment),
        T(database_url_env_beats_pg_variables_beats_db_variables),
        T(aws_region_and_github_token_fall_back_to_their_variables),
        T(report_file_defaults_to_the_runner_temp_in_actions_only),
        T(bad_values_are_config_errors_naming_the_option),
        T(bad_input_is_a_config_error_too),
        T(shown_dir_is_relative_to_the_workspace_without_dot_slash),
        T(command_word_is_positional_then_input_then_plan),
        T(unknown_option_suggests_the_likely_one),
        T(switches_and_booleans),
        T(shard_is_strict_digits_i_of_n),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
