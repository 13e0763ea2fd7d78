/*
 * remote_ecs.c - run-in: ecs. Start the task, follow it and its log until it
 * stops, take the report framed in the log, exit with the container's status.
 *
 * The task's log lines are copied into this log as they arrive, between
 * ::stop-commands:: markers in Actions, so nothing the remote run prints is
 * taken for a workflow command; the frame's lines are read, not copied. A
 * cancelled job (SIGTERM, SIGINT) stops the task and follows it until it has
 * stopped: db-migrate in the task finishes or rolls back the migration it is
 * in and records the run as cancelled.
 */
#include "command/remote.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "net/ecs.h"
#include "report/report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POLL_MS         1000L
#define LOG_DRAIN_TRIES 10 /* polls after the task stopped for its log's last lines */

typedef struct {
    dbm_frame_reader *frames;
    FILE *out;
    size_t lines;
} log_copy;

static void copy_line(void *ud, const char *line)
{
    log_copy *lc = ud;

    if (dbm_frame_reader_line(lc->frames, line))
        return;
    fprintf(lc->out, "%s\n", line);
    fflush(lc->out);
    lc->lines++;
}

static dbm_ecs_opts ecs_opts(const dbm_config *cfg)
{
    dbm_ecs_opts o = {.cluster = cfg->ecs.cluster,
                      .service = cfg->ecs.service,
                      .task_definition = cfg->ecs.task_definition,
                      .container = cfg->ecs.container,
                      .image = cfg->ecs.image,
                      .subnets = cfg->ecs.subnets,
                      .security_groups = cfg->ecs.security_groups,
                      .assign_public_ip = cfg->ecs.assign_public_ip};
    return o;
}

typedef struct {
    dbm_ecs_run *run;
    const dbm_config *cfg;
    log_copy log;
    bool stop_sent, timed_out, cancelled;
    int64_t started;
    dbm_ecs_status st;
} follow_state;

/* StopTask once, when the job is cancelled or remote-timeout has passed. */
static int maybe_stop(follow_state *f)
{
    const char *why = NULL;

    if (f->stop_sent)
        return 0;
    if (dbm_remote_cancelled()) {
        f->cancelled = true;
        why = "db-migrate: the GitHub Actions job was cancelled";
    } else if (f->cfg->remote_timeout_ms > 0 &&
               dbm_now_ms() - f->started > f->cfg->remote_timeout_ms) {
        f->timed_out = true;
        why = "db-migrate: remote-timeout passed";
    }
    if (!why)
        return 0;
    f->stop_sent = true;
    dbm_log("%s: stopping task %s", why + strlen("db-migrate: "), dbm_ecs_task_arn(f->run));
    return dbm_ecs_stop(f->run, why);
}

/* Poll the task and copy its log until it has stopped, then drain the log. */
static int follow(follow_state *f)
{
    int error;

    for (;;) {
        free(f->st.stopped_reason);
        f->st.stopped_reason = NULL;
        if ((error = dbm_ecs_read_log(f->run, copy_line, &f->log)) < 0 ||
            (error = maybe_stop(f)) < 0 || (error = dbm_ecs_poll(f->run, &f->st)) < 0)
            return error;
        if (f->st.stopped)
            break;
        dbm_remote_sleep(POLL_MS);
    }
    /* CloudWatch delivers the last lines a little after the task stops. */
    for (int i = 0; f->st.started && i < LOG_DRAIN_TRIES; i++) {
        if ((error = dbm_ecs_read_log(f->run, copy_line, &f->log)) < 0)
            return error;
        if (dbm_frame_reader_json(f->log.frames))
            break;
        dbm_remote_sleep(POLL_MS);
    }
    return 0;
}

/*
 * A task this process can no longer follow (its log or its state denied or
 * unreachable) is stopped rather than left to run unseen: db-migrate in it
 * finishes or rolls back the migration it is in, and a rerun resumes.
 */
static void stop_unfollowed(follow_state *f)
{
    dbm_saved_error saved = {DBM_OK, NULL, NULL};

    dbm_error_save(&saved);
    if (dbm_ecs_stop(f->run, "db-migrate: the run could not be followed") == 0)
        dbm_warn("stopped task %s: its run could not be followed", dbm_ecs_task_arn(f->run));
    dbm_error_raise(&saved);
    dbm_saved_error_free(&saved);
}

