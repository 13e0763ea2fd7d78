/*
 * check.c - parse and check the files ahead of a run; judge the rule findings
 * against a dry-run's measurements.
 */
#include "command/check.h"
#include "common/error.h"
#include "common/thread.h"
#include "common/util.h"
#include "sql/parse.h"
#include "sql/rules.h"

#include <stdlib.h>
#include <string.h>

/* A finding made by a rule, tied to the statement it is about so a dry-run can judge it. */
typedef struct {
    size_t finding; /* index in report->findings */
    size_t file;    /* index in set */
    size_t stmt;    /* index in the file's statement list */
    const char *rule;
} rule_ref;

struct dbm_run_checks {
    struct parsed_ahead *ahead; /* per file, when parsed on two threads; NULL otherwise */
    rule_ref *refs;
    size_t nrefs, caprefs;
};

/* ctx->check, created on first use. */
static struct dbm_run_checks *checks(dbm_run_ctx *ctx)
{
    if (!ctx->check)
        ctx->check = dbm_xcalloc(1, sizeof(*ctx->check));
    return ctx->check;
}

/*
 * Parsing ahead. libpg_query and the rules are pure per file, so the pending
 * files are parsed and checked on two threads, every other file each, and the
 * results are taken in file order by parse_one and check_rules, which add the
 * findings: the report is the same as parsing one file at a time. The trees
 * are dropped on the thread once the rules have read them.
 */
#define PARSE_AHEAD_MIN 16

struct parsed_ahead {
    bool ready;
    dbm_stmt_list *stmts;  /* NULL when the split failed */
    int line, col;         /* the syntax error's position */
    dbm_rule_hits *hits;   /* NULL when the split or the rules failed */
    dbm_saved_error error; /* the split's or the rules' */
};

typedef struct {
    dbm_run_ctx *ctx;
    const size_t *files;
    dbm_rules_options opts;
} ahead_job;

static void rules_options(const dbm_run_ctx *ctx, dbm_rules_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->lock_timeout_configured = ctx->cfg->lock_timeout_ms > 0;
}

static void parse_ahead_one(void *arg, size_t k)
{
    const ahead_job *job = arg;
    size_t i = job->files[k];
    const dbm_migration *m = &job->ctx->set->items[i];
    struct parsed_ahead *a = &job->ctx->check->ahead[i];

    if (dbm_sql_split(&a->stmts, &a->line, &a->col, m->up, m->up_len) < 0 ||
        dbm_rules_check(&a->hits, a->stmts, m->up, m->up_len, &job->opts) < 0)
        dbm_error_save(&a->error);
    dbm_stmt_list_drop_trees(a->stmts);
    a->ready = true;
}

/*
 * Parse and check `files` (distinct indices) ahead, on two threads when there
 * are enough; what is not done ahead is done when taken.
 */
static void parse_ahead(dbm_run_ctx *ctx, const size_t *files, size_t count)
{
    ahead_job job = {ctx, files, {0}};

    if (count < PARSE_AHEAD_MIN)
        return;
    if (!checks(ctx)->ahead)
        ctx->check->ahead = dbm_xcalloc(ctx->set->count, sizeof(*ctx->check->ahead));
    rules_options(ctx, &job.opts);
    dbm_thread_every_other(parse_ahead_one, &job, count, PARSE_AHEAD_MIN);
}

/* Take file i's split from ahead: DBM_EFAILED with its message when it failed. */
static int take_ahead_split(dbm_run_ctx *ctx, size_t i, int *line, int *col)
{
    struct parsed_ahead *a = ctx->check && ctx->check->ahead ? &ctx->check->ahead[i] : NULL;

    if (!a || !a->ready)
        return 0;
    ctx->parsed[i] = a->stmts;
    a->stmts = NULL;
    if (ctx->parsed[i])
        return 0;
    *line = a->line;
    *col = a->col;
    return dbm_error_raise(&a->error);
}

/* Take file i's rule hits from ahead (*hits NULL when it was not parsed ahead). */
static int take_ahead_hits(dbm_run_ctx *ctx, size_t i, dbm_rule_hits **hits)
{
    struct parsed_ahead *a = ctx->check && ctx->check->ahead ? &ctx->check->ahead[i] : NULL;

    *hits = NULL;
    if (!a || !a->ready)
        return 0;
    if (a->error.code < 0)
        return dbm_error_raise(&a->error);
    *hits = a->hits;
    a->hits = NULL;
    return 0;
}

