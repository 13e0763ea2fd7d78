/*
 * rollback.c - run the down sections of the applied migrations newer than
 * --target-version (without one, the newest alone; 0: all), newest first,
 * each deleting its history row.
 *
 * Under the run lock, and in this order, so that a mistake touches nothing:
 * the target must be an applied version (else exit 2 naming the nearest
 * ones); every migration to undo must have a file and a down section that
 * parses; the list of what will be undone, with each down section's
 * destructive statements and the rows of the tables they empty, is printed;
 * then the user confirms (a question on a terminal, --yes elsewhere, the
 * command input in the Action). The first failure stops the rollback.
 * Running a down section is postgres/db's.
 */
#include "command/commands.h"
#include "command/run.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "postgres/db.h"
#include "postgres/history.h"
#include "postgres/size.h"
#include "sql/destructive.h"
#include "sql/parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* What the rollback undoes: files by index, newest first, with their parsed down sections. */
typedef struct {
    size_t *todo;
    dbm_stmt_list **down; /* per entry of todo */
    size_t count;
} rollback_list;

/* Whether version v is undone: newer than the boundary (NULL: every version is). */
static bool undone(const dbm_run_ctx *ctx, const char *boundary, const char *v)
{
    return !boundary || dbm_version_cmp(ctx->set->format, v, boundary) > 0;
}

/*
 * The files to roll back, newest first, into l. DBM_EBLOCKED when one of them
 * has no down section.
 */
static int collect(dbm_run_ctx *ctx, const char *boundary, rollback_list *l)
{
    for (size_t k = ctx->set->count; k-- > 0;) {
        const dbm_migration *m = &ctx->set->items[k];
        const dbm_history_row *row = dbm_history_find(ctx->history, m->version);
        int error;
        if (m->repeatable || !row || !undone(ctx, boundary, m->version))
            continue;
        if (strcmp(row->checksum, m->checksum) != 0) {
            error = dbm_error_set(DBM_EBLOCKED,
                                  "'%s' was edited after it was applied (history %s, file %s): "
                                  "its down section may not undo what was applied; nothing was "
                                  "rolled back",
                                  ctx->display[k], row->checksum, m->checksum);
            dbm_error_hint("restore the applied version of the file to roll it back; if the edit "
                           "changed nothing that was applied, 'db-migrate repair --accept-edit "
                           "%s' records it first",
                           m->version);
            return error;
        }
        if (!m->down) {
            error = dbm_error_set(DBM_EBLOCKED, "'%s' has no down section; nothing was rolled back",
                                  ctx->display[k]);
            dbm_error_hint("add a '-- migrate:down' section, or roll back to a newer version");
            return error;
        }
        l->todo[l->count++] = k;
    }
    return 0;
}

/* DBM_EBLOCKED when a version to undo is applied but has no file. */
static int check_files_exist(dbm_run_ctx *ctx, const char *boundary)
{
    for (size_t i = 0; ctx->history && i < ctx->history->count; i++) {
        const dbm_history_row *row = &ctx->history->rows[i];
        if (!dbm_migrations_find(ctx->set, row->version) && !dbm_starts_with(row->version, "R__") &&
            undone(ctx, boundary, row->version))
            return dbm_error_set(DBM_EBLOCKED,
                                 "version %s is applied but has no file; nothing was rolled back",
                                 row->version);
    }
    return 0;
}

/* A down section that does not parse: the row's error points into the file. */
static int down_syntax_error(dbm_run_ctx *ctx, size_t k, int line, int col)
{
    const dbm_migration *m = &ctx->set->items[k];
    dbm_mig_result *r =
        dbm_report_add_migration(ctx->report, m->version, m->name, ctx->display[k], DBM_MIG_FAILED);
    dbm_error_info *e;
    char *msg = dbm_xasprintf("%s; nothing was rolled back", dbm_error_message());

    e = dbm_report_set_error(r, msg, NULL);
    dbm_report_set(&e->file, ctx->display[k]);
    e->line = m->down_line + line - 1;
    e->column = col;
    dbm_error_set(DBM_EFAILED, "the down section of '%s' does not parse (line %d): %s",
                  ctx->display[k], e->line, msg);
    free(msg);
    return DBM_EFAILED;
}

