/*
 * main.c - argv and environment -> configuration -> command -> report -> exit status.
 *
 * The only place that prints the run's error and maps error codes to exit
 * statuses (0 done, 1 failed or blocked, 2 usage, 3 connection, 4 run lock).
 */
#include "command/command.h"
#include "config.h"
#include "common/error.h"
#include "common/log.h"
#include "report/report.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_error(void)
{
    const char *msg = dbm_error_message();
    const char *hint = dbm_error_hint_text();

    if (!*msg)
        return;
    fflush(stdout);
    if (dbm_in_actions()) {
        char *text = hint ? dbm_xasprintf("%s\nhint: %s", msg, hint) : dbm_xstrdup(msg);
        dbm_annotate("error", NULL, 0, 0, "db-migrate", text);
        free(text);
    }
    fprintf(stderr, "error: %s\n", msg);
    if (hint)
        fprintf(stderr, "hint: %s\n", hint);
}

int main(int argc, char **argv)
{
    dbm_config *cfg = NULL;
    dbm_report *report = NULL;
    dbm_emit_opts emit;
    int64_t started = dbm_now_ms();
    int error;

    if ((error = dbm_config_load(&cfg, argc, argv)) < 0) {
        print_error();
        return dbm_error_exit_status(error);
    }
    if (cfg->command == DBM_CMD_HELP) {
        fputs(dbm_config_usage(), stdout);
        dbm_config_free(cfg);
        return 0;
    }
    if (cfg->command == DBM_CMD_VERSION) {
        printf("db-migrate %s\n", DBM_VERSION);
        dbm_config_free(cfg);
        return 0;
    }

    report = dbm_report_new(dbm_command_name(cfg->command));
    error = dbm_run_command(cfg, report);
    report->duration_ms = (double)(dbm_now_ms() - started);
    if (error < 0 && *dbm_error_message())
        dbm_report_set(&report->error, dbm_error_message());
    if (error < 0 && !report->status)
        dbm_report_set(&report->status, "failed");

    if (cfg->command != DBM_CMD_NEW) {
        memset(&emit, 0, sizeof(emit));
        emit.summary_path = cfg->gh.step_summary;
        emit.output_path = cfg->gh.output;
        emit.report_path = cfg->report_file;
        emit.server_url = cfg->gh.server_url;
        emit.repository = cfg->gh.repository;
        /* On a terminal the log already told an apply; the table is for the other commands. */
        emit.quiet_terminal = cfg->command == DBM_CMD_APPLY && error == 0 && !cfg->verbose;
        if (dbm_report_emit(report, &emit) < 0)
            dbm_warn("%s", dbm_error_message());
    }
    if (error < 0)
        print_error();
    dbm_report_free(report);
    dbm_config_free(cfg);
    return dbm_error_exit_status(error);
}
