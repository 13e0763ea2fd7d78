/*
 * fleet.c - one command over the config file's targets (DESIGN section 11).
 *
 * The targets the `targets` option selects (globs over names and groups) are
 * run `parallel` at once, each on its own worker thread with its own copy of
 * the configuration (its database-url), its own connection, run lock, history
 * and record: each is dbm_command_run as a single database would be. Error
 * state (error.h) and the log's target prefix (log.h) are per thread; the
 * signal handler cancels every armed connection (postgres/cancel.h). One
 * failing target stops the others only with fail-fast, and then only those not
 * started yet. The fleet's record has a row per target, failures first; the
 * run's code is the worst target's (common/record.h's dbm_fleet_rank). A pull
 * request gets one comment for the fleet; the drift between the targets is
 * report/'s to tell.
 */
#include "command/command.h"
#include "command/comment.h"
#include "common/error.h"
#include "common/log.h"
#include "common/stop.h"
#include "common/util.h"
#include "git/diff.h"

#include <fnmatch.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const dbm_config_target *target;
    int code; /* the run's error code, DBM_OK when done */
    char *outcome, *error;
    dbm_report *detail;
    double duration_ms;
    bool ran;
    size_t stage;  /* its index in stages:, or the count of stages when none names its group */
    char *skipped; /* why it was not started, when it was not */
} fleet_item;

typedef struct {
    const dbm_command_row *cmd;
    const dbm_config *cfg;
    fleet_item *items;
    size_t count, next, end; /* the items; the next to start and the end of the running stage */
    bool failed;             /* a target failed: with fail-fast, no more start */
    pthread_mutex_t mu;
} fleet;

/* Whether one of the comma-separated globs matches the target's name or group. */
static bool selected(const char *globs, const dbm_config_target *t)
{
    char *copy, *save = NULL;
    bool hit = false;

    if (!globs)
        return true;
    copy = dbm_xstrdup(globs);
    for (char *g = strtok_r(copy, ",", &save); g && !hit; g = strtok_r(NULL, ",", &save)) {
        g += strspn(g, " ");
        g[strcspn(g, " ")] = '\0';
        hit = *g && (fnmatch(g, t->name, 0) == 0 || (t->group && fnmatch(g, t->group, 0) == 0));
    }
    free(copy);
    return hit;
}

/* Every glob must select something: a typo is exit 2, not a quiet run over nothing. */
static int check_globs(const char *globs, const dbm_config_target *all, size_t n)
{
    char *copy = dbm_xstrdup(globs), *save = NULL;
    int error = 0;

    for (char *g = strtok_r(copy, ",", &save); g && !error; g = strtok_r(NULL, ",", &save)) {
        bool hit = false;
        g += strspn(g, " ");
        g[strcspn(g, " ")] = '\0';
        for (size_t i = 0; i < n && !hit; i++)
            hit = selected(g, &all[i]);
        if (*g && !hit) {
            dbm_buf names = DBM_BUF_INIT;
            for (size_t i = 0; i < n; i++)
                dbm_buf_printf(&names, "%s%s%s%s", i ? ", " : "", all[i].name,
                               all[i].group ? " in " : "", all[i].group ? all[i].group : "");
            error = dbm_error_set(DBM_ECONFIG, "targets '%s' matches no target name or group", g);
            dbm_error_hint("name targets or groups of the config file: %s", dbm_buf_cstr(&names));
            dbm_buf_free(&names);
        }
    }
    free(copy);
    return error;
}

/* A 64-bit hash of the target's name and a shard number: FNV-1a, then splitmix64's finish. */
static uint64_t shard_weight(const char *name, long shard)
{
    uint64_t h = 1469598103934665603ULL;

    for (const unsigned char *p = (const unsigned char *)name; *p; p++)
        h = (h ^ *p) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL; /* a separator no name holds */
    for (int k = 0; k < 8; k++)
        h = (h ^ (uint64_t)((unsigned long)shard >> (8 * k) & 0xff)) * 1099511628211ULL;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
}

/*
 * The shard (1..n) a target belongs to: rendezvous hashing, the shard with
 * the highest weight for the name. It depends on the name and n alone, so
 * adding or removing a target moves no other target, and going from n to
 * n + 1 shards moves only the targets the new shard wins (about 1 in n + 1).
 */
static long shard_of(const char *name, long n)
{
    long best = 1;
    uint64_t top = shard_weight(name, 1);

    for (long j = 2; j <= n; j++) {
        uint64_t w = shard_weight(name, j);
        if (w > top) {
            top = w;
            best = j;
        }
    }
    return best;
}

