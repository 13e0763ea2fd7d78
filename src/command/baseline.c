/*
 * baseline.c - record migrations as applied without running them: up to
 * --target-version, or (--adopt-from TOOL) the versions another tool's
 * history table lists.
 *
 * Under the run lock, in a run of its own in the history. Reading the other
 * tool's table and importing it is postgres/adopt's; this file decides
 * whether an import may happen and reports it.
 */
#include "command/commands.h"
#include "command/run.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "postgres/adopt.h"
#include "postgres/history.h"

/* The outcome of an import for the history and the report. */
static const char *adopt_outcome(int error, const dbm_adopt_plan *plan)
{
    return error < 0 ? "failed" : plan->nimport ? "applied" : "up-to-date";
}

/* adopt-from imports into an empty history only: DBM_ECONFIG when it holds a version. */
static int adopt_needs_empty_history(const dbm_run_ctx *ctx)
{
    size_t n = ctx->history->count;
    int error;

    if (n == 0)
        return 0;
    error = dbm_error_set(DBM_ECONFIG,
                          "db-migrate's history in schema '%s' already holds %zu version%s; "
                          "adopt-from imports into an empty history only",
                          ctx->cfg->history_schema, n, n == 1 ? "" : "s");
    dbm_error_hint("record further versions with baseline --target-version");
    return error;
}

/*
 * baseline --adopt-from TOOL: import the other tool's history into an empty
 * one. A dirty or failed entry blocks the whole import.
 */
static int adopt(dbm_run_ctx *ctx)
{
    const dbm_config *cfg = ctx->cfg;
    dbm_adopt_plan *plan = NULL;
    dbm_format tool;
    long long run_id;
    int error;

    if ((error = dbm_format_parse(&tool, cfg->adopt_from)) < 0 ||
        (error = adopt_needs_empty_history(ctx)) < 0)
        return error;
    if ((error = dbm_adopt_plan_build(&plan, ctx->report, ctx->pg, ctx->set, ctx->display, tool,
                                      cfg->target_version, cfg->search_path)) < 0)
        goto done;
    if (plan->nblocked) {
        error = dbm_run_blocked(ctx->report);
        goto done;
    }
    if ((error = dbm_run_start(ctx, "baseline", &run_id)) < 0)
        goto done;
    error = dbm_adopt_import(ctx->report, ctx->pg, cfg->history_schema, ctx->set, ctx->display,
                             plan, run_id, cfg->gh.sha);
    dbm_history_run_finish(ctx->pg, cfg->history_schema, run_id, adopt_outcome(error, plan));
    if (error == 0)
        dbm_log("adopted %zu migration%s from %s (%zu listed there); nothing was run",
                plan->nimport, plan->nimport == 1 ? "" : "s", plan->table, plan->listed);
    dbm_report_set(&ctx->report->status, adopt_outcome(error, plan));
done:
    dbm_adopt_plan_free(plan);
    return error;
}

/* Record every versioned file up to target-version that the history lacks. */
static int baseline(dbm_run_ctx *ctx)
{
    const dbm_config *cfg = ctx->cfg;
    long long run_id;
    int error;
    int n = 0;

    if (!dbm_run_find_target(ctx) && !dbm_history_find(ctx->history, cfg->target_version))
        return DBM_ECONFIG;
    if ((error = dbm_run_start(ctx, "baseline", &run_id)) < 0)
        return error;
    for (size_t i = 0; i < ctx->set->count; i++) {
        const dbm_migration *m = &ctx->set->items[i];
        dbm_mig_result *r;
        if (m->repeatable || dbm_version_cmp(ctx->set->format, m->version, cfg->target_version) > 0)
            continue;
        if (dbm_history_find(ctx->history, m->version))
            continue;
        if ((error = dbm_history_baseline(ctx->pg, cfg->history_schema, m, run_id, cfg->gh.sha,
                                          NULL)) < 0)
            return error;
        r = dbm_report_add_migration(ctx->report, m->version, m->name, ctx->display[i],
                                     DBM_MIG_APPLIED);
        r->note = dbm_xstrdup("baselined: recorded without running");
        dbm_log("baselined %s", ctx->display[i]);
        n++;
    }
    ctx->report->applied_count = n;
    if (n)
        dbm_log("baselined %d migration%s up to %s; nothing was run", n, n == 1 ? "" : "s",
                cfg->target_version);
    else
        dbm_log("nothing to baseline: every migration up to %s is recorded already",
                cfg->target_version);
    dbm_history_run_finish(ctx->pg, cfg->history_schema, run_id, n ? "applied" : "up-to-date");
    dbm_report_set(&ctx->report->status, n ? "applied" : "up-to-date");
    return 0;
}

int dbm_cmd_baseline_check(const dbm_config *cfg, const char *name)
{
    return cfg->adopt_from ? 0 : dbm_command_check_target(cfg, name);
}

int dbm_cmd_baseline(dbm_run_ctx *ctx)
{
    int error;

    if ((error = dbm_run_load_files(ctx)) < 0 || (error = dbm_run_connect(ctx)) < 0 ||
        (error = dbm_run_lock(ctx)) < 0 || (error = dbm_run_read_history(ctx)) < 0)
        return error;
    return ctx->cfg->adopt_from ? adopt(ctx) : baseline(ctx);
}