/* Parse every down section before anything runs. */
static int parse_all(dbm_run_ctx *ctx, rollback_list *l)
{
    for (size_t i = 0; i < l->count; i++) {
        const dbm_migration *m = &ctx->set->items[l->todo[i]];
        int line = 0, col = 0;
        size_t tx;
        if (dbm_sql_split(&l->down[i], &line, &col, m->down, m->down_len) < 0)
            return down_syntax_error(ctx, l->todo[i], line, col);
        tx = dbm_sql_misplaced_tx_control(l->down[i]);
        if (!m->no_transaction && !l->down[i]->has_no_tx && tx < l->down[i]->count) {
            const dbm_stmt *s = &l->down[i]->items[tx];
            int error = dbm_error_set(DBM_EBLOCKED,
                                      "the down section of '%s' line %d: %s would end the "
                                      "transaction it runs in, with the removal of its history "
                                      "row; nothing was rolled back",
                                      ctx->display[l->todo[i]], m->down_line + s->line - 1, s->tag);
            dbm_error_hint("remove it: the section runs in one transaction (a leading BEGIN with "
                           "a closing COMMIT is allowed)");
            return error;
        }
    }
    return 0;
}

/* "50000 rows", "about 3200000 rows (pg_class.reltuples)", ... for a table that loses them. */
static char *rows_text(dbm_run_ctx *ctx, const dbm_destructive *d)
{
    dbm_table_size sz;

    if (!d->table || !d->all_rows)
        return dbm_xstrdup(d->table ? " (the rows its WHERE matches)" : "");
    if (dbm_db_table_size(&sz, ctx->pg, d->schema, d->table) < 0) {
        char *t = dbm_xasprintf(" (rows unknown: %s)", dbm_error_message());
        dbm_error_clear();
        return t;
    }
    if (!sz.exists)
        return dbm_xstrdup(" (no such table now)");
    if (sz.never_analyzed)
        return dbm_xasprintf(" (%lld MB, never analyzed: rows unknown)", sz.bytes >> 20);
    if (sz.estimated)
        return dbm_xasprintf(" (about %lld rows, estimated from pg_class.reltuples)", sz.rows);
    return dbm_xasprintf(" (%lld row%s, counted)", sz.rows, sz.rows == 1 ? "" : "s");
}

/* The list of what will be undone, on stdout, before anything runs. */
static void preview(dbm_run_ctx *ctx, const rollback_list *l)
{
    printf("rollback will undo %zu migration%s, newest first:\n", l->count,
           l->count == 1 ? "" : "s");
    for (size_t i = 0; i < l->count; i++) {
        const dbm_migration *m = &ctx->set->items[l->todo[i]];
        char *down = m->down_path ? dbm_xasprintf("%s%s%s", ctx->cfg->shown_dir,
                                                  *ctx->cfg->shown_dir ? "/" : "", m->down_path)
                                  : dbm_xstrdup(ctx->display[l->todo[i]]);
        dbm_destructive_list *dl = NULL;
        char *shown = dbm_printable(down);

        dbm_sql_destructive(&dl, l->down[i]);
        printf("  %s  %s\n", m->version, shown);
        for (size_t j = 0; j < dl->count; j++) {
            const dbm_destructive *d = &dl->items[j];
            char *obj = dbm_printable(d->object), *rows = rows_text(ctx, d);
            printf("    line %d: %s %s%s%s\n", m->down_line + d->line - 1, d->what, obj,
                   d->cascade ? " CASCADE" : "", rows);
            free(obj);
            free(rows);
        }
        if (dl->count == 0)
            printf("    no destructive statement\n");
        dbm_destructive_list_free(dl);
        free(shown);
        free(down);
    }
    fflush(stdout);
}

/*
 * The user's go-ahead: --yes (or the Action's command input), else a y/N
 * question on a terminal; off a terminal without --yes nothing runs (exit 2).
 */
static int confirm(dbm_run_ctx *ctx, size_t count)
{
    char answer[16] = "";
    int error;

    if (ctx->cfg->yes)
        return 0;
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        error =
            dbm_error_set(DBM_ECONFIG, "rollback needs a confirmation; nothing was rolled back");
        dbm_error_hint("check the list above, then run it again with --yes (or on a terminal to "
                       "be asked)");
        return error;
    }
    printf("roll back %s? [y/N] ", count == 1 ? "this migration" : "these migrations");
    fflush(stdout);
    if (fgets(answer, sizeof(answer), stdin))
        answer[strcspn(answer, "\r\n")] = '\0';
    if (strcasecmp(answer, "y") == 0 || strcasecmp(answer, "yes") == 0)
        return 0;
    dbm_report_set(&ctx->report->status, "blocked");
    return dbm_error_set(DBM_EBLOCKED, "rollback not confirmed; nothing was rolled back");
}

