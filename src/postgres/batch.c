/*
 * batch.c - many small transactional migrations to one simple-protocol
 * message.
 *
 * A small transactional migration is sent as text: BEGIN, its settings, its
 * statements, its history row, COMMIT. Consecutive ones share a message, each
 * still its own transaction, so the server runs them back to back and a
 * network costs one round trip per message, not per migration. Each statement
 * still gets its own result, so a failure names its statement, and
 * PostgreSQL's error position, relative to the whole message, is mapped back
 * to the statement's text.
 */
#include "postgres/db_internal.h"
#include "postgres/connect.h"
#include "common/error.h"
#include "postgres/history_internal.h"
#include "common/log.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * A message holds at most this many migrations and bytes of them, so the log
 * keeps up with the work and the server parses little at once (it parses a
 * whole message before running any of it). Larger files go alone through
 * dbm_db_run_transactional, which sends one statement at a time.
 */
#define BATCH_MAX_ITEMS 64
#define BATCH_MAX_BYTES (256u << 10)
#define BATCH_FILE_MAX  (64u << 10)

/* From this many migrations in a message on, their history and settings statements are
 * prepared once. */
#define BATCH_PREPARE_MIN 4

bool dbm_db_batchable(PGconn *conn, const dbm_migration *m, const dbm_stmt_list *stmts)
{
    /* Before PostgreSQL 13, statement_timeout covered a whole message, not each statement. */
    return !m->no_transaction && !m->reset_session && !stmts->manages_transaction && !m->verify &&
           m->up_len <= BATCH_FILE_MAX && PQserverVersion(conn) >= 130000;
}

size_t dbm_db_batch_item_results(const dbm_batch_item *it)
{
    return it->stmts->count + DBM_BATCH_ITEM_PREFIX + (it->opts.replace_existing ? 3 : 2) +
           (it->stmts->sets_session ? DBM_DB_RESTORE_STATEMENTS : 0);
}

/* --- the message --- */

/* Where items[first..) stop fitting in one message: b->end, and the statement count. */
static size_t batch_extent(dbm_batch_msg *b, const dbm_batch_item *items, size_t first, size_t n,
                           size_t max_items)
{
    size_t nat = 0, bytes = 0, k;

    for (k = first; k < n && k - first < max_items; k++) {
        if (k > first && bytes + items[k].m->up_len > BATCH_MAX_BYTES)
            break;
        bytes += items[k].m->up_len;
        nat += items[k].stmts->count;
    }
    b->end = k;
    return nat;
}

/* The PREPAREs of the history and settings statements that open a larger message. */
static void batch_prepare(dbm_batch_msg *b, PGconn *conn, const dbm_apply_opts *opts)
{
    static unsigned long prepared_seq;
    char *prep;

    /* Names no other run shares: a message that fails leaves its statements behind,
     * and a pooler may hand this session's server connection to another run. */
    prepared_seq++;
    snprintf(b->name, sizeof(b->name), "db_migrate_record_%ld_%lu", (long)getpid(), prepared_seq);
    snprintf(b->settings, sizeof(b->settings), "db_migrate_start_%ld_%lu", (long)getpid(),
             prepared_seq);
    prep = dbm_history_sql_prepare(conn, opts->schema, b->name);
    dbm_buf_printf(&b->sql, "%s;\n", prep);
    free(prep);
    prep = dbm_db_tx_settings_prepare(b->settings, opts->search_path != NULL);
    dbm_buf_printf(&b->sql, "%s;\n", prep);
    free(prep);
    b->pre = 2;
}

/*
 * What opens each item. The server sends a message's results when it ends,
 * when its output buffer fills, or with a notice: so each item starts with
 * one, and the results of the items before it, committed by then, reach the
 * log as it starts rather than after the message's last item. (A migration
 * that runs long would otherwise leave the log on an earlier one while later
 * ones had committed.) client_min_messages is set for the notice to be sent,
 * for the item's transaction only; the notice processor drops it.
 */
#define BATCH_FLUSH_SQL                                                                            \
    "DO $db_migrate$BEGIN PERFORM set_config('client_min_messages', 'notice', true); "             \
    "RAISE NOTICE '" DBM_DB_FLUSH_NOTICE "'; END$db_migrate$"

