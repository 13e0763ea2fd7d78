/*
 * log.h - the live log: plain lines, groups, workflow-command annotations and
 * masks, with the escaping the GitHub runner expects.
 *
 * Under GitHub Actions (GITHUB_ACTIONS=true) annotations and masks are
 * workflow commands on stdout; elsewhere annotations are "error: FILE:LINE:COL:
 * message" lines on stderr and masks do nothing. The run's record (what ends
 * up in the summary and report) is report.h's.
 */
#ifndef DBM_LOG_H
#define DBM_LOG_H

#include <stdbool.h>
#include <stdio.h>

/* Whether we run under GitHub Actions (GITHUB_ACTIONS=true). */
bool dbm_in_actions(void);

/*
 * The log's stream: stdout, or stderr once dbm_log_use_stderr(true) (when
 * stdout carries the JSON report, --report-file -).
 */
void dbm_log_use_stderr(bool on);
FILE *dbm_log_stream(void);

/*
 * log-format json: every log line, warning and error is one JSON object on its
 * line ({"level", "message", and "file", "line", "col", "hint" when known});
 * workflow commands (masks, groups, annotations under Actions) stay as the
 * runner reads them.
 */
void dbm_log_use_json(bool on);
bool dbm_log_json(void);

/* The run's error and its hint (NULL: none) on stderr: "error: ..." lines, or one JSON object. */
void dbm_log_error(const char *message, const char *hint);

/*
 * One log line; in JSON mode with `json` (a JSON text, such as an object) as
 * the value of `key` beside "level" and "message".
 */
void dbm_log_with(const char *message, const char *key, const char *json);

/* In JSON mode, the end of a run: {"level": "info", "message": headline, "report": {...}}. */
void dbm_log_report(const char *headline, const char *report_json);

/*
 * Whether the log may use colour: its stream is a terminal, NO_COLOR is unset
 * or empty, and TERM is not "dumb".
 */
bool dbm_log_color(void);

/*
 * The width of the terminal the log goes to: COLUMNS when it is a positive
 * number, else the terminal's own; 0 when the log is not a terminal.
 */
size_t dbm_log_width(void);

/*
 * This thread's log lines and warnings start with "[NAME] " (a fleet's
 * target; in JSON, their message), until set again; NULL: none. Copied.
 */
void dbm_log_set_prefix(const char *name);

/* One log line on the log's stream (a newline is added). */
void dbm_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A warning line on stderr ("warning: ..."); under Actions a ::warning:: command. */
void dbm_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ::group::title / ::endgroup:: under Actions; a plain header line elsewhere. */
void dbm_log_group(const char *title);
void dbm_log_endgroup(void);

/* ::add-mask:: for a secret, before anything could print it. No-op outside Actions. */
void dbm_mask(const char *secret);

/*
 * An annotation: level is "error", "warning" or "notice". file may be NULL;
 * line/col 0 means unknown; title may be NULL.
 */
void dbm_annotate(const char *level, const char *file, int line, int col, const char *title,
                  const char *message);

/* Escape a workflow command's data (%, CR, LF) or property (also : and ,). Caller frees. */
char *dbm_escape_command_data(const char *s);
char *dbm_escape_command_property(const char *s);

/*
 * For a log line: control characters (newlines in file names...) as '?', bytes
 * that are not UTF-8 as \xNN. Caller frees.
 */
char *dbm_printable(const char *s);

#endif
