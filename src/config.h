/*
 * config.h - options from flags, action inputs (INPUT_*), the environment and
 * db-migrate.yml.
 *
 * Every option has one name used four ways (DESIGN section 3): --NAME on the
 * command line, the action input NAME (read from the environment variable
 * INPUT_ + NAME upper-cased, hyphens kept), a key of the config file
 * (config_file.h), and a default. Precedence: flag, input, environment
 * default, config file, built-in default. This module validates values and
 * nothing else: it opens no file but the config file and no connection, and it knows no
 * command but by its word (the commands and their arguments are the
 * command table's, command/table.c).
 */
#ifndef DBM_CONFIG_H
#define DBM_CONFIG_H

/* The most retries lock-retries takes (each waits lock-timeout and a backoff). */
#define DBM_LOCK_RETRIES_MAX 100

#include "config_file.h"
#include "migration/migration.h"

#include <stdbool.h>
#include <stdio.h>

typedef enum { DBM_AUTH_PASSWORD = 0, DBM_AUTH_AWS_IAM } dbm_auth;

/* run-in: where the migrations run (DESIGN section 10). */
typedef enum { DBM_RUN_IN_HERE = 0, DBM_RUN_IN_ECS, DBM_RUN_IN_LAMBDA } dbm_run_in;

typedef struct {
    bool actions;       /* GITHUB_ACTIONS=true */
    char *sha;          /* GITHUB_SHA */
    char *ref;          /* GITHUB_REF */
    char *actor;        /* GITHUB_ACTOR */
    char *event_name;   /* GITHUB_EVENT_NAME */
    char *event_path;   /* GITHUB_EVENT_PATH */
    char *run_url;      /* GITHUB_SERVER_URL/GITHUB_REPOSITORY/actions/runs/GITHUB_RUN_ID */
    char *server_url;   /* GITHUB_SERVER_URL */
    char *api_url;      /* GITHUB_API_URL, default https://api.github.com */
    char *repository;   /* GITHUB_REPOSITORY */
    char *workspace;    /* GITHUB_WORKSPACE */
    char *step_summary; /* GITHUB_STEP_SUMMARY */
    char *output;       /* GITHUB_OUTPUT */
} dbm_github;

