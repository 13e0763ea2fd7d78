#include "unit.h"

#include "common/error.h"
#include "common/util.h"
#include "config.h"
#include "config_file.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

static char dir[64];
static char path[96];

/* Each test gets an empty directory and an environment without what config reads. */
static int setup(void **state)
{
    static const char *const prefixes[] = {"INPUT_", "GITHUB_",      "PG",      "DB_",
                                           "AWS_",   "DATABASE_URL", "RUNNER_", "DBM_TEST_"};
    bool again = true;

    while (again) {
        again = false;
        for (char **e = environ; *e && !again; e++)
            for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
                if (strncmp(*e, prefixes[i], strlen(prefixes[i])) == 0) {
                    char *name = strndup(*e, strcspn(*e, "="));
                    unsetenv(name);
                    free(name);
                    again = true;
                    break;
                }
    }
    snprintf(dir, sizeof(dir), "/tmp/dbm-cfgfile-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/db-migrate.yml", dir);
    dbm_error_clear();
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    return 0;
}

static void write_file(const char *p, const char *text)
{
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* dbm_config_load with "--config PATH" and the NULL-terminated arguments after it. */
static int load(dbm_config **cfg, ...)
{
    char *argv[16] = {(char *)"db-migrate", (char *)"--config", path};
    int argc = 3;
    va_list ap;

    va_start(ap, cfg);
    for (char *a; (a = va_arg(ap, char *)) != NULL && argc < 15;)
        argv[argc++] = a;
    va_end(ap);
    return dbm_config_load(cfg, argc, argv);
}

/* Parse text as db-migrate.yml; on failure the message is checked by the caller. */
static int parse(dbm_config_file **f, const char *text)
{
    return dbm_config_file_parse(f, "db-migrate.yml", text, strlen(text));
}

static void options_of_each_type_are_read(void **state)
{
    dbm_config *cfg = NULL;
    char *expected;

    write_file(path, "# defaults for this repository\n"
                     "migrations-dir: db/migrations\n"
                     "lock-timeout: 2s\n"
                     "lock-retries: 7\n"
                     "comment-on-pr: true\n"
                     "fail-on: 'warning'\n"
                     "history-schema: \"ops\"\n"
                     "deployed-ref:\n");
    assert_int_equal(load(&cfg, NULL), 0);
    /* relative to the file's folder, not to the working directory */
    expected = dbm_xasprintf("%.*s/db/migrations", (int)(strrchr(path, '/') - path), path);
    assert_string_equal(cfg->migrations_dir, expected);
    free(expected);
    assert_int_equal(cfg->lock_timeout_ms, 2000);
    assert_int_equal(cfg->lock_retries, 7);
    assert_true(cfg->comment_on_pr);
    assert_int_equal(cfg->fail_on, DBM_FAIL_ON_WARNING);
    assert_string_equal(cfg->history_schema, "ops");
    assert_null(cfg->deployed_ref); /* a key without a value sets nothing */
    dbm_config_free(cfg);
}

/* Every option that is an action input is a key of the file too, by the same name, but for
 * `targets`: in the file that key is the fleet's list itself, and the selection among them is
 * the flag's or the input's. */
static void every_action_input_is_a_key_of_the_file(void **state)
{
    size_t n = 0;

    for (const dbm_option *o = dbm_options; o->name; o++) {
        dbm_config_file *f = NULL;
        char *text;

        if (!(o->flags & DBM_OPTION_INPUT) || !strcmp(o->name, "targets"))
            continue;
        text = dbm_xasprintf("%s: '%s'\n", o->name, o->values ? o->values[0] : "x");
        if (parse(&f, text) != 0)
            fail_msg("%s: %s", o->name, dbm_error_message());
        assert_string_equal(dbm_config_file_option(f, o->name), o->values ? o->values[0] : "x");
        assert_int_equal(dbm_config_file_option_line(f, o->name), 1);
        dbm_config_file_free(f);
        free(text);
        n++;
    }
    assert_true(n >= 32); /* DESIGN section 3's options, and those added since */
}

static void a_bad_value_in_the_file_is_validated_like_a_flag(void **state)
{
    dbm_config *cfg = NULL;

    write_file(path, "fail-on: sometimes\n");
    assert_int_equal(load(&cfg, NULL), DBM_ECONFIG);
    assert_string_equal(dbm_error_message(), "invalid value 'sometimes' for fail-on");
    write_file(path, "lock-timeout:\n  - 5s\n");
    assert_int_equal(load(&cfg, NULL), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "line 2: 'lock-timeout' takes a single value"));
}

