/*
 * remote.h - run-in: ecs and lambda (DESIGN section 10): the command runs in
 * the database's network, and this process does the rest.
 *
 * Internal to src/command/. The Action first does what needs the repository
 * (the files, the git checks, the rules on what changed) as a run here does
 * without a database, and stops there when that blocks. Then the same binary
 * runs the command remotely with the options it was given (config.h's
 * remote_opts), the digest of the files seen here (expect-migrations) and the
 * run's audit fields; its JSON report comes back and becomes this run's, with
 * the repository's paths, so main.c writes the summary, annotations and
 * outputs as for a run here, and the exit status is the remote run's.
 */
#ifndef DBM_COMMAND_REMOTE_H
#define DBM_COMMAND_REMOTE_H

#include "command/run.h"
#include "net/aws.h"

#include <stdbool.h>

/* Run the command of `name` remotely, as cfg->run_in says. */
int dbm_remote_run(dbm_run_ctx *ctx, const char *name);

/* ---- what the ECS and Lambda drivers share (remote.c) ---- */

/* Set by SIGTERM and SIGINT while a remote run is followed: the job was cancelled. */
bool dbm_remote_cancelled(void);

/* Sleep up to ms, waking early when the job is cancelled. */
void dbm_remote_sleep(long ms);

/* A random token (32 hex digits) for ::stop-commands::, which no remote log line can guess. */
void dbm_remote_token(char hex[33]);

/* The credentials the remote calls are signed with (the aws-* and role-* options). */
int dbm_remote_credentials(dbm_aws_credentials **out, const dbm_config *cfg);

/*
 * The command line of the remote run: "db-migrate", the command word,
 * "--run-in here", then the forwarded options as "--NAME", "VALUE" pairs and
 * expect-migrations (digest, may be NULL). NULL-terminated; free with
 * dbm_remote_argv_free.
 */
char **dbm_remote_argv(const dbm_config *cfg, const char *name, const char *digest,
                       bool report_in_log);
void dbm_remote_argv_free(char **argv);

/* The value of cfg->remote_opts[i] for the remote run: migrations-dir relative to the
 * workspace, as the image's tree has it; the others as given. Borrowed. */
const char *dbm_remote_opt_value(const dbm_config *cfg, size_t i);

/* The audit fields as the remote binary reads them: GITHUB_SHA=..., NULL-terminated. */
char **dbm_remote_audit_env(const dbm_config *cfg);

/*
 * Make `json` (the remote run's report) this run's: replaces ctx->report's
 * contents, maps the remote file paths to the repository's, and keeps what
 * only this process knew (git's commits and changes, the findings of the git
 * checks). DBM_EGENERIC when it is not a report.
 */
int dbm_remote_take_report(dbm_run_ctx *ctx, const char *json, size_t len);

/*
 * The error for the remote run's exit status (0: none): the report's error
 * line when there is one, with the exit status's code (1 failed or blocked,
 * 2 usage, 3 connection, 4 run lock; others 1).
 */
int dbm_remote_exit(dbm_run_ctx *ctx, int exit_code, const char *where);

/* The two drivers. */
int dbm_remote_ecs(dbm_run_ctx *ctx, const char *name, const char *digest);
int dbm_remote_lambda(dbm_run_ctx *ctx, const char *name, const char *digest);

#endif
