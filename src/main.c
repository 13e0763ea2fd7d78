/*
 * main.c - argv and environment -> configuration -> the command's row in
 * the table (command/table.c) -> report -> exit status.
 *
 * The only place that prints the run's error and maps error codes to exit
 * statuses (0 done, 1 failed or blocked, 2 usage, 3 connection, 4 run lock,
 * 128 + the signal when stopped by SIGTERM or SIGINT), except in a Lambda
 * function: there the runtime's loop (command/lambda.h) answers each
 * invocation with the status the run would have had.
 */
#include "command/command.h"
#include "command/lambda.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "config.h"
#include "report/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The error, and its hint, on stderr (and as an annotation in Actions). */
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
    dbm_log_error(msg, hint);
}

/* help, version and generate are words but not commands: they print and take no argument. */
static int print_info(const dbm_config *cfg)
{
    if (cfg->args[0])
        return dbm_error_set(DBM_ECONFIG, "unexpected argument '%s'", cfg->args[0]);
    if (cfg->no_command) {
        dbm_command_usage(stderr);
        return DBM_ECONFIG; /* the usage says it all: no error line */
    }
    if (strcmp(cfg->command, "help") == 0)
        dbm_command_usage(stdout);
    else if (strcmp(cfg->command, "generate") == 0)
        return dbm_command_generate(stdout, cfg->generate);
    else
        dbm_command_version(stdout);
    return 0;
}

/*
 * The run's code once its report is written (emitted: what dbm_report_emit
 * returned). A report the run was asked for (report-file set) that could not
 * be written is an error: a shard's report lost unnoticed would leave its
 * targets out of the fleet's merge. A run that went well exits 2 for it (the
 * option names a file that cannot be written); a run that failed keeps its
 * own code, and both errors are told. Another file (the summary, the outputs,
 * the default report) is a warning.
 */
static int report_lost(int error, int emitted, const dbm_saved_error *run_error)
{
    if (emitted == 0)
        return error;
    if (emitted != DBM_ECONFIG) {
        dbm_warn("%s", dbm_error_message());
        return error;
    }
    dbm_error_hint("%s", DBM_REPORT_FILE_HINT);
    if (error == 0)
        return DBM_ECONFIG;
    dbm_log_error(dbm_error_message(), dbm_error_hint_text());
    dbm_error_raise(run_error); /* main prints the run's own error last */
    return error;
}

/* Run the command and emit its report (unless it writes none); returns the command's code. */
static int run(const dbm_command_row *cmd, const dbm_config *cfg, int64_t started)
{
    dbm_report *report = dbm_report_new(cmd->name);
    dbm_emit_opts emit;
    dbm_saved_error run_error;
    int error = dbm_command_is_fleet(cmd, cfg) ? dbm_command_run_fleet(cmd, cfg, report)
                                               : dbm_command_run(cmd, cfg, report);

    report->duration_ms = (double)(dbm_now_ms() - started);
    report->exit_code = dbm_error_exit_status(error);
    if (error < 0 && *dbm_error_message())
        dbm_report_set(&report->error, dbm_error_message());
    if (error < 0 && !report->status)
        dbm_report_set(&report->status, "failed");
    if (!(cmd->flags & DBM_COMMAND_NO_REPORT)) {
        memset(&emit, 0, sizeof(emit));
        emit.summary_path = cfg->gh.step_summary;
        emit.output_path = cfg->gh.output;
        emit.report_path = cfg->report_file;
        emit.server_url = cfg->gh.server_url;
        emit.repository = cfg->gh.repository;
        emit.frame_in_log = cfg->report_in_log;
        emit.quiet_terminal = (cmd->flags & DBM_COMMAND_TERSE) && error == 0 && !cfg->verbose;
        emit.report_required = cfg->report_file_given;
        dbm_error_save(&run_error);
        error = report_lost(error, dbm_report_emit(report, &emit), &run_error);
        dbm_saved_error_free(&run_error);
    }
    dbm_report_free(report);
    return error;
}

int main(int argc, char **argv)
{
    int64_t started = dbm_now_ms();
    dbm_config *cfg = NULL;
    const dbm_command_row *cmd = NULL;
    const char *lambda_api = dbm_getenv("AWS_LAMBDA_RUNTIME_API");
    int error;

    /* In a Lambda function the image's entrypoint is the runtime, whatever its arguments. */
    if (lambda_api)
        return dbm_lambda_serve(lambda_api);
    if ((error = dbm_config_load(&cfg, argc, argv)) < 0)
        goto done;
    if (!strcmp(cfg->command, "help") || !strcmp(cfg->command, "version") ||
        !strcmp(cfg->command, "generate")) {
        error = print_info(cfg);
        goto done;
    }
    dbm_log_use_json(cfg->log_json);
    /* With the JSON report on standard output, the log goes to standard error. */
    if (cfg->report_file && strcmp(cfg->report_file, "-") == 0)
        dbm_log_use_stderr(true);
    if ((error = dbm_command_find(&cmd, cfg->command)) < 0 ||
        (error = dbm_command_check_args(cmd, cfg)) < 0 ||
        (!(cmd->flags & DBM_COMMAND_NO_REPORT) &&
         (error = dbm_report_file_check(cfg->report_file_given ? cfg->report_file : NULL)) < 0))
        goto done;
    error = run(cmd, cfg, started);
done:
    if (error < 0)
        print_error();
    dbm_config_free(cfg);
    return dbm_error_exit_status(error);
}
