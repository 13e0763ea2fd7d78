/*
 * config_options.c - the options: one row each, read by the parser (config.c),
 * the config file's keys (config_file.c), --help (config_help.c), the man page
 * and the shell completions (command/docs.c), and scripts/validate-action.sh,
 * which checks that the action inputs are the rows marked DBM_OPTION_INPUT.
 */
#include "config.h"
#include "common/error.h"
#include "common/util.h"
#include "migration/migration.h"

#include <string.h>

static const char *const out_of_order_values[] = {"error", "allow", NULL};
/* clang-format off */
static const char *const adopt_from_values[] = {
    "golang-migrate",
    "dbmate",
    "goose",
    "flyway",
    "diesel",
    "prisma",
    "sqlx",
    "drizzle",
    "supabase",
    "atlas",
    "sqitch",
    "graphile-migrate",
    NULL};
/* clang-format on */
static const char *const auth_values[] = {"password", "aws-iam", NULL};
static const char *const sslmode_values[] = {"disable",   "allow",       "prefer", "require",
                                             "verify-ca", "verify-full", NULL};
static const char *const bool_values[] = {"true", "false", NULL};
static const char *const fail_on_values[] = {"error", "warning", "never", NULL};
static const char *const log_format_values[] = {"text", "json", NULL};
static const char *const run_in_values[] = {"here", "ecs", "lambda", NULL};
static const char *const public_ip_values[] = {"ENABLED", "DISABLED", NULL};
static const char *const generate_values[] = {"completion-bash", "completion-zsh", "man", NULL};

#define INPUT DBM_OPTION_INPUT

