/*
 * lambda.h - db-migrate as an AWS Lambda custom runtime (DESIGN section 10).
 *
 * With AWS_LAMBDA_RUNTIME_API set (Lambda sets it in the function's sandbox)
 * main.c hands the process to dbm_lambda_serve, whatever its arguments, so
 * the image's entrypoint serves as the function's runtime. Each invocation is
 * one run:
 *
 *   event    {"command": "apply", "inputs": {OPTION: VALUE, ...},
 *             "expect-migrations": DIGEST,
 *             "audit": {"git-sha", "actor", "event", "run-url"}}
 *   response {"exit-code": N, "status": S, "continue": BOOL, "report": {...}}
 *
 * "inputs" are the action inputs of DESIGN section 3 by the same names
 * (values: strings, numbers or booleans), read as the flags --NAME=VALUE
 * over the function's environment and db-migrate.yml; "command" is the
 * command word (default apply). "expect-migrations" is
 * migration/digest.h's digest of the files the Action saw; "audit" is
 * recorded in the history's runs row instead of the GITHUB_* variables. The
 * report is the JSON report of DESIGN section 7, exit-code the exit status
 * the same run would have had on a command line. "continue" is true when
 * the run stopped before the invocation's deadline with migrations left: the
 * caller invokes again with the same event.
 *
 * An event that cannot become a run (not a JSON object, an unknown key or
 * input, a value of the wrong type or an invalid one, an unknown command)
 * gets Lambda's error response instead, errorType "DbMigrate.InvalidEvent",
 * errorMessage the one-line error then "hint: ..." on a second line: the
 * caller should treat it as exit status 2.
 */
#ifndef DBM_COMMAND_LAMBDA_H
#define DBM_COMMAND_LAMBDA_H

/* The errorType of an event that cannot become a run (exit status 2 for the caller). */
#define DBM_LAMBDA_INVALID_EVENT "DbMigrate.InvalidEvent"

#include "command/command.h"
#include "config.h"

#include <jansson.h>

/*
 * The configuration and command an event asks for (its argv over the
 * environment and db-migrate.yml, then its audit), checked as a command line
 * is. 0, or DBM_ECONFIG with the one-line error and hint of an invalid event;
 * *cfg is the caller's (NULL on error).
 */
int dbm_lambda_event_load(dbm_config **cfg, const dbm_command_row **cmd, const json_t *event);

/*
 * Serve invocations from the Runtime API at `api` (host:port) until the
 * Runtime API cannot be reached. Returns the process's exit status then
 * (3); Lambda normally freezes and ends the sandbox before that.
 */
int dbm_lambda_serve(const char *api);

#endif
