/*
 * fleet.c - the renderings of a fleet's run (DESIGN section 11): a line per
 * target (outcome, applied, pending, duration) in the record's order, which
 * puts failures first; each target's own account collapsed under it in the
 * job summary; the step outputs with a count per outcome; one JSON report
 * with a targets[] array holding each target's own report. A plan, status,
 * dry-run or verify also tells the drift between the targets (drift.c).
 */
#include "common/json.h"
#include "common/log.h"
#include "report/render.h"
#include "report/report.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PROBLEMS_SHOWN 20 /* targets that did not succeed, listed before the table */
#define FINDINGS_SHOWN 3  /* blocking findings listed per target */
#define ANNOTATIONS    10 /* annotations of each level before "and N more" */

/* The outcomes a target can end with, in the order the counts are told. */
static const char *const outcomes[] = {
    "failed",  "blocked",     "error",   "unreachable", "locked",     "cancelled", "skipped",
    "applied", "rolled-back", "pending", "up-to-date",  "no-schemas", NULL};

static size_t count_outcome(const dbm_report *r, const char *outcome)
{
    size_t n = 0;

    for (size_t i = 0; i < r->ntargets; i++)
        n += strcmp(r->targets[i].outcome, outcome) == 0;
    return n;
}

#define MISSING_SHOWN 10 /* missing shards named in the headline */

/* "; no report of shards 2, 4 of 5": the shards a merge lacks. */
static void missing_shards(dbm_buf *b, const dbm_report *r)
{
    long miss[MISSING_SHOWN];
    size_t n = dbm_report_shards_missing(r, miss, MISSING_SHOWN);

    if (!n)
        return;
    dbm_buf_printf(b, "; no report of shard%s ", n == 1 ? "" : "s");
    for (size_t k = 0; k < n && k < MISSING_SHOWN; k++)
        dbm_buf_printf(b, "%s%ld", k ? ", " : "", miss[k]);
    if (n > MISSING_SHOWN)
        dbm_buf_printf(b, " and %zu more", n - MISSING_SHOWN);
    dbm_buf_printf(b, " of %ld", r->shard.count);
}

/* "5 targets: 1 failed, 1 unreachable, 3 applied" */
static void headline(dbm_buf *b, const dbm_report *r)
{
    bool first = true;

    dbm_buf_printf(b, "%s on %zu target%s: ", r->command, r->ntargets, r->ntargets == 1 ? "" : "s");
    if (!r->ntargets && r->shard.index)
        dbm_buf_printf(b, "shard %ld/%ld has no targets", r->shard.index, r->shard.count);
    else if (!r->ntargets)
        dbm_buf_puts(b, "none");
    for (size_t k = 0; outcomes[k]; k++) {
        size_t n = count_outcome(r, outcomes[k]);
        if (n) {
            dbm_buf_printf(b, "%s%zu %s", first ? "" : ", ", n, outcomes[k]);
            first = false;
        }
    }
    missing_shards(b, r);
    dbm_buf_printf(b, " (parallel %d)", r->parallel);
}

/*
 * The "applied" column: what apply or rollback applied, or, for a command
 * that only reads, how many migrations the target's history holds, which is
 * what a person running status on a fleet asks (its run applied none).
 */
static int applied_shown(const dbm_report *r, const dbm_target_result *t)
{
    int n = 0;

    if (!strcmp(r->command, "apply") || !strcmp(r->command, "rollback") || !t->detail)
        return t->applied_count;
    for (size_t k = 0; k < t->detail->nmigs; k++) {
        dbm_mig_status st = t->detail->migs[k].status;
        n += st == DBM_MIG_APPLIED || st == DBM_MIG_EDITED || st == DBM_MIG_MISSING;
    }
    return n;
}

static void seconds(char *out, size_t size, double ms)
{
    snprintf(out, size, "%.1fs", ms / 1000.0);
}

/*
 * A target's first blocking findings under its error line, each with its hint:
 * the "errors above" its error points to, which its own run's view would show.
 */
static void term_findings(dbm_buf *b, const dbm_target_result *t)
{
    size_t shown = 0, more = 0;

    for (size_t k = 0; t->detail && k < t->detail->nfindings; k++) {
        const dbm_finding *f = &t->detail->findings[k];
        char *msg;
        if (report_finding_level(f) != DBM_SEV_ERROR)
            continue;
        if (shown == FINDINGS_SHOWN) {
            more++;
            continue;
        }
        shown++;
        msg = dbm_printable(f->message);
        dbm_buf_printf(b, "  %s  ", f->rule);
        if (f->file)
            dbm_buf_printf(b, f->line > 0 ? "%s:%d: " : "%s: ", f->file, f->line);
        dbm_buf_printf(b, "%s\n", msg);
        free(msg);
        if (f->hint) {
            msg = dbm_printable(f->hint);
            dbm_buf_printf(b, "    hint: %s\n", msg);
            free(msg);
        }
    }
    if (more)
        dbm_buf_printf(b, "  and %zu more: run the command with --targets on this target alone\n",
                       more);
}

