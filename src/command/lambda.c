/*
 * lambda.c - the Lambda runtime's loop: event -> the same run as on a
 * command line -> response (the contract is in lambda.h).
 *
 * The event's inputs become flags (--NAME=VALUE) and go through
 * dbm_config_load like any command line, so every option works the same way
 * and an unknown one is refused by the same table. The Runtime API itself is
 * net/lambda_runtime.c's.
 */
#include "command/lambda.h"
#include "command/command.h"
#include "common/error.h"
#include "common/log.h"
#include "common/stop.h"
#include "common/suggest.h"
#include "common/util.h"
#include "config.h"
#include "net/lambda_runtime.h"
#include "report/report.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MARGIN_MIN_MS 200LL
#define MARGIN_MAX_MS 10000LL
#define MAX_ARGS      64

/* The argv an event becomes; every string is owned. */
typedef struct {
    char *v[MAX_ARGS + 1];
    int n;
} event_args;

static void args_add(event_args *a, char *s)
{
    a->v[a->n++] = s;
}

static void args_free(event_args *a)
{
    for (int i = 0; i < a->n; i++)
        dbm_secret_free(a->v[i]);
    a->n = 0;
}

static int invalid(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* DBM_ECONFIG with its message: an event that cannot become a run. */
static int invalid(const char *fmt, ...)
{
    va_list ap;
    char *text, *msg;

    va_start(ap, fmt);
    text = dbm_xvasprintf(fmt, ap);
    va_end(ap);
    msg = dbm_printable(text); /* names from the event: one line whatever they hold */
    free(text);
    dbm_error_set(DBM_ECONFIG, "%s", msg);
    free(msg);
    return DBM_ECONFIG;
}

/* A scalar JSON value as an option's text: *out NULL for null. Caller frees. */
static int scalar_text(char **out, const char *name, const json_t *v)
{
    *out = NULL;
    if (json_is_string(v)) {
        if (strlen(json_string_value(v)) != json_string_length(v))
            return invalid("input '%s' holds a NUL character", name);
        *out = dbm_xstrdup(json_string_value(v));
    } else if (json_is_boolean(v)) {
        *out = dbm_xstrdup(json_is_true(v) ? "true" : "false");
    } else if (json_is_integer(v)) {
        *out = dbm_xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
    } else if (json_is_real(v)) {
        *out = dbm_xasprintf("%g", json_real_value(v));
    } else if (!json_is_null(v)) {
        invalid("input '%s' must be a string, a number or a boolean", name);
        dbm_error_hint("give each input as the action would: \"lock-timeout\": \"10s\"");
        return DBM_ECONFIG;
    }
    return 0;
}

/* An input name of the option table (DESIGN section 3), or DBM_ECONFIG naming the likely one. */
static int check_input_name(const char *name)
{
    const dbm_option *opt = dbm_option_find(name);
    const char *names[128];
    const char *likely;
    char *shown;
    size_t n = 0;

    if (opt && (opt->flags & DBM_OPTION_INPUT))
        return 0;
    for (const dbm_option *o = dbm_options; o->name && n < 128; o++)
        if (o->flags & DBM_OPTION_INPUT)
            names[n++] = o->name;
    likely = dbm_suggest(name, names, n);
    shown = dbm_printable(name);
    dbm_error_set(DBM_ECONFIG, "unknown input '%s' in the event", shown);
    free(shown);
    if (likely)
        dbm_error_hint("did you mean '%s'?", likely);
    else
        dbm_error_hint("the event's inputs are the action's inputs (docs/action.md), as "
                       "'db-migrate --help' lists them");
    return DBM_ECONFIG;
}

/* "inputs": each a flag --NAME=VALUE; *command is the command input when there is one. */
static int read_inputs(event_args *a, const char **command, const json_t *inputs)
{
    const char *name;
    json_t *v;
    char *text;
    int error;

    if (!json_is_object(inputs))
        return invalid("the event's '%s' must be an object of input names and values", "inputs");
    json_object_foreach((json_t *)inputs, name, v)
    {
        if ((error = check_input_name(name)) < 0 || (error = scalar_text(&text, name, v)) < 0)
            return error;
        if (!text)
            continue;
        if (strcmp(name, "command") == 0) {
            *command = json_string_value(v);
            dbm_secret_free(text);
            if (!*command)
                return invalid("input '%s' must be a string", "command");
            continue;
        }
        if (a->n >= MAX_ARGS - 2) {
            dbm_secret_free(text);
            return invalid("the event has too many %s", "inputs");
        }
        args_add(a, dbm_xasprintf("--%s=%s", name, text));
        dbm_secret_free(text);
    }
    return 0;
}

/* The event's keys: what each is, and that no other is there. */
static int check_event_keys(const json_t *event)
{
    static const char *const keys[] = {"command", "inputs", "expect-migrations", "audit"};
    const char *key;
    json_t *v;

    json_object_foreach((json_t *)event, key, v)
    {
        size_t i = 0;

        while (i < sizeof(keys) / sizeof(keys[0]) && strcmp(keys[i], key) != 0)
            i++;
        if (i == sizeof(keys) / sizeof(keys[0])) {
            invalid("unknown key '%s' in the event", key);
            dbm_error_hint("an event has command, inputs, expect-migrations and audit");
            return DBM_ECONFIG;
        }
        if (i != 1 && i != 3 && !json_is_string(v) && !json_is_null(v))
            return invalid("the event's '%s' must be a string", key);
        if (i == 3 && !json_is_object(v) && !json_is_null(v))
            return invalid("the event's '%s' must be an object", key);
    }
    return 0;
}

/* The argv of the run the event asks for. */
static int event_argv(event_args *a, const json_t *event)
{
    const char *command = NULL;
    const json_t *v;
    int error;

    if (!json_is_object(event)) {
        dbm_error_set(DBM_ECONFIG, "the event is not a JSON object");
        dbm_error_hint("invoke with {\"command\": \"apply\", \"inputs\": {...}}");
        return DBM_ECONFIG;
    }
    if ((error = check_event_keys(event)) < 0)
        return error;
    args_add(a, dbm_xstrdup("db-migrate"));
    args_add(a, NULL); /* the command word, known once the inputs are read */
    if ((v = json_object_get(event, "inputs")) && !json_is_null(v) &&
        (error = read_inputs(a, &command, v)) < 0)
        return error;
    if ((v = json_object_get(event, "command")) && json_is_string(v))
        command = json_string_value(v);
    a->v[1] = dbm_xasprintf("%s", command ? command : "apply");
    if (a->v[1][0] == '-')
        return invalid("the event's command '%s' is not a command", a->v[1]);
    /* As in the Action, asking for rollback is the confirmation. */
    if (strcmp(a->v[1], "rollback") == 0)
        args_add(a, dbm_xstrdup("--yes"));
    if ((v = json_object_get(event, "expect-migrations")) && json_is_string(v))
        args_add(a, dbm_xasprintf("--expect-migrations=%s", json_string_value(v)));
    a->v[a->n] = NULL;
    return 0;
}

/* "audit": recorded in the runs row as GITHUB_SHA, GITHUB_ACTOR, ... would be. */
static int set_audit(dbm_config *cfg, const json_t *audit)
{
    static const char *const keys[] = {"git-sha", "actor", "event", "run-url"};
    char **fields[] = {&cfg->gh.sha, &cfg->gh.actor, &cfg->gh.event_name, &cfg->gh.run_url};
    const char *key;
    json_t *v;

    if (!audit || json_is_null(audit))
        return 0;
    json_object_foreach((json_t *)audit, key, v)
    {
        size_t i = 0;

        while (i < 4 && strcmp(keys[i], key) != 0)
            i++;
        if (i == 4) {
            invalid("unknown key '%s' in the event's audit", key);
            dbm_error_hint("audit has git-sha, actor, event and run-url");
            return DBM_ECONFIG;
        }
        if (!json_is_string(v) && !json_is_null(v))
            return invalid("the event's audit '%s' must be a string", key);
        free(*fields[i]);
        *fields[i] = json_is_string(v) ? dbm_xstrdup(json_string_value(v)) : NULL;
    }
    return 0;
}

static int64_t epoch_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * The invocation's deadline on the monotonic clock, and the margin kept back
 * to roll back, record and answer: a tenth of the invocation's time, between
 * 200 ms and 10 s.
 */
static void set_deadline(dbm_config *cfg, int64_t deadline_epoch_ms)
{
    long long budget, margin;

    if (deadline_epoch_ms <= 0)
        return;
    budget = (long long)(deadline_epoch_ms - epoch_ms());
    margin = budget / 10;
    margin = margin < MARGIN_MIN_MS   ? MARGIN_MIN_MS
             : margin > MARGIN_MAX_MS ? MARGIN_MAX_MS
                                      : margin;
    cfg->deadline_ms = dbm_now_ms() + budget;
    cfg->deadline_margin_ms = margin;
}

/* Lambda's error response for an event that cannot become a run. */
static void answer_invalid(const char *api, const char *request_id)
{
    const char *hint = dbm_error_hint_text();
    char *msg = hint ? dbm_xasprintf("%s\nhint: %s", dbm_error_message(), hint)
                     : dbm_xstrdup(dbm_error_message());

    dbm_log_error(dbm_error_message(), hint);
    if (dbm_lambda_fail(api, request_id, DBM_LAMBDA_INVALID_EVENT, msg) < 0)
        dbm_log_error(dbm_error_message(), NULL);
    free(msg);
}

/* The response of a run that ended with `error`; the run's report in it. */
static void answer(const char *api, const char *request_id, const dbm_report *report, int error)
{
    char *text = dbm_report_json(report);
    json_t *rep = text ? json_loads(text, 0, NULL) : NULL;
    json_t *doc = json_object();
    char *body;

    json_object_set_new(doc, "exit-code", json_integer(dbm_error_exit_status(error)));
    json_object_set_new(doc, "status", json_string(report->status ? report->status : "failed"));
    json_object_set_new(doc, "continue", json_boolean(error == 0 && report->incomplete));
    json_object_set_new(doc, "report", rep ? rep : json_object());
    body = json_dumps(doc, JSON_COMPACT);
    if (dbm_lambda_respond(api, request_id, body) < 0)
        dbm_log_error(dbm_error_message(), NULL);
    free(body);
    json_decref(doc);
    free(text);
}

/* Run what the configuration says, as main.c does, into report: the run's code. */
static int run(const dbm_command_row *cmd, const dbm_config *cfg, dbm_report *report)
{
    int64_t started = dbm_now_ms();
    int error = dbm_command_run(cmd, cfg, report);
    dbm_emit_opts emit;

    report->duration_ms = (double)(dbm_now_ms() - started);
    if (error < 0 && *dbm_error_message())
        dbm_report_set(&report->error, dbm_error_message());
    if (error < 0 && !report->status)
        dbm_report_set(&report->status, "failed");
    if (error < 0)
        dbm_log_error(dbm_error_message(), dbm_error_hint_text());
    memset(&emit, 0, sizeof(emit));
    emit.report_path = cfg->report_file;
    if (!(cmd->flags & DBM_COMMAND_NO_REPORT) && dbm_report_emit(report, &emit) < 0)
        dbm_warn("%s", dbm_error_message());
    return error;
}

int dbm_lambda_event_load(dbm_config **cfg, const dbm_command_row **cmd, const json_t *event)
{
    event_args args = {{NULL}, 0};
    int error;

    *cfg = NULL;
    *cmd = NULL;
    if ((error = event_argv(&args, event)) < 0 ||
        (error = dbm_config_load(cfg, args.n, args.v)) < 0 ||
        (error = set_audit(*cfg, json_object_get(event, "audit"))) < 0 ||
        (error = dbm_command_find(cmd, (*cfg)->command)) < 0)
        goto done;
    error = dbm_command_check_args(*cmd, *cfg);
done:
    args_free(&args);
    if (error < 0) {
        dbm_config_free(*cfg);
        *cfg = NULL;
    }
    return error;
}

/* One invocation, answered whatever happens. */
static void invocation(const char *api, const dbm_lambda_invocation *inv, bool default_json)
{
    json_t *event = json_loads(inv->event, 0, NULL);
    dbm_config *cfg = NULL;
    const dbm_command_row *cmd = NULL;
    dbm_report *report = NULL;
    int error;

    dbm_error_clear();
    dbm_stop_reset();
    dbm_log_use_json(default_json);
    if ((error = dbm_lambda_event_load(&cfg, &cmd, event)) < 0) {
        answer_invalid(api, inv->request_id);
        goto done;
    }
    dbm_log_use_json(cfg->log_json);
    set_deadline(cfg, inv->deadline_ms);
    report = dbm_report_new(cmd->name);
    error = run(cmd, cfg, report);
    answer(api, inv->request_id, report, error);
done:
    dbm_report_free(report);
    dbm_config_free(cfg);
    json_decref(event);
}

int dbm_lambda_serve(const char *api)
{
    const char *format = dbm_getenv("AWS_LAMBDA_LOG_FORMAT");
    bool json = format && strcmp(format, "JSON") == 0;

    for (;;) {
        dbm_lambda_invocation *inv = NULL;

        if (dbm_lambda_next(&inv, api) < 0) {
            dbm_log_use_json(json);
            dbm_log_error(dbm_error_message(), NULL);
            return dbm_error_exit_status(DBM_ECONNECT);
        }
        invocation(api, inv, json);
        dbm_lambda_invocation_free(inv);
    }
}
