/*
 * render.h - what the report's renderings share: writing text from files or
 * the server into Markdown, and the pieces emit.c assembles. Internal to
 * src/report/; callers outside it include report/report.h.
 *
 * One file per rendering: markdown.c (the job summary and the pull-request
 * comment), terminal.c (the same, change first, as plain text for the log),
 * json.c (the report file), annotations.c (workflow commands), outputs.c
 * ($GITHUB_OUTPUT), emit.c (which of them a run writes, and where); change.c
 * what the summary and the terminal both lead with. Each only reads the
 * record; none decides anything about the run.
 */
#ifndef DBM_REPORT_RENDER_H
#define DBM_REPORT_RENDER_H

#include "common/record.h"
#include "common/util.h"

#include <jansson.h>

/* After a lock an earlier migration of the dry-run held already (dbm_lock.held_earlier). */
#define DBM_REPORT_HELD_EARLIER "(held already by an earlier migration in this dry-run)"

/* --- Markdown pieces (escape.c); NULL is written as empty text --- */

/* Inline text or a table cell, escaped as dbm_escape_markdown does. */
void report_md_text(dbm_buf *b, const char *s);
/* A `code span`: literal inside, so only backticks (made '), pipes (\|) and control
 * characters (spaces) are changed. */
void report_md_code(dbm_buf *b, const char *s);
/* A <pre> block followed by a newline: HTML-escaped, line breaks kept. */
void report_md_pre(dbm_buf *b, const char *s);
/* Text inside HTML (a <summary> line), where Markdown escapes would show: &, <, >, "
 * as entities, control characters as spaces, nothing backslashed. */
void report_html_text(dbm_buf *b, const char *s);

/* --- change.c: what a report leads with --- */

/* The biggest risk this run's change carries, as a dry-run measured it. */
typedef struct {
    const char *relation; /* borrowed from the record; NULL: nothing measured */
    const char *mode;     /* the strongest lock on relation, or NULL */
    long long bytes;      /* the rewrite's size; -1 when relation is not rewritten */
} report_risk;

/*
 * The largest rewrite among the migrations of the change (not earlier), with
 * the strongest lock its statement took on that relation; without a rewrite,
 * the strongest lock taken (the first relation to take it).
 */
report_risk report_biggest_risk(const dbm_report *r);

/* A lock mode's strength, 1 (AccessShareLock) to 8 (AccessExclusiveLock); 0 unknown. */
int report_lock_rank(const char *mode);

/*
 * The headline's tone: failed (a failed or blocked run), risk (a rewrite, an
 * AccessExclusiveLock or an error-level finding), note (pending migrations, or
 * warnings before they are applied), else ok.
 */
typedef enum { REPORT_OK, REPORT_NOTE, REPORT_RISK, REPORT_FAILED } report_tone;
report_tone report_headline_tone(const dbm_report *r, const report_risk *risk);

/* Findings of a level; a finding a dry-run refuted counts as a notice whatever its rule said. */
dbm_severity report_finding_level(const dbm_finding *f);
size_t report_count_level(const dbm_report *r, dbm_severity level);

/* The change's rows (not earlier), and the earlier ones. */
size_t report_count_earlier(const dbm_report *r);
/* The newest earlier row by applied_at (then by position), or NULL. */
const dbm_mig_result *report_newest_earlier(const dbm_report *r);

/* The first failed migration with an error, or NULL. */
const dbm_mig_result *report_first_failure(const dbm_report *r);

/*
 * The headline after its icon: the failure, the block or the biggest risk (else
 * the status), then the counts: "rewrites public.orders (13.9 MB) under
 * AccessExclusiveLock · 3 pending · 1 warning". md: names as code spans.
 */
void report_put_lead(dbm_buf *b, const dbm_report *r, const report_risk *risk, bool md);

/* Bytes as "512 B", "13.9 MB". */
void report_put_bytes(dbm_buf *b, long long n);

/* --- annotations.c --- */

/* One annotation per failed migration and per finding (common/log.h's dbm_annotate); for a
 * fleet, its targets' (report_fleet_annotations), then each distinct one of their files'. */
void report_annotations(const dbm_report *r);

/* --- outputs.c --- */

/*
 * The lines of $GITHUB_OUTPUT for the run: status, applied-count, pending-count,
 * applied-versions, deployed-sha and report-file (report_path, or empty when NULL).
 * Caller frees.
 */
