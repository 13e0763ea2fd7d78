/*
 * commands.c - plan, apply, dry-run, status, verify, baseline, repair,
 * rollback, new.
 *
 * Every command that touches the database follows one shape: read the files,
 * connect, (take the run lock and create the history tables when it writes),
 * read the history, classify each file, check before running anything, then
 * act. Nothing is applied when any check blocks. dry-run shares apply's shape
 * up to the point where apply writes: it takes no lock, creates nothing, and
 * runs the pending migrations in one transaction that it rolls back.
 */
#include "command/command.h"
#include "postgres/adopt.h"
#include "postgres/connect.h"
#include "postgres/db.h"
#include "postgres/dryrun.h"
#include "common/error.h"
#include "git/check.h"
#include "postgres/history.h"
#include "common/log.h"
#include "migration/migration.h"
#include "net/github.h"
#include "report/report.h"
#include "sql/rules.h"
#include "sql/parse.h"
#include "common/thread.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef enum { ST_APPLIED, ST_PENDING, ST_EDITED, ST_RESUME, ST_OUT_OF_ORDER } file_state;

/* A finding made by a rule, tied to the statement it is about so a dry-run can judge it. */
typedef struct {
    size_t finding; /* index in report->findings */
    size_t file;    /* index in set */
    size_t stmt;    /* index in the file's statement list */
    const char *rule;
} rule_ref;

typedef struct {
    const dbm_config *cfg;
    dbm_report *report;
    dbm_migration_set *set;
    dbm_conn *conn;
    PGconn *pg;
    dbm_history *history;
    file_state *state;          /* per file in set */
    dbm_stmt_list **parsed;     /* per file; parsed for pending ones */
    struct parsed_ahead *ahead; /* per file, when parsed on two threads; NULL otherwise */
    char **display;             /* per file: the path users see */
    size_t *row;                /* per file: its index in report->migs once it has a row */
    rule_ref *refs;
    size_t nrefs, caprefs;
} run_ctx;

/* --- reading and classifying --- */

static char *display_path(const dbm_config *cfg, const char *rel)
{
    const char *dir = cfg->shown_dir;

    if (!*dir)
        return dbm_xstrdup(rel);
    return dbm_xasprintf("%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", rel);
}

static int load_files(run_ctx *ctx)
{
    int error = dbm_migrations_load(&ctx->set, ctx->cfg->migrations_dir, ctx->cfg->format);
    if (error < 0)
        return error;
    dbm_report_set(&ctx->report->format, dbm_format_name(ctx->set->format));
    dbm_report_set(&ctx->report->migrations_dir, ctx->cfg->migrations_dir);
    ctx->state = dbm_xcalloc(ctx->set->count, sizeof(*ctx->state));
    ctx->parsed = dbm_xcalloc(ctx->set->count, sizeof(*ctx->parsed));
    ctx->display = dbm_xcalloc(ctx->set->count, sizeof(*ctx->display));
    ctx->row = dbm_xcalloc(ctx->set->count, sizeof(*ctx->row));
    for (size_t i = 0; i < ctx->set->count; i++)
        ctx->display[i] = display_path(ctx->cfg, ctx->set->items[i].path);
    return 0;
}

/* What every command does with a connection it has just opened. */
static void connected(run_ctx *ctx)
{
    ctx->pg = dbm_conn_pg(ctx->conn);
    dbm_db_quiet_notices(ctx->pg, ctx->cfg->verbose);
    dbm_report_set(&ctx->report->database, dbm_conn_describe(ctx->conn));
}

/* What the connection needs of the configuration (borrowed from cfg). */
static dbm_connect_opts connect_opts(const dbm_config *cfg)
{
    dbm_connect_opts o = {
        .database_url = cfg->database_url,
        .sslmode = cfg->sslmode,
        .sslrootcert = cfg->sslrootcert,
        .aws_iam = cfg->auth == DBM_AUTH_AWS_IAM,
        .aws = {cfg->aws_region, cfg->role_to_assume, cfg->role_session_name, cfg->audience},
        .ssh_bastion = cfg->ssh_bastion,
        .ssh_private_key = cfg->ssh_private_key,
        .ssh_known_hosts = cfg->ssh_known_hosts,
        .wait_ms = cfg->wait_ms};
    return o;
}

static int connect_db(run_ctx *ctx)
{
    dbm_connect_opts opts = connect_opts(ctx->cfg);
    int error = dbm_connect(&ctx->conn, &opts);
    if (error == 0)
        connected(ctx);
    return error;
}

/* The connect job: opens ctx->conn (the main thread reads the files meanwhile). */
static int connect_job(void *arg)
{
    run_ctx *ctx = arg;
    dbm_connect_opts opts = connect_opts(ctx->cfg);

    return dbm_connect(&ctx->conn, &opts);
}

/*
 * Read the files while the connection opens: connecting is mostly waiting (a
 * network, a bastion, an STS call), reading a thousand files is mostly the
 * disk, and neither needs the other. A problem with the files is reported
 * first, as it would be if nothing ran in parallel.
 */
static int load_files_and_connect(run_ctx *ctx)
{
    dbm_job *job = NULL;
    int error, connect_error;

    dbm_job_start(&job, connect_job, ctx);
    error = load_files(ctx);
    if (error < 0) {
        dbm_saved_error files_error = {DBM_OK, NULL, NULL};

        dbm_error_save(&files_error);
        dbm_job_abandon(job);
        dbm_job_join(job);
        dbm_error_raise(&files_error);
        dbm_saved_error_free(&files_error);
        return error;
    }
    if ((connect_error = dbm_job_join(job)) < 0)
        return connect_error;
    connected(ctx);
    return 0;
}

/* Read the history once, without the lock (read-only commands). */
static int read_history(run_ctx *ctx)
{
    if (ctx->history)
        return 0;
    return dbm_history_load(&ctx->history, ctx->pg, ctx->cfg->history_schema);
}

/*
 * Take the run lock, then read the history (after the lock, so what another
 * run applied meanwhile is seen), creating the tables when they are missing.
 */
