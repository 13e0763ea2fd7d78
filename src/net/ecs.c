/*
 * ecs.c - the ECS calls of a run and the container's CloudWatch log.
 */
#include "net/ecs.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "net/aws_api.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define SLOW_MS  30000L
#define FAST_MS  15000L
#define RETRIES  3
#define LOG_PAGE 10000

struct dbm_ecs_run {
    const dbm_aws_credentials *creds;
    dbm_aws_credentials logs_creds; /* creds in the log group's region (fields borrowed) */
    char *cluster;
    json_t *task_def; /* DescribeTaskDefinition's or RegisterTaskDefinition's taskDefinition */
    char *container;  /* its name */
    json_t *network;  /* {"awsvpcConfiguration": {...}} */
    char *task_arn;
    char *log_group, *log_region, *log_stream_prefix, *log_stream;
    char *log_token;
};

/* One ECS call; *out is the caller's. */
static int ecs_call(json_t **out, const dbm_ecs_run *run, const char *operation, json_t *request,
                    const char *resource, int retries)
{
    int rc = dbm_aws_call_json(out, NULL,
                               &(dbm_aws_call){.creds = run->creds,
                                               .service = &dbm_aws_ecs,
                                               .operation = operation,
                                               .resource = resource,
                                               .body = request,
                                               .timeout_ms = retries ? FAST_MS : SLOW_MS,
                                               .retries = retries});
    json_decref(request);
    if (rc == 0 && !json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        rc = dbm_error_set(DBM_ECONNECT, "unexpected answer from aws ecs %s: not a JSON object",
                           operation);
        dbm_error_hint("check AWS_ENDPOINT_URL_ECS (or AWS_ENDPOINT_URL) if it is set");
    }
    return rc;
}

/* The first failure of an ECS answer as "arn: reason (detail)", or NULL. Caller frees. */
static char *first_failure(const json_t *answer)
{
    json_t *f = json_array_get(json_object_get(answer, "failures"), 0);
    const char *arn = dbm_aws_json_str(f, "arn"), *reason = dbm_aws_json_str(f, "reason");
    const char *detail = dbm_aws_json_str(f, "detail");

    char *text, *line;

    if (!f)
        return NULL;
    text = dbm_xasprintf("%s%s%s%s%s%s", arn ? arn : "", arn ? ": " : "", reason ? reason : "?",
                         detail ? " (" : "", detail ? detail : "", detail ? ")" : "");
    line = dbm_printable(text); /* quoted in an error line */
    free(text);
    return line;
}

/* A comma-separated list as a JSON array of its trimmed, non-empty items. */
static json_t *split_list(const char *s)
{
    json_t *a = json_array();

    while (s && *s) {
        size_t n = strcspn(s, ",");
        const char *b = s, *e = s + n;
        while (b < e && (*b == ' ' || *b == '\t'))
            b++;
        while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
            e--;
        if (e > b)
            json_array_append_new(a, json_stringn(b, (size_t)(e - b)));
        s += n + (s[n] == ',');
    }
    return a;
}

/* DescribeServices: the service's task definition (*td, caller frees) and network. */
static int describe_service(dbm_ecs_run *run, const dbm_ecs_opts *o, char **td)
{
    json_t *req = json_pack("{s:[s]}", "services", o->service), *ans = NULL, *svc;
    char *failure = NULL;
    int rc;

    if (run->cluster)
        json_object_set_new(req, "cluster", json_string(run->cluster));
    if ((rc = ecs_call(&ans, run, "DescribeServices", req, o->service, RETRIES)) < 0)
        return rc;
    svc = json_array_get(json_object_get(ans, "services"), 0);
    failure = first_failure(ans);
    if (!svc || failure) {
        rc = dbm_error_set(DBM_ECONFIG, "ecs-service '%s' was not found in cluster '%s'%s%s",
                           o->service, run->cluster ? run->cluster : "default", failure ? ": " : "",
                           failure ? failure : "");
        dbm_error_hint("check ecs-service and ecs-cluster (the service's cluster)");
    } else {
        *td = dbm_xstrdup(dbm_aws_json_str(svc, "taskDefinition"));
        run->network = json_incref(json_object_get(svc, "networkConfiguration"));
    }
    free(failure);
    json_decref(ans);
    return rc;
}

