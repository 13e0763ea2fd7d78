/*
 * apply.c - apply the pending migrations in version order, under the run
 * lock, each recorded in the history as it is applied.
 *
 * Nothing runs when a check blocks (run.h's shape). Consecutive files that
 * can share a simple-protocol message are sent in batches (postgres/db.h);
 * the first failure stops the run and the files after it are reported as
 * skipped.
 */
#include "command/commands.h"
#include "command/run.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "postgres/db.h"
#include "postgres/history.h"

#include <stdlib.h>
#include <string.h>

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

/* What an apply has done so far, shared with the batch hooks. */
typedef struct {
    dbm_run_ctx *ctx;
    long long run_id;
    const char *git_sha;
    size_t *index; /* batch item -> file */
    size_t next;   /* the file after the last one with an outcome */
    int applied;
    bool failed;
} apply_state;

static void apply_opts(const apply_state *st, size_t i, dbm_apply_opts *o)
{
    const dbm_run_ctx *ctx = st->ctx;
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
    o->resume_from =
        ctx->state[i] == DBM_RUN_RESUME && m->no_transaction ? row->failed_statement : 0;
    o->display_path = ctx->display[i];
}

static dbm_mig_result *apply_row(apply_state *st, size_t i)
{
    const dbm_migration *m = &st->ctx->set->items[i];
    dbm_mig_result *r = dbm_report_add_migration(st->ctx->report, m->version, m->name,
                                                 st->ctx->display[i], DBM_MIG_PENDING);
    dbm_run_excerpts(st->ctx, i, r);
    return r;
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
    dbm_run_ctx *ctx = st->ctx;
    dbm_batch_hooks hooks = {batch_row, batch_done, st};
    size_t n = 0;

    while (i + n < ctx->set->count && dbm_run_is_pending(ctx->state[i + n]) &&
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

/* Apply file i on its own; with --verbose its notices are one collapsible group of the log. */
static int apply_one(apply_state *st, size_t i)
{
    dbm_run_ctx *ctx = st->ctx;
    dbm_apply_opts o;
    dbm_mig_result *r;
    int error;

    apply_opts(st, i, &o);
    r = apply_row(st, i);
    if (ctx->cfg->verbose)
        dbm_log_group(ctx->display[i]);
    error = dbm_db_apply(r, ctx->pg, &ctx->set->items[i], ctx->parsed[i], &o);
    if (ctx->cfg->verbose)
        dbm_log_endgroup();
    apply_finish(st, i, r, error);
    return error;
}

/*
 * Through a pooler the lease lives while the heartbeat renews it: when it
 * could not, another run may have taken the lock over, and nothing more is
 * started. DBM_ELOCKED naming the file not started.
 */
static int lease_kept(dbm_run_ctx *ctx, size_t i)
{
    int error;

    if (!dbm_db_lock_lost(ctx->lock))
        return 0;
    error = dbm_error_set(DBM_ELOCKED,
                          "the run lock of schema '%s' was lost before '%s': its lease could not "
                          "be renewed in time and another run may hold it now",
                          ctx->cfg->history_schema, ctx->display[i]);
    dbm_error_hint("rerun once the other run is done; if the connection to the database is "
                   "slow, raise DB_MIGRATE_LEASE_TTL (seconds, default 30)");
    return error;
}

/*
 * Apply the pending files in order, each row in the report, up to the first
 * failure (st->failed; the rest are skipped). Returns 0, or an error that is
 * not the failure of a migration (a lost connection).
 */
static int apply_files(apply_state *st)
{
    dbm_run_ctx *ctx = st->ctx;
    dbm_batch_item *items = dbm_xcalloc(ctx->set->count + 1, sizeof(*items));
    int error = 0;

    st->index = dbm_xcalloc(ctx->set->count + 1, sizeof(*st->index));
    for (size_t i = 0; i < ctx->set->count; i++) {
        if (!dbm_run_is_pending(ctx->state[i]) || st->failed) {
            dbm_run_idle_row(ctx, i, st->failed);
            continue;
        }
        if ((error = lease_kept(ctx, i)) < 0)
            break;
        /* With --verbose each migration's notices are one collapsible group: no batches. */
        if (!ctx->cfg->verbose && dbm_db_batchable(ctx->pg, &ctx->set->items[i], ctx->parsed[i])) {
            apply_batch(st, i, items);
            i = (st->next > i ? st->next : i + 1) - 1;
            continue;
        }
        if ((error = apply_one(st, i)) < 0 && error != DBM_EFAILED)
            break;
        error = 0;
    }
    free(items);
    free(st->index);
    st->index = NULL;
    return error;
}

/* A pull request's database is rarely disposable: apply runs on one only when allowed. */
static int refuse_on_pull_request(const dbm_config *cfg)
{
    if (!dbm_run_on_pull_request(cfg) || cfg->allow_apply_on_pull_request)
        return 0;
    dbm_error_set(DBM_ECONFIG, "apply refuses to run on '%s' events", cfg->gh.event_name);
    dbm_error_hint("use command: plan or dry-run on pull requests, or set "
                   "allow-apply-on-pull-request: true if this database is disposable");
    return DBM_ECONFIG;
}

/* Record the run's start in the history (info is kept for its outcome and commit). */
static int start_apply(dbm_run_ctx *ctx, dbm_run_info *info, long long *run_id)
{
    const dbm_config *cfg = ctx->cfg;
    const dbm_report *rep = ctx->report;

    memset(info, 0, sizeof(*info));
    info->command = "apply";
    info->git_sha = rep->git.head ? rep->git.head : cfg->gh.sha;
    info->deployed_sha = rep->git.deployed ? rep->git.deployed : ctx->history->last_apply_sha;
    info->actor = cfg->gh.actor ? cfg->gh.actor : getenv("USER");
    info->event = cfg->gh.event_name;
    info->run_url = cfg->gh.run_url;
    info->lease_token = dbm_db_lock_token(ctx->lock);
    /* A run with nothing to do is recorded in one statement. */
    if (!dbm_report_has_blocking(rep) && !dbm_run_any_pending(ctx))
        info->outcome = "up-to-date";
    return dbm_history_run_start(run_id, ctx->pg, cfg->history_schema, info);
}

int dbm_cmd_apply(dbm_run_ctx *ctx)
{
    const char *schema = ctx->cfg->history_schema;
    dbm_report *rep = ctx->report;
    dbm_run_info info;
    apply_state st;
    int error;

    memset(&st, 0, sizeof(st));
    st.ctx = ctx;
    if ((error = refuse_on_pull_request(ctx->cfg)) < 0)
        return error;
    if ((error = dbm_run_prepare(ctx, true)) < 0 ||
        /* Another tool migrated this database: running everything again would fail or worse. */
        (error = dbm_run_adopt_scan(ctx, DBM_SEV_ERROR)) < 0 ||
        (error = start_apply(ctx, &info, &st.run_id)) < 0)
        goto done;
    if (dbm_report_has_blocking(rep)) {
        dbm_run_report_rows(ctx);
        dbm_history_run_finish(ctx->pg, schema, st.run_id, "failed");
        error = dbm_run_blocked(rep);
        goto done;
    }
    st.git_sha = info.git_sha;
    if ((error = apply_files(&st)) < 0)
        goto done;
    rep->applied_count = st.applied;
    dbm_report_set(&rep->status, st.failed ? "failed" : st.applied ? "applied" : "up-to-date");
    if (!info.outcome)
        dbm_history_run_finish(ctx->pg, schema, st.run_id, rep->status);
    if (!st.applied && !st.failed)
        dbm_log("up to date: nothing to apply");
    error = st.failed ? DBM_EFAILED : 0;
done:
    if (error < 0 && !rep->status)
        dbm_report_set(&rep->status, "failed");
    return error;
}