static void run_target(fleet *f, fleet_item *it)
{
    dbm_config tcfg = *f->cfg;
    int64_t started = dbm_now_ms();
    int status;

    dbm_log_set_prefix(it->target->name);
    it->detail = dbm_report_new(f->cmd->name);
    tcfg.database_url = it->target->database_url;
    tcfg.database_from_pgenv = false;
    tcfg.report_file = NULL;
    tcfg.comment_on_pr = false;
    tcfg.gh.step_summary = NULL;
    tcfg.gh.output = NULL;
    if (!it->target->database_url) {
        it->code = dbm_error_set(DBM_ECONFIG, "target '%s' has no database-url", it->target->name);
    } else if (it->target->schemas) {
        it->code = dbm_error_set(DBM_ECONFIG, "target '%s': schemas: is not supported yet",
                                 it->target->name);
    } else {
        it->code = dbm_command_run(f->cmd, &tcfg, it->detail);
    }
    it->duration_ms = (double)(dbm_now_ms() - started);
    it->detail->duration_ms = it->duration_ms;
    status = dbm_error_exit_status(it->code);
    it->detail->exit_code = status;
    if (it->code < 0) {
        it->error = dbm_xstrdup(dbm_error_message());
        dbm_report_set(&it->detail->error, it->error);
        if (!it->detail->status)
            dbm_report_set(&it->detail->status, "failed");
    }
    it->outcome = dbm_xstrdup(dbm_target_outcome(status, it->detail->status));
    if (status != 0)
        dbm_log("%s: %s", it->outcome, it->error ? it->error : "");
    dbm_error_clear();
    dbm_log_set_prefix(NULL);
}

static void *worker(void *arg)
{
    fleet *f = arg;

    for (;;) {
        fleet_item *it;
        pthread_mutex_lock(&f->mu);
        if (f->next >= f->end || (f->failed && f->cfg->fail_fast) || dbm_stop_signal()) {
            pthread_mutex_unlock(&f->mu);
            return NULL;
        }
        it = &f->items[f->next++];
        it->ran = true;
        pthread_mutex_unlock(&f->mu);
        run_target(f, it);
        if (it->code < 0) {
            pthread_mutex_lock(&f->mu);
            f->failed = true;
            pthread_mutex_unlock(&f->mu);
        }
    }
}

