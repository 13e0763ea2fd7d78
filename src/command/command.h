/*
 * commands.h - the commands of DESIGN section 2, on top of the modules.
 *
 * Each command fills the report and returns 0 or an error code; main.c emits
 * the report and turns the code into the exit status. A command that found a
 * blocking problem returns DBM_EBLOCKED with the problems as findings.
 */
#ifndef DBM_COMMANDS_H
#define DBM_COMMANDS_H

#include "config.h"
#include "common/record.h"

int dbm_run_command(const dbm_config *cfg, dbm_report *report);

#endif