static void variables_are_taken_from_the_environment(void **state)
{
    dbm_config *cfg = NULL;

    setenv("DBM_TEST_HOST", "db.internal", 1);
    setenv("DBM_TEST_PASS", "s3cret", 1);
    write_file(path, "database-url: postgres://app:${DBM_TEST_PASS}@${DBM_TEST_HOST}/app\n"
                     "history-schema: plain$text{x}\n");
    assert_int_equal(load(&cfg, NULL), 0);
    assert_string_equal(cfg->database_url, "postgres://app:s3cret@db.internal/app");
    assert_string_equal(cfg->history_schema, "plain$text{x}");
    dbm_config_free(cfg);

    write_file(path, "migrations-dir: db\n\ndatabase-url: ${DBM_TEST_MISSING}\n");
    assert_int_equal(load(&cfg, NULL), DBM_ECONFIG);
    assert_null(cfg);
    assert_non_null(strstr(dbm_error_message(), "line 3: environment variable "
                                                "'DBM_TEST_MISSING' is not set"));
    write_file(path, "database-url: ${DBM_TEST_HOST\n");
    assert_int_equal(load(&cfg, NULL), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "line 1: '${' without"));
}

/* flag > input > environment > file > built-in default, one layer peeled at a time. */
static void precedence_is_flag_input_environment_file_default(void **state)
{
    dbm_config *cfg = NULL;

    write_file(path, "database-url: postgres://file/db\n"
                     "github-token: from-file\n"
                     "lock-timeout: 9s\n");
    assert_int_equal(load(&cfg, NULL), 0);
    assert_string_equal(cfg->database_url, "postgres://file/db");
    assert_string_equal(cfg->github_token, "from-file");
    assert_int_equal(cfg->lock_timeout_ms, 9000);
    assert_int_equal(cfg->run_lock_wait_ms, 600000); /* not in the file: the built-in default */
    dbm_config_free(cfg);

    setenv("DATABASE_URL", "postgres://env/db", 1);
    setenv("GITHUB_TOKEN", "from-env", 1);
    assert_int_equal(load(&cfg, NULL), 0);
    assert_string_equal(cfg->database_url, "postgres://env/db");
    assert_string_equal(cfg->github_token, "from-env");
    dbm_config_free(cfg);

    setenv("INPUT_DATABASE-URL", "postgres://input/db", 1);
    setenv("INPUT_LOCK-TIMEOUT", "3s", 1);
    assert_int_equal(load(&cfg, NULL), 0);
    assert_string_equal(cfg->database_url, "postgres://input/db");
    assert_int_equal(cfg->lock_timeout_ms, 3000);
    dbm_config_free(cfg);

    assert_int_equal(
        load(&cfg, "--database-url", "postgres://flag/db", "--lock-timeout", "1s", NULL), 0);
    assert_string_equal(cfg->database_url, "postgres://flag/db");
    assert_int_equal(cfg->lock_timeout_ms, 1000);
    dbm_config_free(cfg);
}

static void unknown_key_names_its_line_and_the_likely_one(void **state)
{
    dbm_config_file *f = NULL;

    assert_int_equal(parse(&f, "format: goose\nlock-timout: 5s\n"), DBM_ECONFIG);
    assert_null(f);
    assert_string_equal(dbm_error_message(),
                        "config file 'db-migrate.yml' line 2: unknown key 'lock-timout'");
    assert_string_equal(dbm_error_hint_text(), "did you mean 'lock-timeout'?");

    assert_int_equal(parse(&f, "rule:\n  cluster: off\n"), DBM_ECONFIG);
    assert_string_equal(dbm_error_hint_text(), "did you mean 'rules'?");

    assert_int_equal(parse(&f, "zzzzzz: 1\n"), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_hint_text(), "README"));

    /* Options of the command line only are not keys of the file. */
    assert_int_equal(parse(&f, "offline: true\n"), DBM_ECONFIG);
    assert_int_equal(parse(&f, "format: goose\nformat: dbmate\n"), DBM_ECONFIG);
    assert_string_equal(dbm_error_message(),
                        "config file 'db-migrate.yml' line 2: key 'format' is given twice in "
                        "the file (first at line 1)");
    assert_string_equal(dbm_error_hint_text(), "keep one of the two: a key sets one value");
}

static void bad_yaml_names_its_line(void **state)
{
    dbm_config_file *f = NULL;

    assert_int_equal(parse(&f, "format: goose\nrules:\n  cluster: [off\n"), DBM_ECONFIG);
    assert_null(f);
    assert_non_null(strstr(dbm_error_message(), "config file 'db-migrate.yml' line 4: not valid "
                                                "YAML: "));
    assert_int_equal(parse(&f, "format: goose\n\tlock-timeout: 5s\n"), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "line 2: not valid YAML"));
    assert_int_equal(parse(&f, "- a\n- b\n"), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "line 1: the file must be a mapping"));
    /* A second document would be read by nothing: its line is named. */
    assert_int_equal(parse(&f, "format: goose\n---\nlock-timeout: 5s\n"), DBM_ECONFIG);
    assert_null(f);
    assert_string_equal(dbm_error_message(), "config file 'db-migrate.yml' line 2: a second YAML "
                                             "document; db-migrate.yml holds one");
    /* "---" before the one document, or after it with nothing, is one document. */
    assert_int_equal(parse(&f, "---\nformat: goose\n---\n"), 0);
    dbm_config_file_free(f);
    f = NULL;
}

