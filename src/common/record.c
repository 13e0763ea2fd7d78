/*
 * record.c - the run's record: building it. Rendering and writing it out is
 * src/report/'s.
 */
#include "common/record.h"
#include "common/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *dbm_mig_status_name(dbm_mig_status status)
{
    switch (status) {
    case DBM_MIG_APPLIED:
        return "applied";
    case DBM_MIG_FAILED:
        return "failed";
    case DBM_MIG_SKIPPED:
        return "skipped";
    case DBM_MIG_EDITED:
        return "edited";
    case DBM_MIG_MISSING:
        return "missing";
    case DBM_MIG_ROLLED_BACK:
        return "rolled-back";
    case DBM_MIG_PENDING:
    default:
        return "pending";
    }
}

dbm_report *dbm_report_new(const char *command)
{
    dbm_report *r = dbm_xcalloc(1, sizeof(*r));
    r->command = dbm_xstrdup(command);
    return r;
}

void dbm_report_set(char **field, const char *value)
{
    char *old = *field;
    *field = dbm_xstrdup(value);
    free(old);
}

void dbm_blocker_clear(dbm_blocker *b)
{
    if (!b)
        return;
    free(b->application);
    free(b->state);
    free(b->query);
    b->application = b->state = b->query = NULL;
}

char *dbm_blocker_describe(const dbm_blocker *b)
{
    return dbm_xasprintf("pid %d (application '%s', %s for %lld s)%s%s", b->pid,
                         b->application ? b->application : "",
                         b->state && *b->state ? b->state : "transaction open", b->age_s,
                         b->query && *b->query ? ": " : "", b->query ? b->query : "");
}

static void free_error(dbm_error_info *e)
{
    if (!e)
        return;
    dbm_blocker_clear(e->blocker);
    free(e->blocker);
    free(e->message);
    free(e->sqlstate);
    free(e->detail);
    free(e->hint);
    free(e->file);
    free(e->context);
    free(e);
}

static void free_stmt(dbm_stmt_result *s)
{
    for (size_t i = 0; i < s->nlocks; i++) {
        free(s->locks[i].relation);
        free(s->locks[i].mode);
    }
    for (size_t i = 0; i < s->nrewrites; i++)
        free(s->rewrites[i].relation);
    free(s->locks);
    free(s->rewrites);
    free(s->tag);
    free(s->note);
    free(s->sql);
}

void dbm_report_free(dbm_report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nmigs; i++) {
        dbm_mig_result *m = &r->migs[i];
        free(m->version);
        free(m->name);
        free(m->file);
        for (size_t k = 0; k < m->nstmts; k++)
            free_stmt(&m->stmts[k]);
        free(m->stmts);
        free_error(m->error);
        free(m->note);
        free(m->diff);
        free(m->changed_by);
        free(m->applied_at);
        free(m->excerpt);
    }
    free(r->migs);
    for (size_t i = 0; i < r->nfindings; i++) {
        dbm_finding *f = &r->findings[i];
        free(f->rule);
        free(f->file);
        free(f->message);
        free(f->hint);
        free(f->status);
    }
    free(r->findings);
    free(r->shard.merged);
    for (size_t i = 0; i < r->git.nchanges; i++) {
        free(r->git.changes[i].kind);
        free(r->git.changes[i].path);
        free(r->git.changes[i].old_path);
        free(r->git.changes[i].commit);
    }
    free(r->git.changes);
    free(r->git.head);
    free(r->git.deployed);
    free(r->git.base);
    free(r->git.compare_url);
    free(r->command);
    free(r->status);
    free(r->database);
    free(r->migrations_dir);
    free(r->migrations_digest);
    free(r->format);
    free(r->error);
    for (size_t i = 0; i < r->ntargets; i++) {
        free(r->targets[i].name);
        free(r->targets[i].group);
        free(r->targets[i].outcome);
        free(r->targets[i].error);
        dbm_report_free(r->targets[i].detail);
    }
    free(r->targets);
    dbm_report_drop_drift(r);
    free(r);
}

void dbm_report_drop_drift(dbm_report *r)
{
    if (r->drift_free)
        r->drift_free(r->drift);
    r->drift = NULL;
    r->drift_free = NULL;
}

dbm_target_result *dbm_report_add_target(dbm_report *r, const char *name, const char *group)
{
    dbm_target_result *t;

    dbm_report_drop_drift(r); /* it points into the rows, which may move */
    dbm_array_grow((void **)&r->targets, &r->captargets, r->ntargets + 1, sizeof(*r->targets));
    t = &r->targets[r->ntargets++];
    memset(t, 0, sizeof(*t));
    t->name = dbm_xstrdup(name);
    t->group = dbm_xstrdup(group);
    return t;
}

dbm_mig_result *dbm_report_add_migration(dbm_report *r, const char *version, const char *name,
                                         const char *file, dbm_mig_status status)
{
    dbm_mig_result *m;

    dbm_array_grow((void **)&r->migs, &r->capmigs, r->nmigs + 1, sizeof(*r->migs));
    m = &r->migs[r->nmigs++];
    m->version = dbm_xstrdup(version);
    m->name = dbm_xstrdup(name);
    m->file = dbm_xstrdup(file);
    m->status = status;
    return m;
}

