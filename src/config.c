/*
 * config.c - one name per option, read three ways (flag, INPUT_*, default).
 *
 * The option table below is the single list of names: the parser, --help and
 * the action.yml consistency check all read it.
 */
#include "config.h"
#include "config_fleet.h"
#include "config_remote.h"
#include "common/error.h"
#include "common/log.h"
#include "common/suggest.h"
#include "common/util.h"

#include <ctype.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    const char *name;
    char *value; /* from the command line, NULL if not given */
} flag_value;

typedef struct {
    flag_value flags[64];
    size_t nflags;
    const char **positional; /* argc entries: the command word and its arguments */
    size_t npositional;
    const dbm_config_file *file; /* db-migrate.yml, NULL when there is none */
} parsed_args;

/* The row of a flag the command line may give (not the command input, which is the word). */
static const dbm_option *flag_option(const char *name)
{
    const dbm_option *o = dbm_option_find(name);
    return o && !(o->flags & DBM_OPTION_NOFLAG) ? o : NULL;
}

/* "unknown option", with the likely one when the name is a typo of one. */
static int unknown_option(const char *name)
{
    const char *names[96];
    size_t n = 0;
    const char *likely;

    for (const dbm_option *o = dbm_options; o->name && n < sizeof(names) / sizeof(names[0]); o++)
        if (!(o->flags & (DBM_OPTION_NOFLAG | DBM_OPTION_HIDDEN)))
            names[n++] = o->name;
    likely = dbm_suggest(name, names, n);
    dbm_error_set(DBM_ECONFIG, "unknown option '--%s'", name);
    if (likely)
        dbm_error_hint("did you mean '--%s'?", likely);
    else
        dbm_error_hint("run 'db-migrate --help' for the list of options");
    return DBM_ECONFIG;
}

static int parse_argv(parsed_args *pa, int argc, char **argv)
{
    bool only_positional = false;

    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        const dbm_option *opt;
        char name[64];
        const char *eq;
        const char *value = NULL;

        /* An image whose entrypoint is db-migrate gets the command `db-migrate CMD ...` of
         * a remote run (DESIGN section 10): a leading word naming the program is nothing. */
        if (i == 1 && strcmp(arg, "db-migrate") == 0)
            continue;
        if (only_positional || arg[0] != '-' || strcmp(arg, "-") == 0) {
            pa->positional[pa->npositional++] = arg;
            continue;
        }
        if (strcmp(arg, "--") == 0) {
            only_positional = true;
            continue;
        }
        if (strcmp(arg, "-h") == 0)
            arg = "--help";
        if (arg[1] != '-') {
            dbm_error_set(DBM_ECONFIG, "unknown option '%s'", arg);
            dbm_error_hint("run 'db-migrate --help' for the list of options");
            return DBM_ECONFIG;
        }
        arg += 2;
        eq = strchr(arg, '=');
        if ((eq ? (size_t)(eq - arg) : strlen(arg)) >= sizeof(name))
            return dbm_error_set(DBM_ECONFIG, "unknown option '--%s'", arg);
        snprintf(name, sizeof(name), "%.*s", eq ? (int)(eq - arg) : (int)strlen(arg), arg);
        if (!(opt = flag_option(name))) {
            return unknown_option(name);
        } else if (opt->flags & DBM_OPTION_SWITCH) {
            if (eq)
                return dbm_error_set(DBM_ECONFIG, "option '--%s' takes no value", name);
            value = "true";
        } else if (eq) {
            value = eq + 1;
        } else if ((opt->flags & DBM_OPTION_BOOL) &&
                   (i + 1 >= argc ||
                    (strcmp(argv[i + 1], "true") && strcmp(argv[i + 1], "false")))) {
            value = "true";
        } else if (i + 1 < argc) {
            value = argv[++i];
        } else {
            dbm_error_set(DBM_ECONFIG, "option '--%s' needs a value", name);
            return DBM_ECONFIG;
        }
        if (pa->nflags == sizeof(pa->flags) / sizeof(pa->flags[0]))
            return dbm_error_set(DBM_ECONFIG, "too many options");
        for (size_t k = 0; k < pa->nflags; k++)
            if (strcmp(pa->flags[k].name, name) == 0) {
                free(pa->flags[k].value);
                pa->flags[k] = pa->flags[--pa->nflags];
                break;
            }
        pa->flags[pa->nflags].name = opt->name;
        pa->flags[pa->nflags].value = dbm_xstrdup(value);
        pa->nflags++;
    }
    return 0;
}

