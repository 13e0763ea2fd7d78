/*
 * table.c - the commands, a row each, and what is read from the table: the
 * command word's row, the arguments it allows, the commands section of --help.
 */
#include "command/command.h"
#include "command/commands.h"
#include "command/run.h"
#include "common/error.h"
#include "common/log.h"
#include "common/suggest.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

/* Name, function, whether it needs a database, its line in --help, then what only some have. */
const dbm_command_row dbm_commands[] = {
    {"plan", dbm_cmd_plan, false, "list pending, applied, edited and missing migrations",
     .flags = DBM_COMMAND_PR_COMMENT},
    {"apply", dbm_cmd_apply, true, "apply pending migrations in version order",
     .flags = DBM_COMMAND_TERSE | DBM_COMMAND_WRITES},
    {"dry-run", dbm_cmd_dry_run, true, "run pending migrations in a transaction and roll back",
     .flags = DBM_COMMAND_PR_COMMENT},
    {"status", dbm_cmd_status, true, "the history joined with the files", .flags = 0},
    {"verify", dbm_cmd_verify, true, "check applied checksums against the files (exit 1 on drift)",
     .flags = 0},
    {"baseline", dbm_cmd_baseline, true, "record migrations up to --target-version as applied",
     .check = dbm_cmd_baseline_check, .flags = DBM_COMMAND_WRITES},
    {"rollback", dbm_cmd_rollback, true,
     "undo the last migration, or those newer than --target-version (0: all)",
     .flags = DBM_COMMAND_WRITES},
    {"repair", dbm_cmd_repair, true,
     "clear the failed record of --target-version, or record --accept-edit's edited file",
     .check = dbm_cmd_repair_check, .flags = DBM_COMMAND_WRITES},
    {"history", dbm_cmd_history, true, "the audited runs, newest first",
     .flags = DBM_COMMAND_NO_REPORT},
    {"report", dbm_cmd_report, false,
     "merge JSON reports (fleet shards, matrix jobs) into one summary, outputs and report",
     .arg = "FILE...", .files = "*.json", .check = dbm_cmd_report_check,
     .flags = DBM_COMMAND_FILES},
    {"new", dbm_cmd_new, false, "create <migrations-dir>/<UTC timestamp>_NAME.sql", .arg = "NAME",
     .check = dbm_cmd_new_check, .flags = DBM_COMMAND_NO_REPORT},
};

const size_t dbm_ncommands = sizeof(dbm_commands) / sizeof(dbm_commands[0]);

int dbm_command_find(const dbm_command_row **out, const char *word)
{
    dbm_buf names = DBM_BUF_INIT;
    const char *words[32], *likely;
    char *shown;
    size_t n = 0;

    for (size_t i = 0; i < dbm_ncommands; i++)
        if (strcmp(word, dbm_commands[i].name) == 0) {
            *out = &dbm_commands[i];
            return 0;
        }

    for (size_t i = 0; i < dbm_ncommands; i++) {
        dbm_buf_printf(&names, "%s%s", i ? ", " : "", dbm_commands[i].name);
        if (n < sizeof(words) / sizeof(words[0]))
            words[n++] = dbm_commands[i].name;
    }
    likely = dbm_suggest(word, words, n);
    shown = dbm_printable(word); /* a word from an event or a script: one line */
    dbm_error_set(DBM_ECONFIG, "unknown command '%s'", shown);
    free(shown);
    if (likely)
        dbm_error_hint("did you mean '%s'? (commands: %s)", likely, dbm_buf_cstr(&names));
    else
        dbm_error_hint("use one of: %s", dbm_buf_cstr(&names));
    dbm_buf_free(&names);
    return DBM_ECONFIG;
}

/*
 * A pull request's database is rarely disposable, and the event runs code the
 * pull request changed: what writes to the database or its history runs on
 * one only when allow-apply-on-pull-request says so.
 */
static int refuse_on_pull_request(const dbm_command_row *cmd, const dbm_config *cfg)
{
    int error;

    if (!(cmd->flags & DBM_COMMAND_WRITES) || !dbm_run_on_pull_request(cfg) ||
        cfg->allow_apply_on_pull_request)
        return 0;
    error = dbm_error_set(DBM_ECONFIG, "%s refuses to run on '%s' events", cmd->name,
                          cfg->gh.event_name);
    if (strcmp(cmd->name, "apply") == 0)
        dbm_error_hint("use command: plan or dry-run on pull requests, or set "
                       "allow-apply-on-pull-request: true if this database is disposable");
    else
        dbm_error_hint("run %s from a push or workflow_dispatch workflow, or set "
                       "allow-apply-on-pull-request: true if this database is disposable",
                       cmd->name);
    return error;
}

/* --exit-code turns status's pending migrations into exit 1; no other command reads it. */
static int check_exit_code(const dbm_command_row *cmd, const dbm_config *cfg)
{
    int error;

    if (!cfg->exit_code || strcmp(cmd->name, "status") == 0)
        return 0;
    error = dbm_error_set(DBM_ECONFIG, "--exit-code is an option of status, not of %s", cmd->name);
    if (strcmp(cmd->name, "plan") == 0 || strcmp(cmd->name, "dry-run") == 0 ||
        strcmp(cmd->name, "verify") == 0)
        dbm_error_hint("%s exits 1 on its own when it finds a blocking problem (see --fail-on); "
                       "drop --exit-code, or run 'db-migrate status --exit-code' to fail on "
                       "pending migrations",
                       cmd->name);
    else
        dbm_error_hint("drop --exit-code, or run 'db-migrate status --exit-code' to fail on "
                       "pending migrations");
    return error;
}

int dbm_command_check_args(const dbm_command_row *cmd, const dbm_config *cfg)
{
    size_t allowed = (cmd->flags & DBM_COMMAND_FILES) ? cfg->nargs : cmd->arg ? 1 : 0;
    const char *extra = allowed < cfg->nargs ? cfg->args[allowed] : NULL;
    int error;

    if (extra) {
        error = dbm_error_set(DBM_ECONFIG, "unexpected argument '%s'", extra);
        /* the message hides its password; the hint says where it belongs */
        if (strstr(extra, "://") || strstr(extra, "dbname=") || strstr(extra, "host="))
            dbm_error_hint("a connection string goes in --database-url (or DATABASE_URL, "
                           "database-url in the Action)");
        return error;
    }
    if ((error = check_exit_code(cmd, cfg)) < 0 || (error = refuse_on_pull_request(cmd, cfg)) < 0)
        return error;
    return cmd->check ? cmd->check(cfg, cmd->name) : 0;
}

void dbm_command_usage(FILE *out)
{
    fputs("usage: db-migrate [options] COMMAND\n\ncommands:\n", out);
    for (size_t i = 0; i < dbm_ncommands; i++) {
        const dbm_command_row *c = &dbm_commands[i];
        char *usage = c->arg ? dbm_xasprintf("%s %s", c->name, c->arg) : dbm_xstrdup(c->name);
        fprintf(out, "  %-24s %s\n", usage, c->help);
        free(usage);
    }
    fputc('\n', out);
    dbm_config_options_usage(out);
}
