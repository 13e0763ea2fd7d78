/*
 * drift.c - drift between the targets of a fleet (DESIGN section 11), read
 * from the targets' own records: which target is behind (pending migrations
 * another target has applied), which is ahead (applied migrations that more
 * targets have pending than applied: a canary, say), which has an applied migration whose file was
 * edited, one whose file is gone, or a migration an earlier run left failed. Computed from the
 * record alone, so a report merged from shards' JSON reports tells the same drift as the run
 * that wrote them; once per closed record, by the first rendering that needs it, and kept on
 * the record for the others (report_fleet_drift).
 */
#include "common/json.h"
#include "common/util.h"
#include "migration/migration.h"
#include "report/render.h"

#include <stdlib.h>
#include <string.h>

#define LIST_SHOWN  5  /* versions named in one "what differs" part */
#define NAMES_SHOWN 10 /* targets named in one grouped line */

static const char *const state_names[] = {"clean",  "ahead",  "behind",      "missing",
                                          "edited", "failed", "not-compared"};

const char *report_drift_state_name(report_drift_state s)
{
    return state_names[s];
}

/* Whether the command's targets are compared: the ones that read a history and change nothing. */
static bool compares(const dbm_report *r)
{
    static const char *const cmds[] = {"plan", "status", "dry-run", "verify"};

    for (size_t i = 0; r->command && i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (!strcmp(r->command, cmds[i]))
            return true;
    return false;
}

/* A target ran and read its history: not a connection, configuration, lock or signal failure. */
static bool comparable(const dbm_target_result *t)
{
    if (!t->detail || !strcmp(t->outcome, "skipped"))
        return false;
    return t->exit_code == 0 || (t->exit_code == 1 && t->detail->nmigs > 0);
}

static void list_add(report_drift_list *l, const char *v)
{
    dbm_array_grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v));
    l->v[l->n++] = v;
}

static bool is_applied(const dbm_mig_result *m)
{
    return m->status == DBM_MIG_APPLIED || m->status == DBM_MIG_EDITED ||
           m->status == DBM_MIG_MISSING;
}

/* A version and how many compared targets have it applied, and pending. */
typedef struct {
    const char *version;
    size_t applied, pending;
} tally;

static int by_version(const void *a, const void *b)
{
    return strcmp(((const tally *)a)->version, ((const tally *)b)->version);
}

/* Every version of the compared targets, sorted and unique, with its counts. */
static tally *count_versions(const report_drift *d, size_t *n)
{
    tally *all = NULL;
    size_t count = 0, cap = 0, u = 0;

    for (size_t i = 0; i < d->n; i++) {
        const dbm_report *r = d->rows[i].target->detail;
        for (size_t k = 0; d->rows[i].state != REPORT_DRIFT_NOT_COMPARED && k < r->nmigs; k++) {
            dbm_array_grow((void **)&all, &cap, count + 1, sizeof(*all));
            all[count].version = r->migs[k].version ? r->migs[k].version : "";
            all[count].applied = is_applied(&r->migs[k]);
            all[count++].pending = !is_applied(&r->migs[k]);
        }
    }
    if (count)
        qsort(all, count, sizeof(*all), by_version);
    for (size_t i = 0; i < count; i++) {
        if (u && !strcmp(all[u - 1].version, all[i].version)) {
            all[u - 1].applied += all[i].applied;
            all[u - 1].pending += all[i].pending;
        } else {
            all[u++] = all[i];
        }
    }
    *n = u;
    return all;
}

static const tally *find(const tally *all, size_t n, const char *version)
{
    tally key = {.version = version ? version : ""};

    return n ? bsearch(&key, all, n, sizeof(*all), by_version) : NULL;
}

/* "002, 003, … and 4 more" */
static void put_list(dbm_buf *b, const report_drift_list *l)
{
    for (size_t i = 0; i < l->n && i < LIST_SHOWN; i++)
        dbm_buf_printf(b, "%s%s", i ? ", " : "", l->v[i]);
    if (l->n > LIST_SHOWN)
        dbm_buf_printf(b, " and %zu more", l->n - LIST_SHOWN);
}

static void put_part(dbm_buf *b, const char *what, const report_drift_list *l, const char *tail)
{
    if (!l->n)
        return;
    dbm_buf_printf(b, "%s%s", b->len ? "; " : "", what);
    put_list(b, l);
    dbm_buf_puts(b, tail);
}