/* Item `it` into the message, its statements' offsets from at[*nat] on. */
static void batch_add_item(dbm_batch_msg *b, PGconn *conn, const dbm_batch_item *it, size_t *nat)
{
    char *settings = *b->settings ? dbm_db_tx_settings_execute(b->settings, &it->opts)
                                  : dbm_db_tx_settings_sql(&it->opts);
    char *hist =
        *b->name ? dbm_history_sql_execute(conn, b->name, it->m, it->opts.run_id, it->opts.git_sha)
                 : dbm_history_sql_applied(conn, it->opts.schema, it->m, it->opts.run_id,
                                           it->opts.git_sha);

    dbm_buf_printf(&b->sql, "%s;\nBEGIN;\n%s;\n", BATCH_FLUSH_SQL, settings);
    for (size_t i = 0; i < it->stmts->count; i++) {
        const dbm_stmt *st = &it->stmts->items[i];
        b->at[(*nat)++] = b->sql.len;
        dbm_buf_put(&b->sql, it->m->up + st->offset, st->len);
        /* On its own line: the statement may end in a -- comment. */
        dbm_buf_puts(&b->sql, "\n;\n");
    }
    /* A file that changed the session puts it back before its history row, in its transaction. */
    for (size_t i = 0; it->stmts->sets_session && i < DBM_DB_RESTORE_STATEMENTS; i++)
        dbm_buf_printf(&b->sql, "%s;\n", dbm_db_session_restore(conn)[i]);
    if (it->opts.replace_existing) {
        char *del = dbm_history_sql_delete(conn, it->opts.schema, it->m->version);
        dbm_buf_printf(&b->sql, "%s;\n", del);
        free(del);
    }
    dbm_buf_printf(&b->sql, "%s;\nCOMMIT;\n", hist);
    free(settings);
    free(hist);
}

void dbm_db_batch_build(dbm_batch_msg *b, PGconn *conn, const dbm_batch_item *items, size_t first,
                        size_t n, size_t max_items)
{
    size_t nat;

    memset(b, 0, sizeof(*b));
    b->first = first;
    nat = batch_extent(b, items, first, n, max_items);
    b->at = dbm_xcalloc(nat + 1, sizeof(*b->at));
    b->base = dbm_xcalloc(b->end - first, sizeof(*b->base));
    if (b->end - first >= BATCH_PREPARE_MIN)
        batch_prepare(b, conn, &items[first].opts);
    nat = 0;
    for (size_t k = first; k < b->end; k++) {
        b->base[k - first] = nat;
        batch_add_item(b, conn, &items[k], &nat);
    }
    if (*b->name)
        dbm_buf_printf(&b->sql, "DEALLOCATE %s;\nDEALLOCATE %s;\n", b->name, b->settings);
}

void dbm_db_batch_free(dbm_batch_msg *b)
{
    dbm_buf_free(&b->sql);
    free(b->at);
    free(b->base);
}

size_t dbm_db_batch_error_offset(const dbm_batch_msg *b, const dbm_batch_item *items, size_t k,
                                 size_t pos, const char *position)
{
    const dbm_batch_item *it = &items[k];
    const dbm_stmt *st;
    size_t at, in_msg;

    if (pos < DBM_BATCH_ITEM_PREFIX || pos >= DBM_BATCH_ITEM_PREFIX + it->stmts->count)
        return 0;
    /* Where in the message, then where in the file, when it falls inside the statement. */
    st = &it->stmts->items[pos - DBM_BATCH_ITEM_PREFIX];
    at = b->at[b->base[k - b->first] + pos - DBM_BATCH_ITEM_PREFIX];
    in_msg = dbm_db_position_offset(b->sql.ptr, b->sql.len, 0, position);
    return in_msg >= at && in_msg <= at + st->len ? st->offset + (in_msg - at) : st->offset;
}

/* --- sending and reading --- */

