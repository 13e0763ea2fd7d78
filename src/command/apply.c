/*
 * apply.c - apply the pending migrations in version order, under the run
 * lock, each recorded in the history as it is applied.
 *
 * Nothing runs when a check blocks (run.h's shape). Consecutive files that
 * can share a simple-protocol message are sent in batches (postgres/db.h);
 * the first failure stops the run and the files after it are reported as
 * skipped.
 *
 * Two things can stop a run early. SIGTERM or SIGINT (ECS StopTask, a
 * cancelled job): a transactional migration is cancelled and rolls back, one
 * outside a transaction finishes its statement, and the run is recorded as
 * cancelled. A deadline (the Lambda runtime's, cfg->deadline_ms): no
 * migration starts that cannot finish before it, each runs with
 * statement_timeout set to the time left, and one that still meets it rolls
 * back and is left to the next invocation (report->incomplete), unless it had
 * the whole invocation to itself: then it is too long for Lambda at all.
 */
#include "command/commands.h"
#include "command/run.h"
#include "common/error.h"
#include "common/log.h"
#include "common/stop.h"
#include "common/util.h"
#include "postgres/cancel.h"
#include "postgres/db.h"
#include "postgres/history.h"
#include "postgres/progress.h"

#include <stdlib.h>
#include <string.h>

static void log_result(const dbm_mig_result *r)
{
    char *name = dbm_printable(r->file);
    if (r->status == DBM_MIG_PENDING)
        dbm_log("stopped  %s after %.0f ms: %s", name, r->duration_ms, r->note ? r->note : "");
    else if (r->status == DBM_MIG_APPLIED)
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
    size_t nbatch; /* items in the batch under way */
    size_t next;   /* the file after the last one with an outcome */
    dbm_progress *progress;
    int applied;
    int attempted;       /* migrations started by this run */
    long long time_left; /* with a deadline: ms the next migration may take */
    bool failed;
    bool cancelled; /* stopped by a signal */
    bool stopped;   /* stopped at the deadline with work left */
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
    if (cfg->deadline_ms && (!o->statement_timeout_ms || o->statement_timeout_ms > st->time_left))
        o->statement_timeout_ms = st->time_left > 1 ? st->time_left : 1;
    o->lock_retries = cfg->lock_retries;
    o->replace_existing = row != NULL;
    o->resume_from =
        ctx->state[i] == DBM_RUN_RESUME && m->no_transaction ? row->failed_statement : 0;
    o->display_path = ctx->display[i];
    o->search_path = cfg->search_path;
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
    if (error == DBM_ECANCELLED) {
        st->failed = st->cancelled = true;
        st->ctx->report->pending_count++;
    } else if (r->status == DBM_MIG_PENDING) {
        st->stopped = true;
        st->ctx->report->pending_count++;
    } else if (error == DBM_EFAILED) {
        /* Still not applied: it counts as pending for the outputs. */
        st->failed = true;
        st->ctx->report->pending_count++;
        char *tunnel = dbm_conn_tunnel_error(st->ctx->conn);

        dbm_error_set(DBM_EFAILED, "unable to apply '%s': %s", st->ctx->display[i],
                      r->error ? r->error->message : "failed");
        /* libpq only saw its local end close: the tunnel's failure is the cause. */
        if (tunnel)
            dbm_error_hint("through ssh-bastion: %s%s%s", tunnel,
                           r->error && r->error->hint ? "; " : "",
                           r->error && r->error->hint ? r->error->hint : "");
        else if (r->error && r->error->hint)
            dbm_error_hint("%s", r->error->hint);
        free(tunnel);
    } else if (error == 0) {
        st->applied++;
    }
}

/* Whether r failed because a statement was cancelled: by a signal or by statement_timeout. */
static bool statement_cancelled(const dbm_mig_result *r)
{
    return r->error && r->error->sqlstate && strcmp(r->error->sqlstate, "57014") == 0;
}

/* The deadline's statement_timeout, not one of the user's own, cancelled file i. */
static bool met_deadline(const apply_state *st, const dbm_mig_result *r)
{
    const dbm_config *cfg = st->ctx->cfg;

    return cfg->deadline_ms && statement_cancelled(r) &&
           (!cfg->statement_timeout_ms || cfg->statement_timeout_ms > st->time_left);
}

/*
 * A migration that stopped short. A signal: DBM_ECANCELLED (a transactional
 * one rolled back and is pending again). The deadline: rolled back and left
 * pending for the next invocation (0), unless it was this invocation's first,
 * which had all the time there is: then it fails with the advice to run on ECS.
 * Any other outcome is returned as it came.
 */
