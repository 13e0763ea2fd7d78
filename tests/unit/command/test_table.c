#include "unit.h"

#include "command/command.h"
#include "common/error.h"
#include "common/util.h"
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --help as written to a stream. Caller frees. */
static char *usage_text(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    assert_non_null(out);
    dbm_command_usage(out);
    assert_int_equal(fclose(out), 0);
    return text;
}

/* A configuration loaded from "db-migrate" and the NULL-terminated words. */
static dbm_config *config_of(const char *first, ...)
{
    char *argv[8] = {(char *)"db-migrate"};
    int argc = 1;
    dbm_config *cfg = NULL;
    va_list ap;

    va_start(ap, first);
    for (const char *a = first; a && argc < 7; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    /* Only the words given count: no action input may add to them. */
    unsetenv("INPUT_COMMAND");
    unsetenv("INPUT_TARGET-VERSION");
    unsetenv("INPUT_ADOPT-FROM");
    assert_int_equal(dbm_config_load(&cfg, argc, argv), 0);
    return cfg;
}

/* The error of checking the command line of `cfg` as main.c does, or 0. */
static int check_line(dbm_config *cfg)
{
    const dbm_command_row *cmd = NULL;
    int error;

    dbm_error_clear();
    if ((error = dbm_command_find(&cmd, cfg->command)) == 0)
        error = dbm_command_check_args(cmd, cfg);
    dbm_config_free(cfg);
    return error;
}

static void every_command_in_the_table_appears_in_help(void **state)
{
    char *text = usage_text();

    for (size_t i = 0; i < dbm_ncommands; i++) {
        char *usage = dbm_commands[i].arg
                          ? dbm_xasprintf("%s %s", dbm_commands[i].name, dbm_commands[i].arg)
                          : dbm_xstrdup(dbm_commands[i].name);
        char *line = dbm_xasprintf("\n  %-24s %s\n", usage, dbm_commands[i].help);
        if (!strstr(text, line))
            fail_msg("--help lacks the line of '%s'", dbm_commands[i].name);
        free(line);
        free(usage);
    }
    free(text);
}

static void command_names_are_unique(void **state)
{
    for (size_t i = 0; i < dbm_ncommands; i++)
        for (size_t k = i + 1; k < dbm_ncommands; k++)
            if (strcmp(dbm_commands[i].name, dbm_commands[k].name) == 0)
                fail_msg("'%s' is in the table twice", dbm_commands[i].name);
}

static void every_row_has_a_function_and_a_help_line(void **state)
{
    for (size_t i = 0; i < dbm_ncommands; i++) {
        assert_non_null(dbm_commands[i].fn);
        assert_non_null(dbm_commands[i].help);
        assert_true(*dbm_commands[i].help);
        /* help and version are words main answers itself, not commands. */
        assert_string_not_equal(dbm_commands[i].name, "help");
        assert_string_not_equal(dbm_commands[i].name, "version");
    }
}

static void help_lists_the_commands_then_the_options(void **state)
{
    static const char commands_section[] =
        "usage: db-migrate [options] COMMAND\n"
        "\n"
        "commands:\n"
        "  plan                     list pending, applied, edited and missing migrations\n"
        "  apply                    apply pending migrations in version order\n"
        "  dry-run                  run pending migrations in a transaction and roll back\n"
        "  status                   the history joined with the files\n"
        "  verify                   check applied checksums against the files (exit 1 on drift)\n"
        "  baseline                 record migrations up to --target-version as applied\n"
        "  rollback                 undo the last migration, or those newer than --target-version "
        "(0: all)\n"
        "  repair                   clear the failed record of --target-version, or record "
        "--accept-edit's edited file\n"
        "  history                  the audited runs, newest first\n"
        "  report FILE...           merge JSON reports (fleet shards, matrix jobs) into one "
        "summary, outputs and report\n"
        "  new NAME                 create <migrations-dir>/<UTC timestamp>_NAME.sql\n"
        "\n";
    char *text = usage_text(), *options = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&options, &len);

    dbm_config_options_usage(out);
    assert_int_equal(fclose(out), 0);
    assert_memory_equal(text, commands_section, strlen(commands_section));
    assert_string_equal(text + strlen(commands_section), options);
    free(options);
    free(text);
}

static void unknown_command_hint_lists_every_command(void **state)
{
    const dbm_command_row *cmd = NULL;

    assert_int_equal(dbm_command_find(&cmd, "frobnicate"), DBM_ECONFIG);
    assert_null(cmd);
    assert_string_equal(dbm_error_message(), "unknown command 'frobnicate'");
    assert_string_equal(dbm_error_hint_text(), "use one of: plan, apply, dry-run, status, verify, "
                                               "baseline, rollback, repair, history, report, new");
    assert_int_equal(dbm_command_find(&cmd, "aply"), DBM_ECONFIG);
    assert_string_equal(dbm_error_hint_text(), "did you mean 'apply'? (commands: plan, apply, "
                                               "dry-run, status, verify, baseline, rollback, "
                                               "repair, history, report, new)");
    assert_int_equal(dbm_command_find(&cmd, "dry-run"), 0);
    assert_string_equal(cmd->name, "dry-run");
}