/* The action input for `name`: INPUT_NAME upper-cased with hyphens kept (as the runner
 * passes it), else with hyphens as underscores (as people write it by hand). */
static const char *input_value(const char *name)
{
    char var[96];
    size_t n = 0;
    const char *v;

    n = (size_t)snprintf(var, sizeof(var), "INPUT_");
    for (const char *p = name; *p && n + 1 < sizeof(var); p++)
        var[n++] = (char)toupper((unsigned char)*p);
    var[n] = '\0';
    if ((v = dbm_getenv(var)))
        return v;
    for (char *p = var; *p; p++)
        if (*p == '-')
            *p = '_';
    return dbm_getenv(var);
}

/* The flag, else the action input: what the run was given, above environment defaults. */
static const char *given(const parsed_args *pa, const char *name)
{
    for (size_t i = 0; i < pa->nflags; i++)
        if (strcmp(pa->flags[i].name, name) == 0)
            return pa->flags[i].value;
    return input_value(name);
}

/* The flag, the input, else the config file (for options without an environment default). */
static const char *lookup(const parsed_args *pa, const char *name)
{
    const char *v = given(pa, name);
    return v ? v : dbm_config_file_option(pa->file, name);
}

static int parse_bool(bool *out, const char *name, const char *v)
{
    if (!v) {
        *out = false;
        return 0;
    }
    if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes")) {
        *out = true;
        return 0;
    }
    if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no")) {
        *out = false;
        return 0;
    }
    dbm_error_set(DBM_ECONFIG, "invalid value '%s' for %s", v, name);
    dbm_error_hint("write true or false");
    return DBM_ECONFIG;
}

static int parse_duration_opt(long long *out, const parsed_args *pa, const char *name,
                              const char *dflt)
{
    const char *v = lookup(pa, name);
    return dbm_parse_duration_ms(out, name, v ? v : dflt);
}

/* Append key='value' to a conninfo string with libpq's quoting. */
static void conninfo_add(dbm_buf *b, const char *key, const char *value)
{
    if (!value)
        return;
    if (b->len)
        dbm_buf_putc(b, ' ');
    dbm_buf_printf(b, "%s='", key);
    for (const char *p = value; *p; p++) {
        if (*p == '\'' || *p == '\\')
            dbm_buf_putc(b, '\\');
        dbm_buf_putc(b, *p);
    }
    dbm_buf_putc(b, '\'');
}

static void resolve_database(dbm_config *cfg, const parsed_args *pa)
{
    static const char *const pgvars[] = {"PGHOST", "PGHOSTADDR", "PGPORT", "PGDATABASE",
                                         "PGUSER", "PGSERVICE",  NULL};
    const char *v = given(pa, "database-url");

    if (v || (v = dbm_getenv("DATABASE_URL"))) {
        cfg->database_url = dbm_xstrdup(v);
        return;
    }
    for (size_t i = 0; pgvars[i]; i++)
        if (dbm_getenv(pgvars[i])) {
            cfg->database_url = dbm_xstrdup("");
            cfg->database_from_pgenv = true;
            return;
        }
    if (dbm_getenv("DB_HOST") || dbm_getenv("DB_NAME")) {
        dbm_buf b = DBM_BUF_INIT;
        conninfo_add(&b, "host", dbm_getenv("DB_HOST"));
        conninfo_add(&b, "port", dbm_getenv("DB_PORT"));
        conninfo_add(&b, "user", dbm_getenv("DB_USER"));
        conninfo_add(&b, "dbname", dbm_getenv("DB_NAME"));
        conninfo_add(&b, "password", dbm_getenv("DB_PASSWORD"));
        cfg->database_url = dbm_buf_detach(&b);
    } else {
        cfg->database_url = dbm_xstrdup(dbm_config_file_option(pa->file, "database-url"));
    }
}