/* Item k of the message failed with `res` at its result `pos`: its row says how. */
static void batch_failed(const dbm_batch_msg *b, const dbm_batch_item *items, size_t k, size_t pos,
                         PGresult *res, PGconn *conn, dbm_mig_result *r)
{
    const dbm_batch_item *it = &items[k];
    size_t offset = dbm_db_batch_error_offset(b, items, k, pos,
                                              PQresultErrorField(res, PG_DIAG_STATEMENT_POSITION));

    dbm_db_record_error(r, res, conn, it->m->up, it->m->up_len, offset, it->m->up_line,
                        it->opts.display_path);
    dbm_db_transactional_hint(r, res,
                              pos >= DBM_BATCH_ITEM_PREFIX + it->stmts->count &&
                                  pos + 1 < dbm_db_batch_item_results(it));
}

/* Item `it` outside a batch, a statement at a time, its outcome in `r`. */
static int statements_one_by_one(dbm_mig_result *r, PGconn *conn, const dbm_batch_item *it)
{
    int64_t started = dbm_now_us();
    int error = dbm_db_run_statements(r, conn, it->m, it->stmts, &it->opts);

    r->statement_count = (int)it->stmts->count;
    r->transactional = true;
    r->duration_ms = (double)(dbm_now_us() - started) / 1000.0;
    r->status = error == 0 ? DBM_MIG_APPLIED : DBM_MIG_FAILED;
    return error;
}

/* A result where an item's DO, BEGIN or COMMIT should be, that is not one. */
static bool wrong_tag(const PGresult *res, size_t pos, size_t nres)
{
    const char *tag = PQcmdStatus((PGresult *)res);
    return (pos == 0 && strcmp(tag, "DO") != 0) || (pos == 1 && strcmp(tag, "BEGIN") != 0) ||
           (pos + 1 == nres && strcmp(tag, "COMMIT") != 0);
}

/* Where reading a message's results has got to. */
typedef struct {
    size_t j;           /* the item the results have reached */
    size_t pos;         /* results of item j read so far */
    size_t pre;         /* results before the first item still to come */
    size_t seen;        /* results of statements the server ran */
    long long duration; /* item j's duration_ms from its history row; -1 before it */
    double done_ms;     /* server time of the items applied from this message */
    PGresult *err;      /* the first error, or NULL */
    size_t err_pos;     /* err's result in item j */
    bool mismatch;      /* the results cannot be matched to the statements sent */
} batch_reading;

/* The result at rd->pos of item rd->j ran; at its COMMIT the item is applied. */
static void item_result(batch_reading *rd, const PGresult *res, const dbm_batch_item *items,
                        const dbm_batch_hooks *hooks, int *attempt)
{
    const dbm_batch_item *it = &items[rd->j];
    dbm_mig_result *r;

    rd->seen++;
    if (rd->pos + 2 == dbm_db_batch_item_results(it) && PQntuples(res) == 1)
        rd->duration = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
    if (++rd->pos < dbm_db_batch_item_results(it))
        return;
    r = hooks->row(hooks->arg, rd->j);
    r->statement_count = (int)it->stmts->count;
    r->transactional = true;
    r->status = DBM_MIG_APPLIED;
    r->duration_ms = rd->duration >= 0 ? (double)rd->duration : 0;
    rd->done_ms += r->duration_ms;
    hooks->done(hooks->arg, rd->j, r, 0);
    rd->j++;
    rd->pos = 0;
    rd->duration = -1;
    *attempt = 0;
}

bool dbm_db_skip_copy(PGconn *conn, ExecStatusType st)
{
    char *row;

    if (st == PGRES_COPY_IN) {
        /* COPY FROM STDIN: the data would have to follow in the file, which SQL cannot. */
        PQputCopyEnd(conn, "db-migrate sends no COPY data; load it with INSERT or COPY "
                           "FROM a server file");
        return true;
    }
    if (st != PGRES_COPY_OUT)
        return false;
    while (PQgetCopyData(conn, &row, 0) > 0)
        PQfreemem(row);
    return true;
}

/*
 * Read every result of message `b`, reporting each item as its COMMIT comes.
 * The first error is kept in rd->err; what follows it is read and dropped.
 */