static void an_empty_file_or_none_sets_nothing(void **state)
{
    dbm_config_file *f = NULL;
    char missing[128];

    assert_int_equal(parse(&f, "# nothing yet\n"), 0);
    assert_non_null(f);
    assert_null(dbm_config_file_option(f, "format"));
    assert_int_equal(dbm_config_file_rule_level(f, "cluster"), DBM_RULE_LEVEL_DEFAULT);
    dbm_config_file_free(f);

    snprintf(missing, sizeof(missing), "%s/none.yml", dir);
    assert_int_equal(dbm_config_file_read(&f, missing, true), 0);
    assert_null(f);
    assert_int_equal(dbm_config_file_read(&f, missing, false), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "none.yml': no such file"));
}

static void rules_take_a_level_per_rule(void **state)
{
    dbm_config_file *f = NULL;

    assert_int_equal(parse(&f, "rules:\n"
                               "  index-without-concurrently: error\n"
                               "  drop-column: 'off'\n"
                               "  cluster: warning\n"),
                     0);
    assert_int_equal(dbm_config_file_rule_level(f, "index-without-concurrently"),
                     DBM_RULE_LEVEL_ERROR);
    assert_int_equal(dbm_config_file_rule_level(f, "drop-column"), DBM_RULE_LEVEL_OFF);
    assert_int_equal(dbm_config_file_rule_level(f, "cluster"), DBM_RULE_LEVEL_WARNING);
    assert_int_equal(dbm_config_file_rule_level(f, "vacuum-full"), DBM_RULE_LEVEL_DEFAULT);
    assert_int_equal(dbm_config_file_rule_level(NULL, "cluster"), DBM_RULE_LEVEL_DEFAULT);
    dbm_config_file_free(f);

    assert_int_equal(parse(&f, "rules:\n  cluster: fatal\n"), DBM_ECONFIG);
    assert_string_equal(dbm_error_message(),
                        "config file 'db-migrate.yml' line 2: invalid level 'fatal' for rule "
                        "'cluster'");
    assert_string_equal(dbm_error_hint_text(), "use one of: error, warning, off");
    assert_int_equal(parse(&f, "rules:\n  index-without-concurrenty: off\n"), DBM_ECONFIG);
    assert_string_equal(dbm_error_hint_text(), "did you mean 'index-without-concurrently'?");
    assert_int_equal(parse(&f, "rules: error\n"), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "line 1: rules must be a mapping"));
}

static void targets_and_placeholders_are_checked_for_shape(void **state)
{
    dbm_config_file *f = NULL;
    const dbm_config_target *t;
    const dbm_config_placeholder *p;
    size_t n;

    setenv("DBM_TEST_EU", "postgres://eu/app", 1);
    assert_int_equal(parse(&f, "targets:\n"
                               "  - name: eu\n"
                               "    group: canary\n"
                               "    database-url: ${DBM_TEST_EU}\n"
                               "  - name: tenants\n"
                               "    schemas: SELECT nspname FROM pg_namespace\n"
                               "placeholders:\n"
                               "  ':APP_USER': app\n"
                               "  SCHEMA: public\n"),
                     0);
    t = dbm_config_file_targets(f, &n);
    assert_int_equal(n, 2);
    assert_string_equal(t[0].name, "eu");
    assert_string_equal(t[0].group, "canary");
    assert_string_equal(t[0].database_url, "postgres://eu/app");
    assert_int_equal(t[0].line, 2);
    assert_null(t[1].database_url);
    assert_string_equal(t[1].schemas, "SELECT nspname FROM pg_namespace");
    p = dbm_config_file_placeholders(f, &n);
    assert_int_equal(n, 2);
    assert_string_equal(p[0].name, "APP_USER");
    assert_string_equal(p[0].value, "app");
    assert_string_equal(p[1].name, "SCHEMA");
    dbm_config_file_free(f);

    assert_int_equal(parse(&f, "targets:\n  - group: x\n"), DBM_ECONFIG);
    assert_string_equal(dbm_error_message(),
                        "config file 'db-migrate.yml' line 2: a target has no name");
    assert_int_equal(parse(&f, "targets:\n  - name: a\n  - name: a\n"), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "line 3: target 'a' is listed twice"));
    assert_non_null(strstr(dbm_error_hint_text(), "give each target a name of its own"));
    assert_int_equal(parse(&f, "targets:\n  - name: a\n    databse-url: x\n"), DBM_ECONFIG);
    assert_string_equal(dbm_error_hint_text(), "did you mean 'database-url'?");
    assert_int_equal(parse(&f, "targets:\n  name: a\n"), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "line 2: targets must be a list"));
    assert_int_equal(parse(&f, "placeholders:\n  ':1x': a\n"), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "placeholder ':1x' is not a name"));
}

