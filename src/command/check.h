/*
 * check.h - the static checks ahead of a run: parsing each file with
 * PostgreSQL's parser and running the safety rules over it, and, after a
 * dry-run, judging each rule finding against what was measured.
 *
 * Internal to src/command/. Parsing and the rules themselves are sql/'s; this
 * module decides which files are checked, turns what sql/ says into the
 * report's findings, and keeps the files' statement lists in ctx->parsed for
 * the commands that run them. A blocking problem is a finding of severity
 * error: the functions here return an error code only for failures of the
 * checks themselves.
 */
#ifndef DBM_COMMAND_CHECK_H
#define DBM_COMMAND_CHECK_H

#include "command/run.h"

#include <stdbool.h>

/*
 * Parse and check every pending file not parsed yet, in file order (ahead on
 * two threads when there are many): syntax errors, statements that cannot run
 * in a transaction, empty files, and the safety rules, as findings.
 */
int dbm_check_pending(dbm_run_ctx *ctx);

/*
 * The same for the files git lists as changed since the base (the pull
 * request's base or the deployed commit): an offline plan checks what a
 * reviewer would read. ctx->changed says which files these were.
 */
int dbm_check_changed(dbm_run_ctx *ctx);

/*
 * After a dry-run: mark each rule finding about a statement that ran
 * (ran[i] for file i) confirmed or refuted by the locks and rewrites measured,
 * where the measurement can tell.
 */
void dbm_check_confirm(dbm_run_ctx *ctx, const bool *ran);

/* Free ctx->check. */
void dbm_check_free(dbm_run_ctx *ctx);

#endif
