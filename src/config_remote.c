/*
 * config_remote.c - run-in and the options of a remote run (DESIGN sections 3
 * and 10), and the GitHub context a run carries, here or remote.
 */
#include "config_remote.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

void dbm_config_load_github(dbm_github *gh)
{
    const char *server = dbm_getenv("GITHUB_SERVER_URL");
    const char *repo = dbm_getenv("GITHUB_REPOSITORY");
    const char *run_id = dbm_getenv("GITHUB_RUN_ID");

    gh->actions = dbm_in_actions();
    gh->sha = dbm_xstrdup(dbm_getenv("GITHUB_SHA"));
    gh->ref = dbm_xstrdup(dbm_getenv("GITHUB_REF"));
    gh->actor = dbm_xstrdup(dbm_getenv("GITHUB_ACTOR"));
    gh->event_name = dbm_xstrdup(dbm_getenv("GITHUB_EVENT_NAME"));
    gh->event_path = dbm_xstrdup(dbm_getenv("GITHUB_EVENT_PATH"));
    gh->server_url = dbm_xstrdup(server);
    gh->api_url = dbm_xstrdup(dbm_getenv("GITHUB_API_URL") ? dbm_getenv("GITHUB_API_URL")
                                                           : "https://api.github.com");
    gh->repository = dbm_xstrdup(repo);
    gh->workspace = dbm_xstrdup(dbm_getenv("GITHUB_WORKSPACE"));
    gh->step_summary = dbm_xstrdup(dbm_getenv("GITHUB_STEP_SUMMARY"));
    gh->output = dbm_xstrdup(dbm_getenv("GITHUB_OUTPUT"));
    if (server && repo && run_id) {
        const char *attempt = dbm_getenv("GITHUB_RUN_ATTEMPT");
        gh->run_url = attempt ? dbm_xasprintf("%s/%s/actions/runs/%s/attempts/%s", server, repo,
                                              run_id, attempt)
                              : dbm_xasprintf("%s/%s/actions/runs/%s", server, repo, run_id);
    }
}

/*
 * In Actions the report goes to the runner's temporary directory. Inside a
 * Docker action RUNNER_TEMP names the host's directory, which the runner
 * mounts at /github/runner_temp on recent versions; when neither exists here
 * there is no default report (set report-file to a path in the workspace).
 */
char *dbm_config_default_report_file(void)
{
    const char *dirs[] = {dbm_getenv("RUNNER_TEMP"), "/github/runner_temp"};
    struct stat st;

    if (!dbm_in_actions())
        return NULL;
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
        if (dirs[i] && stat(dirs[i], &st) == 0 && S_ISDIR(st.st_mode))
            return dbm_xasprintf("%s/db-migrate-report.json", dirs[i]);
    return NULL;
}

/* ecs-assign-public-ip: ENABLED or DISABLED (true and false are taken too). */
static int read_public_ip(dbm_config *cfg, const char *v)
{
    if (!v)
        return 0;
    if (!strcmp(v, "ENABLED") || !strcmp(v, "enabled") || !strcmp(v, "true")) {
        cfg->ecs.assign_public_ip = dbm_xstrdup("ENABLED");
        return 0;
    }
    if (!strcmp(v, "DISABLED") || !strcmp(v, "disabled") || !strcmp(v, "false")) {
        cfg->ecs.assign_public_ip = dbm_xstrdup("DISABLED");
        return 0;
    }
    dbm_error_set(DBM_ECONFIG, "invalid value '%s' for ecs-assign-public-ip", v);
    dbm_error_hint("use ENABLED (a public subnet without a NAT gateway) or DISABLED");
    return DBM_ECONFIG;
}

/*
 * The options a remote run gets as they were given here. Not the connection
 * (the task or function has its own, and a password must not travel in an
 * override), the role, the bastion, the report and the PR comment (this
 * process writes them), nor git's (the remote run has no repository). A fleet's
 * selection (targets, shard, parallel, fail-fast) travels: the task runs this job's shard.
 */
static const char *const forwarded[] = {
    "migrations-dir", "format",        "history-schema",
    "lock-timeout",   "lock-retries",  "statement-timeout",
    "wait",           "run-lock-wait", "out-of-order",
    "target-version", "adopt-from",    "expect-deployed",
    "auth",           "aws-region",    "sslmode",
    "sslrootcert",    "fail-on",       "allow-apply-on-pull-request",
    "accept-edit",    "targets",       "shard",
    "parallel",       "fail-fast",     NULL};