/* Announce every secret to the runner before anything could print it. */
static void mask_secrets(const dbm_config *cfg)
{
    /* A password in database-url: dbm_connect masks it once libpq has parsed the string. */
    dbm_mask(dbm_getenv("PGPASSWORD"));
    dbm_mask(cfg->github_token);
    if (cfg->ssh_private_key) {
        /* A multi-line secret is masked line by line, as the runner matches lines. */
        char *copy = dbm_xstrdup(cfg->ssh_private_key), *save = NULL;
        for (char *line = strtok_r(copy, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save))
            if (strlen(line) > 8 && !strstr(line, "-----"))
                dbm_mask(line);
        dbm_secret_free(copy);
    }
}

/* `dir` as users see it: relative to the workspace, without "./"; "" for "." itself. */
static char *shown_dir(const char *dir, const char *workspace)
{
    size_t n;

    if (workspace && (n = strlen(workspace)) && strncmp(dir, workspace, n) == 0 && dir[n] == '/')
        dir += n + 1;
    while (dbm_starts_with(dir, "./"))
        dir += 2;
    return dbm_xstrdup(strcmp(dir, ".") == 0 ? "" : dir);
}

/*
 * The command word and the arguments after it: a positional word, else the
 * command input, else plan. Which words are commands, and which take an
 * argument, is for the command table (command/table.c) to say.
 */
static int read_command(dbm_config *cfg, const parsed_args *pa)
{
    const char *cmd = pa->npositional ? pa->positional[0] : lookup(pa, "command");

    if (lookup(pa, "help"))
        cmd = "help";
    else if (lookup(pa, "version"))
        cmd = "version";
    else if ((cfg->generate = dbm_xstrdup(lookup(pa, "generate"))) != NULL)
        cmd = "generate";
    /* A bare call on the command line gets the usage; the Action's default input is plan. */
    cfg->no_command = !cmd && !dbm_in_actions();
    cfg->command = dbm_xstrdup(cmd ? cmd : cfg->no_command ? "help" : "plan");
    /* In the Action, choosing `command: rollback` is the confirmation. */
    cfg->yes = lookup(pa, "yes") != NULL ||
               (dbm_in_actions() && !pa->npositional && cmd && strcmp(cmd, "rollback") == 0);
    /* NULL-terminated, and args[0] and args[1] are there to read even when absent. */
    cfg->nargs = pa->npositional ? pa->npositional - 1 : 0;
    cfg->args = dbm_xcalloc(cfg->nargs + 2, sizeof(*cfg->args));
    for (size_t i = 1; i < pa->npositional; i++)
        cfg->args[i - 1] = dbm_xstrdup(pa->positional[i]);
    cfg->reports = dbm_xstrdup(lookup(pa, "reports"));
    return 0;
}

/*
 * A schema PostgreSQL lets the history be created in: a name, at most 63 bytes
 * (longer ones are cut by the server), not a system schema (pg_*, reserved,
 * and information_schema).
 */
static int check_history_schema(const char *v)
{
    const char *why = !*v                                    ? "is empty"
                      : strlen(v) > 63                       ? "is longer than 63 bytes"
                      : strcmp(v, "information_schema") == 0 ? "is a system schema"
                      : strncmp(v, "pg_", 3) == 0 ? "is a system schema (pg_ is reserved)"
                                                  : NULL;
    char *shown;

    if (!why)
        return 0;
    shown = dbm_printable(v);
    dbm_error_set(DBM_ECONFIG, "history-schema '%s' %s", shown, why);
    dbm_error_hint("give a schema of its own for the history tables, such as db_migrate (the "
                   "default)");
    free(shown);
    return DBM_ECONFIG;
}