void dbm_check_free(dbm_run_ctx *ctx)
{
    struct dbm_run_checks *c = ctx->check;

    if (!c)
        return;
    for (size_t i = 0; c->ahead && i < ctx->set->count; i++) {
        dbm_stmt_list_free(c->ahead[i].stmts);
        dbm_rule_hits_free(c->ahead[i].hits);
        dbm_saved_error_free(&c->ahead[i].error);
    }
    free(c->ahead);
    free(c->refs);
    free(c);
    ctx->check = NULL;
}

/*
 * A file without statements is recorded as applied (a placeholder some tools
 * need), with a notice. But one still holding exactly what `new` wrote was
 * never written: recording it would make the migration written into it later
 * an edit of an applied one. That blocks.
 */
static void empty_file(dbm_run_ctx *ctx, size_t i)
{
    char *path = dbm_xasprintf("%s/%s", ctx->set->dir, ctx->set->items[i].path);
    dbm_finding *f;

    if (dbm_migration_is_new_template(path)) {
        f = dbm_report_add_finding(ctx->report, DBM_SEV_ERROR, "unwritten-migration",
                                   ctx->display[i], 1, 0,
                                   "still the template 'db-migrate new' wrote: applying it "
                                   "would record a migration that runs nothing");
        dbm_report_set(&f->hint, "write the migration, or delete the file");
    } else {
        dbm_report_add_finding(ctx->report, DBM_SEV_NOTICE, "empty-migration", ctx->display[i], 1,
                               0, "'%s' has no statements; it will be recorded as applied",
                               ctx->display[i]);
    }
    free(path);
}

/*
 * How a file of format `fmt` asks to run outside a transaction. `single`: the supabase answer
 * for a statement that must run alone.
 */
static const char *no_tx_directive(dbm_format fmt, bool single)
{
    switch (fmt) {
    case DBM_FORMAT_GOOSE:
        return "add '-- +goose NO TRANSACTION' to the file";
    case DBM_FORMAT_DIESEL:
        return "add 'run_in_transaction = false' to the migration's metadata.toml";
    case DBM_FORMAT_DBMATE:
        return "write '-- migrate:up transaction:false'";
    case DBM_FORMAT_SQLX:
        return "start the file with a line '-- no-transaction'";
    case DBM_FORMAT_ATLAS:
        return "start the file with '-- atlas:txmode none' and a blank line";
    case DBM_FORMAT_FLYWAY:
        return "put 'executeInTransaction=false' in a '<file>.sql.conf' beside it";
    case DBM_FORMAT_GRAPHILE_MIGRATE:
        return "make '--! no-transaction' the body's first line";
    case DBM_FORMAT_SUPABASE:
        if (single)
            return "move the statement to a file of its own (the CLI runs a file as one "
                   "implicit transaction)";
        /* fall through */
    case DBM_FORMAT_GOLANG_MIGRATE:
    case DBM_FORMAT_PRISMA:
    case DBM_FORMAT_DRIZZLE:
    case DBM_FORMAT_SQITCH:
        if (!single)
            return "split the file into migrations of one transaction each (this format has "
                   "no directive for a file outside a transaction)";
        /* fall through */
    default:
        return "add a line '-- migrate:no-transaction' to the file (it then runs statement by "
               "statement, and a rerun resumes where it failed)";
    }
}

/*
 * A transactional file whose BEGIN, COMMIT, ROLLBACK, ... would end the transaction db-migrate
 * runs it in before its end: the work before it would commit without the file's history row,
 * or be undone and still recorded. Blocking, at the statement.
 */