/* The row's "what differs", one line, worst first. */
static char *differs(const report_drift_row *w)
{
    dbm_buf b = DBM_BUF_INIT;

    if (w->state == REPORT_DRIFT_NOT_COMPARED)
        return dbm_xasprintf("not compared: %s", w->target->outcome);
    put_part(&b, "failed before, not finished: ", &w->failed, "");
    put_part(&b, "edited after it was applied: ", &w->edited, "");
    put_part(&b, "applied, file missing: ", &w->missing, "");
    if (w->behind.n)
        dbm_buf_printf(&b, "%sbehind by %zu: ", b.len ? "; " : "", w->behind.n);
    put_list(&b, &w->behind);
    if (w->ahead.n)
        dbm_buf_printf(&b, "%sahead by %zu: ", b.len ? "; " : "", w->ahead.n);
    put_list(&b, &w->ahead);
    if (w->ahead.n)
        dbm_buf_puts(&b, " (pending elsewhere)");
    return dbm_buf_detach(&b);
}

/* The row's lists and state from its target's record, against the fleet's tallies. */
static void classify(report_drift_row *w, const tally *all, size_t n, dbm_format format)
{
    const dbm_report *r = w->target->detail;

    for (size_t k = 0; k < r->nmigs; k++) {
        const dbm_mig_result *m = &r->migs[k];
        const tally *t = find(all, n, m->version);
        if (!m->version)
            continue;
        if (is_applied(m)) {
            w->napplied++;
            if (!w->newest || dbm_version_cmp(format, m->version, w->newest) > 0)
                w->newest = m->version;
            if (t && t->pending > t->applied)
                list_add(&w->ahead, m->version);
        } else if (t && t->applied && !m->failed_before) {
            list_add(&w->behind, m->version);
        }
        if (m->status == DBM_MIG_EDITED)
            list_add(&w->edited, m->version);
        if (m->status == DBM_MIG_MISSING)
            list_add(&w->missing, m->version);
        if (m->failed_before)
            list_add(&w->failed, m->version);
    }
    w->state = w->failed.n    ? REPORT_DRIFT_FAILED
               : w->edited.n  ? REPORT_DRIFT_EDITED
               : w->missing.n ? REPORT_DRIFT_MISSING
               : w->behind.n  ? REPORT_DRIFT_BEHIND
               : w->ahead.n   ? REPORT_DRIFT_AHEAD
                              : REPORT_DRIFT_CLEAN;
}

report_drift *report_drift_compute(const dbm_report *r)
{
    report_drift *d;
    tally *all;
    size_t n;
    dbm_format format = DBM_FORMAT_NATIVE;

    if (r->ntargets < 2 || !compares(r))
        return NULL;
    d = dbm_xcalloc(1, sizeof(*d));
    d->rows = dbm_xcalloc(r->ntargets, sizeof(*d->rows));
    d->n = r->ntargets;
    for (size_t i = 0; i < d->n; i++) {
        d->rows[i].target = &r->targets[i];
        if (!comparable(&r->targets[i]))
            d->rows[i].state = REPORT_DRIFT_NOT_COMPARED;
        else if (r->targets[i].detail->format)
            dbm_format_parse(&format, r->targets[i].detail->format);
    }
    all = count_versions(d, &n);
    for (size_t i = 0; i < d->n; i++) {
        report_drift_row *w = &d->rows[i];
        if (w->state != REPORT_DRIFT_NOT_COMPARED) {
            classify(w, all, n, format);
            d->compared++;
            if (w->newest && (!d->newest || dbm_version_cmp(format, w->newest, d->newest) > 0))
                d->newest = w->newest;
        }
        d->count[w->state]++;
        w->differs = differs(w);
    }
    free(all);
    d->same = d->compared > 0 && d->count[REPORT_DRIFT_CLEAN] == d->compared;
    return d;
}

static void drift_free(void *d)
{
    report_drift_free(d);
}

const report_drift *report_fleet_drift(const dbm_report *r)
{
    /* Kept on the record as a cache: the record's rows, what the renderers read, are not
     * changed, and a change to them (a new target, closing again) drops it. */
    dbm_report *kept = (dbm_report *)r;

    if (!kept->drift_free) {
        kept->drift = report_drift_compute(r);
        kept->drift_free = drift_free;
    }
    return kept->drift;
}

void report_drift_free(report_drift *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->n; i++) {
        report_drift_row *w = &d->rows[i];
        free(w->behind.v);
        free(w->ahead.v);
        free(w->edited.v);
        free(w->missing.v);
        free(w->failed.v);
        free(w->differs);
    }
    free(d->rows);
    free(d);
}

/* --- groups: rows of the same state, newest version and difference --- */

static bool same_group(const report_drift_row *a, const report_drift_row *b)
{
    return a->state == b->state && !strcmp(a->differs, b->differs) &&
           (a->newest == b->newest || (a->newest && b->newest && !strcmp(a->newest, b->newest)));
}

