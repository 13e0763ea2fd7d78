/*
 * json.c - the JSON report (report-file): every fact of the record, nothing
 * cut, keys in a fixed order. Later steps parse it, so its field names and
 * types are an interface.
 */
#include "report/report.h"
#include "common/json.h"
#include "common/util.h"
#include "report/render.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

static json_t *jstr(const char *s)
{
    return s ? json_string(s) : json_null();
}

/* "git": the commits compared and the changes to migration files between them. */
static json_t *json_git(const dbm_report *r)
{
    json_t *git = json_object();
    json_t *changes = json_array();

    json_object_set_new(git, "head", jstr(r->git.head));
    json_object_set_new(git, "deployed", jstr(r->git.deployed));
    json_object_set_new(git, "base", jstr(r->git.base));
    json_object_set_new(git, "compare_url", dbm_json_text(r->git.compare_url));
    for (size_t i = 0; i < r->git.nchanges; i++) {
        const dbm_git_change_info *c = &r->git.changes[i];
        json_array_append_new(changes,
                              json_pack("{s:o, s:o, s:o, s:o}", "kind", jstr(c->kind), "path",
                                        dbm_json_text(c->path), "old_path",
                                        dbm_json_text(c->old_path), "commit", jstr(c->commit)));
    }
    json_object_set_new(git, "changes", changes);
    return git;
}

static json_t *json_statement(const dbm_stmt_result *s)
{
    json_t *locks = json_array(), *rewrites = json_array();

    for (size_t l = 0; l < s->nlocks; l++) {
        json_t *lock = json_pack("{s:o, s:o}", "relation", dbm_json_text(s->locks[l].relation),
                                 "mode", jstr(s->locks[l].mode));
        if (s->locks[l].held_earlier)
            json_object_set_new(lock, "held_by_earlier_migration", json_true());
        json_array_append_new(locks, lock);
    }
    for (size_t l = 0; l < s->nrewrites; l++)
        json_array_append_new(rewrites, json_pack("{s:o, s:I}", "relation",
                                                  dbm_json_text(s->rewrites[l].relation), "bytes",
                                                  (json_int_t)s->rewrites[l].bytes));
    return json_pack("{s:i, s:o, s:f, s:o, s:o, s:o, s:o}", "line", s->line, "tag", jstr(s->tag),
                     "duration_ms", s->duration_ms, "locks", locks, "rewrites", rewrites, "note",
                     dbm_json_text(s->note), "sql", dbm_json_text(s->sql));
}

/* The session a lock timeout waited for. */
static json_t *json_blocker(const dbm_blocker *b)
{
    return json_pack("{s:i, s:o, s:o, s:o, s:I}", "pid", b->pid, "application",
                     dbm_json_text(b->application), "state", dbm_json_text(b->state), "query",
                     dbm_json_text(b->query), "age_s", (json_int_t)b->age_s);
}

/* A migration's error, or null; "context" is the SQL around the failing line. */
static json_t *json_error(const dbm_error_info *e)
{
    json_t *je;

    if (!e)
        return json_null();
    je = json_pack("{s:o, s:o, s:o, s:i, s:i, s:o, s:o, s:o}", "message", dbm_json_text(e->message),
                   "sqlstate", jstr(e->sqlstate), "file", dbm_json_text(e->file), "line", e->line,
                   "column", e->column, "detail", dbm_json_text(e->detail), "hint",
                   dbm_json_text(e->hint), "context", dbm_json_text(e->context));
    if (e->blocker)
        json_object_set_new(je, "blocker", json_blocker(e->blocker));
    return je;
}

/* One migration row; "diff" and "changed_by" only for edited deployed migrations. */
static json_t *json_migration(const dbm_mig_result *m)
{
    json_t *jm = json_object();
    json_t *stmts = json_array();

    json_object_set_new(jm, "version", dbm_json_text(m->version));
    json_object_set_new(jm, "name", dbm_json_text(m->name));
    json_object_set_new(jm, "file", dbm_json_text(m->file));
    json_object_set_new(jm, "status", json_string(dbm_mig_status_name(m->status)));
    json_object_set_new(jm, "duration_ms", json_real(m->duration_ms));
    json_object_set_new(jm, "transactional", json_boolean(m->transactional));
    json_object_set_new(jm, "statement_count", json_integer(m->statement_count));
    json_object_set_new(jm, "note", dbm_json_text(m->note));
    json_object_set_new(jm, "earlier", json_boolean(m->earlier));
    json_object_set_new(jm, "applied_at", jstr(m->applied_at));
    json_object_set_new(jm, "excerpt", dbm_json_text(m->excerpt));
    for (size_t k = 0; k < m->nstmts; k++)
        json_array_append_new(stmts, json_statement(&m->stmts[k]));
    json_object_set_new(jm, "statements", stmts);
    json_object_set_new(jm, "error", json_error(m->error));
    if (m->diff)
        json_object_set_new(jm, "diff", dbm_json_text(m->diff));
    if (m->changed_by)
        json_object_set_new(jm, "changed_by", jstr(m->changed_by));
    if (m->failed_before)
        json_object_set_new(jm, "failed_before", json_true());
    return jm;
}

static json_t *json_findings(const dbm_report *r)
{
    static const char *const sev[] = {"notice", "warning", "error"};
    json_t *findings = json_array();

    for (size_t i = 0; i < r->nfindings; i++) {
        const dbm_finding *f = &r->findings[i];
        json_array_append_new(findings,
                              json_pack("{s:s, s:o, s:o, s:i, s:i, s:o, s:o, s:o}", "severity",
                                        sev[f->severity], "rule", jstr(f->rule), "file",
                                        dbm_json_text(f->file), "line", f->line, "column", f->col,
                                        "message", dbm_json_text(f->message), "hint",
                                        dbm_json_text(f->hint), "dry_run", jstr(f->status)));
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
    json_object_set_new(root, "database", dbm_json_text(r->database));
    json_object_set_new(root, "migrations_dir", dbm_json_text(r->migrations_dir));
    json_object_set_new(root, "format", jstr(r->format));
    if (r->migrations_digest)
        json_object_set_new(root, "migrations_digest", jstr(r->migrations_digest));
    json_object_set_new(root, "applied_count", json_integer(r->applied_count));
    json_object_set_new(root, "pending_count", json_integer(r->pending_count));
    if (!strcmp(r->command ? r->command : "", "rollback"))
        json_object_set_new(root, "rolled_back_count", json_integer(r->rolled_back_count));
    json_object_set_new(root, "duration_ms", json_real(r->duration_ms));
    json_object_set_new(root, "error", dbm_json_text(r->error));
    json_object_set_new(root, "exit_code", json_integer(r->exit_code));
    json_object_set_new(root, "git", json_git(r));
    for (size_t i = 0; i < r->nmigs; i++)
        json_array_append_new(migs, json_migration(&r->migs[i]));
    json_object_set_new(root, "migrations", migs);
    json_object_set_new(root, "findings", json_findings(r));
    if (r->ntargets || r->parallel) /* a fleet's, even a shard that holds no target */
        json_object_update_missing_new(root, report_fleet_json(r));
    out = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    json_decref(root);
    return out ? out : dbm_xstrdup("{}");
}
