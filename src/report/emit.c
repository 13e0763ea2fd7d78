/*
 * emit.c - the end of a run: which renderings it writes and where. The
 * annotations always; the plain-text account to the log unless the command
 * is quiet; the Markdown summary to $GITHUB_STEP_SUMMARY; the step outputs
 * and the JSON report (a file, or standard output for "-") when their paths
 * are given.
 */
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "report/render.h"
#include "report/report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_file(const char *path, const char *text, bool append, const char *what)
{
    FILE *f = fopen(path, append ? "a" : "w");
    if (!f)
        return dbm_error_set(DBM_EGENERIC, "unable to write the %s to '%s': %s", what, path,
                             strerror(errno));
    /* A write that failed while buffering (a report larger than the buffer) is told by
     * ferror: fclose may then have nothing left to fail on. */
    bool bad = fputs(text, f) == EOF || ferror(f);
    if (fclose(f) != 0 || bad)
        return dbm_error_set(DBM_EGENERIC, "unable to write the %s to '%s': %s", what, path,
                             strerror(errno));
    return 0;
}

/* Whether the log shows the report. A run that stopped before it read anything has only its
 * error to tell. */
static bool terminal_shown(const dbm_report *r, const dbm_emit_opts *opts)
{
    return (!opts->quiet_terminal && (r->nmigs || r->nfindings)) || dbm_report_is_fleet(r);
}

/*
 * The run as plain text in the log (unless quiet), whatever else is written:
 * a job summary does not replace the log. Then the job summary's Markdown when
 * there is a summary file.
 */

static int emit_summary(const dbm_report *r, const dbm_emit_opts *opts)
{
    int error = 0;

    if (terminal_shown(r, opts)) {
        char *text =
            dbm_report_is_fleet(r)
                ? report_fleet_terminal(r)
                : dbm_report_terminal_cut(r, dbm_log_color() && !dbm_log_json(), dbm_log_width());
        FILE *out = dbm_log_stream();
        fflush(stdout);
        if (dbm_log_json()) {
            /* One object: the headline, and the report a log pipeline can query. */
            char *json = dbm_report_json(r);
            text[strcspn(text, "\n")] = '\0';
            dbm_log_report(text, json);
            free(json);
        } else {
            fputs("\n", out);
            fputs(text, out);
            fflush(out);
        }
        free(text);
    }
    if (opts->summary_path) {
        char *md = dbm_report_markdown(r, opts);
        error = write_file(opts->summary_path, md, true, "job summary");
        free(md);
    }
    return error;
}

int dbm_report_file_check(const char *path)
{
    const char *slash, *why = NULL;
    char *dir;
    struct stat st;
    FILE *f;

    if (!path || strcmp(path, "-") == 0)
        return 0;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode))
            why = "it is a directory";
        else if (!(f = fopen(path, "a")))
            why = strerror(errno);
        else
            fclose(f);
    } else {
        slash = strrchr(path, '/');
        dir = slash ? dbm_xstrndup(path, slash == path ? 1 : (size_t)(slash - path))
                    : dbm_xstrdup(".");
        if (stat(dir, &st) != 0)
            why = errno == ENOENT ? "its directory does not exist" : strerror(errno);
        else if (!S_ISDIR(st.st_mode))
            why = "its directory is not a directory";
        else if (access(dir, W_OK | X_OK) != 0)
            why = strerror(errno);
        free(dir);
    }
    if (!why)
        return 0;
    dbm_error_set(DBM_ECONFIG, "unable to write the report to '%s': %s", path, why);
    dbm_error_hint("%s", DBM_REPORT_FILE_HINT);
    return DBM_ECONFIG;
}

int dbm_report_write(const char *path, const char *text, const char *what)
{
    if (strcmp(path, "-") != 0)
        return write_file(path, text, false, what);
    fflush(stdout);
    fputs(text, stdout);
    if (fflush(stdout) != 0)
        return dbm_error_set(DBM_EGENERIC, "unable to write the %s to standard output", what);
    return 0;
}

/* The JSON report to its file, or to standard output for "-". */
static int emit_json(const dbm_report *r, const char *path)
{
    char *json = dbm_report_json(r);
    int error = dbm_report_write(path, json, "report");

    free(json);
    return error;
}

int dbm_report_emit(const dbm_report *r, const dbm_emit_opts *opts)
{
    int error = 0;
    dbm_saved_error lost = {DBM_OK, NULL, NULL};

    /*
     * Under Actions annotations mark the files on the pull request, and in a
     * JSON log each is an event a pipeline can select. Elsewhere they are lines
     * on stderr, which the plain-text report lists once already when shown.
     */
    if (dbm_in_actions() || dbm_log_json() || !terminal_shown(r, opts))
        report_annotations(r);
    if (emit_summary(r, opts) < 0)
        error = DBM_EGENERIC;
    if (opts->output_path) {
        char *outputs = report_outputs(r, opts->report_path);
        if (write_file(opts->output_path, outputs, true, "step outputs") < 0)
            error = DBM_EGENERIC;
        free(outputs);
    }
    if (opts->report_path && emit_json(r, opts->report_path) < 0) {
        error = DBM_EGENERIC;
        if (opts->report_required)
            dbm_error_save(&lost);
    }
    if (opts->frame_in_log) {
        char *json = dbm_report_json(r), *frame = dbm_report_frame(json);
        fflush(stderr);
        if (dbm_report_write("-", frame, "framed report") < 0)
            error = DBM_EGENERIC;
        free(frame);
        free(json);
    }
    if (lost.code != DBM_OK) { /* the report's failure, whatever else failed after it */
        dbm_error_raise(&lost);
        dbm_saved_error_free(&lost);
        return DBM_ECONFIG;
    }
    return error;
}