/* The outcome of a stopped task: its report, its status, or why it never ran. */
static int outcome(dbm_run_ctx *ctx, follow_state *f)
{
    const char *json = dbm_frame_reader_json(f->log.frames);
    const char *reason = f->st.stopped_reason ? f->st.stopped_reason : "no reason given";
    int error;

    if (!f->st.started || (f->st.exit_code < 0 && !json)) {
        error = dbm_error_set(DBM_ECONNECT, "the ecs task %s stopped before db-migrate ran: %s",
                              dbm_ecs_task_arn(f->run), reason);
        dbm_error_hint("check that the image can be pulled (the execution role needs "
                       "ecr:GetAuthorizationToken and ecr:BatchGetImage), its secrets read, and "
                       "that the subnets reach ECR and CloudWatch Logs (NAT or VPC endpoints)");
        return error;
    }
    if (json && (error = dbm_remote_take_report(ctx, json, strlen(json))) < 0)
        return error;
    if ((f->cancelled || f->timed_out) && f->st.exit_code == 0 && json) {
        /* Asked to stop, it finished what it was doing, and that was all. */
        dbm_warn("the task finished its run after it was asked to stop");
    } else if (f->cancelled || f->timed_out) {
        error = dbm_error_set(DBM_EFAILED, "%s; the task stopped with status %d",
                              f->cancelled ? "the job was cancelled"
                                           : "the task ran longer than remote-timeout",
                              f->st.exit_code);
        dbm_error_hint("run again: the run resumes where it stopped (the history says what the "
                       "task finished)");
        return error;
    }
    if (!json) {
        error =
            dbm_error_set(f->st.exit_code == 0 ? DBM_EGENERIC : DBM_EFAILED,
                          "the ecs task exited with status %d without a report%s", f->st.exit_code,
                          dbm_frame_reader_broken(f->log.frames) ? " (its report was cut)" : "");
        dbm_error_hint("the image must run db-migrate with --report-in-log support; see the log "
                       "group %s for the task's whole log",
                       dbm_ecs_log_group(f->run));
        return error;
    }
    return dbm_remote_exit(ctx, f->st.exit_code, "the ecs task");
}

int dbm_remote_ecs(dbm_run_ctx *ctx, const char *name, const char *digest)
{
    const dbm_config *cfg = ctx->cfg;
    dbm_aws_credentials *creds = NULL;
    dbm_ecs_opts opts = ecs_opts(cfg);
    char **argv = dbm_remote_argv(cfg, name, digest, true), **env = dbm_remote_audit_env(cfg);
    follow_state f;
    char token[33];
    int error;

    memset(&f, 0, sizeof(f));
    f.cfg = cfg;
    f.log.frames = dbm_frame_reader_new();
    f.log.out = dbm_log_stream();
    if ((error = dbm_remote_credentials(&creds, cfg)) < 0 ||
        (error = dbm_ecs_prepare(&f.run, creds, &opts)) < 0 ||
        (error = dbm_ecs_start(f.run, (const char *const *)argv, (const char *const *)env)) < 0)
        goto done;
    f.started = dbm_now_ms();
    dbm_log("started ecs task %s (%s, container %s); following its log", dbm_ecs_task_arn(f.run),
            dbm_ecs_task_definition(f.run), dbm_ecs_container(f.run));
    dbm_remote_token(token);
    fflush(stdout);
    if (dbm_in_actions())
        fprintf(f.log.out, "::stop-commands::%s\n", token);
    if ((error = follow(&f)) < 0 && !f.st.stopped)
        stop_unfollowed(&f);
    if (dbm_in_actions())
        fprintf(f.log.out, "::%s::\n", token);
    fflush(f.log.out);
    if (error == 0)
        error = outcome(ctx, &f);
done:
    free(f.st.stopped_reason);
    dbm_ecs_run_free(f.run);
    dbm_frame_reader_free(f.log.frames);
    dbm_aws_credentials_free(creds);
    dbm_remote_argv_free(argv);
    dbm_remote_argv_free(env);
    return error;
}
