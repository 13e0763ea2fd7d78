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
 * "error: file:line:col: message" lines on stderr. The plain-text account
 * (terminal.c) goes to the log in Actions too, beside the job summary.
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
    size_t limit;                        /* the summary's bound in bytes; 0: DBM_SUMMARY_LIMIT */
    bool frame_in_log;    /* the JSON report framed on standard output too (dbm_report_frame) */
    bool report_required; /* the report was asked for: not writing it is an error, not a warning */
} dbm_emit_opts;

#define DBM_SUMMARY_LIMIT (63u * 1024u) /* under the 64 KiB DESIGN promises */

/*
 * Render the job-summary Markdown, change first (DESIGN section 7), under
 * opts->limit bytes whatever the history's size: the rows of the change and
 * the error-level findings come before the history, which is one line and a
 * collapsed list cut to what room is left. A fleet's record (targets) gets the
 * fleet's summary: failures, drift, a row per target, each target collapsed.
 * Caller frees.
 */
char *dbm_report_markdown(const dbm_report *r, const dbm_emit_opts *opts);

/*
 * Render the same for a terminal or a log: plain aligned text, no Markdown or
 * HTML, ANSI colour when `color`. Rows of earlier runs are one line, except for
 * `status`, whose job is to list them. Caller frees.
 */
char *dbm_report_terminal(const dbm_report *r, bool color);
/*
 * The same for a terminal `cols` columns wide: lines of SQL (excerpts, an
 * error's context, diffs) are cut to it with "…" rather than wrapped. 0: no limit.
 */
char *dbm_report_terminal_cut(const dbm_report *r, bool color, size_t cols);
/* Render the JSON report. Caller frees. */
char *dbm_report_json(const dbm_report *r);

/*
 * Write the annotations for findings and failures, the summary, the step
 * outputs and the JSON report. Returns 0; DBM_ECONFIG when the JSON report
 * could not be written and opts->report_required (its message recorded); or
 * DBM_EGENERIC when another file could not be written.
 */
int dbm_report_emit(const dbm_report *r, const dbm_emit_opts *opts);

/* What an unwritable report-file's error hints. */
#define DBM_REPORT_FILE_HINT                                                                       \
    "set report-file to a path in a directory that exists and can be written"

/*
 * A report-file the run was asked to write (path; NULL when none was given,
 * "-" for standard output) that cannot be: its directory missing, not one or
 * not writable, or the file a directory or not open for writing (opened to
 * append, so not changed). DBM_ECONFIG before anything runs, else 0.
 */
int dbm_report_file_check(const char *path);

/* --- a report that travels from a remote run (remote.c) --- */

/*
 * The JSON report framed for a log that a caller reads back (run-in: ecs):
 * a begin line with the length and SHA-256, base64 lines, an end line.
 * Caller frees.
 */
char *dbm_report_frame(const char *json);

/* Reads frames out of log lines, one line at a time. */
typedef struct dbm_frame_reader dbm_frame_reader;
dbm_frame_reader *dbm_frame_reader_new(void);
/* Feed a line (without its newline); true when it is part of a frame, not for the log. */
bool dbm_frame_reader_line(dbm_frame_reader *fr, const char *line);
/* The JSON of the last complete, intact frame, or NULL. Borrowed. */
const char *dbm_frame_reader_json(const dbm_frame_reader *fr);
/* Whether the last frame begun was cut or did not match its length and digest. */
bool dbm_frame_reader_broken(const dbm_frame_reader *fr);
void dbm_frame_reader_free(dbm_frame_reader *fr); /* accepts NULL */

/*
 * Fill r (new and empty but for its command) from a JSON report (json.c's
 * fields). DBM_EGENERIC when the text is not one.
 */
int dbm_report_from_json(dbm_report *r, const char *json, size_t len);

/* --- the history command's runs (postgres/history.h's rows) --- */

struct dbm_run_row;

/* An aligned table of the runs, newest first, or "no runs recorded". Caller frees. */
char *dbm_report_runs_text(const struct dbm_run_row *rows, size_t n);
/* {"command": "history", "database", "runs": [...]}. Caller frees. */
char *dbm_report_runs_json(const struct dbm_run_row *rows, size_t n, const char *database);

/* Write text to path, or to standard output when path is "-". DBM_EGENERIC naming `what`. */
int dbm_report_write(const char *path, const char *text, const char *what);

#endif
