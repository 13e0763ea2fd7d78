/*
 * report.c - `db-migrate report FILE...` (DESIGN section 2): merge the JSON
 * reports of a fleet's shards (or of matrix jobs, a database each) into one
 * fleet report, as one process running every target would have written it.
 *
 * The files are the arguments, then the files the `reports` option's globs
 * match (glob(3): the Action cannot rely on a shell). A fleet's report gives
 * its targets[] rows; a single database's report is one row, named after its
 * file: the file name without ".json", or, for the default name
 * db-migrate-report.json, the directory it is in (download-artifact puts each
 * artifact in a directory of its name). The rows are closed as a fleet's run
 * closes them (common/record.h: failures first, counts summed, the fleet's
 * status, the worst target's code), and main.c writes the summary, outputs,
 * annotations, JSON report and terminal view from the record as for a run.
 *
 * Refused with exit 2 before anything is written: a file missing or not a
 * db-migrate report, reports of different commands or of different
 * migrations (their digests differ: shards of different commits), and a
 * target in two files (overlapping shards, or one file given twice under two
 * names).
 */
#include "command/commands.h"
#include "command/run.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "report/report.h"

#include <glob.h>
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_NAME "db-migrate-report"

typedef struct {
    char **paths;
    size_t n, cap;
} file_list;

static void add_path(file_list *l, const char *path)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->paths[i], path) == 0)
            return; /* a file two globs match is read once */
    dbm_array_grow((void **)&l->paths, &l->cap, l->n + 1, sizeof(*l->paths));
    l->paths[l->n++] = dbm_xstrdup(path);
}

static void free_list(file_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->paths[i]);
    free(l->paths);
}

/* The reports option: globs separated by spaces, commas or newlines, each matching a file. */
static int expand_globs(file_list *l, const char *globs)
{
    char *copy = dbm_xstrdup(globs), *save = NULL;
    int error = 0;

    for (char *g = strtok_r(copy, " ,\t\r\n", &save); g && !error;
         g = strtok_r(NULL, " ,\t\r\n", &save)) {
        glob_t gl;
        int rc = glob(g, GLOB_BRACE | GLOB_TILDE_CHECK, NULL, &gl);
        if (rc == 0) {
            for (size_t i = 0; i < gl.gl_pathc; i++)
                add_path(l, gl.gl_pathv[i]);
        } else {
            error = dbm_error_set(DBM_ECONFIG, "reports '%s' matches no file", g);
            dbm_error_hint("download the shards' reports first (actions/download-artifact) and "
                           "give their path, e.g. reports: 'reports/*/*.json'");
        }
        globfree(&gl);
    }
    free(copy);
    return error;
}

int dbm_cmd_report_check(const dbm_config *cfg, const char *name)
{
    if (cfg->nargs > 0 || (cfg->reports && cfg->reports[strspn(cfg->reports, " ,\t\r\n")]))
        return 0;
    dbm_error_set(DBM_ECONFIG, "'%s' needs the JSON reports to merge", name);
    dbm_error_hint("run: db-migrate report shard-1.json shard-2.json (in the Action, "
                   "reports: 'reports/*/*.json')");
    return DBM_ECONFIG;
}

/* The name of a single database's report: its file's, or its directory's for the default. */
static char *single_name(const char *path)
{
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t n = strlen(base);

    if (n > 5 && strcmp(base + n - 5, ".json") == 0)
        n -= 5;
    if (n == strlen(DEFAULT_NAME) && strncmp(base, DEFAULT_NAME, n) == 0 && base > path) {
        const char *end = base - 1, *dir = end;
        while (dir > path && dir[-1] != '/')
            dir--;
        if (end > dir)
            return dbm_xasprintf("%.*s", (int)(end - dir), dir);
    }
    return dbm_xasprintf("%.*s", (int)n, base);
}

#define SHARDS_MAX 100000 /* the largest N of shard: I/N (config.c) */