static void misplaced_tx_control(dbm_run_ctx *ctx, size_t i, const dbm_migration *m)
{
    const dbm_stmt_list *l = ctx->parsed[i];
    size_t k = dbm_sql_misplaced_tx_control(l);
    const dbm_stmt *s;
    const char *why;
    dbm_finding *f;
    char *hint;

    if (m->no_transaction || k >= l->count)
        return;
    s = &l->items[k];
    why = strcmp(s->tag, "COMMIT") == 0
              ? "the statements before it would commit without the file's history row"
          : strcmp(s->tag, "ROLLBACK") == 0
              ? "it undoes the statements before it, and the file would still be recorded"
          : strcmp(s->tag, "PREPARE TRANSACTION") == 0
              ? "the file's work would wait in a prepared transaction, not applied"
          : k == 0 ? "it is not closed by a COMMIT as the file's last statement"
                   : "only a BEGIN as the first statement with a COMMIT as the last one is allowed";
    f = dbm_report_add_finding(ctx->report, DBM_SEV_ERROR, "transaction-control", ctx->display[i],
                               m->up_line + s->line - 1, s->col,
                               "%s would end the transaction db-migrate runs the file in, with "
                               "its history row: %s",
                               s->tag, why);
    hint = dbm_xasprintf("remove it (the file runs in one transaction, recorded with it; a "
                         "leading BEGIN with a closing COMMIT is allowed); to commit in steps, "
                         "%s",
                         no_tx_directive(ctx->set->format, false));
    dbm_report_set(&f->hint, hint);
    free(hint);
}

/*
 * Parse a file's up section; add blocking findings for syntax errors and for
 * statements that cannot run in a transaction in a file without the
 * directive. Formats whose tools decide on their own (Flyway, and
 * golang-migrate/Prisma/Supabase for a single-statement file, which they send
 * as one query) get that decision here.
 */
static void split_and_decide(dbm_run_ctx *ctx, size_t i)
{
    dbm_migration *m = &ctx->set->items[i];
    int line = 0, col = 0;
    dbm_format fmt = ctx->set->format;

    if (ctx->parsed[i])
        return;
    if (take_ahead_split(ctx, i, &line, &col) < 0 ||
        (!ctx->parsed[i] && dbm_sql_split(&ctx->parsed[i], &line, &col, m->up, m->up_len) < 0)) {
        dbm_finding *f = dbm_report_add_finding(ctx->report, DBM_SEV_ERROR, "syntax-error",
                                                ctx->display[i], line ? m->up_line + line - 1 : 0,
                                                col, "%s", dbm_error_message());
        dbm_report_set(&f->hint, "fix the SQL; the file is checked with PostgreSQL's own parser");
        return;
    }
    if (ctx->parsed[i]->count == 0)
        empty_file(ctx, i);
    if (!ctx->parsed[i]->has_no_tx || m->no_transaction)
        return;
    /* Sqitch: psql runs a script without its own BEGIN statement by statement. */
    if (fmt == DBM_FORMAT_FLYWAY ||
        (fmt == DBM_FORMAT_SQITCH && !ctx->parsed[i]->manages_transaction) ||
        ((fmt == DBM_FORMAT_GOLANG_MIGRATE || fmt == DBM_FORMAT_PRISMA ||
          fmt == DBM_FORMAT_SUPABASE) &&
         ctx->parsed[i]->count == 1)) {
        m->no_transaction = true;
        return;
    }
    for (size_t k = 0; k < ctx->parsed[i]->count; k++) {
        const dbm_stmt *s = &ctx->parsed[i]->items[k];
        dbm_finding *f;
        if (!(s->flags & DBM_STMT_NO_TX))
            continue;
        f = dbm_report_add_finding(ctx->report, DBM_SEV_ERROR, "needs-no-transaction",
                                   ctx->display[i], m->up_line + s->line - 1, s->col,
                                   "%s cannot run inside a transaction block", s->tag);
        dbm_report_set(&f->hint, no_tx_directive(fmt, true));
        break;
    }
}

/*
 * A file outside a transaction that changes the session (SET, SET ROLE, set_config()): each
 * statement is its own transaction, so behind a transaction pooler the next one may run on
 * another server connection, and the setting reach another client. A warning at the first.
 */
static void session_setting_outside(dbm_run_ctx *ctx, size_t i, const dbm_migration *m)
{
    const dbm_stmt_list *l = ctx->parsed[i];
    dbm_finding *f;

    if (!m->no_transaction || !l->sets_session)
        return;
    for (size_t k = 0; k < l->count; k++) {
        const dbm_stmt *s = &l->items[k];
        if (!(s->flags & DBM_STMT_SETS_SESSION))
            continue;
        f = dbm_report_add_finding(
            ctx->report, DBM_SEV_WARNING, "session-setting", ctx->display[i],
            m->up_line + s->line - 1, s->col,
            "%s lasts for the session, and this file runs outside a transaction: through a "
            "transaction pooler (PgBouncer's pool_mode = transaction) the statements after it may "
            "run without it, and another client may get it",
            s->tag);
        dbm_report_set(&f->hint, "qualify the names (schema.table) instead, or keep the SET in a "
                                 "transactional file: db-migrate puts the session back after "
                                 "each migration, inside its transaction");
        return;
    }
}