/* Run the items on min(parallel, count) threads (this one among them). */
static void run_all(fleet *f)
{
    size_t left = f->end - f->next;
    size_t n = (size_t)f->cfg->parallel < left ? (size_t)f->cfg->parallel : left;
    pthread_t *threads = dbm_xcalloc(n ? n : 1, sizeof(*threads));
    size_t started = 0;

    for (size_t i = 1; i < n; i++)
        if (pthread_create(&threads[started], NULL, worker, f) == 0)
            started++;
    worker(f);
    for (size_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    free(threads);
}

/* The fleet's record: a row per target, in the order dbm_report_fleet_close gives them. */
static int record(fleet *f, dbm_report *report)
{
    size_t n;
    const dbm_config_target *all = dbm_config_file_targets(f->cfg->file, &n);

    for (size_t i = 0; i < f->count; i++) {
        fleet_item *it = &f->items[i];
        dbm_target_result *t = dbm_report_add_target(report, it->target->name, it->target->group);
        t->outcome = it->ran ? it->outcome : dbm_xstrdup("skipped");
        t->exit_code = it->ran ? dbm_error_exit_status(it->code) : 0;
        t->error = it->ran       ? it->error
                   : it->skipped ? it->skipped
                   : dbm_stop_signal()
                       ? dbm_xstrdup("not started: the run was stopped")
                       : dbm_xstrdup("not started: an earlier target failed (fail-fast)");
        t->detail = it->detail;
        t->duration_ms = it->duration_ms;
        t->applied_count = it->detail ? it->detail->applied_count : 0;
        t->pending_count = it->detail ? it->detail->pending_count : 0;
        t->stage = it->stage;
        t->position = (size_t)(it->target - all);
    }
    report->parallel = (int)f->cfg->parallel;
    return dbm_report_fleet_close(report);
}

/* The stage of a target: the first of stages: whose glob matches its group, else the last. */
static size_t stage_of(const dbm_config_target *t, const char *const *stages, size_t n)
{
    for (size_t k = 0; k < n; k++)
        if (t->group && fnmatch(stages[k], t->group, 0) == 0)
            return k;
    return n;
}

/* Every stage names the group of some target: a typo is exit 2 before anything runs. */
static int check_stages(const char *const *stages, size_t n, const dbm_config_target *all,
                        size_t count)
{
    for (size_t k = 0; k < n; k++) {
        bool hit = false;
        for (size_t i = 0; i < count && !hit; i++)
            hit = all[i].group && fnmatch(stages[k], all[i].group, 0) == 0;
        if (!hit) {
            dbm_error_set(DBM_ECONFIG, "stage '%s' matches no target's group", stages[k]);
            dbm_error_hint("name a group of the targets (a glob such as 'eu-*' works too)");
            return DBM_ECONFIG;
        }
    }
    return 0;
}

static int by_stage(const void *a, const void *b)
{
    const fleet_item *x = a, *y = b;

    if (x->stage != y->stage)
        return x->stage < y->stage ? -1 : 1;
    return x->target < y->target ? -1 : x->target > y->target;
}

/*
 * Run the items stage by stage (one stage of all when there are none): a
 * stage starts once the one before it is done, and not at all when a target
 * of an earlier stage failed.
 */
static void run_stages(fleet *f, const char *const *stages, size_t nstages)
{
    qsort(f->items, f->count, sizeof(*f->items), by_stage);
    for (size_t start = 0; start < f->count;) {
        size_t end = start;
        while (end < f->count && f->items[end].stage == f->items[start].stage)
            end++;
        if ((f->failed && nstages) || dbm_stop_signal()) {
            for (size_t i = start; i < f->count; i++)
                if (!f->items[i].ran && !f->items[i].skipped)
                    f->items[i].skipped = dbm_xstrdup(
                        dbm_stop_signal() ? "not started: the run was stopped"
                                          : "not started: a target of an earlier stage failed");
            return;
        }
        f->next = start;
        f->end = end;
        run_all(f);
        start = end;
    }
}

/*
 * Whether the command runs on several targets: those that apply forward or
 * only read. baseline, rollback and repair change one history by hand, to a
 * version a person chose for that database: one target at a time.
 */
static bool many(const char *name)
{
    static const char *const cmds[] = {"apply", "plan", "status", "dry-run", "verify"};

    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (!strcmp(name, cmds[i]))
            return true;
    return false;
}

bool dbm_command_is_fleet(const dbm_command_row *cmd, const dbm_config *cfg)
{
    size_t n;

    dbm_config_file_targets(cfg->file, &n);
    return n > 0 && (cmd->needs_db || !cfg->offline) &&
           !(cmd->flags & (DBM_COMMAND_NO_REPORT | DBM_COMMAND_FILES));
}

int dbm_command_run_fleet(const dbm_command_row *cmd, const dbm_config *cfg, dbm_report *report)
{
    size_t n;
    const dbm_config_target *all = dbm_config_file_targets(cfg->file, &n);
    size_t nstages;
    const char *const *stages = dbm_config_file_stages(cfg->file, &nstages);
    fleet f;
    int error;

    if (cfg->run_in == DBM_RUN_IN_LAMBDA || (cfg->run_in == DBM_RUN_IN_ECS && !cmd->needs_db)) {
        dbm_error_set(DBM_ECONFIG, "run-in: %s does not run '%s' on a fleet",
                      cfg->run_in == DBM_RUN_IN_ECS ? "ecs" : "lambda", cmd->name);
        if (cfg->run_in == DBM_RUN_IN_ECS)
            dbm_error_hint("plan the fleet offline here (--offline), or see its databases with "
                           "status, which runs in the task");
        else
            dbm_error_hint("use run-in: ecs (a task runs this job's shard), or run-in: here from "
                           "a job that reaches the databases");
        return DBM_ECONFIG;
    }
    if ((cfg->targets && (error = check_globs(cfg->targets, all, n)) < 0) ||
        (error = check_stages(stages, nstages, all, n)) < 0)
        return error;
    /* One task runs this job's share (targets, shard, parallel and fail-fast travel with it,
     * config_remote.c) inside the network; its fleet report comes home (remote.c). */
    if (cfg->run_in == DBM_RUN_IN_ECS)
        return dbm_command_run(cmd, cfg, report);
    memset(&f, 0, sizeof(f));
    f.cmd = cmd;
    f.cfg = cfg;
    f.items = dbm_xcalloc(n, sizeof(*f.items));
    for (size_t i = 0; i < n; i++)
        if (selected(cfg->targets, &all[i]) &&
            (!cfg->shard_count || shard_of(all[i].name, cfg->shard_count) == cfg->shard_index)) {
            f.items[f.count].stage = stage_of(&all[i], stages, nstages);
            f.items[f.count++].target = &all[i];
            dbm_mask(all[i].database_url);
        }
    for (size_t i = 0; i < f.count; i++)
        if (f.items[i].target->url_error) {
            dbm_error_set(DBM_ECONFIG, "%s", f.items[i].target->url_error);
            dbm_error_hint("set it in the step's env for target '%s' (with run-in: ecs, the "
                           "task's environment sets it instead)",
                           f.items[i].target->name);
            free(f.items);
            return DBM_ECONFIG;
        }
    if (f.count > 1 && !many(cmd->name)) {
        free(f.items);
        dbm_error_set(DBM_ECONFIG, "'%s' runs on one target at a time", cmd->name);
        dbm_error_hint("select one target with --targets NAME (apply, plan, status, dry-run and "
                       "verify take many)");
        return DBM_ECONFIG;
    }
    pthread_mutex_init(&f.mu, NULL);
    dbm_git_hold();
    run_stages(&f, stages, nstages);
    dbm_git_release();
    pthread_mutex_destroy(&f.mu);
    error = record(&f, report);
    free(f.items);
    /* One comment for the fleet: each target's run posted none of its own. */
    if (cfg->comment_on_pr && (cmd->flags & DBM_COMMAND_PR_COMMENT))
        dbm_comment_post(cfg, report, error);
    return error;
}