/* Where the migrations are, in which format, and where their history is. */
static int read_paths(dbm_config *cfg, const parsed_args *pa)
{
    const char *v = given(pa, "migrations-dir"), *file, *slash;
    int error;

    if (!v && (v = dbm_config_file_option(pa->file, "migrations-dir")) != NULL && v[0] != '/' &&
        (slash = strrchr(file = dbm_config_file_path(pa->file), '/')) != NULL)
        /* a relative path in the file is relative to the file's folder (the repository root) */
        cfg->migrations_dir = dbm_xasprintf("%.*s/%s", (int)(slash - file), file, v);
    else
        cfg->migrations_dir = dbm_xstrdup(v ? v : "migrations");
    v = lookup(pa, "format");
    if ((error = dbm_format_parse(&cfg->format, v ? v : "auto")) < 0)
        return error;
    resolve_database(cfg, pa);
    v = lookup(pa, "history-schema");
    cfg->history_schema = dbm_xstrdup(v ? v : "db_migrate");
    return check_history_schema(cfg->history_schema);
}

/*
 * A duration PostgreSQL takes as a timeout: at most INT_MAX milliseconds
 * (about 24.8 days). Larger ones would pass here and fail on the server,
 * blamed on the first migration.
 */
static int parse_timeout_opt(long long *out, const parsed_args *pa, const char *name,
                             const char *dflt)
{
    const char *v = lookup(pa, name);
    int error = parse_duration_opt(out, pa, name, dflt);

    if (error == 0 && *out > INT_MAX) {
        error = dbm_error_set(DBM_ECONFIG, "%s '%s' is longer than PostgreSQL accepts", name,
                              v ? v : dflt);
        dbm_error_hint("give at most 596h (PostgreSQL's limit is 2147483647ms), or 0 for none");
    }
    return error;
}

/*
 * DB_MIGRATE_LEASE_TTL, which the run lock reads (postgres/lease.c): whole
 * seconds from 1 to 86400. Checked here so that a value such as "1e3" or
 * "30s" is an error before connecting, not a silent 30.
 */
static int check_lease_ttl(void)
{
    const char *v = dbm_getenv("DB_MIGRATE_LEASE_TTL");
    long s;

    if (!v)
        return 0;
    if (dbm_parse_count(&s, "DB_MIGRATE_LEASE_TTL", v) < 0 || s < 1 || s > 86400) {
        char *shown = dbm_printable(v);
        dbm_error_set(DBM_ECONFIG,
                      "invalid DB_MIGRATE_LEASE_TTL '%s': not whole seconds from 1 to 86400",
                      shown);
        dbm_error_hint("write a number of seconds, e.g. DB_MIGRATE_LEASE_TTL=30 (the default)");
        free(shown);
        return DBM_ECONFIG;
    }
    return 0;
}

static int read_timeouts(dbm_config *cfg, const parsed_args *pa)
{
    const char *v;
    int error;

    if ((error = parse_timeout_opt(&cfg->lock_timeout_ms, pa, "lock-timeout", "5s")) < 0 ||
        (error = parse_timeout_opt(&cfg->statement_timeout_ms, pa, "statement-timeout", "0")) < 0 ||
        (error = parse_duration_opt(&cfg->wait_ms, pa, "wait", "0s")) < 0 ||
        (error = parse_timeout_opt(&cfg->run_lock_wait_ms, pa, "run-lock-wait", "10m")) < 0)
        return error;
    v = lookup(pa, "lock-retries");
    if ((error = dbm_parse_count(&cfg->lock_retries, "lock-retries", v ? v : "3")) < 0)
        return error;
    /* Each retry waits lock-timeout and a backoff: past 100, a run would wait for hours. */
    if (cfg->lock_retries > DBM_LOCK_RETRIES_MAX) {
        dbm_error_set(DBM_ECONFIG, "lock-retries '%s' is out of range", v);
        dbm_error_hint("give a number of retries from 0 to %d", DBM_LOCK_RETRIES_MAX);
        return DBM_ECONFIG;
    }
    if ((error = check_lease_ttl()) < 0)
        return error;
    v = lookup(pa, "out-of-order");
    if (v && (error = dbm_option_check_value("out-of-order", v)) < 0)
        return error;
    cfg->out_of_order_allow = v && strcmp(v, "allow") == 0;
    return 0;
}