/* Roll back entry i of l in run run_id. DBM_EFAILED, with the run's message, when it fails. */
static int rollback_one(dbm_run_ctx *ctx, const rollback_list *l, size_t i, long long run_id)
{
    const dbm_config *cfg = ctx->cfg;
    size_t k = l->todo[i];
    const dbm_migration *m = &ctx->set->items[k];
    dbm_mig_result *r = dbm_report_add_migration(ctx->report, m->version, m->name, ctx->display[k],
                                                 DBM_MIG_PENDING);
    dbm_apply_opts o;
    int error;

    memset(&o, 0, sizeof(o));
    o.schema = cfg->history_schema;
    o.run_id = run_id;
    o.lock_timeout_ms = cfg->lock_timeout_ms;
    o.statement_timeout_ms = cfg->statement_timeout_ms;
    o.lock_retries = cfg->lock_retries;
    o.search_path = cfg->search_path;
    error = dbm_db_rollback_one(r, ctx->pg, m, l->down[i], &o);
    if (error == 0) {
        /* Undone, not applied: its status says so, and it is pending again. */
        r->status = DBM_MIG_ROLLED_BACK;
        dbm_log("rolled back %s", ctx->display[k]);
        ctx->report->rolled_back_count++;
        ctx->report->pending_count++;
        return 0;
    }
    dbm_error_set(DBM_EFAILED, "unable to roll back '%s': %s", ctx->display[k],
                  r->error ? r->error->message : "failed");
    return error;
}

/* Everything before the first change: target, files, down sections, the list, the go-ahead. */
static int prepare(dbm_run_ctx *ctx, rollback_list *l)
{
    const char *boundary = NULL;
    int error;

    error = dbm_history_rollback_boundary(&boundary, ctx->history, ctx->set->format,
                                          ctx->cfg->target_version);
    if (error == DBM_ENOTFOUND) {
        dbm_log("nothing to roll back: no migration is applied");
        return error;
    }
    l->todo = dbm_xcalloc(ctx->set->count + 1, sizeof(*l->todo));
    l->down = dbm_xcalloc(ctx->set->count + 1, sizeof(*l->down));
    if (error < 0 || (error = collect(ctx, boundary, l)) < 0 ||
        (error = check_files_exist(ctx, boundary)) < 0 || (error = parse_all(ctx, l)) < 0)
        return error;
    if (l->count == 0) {
        dbm_log("nothing to roll back: no applied migration is newer than %s", boundary);
        return DBM_ENOTFOUND;
    }
    preview(ctx, l);
    return confirm(ctx, l->count);
}

int dbm_cmd_rollback(dbm_run_ctx *ctx)
{
    const char *schema = ctx->cfg->history_schema;
    rollback_list l = {NULL, NULL, 0};
    long long run_id;
    int error;

    if ((error = dbm_run_load_files(ctx)) < 0 || (error = dbm_run_connect(ctx)) < 0 ||
        (error = dbm_run_lock(ctx)) < 0 || (error = dbm_run_read_history(ctx)) < 0)
        return error;
    for (size_t i = 0; i < ctx->set->count; i++)
        if (!ctx->set->items[i].repeatable &&
            !dbm_history_find(ctx->history, ctx->set->items[i].version))
            ctx->report->pending_count++;
    if ((error = prepare(ctx, &l)) == DBM_ENOTFOUND) {
        dbm_report_set(&ctx->report->status, "up-to-date");
        error = 0;
        goto done;
    }
    if (error < 0 || (error = dbm_run_start(ctx, "rollback", &run_id)) < 0)
        goto done;
    for (size_t i = 0; i < l.count && error == 0; i++)
        error = rollback_one(ctx, &l, i, run_id);
    dbm_history_run_finish(ctx->pg, schema, run_id, error ? "failed" : "rolled-back");
    dbm_report_set(&ctx->report->status, error ? "failed" : "rolled-back");
done:
    for (size_t i = 0; i < l.count; i++)
        dbm_stmt_list_free(l.down[i]);
    free(l.down);
    free(l.todo);
    return error;
}
