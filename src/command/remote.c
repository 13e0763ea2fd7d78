/*
 * remote.c - what a remote run does here: the checks that need the
 * repository, the remote command line, the report brought home.
 */
#include "command/remote.h"
#include "command/check.h"
#include "common/error.h"
#include "common/log.h"
#include "common/stop.h"
#include "common/util.h"
#include "report/report.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

static volatile sig_atomic_t cancelled;

static void on_cancel(int sig)
{
    (void)sig;
    cancelled = 1;
}

bool dbm_remote_cancelled(void)
{
    return cancelled != 0;
}

void dbm_remote_sleep(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (!cancelled && nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* A token no log line can guess, for ::stop-commands::. */
void dbm_remote_token(char hex[33])
{
    unsigned char b[16] = {0};

    if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
        for (size_t i = 0; i < sizeof(b); i++)
            b[i] = (unsigned char)(dbm_now_us() >> (i % 8));
    for (size_t i = 0; i < sizeof(b); i++)
        snprintf(hex + 2 * i, 3, "%02x", b[i]);
}

int dbm_remote_credentials(dbm_aws_credentials **out, const dbm_config *cfg)
{
    dbm_aws_options o = {cfg->aws_region, cfg->role_to_assume, cfg->role_session_name,
                         cfg->audience};
    return dbm_aws_credentials_resolve(out, &o);
}

char **dbm_remote_argv(const dbm_config *cfg, const char *name, const char *digest,
                       bool report_in_log)
{
    size_t n = 0, cap = 2 * cfg->nremote_opts + 12;
    char **argv = dbm_xcalloc(cap, sizeof(*argv));

    argv[n++] = dbm_xstrdup("db-migrate");
    argv[n++] = dbm_xstrdup(name);
    argv[n++] = dbm_xstrdup("--run-in");
    argv[n++] = dbm_xstrdup("here");
    if (report_in_log)
        argv[n++] = dbm_xstrdup("--report-in-log");
    for (size_t i = 0; i < cfg->nremote_opts; i++) {
        argv[n++] = dbm_xasprintf("--%s", cfg->remote_opts[i].name);
        argv[n++] = dbm_xstrdup(dbm_remote_opt_value(cfg, i));
    }
    if (cfg->yes)
        argv[n++] = dbm_xstrdup("--yes");
    if (digest) {
        argv[n++] = dbm_xstrdup("--expect-migrations");
        argv[n++] = dbm_xstrdup(digest);
    }
    return argv;
}

const char *dbm_remote_opt_value(const dbm_config *cfg, size_t i)
{
    /* The image holds the repository's tree: a path here is relative there. */
    if (strcmp(cfg->remote_opts[i].name, "migrations-dir") == 0)
        return *cfg->shown_dir ? cfg->shown_dir : ".";
    return cfg->remote_opts[i].value;
}

void dbm_remote_argv_free(char **argv)
{
    for (size_t i = 0; argv && argv[i]; i++)
        free(argv[i]);
    free(argv);
}

char **dbm_remote_audit_env(const dbm_config *cfg)
{
    static const char *const vars[] = {
        "GITHUB_SHA",        "GITHUB_ACTOR",  "GITHUB_EVENT_NAME",  "GITHUB_SERVER_URL",
        "GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT", NULL};
    char **env = dbm_xcalloc(sizeof(vars) / sizeof(vars[0]), sizeof(*env));
    size_t n = 0;

    (void)cfg;
    for (size_t i = 0; vars[i]; i++)
        if (dbm_getenv(vars[i]))
            env[n++] = dbm_xasprintf("%s=%s", vars[i], dbm_getenv(vars[i]));
    return env;
}

/* `path` under the remote migrations directory, as the repository has it. Caller frees. */
static char *local_path(const char *path, const char *remote_dir, const char *shown_dir)
{
    size_t n;

    while (dbm_starts_with(remote_dir, "./"))
        remote_dir += 2;
    n = strlen(remote_dir);
    while (n > 0 && remote_dir[n - 1] == '/')
        n--;
    if (!path || n == 0 || strncmp(path, remote_dir, n) != 0 || path[n] != '/')
        return dbm_xstrdup(path);
    path += n + 1;
    if (!*shown_dir)
        return dbm_xstrdup(path);
    return dbm_xasprintf("%s%s%s", shown_dir, shown_dir[strlen(shown_dir) - 1] == '/' ? "" : "/",
                         path);
}

static void remap(char **field, const char *remote_dir, const char *shown_dir)
{
    char *p;

    if (!*field || !remote_dir)
        return;
    p = local_path(*field, remote_dir, shown_dir);
    free(*field);
    *field = p;
}

/* The files of r's rows and findings as the repository has them; its directory this run's. */
static void remap_report(dbm_report *r, const char *shown, const char *local_dir)
{
    for (size_t i = 0; i < r->nmigs; i++) {
        remap(&r->migs[i].file, r->migrations_dir, shown);
        if (r->migs[i].error)
            remap(&r->migs[i].error->file, r->migrations_dir, shown);
    }
    for (size_t i = 0; i < r->nfindings; i++)
        remap(&r->findings[i].file, r->migrations_dir, shown);
    dbm_report_set(&r->migrations_dir, local_dir);
}

/* Whether r has a finding of this rule on this file and line. */
static bool has_finding(const dbm_report *r, const dbm_finding *f)
{
    for (size_t i = 0; i < r->nfindings; i++) {
        const dbm_finding *g = &r->findings[i];
        if (g->line == f->line && !strcmp(g->rule ? g->rule : "", f->rule ? f->rule : "") &&
            !strcmp(g->file ? g->file : "", f->file ? f->file : ""))
            return true;
    }
    return false;
}

/* What this process knew and the remote run could not: git's side. */
static void keep_local(dbm_report *r, const dbm_report *local)
{
    if (!r->git.head)
        dbm_report_set(&r->git.head, local->git.head);
    if (!r->git.deployed)
        dbm_report_set(&r->git.deployed, local->git.deployed);
    if (!r->git.base)
        dbm_report_set(&r->git.base, local->git.base);
    if (!r->git.compare_url)
        dbm_report_set(&r->git.compare_url, local->git.compare_url);
    for (size_t i = 0; !r->git.nchanges && i < local->git.nchanges; i++) {
        const dbm_git_change_info *c = &local->git.changes[i];
        dbm_report_add_git_change(r, c->kind, c->path, c->old_path, c->commit);
    }
    for (size_t i = 0; i < local->nfindings; i++) {
        const dbm_finding *f = &local->findings[i];
        dbm_finding *g;
        if (has_finding(r, f))
            continue;
        g = dbm_report_add_finding(r, f->severity, f->rule, f->file, f->line, f->col, "%s",
                                   f->message ? f->message : "");
        dbm_report_set(&g->hint, f->hint);
        dbm_report_set(&g->status, f->status);
    }
}

int dbm_remote_take_report(dbm_run_ctx *ctx, const char *json, size_t len)
{
    dbm_report *remote = dbm_report_new(ctx->report->command), tmp;
    const char *shown = ctx->cfg->shown_dir;
    int error;

    if ((error = dbm_report_from_json(remote, json, len)) < 0) {
        dbm_report_free(remote);
        return error;
    }
    remap_report(remote, shown, ctx->report->migrations_dir);
    /* A fleet's run (a shard in one task): each target's own report too. */
    for (size_t i = 0; i < remote->ntargets; i++)
        if (remote->targets[i].detail)
            remap_report(remote->targets[i].detail, shown, ctx->report->migrations_dir);
    keep_local(remote, ctx->report);
    tmp = *ctx->report;
    *ctx->report = *remote;
    *remote = tmp;
    dbm_report_free(remote);
    return 0;
}

int dbm_remote_exit(dbm_run_ctx *ctx, int exit_code, const char *where)
{
    const char *msg = ctx->report->error;
    bool blocked = ctx->report->status && !strcmp(ctx->report->status, "blocked");
    int code = exit_code == 2   ? DBM_ECONFIG
               : exit_code == 3 ? DBM_ECONNECT
               : exit_code == 4 ? DBM_ELOCKED
               : blocked        ? DBM_EBLOCKED
                                : DBM_EFAILED;

    if (exit_code == 0)
        return 0;
    if (exit_code < 0 || exit_code > 4) {
        dbm_error_set(DBM_EGENERIC, "the run in %s exited with status %d%s%s", where, exit_code,
                      msg ? ": " : "", msg ? msg : "");
        dbm_error_hint("status %d is not db-migrate's: the process was killed (137: out of "
                       "memory, or stopped) or the image's entrypoint failed; see its log above",
                       exit_code);
        return DBM_EGENERIC;
    }
    if (msg)
        dbm_error_set(code, "%s", msg);
    else
        dbm_error_set(code, "the run in %s exited with status %d", where, exit_code);
    dbm_error_hint("see the log of the run in %s above", where);
    return code;
}

/*
 * What a run here does before it needs the database, without one: the
 * files, the git checks, and the rules on the files changed since the base
 * (the remote run checks the pending ones against the history). A blocking
 * finding stops the run before anything remote starts.
 */
static int check_here(dbm_run_ctx *ctx, bool writes)
{
    int error;

    if ((error = dbm_run_load_files(ctx)) < 0)
        return error;
    dbm_run_classify(ctx, false);
    if ((error = dbm_run_gitcheck(ctx, writes)) < 0)
        return error;
    if ((ctx->report->git.base || ctx->report->git.deployed) &&
        (error = dbm_check_changed(ctx)) < 0)
        return error;
    dbm_run_fail_on(ctx);
    if (dbm_report_has_blocking(ctx->report)) {
        dbm_run_report_rows(ctx);
        return dbm_run_blocked(ctx->report);
    }
    return 0;
}

int dbm_remote_run(dbm_run_ctx *ctx, const char *name)
{
    struct sigaction sa, old_term, old_int;
    bool writes = strcmp(name, "plan") && strcmp(name, "status") && strcmp(name, "verify") &&
                  strcmp(name, "history") && strcmp(name, "dry-run");
    char *digest = NULL;
    int error;

    /* A write on a pull request was refused before (dbm_command_check_args). */
    if ((error = check_here(ctx, writes)) < 0)
        return error;
    digest = dbm_xstrdup(ctx->report->migrations_digest);
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_cancel;
    sigemptyset(&sa.sa_mask);
    dbm_stop_catch(&sa, &old_term, &old_int);
    cancelled = 0;
    if (ctx->cfg->run_in == DBM_RUN_IN_ECS)
        error = dbm_remote_ecs(ctx, name, digest);
    else
        error = dbm_remote_lambda(ctx, name, digest);
    dbm_stop_uncatch(&old_term, &old_int);
    free(digest);
    return error;
}
