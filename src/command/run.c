/*
 * run.c - what the commands share: files, connection, run lock, history, each
 * file's state, the report's rows.
 */
#include "command/commands.h"
#include "command/run.h"
#include "command/check.h"
#include "command/comment.h"
#include "command/remote.h"
#include "common/error.h"
#include "common/thread.h"
#include "common/util.h"
#include "git/check.h"
#include "migration/digest.h"
#include "postgres/adopt.h"
#include "postgres/db.h"
#include "postgres/history.h"
#include "sql/rules.h"

#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- reading and connecting --- */

static char *display_path(const dbm_config *cfg, const char *rel)
{
    const char *dir = cfg->shown_dir;

    if (!*dir)
        return dbm_xstrdup(rel);
    return dbm_xasprintf("%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", rel);
}

/* graphile-migrate's placeholders from db-migrate.yml (else its .gmrc); the database's come later.
 */
static void file_placeholders(dbm_run_ctx *ctx)
{
    size_t n = 0;
    const dbm_config_placeholder *cp = dbm_config_file_placeholders(ctx->cfg->file, &n);
    dbm_placeholder *ph = dbm_xcalloc(n ? n : 1, sizeof(*ph));

    for (size_t i = 0; i < n; i++)
        ph[i] = (dbm_placeholder){cp[i].name, cp[i].value};
    dbm_migrations_placeholders(ctx->set, ph, n, NULL, NULL);
    free(ph);
}

void dbm_run_placeholders_offline(dbm_run_ctx *ctx)
{
    const struct passwd *pw = getpwuid(geteuid());
    const char *user = getenv("PGUSER") ? getenv("PGUSER") : pw ? pw->pw_name : "postgres";
    const char *db = getenv("PGDATABASE") ? getenv("PGDATABASE") : user;

    dbm_migrations_placeholders(ctx->set, NULL, 0, db, user);
}

int dbm_run_load_files(dbm_run_ctx *ctx)
{
    int error = dbm_migrations_load(&ctx->set, ctx->cfg->migrations_dir, ctx->cfg->format);
    if (error < 0)
        return error;
    file_placeholders(ctx);
    dbm_report_set(&ctx->report->format, dbm_format_name(ctx->set->format));
    dbm_report_set(&ctx->report->migrations_dir, ctx->cfg->migrations_dir);
    ctx->state = dbm_xcalloc(ctx->set->count, sizeof(*ctx->state));
    ctx->parsed = dbm_xcalloc(ctx->set->count, sizeof(*ctx->parsed));
    ctx->display = dbm_xcalloc(ctx->set->count, sizeof(*ctx->display));
    ctx->row = dbm_xcalloc(ctx->set->count, sizeof(*ctx->row));
    for (size_t i = 0; i < ctx->set->count; i++)
        ctx->display[i] = display_path(ctx->cfg, ctx->set->items[i].path);
    free(ctx->report->migrations_digest);
    ctx->report->migrations_digest = dbm_migrations_digest(ctx->set);
    /* A remote run on a stale image refuses before it connects: nothing runs. */
    if (ctx->cfg->expect_migrations &&
        (error = dbm_migrations_expect(ctx->set, ctx->cfg->expect_migrations)) < 0) {
        if (error == DBM_EBLOCKED) {
            dbm_finding *f = dbm_report_add_finding(ctx->report, DBM_SEV_ERROR, "expect-migrations",
                                                    NULL, 0, 0, "%s", dbm_error_message());
            dbm_report_set(&f->hint, dbm_error_hint_text());
            dbm_report_set(&ctx->report->status, "blocked");
        }
        return error;
    }
    return 0;
}