char *report_fleet_terminal(const dbm_report *r)
{
    dbm_buf b = DBM_BUF_INIT;
    size_t wname = strlen("target"), wout = strlen("outcome");

    headline(&b, r);
    dbm_buf_puts(&b, r->ntargets ? "\n\n" : "\n");
    if (!r->ntargets)
        return dbm_buf_detach(&b);
    for (size_t i = 0; i < r->ntargets; i++) {
        size_t n = strlen(r->targets[i].name), o = strlen(r->targets[i].outcome);
        wname = n > wname ? n : wname;
        wout = o > wout ? o : wout;
    }
    dbm_buf_printf(&b, "  %-*s  %-*s  %7s  %7s  %8s\n", (int)wout, "outcome", (int)wname, "target",
                   "applied", "pending", "duration");
    for (size_t i = 0; i < r->ntargets; i++) {
        const dbm_target_result *t = &r->targets[i];
        char dur[32];
        char *name = dbm_printable(t->name);
        seconds(dur, sizeof(dur), t->duration_ms);
        dbm_buf_printf(&b, "  %-*s  %-*s  %7d  %7d  %8s\n", (int)wout, t->outcome, (int)wname, name,
                       applied_shown(r, t), t->pending_count, dur);
        free(name);
    }
    for (size_t i = 0; i < r->ntargets; i++)
        if (r->targets[i].error) {
            char *name = dbm_printable(r->targets[i].name);
            char *err = dbm_printable(r->targets[i].error);
            dbm_buf_printf(&b, "%s%s: %s\n", i ? "" : "\n", name, err);
            term_findings(&b, &r->targets[i]);
            free(name);
            free(err);
        }
    const report_drift *d = report_fleet_drift(r);
    if (d) {
        dbm_buf_puts(&b, "\n");
        report_drift_terminal(&b, d);
    }
    return dbm_buf_detach(&b);
}

/* A target that did not succeed: its outcome, its error and its first blocking findings. */
static void md_problem(dbm_buf *b, const dbm_target_result *t)
{
    size_t shown = 0;

    dbm_buf_puts(b, "- ");
    report_md_code(b, t->name);
    dbm_buf_printf(b, " **%s**", t->outcome);
    if (t->error) {
        dbm_buf_puts(b, ": ");
        report_md_text(b, t->error);
    }
    dbm_buf_puts(b, "\n");
    for (size_t k = 0; t->detail && k < t->detail->nfindings; k++) {
        const dbm_finding *f = &t->detail->findings[k];
        if (report_finding_level(f) != DBM_SEV_ERROR)
            continue;
        if (shown++ == FINDINGS_SHOWN) {
            dbm_buf_puts(b, "  - and more in its details\n");
            break;
        }
        dbm_buf_printf(b, "  - **%s**", f->rule);
        if (f->file) {
            dbm_buf_puts(b, " ");
            report_md_code(b, f->file);
        }
        dbm_buf_puts(b, ": ");
        report_md_text(b, f->message);
        dbm_buf_puts(b, "\n");
    }
}

/* The targets that did not succeed, before anything else: a person has to look at them. */
static void md_problems(dbm_buf *b, const dbm_report *r)
{
    size_t bad = 0;

    for (size_t i = 0; i < r->ntargets; i++) {
        const dbm_target_result *t = &r->targets[i];
        if (t->exit_code == 0)
            continue;
        if (bad++ == 0)
            dbm_buf_puts(b, "### Did not succeed\n\n");
        if (bad <= PROBLEMS_SHOWN)
            md_problem(b, t);
    }
    if (bad > PROBLEMS_SHOWN)
        dbm_buf_printf(b, "- and %zu more targets (in the table below)\n", bad - PROBLEMS_SHOWN);
    if (bad)
        dbm_buf_puts(b, "\n");
}

