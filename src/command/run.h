/*
 * run.h - what the commands share: the run's context, the files, the
 * connection, the run lock, the history, and each file's state against it.
 *
 * Internal to src/command/. Every command that touches the database follows
 * one shape: read the files, connect, (take the run lock and create the
 * history tables when it writes), read the history, classify each file,
 * check before running anything (check.h), then act; nothing is applied when
 * any check blocks. What each command then does is in its own file. The SQL
 * is postgres/'s, the git checks git/'s, the renderings report/'s.
 */
#ifndef DBM_COMMAND_RUN_H
#define DBM_COMMAND_RUN_H

#include "command/command.h"
#include "common/record.h"
#include "config.h"
#include "migration/applied.h"
#include "migration/migration.h"
#include "postgres/connect.h"
#include "sql/parse.h"

#include <stdbool.h>
#include <stddef.h>

/* A file's state against the history. */
typedef enum {
    DBM_RUN_APPLIED,     /* recorded as applied with the file's checksum */
    DBM_RUN_PENDING,     /* not recorded, or a repeatable file whose checksum changed */
    DBM_RUN_EDITED,      /* recorded as applied with another checksum */
    DBM_RUN_RESUME,      /* recorded as failed: pending, resumed where it failed */
    DBM_RUN_OUT_OF_ORDER /* not recorded, and older than the newest applied version */
} dbm_run_state;

struct dbm_run_checks; /* check.c's: parse-ahead results and rule findings by statement */

/*
 * The run's context, shared by the steps of a command. It borrows cfg and
 * report; everything else in it belongs to it and is freed by
 * dbm_run_ctx_free. The per-file arrays are indexed like set->items and exist
 * once the files are read.
 */
struct dbm_run_ctx {
    const dbm_config *cfg;
    dbm_report *report;
    dbm_migration_set *set;
    dbm_conn *conn;
    PGconn *pg; /* conn's, once connected */
    dbm_history *history;
    struct dbm_db_lock *lock;     /* the run lock, once taken (postgres/db.h) */
    dbm_run_state *state;         /* per file */
    dbm_stmt_list **parsed;       /* per file; parsed for the files that are checked */
    char **display;               /* per file: the path users see */
    size_t *row;                  /* per file: its index in report->migs once it has a row */
    struct dbm_run_checks *check; /* NULL until check.c parses something */
    bool *changed;                /* per file, once dbm_check_changed ran: changed since the base */
};

/*
 * Each file's state against `history` (NULL: none recorded): states has
 * set->count entries. When missing is not NULL it has history->count entries,
 * each set to whether that row has no file in the set. Pure: reads and fills
 * what it is given only.
 */
void dbm_run_classify_files(dbm_run_state *states, bool *missing, const dbm_migration_set *set,
                            const dbm_history *history);

/* The newest version recorded as applied (repeatables aside), or NULL; borrowed from history. */
const char *dbm_run_newest_applied(const dbm_migration_set *set, const dbm_history *history);

/* Whether a file in state `s` is still to run. */
bool dbm_run_is_pending(dbm_run_state s);

/* Read the migrations directory into ctx (the set, the per-file arrays). */
int dbm_run_load_files(dbm_run_ctx *ctx);

/*
 * Without a connection, graphile-migrate's :DATABASE_NAME and :DATABASE_OWNER
 * as libpq would default them (PGDATABASE, PGUSER, the login name), so the
 * files parse; a connected run substitutes the session's.
 */
void dbm_run_placeholders_offline(dbm_run_ctx *ctx);

/* Connect (the files are read already). DBM_ECONNECT and friends as dbm_connect says. */
int dbm_run_connect(dbm_run_ctx *ctx);

/* Open a connection as cfg says (its database-url, TLS, IAM, tunnel), outside any run;
 * *out is the caller's (dbm_conn_free). As dbm_connect. */
int dbm_run_connect_config(dbm_conn **out, const dbm_config *cfg);

