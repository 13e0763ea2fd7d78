/*
 * config_help.c - the options section of --help.
 *
 * Kept beside config.c, which reads the options; the commands section comes
 * from the command table.
 */
#include "config.h"

static const char options_help[] =
    "options (also action inputs, INPUT_<NAME>):\n"
    "  --migrations-dir DIR     default: migrations\n"
    "  --format F               auto, native, golang-migrate, dbmate, goose, flyway, diesel, "
    "prisma\n"
    "  --database-url URL       default: DATABASE_URL, libpq's PG* variables, DB_HOST/DB_PORT/"
    "DB_USER/DB_NAME\n"
    "  --history-schema NAME    default: db_migrate\n"
    "  --lock-timeout D         default: 5s\n"
    "  --lock-retries N         default: 3\n"
    "  --statement-timeout D    default: 0 (none)\n"
    "  --wait D                 retry the first connection this long (default: 0s)\n"
    "  --run-lock-wait D        wait this long for another run's lock (default: 10m)\n"
    "  --out-of-order MODE      error or allow (default: error)\n"
    "  --deployed-ref REF       commit to diff against (default: last successful apply)\n"
    "  --target-version V       for baseline, rollback and repair\n"
    "  --accept-edit V          repair: record the edited file's checksum for applied V\n"
    "  --adopt-from TOOL        baseline from another tool's history table\n"
    "  --expect-deployed SHA    apply only if the last successful apply was at SHA\n"
    "  --expect-migrations D    refuse unless the files match this digest (a stale image)\n"
    "  --auth MODE              password or aws-iam (default: password)\n"
    "  --aws-region R, --role-to-assume ARN, --role-session-name N, --audience A\n"
    "  --ssh-bastion USER@HOST[:PORT], --ssh-private-key KEY, --ssh-known-hosts LINES\n"
    "  --sslmode MODE, --sslrootcert FILE\n"
    "  --report-file FILE       JSON report\n"
    "  --comment-on-pr BOOL, --github-token TOKEN, --allow-apply-on-pull-request BOOL\n"
    "  --fail-on LEVEL          rule findings that fail plan and dry-run: error, warning, never\n"
    "  --log-format F           text or json (one object a line; default json when\n"
    "                           AWS_LAMBDA_LOG_FORMAT=JSON)\n"
    "  --run-in WHERE           here, ecs (a Fargate task) or lambda (default: here)\n"
    "  --ecs-cluster C, --ecs-service S, --ecs-task-definition TD, --ecs-container NAME,\n"
    "  --ecs-image IMAGE, --ecs-subnets LIST, --ecs-security-groups LIST,\n"
    "  --ecs-assign-public-ip ENABLED|DISABLED, --lambda-function F\n"
    "  --remote-timeout D       wait this long for a remote run, then stop it (default: 1h)\n"
    "  --report-in-log          also print the JSON report framed in the log (run-in: ecs)\n"
    "  --config FILE            the config file (default: db-migrate.yml at the repository root)\n"
    "  --offline                plan from the files and git only, without a database\n"
    "  --verbose                log each statement\n"
    "  --yes                    rollback without asking (off a terminal it is required)\n"
    "  --exit-code              status: exit 1 when migrations are pending or failed\n"
    "  --help, --version\n"
    "\n"
    "durations: 500ms, 5s, 10m, 1h. Exit status: 0 done, 1 failed or blocked, 2 usage,\n"
    "3 cannot connect, 4 run lock not acquired.\n";

const char *dbm_config_options_help(void)
{
    return options_help;
}