/* Worst first; a target not compared last: its failure is told above the drift already. */
static int rank(report_drift_state s)
{
    return s == REPORT_DRIFT_NOT_COMPARED ? -1 : (int)s;
}

static int by_group(const void *a, const void *b)
{
    const report_drift_group *x = a, *y = b;

    if (x->first->state != y->first->state)
        return rank(x->first->state) > rank(y->first->state) ? -1 : 1;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return x->first < y->first ? -1 : x->first > y->first;
}

report_drift_group *report_drift_groups(const report_drift *d, size_t *n)
{
    report_drift_group *g = dbm_xcalloc(d->n ? d->n : 1, sizeof(*g));
    size_t count = 0;

    for (size_t i = 0; i < d->n; i++) {
        size_t k = 0;
        while (k < count && !same_group(g[k].first, &d->rows[i]))
            k++;
        if (k == count)
            g[count++].first = &d->rows[i];
        g[k].count++;
    }
    qsort(g, count, sizeof(*g), by_group);
    *n = count;
    return g;
}

void report_drift_group_names(dbm_buf *b, const report_drift *d, const report_drift_group *g,
                              bool md)
{
    size_t shown = 0;

    for (size_t i = 0; i < d->n && shown < NAMES_SHOWN; i++)
        if (same_group(g->first, &d->rows[i])) {
            dbm_buf_puts(b, shown++ ? ", " : "");
            if (md) {
                report_md_code(b, d->rows[i].target->name);
            } else {
                char *name = dbm_printable(d->rows[i].target->name);
                dbm_buf_puts(b, name);
                free(name);
            }
        }
    if (g->count > NAMES_SHOWN)
        dbm_buf_printf(b, " and %zu more", g->count - NAMES_SHOWN);
}

/* "1 failed, 2 behind, 3 clean, 1 not-compared": the states present, worst first. */
void report_drift_counts(dbm_buf *b, const report_drift *d)
{
    static const report_drift_state order[] = {
        REPORT_DRIFT_FAILED, REPORT_DRIFT_EDITED, REPORT_DRIFT_MISSING,     REPORT_DRIFT_BEHIND,
        REPORT_DRIFT_AHEAD,  REPORT_DRIFT_CLEAN,  REPORT_DRIFT_NOT_COMPARED};
    bool first = true;

    for (size_t k = 0; k < sizeof(order) / sizeof(order[0]); k++)
        if (d->count[order[k]]) {
            dbm_buf_printf(b, "%s%zu %s", first ? "" : ", ", d->count[order[k]],
                           state_names[order[k]]);
            first = false;
        }
}

/* The line for a fleet without drift: "all 5 targets at 003, clean" (or "4 targets ..."). */
void report_drift_same_line(dbm_buf *b, const report_drift *d)
{
    dbm_buf_printf(b, "%s%zu targets at %s, clean", d->compared == d->n ? "all " : "", d->compared,
                   d->newest ? d->newest : "no applied migration");
    if (d->compared < d->n)
        dbm_buf_printf(b, " (%zu not compared)", d->n - d->compared);
}

json_t *report_drift_json(const report_drift *d)
{
    json_t *o = json_object(), *counts = json_object(), *targets = json_array();

    for (size_t s = 0; s < REPORT_DRIFT_NSTATES; s++)
        json_object_set_new(counts, state_names[s], json_integer((json_int_t)d->count[s]));
    for (size_t i = 0; i < d->n; i++) {
        const report_drift_row *w = &d->rows[i];
        const report_drift_list *lists[] = {&w->behind, &w->ahead, &w->edited, &w->missing,
                                            &w->failed};
        static const char *const keys[] = {"behind", "ahead", "edited", "missing", "failed"};
        json_t *t = json_object();
        json_object_set_new(t, "name", dbm_json_text(w->target->name));
        json_object_set_new(t, "state", json_string(state_names[w->state]));
        json_object_set_new(t, "newest_applied", dbm_json_text(w->newest));
        json_object_set_new(t, "applied_count", json_integer((json_int_t)w->napplied));
        for (size_t k = 0; k < 5; k++) {
            json_t *a = json_array();
            for (size_t j = 0; j < lists[k]->n; j++)
                json_array_append_new(a, dbm_json_text(lists[k]->v[j]));
            json_object_set_new(t, keys[k], a);
        }
        json_object_set_new(t, "differs", dbm_json_text(w->differs));
        json_array_append_new(targets, t);
    }
    json_object_set_new(o, "same", json_boolean(d->same));
    json_object_set_new(o, "newest", dbm_json_text(d->newest));
    json_object_set_new(o, "compared", json_integer((json_int_t)d->compared));
    json_object_set_new(o, "counts", counts);
    json_object_set_new(o, "targets", targets);
    return o;
}

