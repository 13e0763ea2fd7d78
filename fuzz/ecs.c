/*
 * ecs - ECS's and CloudWatch Logs' answers to a remote run (net/ecs.c):
 * DescribeServices, DescribeTaskDefinition, RegisterTaskDefinition, RunTask,
 * DescribeTasks, GetLogEvents and StopTask, and AWS's JSON error answers
 * (net/aws_api.c: the code, the message, an AccessDenied's action and
 * resource). The first byte picks the options: bit 0 a service (else a task
 * definition), bit 1 an image, bit 2 subnets, bit 3 a container. The rest are
 * the answers in order, separated by "=====" lines (fuzz.h).
 */
#include "fuzz.h"

#include "common/error.h"
#include "common/util.h"
#include "net/aws_internal.h"
#include "net/ecs.h"

#include <stdlib.h>
#include <string.h>

#define SECRET  "fuzz-secret-key"
#define SESSION "fuzz-session-token"

static void line(void *ud, const char *text)
{
    (void)ud;
    if (strchr(text, '\n'))
        FUZZ_FAIL(); /* a log line is one line */
}

/* The error left by a step: one line, without the keys the calls were signed with. */
static void step_done(void)
{
    if (strstr(dbm_error_message(), SECRET) || strstr(dbm_error_message(), SESSION))
        FUZZ_FAIL();
    fuzz_error_done();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const env[] = {"AWS_ENDPOINT_URL", "https://aws.fuzz.test", NULL};
    static const char *const argv[] = {"db-migrate", "apply", "--report-frame", NULL};
    static const char *const task_env[] = {"DATABASE_URL=postgres://db/app", NULL};
    dbm_aws_credentials *creds;
    dbm_ecs_run *run = NULL;
    dbm_ecs_status st;
    int flags;

    if (size < 1 || memmem(data, size, "fuzz-", 5))
        return 0;
    flags = data[0];
    fuzz_env(env);
    creds = dbm_aws_credentials_new(dbm_xstrdup("AKIDFUZZ"), dbm_xstrdup(SECRET),
                                    dbm_xstrdup(SESSION), "environment");
    creds->region = dbm_xstrdup("eu-west-1");
    fuzz_http_serve(data + 1, size - 1, "https://aws.fuzz.test");
    if (dbm_ecs_prepare(&run, creds,
                        &(dbm_ecs_opts){.cluster = "migrations",
                                        .service = flags & 1 ? "app" : NULL,
                                        .task_definition = flags & 1 ? NULL : "app:3",
                                        .container = flags & 8 ? "migrate" : NULL,
                                        .image = flags & 2 ? "registry.test/app:v2" : NULL,
                                        .subnets = flags & 4 ? "subnet-1,subnet-2" : NULL,
                                        .security_groups = flags & 4 ? "sg-1" : NULL,
                                        .assign_public_ip = NULL}) == 0) {
        if (!run || !dbm_ecs_container(run) || !dbm_ecs_task_definition(run))
            FUZZ_FAIL();
        step_done();
        if (dbm_ecs_start(run, argv, task_env) == 0) {
            if (!dbm_ecs_task_arn(run))
                FUZZ_FAIL();
            for (int i = 0; i < 2; i++) {
                memset(&st, 0, sizeof(st));
                dbm_ecs_poll(run, &st);
                free(st.stopped_reason);
                step_done();
            }
            for (int i = 0; i < 2; i++) {
                dbm_ecs_read_log(run, line, NULL);
                step_done();
            }
            dbm_ecs_stop(run, "fuzz stop");
        }
    } else if (run) {
        FUZZ_FAIL();
    }
    step_done();
    fuzz_http_done();
    dbm_ecs_run_free(run);
    dbm_aws_credentials_free(creds);
    return 0;
}
