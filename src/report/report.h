/*
 * report.h - the run's record told at the end of a run: workflow-command
 * annotations, the job summary (Markdown), the step outputs and the JSON
 * report. Live log lines, and the escaping workflow commands need, are
 * common/log.h's.
 *
 * The emit functions only read the record (common/record.h) and decide
 * nothing about the run. Text that came from files or the server is escaped
 * where it is written (Markdown table cells, HTML, workflow-command
 * properties), never before.
 *
 * Outside GitHub Actions (GITHUB_ACTIONS unset) annotations become plain
 * "error: file:line:col: message" lines on stderr and the summary is printed
 * to the terminal instead of a file.
 */
#ifndef DBM_REPORT_H
#define DBM_REPORT_H

#include "common/record.h"

#include <stdbool.h>

/* Escape text for a Markdown table cell or inline text: HTML-escaped, | and newlines made
 * safe, Markdown punctuation backslashed. Caller frees. */
char *dbm_escape_markdown(const char *s);

/* --- at the end of a run --- */

typedef struct {
    const char *summary_path; /* $GITHUB_STEP_SUMMARY, or NULL to print to the terminal */
    const char *output_path;  /* $GITHUB_OUTPUT, or NULL */
    const char *report_path;  /* report-file, or NULL */
    const char *server_url, *repository; /* for commit links; may be NULL */
    bool quiet_terminal;                 /* don't print the summary on the terminal */
} dbm_emit_opts;

/* Render the job-summary Markdown (kept under 1 MiB). Caller frees. */
char *dbm_report_markdown(const dbm_report *r, const dbm_emit_opts *opts);
/* Render the JSON report. Caller frees. */
char *dbm_report_json(const dbm_report *r);

/*
 * Write the annotations for findings and failures, the summary, the step
 * outputs and the JSON report. Returns 0, or DBM_EGENERIC when a file could
 * not be written (the run's own outcome is unchanged by that).
 */
int dbm_report_emit(const dbm_report *r, const dbm_emit_opts *opts);

#endif