/* The heading's counts: "1 failed, 1 behind, 3 clean (5 of 6 compared)". */
static void put_heading(dbm_buf *b, const report_drift *d)
{
    if (d->same) {
        dbm_buf_puts(b, "none; ");
        report_drift_same_line(b, d);
        return;
    }
    report_drift_counts(b, d);
    dbm_buf_printf(b, " (%zu of %zu targets compared)", d->compared, d->n);
}

/* The targets cell: the name, or "N targets". */
static char *subject(const report_drift_group *g)
{
    if (g->count == 1)
        return dbm_printable(g->first->target->name);
    return dbm_xasprintf("%zu targets", g->count);
}

void report_drift_terminal(dbm_buf *b, const report_drift *d)
{
    size_t n, wat = strlen("at"), wsub = strlen("targets");
    report_drift_group *g;

    dbm_buf_puts(b, "Drift between targets: ");
    put_heading(b, d);
    dbm_buf_puts(b, "\n");
    if (d->same)
        return;
    g = report_drift_groups(d, &n);
    for (size_t i = 0; i < n; i++) {
        char *s = subject(&g[i]);
        size_t at = g[i].first->newest ? strlen(g[i].first->newest) : 1;
        wat = at > wat ? at : wat;
        wsub = strlen(s) > wsub ? strlen(s) : wsub;
        free(s);
    }
    dbm_buf_printf(b, "\n  %-12s  %-*s  %-*s  what differs\n", "state", (int)wat, "at", (int)wsub,
                   "targets");
    for (size_t i = 0; i < n; i++) {
        const report_drift_row *w = g[i].first;
        char *s = subject(&g[i]), *at = dbm_printable(w->newest ? w->newest : "-");
        bool tail = *w->differs || (g[i].count > 1 && w->state != REPORT_DRIFT_CLEAN);
        dbm_buf_printf(b, "  %-12s  %-*s  %-*s%s%s", report_drift_state_name(w->state), (int)wat,
                       at, tail ? (int)wsub : 0, s, tail ? "  " : "", w->differs);
        if (g[i].count > 1 && w->state != REPORT_DRIFT_CLEAN) {
            dbm_buf_puts(b, *w->differs ? " — " : "");
            report_drift_group_names(b, d, &g[i], false);
        }
        dbm_buf_puts(b, "\n");
        free(s);
        free(at);
    }
    free(g);
}

/* One group's row of the Markdown table. */
static void md_row(dbm_buf *b, const report_drift *d, const report_drift_group *g)
{
    const report_drift_row *w = g->first;

    dbm_buf_printf(b, "| %s | ", report_drift_state_name(w->state));
    report_md_code(b, w->newest ? w->newest : "-");
    dbm_buf_puts(b, " | ");
    if (g->count == 1) {
        report_md_code(b, w->target->name);
    } else {
        dbm_buf_printf(b, "%zu targets", g->count);
        if (w->state != REPORT_DRIFT_CLEAN) {
            dbm_buf_puts(b, ": ");
            report_drift_group_names(b, d, g, true);
        }
    }
    dbm_buf_puts(b, " | ");
    report_md_text(b, w->differs);
    dbm_buf_puts(b, " |\n");
}

void report_drift_markdown(dbm_buf *b, const report_drift *d, size_t room)
{
    dbm_buf part = DBM_BUF_INIT;
    size_t n, start = b->len;
    report_drift_group *g;

    dbm_buf_puts(b, "### Drift between targets\n\n");
    if (d->same) {
        dbm_buf_puts(&part, "No drift: ");
        report_drift_same_line(&part, d);
    } else {
        put_heading(&part, d);
    }
    report_md_text(b, dbm_buf_cstr(&part));
    dbm_buf_puts(b, "\n\n");
    dbm_buf_free(&part);
    if (d->same)
        return;
    g = report_drift_groups(d, &n);
    dbm_buf_puts(b, "| state | at | targets | what differs |\n| --- | --- | --- | --- |\n");
    for (size_t i = 0; i < n; i++) {
        dbm_buf row = DBM_BUF_INIT;
        md_row(&row, d, &g[i]);
        if (b->len - start + row.len + 80 > room) {
            dbm_buf_printf(b, "\n(%zu more rows in the JSON report's drift)\n", n - i);
            dbm_buf_free(&row);
            break;
        }
        dbm_buf_puts(b, dbm_buf_cstr(&row));
        dbm_buf_free(&row);
    }
    dbm_buf_puts(b, "\n");
    free(g);
}