static void arguments_are_checked_per_command(void **state)
{
    assert_int_equal(check_line(config_of("new", NULL)), DBM_ECONFIG);
    assert_string_equal(dbm_error_message(), "'new' needs a name");
    assert_string_equal(dbm_error_hint_text(), "run: db-migrate new add_users_table");
    assert_int_equal(check_line(config_of("new", "add_users", NULL)), 0);
    assert_int_equal(check_line(config_of("new", "a", "b", NULL)), DBM_ECONFIG);
    assert_string_equal(dbm_error_message(), "unexpected argument 'b'");
    assert_int_equal(check_line(config_of("plan", "a", "b", NULL)), DBM_ECONFIG);
    assert_string_equal(dbm_error_message(), "unexpected argument 'a'");
    assert_int_equal(check_line(config_of("new", "a", "b", "c", NULL)), DBM_ECONFIG);
    assert_string_equal(dbm_error_message(), "unexpected argument 'b'");

    /* report takes any number of files, and needs one (or the reports option's globs) */
    unsetenv("INPUT_REPORTS");
    assert_int_equal(check_line(config_of("report", NULL)), DBM_ECONFIG);
    assert_string_equal(dbm_error_message(), "'report' needs the JSON reports to merge");
    assert_non_null(dbm_error_hint_text());
    assert_int_equal(check_line(config_of("report", "a.json", "b.json", "c.json", "d.json", NULL)),
                     0);
    assert_int_equal(check_line(config_of("report", "--reports", "r/*/*.json", NULL)), 0);
    assert_int_equal(check_line(config_of("report", "--reports", " ,\n", NULL)), DBM_ECONFIG);

    for (const char *const *c = (const char *const[]){"baseline", "repair", NULL}; *c; c++) {
        char *want = dbm_xasprintf("'%s' needs --target-version", *c);
        assert_int_equal(check_line(config_of(*c, NULL)), DBM_ECONFIG);
        assert_string_equal(dbm_error_message(), want);
        assert_non_null(dbm_error_hint_text());
        assert_int_equal(check_line(config_of(*c, "--target-version", "20240101", NULL)), 0);
        free(want);
    }
    assert_int_equal(check_line(config_of("baseline", "--adopt-from", "goose", NULL)), 0);
    /* rollback without a target undoes the last migration; repair takes --accept-edit instead. */
    assert_int_equal(check_line(config_of("rollback", NULL)), 0);
    assert_int_equal(check_line(config_of("repair", "--accept-edit", "20240101", NULL)), 0);
    assert_int_equal(check_line(config_of("repair", "--accept-edit", "20240101", "--target-version",
                                          "20240102", NULL)),
                     DBM_ECONFIG);
    assert_int_equal(check_line(config_of("repair", "--accept-edit", "20240101", "--target-version",
                                          "20240101", NULL)),
                     0);
}

static void what_writes_is_refused_on_pull_requests_unless_allowed(void **state)
{
    static const struct {
        const char *command, *arg, *value;
        bool writes;
    } rows[] = {
        {"apply", NULL, NULL, true},
        {"rollback", NULL, NULL, true},
        {"repair", "--target-version", "1", true},
        {"repair", "--accept-edit", "1", true},
        {"baseline", "--target-version", "1", true},
        {"plan", NULL, NULL, false},
        {"dry-run", NULL, NULL, false},
        {"status", NULL, NULL, false},
        {"verify", NULL, NULL, false},
        {"history", NULL, NULL, false},
    };

    for (const char *const *ev = (const char *const[]){"pull_request", "pull_request_target", NULL};
         *ev; ev++) {
        setenv("GITHUB_EVENT_NAME", *ev, 1);
        for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
            char *want = dbm_xasprintf("%s refuses to run on '%s' events", rows[i].command, *ev);
            assert_int_equal(
                check_line(config_of(rows[i].command, rows[i].arg, rows[i].value, NULL)),
                rows[i].writes ? DBM_ECONFIG : 0);
            if (rows[i].writes) {
                assert_string_equal(dbm_error_message(), want);
                assert_non_null(strstr(dbm_error_hint_text(), "allow-apply-on-pull-request"));
            }
            assert_int_equal(check_line(config_of(rows[i].command, "--allow-apply-on-pull-request",
                                                  "true", rows[i].arg, rows[i].value, NULL)),
                             0);
            free(want);
        }
    }
    setenv("GITHUB_EVENT_NAME", "push", 1);
    assert_int_equal(check_line(config_of("rollback", NULL)), 0);
    unsetenv("GITHUB_EVENT_NAME");
}

static void exit_code_is_for_status_alone(void **state)
{
    assert_int_equal(check_line(config_of("status", "--exit-code", NULL)), 0);
    assert_int_equal(check_line(config_of("plan", "--exit-code", NULL)), DBM_ECONFIG);
    assert_string_equal(dbm_error_message(), "--exit-code is an option of status, not of plan");
    assert_non_null(strstr(dbm_error_hint_text(), "plan exits 1 on its own"));
    assert_int_equal(check_line(config_of("apply", "--exit-code", NULL)), DBM_ECONFIG);
}

static void only_plan_new_and_report_run_without_a_database(void **state)
{
    for (size_t i = 0; i < dbm_ncommands; i++) {
        bool offline_ok = !strcmp(dbm_commands[i].name, "plan") ||
                          !strcmp(dbm_commands[i].name, "new") ||
                          !strcmp(dbm_commands[i].name, "report");
        assert_int_equal(dbm_commands[i].needs_db, !offline_ok);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_command_in_the_table_appears_in_help),
        cmocka_unit_test(command_names_are_unique),
        cmocka_unit_test(every_row_has_a_function_and_a_help_line),
        cmocka_unit_test(help_lists_the_commands_then_the_options),
        cmocka_unit_test(unknown_command_hint_lists_every_command),
        cmocka_unit_test(arguments_are_checked_per_command),
        cmocka_unit_test(what_writes_is_refused_on_pull_requests_unless_allowed),
        cmocka_unit_test(exit_code_is_for_status_alone),
        cmocka_unit_test(only_plan_new_and_report_run_without_a_database),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