static int judge_stop(apply_state *st, dbm_mig_result *r, int error)
{
    int signo = dbm_stop_signal();

    if (signo && (error == DBM_ECANCELLED || (error == DBM_EFAILED && statement_cancelled(r)))) {
        if (r->transactional) {
            r->status = DBM_MIG_PENDING;
            dbm_report_set(&r->note, NULL);
            r->note = dbm_xasprintf("cancelled by %s: rolled back, nothing of it applied",
                                    dbm_stop_signal_name(signo));
        }
        return DBM_ECANCELLED;
    }
    if (error != DBM_EFAILED || !met_deadline(st, r))
        return error;
    if (st->attempted > 1) {
        r->status = DBM_MIG_PENDING;
        dbm_report_set(&r->note, r->transactional
                                     ? "rolled back at the deadline: the next invocation runs it"
                                     : "stopped at the deadline: the next invocation resumes it");
        return 0;
    }
    dbm_report_set_error(r, NULL, "57014");
    r->error->message = dbm_xasprintf(
        "it did not finish in the %lld ms this Lambda invocation had, and was %s", st->time_left,
        r->transactional ? "rolled back (nothing of it applied)" : "stopped at its statement");
    dbm_report_set(&r->error->hint,
                   "a migration longer than a Lambda function may run needs "
                   "run-in: ecs (no time limit); Lambda allows at most 15 minutes");
    dbm_report_set(&r->error->file, r->file);
    return DBM_EFAILED;
}

static dbm_mig_result *batch_row(void *arg, size_t k)
{
    apply_state *st = arg;
    return apply_row(st, st->index[k]);
}

/* Item k is done: the next one runs now (the server runs a batch's items back to back). */
static void batch_done(void *arg, size_t k, dbm_mig_result *r, int error)
{
    apply_state *st = arg;
    st->attempted++;
    dbm_progress_blame(st->progress, r);
    if (error == 0 && k + 1 < st->nbatch)
        dbm_progress_begin(st->progress, st->ctx->display[st->index[k + 1]]);
    else
        dbm_progress_end(st->progress);
    apply_finish(st, st->index[k], r, judge_stop(st, r, error));
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
    st->nbatch = n;
    dbm_progress_begin(st->progress, ctx->display[i]);
    dbm_db_cancel_arm(true);
    dbm_db_apply_batch(ctx->pg, items, n, &hooks);
    dbm_db_cancel_arm(false);
    dbm_progress_end(st->progress);
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
    st->attempted++;
    dbm_progress_begin(st->progress, ctx->display[i]);
    /* A signal cancels a transactional migration; one outside a transaction ends its statement. */
    dbm_db_cancel_arm(!ctx->set->items[i].no_transaction);
    error = dbm_db_apply(r, ctx->pg, &ctx->set->items[i], ctx->parsed[i], &o);
    dbm_db_cancel_arm(false);
    dbm_progress_end(st->progress);
    dbm_progress_blame(st->progress, r);
    if (ctx->cfg->verbose)
        dbm_log_endgroup();
    error = judge_stop(st, r, error);
    apply_finish(st, i, r, error);
    return error;
}

/*
 * With a deadline: whether file i may start (0), with the time it may take in
 * st->time_left. It may when the time left, less the margin kept for
 * answering, holds the margin and its last duration (a repeatable migration
 * applied before; nothing is known of a new one). Otherwise the run stops
 * there (1, st->stopped), or, when nothing ran yet in this invocation, which
 * is all the time a Lambda function gets, fails with the advice to use ECS.
 */
static int deadline_gate(apply_state *st, size_t i)
{
    const dbm_config *cfg = st->ctx->cfg;
    const dbm_migration *m = &st->ctx->set->items[i];
    const dbm_history_row *row = dbm_history_find(st->ctx->history, m->version);
    long long estimate =
        row && row->status && !strcmp(row->status, "applied") ? row->duration_ms : 0;
    long long left = cfg->deadline_ms - cfg->deadline_margin_ms - dbm_now_ms();
    dbm_mig_result *r;

    if (!cfg->deadline_ms || estimate + cfg->deadline_margin_ms <= left) {
        st->time_left = left;
        return 0;
    }
    if (st->attempted) {
        st->stopped = true;
        return 1;
    }
    r = apply_row(st, i);
    r->note = dbm_xstrdup("not run: longer than a Lambda invocation allows");
    st->failed = true;
    st->ctx->report->pending_count++;
    if (estimate)
        dbm_error_set(DBM_EFAILED,
                      "'%s' took %lld ms when last applied, more than the %lld ms a Lambda "
                      "invocation leaves it",
                      st->ctx->display[i], estimate, left > 0 ? left : 0);
    else
        dbm_error_set(DBM_EFAILED,
                      "the Lambda invocation leaves no time to run '%s' (%lld ms left)",
                      st->ctx->display[i], left > 0 ? left : 0);
    dbm_error_hint("run it with run-in: ecs (no time limit), or raise the function's timeout "
                   "(Lambda allows at most 15 minutes)");
    return DBM_EFAILED;
}

