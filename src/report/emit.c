/*
 * emit.c - the end of a run: which renderings it writes and where. The
 * annotations always; the summary to $GITHUB_STEP_SUMMARY or the terminal;
 * the step outputs and the JSON report when their paths are given.
 */
#include "common/error.h"
#include "report/render.h"
#include "report/report.h"

#include <stdio.h>
#include <stdlib.h>

static int write_file(const char *path, const char *text, bool append, const char *what)
{
    FILE *f = fopen(path, append ? "a" : "w");
    if (!f)
        return dbm_error_set(DBM_EGENERIC, "unable to write the %s to '%s'", what, path);
    fputs(text, f);
    if (fclose(f) != 0)
        return dbm_error_set(DBM_EGENERIC, "unable to write the %s to '%s'", what, path);
    return 0;
}

/* The summary appended to the job summary file, or printed on the terminal. */
static int emit_summary(const dbm_report *r, const dbm_emit_opts *opts)
{
    int error = 0;
    char *md = NULL;

    /* A run that stopped before it read anything has only its error to tell. */
    if (opts->summary_path || (!opts->quiet_terminal && (r->nmigs || r->nfindings)))
        md = dbm_report_markdown(r, opts);
    if (opts->summary_path) {
        error = write_file(opts->summary_path, md, true, "job summary");
    } else if (md && !opts->quiet_terminal) {
        fputs("\n", stdout);
        fputs(md, stdout);
        fflush(stdout);
    }
    free(md);
    return error;
}

int dbm_report_emit(const dbm_report *r, const dbm_emit_opts *opts)
{
    int error = 0;

    report_annotations(r);
    if (emit_summary(r, opts) < 0)
        error = DBM_EGENERIC;
    if (opts->output_path) {
        char *outputs = report_outputs(r, opts->report_path);
        if (write_file(opts->output_path, outputs, true, "step outputs") < 0)
            error = DBM_EGENERIC;
        free(outputs);
    }
    if (opts->report_path) {
        char *json = dbm_report_json(r);
        if (write_file(opts->report_path, json, false, "report") < 0)
            error = DBM_EGENERIC;
        free(json);
    }
    return error;
}