char *report_outputs(const dbm_report *r, const char *report_path);

/* --- a fleet's run (fleet.c): the record has targets --- */

/* The plain-text account: the headline, a line per target, each failure's error. Caller frees. */
char *report_fleet_terminal(const dbm_report *r);
/* The job summary: the table, then each target's account collapsed, under limit bytes. */
char *report_fleet_markdown(const dbm_report *r, size_t limit);
/* {"parallel", "counts": {outcome: n}, "targets": [...]}, merged into the JSON report. */
json_t *report_fleet_json(const dbm_report *r);
/* targets-count and targets-OUTCOME=N lines for $GITHUB_OUTPUT. */
void report_fleet_outputs(dbm_buf *b, const dbm_report *r);
/* One ::error per target that did not succeed, one ::warning per drifted target; capped. */
void report_fleet_annotations(const dbm_report *r);

/* --- drift between a fleet's targets (drift.c) --- */

/* A target's state among the others, least worrying first. */
typedef enum {
    REPORT_DRIFT_CLEAN = 0,    /* has applied what the others have, no more, no less */
    REPORT_DRIFT_AHEAD,        /* applied versions most compared targets have pending */
    REPORT_DRIFT_BEHIND,       /* pending versions another compared target has applied */
    REPORT_DRIFT_MISSING,      /* an applied version whose file is gone */
    REPORT_DRIFT_EDITED,       /* an applied version whose file changed since */
    REPORT_DRIFT_FAILED,       /* a version an earlier run left failed, not finished */
    REPORT_DRIFT_NOT_COMPARED, /* it did not read its history (down, locked, misconfigured) */
    REPORT_DRIFT_NSTATES
} report_drift_state;

typedef struct {
    const char **v; /* versions, borrowed from the target's record, in its order */
    size_t n, cap;
} report_drift_list;

typedef struct {
    const dbm_target_result *target; /* borrowed */
    report_drift_state state;        /* its worst */
    const char *newest;              /* its newest applied version, or NULL */
    size_t napplied;
    report_drift_list behind, ahead, edited, missing, failed;
    char *differs; /* one line: "behind by 2: 002, 003", "" when clean */
} report_drift_row;

typedef struct {
    report_drift_row *rows; /* one per target, in the record's order */
    size_t n, compared;
    size_t count[REPORT_DRIFT_NSTATES];
    const char *newest; /* the newest version applied on any compared target */
    bool same;          /* every compared target clean (so all at the same versions) */
} report_drift;

/* Rows of one state, newest version and difference. */
typedef struct {
    const report_drift_row *first;
    size_t count;
} report_drift_group;

const char *report_drift_state_name(report_drift_state s);
/* The drift of a fleet's plan, status, dry-run or verify on two or more targets, else NULL. */
report_drift *report_drift_compute(const dbm_report *r);
/*
 * The drift of the closed fleet record r, as report_drift_compute gives it,
 * computed on the first call and kept on r (r->drift) for every later one:
 * the terminal, summary, JSON and annotations of one record read one
 * computation. Borrowed from r: valid until r is freed, closed again or given
 * another target. Not for threads sharing r.
 */
const report_drift *report_fleet_drift(const dbm_report *r);
void report_drift_free(report_drift *d); /* accepts NULL */
/* The rows grouped, worst state first, then the largest group. Caller frees the array. */
report_drift_group *report_drift_groups(const report_drift *d, size_t *n);
/* The group's target names, the first ten then "and N more"; md: as code spans. */
void report_drift_group_names(dbm_buf *b, const report_drift *d, const report_drift_group *g,
                              bool md);
/* "1 failed, 2 behind, 3 clean": the states present, worst first. */
void report_drift_counts(dbm_buf *b, const report_drift *d);
/* "all 5 targets at 003, clean" for a fleet without drift. */
void report_drift_same_line(dbm_buf *b, const report_drift *d);
/* {"same", "newest", "compared", "counts", "targets": [...]} (docs/fleets.md). */
json_t *report_drift_json(const report_drift *d);
/* The plain-text section: a heading line, then a line per group. */
void report_drift_terminal(dbm_buf *b, const report_drift *d);
/* The Markdown section, under `room` bytes. */
void report_drift_markdown(dbm_buf *b, const report_drift *d, size_t room);

#endif
