/*
 * commands.h - each command's function and argument check, for the rows of
 * the table (table.c).
 *
 * Internal to src/command/. Each function is in the file named for its
 * command; dbm_command_run (command.h) makes the context it runs with.
 */
#ifndef DBM_COMMAND_COMMANDS_H
#define DBM_COMMAND_COMMANDS_H

#include "command/command.h"
#include "config.h"

int dbm_cmd_plan(dbm_run_ctx *ctx);
int dbm_cmd_apply(dbm_run_ctx *ctx);
int dbm_cmd_dry_run(dbm_run_ctx *ctx);
int dbm_cmd_status(dbm_run_ctx *ctx);
int dbm_cmd_verify(dbm_run_ctx *ctx);
int dbm_cmd_baseline(dbm_run_ctx *ctx);
int dbm_cmd_rollback(dbm_run_ctx *ctx);
int dbm_cmd_repair(dbm_run_ctx *ctx);
int dbm_cmd_new(dbm_run_ctx *ctx);
int dbm_cmd_history(dbm_run_ctx *ctx);
int dbm_cmd_report(dbm_run_ctx *ctx);

/* "'NAME' needs --target-version" (rollback, repair). */
int dbm_command_check_target(const dbm_config *cfg, const char *name);
/* baseline needs --target-version unless it adopts another tool's history. */
int dbm_cmd_baseline_check(const dbm_config *cfg, const char *name);
/* repair needs --target-version or --accept-edit, and not two different versions. */
int dbm_cmd_repair_check(const dbm_config *cfg, const char *name);
/* report needs files: arguments, or the reports option's globs. */
int dbm_cmd_report_check(const dbm_config *cfg, const char *name);
/* new needs the name of the migration: "'new' needs a name". */
int dbm_cmd_new_check(const dbm_config *cfg, const char *name);

#endif