/* The versions and commits a run is about: deployed-ref, target-version, adopt-from, ... */
static int read_versions(dbm_config *cfg, const parsed_args *pa)
{
    const char *v;
    int error;

    cfg->deployed_ref = dbm_xstrdup(lookup(pa, "deployed-ref"));
    cfg->target_version = dbm_xstrdup(lookup(pa, "target-version"));
    for (size_t i = 0; i < pa->nflags; i++)
        if (strcmp(pa->flags[i].name, "accept-edit") == 0)
            cfg->accept_edit = dbm_xstrdup(pa->flags[i].value);
    cfg->expect_deployed = dbm_xstrdup(lookup(pa, "expect-deployed"));
    cfg->expect_migrations = dbm_xstrdup(lookup(pa, "expect-migrations"));
    v = lookup(pa, "adopt-from");
    if (v && (error = dbm_option_check_value("adopt-from", v)) < 0)
        return error;
    cfg->adopt_from = dbm_xstrdup(v);
    for (const char *p = cfg->target_version; p && *p; p++)
        if ((unsigned char)*p < 0x20)
            return dbm_error_set(DBM_ECONFIG, "target-version holds a control character");
    for (const char *p = cfg->accept_edit; p && *p; p++)
        if ((unsigned char)*p < 0x20)
            return dbm_error_set(DBM_ECONFIG, "accept-edit holds a control character");
    return 0;
}

static int read_auth(dbm_config *cfg, const parsed_args *pa)
{
    const char *v = lookup(pa, "auth");
    int error;

    if (v && (error = dbm_option_check_value("auth", v)) < 0)
        return error;
    cfg->auth = v && strcmp(v, "aws-iam") == 0 ? DBM_AUTH_AWS_IAM : DBM_AUTH_PASSWORD;
    v = given(pa, "aws-region");
    if (!v)
        v = dbm_getenv("AWS_REGION") ? dbm_getenv("AWS_REGION") : dbm_getenv("AWS_DEFAULT_REGION");
    if (!v)
        v = dbm_config_file_option(pa->file, "aws-region");
    cfg->aws_region = dbm_xstrdup(v);
    cfg->role_to_assume = dbm_xstrdup(lookup(pa, "role-to-assume"));
    v = lookup(pa, "role-session-name");
    cfg->role_session_name = dbm_xstrdup(v ? v : "db-migrate");
    v = lookup(pa, "audience");
    cfg->audience = dbm_xstrdup(v ? v : "sts.amazonaws.com");
    return 0;
}

static int read_ssh(dbm_config *cfg, const parsed_args *pa)
{
    int error;

    cfg->ssh_bastion = dbm_xstrdup(lookup(pa, "ssh-bastion"));
    cfg->ssh_private_key = dbm_xstrdup(lookup(pa, "ssh-private-key"));
    cfg->ssh_known_hosts = dbm_xstrdup(lookup(pa, "ssh-known-hosts"));
    if (cfg->ssh_bastion && (!cfg->ssh_private_key || !cfg->ssh_known_hosts)) {
        error = dbm_error_set(DBM_ECONFIG, "ssh-bastion needs %s",
                              !cfg->ssh_private_key ? "ssh-private-key" : "ssh-known-hosts");
        dbm_error_hint("pass the key's text and the bastion's known_hosts lines (ssh-keyscan "
                       "output checked out of band)");
        return error;
    }
    return 0;
}