/* A row per target while there is room (a summary stays under its bound); failures come first. */
static void md_table(dbm_buf *b, const dbm_report *r, size_t limit)
{
    dbm_buf_puts(b, "| outcome | target | group | applied | pending | duration |\n"
                    "| --- | --- | --- | ---: | ---: | ---: |\n");
    for (size_t i = 0; i < r->ntargets; i++) {
        const dbm_target_result *t = &r->targets[i];
        dbm_buf row = DBM_BUF_INIT;
        char dur[32];
        seconds(dur, sizeof(dur), t->duration_ms);
        dbm_buf_printf(&row, "| %s | ", t->outcome);
        report_md_code(&row, t->name);
        dbm_buf_puts(&row, " | ");
        report_md_text(&row, t->group);
        dbm_buf_printf(&row, " | %d | %d | %s |\n", applied_shown(r, t), t->pending_count, dur);
        if (b->len + row.len + 256 > limit) {
            dbm_buf_printf(b, "\n(%zu more targets in the JSON report)\n", r->ntargets - i);
            dbm_buf_free(&row);
            break;
        }
        dbm_buf_puts(b, dbm_buf_cstr(&row));
        dbm_buf_free(&row);
    }
    dbm_buf_puts(b, "\n");
}

/* Each target's account, collapsed, while there is room. */
static void md_details(dbm_buf *b, const dbm_report *r, size_t limit)
{
    for (size_t i = 0; i < r->ntargets && limit; i++) {
        const dbm_target_result *t = &r->targets[i];
        char *text = t->detail ? dbm_report_terminal(t->detail, false) : NULL;
        dbm_buf part = DBM_BUF_INIT;
        dbm_buf_puts(&part, "<details><summary>");
        report_html_text(&part, t->name);
        dbm_buf_printf(&part, ": %s</summary>\n\n", t->outcome);
        if (t->error) {
            dbm_buf_puts(&part, "\n");
            report_md_text(&part, t->error);
            dbm_buf_puts(&part, "\n\n");
        }
        if (text && *text)
            report_md_pre(&part, text);
        dbm_buf_puts(&part, "\n</details>\n");
        if (b->len + part.len + 64 < limit)
            dbm_buf_puts(b, dbm_buf_cstr(&part));
        else if (b->len + 64 < limit) {
            dbm_buf_puts(b, "\n(more targets' details are in the JSON report)\n");
            limit = 0;
        }
        dbm_buf_free(&part);
        free(text);
    }
}

/*
 * The job summary (or the pull request's comment): the headline, the targets
 * that did not succeed with their blocking findings, the drift, the table,
 * then each target collapsed; under limit bytes.
 */
char *report_fleet_markdown(const dbm_report *r, size_t limit)
{
    static const char cut[] = "\n\n… summary cut; the JSON report has everything.\n";
    dbm_buf b = DBM_BUF_INIT, head = DBM_BUF_INIT;
    const report_drift *d = report_fleet_drift(r);

    headline(&head, r);
    dbm_buf_puts(&b, "## db-migrate: ");
    report_md_text(&b, dbm_buf_cstr(&head));
    dbm_buf_puts(&b, "\n\n");
    dbm_buf_free(&head);
    md_problems(&b, r);
    if (d)
        report_drift_markdown(&b, d, limit / 4);
    if (r->ntargets)
        md_table(&b, r, limit);
    md_details(&b, r, limit);
    if (b.len > limit) {
        size_t at = limit - sizeof(cut);
        while (at > 0 && ((unsigned char)b.ptr[at] & 0xC0) == 0x80)
            at--;
        dbm_buf_truncate(&b, at);
        dbm_buf_puts(&b, cut);
    }
    return dbm_buf_detach(&b);
}

/* A merge of shards' reports: {"count": N, "merged": [...], "missing": [...]}. */
static json_t *shards_json(const dbm_report *r)
{
    json_t *merged = json_array(), *missing = json_array();
    size_t n = dbm_report_shards_missing(r, NULL, 0);
    long *miss = dbm_xcalloc(n ? n : 1, sizeof(*miss));

    dbm_report_shards_missing(r, miss, n);
    for (size_t k = 0; k < r->shard.nmerged; k++)
        json_array_append_new(merged, json_integer((json_int_t)r->shard.merged[k]));
    for (size_t k = 0; k < n; k++)
        json_array_append_new(missing, json_integer((json_int_t)miss[k]));
    free(miss);
    return json_pack("{s:I, s:o, s:o}", "count", (json_int_t)r->shard.count, "merged", merged,
                     "missing", missing);
}