/* Text ECS sent that db-migrate names in a line: a string without control characters. */
static bool one_line(const char *s)
{
    if (!s)
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

/* A task definition as ECS describes it: an object with its ARN. */
static bool task_def_ok(const json_t *td)
{
    return json_is_object(td) && one_line(dbm_aws_json_str(td, "taskDefinitionArn"));
}

static int describe_task_definition(dbm_ecs_run *run, const char *td)
{
    json_t *ans = NULL;
    int rc = ecs_call(&ans, run, "DescribeTaskDefinition", json_pack("{s:s}", "taskDefinition", td),
                      td, RETRIES);

    if (rc == 0 && !task_def_ok(json_object_get(ans, "taskDefinition"))) {
        rc = dbm_error_set(DBM_ECONNECT, "unexpected answer from aws ecs DescribeTaskDefinition: "
                                         "no taskDefinition with a taskDefinitionArn");
    } else if (rc == 0) {
        run->task_def = json_incref(json_object_get(ans, "taskDefinition"));
    }
    json_decref(ans);
    return rc;
}

/* The container named `name`, else the first essential one (essential is true by default). */
static json_t *find_container(json_t *task_def, const char *name)
{
    json_t *list = json_object_get(task_def, "containerDefinitions"), *c;
    size_t i;

    json_array_foreach(list, i, c)
    {
        const char *n = dbm_aws_json_str(c, "name");
        json_t *essential = json_object_get(c, "essential");
        if (!one_line(n))
            continue; /* ECS names every container: not one to run */
        if (name ? strcmp(n, name) == 0 : !json_is_false(essential))
            return c;
    }
    return NULL;
}

/*
 * Register a revision of the task definition with `image` in the container:
 * the described definition without the fields ECS sets itself.
 */
static int register_with_image(dbm_ecs_run *run, const char *image)
{
    static const char *const read_only[] = {"taskDefinitionArn",
                                            "revision",
                                            "status",
                                            "requiresAttributes",
                                            "compatibilities",
                                            "registeredAt",
                                            "registeredBy",
                                            "deregisteredAt",
                                            "deleteRequestedAt",
                                            NULL};
    json_t *req = json_deep_copy(run->task_def), *ans = NULL, *c;
    int rc;

    for (size_t i = 0; read_only[i]; i++)
        json_object_del(req, read_only[i]);
    c = find_container(req, run->container);
    json_object_set_new(c, "image", json_string(image));
    rc = ecs_call(&ans, run, "RegisterTaskDefinition", req,
                  dbm_aws_json_str(run->task_def, "family"), 0);
    if (rc == 0 && !task_def_ok(json_object_get(ans, "taskDefinition")))
        rc = dbm_error_set(DBM_ECONNECT, "unexpected answer from aws ecs RegisterTaskDefinition: "
                                         "no taskDefinition with a taskDefinitionArn");
    if (rc == 0) {
        json_decref(run->task_def);
        run->task_def = json_incref(json_object_get(ans, "taskDefinition"));
        dbm_log("registered %s with image %s", dbm_aws_json_str(run->task_def, "taskDefinitionArn"),
                image);
    }
    json_decref(ans);
    return rc;
}

/* The container's awslogs configuration: group, region and stream prefix. */
static int log_config(dbm_ecs_run *run, json_t *container)
{
    json_t *lc = json_object_get(container, "logConfiguration");
    json_t *opts = json_object_get(lc, "options");
    const char *driver = dbm_aws_json_str(lc, "logDriver");
    const char *group = dbm_aws_json_str(opts, "awslogs-group");
    const char *prefix = dbm_aws_json_str(opts, "awslogs-stream-prefix");
    const char *region = dbm_aws_json_str(opts, "awslogs-region");
    int rc;

    if (!driver || strcmp(driver, "awslogs") != 0 || !group || !prefix) {
        rc = dbm_error_set(DBM_ECONFIG,
                           "container '%s' of %s has no awslogs log configuration with a group "
                           "and a stream prefix",
                           run->container, dbm_aws_json_str(run->task_def, "taskDefinitionArn"));
        dbm_error_hint("give the container logConfiguration: logDriver awslogs with "
                       "awslogs-group and awslogs-stream-prefix (examples/ecs has one): the "
                       "run's result comes back through its log");
        return rc;
    }
    run->log_group = dbm_xstrdup(group);
    run->log_stream_prefix = dbm_xstrdup(prefix);
    run->log_region = dbm_xstrdup(region ? region : run->creds->region);
    run->logs_creds = *run->creds;
    run->logs_creds.region = run->log_region;
    return 0;
}

/* The awsvpc configuration: subnets and security groups given, else the service's. */
static int network(dbm_ecs_run *run, const dbm_ecs_opts *o)
{
    json_t *vpc;
    int rc;

    if (o->subnets && *o->subnets) {
        vpc = json_pack("{s:o, s:s}", "subnets", split_list(o->subnets), "assignPublicIp",
                        o->assign_public_ip ? o->assign_public_ip : "DISABLED");
        if (o->security_groups && *o->security_groups)
            json_object_set_new(vpc, "securityGroups", split_list(o->security_groups));
        json_decref(run->network);
        run->network = json_pack("{s:o}", "awsvpcConfiguration", vpc);
    } else if (!json_is_object(json_object_get(run->network, "awsvpcConfiguration"))) {
        rc = dbm_error_set(DBM_ECONFIG, "run-in: ecs needs the task's subnets");
        dbm_error_hint("set ecs-subnets and ecs-security-groups, or ecs-service to use the "
                       "service's network configuration");
        return rc;
    } else if (o->assign_public_ip) {
        json_object_set_new(json_object_get(run->network, "awsvpcConfiguration"), "assignPublicIp",
                            json_string(o->assign_public_ip));
    }
    return 0;
}

int dbm_ecs_prepare(dbm_ecs_run **out, const dbm_aws_credentials *creds, const dbm_ecs_opts *o)
{
    dbm_ecs_run *run = dbm_xcalloc(1, sizeof(*run));
    char *service_td = NULL;
    json_t *c;
    int rc = 0;

    *out = NULL;
    run->creds = creds;
    run->cluster = dbm_xstrdup(o->cluster);
    if (o->service && (rc = describe_service(run, o, &service_td)) < 0)
        goto done;
    if (!o->task_definition && !service_td) {
        rc = dbm_error_set(DBM_ECONFIG, "run-in: ecs needs a task definition");
        dbm_error_hint("set ecs-task-definition, or ecs-service to run the service's");
        goto done;
    }
    if ((rc = describe_task_definition(run, o->task_definition ? o->task_definition : service_td)) <
        0)
        goto done;
    if (!(c = find_container(run->task_def, o->container))) {
        rc = dbm_error_set(DBM_ECONFIG, "%s has no %s%s%s",
                           dbm_aws_json_str(run->task_def, "taskDefinitionArn"),
                           o->container ? "container '" : "essential container",
                           o->container ? o->container : "", o->container ? "'" : "");
        dbm_error_hint("set ecs-container to the name of the container that has db-migrate");
        goto done;
    }
    run->container = dbm_xstrdup(dbm_aws_json_str(c, "name"));
    if ((rc = log_config(run, c)) < 0 ||
        (o->image && (rc = register_with_image(run, o->image)) < 0))
        goto done;
    if ((rc = network(run, o)) < 0)
        goto done;
    *out = run;
    run = NULL;
done:
    free(service_td);
    dbm_ecs_run_free(run);
    return rc;
}

const char *dbm_ecs_container(const dbm_ecs_run *run)
{
    return run->container;
}

const char *dbm_ecs_task_definition(const dbm_ecs_run *run)
{
    return dbm_aws_json_str(run->task_def, "taskDefinitionArn");
}

const char *dbm_ecs_task_arn(const dbm_ecs_run *run)
{
    return run->task_arn;
}

const char *dbm_ecs_log_group(const dbm_ecs_run *run)
{
    return run->log_group;
}

int dbm_ecs_start(dbm_ecs_run *run, const char *const *argv, const char *const *env)
{
    json_t *cmd = json_array(), *envs = json_array(), *req, *ans = NULL, *task;
    const char *td = dbm_ecs_task_definition(run), *id;
    char *failure = NULL;
    int rc;

    for (size_t i = 0; argv[i]; i++)
        json_array_append_new(cmd, json_string(argv[i]));
    for (size_t i = 0; env && env[i]; i++) {
        size_t n = strcspn(env[i], "=");
        json_array_append_new(envs, json_pack("{s:s%, s:s}", "name", env[i], n, "value",
                                              env[i][n] ? env[i] + n + 1 : ""));
    }
    req = json_pack("{s:s, s:s, s:i, s:s, s:O, s:{s:[{s:s, s:o, s:o}]}}", "taskDefinition", td,
                    "launchType", "FARGATE", "count", 1, "startedBy", "db-migrate",
                    "networkConfiguration", run->network, "overrides", "containerOverrides", "name",
                    run->container, "command", cmd, "environment", envs);
    if (run->cluster)
        json_object_set_new(req, "cluster", json_string(run->cluster));
    if ((rc = ecs_call(&ans, run, "RunTask", req, td, 0)) < 0)
        return rc;
    task = json_array_get(json_object_get(ans, "tasks"), 0);
    if (!dbm_aws_json_str(task, "taskArn")) {
        failure = first_failure(ans);
        rc = dbm_error_set(DBM_ECONNECT, "aws ecs could not start a task of %s: %s", td,
                           failure ? failure : "no task and no reason in the answer");
        dbm_error_hint("check the cluster's Fargate capacity, the subnets and the task "
                       "definition");
        goto done;
    }
    run->task_arn = dbm_xstrdup(dbm_aws_json_str(task, "taskArn"));
    id = strrchr(run->task_arn, '/') ? strrchr(run->task_arn, '/') + 1 : run->task_arn;
    run->log_stream = dbm_xasprintf("%s/%s/%s", run->log_stream_prefix, run->container, id);
done:
    free(failure);
    json_decref(ans);
    return rc;
}

/* The task's container of the run in DescribeTasks' answer, or NULL. */
static json_t *task_container(const dbm_ecs_run *run, json_t *task)
{
    json_t *c;
    size_t i;

    json_array_foreach(json_object_get(task, "containers"), i, c)
    {
        const char *n = dbm_aws_json_str(c, "name");
        if (n && strcmp(n, run->container) == 0)
            return c;
    }
    return NULL;
}

int dbm_ecs_poll(dbm_ecs_run *run, dbm_ecs_status *st)
{
    json_t *req = json_pack("{s:[s]}", "tasks", run->task_arn), *ans = NULL, *task, *c, *code;
    const char *status, *reason;
    int rc;

    memset(st, 0, sizeof(*st));
    st->exit_code = -1;
    if (run->cluster)
        json_object_set_new(req, "cluster", json_string(run->cluster));
    if ((rc = ecs_call(&ans, run, "DescribeTasks", req, run->task_arn, RETRIES)) < 0)
        return rc;
    task = json_array_get(json_object_get(ans, "tasks"), 0);
    if (!task || !(status = dbm_aws_json_str(task, "lastStatus"))) {
        rc = dbm_error_set(DBM_ECONNECT, "aws ecs DescribeTasks does not know task %s",
                           run->task_arn);
        goto done;
    }
    snprintf(st->last_status, sizeof(st->last_status), "%s", status);
    st->stopped = strcmp(status, "STOPPED") == 0;
    st->started = json_object_get(task, "startedAt") != NULL;
    c = task_container(run, task);
    code = json_object_get(c, "exitCode");
    if (json_is_integer(code)) {
        st->exit_code = (int)json_integer_value(code);
        st->started = true;
    }
    reason = dbm_aws_json_str(task, "stoppedReason");
    if (!reason)
        reason = dbm_aws_json_str(c, "reason");
    if (reason && dbm_aws_json_str(c, "reason") && strcmp(reason, dbm_aws_json_str(c, "reason")))
        st->stopped_reason = dbm_xasprintf("%s: %s", reason, dbm_aws_json_str(c, "reason"));
    else
        st->stopped_reason = dbm_xstrdup(reason);
    if (st->stopped_reason) { /* quoted in an error line */
        char *line = dbm_printable(st->stopped_reason);
        free(st->stopped_reason);
        st->stopped_reason = line;
    }
done:
    json_decref(ans);
    return rc;
}

int dbm_ecs_stop(dbm_ecs_run *run, const char *reason)
{
    json_t *req = json_pack("{s:s, s:s}", "task", run->task_arn, "reason", reason), *ans = NULL;
    int rc;

    if (run->cluster)
        json_object_set_new(req, "cluster", json_string(run->cluster));
    rc = ecs_call(&ans, run, "StopTask", req, run->task_arn, RETRIES);
    json_decref(ans);
    return rc;
}

/* One page of events; *more when a next page may hold more. */
static int log_page(dbm_ecs_run *run, void (*fn)(void *, const char *), void *ud, bool *more)
{
    json_t *req = json_pack("{s:s, s:s, s:b, s:i}", "logGroupName", run->log_group, "logStreamName",
                            run->log_stream, "startFromHead", 1, "limit", LOG_PAGE),
           *ans = NULL, *ev;
    char *resource = dbm_xasprintf("log group %s", run->log_group);
    const char *next;
    size_t i;
    int rc;

    *more = false;
    if (run->log_token)
        json_object_set_new(req, "nextToken", json_string(run->log_token));
    rc = dbm_aws_call_json(&ans, NULL,
                           &(dbm_aws_call){.creds = &run->logs_creds,
                                           .service = &dbm_aws_logs,
                                           .operation = "GetLogEvents",
                                           .resource = resource,
                                           .body = req,
                                           .timeout_ms = FAST_MS,
                                           .retries = RETRIES,
                                           .quiet_code = "ResourceNotFoundException"});
    json_decref(req);
    free(resource);
    if (rc == DBM_ENOTFOUND)
        return 0; /* the stream is created when the container starts */
    if (rc < 0)
        return rc;
    json_array_foreach(json_object_get(ans, "events"), i, ev)
    {
        const char *m = dbm_aws_json_str(ev, "message");
        while (m && *m) { /* an event is a line; split one that holds more */
            size_t n = strcspn(m, "\r\n");
            char *line = dbm_xstrndup(m, n);
            fn(ud, line);
            free(line);
            m += n;
            m += strspn(m, "\r\n");
        }
    }
    next = dbm_aws_json_str(ans, "nextForwardToken");
    if (next && (!run->log_token || strcmp(next, run->log_token) != 0)) {
        *more = json_array_size(json_object_get(ans, "events")) > 0;
        free(run->log_token);
        run->log_token = dbm_xstrdup(next);
    }
    json_decref(ans);
    return 0;
}

int dbm_ecs_read_log(dbm_ecs_run *run, void (*fn)(void *ud, const char *line), void *ud)
{
    bool more = true;
    int rc = 0;

    if (!run->log_stream)
        return 0;
    while (more && rc == 0)
        rc = log_page(run, fn, ud, &more);
    return rc;
}

void dbm_ecs_run_free(dbm_ecs_run *run)
{
    if (!run)
        return;
    free(run->cluster);
    json_decref(run->task_def);
    free(run->container);
    json_decref(run->network);
    free(run->task_arn);
    free(run->log_group);
    free(run->log_region);
    free(run->log_stream_prefix);
    free(run->log_stream);
    free(run->log_token);
    free(run);
}