/* Parse file i, once; its blocking findings, the transaction-control ones last. */
static void parse_one(dbm_run_ctx *ctx, size_t i)
{
    if (ctx->parsed[i])
        return;
    split_and_decide(ctx, i);
    if (!ctx->parsed[i])
        return;
    misplaced_tx_control(ctx, i, &ctx->set->items[i]);
    session_setting_outside(ctx, i, &ctx->set->items[i]);
}

/* The safety rules over one parsed file; each hit becomes a warning finding, or none when the
 * config file turns its rule off (a rule at `error` fails plan and dry-run: dbm_run_fail_on). */
static int check_rules(dbm_run_ctx *ctx, size_t i)
{
    const dbm_migration *m = &ctx->set->items[i];
    dbm_rules_options opts;
    dbm_rule_hits *hits = NULL;
    int error;

    rules_options(ctx, &opts);
    if (!ctx->parsed[i])
        return 0;
    if ((error = take_ahead_hits(ctx, i, &hits)) < 0 ||
        (!hits && (error = dbm_rules_check(&hits, ctx->parsed[i], m->up, m->up_len, &opts)) < 0))
        return error;
    for (size_t k = 0; k < hits->count; k++) {
        struct dbm_run_checks *c = checks(ctx);
        const dbm_rule_hit *h = &hits->items[k];
        dbm_finding *f;
        rule_ref *ref;

        if (dbm_config_file_rule_level(ctx->cfg->file, h->rule) == DBM_RULE_LEVEL_OFF)
            continue;
        f = dbm_report_add_finding(ctx->report, DBM_SEV_WARNING, h->rule, ctx->display[i],
                                   m->up_line + h->line - 1, h->col, "%s", h->message);
        dbm_report_set(&f->hint, h->hint);
        dbm_array_grow((void **)&c->refs, &c->caprefs, c->nrefs + 1, sizeof(*c->refs));
        ref = &c->refs[c->nrefs++];
        ref->finding = ctx->report->nfindings - 1;
        ref->file = i;
        ref->stmt = h->stmt;
        ref->rule = h->rule;
    }
    dbm_rule_hits_free(hits);
    return 0;
}

/*
 * Parse one file, run the rules over its trees, then free the trees: a run
 * over a thousand pending files holds one tree at a time.
 */
static int parse_and_check(dbm_run_ctx *ctx, size_t i)
{
    int error;

    if (ctx->parsed[i])
        return 0;
    parse_one(ctx, i);
    error = check_rules(ctx, i);
    dbm_stmt_list_drop_trees(ctx->parsed[i]);
    return error;
}

/* Parse and check `files` (distinct, not parsed yet) in order, ahead on two threads. */
static int parse_files(dbm_run_ctx *ctx, const size_t *files, size_t n)
{
    int error = 0;

    parse_ahead(ctx, files, n);
    for (size_t k = 0; k < n && error == 0; k++)
        error = parse_and_check(ctx, files[k]);
    return error;
}

int dbm_check_pending(dbm_run_ctx *ctx)
{
    size_t *files = dbm_xcalloc(ctx->set->count + 1, sizeof(*files)), n = 0;
    int error;

    for (size_t i = 0; i < ctx->set->count; i++)
        if (dbm_run_is_pending(ctx->state[i]) && !ctx->parsed[i])
            files[n++] = i;
    error = parse_files(ctx, files, n);
    free(files);
    return error;
}

typedef struct {
    const char *path;
    size_t file;
} path_index;

static int path_index_cmp(const void *a, const void *b)
{
    return strcmp(((const path_index *)a)->path, ((const path_index *)b)->path);
}

/*
 * Without a database every file is pending; when git knows the base (the pull
 * request's base, or the deployed commit), the static checks are for the files
 * that changed since then, as a reviewer would read them.
 */
