/*
 * render.h - what the report's renderings share: writing text from files or
 * the server into Markdown, and the pieces emit.c assembles. Internal to
 * src/report/; callers outside it include report/report.h.
 *
 * One file per rendering: markdown.c (the job summary, also printed on the
 * terminal), json.c (the report file), annotations.c (workflow commands),
 * outputs.c ($GITHUB_OUTPUT), emit.c (which of them a run writes, and where).
 * Each only reads the record; none decides anything about the run.
 */
#ifndef DBM_REPORT_RENDER_H
#define DBM_REPORT_RENDER_H

#include "common/record.h"
#include "common/util.h"

/* --- Markdown pieces (escape.c); NULL is written as empty text --- */

/* Inline text or a table cell, escaped as dbm_escape_markdown does. */
void report_md_text(dbm_buf *b, const char *s);
/* A `code span`: literal inside, so only backticks (made '), pipes (\|) and control
 * characters (spaces) are changed. */
void report_md_code(dbm_buf *b, const char *s);
/* A <pre> block followed by a newline: HTML-escaped, line breaks kept. */
void report_md_pre(dbm_buf *b, const char *s);

/* --- annotations.c --- */

/* One annotation per failed migration and per finding (common/log.h's dbm_annotate). */
void report_annotations(const dbm_report *r);

/* --- outputs.c --- */

/*
 * The lines of $GITHUB_OUTPUT for the run: status, applied-count, pending-count,
 * applied-versions, deployed-sha and report-file (report_path, or empty when NULL).
 * Caller frees.
 */
char *report_outputs(const dbm_report *r, const char *report_path);

#endif