static int lock_and_prepare(run_ctx *ctx)
{
    const char *schema = ctx->cfg->history_schema;
    char *sql = dbm_history_read_sql(ctx->pg, schema);
    PGresult **res = NULL;
    int n = 0, error;

    /* A history read before the lock may be stale: read it again, in the lock's round trip. */
    dbm_history_free(ctx->history);
    ctx->history = NULL;
    error = dbm_db_lock_with(&res, &n, ctx->pg, schema, ctx->cfg->run_lock_wait_ms, sql);
    if (error == 0)
        error = dbm_history_from_results(&ctx->history, ctx->pg, res, n);
    dbm_db_results_free(res, n);
    free(sql);
    if (error < 0 || ctx->history->exists)
        return error;
    if ((error = dbm_history_ensure(ctx->pg, ctx->cfg->history_schema)) == 0)
        ctx->history->exists = true;
    return error;
}

/* The newest applied version among files and history, for out-of-order checks. */
static const char *newest_applied(const run_ctx *ctx)
{
    const char *newest = NULL;
    for (size_t i = 0; ctx->history && i < ctx->history->count; i++) {
        const dbm_history_row *r = &ctx->history->rows[i];
        if (strcmp(r->status, "applied") != 0 || dbm_starts_with(r->version, "R__"))
            continue;
        if (!newest || dbm_version_cmp(ctx->set->format, r->version, newest) > 0)
            newest = r->version;
    }
    return newest;
}

/*
 * Classify each file against the history and add findings: edited applied
 * migrations and out-of-order pending ones block; history rows without a file
 * are reported (blocking only for verify).
 */
static void classify(run_ctx *ctx, bool missing_blocks)
{
    const char *newest = newest_applied(ctx);

    for (size_t i = 0; i < ctx->set->count; i++) {
        const dbm_migration *m = &ctx->set->items[i];
        const dbm_history_row *row = dbm_history_find(ctx->history, m->version);

        if (!row) {
            ctx->state[i] = ST_PENDING;
            if (newest && !m->repeatable &&
                dbm_version_cmp(ctx->set->format, m->version, newest) < 0) {
                ctx->state[i] = ST_OUT_OF_ORDER;
                if (!ctx->cfg->out_of_order_allow) {
                    dbm_finding *f = dbm_report_add_finding(
                        ctx->report, DBM_SEV_ERROR, "out-of-order", ctx->display[i], 0, 0,
                        "'%s' is pending but older than the newest applied version %s",
                        ctx->display[i], newest);
                    dbm_report_set(&f->hint, "give it a version newer than the applied ones, "
                                             "or set out-of-order: allow");
                }
            }
        } else if (strcmp(row->status, "failed") == 0) {
            ctx->state[i] = ST_RESUME;
        } else if (strcmp(row->checksum, m->checksum) == 0) {
            ctx->state[i] = ST_APPLIED;
        } else if (m->repeatable) {
            ctx->state[i] = ST_PENDING;
        } else {
            dbm_finding *f;
            ctx->state[i] = ST_EDITED;
            f = dbm_report_add_finding(ctx->report, DBM_SEV_ERROR, "edited-applied",
                                       ctx->display[i], 1, 0,
                                       "'%s' was edited after it was applied (history %s, file %s)",
                                       ctx->display[i], row->checksum, m->checksum);
            dbm_report_set(&f->hint, "restore the applied version of the file and put the change "
                                     "in a new migration");
        }
    }
    for (size_t i = 0; ctx->history && i < ctx->history->count; i++) {
        const dbm_history_row *r = &ctx->history->rows[i];
        dbm_finding *f;
        if (dbm_migrations_find(ctx->set, r->version))
            continue;
        f = dbm_report_add_finding(ctx->report, missing_blocks ? DBM_SEV_ERROR : DBM_SEV_WARNING,
                                   "applied-file-missing", NULL, 0, 0,
                                   "version %s (%s) is recorded as %s but has no file in '%s'",
                                   r->version, r->name, r->status, ctx->cfg->migrations_dir);
        dbm_report_set(&f->hint, "restore the file; a deleted applied migration cannot be "
                                 "re-created on a new database");
    }
}

static bool is_pending(file_state s)
{
    return s == ST_PENDING || s == ST_RESUME || s == ST_OUT_OF_ORDER;
}

static bool any_pending(const run_ctx *ctx)
{
    for (size_t i = 0; i < ctx->set->count; i++)
        if (is_pending(ctx->state[i]))
            return true;
    return false;
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
    run_ctx *ctx;
    const size_t *files;
    dbm_rules_options opts;
} ahead_job;

static void rules_options(const run_ctx *ctx, dbm_rules_options *opts)
{
    memset(opts, 0, sizeof(*opts));
    opts->lock_timeout_configured = ctx->cfg->lock_timeout_ms > 0;
}