const dbm_option dbm_options[] = {
    {"command", "COMMAND", "plan", "what to run (on the command line: the command word)", NULL,
     INPUT | DBM_OPTION_NOFLAG},
    {"migrations-dir", "DIR", "migrations", "directory of the migration files", NULL,
     INPUT | DBM_OPTION_DIR},
    {"format", "F", "auto", "naming and transaction rules of the files", dbm_format_names, INPUT},
    {"database-url", "URL", "DATABASE_URL, libpq's PG* variables, DB_HOST/DB_PORT/DB_USER/DB_NAME",
     "the database, a libpq URI or key=value string", NULL, INPUT},
    {"history-schema", "NAME", "db_migrate", "schema of the history tables", NULL, INPUT},
    {"lock-timeout", "D", "5s", "lock_timeout inside each migration", NULL, INPUT},
    {"lock-retries", "N", "3", "retries of a migration that failed on a lock timeout (0 to 100)",
     NULL, INPUT},
    {"statement-timeout", "D", "0, none", "statement_timeout inside each migration", NULL, INPUT},
    {"wait", "D", "0s", "retry the first connection this long", NULL, INPUT},
    {"run-lock-wait", "D", "10m", "wait this long for another run's lock, then exit 4", NULL,
     INPUT},
    {"out-of-order", "MODE", "error", "a pending migration older than the newest applied one",
     out_of_order_values, INPUT},
    {"deployed-ref", "REF", "the commit of the last successful apply", "commit to diff against",
     NULL, INPUT},
    {"target-version", "V", NULL, "the version baseline, rollback and repair act on", NULL, INPUT},
    {"accept-edit", "V", NULL, "repair: record the edited file's checksum for applied V", NULL, 0},
    {"adopt-from", "TOOL", NULL, "baseline: import another tool's history table", adopt_from_values,
     INPUT},
    {"expect-deployed", "SHA", NULL, "apply only if the last successful apply was at SHA", NULL,
     INPUT},
    {"expect-migrations", "DIGEST", NULL,
     "refuse unless the files match this digest (a remote run on a stale image)", NULL, INPUT},
    {"auth", "MODE", "password", "how to sign in; aws-iam: an RDS IAM token as the password",
     auth_values, INPUT},
    {"aws-region", "R", "AWS_REGION", "AWS region for aws-iam", NULL, INPUT},
    {"role-to-assume", "ARN", NULL, "IAM role to assume with the job's OIDC token", NULL, INPUT},
    {"role-session-name", "N", "db-migrate", "session name of the assumed role", NULL, INPUT},
    {"audience", "A", "sts.amazonaws.com", "audience of the OIDC token", NULL, INPUT},
    {"ssh-bastion", "USER@HOST[:PORT]", NULL, "reach the database through this SSH host", NULL,
     INPUT},
    {"ssh-private-key", "KEY", NULL, "the text of the bastion's private key", NULL, INPUT},
    {"ssh-known-hosts", "LINES", NULL, "known_hosts lines of the bastion (required with it)", NULL,
     INPUT},
    {"sslmode", "MODE", "libpq's; with aws-iam require, or verify-full with sslrootcert",
     "libpq's sslmode", sslmode_values, INPUT},
    {"sslrootcert", "FILE", NULL, "CA certificates that verify the server", NULL,
     INPUT | DBM_OPTION_FILE},
    {"report-file", "FILE", "$RUNNER_TEMP/db-migrate-report.json in Actions, none elsewhere",
     "write the JSON report here; - is standard output", NULL, INPUT | DBM_OPTION_FILE},
    {"reports", "GLOBS", NULL,
     "report: the JSON reports to merge, globs separated by spaces, commas or lines", NULL, INPUT},
    {"comment-on-pr", "BOOL", "false", "keep one sticky comment with the plan on the pull request",
     bool_values, INPUT | DBM_OPTION_BOOL},
    {"github-token", "TOKEN", "GITHUB_TOKEN", "token for the pull-request comment", NULL, INPUT},
    {"allow-apply-on-pull-request", "BOOL", "false",
     "let apply, rollback, repair and baseline run on pull_request events", bool_values,
     INPUT | DBM_OPTION_BOOL},
    {"fail-on", "LEVEL", "error", "rule findings that fail plan and dry-run", fail_on_values,
     INPUT},
    {"log-format", "F", "text; json when AWS_LAMBDA_LOG_FORMAT=JSON",
     "the log: plain lines, or one JSON object a line", log_format_values, INPUT},
    {"run-in", "WHERE", "here",
     "where the run happens: here, an ECS Fargate task, a Lambda function", run_in_values, INPUT},
    {"ecs-cluster", "C", "default", "run-in ecs: the cluster", NULL, INPUT},
    {"ecs-service", "S", NULL, "run-in ecs: the service whose task definition and network it takes",
     NULL, INPUT},
    {"ecs-task-definition", "TD", "the service's", "run-in ecs: the task definition", NULL, INPUT},
    {"ecs-container", "NAME", "the first essential one", "run-in ecs: the container to run in",
     NULL, INPUT},
    {"ecs-image", "IMAGE", NULL, "run-in ecs: register a revision with this image first", NULL,
     INPUT},
    {"ecs-subnets", "LIST", "the service's", "run-in ecs: subnets, comma-separated", NULL, INPUT},
    {"ecs-security-groups", "LIST", "the service's", "run-in ecs: security groups, comma-separated",
     NULL, INPUT},
    {"ecs-assign-public-ip", "MODE", "DISABLED", "run-in ecs: give the task a public address",
     public_ip_values, INPUT},
    {"lambda-function", "F", NULL, "run-in lambda: the function's name or ARN", NULL, INPUT},
    {"remote-timeout", "D", "1h", "wait this long for a remote run, then stop it", NULL, INPUT},
    {"targets", "GLOBS", "all targets of the config file",
     "fleet: the targets to run, by name or group (TARGET/SCHEMA for a schemas: target's "
     "schemas), comma-separated globs; every fleet option needs targets: in the config file",
     NULL, INPUT},
    {"parallel", "N", "4", "fleet: targets migrated at once (1 to 64)", NULL, INPUT},
    {"shard", "I/N", NULL, "fleet: this job's share of the targets, I of N (a matrix job)", NULL,
     INPUT},
    {"fail-fast", "BOOL", "false", "fleet: start no more targets after one fails", bool_values,
     INPUT | DBM_OPTION_BOOL},
    {"config", "FILE", "db-migrate.yml at the repository root", "the config file", NULL,
     DBM_OPTION_FILE},
    {"offline", NULL, NULL, "plan from the files and git only, without a database", NULL,
     DBM_OPTION_SWITCH},
    {"verbose", NULL, NULL,
     "log the server's notices, each migration's in its own group (apply runs them one by one)",
     NULL, DBM_OPTION_SWITCH},
    {"yes", NULL, NULL, "rollback without asking (off a terminal it is required)", NULL,
     DBM_OPTION_SWITCH},
    {"exit-code", NULL, NULL, "status only: exit 1 when migrations are pending or failed", NULL,
     DBM_OPTION_SWITCH},
    {"report-in-log", NULL, NULL, "also print the JSON report framed in the log (in an ECS task)",
     NULL, DBM_OPTION_SWITCH},
    {"help", NULL, NULL, "print this help (also -h)", NULL, DBM_OPTION_SWITCH},
    {"version", NULL, NULL, "print the version and the linked libraries' versions", NULL,
     DBM_OPTION_SWITCH},
    {"generate", "WHAT", NULL, "write the bash or zsh completion script or the man page",
     generate_values, 0},
    {NULL, NULL, NULL, NULL, NULL, 0},
};

const dbm_option *dbm_option_find(const char *name)
{
    for (const dbm_option *o = dbm_options; o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o;
    return NULL;
}

int dbm_option_check_value(const char *name, const char *value)
{
    const dbm_option *o = dbm_option_find(name);
    dbm_buf list = DBM_BUF_INIT;

    if (!o || !o->values)
        return 0;
    for (size_t i = 0; o->values[i]; i++)
        if (strcmp(value, o->values[i]) == 0)
            return 0;
    for (size_t i = 0; o->values[i]; i++)
        dbm_buf_printf(&list, "%s%s", i ? ", " : "", o->values[i]);
    dbm_error_set(DBM_ECONFIG, "invalid value '%s' for %s", value, name);
    dbm_error_hint("use one of: %s", dbm_buf_cstr(&list));
    dbm_buf_free(&list);
    return DBM_ECONFIG;
}