/* The row of file i that this run does not start (applied before, after a stop or failure). */
static void idle_row(apply_state *st, size_t i)
{
    dbm_run_ctx *ctx = st->ctx;
    bool pending = dbm_run_is_pending(ctx->state[i]);
    dbm_mig_result *r;

    dbm_run_idle_row(ctx, i, st->failed && pending);
    r = &ctx->report->migs[ctx->report->nmigs - 1];
    if (pending && (st->cancelled || st->stopped)) {
        dbm_report_set(&r->note, st->cancelled ? "not run: the run was cancelled"
                                               : "not run: left for the next invocation");
        if (st->stopped && !st->failed)
            ctx->report->pending_count++;
    }
}

/* Before file i: a signal received since the last one stops the run. */
static bool stop_requested(apply_state *st)
{
    if (!dbm_stop_signal() || st->failed)
        return false;
    st->failed = st->cancelled = true;
    return true;
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
 * failure (st->failed; the rest are skipped), a signal (st->cancelled) or the
 * deadline (st->stopped). Returns 0, or an error that is not the failure of a
 * migration (a lost connection).
 */
static int apply_files(apply_state *st)
{
    dbm_run_ctx *ctx = st->ctx;
    dbm_batch_item *items = dbm_xcalloc(ctx->set->count + 1, sizeof(*items));
    int error = 0;

    st->index = dbm_xcalloc(ctx->set->count + 1, sizeof(*st->index));
    for (size_t i = 0; i < ctx->set->count; i++) {
        int gate = 0;

        if (dbm_run_is_pending(ctx->state[i]) && !st->failed && !st->stopped && !stop_requested(st))
            gate = deadline_gate(st, i);
        if (!dbm_run_is_pending(ctx->state[i]) || st->failed || st->stopped || gate) {
            if (gate >= 0) /* a file the deadline refused has its row already */
                idle_row(st, i);
            continue;
        }
        if ((error = lease_kept(ctx, i)) < 0)
            break;
        /* With --verbose each migration's notices are one collapsible group, and with a
         * deadline each is timed on its own: no batches. */
        if (!ctx->cfg->verbose && !ctx->cfg->deadline_ms &&
            dbm_db_batchable(ctx->pg, &ctx->set->items[i], ctx->parsed[i])) {
            apply_batch(st, i, items);
            i = (st->next > i ? st->next : i + 1) - 1;
            continue;
        }
        if ((error = apply_one(st, i)) < 0 && error != DBM_EFAILED && error != DBM_ECANCELLED)
            break;
        error = 0;
    }
    free(items);
    free(st->index);
    st->index = NULL;
    return error;
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

/* The outcome of the files' run: the report's status, the runs row, the error it returns. */
static int finish_apply(apply_state *st, const dbm_run_info *info)
{
    dbm_run_ctx *ctx = st->ctx;
    dbm_report *rep = ctx->report;
    int signo = dbm_stop_signal();

    rep->applied_count = st->applied;
    rep->incomplete = st->stopped && !st->failed;
    dbm_report_set(&rep->status, st->cancelled ? "cancelled"
                                 : st->failed  ? "failed"
                                 : st->applied ? "applied"
                                 : st->stopped ? "pending"
                                               : "up-to-date");
    if (!info->outcome)
        dbm_history_run_finish(ctx->pg, ctx->cfg->history_schema, st->run_id, rep->status);
    if (st->cancelled) {
        dbm_error_set(DBM_ECANCELLED, "cancelled by %s: %d migration%s applied, %d not",
                      dbm_stop_signal_name(signo), st->applied, st->applied == 1 ? "" : "s",
                      rep->pending_count);
        dbm_error_hint("run apply again: it resumes with the first migration not applied");
        return DBM_ECANCELLED;
    }
    if (rep->incomplete)
        dbm_log("stopped before the deadline: %d applied, %d left for the next invocation",
                st->applied, rep->pending_count);
    else if (!st->applied && !st->failed)
        dbm_log("up to date: nothing to apply");
    return st->failed ? DBM_EFAILED : 0;
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
    /* From here a signal stops the run cleanly instead of killing it (postgres/cancel.h). */
    if ((error = dbm_db_cancel_install(ctx->pg)) < 0)
        goto done;
    /* A second connection tells what a long migration does, and who holds what it waits for. */
    if (dbm_run_any_pending(ctx))
        dbm_progress_start(&st.progress, ctx->pg, dbm_db_lock_direct(ctx->lock));
    error = apply_files(&st);
    dbm_progress_free(st.progress);
    dbm_db_cancel_uninstall();
    if (error == 0)
        error = finish_apply(&st, &info);
done:
    if (error < 0 && !rep->status)
        dbm_report_set(&rep->status, "failed");
    return error;
}