static void parse_ahead_one(void *arg, size_t k)
{
    const ahead_job *job = arg;
    size_t i = job->files[k];
    const dbm_migration *m = &job->ctx->set->items[i];
    struct parsed_ahead *a = &job->ctx->ahead[i];

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
static void parse_ahead(run_ctx *ctx, const size_t *files, size_t count)
{
    ahead_job job = {ctx, files, {0}};

    if (count < PARSE_AHEAD_MIN)
        return;
    if (!ctx->ahead)
        ctx->ahead = dbm_xcalloc(ctx->set->count, sizeof(*ctx->ahead));
    rules_options(ctx, &job.opts);
    dbm_thread_every_other(parse_ahead_one, &job, count, PARSE_AHEAD_MIN);
}

/* Take file i's split from ahead: DBM_EFAILED with its message when it failed. */
static int take_ahead_split(run_ctx *ctx, size_t i, int *line, int *col)
{
    struct parsed_ahead *a = ctx->ahead ? &ctx->ahead[i] : NULL;

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
static int take_ahead_hits(run_ctx *ctx, size_t i, dbm_rule_hits **hits)
{
    struct parsed_ahead *a = ctx->ahead ? &ctx->ahead[i] : NULL;

    *hits = NULL;
    if (!a || !a->ready)
        return 0;
    if (a->error.code < 0)
        return dbm_error_raise(&a->error);
    *hits = a->hits;
    a->hits = NULL;
    return 0;
}

static void ahead_free(run_ctx *ctx)
{
    for (size_t i = 0; ctx->ahead && i < ctx->set->count; i++) {
        dbm_stmt_list_free(ctx->ahead[i].stmts);
        dbm_rule_hits_free(ctx->ahead[i].hits);
        dbm_saved_error_free(&ctx->ahead[i].error);
    }
    free(ctx->ahead);
    ctx->ahead = NULL;
}

/*
 * Parse a file's up section; add blocking findings for syntax errors and for
 * statements that cannot run in a transaction in a file without the
 * directive. Formats whose tools decide on their own (Flyway, and
 * golang-migrate/Prisma for a single-statement file) get that decision here.
 */
static void parse_one(run_ctx *ctx, size_t i)
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
        dbm_report_add_finding(ctx->report, DBM_SEV_NOTICE, "empty-migration", ctx->display[i], 1,
                               0, "'%s' has no statements; it will be recorded as applied",
                               ctx->display[i]);
    if (!ctx->parsed[i]->has_no_tx || m->no_transaction)
        return;
    if (fmt == DBM_FORMAT_FLYWAY ||
        ((fmt == DBM_FORMAT_GOLANG_MIGRATE || fmt == DBM_FORMAT_PRISMA) &&
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
        dbm_report_set(&f->hint,
                       fmt == DBM_FORMAT_GOOSE ? "add '-- +goose NO TRANSACTION' to the file"
                       : fmt == DBM_FORMAT_DIESEL
                           ? "add 'run_in_transaction = false' to the migration's metadata.toml"
                       : fmt == DBM_FORMAT_DBMATE
                           ? "write '-- migrate:up transaction:false'"
                           : "add a line '-- migrate:no-transaction' to the file (it then runs "
                             "statement by statement, and a rerun resumes where it failed)");
        break;
    }
}

/* The safety rules over one parsed file; each hit becomes a warning finding. */
static int check_rules(run_ctx *ctx, size_t i)
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
        const dbm_rule_hit *h = &hits->items[k];
        dbm_finding *f =
            dbm_report_add_finding(ctx->report, DBM_SEV_WARNING, h->rule, ctx->display[i],
                                   m->up_line + h->line - 1, h->col, "%s", h->message);
        rule_ref *ref;
        dbm_report_set(&f->hint, h->hint);
        dbm_array_grow((void **)&ctx->refs, &ctx->caprefs, ctx->nrefs + 1, sizeof(*ctx->refs));
        ref = &ctx->refs[ctx->nrefs++];
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
static int parse_and_check(run_ctx *ctx, size_t i)
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
static int parse_files(run_ctx *ctx, const size_t *files, size_t n)
{
    int error = 0;

    parse_ahead(ctx, files, n);
    for (size_t k = 0; k < n && error == 0; k++)
        error = parse_and_check(ctx, files[k]);
    return error;
}

static int parse_pending(run_ctx *ctx)
{
    size_t *files = dbm_xcalloc(ctx->set->count + 1, sizeof(*files)), n = 0;
    int error;

    for (size_t i = 0; i < ctx->set->count; i++)
        if (is_pending(ctx->state[i]) && !ctx->parsed[i])
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
static int parse_changed(run_ctx *ctx)
{
    path_index *byname = dbm_xcalloc(ctx->set->count + 1, sizeof(*byname));
    size_t *files = dbm_xcalloc(ctx->set->count + 1, sizeof(*files)), n = 0;
    bool *listed = dbm_xcalloc(ctx->set->count + 1, sizeof(*listed));
    int error;

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
    free(listed);
    return error;
}

/*
 * Run the safety rules over every pending file that parsed, adding each hit as
 * a warning at the statement's line, and remembering which statement it is
 * about for confirm_findings.
 */
static int run_gitcheck(run_ctx *ctx)
{
    const dbm_config *cfg = ctx->cfg;
    dbm_gitcheck_opts opts = {.migrations_dir = cfg->migrations_dir,
                              .deployed_ref = cfg->deployed_ref,
                              .expect_deployed = cfg->expect_deployed,
                              .expect_blocks = cfg->command == DBM_CMD_APPLY,
                              .out_of_order_allow = cfg->out_of_order_allow,
                              .head_sha = cfg->gh.sha,
                              .event_name = cfg->gh.event_name,
                              .event_path = cfg->gh.event_path,
                              .server_url = cfg->gh.server_url,
                              .repository = cfg->gh.repository};

    return dbm_gitcheck(ctx->report, &opts, ctx->set, ctx->history);
}

/*
 * The steps apply and dry-run share before they act: files, connection,
 * (for apply the run lock and the history tables), history, classification,
 * parsing, rules, git. A dry-run reads the history when it exists and creates
 * nothing.
 */
static int prepare_run(run_ctx *ctx, bool writes)
{
    int error;

    if ((error = load_files_and_connect(ctx)) < 0 ||
        (writes && (error = lock_and_prepare(ctx)) < 0) || (error = read_history(ctx)) < 0)
        return error;
    classify(ctx, false);
    if ((error = parse_pending(ctx)) < 0)
        return error;
    return run_gitcheck(ctx);
}

/* Rows of the report for every file and its state. */
static void report_rows(run_ctx *ctx)
{
    /* Only rows the git checks added before (edited or deleted files) need a lookup. */
    bool lookup = ctx->report->nmigs > 0;

    for (size_t i = 0; i < ctx->set->count; i++) {
        const dbm_migration *m = &ctx->set->items[i];
        const dbm_history_row *row = dbm_history_find(ctx->history, m->version);
        dbm_mig_status st = ctx->state[i] == ST_APPLIED  ? DBM_MIG_APPLIED
                            : ctx->state[i] == ST_EDITED ? DBM_MIG_EDITED
                                                         : DBM_MIG_PENDING;
        dbm_mig_result *r =
            lookup
                ? dbm_report_migration(ctx->report, m->version, m->name, ctx->display[i], st)
                : dbm_report_add_migration(ctx->report, m->version, m->name, ctx->display[i], st);
        r->transactional = !m->no_transaction;
        if (ctx->parsed[i])
            r->statement_count = (int)ctx->parsed[i]->count;
        if (row && ctx->state[i] == ST_APPLIED)
            r->duration_ms = (double)row->duration_ms;
        if (ctx->state[i] == ST_RESUME)
            r->note = dbm_xasprintf("failed before at statement %d: %s", row->failed_statement,
                                    row->error ? row->error : "");
        if (ctx->state[i] == ST_OUT_OF_ORDER)
            r->note = dbm_xstrdup("older than the newest applied version");
        if (ctx->state[i] != ST_APPLIED && ctx->state[i] != ST_EDITED)
            ctx->report->pending_count++;
    }
    for (size_t i = 0; ctx->history && i < ctx->history->count; i++) {
        const dbm_history_row *h = &ctx->history->rows[i];
        if (!dbm_migrations_find(ctx->set, h->version))
            dbm_report_migration(ctx->report, h->version, h->name, NULL, DBM_MIG_MISSING);
    }
}

static void ctx_free(run_ctx *ctx)
{
    /* The run lock is a session lock: closing the connection below releases it. */
    for (size_t i = 0; ctx->set && i < ctx->set->count; i++) {
        dbm_stmt_list_free(ctx->parsed[i]);
        free(ctx->display[i]);
    }
    free(ctx->parsed);
    ahead_free(ctx);
    free(ctx->display);
    free(ctx->row);
    free(ctx->refs);
    free(ctx->state);
    dbm_history_free(ctx->history);
    dbm_conn_free(ctx->conn);
    dbm_migrations_free(ctx->set);
}

/* Mark the report blocked; the message counts the blocking findings. */
static int blocked(dbm_report *r)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nfindings; i++)
        n += r->findings[i].severity == DBM_SEV_ERROR;
    dbm_report_set(&r->status, "blocked");
    dbm_error_set(DBM_EBLOCKED, "%s found %zu blocking problem%s; nothing was applied", r->command,
                  n, n == 1 ? "" : "s");
    dbm_error_hint("see the errors above: each names the file and what to change");
    return DBM_EBLOCKED;
}

static bool on_pull_request(const dbm_config *cfg)
{
    return cfg->gh.event_name && dbm_starts_with(cfg->gh.event_name, "pull_request");
}

/* --- plan, status, verify --- */

static int cmd_inspect(run_ctx *ctx, dbm_command cmd)
{
    const dbm_config *cfg = ctx->cfg;
    bool offline = cfg->offline || (!cfg->database_url && cmd == DBM_CMD_PLAN);
    int error;

    if (offline && cmd != DBM_CMD_PLAN) {
        if ((error = load_files(ctx)) < 0)
            return error;
        return dbm_error_set(DBM_ECONFIG, "'%s' needs a database", dbm_command_name(cmd));
    }
    if ((error = offline ? load_files(ctx) : load_files_and_connect(ctx)) < 0 ||
        (!offline && (error = read_history(ctx)) < 0))
        return error;
    classify(ctx, cmd == DBM_CMD_VERIFY);
    if (!offline && cmd != DBM_CMD_VERIFY && ctx->history->count == 0 &&
        (error = dbm_adopt_scan(ctx->report, ctx->pg, ctx->set, DBM_SEV_NOTICE)) < 0)
        return error;
    if ((error = run_gitcheck(ctx)) < 0)
        return error;
    if (cmd == DBM_CMD_PLAN) {
        error = offline && (ctx->report->git.base || ctx->report->git.deployed)
                    ? parse_changed(ctx)
                    : parse_pending(ctx);
        if (error < 0)
            return error;
    }
    report_rows(ctx);
    if (cmd == DBM_CMD_VERIFY) {
        for (size_t i = 0; ctx->history && i < ctx->history->count; i++)
            if (strcmp(ctx->history->rows[i].status, "failed") == 0) {
                const dbm_migration *m =
                    dbm_migrations_find(ctx->set, ctx->history->rows[i].version);
                dbm_finding *f = dbm_report_add_finding(
                    ctx->report, DBM_SEV_ERROR, "failed-migration", m ? m->path : NULL, 0, 0,
                    "version %s failed at statement %d and is not finished",
                    ctx->history->rows[i].version, ctx->history->rows[i].failed_statement);
                dbm_report_set(&f->hint, "fix the cause and rerun apply, or clear it with repair");
            }
    }
    if (dbm_report_has_blocking(ctx->report))
        return blocked(ctx->report);
    dbm_report_set(&ctx->report->status, ctx->report->pending_count ? "pending" : "up-to-date");
    return 0;
}

/* --- apply --- */

static void log_result(const dbm_mig_result *r)
{
    char *name = dbm_printable(r->file);
    if (r->status == DBM_MIG_APPLIED)
        dbm_log("applied  %s (%d statement%s, %.0f ms)%s%s", name, r->statement_count,
                r->statement_count == 1 ? "" : "s", r->duration_ms, r->note ? "; " : "",
                r->note ? r->note : "");
    else
        dbm_log("FAILED   %s after %.0f ms", name, r->duration_ms);
    free(name);
}

/*
 * The row of a file that apply or dry-run does not run: applied before, or
 * skipped because an earlier one failed.
 */
static void idle_row(run_ctx *ctx, size_t i, bool failed)
{
    const dbm_migration *m = &ctx->set->items[i];
    const dbm_history_row *row = dbm_history_find(ctx->history, m->version);
    dbm_mig_result *r = dbm_report_add_migration(ctx->report, m->version, m->name, ctx->display[i],
                                                 ctx->state[i] == ST_APPLIED ? DBM_MIG_APPLIED
                                                 : failed                    ? DBM_MIG_SKIPPED
                                                                             : DBM_MIG_PENDING);
    r->transactional = !m->no_transaction;
    if (row && ctx->state[i] == ST_APPLIED) {
        r->duration_ms = (double)row->duration_ms;
        r->note = dbm_xasprintf("applied before, %s", row->applied_at);
    }
    if (failed) {
        r->note = dbm_xstrdup("not run: an earlier migration failed");
        ctx->report->pending_count++;
    }
}

/* What an apply has done so far, shared with the batch hooks. */
typedef struct {
    run_ctx *ctx;
    long long run_id;
    const char *git_sha;
    size_t *index; /* batch item -> file */
    size_t next;   /* the file after the last one with an outcome */
    int applied;
    bool failed;
} apply_state;

static void apply_opts(const apply_state *st, size_t i, dbm_apply_opts *o)
{
    const run_ctx *ctx = st->ctx;
    const dbm_config *cfg = ctx->cfg;
    const dbm_migration *m = &ctx->set->items[i];
    const dbm_history_row *row = dbm_history_find(ctx->history, m->version);

    memset(o, 0, sizeof(*o));
    o->schema = cfg->history_schema;
    o->run_id = st->run_id;
    o->git_sha = st->git_sha;
    o->lock_timeout_ms = cfg->lock_timeout_ms;
    o->statement_timeout_ms = cfg->statement_timeout_ms;
    o->lock_retries = cfg->lock_retries;
    o->replace_existing = row != NULL;
    o->resume_from = ctx->state[i] == ST_RESUME && m->no_transaction ? row->failed_statement : 0;
    o->display_path = ctx->display[i];
}

static dbm_mig_result *apply_row(apply_state *st, size_t i)
{
    const dbm_migration *m = &st->ctx->set->items[i];
    return dbm_report_add_migration(st->ctx->report, m->version, m->name, st->ctx->display[i],
                                    DBM_MIG_PENDING);
}

/* File i's outcome is in its row: log it and count it. */
static void apply_finish(apply_state *st, size_t i, const dbm_mig_result *r, int error)
{
    log_result(r);
    st->next = i + 1;
    if (error == DBM_EFAILED) {
        /* Still not applied: it counts as pending for the outputs. */
        st->failed = true;
        st->ctx->report->pending_count++;
        dbm_error_set(DBM_EFAILED, "unable to apply '%s': %s", st->ctx->display[i],
                      r->error ? r->error->message : "failed");
        if (r->error && r->error->hint)
            dbm_error_hint("%s", r->error->hint);
    } else if (error == 0) {
        st->applied++;
    }
}

static dbm_mig_result *batch_row(void *arg, size_t k)
{
    apply_state *st = arg;
    return apply_row(st, st->index[k]);
}

static void batch_done(void *arg, size_t k, dbm_mig_result *r, int error)
{
    apply_state *st = arg;
    apply_finish(st, st->index[k], r, error);
}

/*
 * Apply the pending files from i on that can share batches, up to the first
 * that cannot; on return st->next is the file after the last one that ran.
 */
static void apply_batch(apply_state *st, size_t i, dbm_batch_item *items)
{
    run_ctx *ctx = st->ctx;
    dbm_batch_hooks hooks = {batch_row, batch_done, st};
    size_t n = 0;

    while (i + n < ctx->set->count && is_pending(ctx->state[i + n]) &&
           dbm_db_batchable(ctx->pg, &ctx->set->items[i + n], ctx->parsed[i + n])) {
        items[n].m = &ctx->set->items[i + n];
        items[n].stmts = ctx->parsed[i + n];
        apply_opts(st, i + n, &items[n].opts);
        st->index[n] = i + n;
        n++;
    }
    st->next = i;
    dbm_db_apply_batch(ctx->pg, items, n, &hooks);
}

static int cmd_apply(run_ctx *ctx)
{
    const dbm_config *cfg = ctx->cfg;
    dbm_report *rep = ctx->report;
    dbm_run_info info;
    long long run_id = 0;
    int error;
    apply_state st;
    dbm_batch_item *items = NULL;

    memset(&st, 0, sizeof(st));
    if (on_pull_request(cfg) && !cfg->allow_apply_on_pull_request) {
        dbm_error_set(DBM_ECONFIG, "apply refuses to run on '%s' events", cfg->gh.event_name);
        dbm_error_hint("use command: plan or dry-run on pull requests, or set "
                       "allow-apply-on-pull-request: true if this database is disposable");
        return DBM_ECONFIG;
    }
    if ((error = prepare_run(ctx, true)) < 0)
        goto done;
    /* Another tool migrated this database: running everything again would fail or worse. */
    if (ctx->history->count == 0 &&
        (error = dbm_adopt_scan(rep, ctx->pg, ctx->set, DBM_SEV_ERROR)) < 0)
        goto done;

    memset(&info, 0, sizeof(info));
    info.command = "apply";
    info.git_sha = rep->git.head ? rep->git.head : cfg->gh.sha;
    info.deployed_sha = rep->git.deployed ? rep->git.deployed : ctx->history->last_apply_sha;
    info.actor = cfg->gh.actor ? cfg->gh.actor : getenv("USER");
    info.event = cfg->gh.event_name;
    info.run_url = cfg->gh.run_url;
    /* A run with nothing to do is recorded in one statement. */
    if (!dbm_report_has_blocking(rep) && !any_pending(ctx))
        info.outcome = "up-to-date";
    if ((error = dbm_history_run_start(&run_id, ctx->pg, cfg->history_schema, &info)) < 0)
        goto done;

    if (dbm_report_has_blocking(rep)) {
        report_rows(ctx);
        dbm_history_run_finish(ctx->pg, cfg->history_schema, run_id, "failed");
        error = blocked(rep);
        goto done;
    }

    st.ctx = ctx;
    st.run_id = run_id;
    st.git_sha = info.git_sha;
    st.index = dbm_xcalloc(ctx->set->count + 1, sizeof(*st.index));
    items = dbm_xcalloc(ctx->set->count + 1, sizeof(*items));
    for (size_t i = 0; i < ctx->set->count; i++) {
        const dbm_migration *m = &ctx->set->items[i];
        dbm_mig_result *r;
        dbm_apply_opts o;

        if (!is_pending(ctx->state[i]) || st.failed) {
            idle_row(ctx, i, st.failed);
            continue;
        }
        /* With --verbose each migration's notices are one collapsible group: no batches. */
        if (!cfg->verbose && dbm_db_batchable(ctx->pg, m, ctx->parsed[i])) {
            apply_batch(&st, i, items);
            i = (st.next > i ? st.next : i + 1) - 1;
            continue;
        }
        apply_opts(&st, i, &o);
        r = apply_row(&st, i);
        if (cfg->verbose)
            dbm_log_group(ctx->display[i]);
        error = dbm_db_apply(r, ctx->pg, m, ctx->parsed[i], &o);
        if (cfg->verbose)
            dbm_log_endgroup();
        apply_finish(&st, i, r, error);
        if (error < 0 && error != DBM_EFAILED)
            goto done;
    }
    rep->applied_count = st.applied;
    dbm_report_set(&rep->status, st.failed ? "failed" : st.applied ? "applied" : "up-to-date");
    if (!info.outcome)
        dbm_history_run_finish(ctx->pg, cfg->history_schema, run_id, rep->status);
    if (!st.applied && !st.failed)
        dbm_log("up to date: nothing to apply");
    error = st.failed ? DBM_EFAILED : 0;
done:
    if (error < 0 && !rep->status)
        dbm_report_set(&rep->status, "failed");
    free(st.index);
    free(items);
    return error;
}

/* --- dry-run --- */

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
static void confirm_findings(run_ctx *ctx, const bool *ran)
{
    static const char *const rewrites[] = {"alter-column-type", "volatile-default", "cluster",
                                           "vacuum-full"};
    static const char *const exclusive[] = {"set-not-null", "unique-without-using-index",
                                            "missing-lock-timeout"};

    for (size_t i = 0; i < ctx->nrefs; i++) {
        const rule_ref *ref = &ctx->refs[i];
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

static void log_dry_run(const dbm_mig_result *r)
{
    char *name = dbm_printable(r->file);
    size_t nlocks = 0, nrewrites = 0;

    for (size_t i = 0; i < r->nstmts; i++) {
        nlocks += r->stmts[i].nlocks;
        nrewrites += r->stmts[i].nrewrites;
    }
    if (r->status == DBM_MIG_FAILED)
        dbm_log("FAILED   %s after %.0f ms", name, r->duration_ms);
    else if (r->note)
        dbm_log("not run  %s: %s", name, r->note);
    else
        dbm_log("dry-run  %s (%d statement%s, %.0f ms, %zu lock%s, %zu rewrite%s; rolled back)",
                name, r->statement_count, r->statement_count == 1 ? "" : "s", r->duration_ms,
                nlocks, nlocks == 1 ? "" : "s", nrewrites, nrewrites == 1 ? "" : "s");
    free(name);
}

/*
 * Run the pending migrations in one transaction, statement by statement,
 * measuring each, then roll back. No run lock and no history writes: nothing
 * of it survives. A non-transactional migration is reported as not executed.
 */
static int cmd_dry_run(run_ctx *ctx)
{
    const dbm_config *cfg = ctx->cfg;
    dbm_report *rep = ctx->report;
    dbm_dryrun *dr = NULL;
    bool *ran = NULL;
    bool failed = false;
    int error;

    if ((error = prepare_run(ctx, false)) < 0)
        goto done;
    if (dbm_report_has_blocking(rep)) {
        report_rows(ctx);
        error = blocked(rep);
        goto done;
    }
    ran = dbm_xcalloc(ctx->set->count, sizeof(*ran));
    if ((error = dbm_dryrun_begin(&dr, ctx->pg, cfg->lock_timeout_ms, cfg->statement_timeout_ms)) <
        0)
        goto done;
    for (size_t i = 0; i < ctx->set->count; i++) {
        const dbm_migration *m = &ctx->set->items[i];
        dbm_mig_result *r;

        if (!is_pending(ctx->state[i]) || failed) {
            idle_row(ctx, i, failed);
            continue;
        }
        r = dbm_report_add_migration(rep, m->version, m->name, ctx->display[i], DBM_MIG_PENDING);
        ctx->row[i] = rep->nmigs - 1;
        rep->pending_count++;
        error = dbm_dryrun_migration(dr, r, m, ctx->parsed[i], ctx->display[i]);
        log_dry_run(r);
        if (error == DBM_EFAILED) {
            failed = true;
            dbm_error_set(DBM_EFAILED, "unable to run '%s' in the dry-run: %s", ctx->display[i],
                          r->error ? r->error->message : "failed");
            if (r->error && r->error->hint)
                dbm_error_hint("%s", r->error->hint);
            continue;
        }
        if (error < 0)
            goto done;
        ran[i] = !r->note;
    }
    for (size_t i = 0; ctx->history && i < ctx->history->count; i++) {
        const dbm_history_row *h = &ctx->history->rows[i];
        if (!dbm_migrations_find(ctx->set, h->version))
            dbm_report_add_migration(rep, h->version, h->name, NULL, DBM_MIG_MISSING);
    }
    confirm_findings(ctx, ran);
    dbm_report_set(&rep->status, failed ? "failed" : rep->pending_count ? "pending" : "up-to-date");
    if (!rep->pending_count)
        dbm_log("up to date: nothing to dry-run");
    else if (!failed)
        dbm_log("dry-run: everything was rolled back");
    error = failed ? DBM_EFAILED : 0;
done:
    dbm_dryrun_free(dr);
    free(ran);
    return error;
}

/* --- baseline, repair, rollback --- */

static int start_run(run_ctx *ctx, const char *command, long long *run_id)
{
    dbm_run_info info;
    memset(&info, 0, sizeof(info));
    info.command = command;
    info.git_sha = ctx->cfg->gh.sha;
    info.actor = ctx->cfg->gh.actor ? ctx->cfg->gh.actor : getenv("USER");
    info.event = ctx->cfg->gh.event_name;
    info.run_url = ctx->cfg->gh.run_url;
    return dbm_history_run_start(run_id, ctx->pg, ctx->cfg->history_schema, &info);
}

static const dbm_migration *find_target(run_ctx *ctx)
{
    const dbm_migration *t = dbm_migrations_find(ctx->set, ctx->cfg->target_version);
    if (!t && !dbm_history_find(ctx->history, ctx->cfg->target_version)) {
        dbm_error_set(DBM_ECONFIG, "target-version %s matches no migration in '%s'",
                      ctx->cfg->target_version, ctx->cfg->migrations_dir);
        dbm_error_hint("use a version from 'db-migrate status'");
    }
    return t;
}

/*
 * baseline --adopt-from TOOL: import the other tool's history into an empty
 * one. A dirty or failed entry blocks the whole import.
 */
static int cmd_adopt(run_ctx *ctx)
{
    dbm_adopt_plan *plan = NULL;
    dbm_format tool;
    long long run_id;
    int error;

    if ((error = dbm_format_parse(&tool, ctx->cfg->adopt_from)) < 0)
        return error;
    if (ctx->history->count > 0) {
        error = dbm_error_set(DBM_ECONFIG,
                              "db-migrate's history in schema '%s' already holds %zu version%s; "
                              "adopt-from imports into an empty history only",
                              ctx->cfg->history_schema, ctx->history->count,
                              ctx->history->count == 1 ? "" : "s");
        dbm_error_hint("record further versions with baseline --target-version");
        return error;
    }
    if ((error = dbm_adopt_plan_build(&plan, ctx->report, ctx->pg, ctx->set, ctx->display, tool,
                                      ctx->cfg->target_version)) < 0)
        goto done;
    if (plan->nblocked) {
        error = blocked(ctx->report);
        goto done;
    }
    if ((error = start_run(ctx, "baseline", &run_id)) < 0)
        goto done;
    error = dbm_adopt_import(ctx->report, ctx->pg, ctx->cfg->history_schema, ctx->set, ctx->display,
                             plan, run_id, ctx->cfg->gh.sha);
    dbm_history_run_finish(ctx->pg, ctx->cfg->history_schema, run_id,
                           error < 0       ? "failed"
                           : plan->nimport ? "applied"
                                           : "up-to-date");
    if (error == 0)
        dbm_log("adopted %zu migration%s from %s (%zu listed there); nothing was run",
                plan->nimport, plan->nimport == 1 ? "" : "s", plan->table, plan->listed);
    dbm_report_set(&ctx->report->status, error < 0       ? "failed"
                                         : plan->nimport ? "applied"
                                                         : "up-to-date");
done:
    dbm_adopt_plan_free(plan);
    return error;
}

static int cmd_baseline(run_ctx *ctx)
{
    long long run_id;
    int error;
    int n = 0;

    if ((error = load_files(ctx)) < 0 || (error = connect_db(ctx)) < 0 ||
        (error = lock_and_prepare(ctx)) < 0 || (error = read_history(ctx)) < 0)
        return error;
    if (ctx->cfg->adopt_from)
        return cmd_adopt(ctx);
    if (!find_target(ctx) && !dbm_history_find(ctx->history, ctx->cfg->target_version))
        return DBM_ECONFIG;
    if ((error = start_run(ctx, "baseline", &run_id)) < 0)
        return error;
    for (size_t i = 0; i < ctx->set->count; i++) {
        const dbm_migration *m = &ctx->set->items[i];
        dbm_mig_result *r;
        if (m->repeatable ||
            dbm_version_cmp(ctx->set->format, m->version, ctx->cfg->target_version) > 0)
            continue;
        if (dbm_history_find(ctx->history, m->version))
            continue;
        if ((error = dbm_history_baseline(ctx->pg, ctx->cfg->history_schema, m, run_id,
                                          ctx->cfg->gh.sha, NULL)) < 0)
            return error;
        r = dbm_report_add_migration(ctx->report, m->version, m->name, ctx->display[i],
                                     DBM_MIG_APPLIED);
        r->note = dbm_xstrdup("baselined: recorded without running");
        dbm_log("baselined %s", ctx->display[i]);
        n++;
    }
    ctx->report->applied_count = n;
    dbm_history_run_finish(ctx->pg, ctx->cfg->history_schema, run_id, n ? "applied" : "up-to-date");
    dbm_report_set(&ctx->report->status, n ? "applied" : "up-to-date");
    return 0;
}

static int cmd_repair(run_ctx *ctx)
{
    const dbm_history_row *row;
    long long run_id;
    int error;

    if ((error = load_files(ctx)) < 0 || (error = connect_db(ctx)) < 0 ||
        (error = lock_and_prepare(ctx)) < 0 || (error = read_history(ctx)) < 0)
        return error;
    row = dbm_history_find(ctx->history, ctx->cfg->target_version);
    if (!row || strcmp(row->status, "failed") != 0) {
        dbm_error_set(DBM_ECONFIG, "version %s has no failed record to repair",
                      ctx->cfg->target_version);
        dbm_error_hint(row ? "it is applied; repair only clears failed non-transactional runs"
                           : "run 'db-migrate status' to see the failed version");
        return DBM_ECONFIG;
    }
    if ((error = start_run(ctx, "repair", &run_id)) < 0 ||
        (error = dbm_history_delete(ctx->pg, ctx->cfg->history_schema, row->version)) < 0)
        return error;
    dbm_history_run_finish(ctx->pg, ctx->cfg->history_schema, run_id, "applied");
    dbm_log("repaired %s: its failed record is cleared; the next apply runs it from the start",
            row->version);
    dbm_report_set(&ctx->report->status, "applied");
    return 0;
}

static int cmd_rollback(run_ctx *ctx)
{
    const dbm_config *cfg = ctx->cfg;
    size_t *todo = NULL;
    size_t ntodo = 0;
    long long run_id;
    int error;

    if ((error = load_files(ctx)) < 0 || (error = connect_db(ctx)) < 0 ||
        (error = lock_and_prepare(ctx)) < 0 || (error = read_history(ctx)) < 0)
        return error;
    todo = dbm_xcalloc(ctx->set->count + 1, sizeof(*todo));
    /* Newest first; every one must have a down section before anything runs. */
    for (size_t k = ctx->set->count; k-- > 0;) {
        const dbm_migration *m = &ctx->set->items[k];
        const dbm_history_row *row = dbm_history_find(ctx->history, m->version);
        if (m->repeatable || !row ||
            dbm_version_cmp(ctx->set->format, m->version, cfg->target_version) <= 0)
            continue;
        if (!m->down) {
            error = dbm_error_set(DBM_EBLOCKED, "'%s' has no down section; nothing was rolled back",
                                  ctx->display[k]);
            dbm_error_hint("add a '-- migrate:down' section, or roll back to a newer version");
            goto done;
        }
        todo[ntodo++] = k;
    }
    for (size_t i = 0; ctx->history && i < ctx->history->count; i++) {
        const dbm_history_row *row = &ctx->history->rows[i];
        if (!dbm_migrations_find(ctx->set, row->version) && !dbm_starts_with(row->version, "R__") &&
            dbm_version_cmp(ctx->set->format, row->version, cfg->target_version) > 0) {
            error = dbm_error_set(DBM_EBLOCKED,
                                  "version %s is applied but has no file; nothing was rolled back",
                                  row->version);
            goto done;
        }
    }
    if ((error = start_run(ctx, "rollback", &run_id)) < 0)
        goto done;
    for (size_t i = 0; i < ntodo; i++) {
        const dbm_migration *m = &ctx->set->items[todo[i]];
        dbm_stmt_list *down = NULL;
        int line = 0, col = 0;
        dbm_mig_result *r = dbm_report_add_migration(ctx->report, m->version, m->name,
                                                     ctx->display[todo[i]], DBM_MIG_PENDING);
        dbm_apply_opts o;

        if (dbm_sql_split(&down, &line, &col, m->down, m->down_len) < 0) {
            dbm_error_info *e = dbm_report_set_error(r, dbm_error_message(), NULL);
            dbm_report_set(&e->file, ctx->display[todo[i]]);
            e->line = m->down_line + line - 1;
            e->column = col;
            r->status = DBM_MIG_FAILED;
            error = DBM_EFAILED;
            break;
        }
        memset(&o, 0, sizeof(o));
        o.schema = cfg->history_schema;
        o.run_id = run_id;
        o.lock_timeout_ms = cfg->lock_timeout_ms;
        o.statement_timeout_ms = cfg->statement_timeout_ms;
        o.lock_retries = cfg->lock_retries;
        error = dbm_db_rollback_one(r, ctx->pg, m, down, &o);
        dbm_stmt_list_free(down);
        if (error == 0) {
            r->note = dbm_xstrdup("rolled back");
            dbm_log("rolled back %s", ctx->display[todo[i]]);
            ctx->report->applied_count++;
        } else {
            dbm_error_set(DBM_EFAILED, "unable to roll back '%s': %s", ctx->display[todo[i]],
                          r->error ? r->error->message : "failed");
            break;
        }
    }
    dbm_history_run_finish(ctx->pg, cfg->history_schema, run_id, error ? "failed" : "applied");
    dbm_report_set(&ctx->report->status, error ? "failed" : ntodo ? "applied" : "up-to-date");
done:
    free(todo);
    return error;
}

static int cmd_new(const dbm_config *cfg)
{
    char *path = NULL;
    int error = dbm_migration_new_file(&path, cfg->migrations_dir, cfg->new_name, time(NULL));
    if (error == 0)
        dbm_log("created %s", path);
    free(path);
    return error;
}

/*
 * Post the summary as the pull request's sticky comment. The run's outcome
 * does not depend on it: a failure to comment is a warning, and the run's own
 * error message is kept for main to print.
 */
static void comment_on_pr(const dbm_config *cfg, dbm_report *report, int run_error)
{
    char *msg = run_error < 0 ? dbm_xstrdup(dbm_error_message()) : NULL;
    char *hint = run_error < 0 ? dbm_xstrdup(dbm_error_hint_text()) : NULL;
    char *md;
    dbm_emit_opts opts;
    dbm_github_comment_opts gh = {.command = dbm_command_name(cfg->command),
                                  .history_schema = cfg->history_schema,
                                  .migrations_dir = cfg->shown_dir,
                                  .token = cfg->github_token,
                                  .api_url = cfg->gh.api_url,
                                  .repository = cfg->gh.repository,
                                  .event_name = cfg->gh.event_name,
                                  .event_path = cfg->gh.event_path};

    if (run_error < 0 && msg && *msg && !report->error)
        dbm_report_set(&report->error, msg);
    if (run_error < 0 && !report->status)
        dbm_report_set(&report->status, "failed");
    memset(&opts, 0, sizeof(opts));
    opts.server_url = cfg->gh.server_url;
    opts.repository = cfg->gh.repository;
    md = dbm_report_markdown(report, &opts);
    if (dbm_github_comment_post(&gh, md) < 0)
        dbm_warn("%s", dbm_error_message());
    free(md);
    if (run_error < 0) {
        dbm_error_set(run_error, "%s", msg ? msg : "");
        if (hint)
            dbm_error_hint("%s", hint);
    } else {
        dbm_error_clear();
    }
    free(msg);
    free(hint);
}

int dbm_run_command(const dbm_config *cfg, dbm_report *report)
{
    run_ctx ctx;
    int error;

    memset(&ctx, 0, sizeof(ctx));
    ctx.cfg = cfg;
    ctx.report = report;
    switch (cfg->command) {
    case DBM_CMD_PLAN:
    case DBM_CMD_STATUS:
    case DBM_CMD_VERIFY:
        error = cmd_inspect(&ctx, cfg->command);
        break;
    case DBM_CMD_APPLY:
        error = cmd_apply(&ctx);
        break;
    case DBM_CMD_DRY_RUN:
        error = cmd_dry_run(&ctx);
        break;
    case DBM_CMD_BASELINE:
        error = cmd_baseline(&ctx);
        break;
    case DBM_CMD_REPAIR:
        error = cmd_repair(&ctx);
        break;
    case DBM_CMD_ROLLBACK:
        error = cmd_rollback(&ctx);
        break;
    case DBM_CMD_NEW:
        error = cmd_new(cfg);
        break;
    default:
        error = dbm_error_set(DBM_ECONFIG, "'%s' is not available in this build",
                              dbm_command_name(cfg->command));
        break;
    }
    ctx_free(&ctx);
    if (cfg->comment_on_pr && (cfg->command == DBM_CMD_PLAN || cfg->command == DBM_CMD_DRY_RUN))
        comment_on_pr(cfg, report, error);
    return error;
}