static int read_tls(dbm_config *cfg, const parsed_args *pa)
{
    const char *v = lookup(pa, "sslmode");
    int error;

    if (v && (error = dbm_option_check_value("sslmode", v)) < 0)
        return error;
    cfg->sslmode = dbm_xstrdup(v);
    cfg->sslrootcert = dbm_xstrdup(lookup(pa, "sslrootcert"));
    return 0;
}

/* log-format: text, or json (the default where Lambda's log format is JSON). */
static int read_log_format(dbm_config *cfg, const parsed_args *pa)
{
    const char *lambda = dbm_getenv("AWS_LAMBDA_LOG_FORMAT");
    const char *v = given(pa, "log-format");
    int error;

    if (!v && !lambda)
        v = dbm_config_file_option(pa->file, "log-format");

    if (v && (error = dbm_option_check_value("log-format", v)) < 0)
        return error;
    cfg->log_json = v ? strcmp(v, "json") == 0 : lambda && strcmp(lambda, "JSON") == 0;
    return 0;
}

/* Where the run is told: the report file, the pull request, the log; the GitHub context. */
static int read_reporting(dbm_config *cfg, const parsed_args *pa)
{
    const char *v = lookup(pa, "report-file");
    bool flag;
    int error;

    cfg->report_file = v ? dbm_xstrdup(v) : dbm_config_default_report_file();
    cfg->report_file_given = v != NULL;
    if ((error = parse_bool(&flag, "comment-on-pr", lookup(pa, "comment-on-pr"))) < 0)
        return error;
    cfg->comment_on_pr = flag;
    if (!(v = given(pa, "github-token")) && !(v = dbm_getenv("GITHUB_TOKEN")))
        v = dbm_config_file_option(pa->file, "github-token");
    cfg->github_token = dbm_xstrdup(v);
    if ((error = parse_bool(&flag, "allow-apply-on-pull-request",
                            lookup(pa, "allow-apply-on-pull-request"))) < 0)
        return error;
    cfg->allow_apply_on_pull_request = flag;
    v = lookup(pa, "fail-on");
    if (v && (error = dbm_option_check_value("fail-on", v)) < 0)
        return error;
    if ((error = read_log_format(cfg, pa)) < 0)
        return error;
    cfg->fail_on = !v || !strcmp(v, "error") ? DBM_FAIL_ON_ERROR
                   : !strcmp(v, "warning")   ? DBM_FAIL_ON_WARNING
                                             : DBM_FAIL_ON_NEVER;
    cfg->offline = lookup(pa, "offline") != NULL;
    cfg->verbose = lookup(pa, "verbose") != NULL;
    cfg->exit_code = lookup(pa, "exit-code") != NULL;
    dbm_config_load_github(&cfg->gh);
    cfg->shown_dir = shown_dir(cfg->migrations_dir, cfg->gh.workspace);
    return 0;
}

/*
 * db-migrate.yml: the --config file (which must exist), else the one at the
 * repository root when there is one. Not read for --help, --version and --generate.
 */
static int read_file(dbm_config *cfg, parsed_args *pa)
{
    const char *path = NULL;
    char *found = NULL;
    int error;

    for (size_t i = 0; i < pa->nflags; i++) /* --config is a flag only, not an input */
        if (strcmp(pa->flags[i].name, "config") == 0)
            path = pa->flags[i].value;
    if (given(pa, "help") || given(pa, "version") || given(pa, "generate"))
        return 0;
    if (!path)
        path = found = dbm_config_file_default_path(given(pa, "migrations-dir"),
                                                    dbm_getenv("GITHUB_WORKSPACE"));
    error = dbm_config_file_read(&cfg->file, path, found != NULL);
    cfg->config_path = dbm_xstrdup(path);
    free(found);
    pa->file = cfg->file;
    return error;
}

static const char *lookup_any(const void *pa, const char *name)
{
    return lookup(pa, name);
}