/* What every command does with a connection it has just opened. */
static void connected(dbm_run_ctx *ctx)
{
    ctx->pg = dbm_conn_pg(ctx->conn);
    dbm_db_quiet_notices(ctx->pg, ctx->cfg->verbose);
    dbm_migrations_placeholders(ctx->set, NULL, 0, dbm_conn_database(ctx->conn),
                                dbm_conn_user(ctx->conn));
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

int dbm_run_connect_config(dbm_conn **out, const dbm_config *cfg)
{
    dbm_connect_opts opts = connect_opts(cfg);

    return dbm_connect(out, &opts);
}

int dbm_run_connect(dbm_run_ctx *ctx)
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
    dbm_run_ctx *ctx = arg;
    dbm_connect_opts opts = connect_opts(ctx->cfg);

    return dbm_connect(&ctx->conn, &opts);
}

/*
 * Connecting is mostly waiting (a network, a bastion, an STS call), reading a
 * thousand files is mostly the disk, and neither needs the other.
 */
int dbm_run_load_files_and_connect(dbm_run_ctx *ctx)
{
    dbm_job *job = NULL;
    int error, connect_error;

    dbm_job_start(&job, connect_job, ctx);
    error = dbm_run_load_files(ctx);
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

/* --- the history --- */

int dbm_run_read_history(dbm_run_ctx *ctx)
{
    if (ctx->history)
        return 0;
    return dbm_history_load(&ctx->history, ctx->pg, ctx->cfg->history_schema);
}

int dbm_run_lock(dbm_run_ctx *ctx)
{
    const dbm_config *cfg = ctx->cfg;
    const char *schema = cfg->history_schema;
    char *sql = dbm_history_read_sql(ctx->pg, schema);
    dbm_lock_opts opts = {.schema = schema,
                          .wait_ms = cfg->run_lock_wait_ms,
                          .command = ctx->report->command,
                          .actor = cfg->gh.actor ? cfg->gh.actor : getenv("USER"),
                          .git_sha = cfg->gh.sha,
                          .run_url = cfg->gh.run_url};
    PGresult **res = NULL;
    int n = 0, error;

    /* A history read before the lock may be stale: read it again, in the lock's round trip. */
    dbm_history_free(ctx->history);
    ctx->history = NULL;
    error = dbm_db_lock_with(&ctx->lock, &res, &n, ctx->pg, &opts, sql);
    if (error == 0)
        error = dbm_history_from_results(&ctx->history, ctx->pg, res, n);
    dbm_db_results_free(res, n);
    free(sql);
    if (error < 0 || (ctx->history->exists && ctx->history->current))
        return error;
    if ((error = dbm_history_ensure(ctx->pg, schema, cfg->run_lock_wait_ms)) == 0)
        ctx->history->exists = true;
    return error;
}

int dbm_run_start(dbm_run_ctx *ctx, const char *command, long long *run_id)
{
    dbm_run_info info;
    memset(&info, 0, sizeof(info));
    info.command = command;
    info.git_sha = ctx->cfg->gh.sha;
    info.actor = ctx->cfg->gh.actor ? ctx->cfg->gh.actor : getenv("USER");
    info.event = ctx->cfg->gh.event_name;
    info.run_url = ctx->cfg->gh.run_url;
    info.lease_token = dbm_db_lock_token(ctx->lock);
    return dbm_history_run_start(run_id, ctx->pg, ctx->cfg->history_schema, &info);
}

const dbm_migration *dbm_run_find_target(dbm_run_ctx *ctx)
{
    const dbm_migration *t = dbm_migrations_find(ctx->set, ctx->cfg->target_version);
    if (!t && !dbm_history_find(ctx->history, ctx->cfg->target_version)) {
        dbm_error_set(DBM_ECONFIG, "target-version %s matches no migration in '%s'",
                      ctx->cfg->target_version, ctx->cfg->migrations_dir);
        dbm_error_hint("use a version from 'db-migrate status'");
    }
    return t;
}

/* --- each file's state --- */

const char *dbm_run_newest_applied(const dbm_migration_set *set, const dbm_history *history)
{
    const char *newest = NULL;
    for (size_t i = 0; history && i < history->count; i++) {
        const dbm_history_row *r = &history->rows[i];
        if (strcmp(r->status, "applied") != 0 || dbm_starts_with(r->version, "R__"))
            continue;
        if (!newest || dbm_version_cmp(set->format, r->version, newest) > 0)
            newest = r->version;
    }
    return newest;
}

static dbm_run_state file_state(const dbm_migration_set *set, const dbm_migration *m,
                                const dbm_history_row *row, const char *newest)
{
    if (!row)
        return newest && !m->repeatable && dbm_version_cmp(set->format, m->version, newest) < 0
                   ? DBM_RUN_OUT_OF_ORDER
                   : DBM_RUN_PENDING;
    if (strcmp(row->status, "failed") == 0)
        return DBM_RUN_RESUME;
    if (strcmp(row->checksum, m->checksum) == 0)
        return DBM_RUN_APPLIED;
    return m->repeatable ? DBM_RUN_PENDING : DBM_RUN_EDITED;
}

void dbm_run_classify_files(dbm_run_state *states, bool *missing, const dbm_migration_set *set,
                            const dbm_history *history)
{
    const char *newest = dbm_run_newest_applied(set, history);

    for (size_t i = 0; i < set->count; i++)
        states[i] = file_state(set, &set->items[i],
                               dbm_history_find(history, set->items[i].version), newest);
    for (size_t i = 0; missing && history && i < history->count; i++)
        missing[i] = dbm_migrations_find(set, history->rows[i].version) == NULL;
}

/* The finding for file i's state, when that state is a problem. */
static void add_state_finding(dbm_run_ctx *ctx, size_t i, const char *newest)
{
    const dbm_migration *m = &ctx->set->items[i];
    const dbm_history_row *row;
    dbm_finding *f;

    if (ctx->state[i] == DBM_RUN_OUT_OF_ORDER && !ctx->cfg->out_of_order_allow) {
        f = dbm_report_add_finding(ctx->report, DBM_SEV_ERROR, "out-of-order", ctx->display[i], 0,
                                   0,
                                   "'%s' is pending but older than the newest applied version %s",
                                   ctx->display[i], newest);
        dbm_report_set(&f->hint, "give it a version newer than the applied ones, "
                                 "or set out-of-order: allow");
    } else if (ctx->state[i] == DBM_RUN_EDITED) {
        row = dbm_history_find(ctx->history, m->version);
        f = dbm_report_add_finding(ctx->report, DBM_SEV_ERROR, "edited-applied", ctx->display[i], 1,
                                   0, "'%s' was edited after it was applied (history %s, file %s)",
                                   ctx->display[i], row->checksum, m->checksum);
        dbm_report_set(&f->hint, "restore the applied version of the file and put the change "
                                 "in a new migration");
    }
}

void dbm_run_classify(dbm_run_ctx *ctx, bool missing_blocks)
{
    const dbm_history *h = ctx->history;
    bool *missing = dbm_xcalloc(h ? h->count + 1 : 1, sizeof(*missing));
    const char *newest = dbm_run_newest_applied(ctx->set, h);

    dbm_run_classify_files(ctx->state, missing, ctx->set, h);
    for (size_t i = 0; i < ctx->set->count; i++)
        add_state_finding(ctx, i, newest);
    for (size_t i = 0; h && i < h->count; i++) {
        const dbm_history_row *r = &h->rows[i];
        dbm_finding *f;
        if (!missing[i])
            continue;
        f = dbm_report_add_finding(ctx->report, missing_blocks ? DBM_SEV_ERROR : DBM_SEV_WARNING,
                                   "applied-file-missing", NULL, 0, 0,
                                   "version %s (%s) is recorded as %s but has no file in '%s'",
                                   r->version, r->name, r->status, ctx->cfg->migrations_dir);
        dbm_report_set(&f->hint, "restore the file; a deleted applied migration cannot be "
                                 "re-created on a new database");
    }
    free(missing);
    if (ctx->set->tool_check) {
        /* the tool's own edit detection (atlas.sum): verify fails on it, as the tool would */
        dbm_finding *f =
            dbm_report_add_finding(ctx->report, missing_blocks ? DBM_SEV_ERROR : DBM_SEV_WARNING,
                                   "tool-checksum", NULL, 0, 0, "%s", ctx->set->tool_check);
        dbm_report_set(&f->hint, "restore the files, or run 'atlas migrate hash' if the change "
                                 "is intended (atlas itself refuses to run until then)");
    }
}

bool dbm_run_is_pending(dbm_run_state s)
{
    return s == DBM_RUN_PENDING || s == DBM_RUN_RESUME || s == DBM_RUN_OUT_OF_ORDER;
}

bool dbm_run_any_pending(const dbm_run_ctx *ctx)
{
    for (size_t i = 0; i < ctx->set->count; i++)
        if (dbm_run_is_pending(ctx->state[i]))
            return true;
    return false;
}

/* --- checks before a run --- */

int dbm_run_adopt_scan(dbm_run_ctx *ctx, dbm_severity severity)
{
    int found;

    if (ctx->history->count > 0)
        return 0;
    /* A tenant's (a schemas: target's) other tool kept its table in the tenant's schema. */
    found = dbm_adopt_scan(ctx->report, ctx->pg, ctx->set, severity, ctx->cfg->search_path);
    return found < 0 ? found : 0;
}

int dbm_run_gitcheck(dbm_run_ctx *ctx, bool expect_blocks)
{
    const dbm_config *cfg = ctx->cfg;
    dbm_gitcheck_opts opts = {.migrations_dir = cfg->migrations_dir,
                              .deployed_ref = cfg->deployed_ref,
                              .expect_deployed = cfg->expect_deployed,
                              .expect_blocks = expect_blocks,
                              .out_of_order_allow = cfg->out_of_order_allow,
                              .head_sha = cfg->gh.sha,
                              .event_name = cfg->gh.event_name,
                              .event_path = cfg->gh.event_path,
                              .server_url = cfg->gh.server_url,
                              .repository = cfg->gh.repository};

    return dbm_gitcheck(ctx->report, &opts, ctx->set, ctx->history);
}

int dbm_run_prepare(dbm_run_ctx *ctx, bool writes)
{
    int error;

    if ((error = dbm_run_load_files_and_connect(ctx)) < 0 ||
        (writes && (error = dbm_run_lock(ctx)) < 0) || (error = dbm_run_read_history(ctx)) < 0)
        return error;
    dbm_run_classify(ctx, false);
    if ((error = dbm_check_pending(ctx)) < 0)
        return error;
    return dbm_run_gitcheck(ctx, writes);
}

bool dbm_run_on_pull_request(const dbm_config *cfg)
{
    return cfg->gh.event_name && dbm_starts_with(cfg->gh.event_name, "pull_request");
}

/* --- the report --- */

#define EXCERPT_STMTS 5   /* statements listed in a migration's excerpt */
#define EXCERPT_BYTES 100 /* bytes of each statement */

void dbm_run_excerpts(dbm_run_ctx *ctx, size_t i, dbm_mig_result *r)
{
    const dbm_stmt_list *l = ctx->parsed[i];
    const dbm_migration *m = &ctx->set->items[i];
    dbm_buf b = DBM_BUF_INIT;

    if (!l)
        return;
    r->statement_count = (int)l->count;
    for (size_t k = 0; k < l->count && k < EXCERPT_STMTS; k++) {
        char *e = dbm_excerpt(m->up + l->items[k].offset, l->items[k].len, EXCERPT_BYTES);
        dbm_buf_printf(&b, "%s%s", k ? "\n" : "", e);
        free(e);
    }
    if (l->count > EXCERPT_STMTS)
        dbm_buf_printf(&b, "\n… %zu more", l->count - EXCERPT_STMTS);
    free(r->excerpt);
    r->excerpt = dbm_buf_detach(&b);
    /* A dry-run's statements are the parsed ones, in order. */
    for (size_t k = 0; k < r->nstmts && k < l->count; k++)
        if (!r->stmts[k].sql)
            r->stmts[k].sql =
                dbm_excerpt(m->up + l->items[k].offset, l->items[k].len, EXCERPT_BYTES);
}

/* Fill the row of file i from its state (and its history row, when it has one). */
static void fill_row(dbm_run_ctx *ctx, size_t i, dbm_mig_result *r)
{
    const dbm_migration *m = &ctx->set->items[i];
    const dbm_history_row *row = dbm_history_find(ctx->history, m->version);

    r->transactional = !m->no_transaction;
    dbm_run_excerpts(ctx, i, r);
    if (row && ctx->state[i] == DBM_RUN_APPLIED) {
        r->duration_ms = (double)row->duration_ms;
        r->earlier = true;
        dbm_report_set(&r->applied_at, row->applied_at);
    }
    if (ctx->changed && !ctx->changed[i] && r->status == DBM_MIG_PENDING) {
        /* Without a database, what the base already had is not this change. */
        r->status = DBM_MIG_SKIPPED;
        r->earlier = true;
        dbm_report_set(&r->note, ctx->report->git.base ? "unchanged since the base"
                                                       : "unchanged since the deployed commit");
        return;
    }
    r->failed_before = ctx->state[i] == DBM_RUN_RESUME;
    if (ctx->state[i] == DBM_RUN_RESUME)
        r->note = dbm_xasprintf("failed before at statement %d: %s", row->failed_statement,
                                row->error ? row->error : "");
    if (ctx->state[i] == DBM_RUN_OUT_OF_ORDER)
        r->note = dbm_xstrdup("older than the newest applied version");
    if (ctx->state[i] != DBM_RUN_APPLIED && ctx->state[i] != DBM_RUN_EDITED)
        ctx->report->pending_count++;
}

void dbm_run_report_rows(dbm_run_ctx *ctx)
{
    /* Only rows the git checks added before (edited or deleted files) need a lookup. */
    bool lookup = ctx->report->nmigs > 0;

    for (size_t i = 0; i < ctx->set->count; i++) {
        const dbm_migration *m = &ctx->set->items[i];
        dbm_mig_status st = ctx->state[i] == DBM_RUN_APPLIED  ? DBM_MIG_APPLIED
                            : ctx->state[i] == DBM_RUN_EDITED ? DBM_MIG_EDITED
                                                              : DBM_MIG_PENDING;
        dbm_mig_result *r =
            lookup
                ? dbm_report_migration(ctx->report, m->version, m->name, ctx->display[i], st)
                : dbm_report_add_migration(ctx->report, m->version, m->name, ctx->display[i], st);
        fill_row(ctx, i, r);
    }
    for (size_t i = 0; ctx->history && i < ctx->history->count; i++) {
        const dbm_history_row *h = &ctx->history->rows[i];
        if (!dbm_migrations_find(ctx->set, h->version))
            dbm_report_migration(ctx->report, h->version, h->name, NULL, DBM_MIG_MISSING);
    }
}

void dbm_run_idle_row(dbm_run_ctx *ctx, size_t i, bool failed)
{
    const dbm_migration *m = &ctx->set->items[i];
    const dbm_history_row *row = dbm_history_find(ctx->history, m->version);
    dbm_mig_result *r = dbm_report_add_migration(ctx->report, m->version, m->name, ctx->display[i],
                                                 ctx->state[i] == DBM_RUN_APPLIED ? DBM_MIG_APPLIED
                                                 : failed                         ? DBM_MIG_SKIPPED
                                                          : DBM_MIG_PENDING);
    r->transactional = !m->no_transaction;
    if (row && ctx->state[i] == DBM_RUN_APPLIED) {
        r->duration_ms = (double)row->duration_ms;
        r->note = dbm_xasprintf("applied before, %s", row->applied_at);
        r->earlier = true;
        dbm_report_set(&r->applied_at, row->applied_at);
    }
    if (failed) {
        r->note = dbm_xstrdup("not run: an earlier migration failed");
        ctx->report->pending_count++;
    }
}

int dbm_run_blocked(dbm_report *r)
{
    size_t n = dbm_report_blocking_count(r);

    dbm_report_set(&r->status, "blocked");
    /* Only a command that changes the database says that it did not. */
    dbm_error_set(
        DBM_EBLOCKED, "%s found %zu blocking problem%s%s", r->command, n, n == 1 ? "" : "s",
        strcmp(r->command, "apply") && strcmp(r->command, "rollback") ? ""
                                                                      : "; nothing was applied");
    dbm_error_hint("each error listed names its file and what to change");
    return DBM_EBLOCKED;
}

void dbm_run_fail_on(dbm_run_ctx *ctx)
{
    for (size_t i = 0; i < ctx->report->nfindings; i++) {
        dbm_finding *f = &ctx->report->findings[i];
        bool refuted = f->status && strcmp(f->status, "refuted") == 0;
        bool error_level;

        if (!f->rule || !dbm_rule_find(f->rule))
            continue; /* not a safety rule: edits, syntax errors, ... keep their level */
        /* A rule at `error` in the config file fails the run as fail-on warning fails it for
         * every rule: unless a dry-run measured the statement harmless. */
        error_level = dbm_config_file_rule_level(ctx->cfg->file, f->rule) == DBM_RULE_LEVEL_ERROR;
        if (f->severity == DBM_SEV_WARNING && !refuted &&
            (error_level || ctx->cfg->fail_on == DBM_FAIL_ON_WARNING))
            f->severity = DBM_SEV_ERROR;
        if (ctx->cfg->fail_on == DBM_FAIL_ON_NEVER && f->severity == DBM_SEV_ERROR)
            f->severity = DBM_SEV_WARNING;
    }
}

int dbm_run_inspected(dbm_run_ctx *ctx)
{
    if (dbm_report_has_blocking(ctx->report))
        return dbm_run_blocked(ctx->report);
    dbm_report_set(&ctx->report->status, ctx->report->pending_count ? "pending" : "up-to-date");
    return 0;
}

void dbm_run_ctx_free(dbm_run_ctx *ctx)
{
    /* The lease row goes first, while the connection is open; closing it ends the rest. */
    dbm_db_lock_release(ctx->lock, ctx->pg);
    ctx->lock = NULL;
    for (size_t i = 0; ctx->set && i < ctx->set->count; i++) {
        dbm_stmt_list_free(ctx->parsed[i]);
        free(ctx->display[i]);
    }
    free(ctx->parsed);
    dbm_check_free(ctx);
    free(ctx->display);
    free(ctx->row);
    free(ctx->changed);
    free(ctx->state);
    dbm_history_free(ctx->history);
    dbm_conn_free(ctx->conn);
    dbm_migrations_free(ctx->set);
}

/* --- running a command --- */

int dbm_command_check_target(const dbm_config *cfg, const char *name)
{
    int error;

    if (cfg->target_version)
        return 0;
    error = dbm_error_set(DBM_ECONFIG, "'%s' needs --target-version", name);
    dbm_error_hint("name the version, e.g. --target-version 20240101120000");
    return error;
}

int dbm_command_run(const dbm_command_row *cmd, const dbm_config *cfg, dbm_report *report)
{
    dbm_run_ctx ctx;
    int error;

    memset(&ctx, 0, sizeof(ctx));
    ctx.cfg = cfg;
    ctx.report = report;
    if (cmd->needs_db && cfg->offline) {
        /* The files are read first, so that a problem with them is told first, as in a run. */
        if ((error = dbm_run_load_files(&ctx)) == 0)
            error = dbm_error_set(DBM_ECONFIG, "'%s' needs a database", cmd->name);
    } else if (cfg->run_in != DBM_RUN_IN_HERE && cmd->needs_db &&
               !(cmd->flags & DBM_COMMAND_NO_REPORT)) {
        error = dbm_remote_run(&ctx, cmd->name);
    } else {
        error = cmd->fn(&ctx);
    }
    dbm_run_ctx_free(&ctx);
    if (cfg->comment_on_pr && (cmd->flags & DBM_COMMAND_PR_COMMENT))
        dbm_comment_post(cfg, report, error);
    return error;
}