static void read_results(batch_reading *rd, PGconn *conn, const dbm_batch_msg *b,
                         const dbm_batch_item *items, const dbm_batch_hooks *hooks, int *attempt)
{
    PGresult *res;

    while ((res = PQgetResult(conn)) != NULL) {
        ExecStatusType st = PQresultStatus(res);

        if (dbm_db_skip_copy(conn, st)) {
            /* its data is refused or dropped */
        } else if (rd->err || rd->mismatch) {
            /* the rest of the message was skipped, or cannot be matched any more */
        } else if (rd->j == b->end) {
            /* after the last COMMIT: every item is applied, whatever comes now */
        } else if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK && st != PGRES_EMPTY_QUERY) {
            rd->err = res;
            rd->err_pos = rd->pos;
            continue;
        } else if (rd->pre > 0) {
            rd->pre--;
            rd->seen++;
        } else if (wrong_tag(res, rd->pos, dbm_db_batch_item_results(&items[rd->j]))) {
            /* The server split a file otherwise than its parser here did. */
            rd->mismatch = true;
        } else {
            item_result(rd, res, items, hooks, attempt);
        }
        PQclear(res);
    }
}

/* After a message failed: end its transaction, and drop what it prepared. */
static void batch_clean_up(PGconn *conn, const dbm_batch_msg *b)
{
    if (PQtransactionStatus(conn) == PQTRANS_INERROR ||
        PQtransactionStatus(conn) == PQTRANS_INTRANS)
        PQclear(PQexec(conn, "ROLLBACK"));
    if (*b->name && PQstatus(conn) == CONNECTION_OK) {
        /* Each alone: one fails when its PREPARE did not run, which is no matter. */
        char *drop = dbm_xasprintf("DEALLOCATE %s", b->name);
        PQclear(PQexec(conn, drop));
        free(drop);
        drop = dbm_xasprintf("DEALLOCATE %s", b->settings);
        PQclear(PQexec(conn, drop));
        free(drop);
    }
}

/* Item rd->j failed (message sent at `sent`): its row says how, and its done hook runs. */
static void report_failure(PGconn *conn, const dbm_batch_msg *b, const dbm_batch_item *items,
                           const batch_reading *rd, int64_t sent, const dbm_batch_hooks *hooks)
{
    size_t j = rd->j;
    dbm_mig_result *r = hooks->row(hooks->arg, j);

    r->statement_count = (int)items[j].stmts->count;
    r->transactional = true;
    r->status = DBM_MIG_FAILED;
    /* The server answers a message at its end: its time, less the items before. */
    r->duration_ms = (double)(dbm_now_us() - sent) / 1000.0 - rd->done_ms;
    if (r->duration_ms < 0)
        r->duration_ms = 0;
    if (rd->mismatch) {
        dbm_report_set_error(r,
                             "the server's results did not match the statements "
                             "sent; nothing after the last migration reported "
                             "applied was recorded by this run",
                             NULL);
        dbm_report_set(&r->error->file, items[j].opts.display_path);
    } else {
        batch_failed(b, items, j, rd->err_pos, rd->err, conn, r);
    }
    if (PQstatus(conn) != CONNECTION_OK)
        dbm_report_set(&r->error->hint,
                       "the connection was lost during a batch: this migration and "
                       "later ones of the batch may have committed before the server "
                       "noticed; `db-migrate status` shows what is recorded");
    hooks->done(hooks->arg, j, r, DBM_EFAILED);
}

/* Where dbm_db_apply_batch is: the next item, and how to send it. */
typedef struct {
    size_t k;           /* the next item to send */
    size_t per_message; /* items to a message at most */
    bool one_by_one;    /* send item k a statement at a time */
    bool no_flush;      /* the flush failed (no PL/pgSQL): every item a statement at a time */
    int attempt;        /* lock-timeout retries of item k so far */
} batch_loop;

/*
 * Send items from lp->k on in one message and read the results. 0 with lp
 * set for what to send next (past the items applied; one to a message, or a
 * statement at a time, when the server could not parse the message; the same
 * item again after a lock timeout), or DBM_EFAILED once an item's failure is
 * reported.
 */