/* Fleets: targets, parallel, shard, fail-fast (DESIGN section 11). */
static int read_fleet(dbm_config *cfg, const parsed_args *pa)
{
    const char *v = lookup(pa, "targets");
    bool flag;
    int error;

    cfg->targets = dbm_xstrdup(v && *v ? v : NULL);
    v = lookup(pa, "parallel");
    if ((error = dbm_parse_count(&cfg->parallel, "parallel", v ? v : "4")) < 0)
        return error;
    if (cfg->parallel < 1 || cfg->parallel > 64) {
        dbm_error_set(DBM_ECONFIG, "parallel '%s' is out of range", v);
        dbm_error_hint("give a number of targets from 1 to 64");
        return DBM_ECONFIG;
    }
    if ((error = parse_bool(&flag, "fail-fast", lookup(pa, "fail-fast"))) < 0)
        return error;
    cfg->fail_fast = flag;
    if ((error = dbm_config_read_shard(cfg, lookup(pa, "shard"))) < 0)
        return error;
    return dbm_config_check_fleet(cfg, lookup_any, pa);
}

static int read_remote(dbm_config *cfg, const parsed_args *pa)
{
    cfg->report_in_log = lookup(pa, "report-in-log") != NULL;
    return dbm_config_read_remote(cfg, lookup_any, pa);
}

/* The steps of dbm_config_load, in the order their errors are reported. */
static int (*const load_steps[])(dbm_config *cfg, const parsed_args *pa) = {
    read_command, read_paths, read_timeouts,  read_versions, read_auth,
    read_ssh,     read_tls,   read_reporting, read_remote,   read_fleet,
};

int dbm_config_load(dbm_config **out, int argc, char **argv)
{
    parsed_args pa;
    dbm_config *cfg = dbm_xcalloc(1, sizeof(*cfg));
    int error;

    memset(&pa, 0, sizeof(pa));
    pa.positional = dbm_xcalloc((size_t)(argc > 0 ? argc : 1), sizeof(*pa.positional));
    *out = NULL;
    if ((error = parse_argv(&pa, argc, argv)) < 0 || (error = read_file(cfg, &pa)) < 0)
        goto done;
    for (size_t i = 0; i < sizeof(load_steps) / sizeof(load_steps[0]); i++)
        if ((error = load_steps[i](cfg, &pa)) < 0)
            goto done;
    mask_secrets(cfg);
    *out = cfg;
    cfg = NULL;
done:
    for (size_t i = 0; i < pa.nflags; i++)
        dbm_secret_free(pa.flags[i].value);
    free(pa.positional);
    dbm_config_free(cfg);
    return error;
}

void dbm_config_free(dbm_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->command);
    for (size_t i = 0; cfg->args && cfg->args[i]; i++)
        free(cfg->args[i]);
    free(cfg->args);
    free(cfg->reports);
    free(cfg->generate);
    free(cfg->migrations_dir);
    free(cfg->shown_dir);
    dbm_secret_free(cfg->database_url);
    free(cfg->history_schema);
    free(cfg->deployed_ref);
    free(cfg->target_version);
    free(cfg->accept_edit);
    free(cfg->adopt_from);
    free(cfg->expect_deployed);
    free(cfg->expect_migrations);
    dbm_config_remote_free(cfg);
    free(cfg->aws_region);
    free(cfg->role_to_assume);
    free(cfg->role_session_name);
    free(cfg->audience);
    free(cfg->ssh_bastion);
    dbm_secret_free(cfg->ssh_private_key);
    free(cfg->ssh_known_hosts);
    free(cfg->sslmode);
    free(cfg->sslrootcert);
    free(cfg->report_file);
    free(cfg->targets);
    free(cfg->config_path);
    dbm_secret_free(cfg->github_token);
    free(cfg->gh.sha);
    free(cfg->gh.ref);
    free(cfg->gh.actor);
    free(cfg->gh.event_name);
    free(cfg->gh.event_path);
    free(cfg->gh.run_url);
    free(cfg->gh.server_url);
    free(cfg->gh.api_url);
    free(cfg->gh.repository);
    free(cfg->gh.workspace);
    free(cfg->gh.step_summary);
    free(cfg->gh.output);
    dbm_config_file_free(cfg->file);
    free(cfg);
}
