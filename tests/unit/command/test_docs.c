#include "unit.h"

#include "command/command.h"
#include "common/error.h"
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What --generate writes for `what`. Caller frees. */
static char *generated(const char *what)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);

    assert_non_null(out);
    assert_int_equal(dbm_command_generate(out, what), 0);
    assert_int_equal(fclose(out), 0);
    return text;
}

/* Whether `word` occurs in text between the given delimiters. */
static bool has(const char *text, const char *before, const char *word, const char *after)
{
    char *needle = NULL;
    bool found;

    assert_true(asprintf(&needle, "%s%s%s", before, word, after) > 0);
    found = strstr(text, needle) != NULL;
    free(needle);
    return found;
}

/* A name as roff writes it: every hyphen a \- . */
static char *roff_name(const char *name)
{
    char *out = malloc(2 * strlen(name) + 1), *p = out;

    for (; *name; name++) {
        if (*name == '-')
            *p++ = '\\';
        *p++ = *name;
    }
    *p = '\0';
    return out;
}

/*
 * Adding a command to the table adds it to the bash and zsh completions and
 * the man page, with no other edit: each command row appears in each.
 */
static void every_command_is_in_the_completions_and_the_man_page(void **state)
{
    char *bash = generated("completion-bash"), *zsh = generated("completion-zsh");
    char *man = generated("man");

    for (size_t i = 0; i < dbm_ncommands; i++) {
        const char *name = dbm_commands[i].name;
        char *r = roff_name(name);

        assert_true(has(bash, " ", name, " ") || has(bash, "'", name, " ") ||
                    has(bash, " ", name, "'"));
        assert_true(has(zsh, "    '", name, ":"));
        assert_true(has(man, ".B ", r, "\n") || has(man, ".BI ", r, " \""));
        free(r);
    }
    free(bash);
    free(zsh);
    free(man);
}

/* Each flag of the option table, and each of its fixed values, is in all three outputs. */
static void every_option_and_value_is_in_the_completions_and_the_man_page(void **state)
{
    char *bash = generated("completion-bash"), *zsh = generated("completion-zsh");
    char *man = generated("man");
    size_t flags = 0;
    /* bash: the line that lists the options to complete */
    char *options =
        strndup(strstr(bash, "local options='"), strcspn(strstr(bash, "local options='"), "\n"));

    for (const dbm_option *o = dbm_options; o->name; o++) {
        char *r = roff_name(o->name);
        bool shown = !(o->flags & (DBM_OPTION_NOFLAG | DBM_OPTION_HIDDEN));

        assert_int_equal(has(options, "--", o->name, " ") || has(options, "--", o->name, "'"),
                         shown);
        assert_int_equal(has(zsh, "--", o->name, o->arg ? "=[" : "["), shown);
        assert_int_equal(has(man, ".B \\-\\-", r, "\n") || has(man, ".BI \\-\\-", r, " \""), shown);
        for (size_t i = 0; shown && o->values && o->values[i]; i++) {
            char *rv = roff_name(o->values[i]);
            assert_true(has(bash, " ", o->values[i], " ") || has(bash, "'", o->values[i], " ") ||
                        has(bash, " ", o->values[i], "'"));
            assert_true(has(zsh, "(", o->values[i], " ") || has(zsh, " ", o->values[i], " ") ||
                        has(zsh, " ", o->values[i], ")"));
            assert_true(has(man, ".BR ", rv, " "));
            free(rv);
        }
        flags += shown;
        free(r);
    }
    assert_true(flags >= 38);
    free(options);
    free(bash);
    free(zsh);
    free(man);
}

/* The completions offer values the parser takes: each fixed value loads, a made-up one not. */
static void every_listed_value_is_accepted_by_the_parser(void **state)
{
    /* A config file with a target, so that the fleet's options (fail-fast) have one. */
    char path[] = "/tmp/dbm-docs-XXXXXX";
    int fd = mkstemp(path);
    static const char text[] = "targets:\n  - name: a\n    database-url: postgresql:///a\n";

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, sizeof(text) - 1), (ssize_t)(sizeof(text) - 1));
    close(fd);
    for (const dbm_option *o = dbm_options; o->name; o++) {
        if (!o->values || !(o->flags & DBM_OPTION_INPUT))
            continue;
        for (size_t i = 0; o->values[i]; i++) {
            char *flag = NULL;
            dbm_config *cfg = NULL;

            assert_true(asprintf(&flag, "--%s=%s", o->name, o->values[i]) > 0);
            /* What a remote run needs beside run-in, so that each run-in value loads. */
            char *argv[] = {(char *)"db-migrate",
                            flag,
                            (char *)"--config",
                            path,
                            (char *)"--ecs-task-definition=migrate",
                            (char *)"--ecs-subnets=subnet-1",
                            (char *)"--lambda-function=migrate",
                            (char *)"plan",
                            NULL};
            if (dbm_config_load(&cfg, 8, argv) != 0)
                fail_msg("%s: %s", flag, dbm_error_message());
            dbm_config_free(cfg);
            free(flag);
        }
        assert_int_equal(dbm_option_check_value(o->name, "no-such-value"), DBM_ECONFIG);
    }
    unlink(path);
}

static void generate_names_what_it_takes(void **state)
{
    FILE *out = fopen("/dev/null", "w");

    assert_int_equal(dbm_command_generate(out, "fish"), DBM_ECONFIG);
    assert_string_equal(dbm_error_message(), "invalid value 'fish' for generate");
    assert_string_equal(dbm_error_hint_text(), "use one of: completion-bash, completion-zsh, man");
    fclose(out);
}

/* --version: our version first, then a line per library, each with a version. */
static void version_lists_each_library(void **state)
{
    static const char *const libs[] = {"libpq",   "libgit2", "libcurl", "Jansson", "libpg_query",
                                       "libssh2", "libyaml", "expat",   "OpenSSL"};
    char *text = NULL, *line, *save = NULL;
    size_t len = 0, n = 0;
    FILE *out = open_memstream(&text, &len);

    dbm_command_version(out);
    assert_int_equal(fclose(out), 0);
    line = strtok_r(text, "\n", &save);
    assert_string_equal(line, "db-migrate " DBM_VERSION);
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        assert_true(n < sizeof(libs) / sizeof(libs[0]));
        assert_true(strncmp(line, libs[n], strlen(libs[n])) == 0);
        assert_true(line[strlen(libs[n])] == ' ');
        assert_true(line[strlen(libs[n]) + 1] >= '0' && line[strlen(libs[n]) + 1] <= '9');
        n++;
    }
    assert_int_equal(n, sizeof(libs) / sizeof(libs[0]));
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_command_is_in_the_completions_and_the_man_page),
        cmocka_unit_test(every_option_and_value_is_in_the_completions_and_the_man_page),
        cmocka_unit_test(every_listed_value_is_accepted_by_the_parser),
        cmocka_unit_test(generate_names_what_it_takes),
        cmocka_unit_test(version_lists_each_library),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