dbm_mig_result *dbm_report_migration(dbm_report *r, const char *version, const char *name,
                                     const char *file, dbm_mig_status status)
{
    for (size_t i = 0; i < r->nmigs; i++)
        if (r->migs[i].version && version && strcmp(r->migs[i].version, version) == 0) {
            r->migs[i].status = status;
            if (!r->migs[i].file && file)
                r->migs[i].file = dbm_xstrdup(file);
            return &r->migs[i];
        }
    return dbm_report_add_migration(r, version, name, file, status);
}

dbm_stmt_result *dbm_report_add_stmt(dbm_mig_result *m, int line, const char *tag)
{
    dbm_stmt_result *s;

    dbm_array_grow((void **)&m->stmts, &m->capstmts, m->nstmts + 1, sizeof(*m->stmts));
    s = &m->stmts[m->nstmts++];
    s->line = line;
    s->tag = dbm_xstrdup(tag);
    return s;
}

void dbm_report_add_lock(dbm_stmt_result *s, const char *relation, const char *mode)
{
    dbm_array_grow((void **)&s->locks, &s->caplocks, s->nlocks + 1, sizeof(*s->locks));
    s->locks[s->nlocks].relation = dbm_xstrdup(relation);
    s->locks[s->nlocks].mode = dbm_xstrdup(mode);
    s->locks[s->nlocks].held_earlier = false;
    s->nlocks++;
}

void dbm_report_add_lock_held(dbm_stmt_result *s, const char *relation, const char *mode)
{
    dbm_report_add_lock(s, relation, mode);
    s->locks[s->nlocks - 1].held_earlier = true;
}

void dbm_report_add_rewrite(dbm_stmt_result *s, const char *relation, long long bytes)
{
    dbm_array_grow((void **)&s->rewrites, &s->caprewrites, s->nrewrites + 1, sizeof(*s->rewrites));
    s->rewrites[s->nrewrites].relation = dbm_xstrdup(relation);
    s->rewrites[s->nrewrites].bytes = bytes;
    s->nrewrites++;
}

dbm_error_info *dbm_report_set_error(dbm_mig_result *m, const char *message, const char *sqlstate)
{
    free_error(m->error);
    m->error = dbm_xcalloc(1, sizeof(*m->error));
    m->error->message = dbm_xstrdup(message);
    m->error->sqlstate = dbm_xstrdup(sqlstate);
    return m->error;
}

dbm_finding *dbm_report_add_finding(dbm_report *r, dbm_severity severity, const char *rule,
                                    const char *file, int line, int col, const char *fmt, ...)
{
    dbm_finding *f;
    va_list ap;
    int n;

    dbm_array_grow((void **)&r->findings, &r->capfindings, r->nfindings + 1, sizeof(*r->findings));
    f = &r->findings[r->nfindings++];
    f->severity = severity;
    f->rule = dbm_xstrdup(rule);
    f->file = dbm_xstrdup(file);
    f->line = line;
    f->col = col;
    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    f->message = dbm_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(f->message, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return f;
}

dbm_git_change_info *dbm_report_add_git_change(dbm_report *r, const char *kind, const char *path,
                                               const char *old_path, const char *commit)
{
    dbm_git_change_info *c;

    dbm_array_grow((void **)&r->git.changes, &r->git.capchanges, r->git.nchanges + 1,
                   sizeof(*r->git.changes));
    c = &r->git.changes[r->git.nchanges++];
    c->kind = dbm_xstrdup(kind);
    c->path = dbm_xstrdup(path);
    c->old_path = dbm_xstrdup(old_path);
    c->commit = dbm_xstrdup(commit);
    return c;
}

bool dbm_report_has_blocking(const dbm_report *r)
{
    for (size_t i = 0; i < r->nfindings; i++)
        if (r->findings[i].severity == DBM_SEV_ERROR)
            return true;
    return false;
}

/* Whether an earlier error finding than i is about the same file (one problem, told twice). */
static bool same_file_before(const dbm_report *r, size_t i)
{
    const char *file = r->findings[i].file;

    for (size_t k = 0; file && k < i; k++)
        if (r->findings[k].severity == DBM_SEV_ERROR && r->findings[k].file &&
            strcmp(r->findings[k].file, file) == 0)
            return true;
    return false;
}

size_t dbm_report_blocking_count(const dbm_report *r)
{
    size_t n = 0;

    /* An edited deployed file is found by the history and by git: one problem, not two. */
    for (size_t i = 0; i < r->nfindings; i++)
        n += r->findings[i].severity == DBM_SEV_ERROR && !same_file_before(r, i);
    return n;
}

char *dbm_excerpt(const char *sql, size_t len, size_t max)
{
    dbm_buf b = DBM_BUF_INIT;
    bool space = false;

    for (size_t i = 0; i < len && sql[i]; i++) {
        unsigned char c = (unsigned char)sql[i];
        if (c <= ' ' || c == 0x7f) {
            space = b.len > 0;
            continue;
        }
        if (space)
            dbm_buf_putc(&b, ' ');
        space = false;
        /* Cut before a character that starts past the limit (never inside one). */
        if (b.len >= max && (c & 0xC0) != 0x80) {
            dbm_buf_puts(&b, "…");
            break;
        }
        dbm_buf_putc(&b, (char)c);
    }
    return dbm_buf_detach(&b);
}