int dbm_check_changed(dbm_run_ctx *ctx)
{
    path_index *byname = dbm_xcalloc(ctx->set->count + 1, sizeof(*byname));
    size_t *files = dbm_xcalloc(ctx->set->count + 1, sizeof(*files)), n = 0;
    bool *listed = dbm_xcalloc(ctx->set->count + 1, sizeof(*listed));
    int error;

    free(ctx->changed);
    ctx->changed = listed;

    /*
     * Files sorted by display path, so each change finds its file by binary
     * search: a scan of every file per change was 2.5 million comparisons for
     * 500 changes in a 5,000-file directory, a fifth of the plan's time.
     */
    for (size_t i = 0; i < ctx->set->count; i++)
        byname[i] = (path_index){ctx->display[i], i};
    qsort(byname, ctx->set->count, sizeof(*byname), path_index_cmp);
    for (size_t c = 0; c < ctx->report->git.nchanges; c++) {
        const dbm_git_change_info *ch = &ctx->report->git.changes[c];
        if (strcmp(ch->kind, "deleted") == 0 || !ch->path)
            continue;
        /* Change paths are relative to the repository; display paths may be a suffix. */
        for (const char *p = ch->path; p && *p;) {
            path_index key = {p, 0};
            const path_index *hit =
                bsearch(&key, byname, ctx->set->count, sizeof(*byname), path_index_cmp);
            if (hit && !listed[hit->file] && !ctx->parsed[hit->file]) {
                listed[hit->file] = true;
                files[n++] = hit->file;
            }
            if ((p = strchr(p, '/')) != NULL)
                p++;
        }
    }
    error = parse_files(ctx, files, n);
    free(byname);
    free(files);
    return error;
}

static bool stmt_has_lock(const dbm_stmt_result *s, const char *mode)
{
    for (size_t i = 0; i < s->nlocks; i++)
        if (strcmp(s->locks[i].mode, mode) == 0)
            return true;
    return false;
}

/*
 * Whether statement `s` of `r` took a lock in `mode`: 1 yes, 0 no, -1 cannot
 * tell, because an earlier statement of the dry-run took that mode already and
 * the transaction still holds it (only new locks are measured).
 */
static int took_lock(const dbm_report *rep, const dbm_mig_result *r, const dbm_stmt_result *s,
                     const char *mode)
{
    if (stmt_has_lock(s, mode))
        return 1;
    for (size_t i = 0; i < rep->nmigs && &rep->migs[i] <= r; i++)
        for (size_t k = 0; k < rep->migs[i].nstmts && &rep->migs[i].stmts[k] != s; k++)
            if (stmt_has_lock(&rep->migs[i].stmts[k], mode))
                return -1;
    return 0;
}

/*
 * Judge each rule finding whose statement ran in the dry-run against what was
 * measured. Only rules whose claim the measurement can check get a status: an
 * index build takes a SHARE lock; a type change or volatile default rewrites
 * the table; the others named here take an ACCESS EXCLUSIVE lock. A lock mode
 * an earlier statement already holds cannot be seen again, so no verdict then.
 */
void dbm_check_confirm(dbm_run_ctx *ctx, const bool *ran)
{
    static const char *const rewrites[] = {"alter-column-type", "volatile-default", "cluster",
                                           "vacuum-full"};
    static const char *const exclusive[] = {"set-not-null", "unique-without-using-index",
                                            "missing-lock-timeout"};

    for (size_t i = 0; ctx->check && i < ctx->check->nrefs; i++) {
        const rule_ref *ref = &ctx->check->refs[i];
        const dbm_mig_result *r;
        const dbm_stmt_result *s;
        int verdict = -1; /* -1 unknown, 0 refuted, 1 confirmed */

        if (!ran[ref->file])
            continue;
        r = &ctx->report->migs[ctx->row[ref->file]];
        if (ref->stmt >= r->nstmts || r->stmts[ref->stmt].note)
            continue;
        s = &r->stmts[ref->stmt];
        if (strcmp(ref->rule, "index-without-concurrently") == 0)
            verdict = took_lock(ctx->report, r, s, "ShareLock");
        for (size_t k = 0; k < sizeof(rewrites) / sizeof(rewrites[0]); k++)
            if (strcmp(ref->rule, rewrites[k]) == 0)
                verdict = s->nrewrites > 0;
        for (size_t k = 0; k < sizeof(exclusive) / sizeof(exclusive[0]); k++)
            if (strcmp(ref->rule, exclusive[k]) == 0)
                verdict = took_lock(ctx->report, r, s, "AccessExclusiveLock");
        if (verdict >= 0)
            dbm_report_set(&ctx->report->findings[ref->finding].status,
                           verdict ? "confirmed" : "refuted");
    }
}