/* What a JSON value is, for an error naming a field of the wrong kind. */
static const char *kind_of(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

/* Record that field of path is not what it should be (want: "an array", ...). */
static int bad_field(const char *path, const char *field, const json_t *v, const char *want)
{
    dbm_error_set(DBM_ECONFIG, "'%s' is not a db-migrate report: its field '%s' is %s, not %s",
                  path, field, v ? kind_of(v) : "missing", want);
    dbm_error_hint("give the JSON reports as the runs wrote them (their report-file): this one "
                   "was changed or written by something else");
    return DBM_ECONFIG;
}

/* Whether o[key] is absent or passes test. */
static bool absent_or(const json_t *o, const char *key, int (*test)(const json_t *))
{
    json_t *v = json_object_get(o, key);
    return !v || test(v);
}

static int is_array(const json_t *v)
{
    return json_is_array(v);
}

static int is_integer(const json_t *v)
{
    return json_is_integer(v);
}

static int is_object_or_null(const json_t *v)
{
    return json_is_object(v) || json_is_null(v);
}

/* An integer o[key] from lo to hi. */
static bool int_in(const json_t *o, const char *key, json_int_t lo, json_int_t hi)
{
    json_t *v = json_object_get(o, key);
    return json_is_integer(v) && json_integer_value(v) >= lo && json_integer_value(v) <= hi;
}

/* targets[]: objects with a name and an outcome; their counts integers, their report an object. */
static int check_targets(const json_t *root, const char *path)
{
    static const char *const ints[] = {"exit_code", "applied_count", "pending_count", "stage",
                                       "position"};
    json_t *v;
    size_t i;
    char field[64];

    json_array_foreach(json_object_get(root, "targets"), i, v)
    {
        snprintf(field, sizeof(field), "targets[%zu]", i);
        if (!json_is_object(v))
            return bad_field(path, field, v, "an object");
        snprintf(field, sizeof(field), "targets[%zu].name", i);
        if (!json_is_string(json_object_get(v, "name")))
            return bad_field(path, field, json_object_get(v, "name"), "a string");
        snprintf(field, sizeof(field), "targets[%zu].outcome", i);
        if (!json_is_string(json_object_get(v, "outcome")))
            return bad_field(path, field, json_object_get(v, "outcome"), "a string");
        for (size_t k = 0; k < sizeof(ints) / sizeof(ints[0]); k++) {
            snprintf(field, sizeof(field), "targets[%zu].%s", i, ints[k]);
            if (!absent_or(v, ints[k], is_integer))
                return bad_field(path, field, json_object_get(v, ints[k]), "an integer");
        }
        snprintf(field, sizeof(field), "targets[%zu].report", i);
        if (!absent_or(v, "report", is_object_or_null))
            return bad_field(path, field, json_object_get(v, "report"), "an object");
    }
    return 0;
}

/* shard {index, count} of a shard's report, shards {count, merged[]} of a merge of them. */
static int check_shards(const json_t *root, const char *path)
{
    json_t *shard = json_object_get(root, "shard"), *shards = json_object_get(root, "shards"), *v;
    size_t i;

    if (shard && !json_is_object(shard))
        return bad_field(path, "shard", shard, "an object");
    if (shard && !int_in(shard, "count", 1, SHARDS_MAX))
        return bad_field(path, "shard.count", json_object_get(shard, "count"),
                         "an integer from 1 to 100000");
    if (shard && !int_in(shard, "index", 1, json_integer_value(json_object_get(shard, "count"))))
        return bad_field(path, "shard.index", json_object_get(shard, "index"),
                         "an integer from 1 to shard.count");
    if (shards && !json_is_object(shards))
        return bad_field(path, "shards", shards, "an object");
    if (shards && !int_in(shards, "count", 1, SHARDS_MAX))
        return bad_field(path, "shards.count", json_object_get(shards, "count"),
                         "an integer from 1 to 100000");
    if (shards && !json_is_array(json_object_get(shards, "merged")))
        return bad_field(path, "shards.merged", json_object_get(shards, "merged"), "an array");
    json_array_foreach(shards ? json_object_get(shards, "merged") : NULL, i, v)
    {
        if (!json_is_integer(v) || json_integer_value(v) < 1 ||
            json_integer_value(v) > json_integer_value(json_object_get(shards, "count")))
            return bad_field(path, "shards.merged", v, "a list of shard indices");
    }
    return 0;
}

/*
 * The fields the merge reads have the kinds the runs write: a report changed
 * by hand or cut is refused naming the field, not merged as nothing.
 */
static int check_shape(const json_t *root, const char *path)
{
    static const char *const arrays[] = {"migrations", "findings", "targets"};
    static const char *const ints[] = {"exit_code", "applied_count", "pending_count", "parallel",
                                       "targets_selected"};

    for (size_t k = 0; k < sizeof(arrays) / sizeof(arrays[0]); k++)
        if (!absent_or(root, arrays[k], is_array))
            return bad_field(path, arrays[k], json_object_get(root, arrays[k]), "an array");
    for (size_t k = 0; k < sizeof(ints) / sizeof(ints[0]); k++)
        if (!absent_or(root, ints[k], is_integer))
            return bad_field(path, ints[k], json_object_get(root, ints[k]), "an integer");
    if (json_object_get(root, "targets") && !int_in(root, "parallel", 1, INT32_MAX))
        return bad_field(path, "parallel", json_object_get(root, "parallel"),
                         "a positive integer (a fleet's report has targets[] and parallel)");
    if (check_targets(root, path) < 0 || check_shards(root, path) < 0)
        return DBM_ECONFIG;
    return 0;
}

/* Read one file into a record: missing, unreadable, not JSON, not a report are exit 2. */
static int read_part(dbm_report **out, const char *path)
{
    char *text = NULL;
    size_t len = 0;
    json_t *root;
    json_error_t jerr;
    int error;

    *out = NULL;
    if ((error = dbm_read_file(&text, &len, path)) < 0) {
        dbm_error_set(DBM_ECONFIG, "%s '%s'",
                      error == DBM_ENOTFOUND ? "no report file" : "unable to read the report",
                      path);
        dbm_error_hint("give the JSON reports the runs wrote (their report-file)");
        return DBM_ECONFIG;
    }
    root = json_loadb(text, len, 0, &jerr);
    if (!root) {
        error = dbm_error_set(DBM_ECONFIG, "'%s' is not JSON: %s (line %d, column %d)", path,
                              jerr.text, jerr.line, jerr.column);
    } else if (!json_is_object(root) || !json_is_string(json_object_get(root, "command")) ||
               !json_is_string(json_object_get(root, "status")) ||
               !(json_is_array(json_object_get(root, "migrations")) ||
                 json_is_array(json_object_get(root, "targets")))) {
        error = dbm_error_set(DBM_ECONFIG, "'%s' is not a db-migrate report", path);
    } else if ((error = check_shape(root, path)) < 0) {
        json_decref(root);
        free(text);
        return DBM_ECONFIG; /* its own hint */
    } else {
        *out = dbm_report_new(NULL);
        error = dbm_report_from_json(*out, text, len);
    }
    if (error < 0)
        dbm_error_hint("give the JSON reports the runs wrote (their report-file), not a job "
                       "summary or a log");
    json_decref(root);
    free(text);
    return error < 0 ? DBM_ECONFIG : 0;
}

typedef struct {
    dbm_report *merged;
    const char **owner; /* the file each merged row came from */
    size_t capowner;
    const char *command_file, *digest, *digest_file;
    const char **shard_owner; /* the file each merged shard came from */
    size_t capshard_owner;
    const char *count_file; /* the first file that told the shard count */
} merge;

/* Every part is of one command, and of one set of migrations where its report tells it. */
static int check_digest(merge *m, const char *digest, const char *path)
{
    if (!digest)
        return 0;
    if (!m->digest) {
        m->digest = digest;
        m->digest_file = path;
        return 0;
    }
    if (strcmp(m->digest, digest) == 0)
        return 0;
    dbm_error_set(DBM_ECONFIG, "'%s' and '%s' are reports of different migrations (%.19s, %.19s)",
                  m->digest_file, path, m->digest, digest);
    dbm_error_hint("merge the reports of one workflow run: its shards all migrate one commit's "
                   "files");
    return DBM_ECONFIG;
}

/*
 * Whether two rows of one name are one fact every shard tells: a failure
 * decided at the fleet's start, before any run (a schemas: query that failed,
 * whose schemas no shard can share out), so no row of its own report, the
 * same outcome and the same error. Any other repeat is overlapping shards.
 */
static bool same_failure_at_start(const dbm_target_result *a, const dbm_target_result *b)
{
    return !a->detail && !b->detail && a->exit_code != 0 && a->exit_code == b->exit_code &&
           !strcmp(a->outcome, b->outcome) && a->error && b->error && !strcmp(a->error, b->error);
}

/* Move row t (its strings and detail) into the merged record, refusing a target seen before. */
static int take_row(merge *m, dbm_target_result *t, const char *path)
{
    dbm_report *r = m->merged;
    dbm_target_result *row;

    for (size_t i = 0; i < r->ntargets; i++)
        if (strcmp(r->targets[i].name, t->name) == 0) {
            if (same_failure_at_start(&r->targets[i], t))
                return 0;
            dbm_error_set(DBM_ECONFIG, "target '%s' is in two reports: '%s' and '%s'", t->name,
                          m->owner[i], path);
            dbm_error_hint("each target belongs to one shard: give each shard's report once, "
                           "with the same shard count N in every job (shard: I/N)");
            return DBM_ECONFIG;
        }
    if (t->detail && t->detail->migrations_digest &&
        check_digest(m, t->detail->migrations_digest, path) < 0)
        return DBM_ECONFIG;
    row = dbm_report_add_target(r, NULL, NULL);
    free(row->name);
    free(row->group);
    *row = *t;
    memset(t, 0, sizeof(*t));
    dbm_array_grow((void **)&m->owner, &m->capowner, r->ntargets, sizeof(*m->owner));
    m->owner[r->ntargets - 1] = path;
    return 0;
}

/* A single database's report as one row; the part itself becomes the row's detail. */
static int take_single(merge *m, dbm_report **part, const char *path)
{
    dbm_report *p = *part;
    dbm_target_result t;
    int exit_code = p->exit_code;
    int error;

    /* A report written before exit_code was recorded: its status says whether it failed. */
    if (exit_code == 0 && p->status &&
        (!strcmp(p->status, "failed") || !strcmp(p->status, "blocked")))
        exit_code = 1;
    memset(&t, 0, sizeof(t));
    t.name = single_name(path);
    t.outcome = dbm_xstrdup(dbm_target_outcome(exit_code, p->status));
    t.exit_code = exit_code;
    t.applied_count = p->applied_count;
    t.pending_count = p->pending_count;
    t.duration_ms = p->duration_ms;
    t.error = dbm_xstrdup(p->error);
    t.detail = p;
    *part = NULL;
    error = take_row(m, &t, path);
    free(t.name);
    free(t.group);
    free(t.outcome);
    free(t.error);
    dbm_report_free(t.detail);
    return error;
}

/* A shard's index into the merge, refusing one seen before. */
static int take_shard(merge *m, long index, const char *path)
{
    dbm_report *r = m->merged;

    for (size_t k = 0; k < r->shard.nmerged; k++)
        if (r->shard.merged[k] == index) {
            dbm_error_set(DBM_ECONFIG, "shard %ld/%ld is in two reports: '%s' and '%s'", index,
                          r->shard.count, m->shard_owner[k], path);
            dbm_error_hint("give each shard's report once");
            return DBM_ECONFIG;
        }
    dbm_array_grow((void **)&r->shard.merged, &r->shard.capmerged, r->shard.nmerged + 1,
                   sizeof(*r->shard.merged));
    dbm_array_grow((void **)&m->shard_owner, &m->capshard_owner, r->shard.nmerged + 1,
                   sizeof(*m->shard_owner));
    m->shard_owner[r->shard.nmerged] = path;
    r->shard.merged[r->shard.nmerged++] = index;
    return 0;
}

/* Every shard's report is of one count N (told before its rows, which would overlap). */
static int check_count(merge *m, const dbm_report *p, const char *path)
{
    dbm_report *r = m->merged;

    if (!p->shard.count)
        return 0;
    if (!m->count_file) {
        r->shard.count = p->shard.count;
        m->count_file = path;
    } else if (r->shard.count != p->shard.count) {
        dbm_error_set(DBM_ECONFIG, "'%s' is a shard of %ld, '%s' of %ld", m->count_file,
                      r->shard.count, path, p->shard.count);
        dbm_error_hint("merge the shards of one matrix: every job with the same N in shard: I/N");
        return DBM_ECONFIG;
    }
    return 0;
}

/*
 * The shards a part holds (a shard's report: one; a merge of them: those it
 * merged). A fleet's report without shard is no shard's: a canary's job of
 * its own, say.
 */
static int take_shards(merge *m, const dbm_report *p, const char *path)
{
    dbm_report *r = m->merged;
    int error = 0;

    if (p->targets_selected > r->targets_selected)
        r->targets_selected = p->targets_selected;
    if (!p->shard.count)
        return 0;
    if (p->shard.index)
        return take_shard(m, p->shard.index, path);
    for (size_t k = 0; k < p->shard.nmerged && !error; k++)
        error = take_shard(m, p->shard.merged[k], path);
    return error;
}

static int take_part(merge *m, dbm_report **part, const char *path)
{
    dbm_report *p = *part;
    int error = 0;

    if (!m->command_file) {
        dbm_report_set(&m->merged->command, p->command);
        m->command_file = path;
    } else if (strcmp(m->merged->command, p->command) != 0) {
        dbm_error_set(DBM_ECONFIG, "'%s' is a report of '%s', '%s' of '%s'", m->command_file,
                      m->merged->command, path, p->command);
        dbm_error_hint("merge the reports of one command (the shards of one matrix job)");
        return DBM_ECONFIG;
    }
    if (check_digest(m, p->migrations_digest, path) < 0)
        return DBM_ECONFIG;
    if (!p->ntargets && !p->parallel) /* not a fleet's: a fleet's has parallel >= 1 */
        return take_single(m, part, path);
    if (p->parallel > m->merged->parallel)
        m->merged->parallel = p->parallel;
    if (check_count(m, p, path) < 0)
        return DBM_ECONFIG;
    for (size_t i = 0; i < p->ntargets && !error; i++)
        error = take_row(m, &p->targets[i], path);
    return error < 0 ? error : take_shards(m, p, path);
}

#define MISSING_NAMED 10 /* missing shards named in the error */

/*
 * A merge that lacks a shard's report cannot tell that shard's targets: it
 * fails (exit 2, the merge's input is incomplete) naming the shards missing,
 * and says it beside the targets' own failures, so that the final job of a
 * matrix goes red when a shard's job wrote or uploaded no report. error is
 * what closing the rows gave.
 */
static int missing_shards(dbm_report *r, int error)
{
    long miss[MISSING_NAMED];
    size_t n = dbm_report_shards_missing(r, miss, MISSING_NAMED);
    dbm_buf which = DBM_BUF_INIT;
    char *targets;

    if (!n)
        return error;
    for (size_t k = 0; k < n && k < MISSING_NAMED; k++)
        dbm_buf_printf(&which, "%s%ld", k ? ", " : "", miss[k]);
    if (n > MISSING_NAMED)
        dbm_buf_printf(&which, " and %zu more", n - MISSING_NAMED);
    targets = error < 0 ? dbm_xstrdup(dbm_error_message()) : NULL;
    dbm_error_set(error == DBM_ECANCELLED ? DBM_ECANCELLED : DBM_ECONFIG,
                  "no report of shard%s %s of %ld: %zu of %ld shards merged, their targets are "
                  "not in the merge%s%s",
                  n == 1 ? "" : "s", dbm_buf_cstr(&which), r->shard.count, r->shard.nmerged,
                  r->shard.count, targets ? "; " : "", targets ? targets : "");
    dbm_error_hint("give every shard's report: a job whose report is missing stopped before "
                   "writing it, or did not upload it (actions/upload-artifact with if: always())");
    dbm_report_set(&r->status, "failed");
    dbm_buf_free(&which);
    free(targets);
    return error == DBM_ECANCELLED ? DBM_ECANCELLED : DBM_ECONFIG;
}

int dbm_cmd_report(dbm_run_ctx *ctx)
{
    const dbm_config *cfg = ctx->cfg;
    file_list files = {NULL, 0, 0};
    dbm_report **parts = NULL;
    merge m;
    dbm_report tmp;
    int error = 0;

    memset(&m, 0, sizeof(m));
    m.merged = dbm_report_new(ctx->report->command);
    for (size_t i = 0; i < cfg->nargs; i++)
        add_path(&files, cfg->args[i]);
    if (cfg->reports && (error = expand_globs(&files, cfg->reports)) < 0)
        goto done;
    parts = dbm_xcalloc(files.n ? files.n : 1, sizeof(*parts));
    for (size_t i = 0; i < files.n && !error; i++)
        error = read_part(&parts[i], files.paths[i]);
    for (size_t i = 0; i < files.n && !error; i++)
        error = take_part(&m, &parts[i], files.paths[i]);
    if (error < 0)
        goto done; /* nothing merged is told: it would be part of the fleet */
    dbm_log("merged %zu report%s: %zu target%s", files.n, files.n == 1 ? "" : "s",
            m.merged->ntargets, m.merged->ntargets == 1 ? "" : "s");
    error = missing_shards(m.merged, dbm_report_fleet_close(m.merged));
    tmp = *ctx->report;
    *ctx->report = *m.merged;
    *m.merged = tmp;
done:
    dbm_report_free(m.merged);
    for (size_t i = 0; parts && i < files.n; i++)
        dbm_report_free(parts[i]);
    free(parts);
    free(m.owner);
    free(m.shard_owner);
    free_list(&files);
    return error;
}