static void read_forwarded(dbm_config *cfg, dbm_config_lookup_fn lookup, const void *pa)
{
    for (size_t i = 0; forwarded[i]; i++) {
        const char *v = lookup(pa, forwarded[i]);
        if (v && cfg->nremote_opts < sizeof(cfg->remote_opts) / sizeof(cfg->remote_opts[0])) {
            cfg->remote_opts[cfg->nremote_opts].name = forwarded[i];
            cfg->remote_opts[cfg->nremote_opts++].value = dbm_xstrdup(v);
        }
    }
}

int dbm_config_read_remote(dbm_config *cfg, dbm_config_lookup_fn lookup, const void *pa)
{
    const char *v = lookup(pa, "run-in");
    int error;

    if (!v || !strcmp(v, "here")) {
        cfg->run_in = DBM_RUN_IN_HERE;
    } else if (!strcmp(v, "ecs")) {
        cfg->run_in = DBM_RUN_IN_ECS;
    } else if (!strcmp(v, "lambda")) {
        cfg->run_in = DBM_RUN_IN_LAMBDA;
    } else {
        dbm_error_set(DBM_ECONFIG, "invalid value '%s' for run-in", v);
        dbm_error_hint("use one of: here, ecs, lambda");
        return DBM_ECONFIG;
    }
    cfg->ecs.cluster = dbm_xstrdup(lookup(pa, "ecs-cluster"));
    cfg->ecs.service = dbm_xstrdup(lookup(pa, "ecs-service"));
    cfg->ecs.task_definition = dbm_xstrdup(lookup(pa, "ecs-task-definition"));
    cfg->ecs.container = dbm_xstrdup(lookup(pa, "ecs-container"));
    cfg->ecs.image = dbm_xstrdup(lookup(pa, "ecs-image"));
    cfg->ecs.subnets = dbm_xstrdup(lookup(pa, "ecs-subnets"));
    cfg->ecs.security_groups = dbm_xstrdup(lookup(pa, "ecs-security-groups"));
    cfg->lambda_function = dbm_xstrdup(lookup(pa, "lambda-function"));
    read_forwarded(cfg, lookup, pa);
    if ((error = read_public_ip(cfg, lookup(pa, "ecs-assign-public-ip"))) < 0)
        return error;
    v = lookup(pa, "remote-timeout");
    if ((error = dbm_parse_duration_ms(&cfg->remote_timeout_ms, "remote-timeout", v ? v : "1h")) <
        0)
        return error;
    if (cfg->run_in == DBM_RUN_IN_ECS && !cfg->ecs.task_definition && !cfg->ecs.service) {
        dbm_error_set(DBM_ECONFIG, "run-in: ecs needs ecs-task-definition or ecs-service");
        dbm_error_hint("name the task definition whose image has db-migrate, or the service "
                       "whose task definition and network configuration the run takes");
        return DBM_ECONFIG;
    }
    if (cfg->run_in == DBM_RUN_IN_ECS && !cfg->ecs.service && !cfg->ecs.subnets) {
        dbm_error_set(DBM_ECONFIG, "run-in: ecs needs ecs-subnets (or ecs-service)");
        dbm_error_hint("give the subnets (and ecs-security-groups) the task runs in, in the "
                       "database's VPC, or ecs-service to take the service's");
        return DBM_ECONFIG;
    }
    if (cfg->run_in == DBM_RUN_IN_LAMBDA && !cfg->lambda_function) {
        dbm_error_set(DBM_ECONFIG, "run-in: lambda needs lambda-function");
        dbm_error_hint("name the function (or its ARN) whose image has db-migrate");
        return DBM_ECONFIG;
    }
    return 0;
}

void dbm_config_remote_free(dbm_config *cfg)
{
    free(cfg->ecs.cluster);
    free(cfg->ecs.service);
    free(cfg->ecs.task_definition);
    free(cfg->ecs.container);
    free(cfg->ecs.image);
    free(cfg->ecs.subnets);
    free(cfg->ecs.security_groups);
    free(cfg->ecs.assign_public_ip);
    free(cfg->lambda_function);
    for (size_t i = 0; i < cfg->nremote_opts; i++)
        free(cfg->remote_opts[i].value);
}