typedef struct {
    char *command; /* the command word: the first argument, else the command input, else "plan";
                      "help", "version" or "generate" for --help, --version and --generate */
    /* The arguments after the command word (`new NAME`, `report FILE...`): nargs of them,
     * NULL-terminated; args[0] and args[1] are NULL when absent. */
    char **args;
    size_t nargs;
    char *reports;   /* reports: globs of JSON reports for `report` (glob(3)), or NULL */
    bool no_command; /* a bare call outside Actions: command is "help", printed as an error */
    char *generate;  /* --generate's value (command is then "generate"), else NULL */

    char *migrations_dir;
    char *shown_dir; /* migrations-dir as users see it: relative to GITHUB_WORKSPACE, without
                        a leading "./"; "" for the directory itself */
    dbm_format format;
    char *database_url;       /* NULL: no connection configured (plan works offline) */
    bool database_from_pgenv; /* libpq's PG* variables configure the connection */
    char *history_schema;

    long long lock_timeout_ms;
    long lock_retries; /* 0..DBM_LOCK_RETRIES_MAX */
    long long statement_timeout_ms;
    long long wait_ms;
    long long run_lock_wait_ms;
    bool out_of_order_allow;

    char *deployed_ref;
    char *target_version;
    char *accept_edit; /* repair: the applied version whose edited file is accepted */
    char *adopt_from;
    char *expect_deployed;
    char *expect_migrations; /* a migration/digest.h digest the files must match, or NULL */

    dbm_auth auth;
    char *aws_region, *role_to_assume, *role_session_name, *audience;

    char *ssh_bastion, *ssh_private_key, *ssh_known_hosts;
    char *sslmode, *sslrootcert;

    char *report_file;
    bool report_file_given; /* set by a flag, an input or the config file, not the default */
    bool comment_on_pr;
    char *github_token;
    bool allow_apply_on_pull_request;
    bool offline;
    bool verbose;
    bool yes;       /* --yes, or the Action's command input is rollback: rollback does not ask */
    bool exit_code; /* status: exit 1 when migrations are pending or failed (--exit-code) */
    /* fail-on: the rule findings that fail plan and dry-run (exit 1) */
    enum { DBM_FAIL_ON_ERROR = 0, DBM_FAIL_ON_WARNING, DBM_FAIL_ON_NEVER } fail_on;
    bool log_json; /* log-format: json, one JSON object a line */

    dbm_run_in run_in;
    struct {
        char *cluster, *service, *task_definition, *container, *image;
        char *subnets, *security_groups; /* comma-separated */
        char *assign_public_ip;          /* ENABLED or DISABLED; NULL: the service's */
    } ecs;
    char *lambda_function;
    long long remote_timeout_ms; /* remote-timeout: how long the Action waits for a remote run */
    bool report_in_log;          /* --report-in-log: the JSON report framed in the log, too */
    /* The options a remote run takes from this one, as given (flag, input, config file):
     * names from dbm_options (config_options.c), values copied. */
    struct {
        const char *name;
        char *value;
    } remote_opts[24];
    size_t nremote_opts;
    /* Fleets (DESIGN section 11): the config file's targets: selection, how many at once. */
    char *targets; /* comma-separated globs over target names and groups; NULL: all */
    long parallel; /* 1..64 */
    long shard_index, shard_count; /* shard I/N: 1 <= I <= N; both 0 without shard */
    bool fail_fast;                /* start no more targets after one failed */
    /* Not an option: set by a fleet for one schema of a schemas: target, the search_path
     * each migration runs with (a value such as "\"t\", public"); NULL: the session's. */
    const char *search_path;

    /* Set by the Lambda runtime (command/lambda.h), not an option: the monotonic time
     * (dbm_now_ms) by which the run must have answered; 0: none. */
    long long deadline_ms;
    long long deadline_margin_ms; /* kept back from the deadline to roll back and answer */

    dbm_github gh;
    dbm_config_file *file; /* db-migrate.yml as read: rules, targets, placeholders; NULL if none */
    char *config_path;     /* where db-migrate.yml was looked for (read or not); NULL for --help */
} dbm_config;

/*
 * Build the configuration from argv and the process environment. Returns 0,
 * or DBM_ECONFIG with a message that names the option and the bad value.
 * *out belongs to the caller (dbm_config_free wipes the secrets in it).
 */
int dbm_config_load(dbm_config **out, int argc, char **argv);
void dbm_config_free(dbm_config *cfg);

/* What an option is (dbm_option.flags). */
#define DBM_OPTION_INPUT  0x01 /* also an action input and a db-migrate.yml key */
#define DBM_OPTION_SWITCH 0x02 /* takes no value: --NAME alone (command line only) */
#define DBM_OPTION_BOOL   0x04 /* true or false; --NAME alone means true */
#define DBM_OPTION_DIR    0x08 /* the value names a directory */
#define DBM_OPTION_FILE   0x10 /* the value names a file */
#define DBM_OPTION_NOFLAG 0x20 /* not a flag: the command line gives it another way (command) */
#define DBM_OPTION_HIDDEN 0x40 /* a flag left out of --help, the man page and completion */

/*
 * One option (config_options.c): the single list the parser, the config
 * file's keys, --help, the man page, the shell completions and the action.yml
 * check all read.
 */
typedef struct {
    const char *name;          /* without the leading "--" */
    const char *arg;           /* its value as --help names it ("DIR"); NULL for a switch */
    const char *dflt;          /* the default as users read it; NULL: none */
    const char *help;          /* one line, lowercase, no full stop */
    const char *const *values; /* the values it takes when they are a fixed list, else NULL */
    unsigned flags;            /* DBM_OPTION_* */
} dbm_option;

/* Every option, in --help order, ended by a row whose name is NULL. */
extern const dbm_option dbm_options[];

/* The row of `name` (without "--"), or NULL. */
const dbm_option *dbm_option_find(const char *name);

/*
 * Check `value` against the fixed values of option `name`: 0 when it is one
 * of them (or the option has no fixed list), else DBM_ECONFIG ("invalid value
 * 'x' for NAME") with a hint listing them.
 */
int dbm_option_check_value(const char *name, const char *value);

/* Write the options section of --help to out (the commands section is the command table's). */
void dbm_config_options_usage(FILE *out);

#endif