/*
 * Read the files while the connection opens on a second thread. A problem
 * with the files is reported first, as it would be if nothing ran in parallel.
 */
int dbm_run_load_files_and_connect(dbm_run_ctx *ctx);

/* Read the history once, without the lock (a no-op when it is read already). */
int dbm_run_read_history(dbm_run_ctx *ctx);

/*
 * Take the run lock, then read the history (after the lock, so what another
 * run applied meanwhile is seen), creating the tables when they are missing.
 * DBM_ELOCKED when another run holds the lock past run-lock-wait.
 */
int dbm_run_lock(dbm_run_ctx *ctx);

/*
 * Classify each file against the history (into ctx->state) and add the
 * findings: edited applied migrations block, and out-of-order pending ones
 * unless out-of-order is allow; history rows without a file are a warning, an
 * error when missing_blocks (verify).
 */
void dbm_run_classify(dbm_run_ctx *ctx, bool missing_blocks);

/* Whether any file is still to run. */
bool dbm_run_any_pending(const dbm_run_ctx *ctx);

/*
 * When the history is empty, look for another tool's history table: a finding
 * of `severity` names it (apply blocks on it; plan and status only say so).
 */
int dbm_run_adopt_scan(dbm_run_ctx *ctx, dbm_severity severity);

/* The git checks (git/check.h); expect_blocks: a mismatch of expect-deployed is an error. */
int dbm_run_gitcheck(dbm_run_ctx *ctx, bool expect_blocks);

/*
 * The steps apply and dry-run share before they act: files, connection, (when
 * `writes`, the run lock and the history tables), history, classification,
 * parsing, rules, git. Without `writes` the history is read when it exists and
 * nothing is created.
 */
int dbm_run_prepare(dbm_run_ctx *ctx, bool writes);

/*
 * The report's rows for every file in its state, and for history rows without a
 * file. When ctx->changed is set (a plan without a database against a base),
 * only the changed files are pending; the others are history ("earlier").
 */
void dbm_run_report_rows(dbm_run_ctx *ctx);

/*
 * File i's statements as excerpts in its row r (each statement of a dry-run's
 * rows too), and its statement count, when the file was parsed.
 */
void dbm_run_excerpts(dbm_run_ctx *ctx, size_t i, dbm_mig_result *r);

/*
 * The row of a file that apply or dry-run does not run: applied before, or
 * skipped because an earlier one failed (it then counts as pending).
 */
void dbm_run_idle_row(dbm_run_ctx *ctx, size_t i, bool failed);

/*
 * fail-on: raise the safety rules' warnings (those a dry-run did not refute)
 * to errors, so they block, or with `never` lower their errors to warnings.
 * Findings of other checks (edits, syntax errors) keep their level.
 */
void dbm_run_fail_on(dbm_run_ctx *ctx);

/*
 * The end of plan, status and verify: DBM_EBLOCKED when a finding blocks,
 * else 0 with the status pending or up-to-date.
 */
int dbm_run_inspected(dbm_run_ctx *ctx);

/*
 * Mark the report blocked and return DBM_EBLOCKED; the message counts the
 * blocking problems: the files with an error finding (however many checks
 * found it), and each error finding about no file.
 */
int dbm_run_blocked(dbm_report *report);

/* Record the start of a run of `command` in the history (baseline, repair, rollback). */
int dbm_run_start(dbm_run_ctx *ctx, const char *command, long long *run_id);

/*
 * The file of target-version, or NULL; when neither a file nor the history
 * has that version, DBM_ECONFIG's message is set.
 */
const dbm_migration *dbm_run_find_target(dbm_run_ctx *ctx);

/* Whether the run is for a pull_request* event. */
bool dbm_run_on_pull_request(const dbm_config *cfg);

/* Free what ctx holds, releasing the run lock first; cfg and report stay. */
void dbm_run_ctx_free(dbm_run_ctx *ctx);

#endif
