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
#include "command/fleet_schemas.h"
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
    char *name;   /* the target's name, or "target/schema" for a schema of a schemas: target */
    char *schema; /* that schema; NULL for a database target and a schemas: target's own row */
    bool exists;  /* the schema exists (the schemas: query's database has it) */
    bool preset; /* its outcome was decided at the start: the schemas: query failed or named none */
    size_t order; /* file order, then the schemas: query's */
    int code;     /* the run's error code, DBM_OK when done */
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
    size_t cap;
    bool failed;             /* a target failed: with fail-fast, no more start */
    size_t selected;         /* the items the selection took, before the shard took its share */
    dbm_fleet_globs *sglobs; /* the selection's "TARGET/SCHEMA" globs */
    pthread_mutex_t mu;
} fleet;

/* What a glob of the selection is matched against, and whether it is a hit. */
typedef bool glob_test(char *glob, const dbm_config_target *t, const char *name);

/* Whether one of the comma-separated globs (spaces around each dropped) passes test. */
static bool any_glob(const char *globs, glob_test *test, const dbm_config_target *t,
                     const char *name)
{
    char *copy = dbm_xstrdup(globs), *save = NULL;
    bool hit = false;

    for (char *g = strtok_r(copy, ",", &save); g && !hit; g = strtok_r(NULL, ",", &save)) {
        g += strspn(g, " ");
        g[strcspn(g, " ")] = '\0';
        hit = *g && test(g, t, name);
    }
    free(copy);
    return hit;
}

static bool names_target(char *g, const dbm_config_target *t, const char *name)
{
    (void)name;
    return fnmatch(g, t->name, 0) == 0 || (t->group && fnmatch(g, t->group, 0) == 0);
}

static bool names_item(char *g, const dbm_config_target *t, const char *name)
{
    (void)t;
    return fnmatch(g, name, 0) == 0;
}

/* "TARGET/SCHEMA": its TARGET part names t. */
static bool names_schemas_of(char *g, const dbm_config_target *t, const char *name)
{
    char *slash = strchr(g, '/');

    (void)name;
    if (!slash)
        return false;
    *slash = '\0';
    return fnmatch(g, t->name, 0) == 0;
}

/* Whether one of the comma-separated globs matches the target's name or group. */
static bool selected(const char *globs, const dbm_config_target *t)
{
    return !globs || any_glob(globs, names_target, t, NULL);
}

/* Whether one of the globs matches an item: its name ("target/schema"), its target's or group. */
static bool item_selected(const char *globs, const dbm_config_target *t, const char *name)
{
    return selected(globs, t) || any_glob(globs, names_item, t, name);
}

/*
 * Whether a schemas: target may hold selected schemas: a glob matches its name
 * or group, or a glob "TARGET/SCHEMA" has a TARGET part that matches its name.
 * Only then is its query run.
 */
