/*
 * remote_lambda.c - run-in: lambda. Invoke the function with the event of
 * DESIGN section 10 until its response no longer says "continue", print the
 * tail of each invocation's log, take the last response's report, exit with
 * its exit-code.
 *
 * Each invocation starts no migration it cannot finish before its deadline
 * and answers continue: true when some are left, so a long series is a few
 * invocations. The event is the same each time: the history says what is
 * done.
 */
#include "command/remote.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "net/lambda.h"
#include "report/report.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INVOKE_TIMEOUT_MS (16L * 60 * 1000) /* Lambda's 15-minute limit, and a margin */
#define INVALID_EVENT     "DbMigrate.InvalidEvent"

/* Options that are not action inputs: the function's event has no place for them. */
static bool is_input(const char *name)
{
    return strcmp(name, "accept-edit") != 0;
}

static json_t *event_json(const dbm_config *cfg, const char *name, const char *digest)
{
    json_t *inputs = json_object();
    json_t *audit = json_object();
    json_t *ev;

    for (size_t i = 0; i < cfg->nremote_opts; i++)
        if (is_input(cfg->remote_opts[i].name))
            json_object_set_new(inputs, cfg->remote_opts[i].name,
                                json_string(dbm_remote_opt_value(cfg, i)));
    if (cfg->gh.sha)
        json_object_set_new(audit, "git-sha", json_string(cfg->gh.sha));
    if (cfg->gh.actor)
        json_object_set_new(audit, "actor", json_string(cfg->gh.actor));
    if (cfg->gh.event_name)
        json_object_set_new(audit, "event", json_string(cfg->gh.event_name));
    if (cfg->gh.run_url)
        json_object_set_new(audit, "run-url", json_string(cfg->gh.run_url));
    ev = json_pack("{s:s, s:o, s:o}", "command", name, "inputs", inputs, "audit", audit);
    if (digest)
        json_object_set_new(ev, "expect-migrations", json_string(digest));
    return ev;
}

/* The invocation's log tail, between ::stop-commands:: markers in Actions. */
static void print_tail(const char *tail, int n)
{
    FILE *out = dbm_log_stream();
    char token[33];

    if (!tail || !*tail)
        return;
    dbm_remote_token(token);
    dbm_log_group(n == 1 ? "lambda log (the last 4 KB)" : "lambda log of the next invocation");
    fflush(stdout);
    if (dbm_in_actions())
        fprintf(out, "::stop-commands::%s\n", token);
    fputs(tail, out);
    if (tail[strlen(tail) - 1] != '\n')
        fputc('\n', out);
    if (dbm_in_actions())
        fprintf(out, "::%s::\n", token);
    fflush(out);
    dbm_log_endgroup();
}

/* The function's own error (X-Amz-Function-Error): a bad event, or a crash or timeout. */
static int function_error(const dbm_lambda_result *r, const char *function)
{
    const char *type = json_string_value(json_object_get(r->payload, "errorType"));
    const char *msg = json_string_value(json_object_get(r->payload, "errorMessage"));
    /* Split at the first line end before cleaning: the runtime sends "error\nhint: ...". */
    const char *nl = msg ? strchr(msg, '\n') : NULL;
    char *first = nl ? dbm_xstrndup(msg, (size_t)(nl - msg)) : dbm_xstrdup(msg ? msg : "");
    char *line = dbm_printable(first);
    char *hint = nl ? dbm_printable(nl + 1) : NULL;
    int error;

    free(first);
    if (type && strcmp(type, INVALID_EVENT) == 0) {
        error = dbm_error_set(DBM_ECONFIG, "%s", line);
        if (hint)
            dbm_error_hint("%s", dbm_starts_with(hint, "hint: ") ? hint + 6 : hint);
    } else {
        error = dbm_error_set(DBM_EGENERIC, "the lambda function '%s' failed (%s): %s%s%s",
                              function, r->function_error, type ? type : "no error type",
                              *line ? ": " : "", line);
        if (strstr(line, "timed out"))
            dbm_error_hint("the function ran out of time before it could answer: raise its "
                           "timeout, or use run-in: ecs for migrations that need longer");
        else
            dbm_error_hint("check that the function's image runs db-migrate as its runtime "
                           "(see docs/remote-runs.md), and its log above");
    }
    free(line);
    free(hint);
    return error;
}

/* One invocation's response: its report taken when it is the last, *more when it continues. */
static int response(dbm_run_ctx *ctx, const dbm_lambda_result *r, bool *more, int *exit_code)
{
    json_t *p = r->payload, *report = json_object_get(p, "report");
    json_t *code = json_object_get(p, "exit-code");
    char *json;
    int error;

    *more = json_is_true(json_object_get(p, "continue"));
    if (!json_is_object(p) || !json_is_integer(code)) {
        error = dbm_error_set(DBM_EGENERIC, "the lambda function's answer is not db-migrate's: "
                                            "no exit-code in it");
        dbm_error_hint("lambda-function must name a function whose image runs db-migrate as its "
                       "runtime (AWS_LAMBDA_RUNTIME_API)");
        return error;
    }
    *exit_code = (int)json_integer_value(code);
    if (*more || !json_is_object(report))
        return 0;
    json = json_dumps(report, JSON_COMPACT);
    error = dbm_remote_take_report(ctx, json, strlen(json));
    free(json);
    return error;
}

int dbm_remote_lambda(dbm_run_ctx *ctx, const char *name, const char *digest)
{
    const dbm_config *cfg = ctx->cfg;
    const char *fn = cfg->lambda_function;
    dbm_aws_credentials *creds = NULL;
    json_t *event = event_json(cfg, name, digest);
    dbm_lambda_result r;
    int64_t started = dbm_now_ms();
    int error, exit_code = 0, n = 0;
    bool more = true;

    memset(&r, 0, sizeof(r));
    if ((error = dbm_remote_credentials(&creds, cfg)) < 0)
        goto done;
    while (more) {
        if (dbm_remote_cancelled() || (cfg->remote_timeout_ms > 0 && n > 0 &&
                                       dbm_now_ms() - started > cfg->remote_timeout_ms)) {
            error = dbm_error_set(DBM_EFAILED, "%s after %d invocation%s; migrations are left",
                                  dbm_remote_cancelled() ? "the job was cancelled"
                                                         : "remote-timeout passed",
                                  n, n == 1 ? "" : "s");
            dbm_error_hint("run again: the run resumes where it stopped");
            goto done;
        }
        dbm_log("invoking lambda function %s (%s)%s", fn, name,
                n ? ": the last invocation stopped before its deadline" : "");
        dbm_lambda_result_clear(&r);
        if ((error = dbm_lambda_invoke(&r, creds, fn, event, INVOKE_TIMEOUT_MS)) < 0)
            goto done;
        print_tail(r.log_tail, ++n);
        if (r.function_error) {
            error = function_error(&r, fn);
            goto done;
        }
        if ((error = response(ctx, &r, &more, &exit_code)) < 0)
            goto done;
    }
    if (n > 1)
        dbm_log("the run took %d invocations", n);
    error = dbm_remote_exit(ctx, exit_code, "the lambda function");
done:
    dbm_lambda_result_clear(&r);
    json_decref(event);
    dbm_aws_credentials_free(creds);
    return error;
}
