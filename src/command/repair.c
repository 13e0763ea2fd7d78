/*
 * repair.c - mend the history by hand's intent, under the run lock, running
 * no migration SQL:
 *
 *   repair --target-version V   clear the failed record of V, so that the next
 *                               apply runs that migration from its start; or,
 *                               when a killed run left a statement of V
 *                               unfinished, clear that statement's claim, so
 *                               that the next apply runs it again;
 *   repair --accept-edit V      record the current checksum of applied V, whose
 *                               file was changed on purpose (a comment, a typo),
 *                               with the old and new checksums in runs.detail.
 */
#include "command/commands.h"
#include "command/run.h"
#include "common/error.h"
#include "common/log.h"
#include "postgres/history.h"

#include <stdlib.h>
#include <string.h>

int dbm_cmd_repair_check(const dbm_config *cfg, const char *name)
{
    int error;

    if (!cfg->accept_edit)
        return dbm_command_check_target(cfg, name);
    if (cfg->target_version && strcmp(cfg->target_version, cfg->accept_edit) != 0) {
        error = dbm_error_set(DBM_ECONFIG,
                              "repair got two versions: --target-version %s and "
                              "--accept-edit %s",
                              cfg->target_version, cfg->accept_edit);
        dbm_error_hint("give one: --accept-edit V records V's edited file, --target-version V "
                       "clears V's failed record");
        return error;
    }
    return 0;
}

/* Clear the failed record of target-version. */
static int clear_failed(dbm_run_ctx *ctx)
{
    const dbm_history_row *row = dbm_history_find(ctx->history, ctx->cfg->target_version);
    long long run_id;
    int error, interrupted = 0;

    if (!row || strcmp(row->status, "failed") != 0) {
        dbm_error_set(DBM_ECONFIG, "version %s has no failed record to repair",
                      ctx->cfg->target_version);
        dbm_error_hint(row ? "it is applied; to record its edited file, use repair --accept-edit %s"
                           : "run 'db-migrate status' to see the failed version",
                       ctx->cfg->target_version);
        return DBM_ECONFIG;
    }
    if ((error = dbm_run_start(ctx, "repair", &run_id)) < 0 ||
        (error = dbm_history_claims_clear(&interrupted, ctx->pg, ctx->cfg->history_schema,
                                          row->version, true)) < 0)
        return error;
    /* A statement a killed run left unfinished, which a person has now checked: run it again. */
    if (interrupted > 0) {
        dbm_history_run_finish(ctx->pg, ctx->cfg->history_schema, run_id, "applied");
        dbm_log("repaired %s: the claim of interrupted statement %d is cleared; the next apply "
                "runs it again and goes on from there",
                row->version, interrupted);
        dbm_report_set(&ctx->report->status, "applied");
        return 0;
    }
    if ((error = dbm_history_delete(ctx->pg, ctx->cfg->history_schema, row->version)) < 0)
        return error;
    dbm_history_run_finish(ctx->pg, ctx->cfg->history_schema, run_id, "applied");
    dbm_log("repaired %s: its failed record is cleared; the next apply runs it from the start",
            row->version);
    dbm_report_set(&ctx->report->status, "applied");
    return 0;
}

/* The applied row and file of accept-edit, or DBM_ECONFIG saying what is wrong with it. */
static int edited_target(dbm_run_ctx *ctx, const dbm_history_row **row, const dbm_migration **m)
{
    const char *v = ctx->cfg->accept_edit;
    int error;

    *row = dbm_history_find(ctx->history, v);
    *m = dbm_migrations_find(ctx->set, v);
    if (!*row || strcmp((*row)->status, "applied") != 0) {
        error =
            dbm_error_set(DBM_ECONFIG, "version %s is not applied: there is no edit to accept", v);
        dbm_error_hint(*row ? "it failed; repair --target-version %s clears its record"
                            : "run 'db-migrate status' to see the applied versions",
                       v);
        return error;
    }
    if (!*m) {
        error = dbm_error_set(DBM_ECONFIG, "version %s is applied but has no file in '%s'", v,
                              ctx->cfg->migrations_dir);
        dbm_error_hint("restore the file first; accept-edit records the checksum of the file");
        return error;
    }
    return 0;
}

/* Record the checksum of accept-edit's file as its applied checksum, audited in runs. */
static int accept_edit(dbm_run_ctx *ctx)
{
    const dbm_history_row *row;
    const dbm_migration *m;
    char *old = NULL;
    long long run_id;
    int error;

    if ((error = edited_target(ctx, &row, &m)) < 0)
        return error;
    if (strcmp(row->checksum, m->checksum) == 0) {
        dbm_log("nothing to accept: the file of %s has its recorded checksum", m->version);
        dbm_report_set(&ctx->report->status, "up-to-date");
        return 0;
    }
    old = dbm_xstrdup(row->checksum);
    if ((error = dbm_run_start(ctx, "repair", &run_id)) < 0)
        goto done;
    error = dbm_history_accept_edit(ctx->pg, ctx->cfg->history_schema, run_id, m->version, old,
                                    m->checksum);
    if (error == DBM_ENOTFOUND)
        error = dbm_error_set(DBM_EGENERIC,
                              "version %s changed in the history meanwhile; "
                              "nothing was recorded",
                              m->version);
    dbm_history_run_finish(ctx->pg, ctx->cfg->history_schema, run_id, error ? "failed" : "applied");
    if (error < 0)
        goto done;
    dbm_log("accepted the edit of %s: recorded checksum %s (was %s)", m->version, m->checksum, old);
    dbm_report_set(&ctx->report->status, "applied");
done:
    free(old);
    return error;
}

int dbm_cmd_repair(dbm_run_ctx *ctx)
{
    int error;

    if ((error = dbm_run_load_files(ctx)) < 0 || (error = dbm_run_connect(ctx)) < 0 ||
        (error = dbm_run_lock(ctx)) < 0 || (error = dbm_run_read_history(ctx)) < 0)
        return error;
    return ctx->cfg->accept_edit ? accept_edit(ctx) : clear_failed(ctx);
}