static bool schemas_wanted(const char *globs, const dbm_config_target *t)
{
    return selected(globs, t) || any_glob(globs, names_schemas_of, t, NULL);
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
            hit = selected(g, &all[i]) ||
                  (all[i].schemas && strchr(g, '/') && schemas_wanted(g, &all[i]));
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

/* A target's failure in the log, with the hint that says what to do about it. */
static void log_failure(const char *outcome, const char *error)
{
    dbm_log("%s: %s", outcome, error ? error : "");
    if (dbm_error_hint_text())
        dbm_log("hint: %s", dbm_error_hint_text());
}

/* One schema of a schemas: target, run as a database of its own with its own history. */
static int run_schema(fleet *f, fleet_item *it, dbm_config *tcfg)
{
    char *history = NULL, *search_path = NULL;
    int error;

    if (!it->exists) {
        char *shown = dbm_printable(it->schema);
        error = dbm_error_set(DBM_ECONFIG, "schema '%s' does not exist", shown);
        dbm_error_hint("create the tenant's schema first (db-migrate does not), or make the "
                       "schemas: query return only schemas that exist");
        free(shown);
        return error;
    }
    if ((error = dbm_fleet_schema_settings(&history, &search_path, f->cfg, it->target,
                                           it->schema)) == 0) {
        tcfg->history_schema = history;
        tcfg->search_path = search_path;
        error = dbm_command_run(f->cmd, tcfg, it->detail);
    }
    free(history);
    free(search_path);
    return error;
}

static void run_target(fleet *f, fleet_item *it)
{
    dbm_config tcfg = *f->cfg;
    int64_t started = dbm_now_ms();
    int status;

    if (it->preset)
        return;
    dbm_log_set_prefix(it->name);
    it->detail = dbm_report_new(f->cmd->name);
    tcfg.database_url = it->target->database_url;
    tcfg.database_from_pgenv = false;
    tcfg.report_file = NULL;
    tcfg.comment_on_pr = false;
    tcfg.gh.step_summary = NULL;
    tcfg.gh.output = NULL;
    if (!it->target->database_url)
        it->code = dbm_error_set(DBM_ECONFIG, "target '%s' has no database-url", it->target->name);
    else if (it->schema)
        it->code = run_schema(f, it, &tcfg);
    else
        it->code = dbm_command_run(f->cmd, &tcfg, it->detail);
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
        log_failure(it->outcome, it->error);
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
        dbm_target_result *t = dbm_report_add_target(report, it->name, it->target->group);
        if (!it->ran) { /* a row decided at the start, in a stage that never started */
            free(it->outcome);
            free(it->error);
        }
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
    report->shard.index = f->cfg->shard_index;
    report->shard.count = f->cfg->shard_count;
    report->targets_selected = f->selected;
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
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Whether a command only reads the databases: it looks at every target, whatever failed. */
static bool reads_only(const char *name)
{
    static const char *const cmds[] = {"plan", "status", "dry-run", "verify"};

    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (!strcmp(name, cmds[i]))
            return true;
    return false;
}

/*
 * Run the items stage by stage (one stage of all when there are none): a
 * stage starts once the one before it is done, and not at all when a target
 * of an earlier stage failed. Stages guard changes: a command that only reads
 * (plan, status, dry-run, verify) runs every target as one stage, so a canary
 * that is down hides nothing of the others.
 */
static void run_stages(fleet *f, const char *const *stages, size_t nstages)
{
    if (f->count > 1)
        qsort(f->items, f->count, sizeof(*f->items), by_stage);
    if (reads_only(f->cmd->name)) {
        f->next = 0;
        f->end = f->count;
        run_all(f);
        return;
    }
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

/* A new item for target t (its name given, or "t/schema"); it is f's. */
static fleet_item *add_item(fleet *f, const dbm_config_target *t, char *name, size_t stage)
{
    fleet_item *it;

    dbm_array_grow((void **)&f->items, &f->cap, f->count + 1, sizeof(*f->items));
    it = &f->items[f->count];
    memset(it, 0, sizeof(*it));
    it->target = t;
    it->name = name;
    it->stage = stage;
    it->order = f->count++;
    return it;
}

static bool in_shard(const dbm_config *cfg, const char *name)
{
    return !cfg->shard_count || shard_of(name, cfg->shard_count) == cfg->shard_index;
}

/* A selected item named name: counted, and whether it is in this job's shard. */
static bool take(fleet *f, const char *name)
{
    f->selected++;
    return in_shard(f->cfg, name);
}

/*
 * A schemas: target's items: one per schema its query names that the
 * selection and the shard take ("target/schema" is hashed). A query that
 * fails gives one row for the target in every shard (each shard's share is
 * unknown, so each fails); one that names no schema gives one row, "no-schemas",
 * in the target's own shard.
 */
static void add_schemas(fleet *f, const dbm_config_target *t, size_t stage)
{
    const dbm_config *cfg = f->cfg;
    dbm_fleet_schemas *s = NULL;
    fleet_item *it;
    int error;

    if (!schemas_wanted(cfg->targets, t))
        return;
    dbm_log_set_prefix(t->name);
    error = dbm_fleet_schemas_read(&s, cfg, t);
    if (error < 0 || s->count == 0) {
        if (error < 0)
            f->selected++; /* a row in every shard: each shard's share is unknown */
        if (error == 0 && !take(f, t->name)) {
            dbm_log_set_prefix(NULL);
            dbm_tenant_schemas_free(s);
            return;
        }
        it = add_item(f, t, dbm_xstrdup(t->name), stage);
        it->preset = true;
        it->code = error;
        it->outcome = dbm_xstrdup(error < 0 ? dbm_target_outcome(dbm_error_exit_status(error), NULL)
                                            : "no-schemas");
        it->error = error < 0 ? dbm_xstrdup(dbm_error_message()) : NULL;
        if (error < 0)
            log_failure(it->outcome, it->error);
        dbm_error_clear();
        dbm_log_set_prefix(NULL);
        dbm_tenant_schemas_free(s);
        return;
    }
    dbm_log_set_prefix(NULL);
    dbm_fleet_globs_match(f->sglobs, t->name, s->names, s->count);
    for (size_t k = 0; k < s->count; k++) {
        /* A schema's name is the database's: no control character reaches a log line. */
        char *shown = dbm_printable(s->names[k]);
        char *name = dbm_xasprintf("%s/%s", t->name, shown);
        free(shown);
        if (!item_selected(cfg->targets, t, name) || !take(f, name)) {
            free(name);
            continue;
        }
        it = add_item(f, t, name, stage);
        it->schema = s->names[k];
        it->exists = s->exists[k];
        s->names[k] = NULL;
    }
    dbm_tenant_schemas_free(s);
}

/* Target t's items, when the selection takes it: itself, or its schemas. */
static void add_target(fleet *f, const dbm_config_target *t, size_t stage)
{
    dbm_mask(t->database_url);
    if (t->url_error) { /* told before anything runs, when the selection takes the target */
        bool wanted = t->schemas ? schemas_wanted(f->cfg->targets, t)
                                 : selected(f->cfg->targets, t) && take(f, t->name);
        if (wanted && t->schemas)
            f->selected++; /* in every shard, as a query that failed */
        if (wanted)
            add_item(f, t, dbm_xstrdup(t->name), stage);
        return;
    }
    if (t->schemas)
        add_schemas(f, t, stage);
    else if (selected(f->cfg->targets, t) && take(f, t->name))
        add_item(f, t, dbm_xstrdup(t->name), stage);
}

static void items_free(fleet *f)
{
    for (size_t i = 0; i < f->count; i++) {
        free(f->items[i].name);
        free(f->items[i].schema);
    }
    free(f->items);
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
    bool held;
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
    f.sglobs = dbm_fleet_globs_new(cfg->targets);
    for (size_t i = 0; i < n; i++)
        add_target(&f, &all[i], stage_of(&all[i], stages, nstages));
    if ((error = dbm_fleet_globs_check_free(f.sglobs)) < 0) {
        items_free(&f);
        return error;
    }
    for (size_t i = 0; i < f.count; i++)
        if (f.items[i].target->url_error) {
            dbm_error_set(DBM_ECONFIG, "%s", f.items[i].target->url_error);
            dbm_error_hint("set it in the step's env for target '%s' (with run-in: ecs, the "
                           "task's environment sets it instead)",
                           f.items[i].target->name);
            items_free(&f);
            return DBM_ECONFIG;
        }
    if (f.count > 1 && !many(cmd->name)) {
        items_free(&f);
        dbm_error_set(DBM_ECONFIG, "'%s' runs on one target at a time", cmd->name);
        dbm_error_hint("select one target with --targets NAME (apply, plan, status, dry-run and "
                       "verify take many)");
        return DBM_ECONFIG;
    }
    pthread_mutex_init(&f.mu, NULL);
    held = dbm_git_hold(cfg->migrations_dir);
    run_stages(&f, stages, nstages);
    dbm_git_release(held);
    pthread_mutex_destroy(&f.mu);
    error = record(&f, report);
    items_free(&f);
    /* One comment for the fleet: each target's run posted none of its own. */
    if (cfg->comment_on_pr && (cmd->flags & DBM_COMMAND_PR_COMMENT))
        dbm_comment_post(cfg, report, error);
    return error;
}
