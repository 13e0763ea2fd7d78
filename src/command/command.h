/*
 * command.h - the commands of DESIGN section 2, on top of the modules.
 *
 * Each command fills the report and returns 0 or an error code; main.c emits
 * the report and turns the code into the exit status. A command that found a
 * blocking problem returns DBM_EBLOCKED with the problems as findings.
 */
#ifndef DBM_COMMAND_H
#define DBM_COMMAND_H

#include "common/record.h"
#include "config.h"

/* The run's context, shared by a command's steps (command/run.h, internal). */
typedef struct dbm_run_ctx dbm_run_ctx;

int dbm_cmd_plan(dbm_run_ctx *ctx);
int dbm_cmd_apply(dbm_run_ctx *ctx);
int dbm_cmd_dry_run(dbm_run_ctx *ctx);
int dbm_cmd_status(dbm_run_ctx *ctx);
int dbm_cmd_verify(dbm_run_ctx *ctx);
int dbm_cmd_baseline(dbm_run_ctx *ctx);
int dbm_cmd_rollback(dbm_run_ctx *ctx);
int dbm_cmd_repair(dbm_run_ctx *ctx);
int dbm_cmd_new(dbm_run_ctx *ctx);

int dbm_run_command(const dbm_config *cfg, dbm_report *report);

#endif