static int send_message(batch_loop *lp, PGconn *conn, const dbm_batch_item *items, size_t n,
                        const dbm_batch_hooks *hooks)
{
    int64_t sent = dbm_now_us();
    batch_reading rd = {.j = lp->k, .duration = -1};
    dbm_batch_msg b;
    int error = 0;

    dbm_db_batch_build(&b, conn, items, lp->k, n, lp->per_message);
    rd.pre = b.pre;
    if (!PQsendQuery(conn, dbm_buf_cstr(&b.sql)))
        rd.err = PQmakeEmptyPGresult(conn, PGRES_FATAL_ERROR);
    read_results(&rd, conn, &b, items, hooks, &lp->attempt);
    if (!rd.err && !rd.mismatch &&
        rd.j < b.end) /* the results stopped short: the connection is gone */
        rd.err = PQmakeEmptyPGresult(conn, PGRES_FATAL_ERROR);
    if (!rd.err && !rd.mismatch) {
        lp->k = b.end;
        goto done;
    }
    batch_clean_up(conn, &b);
    if (!rd.mismatch && rd.seen == 0 && PQstatus(conn) == CONNECTION_OK) {
        /*
         * The server parses a whole message before it runs any of it, so
         * one migration it cannot parse stopped all of them: one to a
         * message from here, so the others run; and the one that fails
         * alone is sent a statement at a time, so its error is exact.
         */
        if (b.end - lp->k > 1)
            lp->per_message = 1;
        else
            lp->one_by_one = true;
    } else if (!rd.mismatch && rd.err_pos == 0 && PQstatus(conn) == CONNECTION_OK) {
        /* The item's flush failed, before its transaction began: a database without
         * PL/pgSQL. The rest go a statement at a time, which needs none. */
        lp->no_flush = true;
        lp->k = rd.j;
    } else if (!rd.mismatch && strcmp(dbm_db_sqlstate(rd.err), DBM_LOCK_TIMEOUT_SQLSTATE) == 0 &&
               lp->attempt < items[rd.j].opts.lock_retries) {
        dbm_log("  lock timeout in '%s' (attempt %d of %ld); retrying",
                items[rd.j].opts.display_path, lp->attempt + 1, items[rd.j].opts.lock_retries + 1);
        dbm_db_backoff(lp->attempt++);
        lp->k = rd.j;
    } else {
        report_failure(conn, &b, items, &rd, sent, hooks);
        error = DBM_EFAILED;
    }
done:
    PQclear(rd.err);
    dbm_db_batch_free(&b);
    return error;
}

/* Item k alone, a statement at a time. 0 or DBM_EFAILED, after its done hook. */
static int apply_alone(PGconn *conn, const dbm_batch_item *items, size_t k,
                       const dbm_batch_hooks *hooks)
{
    dbm_mig_result *r = hooks->row(hooks->arg, k);

    if (statements_one_by_one(r, conn, &items[k]) < 0) {
        hooks->done(hooks->arg, k, r, DBM_EFAILED);
        return DBM_EFAILED;
    }
    hooks->done(hooks->arg, k, r, 0);
    return 0;
}

int dbm_db_apply_batch(PGconn *conn, const dbm_batch_item *items, size_t n,
                       const dbm_batch_hooks *hooks)
{
    batch_loop lp = {.k = 0, .per_message = BATCH_MAX_ITEMS};

    while (lp.k < n) {
        const char *scs = PQparameterStatus(conn, "standard_conforming_strings");

        if (lp.one_by_one || lp.no_flush || !scs || strcmp(scs, "on") != 0) {
            /*
             * The files were split with standard_conforming_strings on; with
             * it off the server reads backslashes in strings otherwise, and
             * text run together could be read across statements. Also the
             * way to the error when the server could not parse a message.
             */
            if (apply_alone(conn, items, lp.k, hooks) < 0)
                return DBM_EFAILED;
            lp.k++;
            lp.one_by_one = false;
            continue;
        }
        if (send_message(&lp, conn, items, n, hooks) < 0)
            return DBM_EFAILED;
    }
    return 0;
}
