/*
 * json.c - the JSON report (report-file): every fact of the record, nothing
 * cut, keys in a fixed order. Later steps parse it, so its field names and
 * types are an interface.
 */
#include "report/report.h"
#include "common/util.h"

#include <jansson.h>
#include <stdlib.h>

static json_t *jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* json_string refuses invalid UTF-8; file names and server text may hold it. */
static json_t *jtext(const char *s)
{
    json_t *j;
    if (!s)
        return json_null();
    j = json_string(s);
    if (!j) {
        char *copy = dbm_xstrdup(s);
        for (char *p = copy; *p; p++)
            if ((unsigned char)*p >= 0x80)
                *p = '?';
        j = json_string(copy);
        free(copy);
    }
    return j;
}

/* "git": the commits compared and the changes to migration files between them. */
static json_t *json_git(const dbm_report *r)
{
    json_t *git = json_object();
    json_t *changes = json_array();

    json_object_set_new(git, "head", jstr(r->git.head));
    json_object_set_new(git, "deployed", jstr(r->git.deployed));
    json_object_set_new(git, "base", jstr(r->git.base));
    json_object_set_new(git, "compare_url", jtext(r->git.compare_url));
    for (size_t i = 0; i < r->git.nchanges; i++) {
        const dbm_git_change_info *c = &r->git.changes[i];
        json_array_append_new(changes, json_pack("{s:o, s:o, s:o, s:o}", "kind", jstr(c->kind),
                                                 "path", jtext(c->path), "old_path",
                                                 jtext(c->old_path), "commit", jstr(c->commit)));
    }
    json_object_set_new(git, "changes", changes);
    return git;
}

static json_t *json_statement(const dbm_stmt_result *s)
{
    json_t *locks = json_array(), *rewrites = json_array();

    for (size_t l = 0; l < s->nlocks; l++)
        json_array_append_new(locks,
                              json_pack("{s:o, s:o}", "relation", jtext(s->locks[l].relation),
                                        "mode", jstr(s->locks[l].mode)));
    for (size_t l = 0; l < s->nrewrites; l++)
        json_array_append_new(rewrites,
                              json_pack("{s:o, s:I}", "relation", jtext(s->rewrites[l].relation),
                                        "bytes", (json_int_t)s->rewrites[l].bytes));
    return json_pack("{s:i, s:o, s:f, s:o, s:o, s:o}", "line", s->line, "tag", jstr(s->tag),
                     "duration_ms", s->duration_ms, "locks", locks, "rewrites", rewrites, "note",
                     jtext(s->note));
}

/* A migration's error, or null. The SQL context is left to the summary. */
static json_t *json_error(const dbm_error_info *e)
{
    if (!e)
        return json_null();
    return json_pack("{s:o, s:o, s:o, s:i, s:i, s:o, s:o}", "message", jtext(e->message),
                     "sqlstate", jstr(e->sqlstate), "file", jtext(e->file), "line", e->line,
                     "column", e->column, "detail", jtext(e->detail), "hint", jtext(e->hint));
}

/* One migration row; "diff" and "changed_by" only for edited deployed migrations. */
static json_t *json_migration(const dbm_mig_result *m)
{
    json_t *jm = json_object();
    json_t *stmts = json_array();

    json_object_set_new(jm, "version", jtext(m->version));
    json_object_set_new(jm, "name", jtext(m->name));
    json_object_set_new(jm, "file", jtext(m->file));
    json_object_set_new(jm, "status", json_string(dbm_mig_status_name(m->status)));
    json_object_set_new(jm, "duration_ms", json_real(m->duration_ms));
    json_object_set_new(jm, "transactional", json_boolean(m->transactional));
    json_object_set_new(jm, "statement_count", json_integer(m->statement_count));
    json_object_set_new(jm, "note", jtext(m->note));
    for (size_t k = 0; k < m->nstmts; k++)
        json_array_append_new(stmts, json_statement(&m->stmts[k]));
    json_object_set_new(jm, "statements", stmts);
    json_object_set_new(jm, "error", json_error(m->error));
    if (m->diff)
        json_object_set_new(jm, "diff", jtext(m->diff));
    if (m->changed_by)
        json_object_set_new(jm, "changed_by", jstr(m->changed_by));
    return jm;
}

static json_t *json_findings(const dbm_report *r)
{
    static const char *const sev[] = {"notice", "warning", "error"};
    json_t *findings = json_array();

    for (size_t i = 0; i < r->nfindings; i++) {
        const dbm_finding *f = &r->findings[i];
        json_array_append_new(
            findings, json_pack("{s:s, s:o, s:o, s:i, s:i, s:o, s:o, s:o}", "severity",
                                sev[f->severity], "rule", jstr(f->rule), "file", jtext(f->file),
                                "line", f->line, "column", f->col, "message", jtext(f->message),
                                "hint", jtext(f->hint), "dry_run", jstr(f->status)));
    }
    return findings;
}

char *dbm_report_json(const dbm_report *r)
{
    json_t *root = json_object();
    json_t *migs = json_array();
    char *out;

    json_object_set_new(root, "command", jstr(r->command));
    json_object_set_new(root, "status", jstr(r->status));
    json_object_set_new(root, "database", jtext(r->database));
    json_object_set_new(root, "migrations_dir", jtext(r->migrations_dir));
    json_object_set_new(root, "format", jstr(r->format));
    json_object_set_new(root, "applied_count", json_integer(r->applied_count));
    json_object_set_new(root, "pending_count", json_integer(r->pending_count));
    json_object_set_new(root, "duration_ms", json_real(r->duration_ms));
    json_object_set_new(root, "error", jtext(r->error));
    json_object_set_new(root, "git", json_git(r));
    for (size_t i = 0; i < r->nmigs; i++)
        json_array_append_new(migs, json_migration(&r->migs[i]));
    json_object_set_new(root, "migrations", migs);
    json_object_set_new(root, "findings", json_findings(r));
    out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return out ? out : dbm_xstrdup("{}");
}
