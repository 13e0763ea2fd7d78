/*
 * ecs.h - one db-migrate run as an ECS Fargate task: the task definition
 * (given, or the service's; with an image, a new revision of it), the network
 * configuration (given, or the service's), RunTask with a container override,
 * DescribeTasks, StopTask, and the container's CloudWatch log (GetLogEvents on
 * the awslogs stream "prefix/container/task-id").
 *
 * This module speaks ECS and CloudWatch Logs and knows nothing of migrations:
 * the command and environment to run are the caller's, and so is what the
 * log lines mean. Calls are signed with the credentials given (aws.h).
 */
#ifndef DBM_ECS_H
#define DBM_ECS_H

#include "net/aws.h"

#include <stdbool.h>
#include <stddef.h>

/* What the run needs. Every string is borrowed; NULL: not given. */
typedef struct {
    const char *cluster;         /* default: the default cluster */
    const char *service;         /* its task definition and network configuration */
    const char *task_definition; /* family, family:revision or ARN; overrides the service's */
    const char *container;       /* default: the first essential container */
    const char *image;           /* register a revision with this image first */
    const char *subnets;         /* comma-separated; with security_groups, over the service's */
    const char *security_groups; /* comma-separated */
    const char
        *assign_public_ip; /* "ENABLED" or "DISABLED"; default the service's, else DISABLED */
} dbm_ecs_opts;

typedef struct dbm_ecs_run dbm_ecs_run;

/*
 * Resolve what RunTask needs: DescribeServices (with a service),
 * DescribeTaskDefinition, RegisterTaskDefinition (with an image), and the
 * container's awslogs configuration. Logs what it chose. DBM_ECONFIG when
 * something is missing (no task definition, no subnets, no such container,
 * a container without the awslogs driver) or refused, DBM_ECONNECT when
 * ECS cannot be reached or denies a call (naming the IAM action).
 */
int dbm_ecs_prepare(dbm_ecs_run **out, const dbm_aws_credentials *creds, const dbm_ecs_opts *opts);

/* The container's name and the task definition's ARN the run uses (borrowed from run). */
const char *dbm_ecs_container(const dbm_ecs_run *run);
const char *dbm_ecs_task_definition(const dbm_ecs_run *run);

/*
 * RunTask: launch type FARGATE, the container override's command (argv, NULL
 * terminated) and environment ("NAME=value" strings, NULL-terminated, may be
 * NULL). A task ECS could not place is DBM_ECONNECT with ECS's reason.
 */
int dbm_ecs_start(dbm_ecs_run *run, const char *const *argv, const char *const *env);

/* The task's ARN once started, else NULL (borrowed). */
const char *dbm_ecs_task_arn(const dbm_ecs_run *run);

typedef struct {
    bool stopped;
    bool started;         /* the container started at some point (it has a runtime) */
    int exit_code;        /* the container's, when stopped with one; else -1 */
    char last_status[24]; /* PROVISIONING, PENDING, RUNNING, ..., STOPPED */
    char *stopped_reason; /* the task's stoppedReason, else the container's reason; caller frees */
} dbm_ecs_status;

/* DescribeTasks. st->stopped_reason belongs to the caller. */
int dbm_ecs_poll(dbm_ecs_run *run, dbm_ecs_status *st);

/* StopTask with `reason` (ECS sends SIGTERM, then SIGKILL after the stop timeout). */
int dbm_ecs_stop(dbm_ecs_run *run, const char *reason);

/*
 * The container's log lines since the last call (GetLogEvents from the head,
 * then the forward token), each given to fn without its newline. A stream
 * not yet created is no lines. Returns 0 or the first error.
 */
int dbm_ecs_read_log(dbm_ecs_run *run, void (*fn)(void *ud, const char *line), void *ud);

/* The log stream's name, group and region, for the hint after a failure. Borrowed. */
const char *dbm_ecs_log_group(const dbm_ecs_run *run);

void dbm_ecs_run_free(dbm_ecs_run *run); /* accepts NULL */

#endif