json_t *report_fleet_json(const dbm_report *r)
{
    json_t *targets = json_array(), *counts = json_object();

    for (size_t k = 0; outcomes[k]; k++)
        json_object_set_new(counts, outcomes[k],
                            json_integer((json_int_t)count_outcome(r, outcomes[k])));
    json_t *fleet = json_object();

    for (size_t i = 0; i < r->ntargets; i++) {
        const dbm_target_result *t = &r->targets[i];
        char *detail = t->detail ? dbm_report_json(t->detail) : NULL;
        json_t *o = json_object();
        json_object_set_new(o, "name", dbm_json_text(t->name));
        json_object_set_new(o, "group", dbm_json_text(t->group));
        json_object_set_new(o, "outcome", json_string(t->outcome));
        json_object_set_new(o, "exit_code", json_integer(t->exit_code));
        json_object_set_new(o, "applied_count", json_integer(t->applied_count));
        json_object_set_new(o, "pending_count", json_integer(t->pending_count));
        json_object_set_new(o, "duration_ms", json_real(t->duration_ms));
        json_object_set_new(o, "error", dbm_json_text(t->error));
        json_object_set_new(o, "stage", json_integer((json_int_t)t->stage));
        json_object_set_new(o, "position", json_integer((json_int_t)t->position));
        json_object_set_new(o, "report", detail ? json_loads(detail, 0, NULL) : json_null());
        json_array_append_new(targets, o);
        free(detail);
    }
    const report_drift *d = report_fleet_drift(r);
    if (d)
        json_object_set_new(fleet, "drift", report_drift_json(d));
    json_object_set_new(fleet, "parallel", json_integer(r->parallel));
    if (r->shard.index)
        json_object_set_new(fleet, "shard",
                            json_pack("{s:I, s:I}", "index", (json_int_t)r->shard.index, "count",
                                      (json_int_t)r->shard.count));
    else if (dbm_report_shards_missing(r, NULL, 0)) /* whole, it is the fleet's report */
        json_object_set_new(fleet, "shards", shards_json(r));
    if (r->targets_selected)
        json_object_set_new(fleet, "targets_selected",
                            json_integer((json_int_t)r->targets_selected));
    json_object_set_new(fleet, "counts", counts);
    json_object_set_new(fleet, "targets", targets);
    return fleet;
}

void report_fleet_outputs(dbm_buf *b, const dbm_report *r)
{
    dbm_buf_printf(b, "targets-count=%zu\n", r->ntargets);
    for (size_t k = 0; outcomes[k]; k++)
        dbm_buf_printf(b, "targets-%s=%zu\n", outcomes[k], count_outcome(r, outcomes[k]));
}

/* "db-migrate: NAME" with the target's name on one line. Caller frees. */
static char *target_title(const char *name)
{
    char *shown = dbm_printable(name), *title = dbm_xasprintf("db-migrate: %s", shown);

    free(shown);
    return title;
}

/* The line after the capped annotations of a level: "and 12 more targets did not succeed". */
static void more(size_t n, const char *level, const char *what)
{
    char *msg = dbm_xasprintf("and %zu more target%s %s", n, n == 1 ? "" : "s", what);

    dbm_annotate(level, NULL, 0, 0, "db-migrate", msg);
    free(msg);
}

void report_fleet_annotations(const dbm_report *r)
{
    const report_drift *d = report_fleet_drift(r);
    size_t bad = 0, drifted = 0;

    for (size_t i = 0; i < r->ntargets; i++) {
        const dbm_target_result *t = &r->targets[i];
        if (t->exit_code == 0 || bad++ >= ANNOTATIONS)
            continue;
        char *title = target_title(t->name);
        char *msg = dbm_xasprintf("%s: %s", t->outcome, t->error ? t->error : "see the summary");
        dbm_annotate("error", NULL, 0, 0, title, msg);
        free(title);
        free(msg);
    }
    if (bad > ANNOTATIONS)
        more(bad - ANNOTATIONS, "error", "did not succeed (see the summary)");
    for (size_t i = 0; d && i < d->n; i++) {
        const report_drift_row *w = &d->rows[i];
        if (w->state == REPORT_DRIFT_CLEAN || w->state == REPORT_DRIFT_NOT_COMPARED ||
            w->state == REPORT_DRIFT_AHEAD || drifted++ >= ANNOTATIONS)
            continue;
        char *title = target_title(w->target->name);
        char *msg = dbm_xasprintf("drift: %s at %s: %s", report_drift_state_name(w->state),
                                  w->newest ? w->newest : "nothing applied", w->differs);
        dbm_annotate("warning", NULL, 0, 0, title, msg);
        free(title);
        free(msg);
    }
    if (drifted > ANNOTATIONS)
        more(drifted - ANNOTATIONS, "warning", "drifted from the others (see the summary)");
}
