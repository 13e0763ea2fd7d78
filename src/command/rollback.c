/*
 * rollback.c - run the down sections of the applied migrations newer than
 * --target-version, newest first, each deleting its history row.
 *
 * Under the run lock. Nothing runs unless every one of them has a down
 * section and a file; the first failure stops the rollback. Running a down
 * section is postgres/db's.
 */
#include "command/commands.h"
#include "command/run.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "postgres/db.h"
#include "postgres/history.h"
#include "sql/parse.h"

#include <stdlib.h>
#include <string.h>

/*
 * The files to roll back, newest first, into todo (*ntodo of them).
 * DBM_EBLOCKED when one of them has no down section.
 */
static int collect(dbm_run_ctx *ctx, size_t *todo, size_t *ntodo)
{
    const char *target = ctx->cfg->target_version;

    for (size_t k = ctx->set->count; k-- > 0;) {
        const dbm_migration *m = &ctx->set->items[k];
        const dbm_history_row *row = dbm_history_find(ctx->history, m->version);
        int error;
        if (m->repeatable || !row || dbm_version_cmp(ctx->set->format, m->version, target) <= 0)
            continue;
        if (!m->down) {
            error = dbm_error_set(DBM_EBLOCKED, "'%s' has no down section; nothing was rolled back",
                                  ctx->display[k]);
            dbm_error_hint("add a '-- migrate:down' section, or roll back to a newer version");
            return error;
        }
        todo[(*ntodo)++] = k;
    }
    return 0;
}

/* DBM_EBLOCKED when a version newer than the target is applied but has no file. */
static int check_files_exist(dbm_run_ctx *ctx)
{
    for (size_t i = 0; ctx->history && i < ctx->history->count; i++) {
        const dbm_history_row *row = &ctx->history->rows[i];
        if (!dbm_migrations_find(ctx->set, row->version) && !dbm_starts_with(row->version, "R__") &&
            dbm_version_cmp(ctx->set->format, row->version, ctx->cfg->target_version) > 0)
            return dbm_error_set(DBM_EBLOCKED,
                                 "version %s is applied but has no file; nothing was rolled back",
                                 row->version);
    }
    return 0;
}

/* A down section that does not parse: the row's error points into the file. */
static int down_syntax_error(dbm_run_ctx *ctx, size_t k, dbm_mig_result *r, int line, int col)
{
    dbm_error_info *e = dbm_report_set_error(r, dbm_error_message(), NULL);

    dbm_report_set(&e->file, ctx->display[k]);
    e->line = ctx->set->items[k].down_line + line - 1;
    e->column = col;
    r->status = DBM_MIG_FAILED;
    return DBM_EFAILED;
}

/* Roll back file k in run run_id. DBM_EFAILED, with the run's message, when it fails. */
static int rollback_one(dbm_run_ctx *ctx, size_t k, long long run_id)
{
    const dbm_config *cfg = ctx->cfg;
    const dbm_migration *m = &ctx->set->items[k];
    dbm_stmt_list *down = NULL;
    int line = 0, col = 0, error;
    dbm_mig_result *r = dbm_report_add_migration(ctx->report, m->version, m->name, ctx->display[k],
                                                 DBM_MIG_PENDING);
    dbm_apply_opts o;

    if (dbm_sql_split(&down, &line, &col, m->down, m->down_len) < 0)
        return down_syntax_error(ctx, k, r, line, col);
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
        dbm_log("rolled back %s", ctx->display[k]);
        ctx->report->applied_count++;
        return 0;
    }
    dbm_error_set(DBM_EFAILED, "unable to roll back '%s': %s", ctx->display[k],
                  r->error ? r->error->message : "failed");
    return error;
}

int dbm_cmd_rollback(dbm_run_ctx *ctx)
{
    const char *schema = ctx->cfg->history_schema;
    size_t *todo = NULL;
    size_t ntodo = 0;
    long long run_id;
    int error;

    if ((error = dbm_run_load_files(ctx)) < 0 || (error = dbm_run_connect(ctx)) < 0 ||
        (error = dbm_run_lock(ctx)) < 0 || (error = dbm_run_read_history(ctx)) < 0)
        return error;
    todo = dbm_xcalloc(ctx->set->count + 1, sizeof(*todo));
    if ((error = collect(ctx, todo, &ntodo)) < 0 || (error = check_files_exist(ctx)) < 0 ||
        (error = dbm_run_start(ctx, "rollback", &run_id)) < 0)
        goto done;
    for (size_t i = 0; i < ntodo && error == 0; i++)
        error = rollback_one(ctx, todo[i], run_id);
    dbm_history_run_finish(ctx->pg, schema, run_id, error ? "failed" : "applied");
    dbm_report_set(&ctx->report->status, error ? "failed" : ntodo ? "applied" : "up-to-date");
done:
    free(todo);
    return error;
}