static void schema_templates_need_schemas_and_the_mark(void **state)
{
    dbm_config_file *f = NULL;
    const dbm_config_target *t;
    size_t n;

    assert_int_equal(parse(&f, "targets:\n"
                               "  - name: app\n"
                               "    schemas: select 1\n"
                               "    history-schema: h_{schema}\n"
                               "    search-path: \"{schema}, shared\"\n"),
                     0);
    t = dbm_config_file_targets(f, &n);
    assert_string_equal(t[0].history_schema, "h_{schema}");
    assert_string_equal(t[0].search_path, "{schema}, shared");
    dbm_config_file_free(f);

    assert_int_equal(parse(&f, "targets:\n  - name: a\n    search-path: \"{schema}\"\n"),
                     DBM_ECONFIG);
    assert_string_equal(dbm_error_message(), "config file 'db-migrate.yml' line 2: target 'a' has "
                                             "search-path: but no schemas:");
    assert_int_equal(
        parse(&f, "targets:\n  - name: a\n    schemas: select 1\n    history-schema: shared\n"),
        DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "history-schema 'shared' does not hold {schema}"));
    assert_int_equal(parse(&f, "targets:\n  - name: a\n    search_path: x\n"), DBM_ECONFIG);
    assert_string_equal(dbm_error_hint_text(), "did you mean 'search-path'?");
}

static void stages_are_a_list_of_group_globs(void **state)
{
    dbm_config_file *f = NULL;
    const char *const *st;
    size_t n;

    assert_int_equal(parse(&f, "stages:\n  - canary\n  - 'eu-*'\n"), 0);
    st = dbm_config_file_stages(f, &n);
    assert_int_equal(n, 2);
    assert_string_equal(st[0], "canary");
    assert_string_equal(st[1], "eu-*");
    dbm_config_file_free(f);
    assert_int_equal(parse(&f, "stages: canary\n"), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "line 1: stages must be a list"));
    assert_int_equal(parse(&f, "stages:\n  - [a, b]\n"), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "'a stage' takes a single value, not a list"));
}

/* Without --config the file is found at the root of the repository holding migrations-dir. */
static void the_file_is_found_at_the_repository_root(void **state)
{
    char cwd[PATH_MAX], sub[128], git[128];
    dbm_config *cfg = NULL;

    assert_non_null(getcwd(cwd, sizeof(cwd)));
    snprintf(git, sizeof(git), "%s/.git", dir);
    snprintf(sub, sizeof(sub), "%s/db", dir);
    assert_int_equal(mkdir(git, 0700), 0);
    assert_int_equal(mkdir(sub, 0700), 0);
    write_file(path, "history-schema: from_root\n");
    assert_int_equal(chdir(sub), 0);
    {
        char *argv[] = {(char *)"db-migrate", (char *)"plan", NULL};
        int error = dbm_config_load(&cfg, 2, argv);
        assert_int_equal(chdir(cwd), 0);
        assert_int_equal(error, 0);
    }
    assert_string_equal(cfg->history_schema, "from_root");
    dbm_config_free(cfg);

    /* From elsewhere, --migrations-dir points into the repository. */
    {
        char *argv[] = {(char *)"db-migrate", (char *)"plan", (char *)"--migrations-dir", sub,
                        NULL};
        assert_int_equal(dbm_config_load(&cfg, 4, argv), 0);
    }
    assert_string_equal(cfg->history_schema, "from_root");
    dbm_config_free(cfg);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(every_action_input_is_a_key_of_the_file),
        T(options_of_each_type_are_read),
        T(a_bad_value_in_the_file_is_validated_like_a_flag),
        T(variables_are_taken_from_the_environment),
        T(precedence_is_flag_input_environment_file_default),
        T(unknown_key_names_its_line_and_the_likely_one),
        T(bad_yaml_names_its_line),
        T(an_empty_file_or_none_sets_nothing),
        T(rules_take_a_level_per_rule),
        T(targets_and_placeholders_are_checked_for_shape),
        T(schema_templates_need_schemas_and_the_mark),
        T(stages_are_a_list_of_group_globs),
        T(the_file_is_found_at_the_repository_root),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
