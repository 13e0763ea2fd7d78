/*
 * config_file.c - db-migrate.yml, read with libyaml's document API.
 *
 * The whole file is loaded into libyaml's node tree, walked once, and copied
 * into plain arrays; the tree is then dropped. Every message names the file
 * and the line of the node it is about (libyaml counts lines from 0).
 */
#include "config_file.h"
#include "config.h"
#include "common/error.h"
#include "common/log.h"
#include "common/suggest.h"
#include "common/util.h"
#include "sql/ident.h"
#include "sql/rules.h"

#include <ctype.h>
#include <stdarg.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

typedef struct {
    const char *name; /* static: the name of a row of dbm_options */
    char *value;
    int line;
} file_option;

typedef struct {
    const char *id; /* static: an entry of dbm_rules */
    dbm_rule_level level;
} file_rule;

struct dbm_config_file {
    char *path;
    file_option *options;
    size_t noptions, capoptions;
    file_rule *rules;
    size_t nrules, caprules;
    dbm_config_target *targets;
    size_t ntargets, captargets;
    dbm_config_placeholder *placeholders;
    size_t nplaceholders, capplaceholders;
    char **stages;
    size_t nstages, capstages;
};

/* What the walk needs: the document, and the path for messages. */
typedef struct {
    yaml_document_t *doc;
    dbm_config_file *f;
} walk;

static const char *const sections[] = {"rules", "targets", "stages", "placeholders", NULL};
static const char *const target_keys[] = {
    "name", "group", "database-url", "schemas", "history-schema", "search-path", NULL};

static int line_of(const yaml_node_t *n)
{
    return (int)n->start_mark.line + 1;
}

static int at(const walk *w, const yaml_node_t *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int at(const walk *w, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    char *what, *shown;

    va_start(ap, fmt);
    what = dbm_xvasprintf(fmt, ap);
    va_end(ap);
    /* Keys and values are quoted from the file: a "\n" in one must not start a new line. */
    shown = dbm_printable(what);
    dbm_error_set(DBM_ECONFIG, "config file '%s' line %d: %s", w->f->path, line_of(n), shown);
    free(shown);
    free(what);
    return DBM_ECONFIG;
}

static const char *scalar(const yaml_node_t *n)
{
    return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* A plain empty scalar, "~" or "null": the key is written without a value. */
static bool is_null(const yaml_node_t *n)
{
    const char *s = scalar(n);
    return s && n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           (!*s || !strcmp(s, "~") || !strcmp(s, "null") || !strcmp(s, "Null") ||
            !strcmp(s, "NULL"));
}

/* An unknown key, with the likely one when the name is a typo of one. */
static int unknown_key(const walk *w, const yaml_node_t *key, const char *where,
                       const char *const *names, size_t n)
{
    const char *likely = dbm_suggest(scalar(key), names, n);

    at(w, key, "unknown key '%s'%s", scalar(key), where);
    if (likely)
        dbm_error_hint("did you mean '%s'?", likely);
    else
        dbm_error_hint("see README \"Configuration\" for the keys the file takes");
    return DBM_ECONFIG;
}

/*
 * `text` with each ${NAME} replaced by the environment variable NAME. An
 * unset variable, or a "${" without its "}", is an error naming the line.
 */
static int expand(char **out, const walk *w, const yaml_node_t *n)
{
    const char *text = scalar(n);
    dbm_buf b = DBM_BUF_INIT;

    *out = NULL;
    for (const char *p = text; *p;) {
        const char *end, *v;
        char *name, *shown;
        if (p[0] != '$' || p[1] != '{') {
            dbm_buf_putc(&b, *p++);
            continue;
        }
        end = strchr(p + 2, '}');
        if (!end || end == p + 2) {
            dbm_buf_wipe(&b);
            at(w, n, "'${' without a variable name and '}'");
            dbm_error_hint("write ${NAME} for the environment variable NAME");
            return DBM_ECONFIG;
        }
        name = dbm_xstrndup(p + 2, (size_t)(end - p - 2));
        if (!(v = dbm_getenv(name))) {
            dbm_buf_wipe(&b);
            at(w, n, "environment variable '%s' is not set", name);
            shown = dbm_printable(name);
            dbm_error_hint("set %s in the step's env, or remove it from the file", shown);
            free(shown);
            free(name);
            return DBM_ECONFIG;
        }
        free(name);
        dbm_buf_puts(&b, v);
        p = end + 1;
    }
    *out = dbm_buf_detach(&b);
    return 0;
}

/* The name of the first ${NAME} in text whose variable is not set, or NULL. Caller frees. */
static char *unset_variable(const char *text)
{
    for (const char *p = strstr(text, "${"); p; p = strstr(p + 2, "${")) {
        const char *end = strchr(p + 2, '}');
        char *name;
        if (!end || end == p + 2)
            return NULL; /* expand() tells that one */
        name = dbm_xstrndup(p + 2, (size_t)(end - p - 2));
        if (!dbm_getenv(name))
            return name;
        free(name);
    }
    return NULL;
}

/* A scalar value, expanded; anything else (a list, a mapping) is an error. */
static int string_value(char **out, const walk *w, const char *key, const yaml_node_t *v)
{
    if (v->type != YAML_SCALAR_NODE) {
        *out = NULL;
        at(w, v, "'%s' takes a single value, not a %s", key,
           v->type == YAML_SEQUENCE_NODE ? "list" : "mapping");
        dbm_error_hint("write '%s: VALUE' on one line", key);
        return DBM_ECONFIG;
    }
    return expand(out, w, v);
}

/* Each key of a mapping once, all of them scalars; calls fn(w, key, value, arg) per pair. */
typedef int (*pair_fn)(walk *w, const yaml_node_t *key, const yaml_node_t *value, void *arg);

static int each_pair(walk *w, const yaml_node_t *map, const char *what, pair_fn fn, void *arg)
{
    int error;

    if (map->type != YAML_MAPPING_NODE) {
        at(w, map, "%s must be a mapping of keys to values", what);
        dbm_error_hint("write one 'key: value' per line under %s", what);
        return DBM_ECONFIG;
    }
    for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top;
         p++) {
        const yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
        const yaml_node_t *v = yaml_document_get_node(w->doc, p->value);
        if (!scalar(k))
            return at(w, k, "a key in %s is not a plain name", what);
        for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p; q++) {
            const char *seen = scalar(yaml_document_get_node(w->doc, q->key));
            if (seen && strcmp(seen, scalar(k)) == 0) {
                at(w, k, "key '%s' is given twice in %s (first at line %d)", scalar(k), what,
                   line_of(yaml_document_get_node(w->doc, q->key)));
                dbm_error_hint("keep one of the two: a key sets one value");
                return DBM_ECONFIG;
            }
        }
        if ((error = fn(w, k, v, arg)) < 0)
            return error;
    }
    return 0;
}

static int rule_pair(walk *w, const yaml_node_t *k, const yaml_node_t *v, void *arg)
{
    static const char *const levels[] = {"error", "warning", "off"};
    const char *ids[128];
    const struct dbm_rule_info *rule = dbm_rule_find(scalar(k));
    const char *level = scalar(v);
    size_t n = 0;

    if (!rule) {
        for (size_t i = 0; dbm_rules[i].id && n < sizeof(ids) / sizeof(ids[0]); i++)
            ids[n++] = dbm_rules[i].id;
        return unknown_key(w, k, " in rules (no such rule)", ids, n);
    }
    for (size_t i = 0; level && i < sizeof(levels) / sizeof(levels[0]); i++)
        if (strcmp(level, levels[i]) == 0) {
            dbm_array_grow((void **)&w->f->rules, &w->f->caprules, w->f->nrules + 1,
                           sizeof(*w->f->rules));
            w->f->rules[w->f->nrules].id = rule->id;
            w->f->rules[w->f->nrules++].level = (dbm_rule_level)(DBM_RULE_LEVEL_ERROR + i);
            return 0;
        }
    at(w, v, "invalid level '%s' for rule '%s'", level ? level : "(not a word)", rule->id);
    dbm_error_hint("use one of: error, warning, off");
    return DBM_ECONFIG;
}

static int placeholder_pair(walk *w, const yaml_node_t *k, const yaml_node_t *v, void *arg)
{
    const char *name = scalar(k) + (scalar(k)[0] == ':');
    dbm_config_placeholder *p;
    char *value;
    int error;

    for (const char *c = name; !*name || *c; c++)
        if (!*name || !(isalnum((unsigned char)*c) || *c == '_') ||
            (c == name && isdigit((unsigned char)*c))) {
            at(w, k, "placeholder '%s' is not a name", scalar(k));
            dbm_error_hint("write :NAME with letters, digits and underscores, e.g. ':APP_USER'");
            return DBM_ECONFIG;
        }
    if ((error = string_value(&value, w, scalar(k), v)) < 0)
        return error;
    dbm_array_grow((void **)&w->f->placeholders, &w->f->capplaceholders, w->f->nplaceholders + 1,
                   sizeof(*w->f->placeholders));
    p = &w->f->placeholders[w->f->nplaceholders++];
    p->name = dbm_xstrdup(name);
    p->value = value;
    return 0;
}

static int target_pair(walk *w, const yaml_node_t *k, const yaml_node_t *v, void *arg)
{
    dbm_config_target *t = arg;
    const char *key = scalar(k);
    char **slot = !strcmp(key, "name")             ? &t->name
                  : !strcmp(key, "group")          ? &t->group
                  : !strcmp(key, "database-url")   ? &t->database_url
                  : !strcmp(key, "schemas")        ? &t->schemas
                  : !strcmp(key, "history-schema") ? &t->history_schema
                  : !strcmp(key, "search-path")    ? &t->search_path
                                                   : NULL;

    if (!slot)
        return unknown_key(w, k, " in a target", target_keys, 6);
    if (slot == &t->database_url && v->type == YAML_SCALAR_NODE) {
        char *name = unset_variable(scalar(v));
        if (name) {
            char *shown = dbm_printable(name);
            t->url_error = dbm_xasprintf("config file '%s' line %d: environment variable '%s' is "
                                         "not set",
                                         w->f->path, line_of(v), shown);
            free(shown);
            free(name);
            return 0;
        }
    }
    return string_value(slot, w, key, v);
}

/*
 * history-schema: and search-path: of a target shape what each schema of its
 * schemas: query gets: without schemas: they mean nothing, and without
 * {schema} every tenant would share one history (one lock, one set of rows)
 * or run in one schema.
 */
static int check_schema_keys(walk *w, const yaml_node_t *item, dbm_config_target *t)
{
    const char *key = t->history_schema ? "history-schema" : "search-path";
    const char *value = t->history_schema ? t->history_schema : t->search_path;

    if (!value)
        return 0;
    if (!t->schemas) {
        at(w, item, "target '%s' has %s: but no schemas:", t->name, key);
        dbm_error_hint("%s: applies to each schema a schemas: query names; remove it, or add "
                       "schemas: \"select ...\"",
                       key);
        return DBM_ECONFIG;
    }
    for (int k = 0; k < 2; k++) {
        key = k ? "search-path" : "history-schema";
        value = k ? t->search_path : t->history_schema;
        if (value && !dbm_sql_has_schema(value)) {
            at(w, item, "target '%s': %s '%s' does not hold {schema}", t->name, key, value);
            dbm_error_hint("each schema needs its own: write {schema} where its name goes, "
                           "e.g. %s",
                           k ? "\"{schema}, public\"" : "\"{schema}_db_migrate\"");
            return DBM_ECONFIG;
        }
    }
    return 0;
}

/* targets: a list of mappings, each with a distinct name (section 11). */
static int read_targets(walk *w, const yaml_node_t *list)
{
    int error;

    if (list->type != YAML_SEQUENCE_NODE) {
        at(w, list, "targets must be a list");
        dbm_error_hint("write each target as '- name: NAME' with its database-url under it");
        return DBM_ECONFIG;
    }
    for (yaml_node_item_t *i = list->data.sequence.items.start; i < list->data.sequence.items.top;
         i++) {
        const yaml_node_t *item = yaml_document_get_node(w->doc, *i);
        dbm_config_target *t;
        dbm_array_grow((void **)&w->f->targets, &w->f->captargets, w->f->ntargets + 1,
                       sizeof(*w->f->targets));
        t = &w->f->targets[w->f->ntargets++];
        memset(t, 0, sizeof(*t));
        t->line = line_of(item);
        if ((error = each_pair(w, item, "a target", target_pair, t)) < 0)
            return error;
        if (!t->name || !*t->name) {
            at(w, item, "a target has no name");
            dbm_error_hint("give each target a 'name:'");
            return DBM_ECONFIG;
        }
        if ((error = check_schema_keys(w, item, t)) < 0)
            return error;
        for (size_t j = 0; j + 1 < w->f->ntargets; j++)
            if (strcmp(w->f->targets[j].name, t->name) == 0) {
                at(w, item, "target '%s' is listed twice", t->name);
                dbm_error_hint("give each target a name of its own: a target's name keys its "
                               "lock, its report line and --targets");
                return DBM_ECONFIG;
            }
    }
    return 0;
}

/* stages: a list of group globs, in the order their targets run (section 11). */
static int read_stages(walk *w, const yaml_node_t *list)
{
    int error;

    if (list->type != YAML_SEQUENCE_NODE) {
        at(w, list, "stages must be a list");
        dbm_error_hint("write each stage as '- GROUP' (a glob over the targets' groups), canary "
                       "first");
        return DBM_ECONFIG;
    }
    for (yaml_node_item_t *i = list->data.sequence.items.start; i < list->data.sequence.items.top;
         i++) {
        char *value;
        if ((error = string_value(&value, w, "a stage", yaml_document_get_node(w->doc, *i))) < 0)
            return error;
        dbm_array_grow((void **)&w->f->stages, &w->f->capstages, w->f->nstages + 1,
                       sizeof(*w->f->stages));
        w->f->stages[w->f->nstages++] = value;
    }
    return 0;
}

static int top_pair(walk *w, const yaml_node_t *k, const yaml_node_t *v, void *arg)
{
    const char *key = scalar(k);
    const char *names[64], *name = NULL;
    size_t n = 0;
    file_option *o;
    char *value;
    int error;

    if (!strcmp(key, "rules"))
        return is_null(v) ? 0 : each_pair(w, v, "rules", rule_pair, NULL);
    if (!strcmp(key, "placeholders"))
        return is_null(v) ? 0 : each_pair(w, v, "placeholders", placeholder_pair, NULL);
    if (!strcmp(key, "targets"))
        return is_null(v) ? 0 : read_targets(w, v);
    if (!strcmp(key, "stages"))
        return is_null(v) ? 0 : read_stages(w, v);
    for (const dbm_option *opt = dbm_options; opt->name; opt++)
        if ((opt->flags & DBM_OPTION_INPUT) && strcmp(opt->name, key) == 0)
            name = opt->name;
    if (!name) {
        for (const dbm_option *opt = dbm_options;
             opt->name && n + 4 < sizeof(names) / sizeof(*names); opt++)
            if (opt->flags & DBM_OPTION_INPUT)
                names[n++] = opt->name;
        for (size_t j = 0; sections[j]; j++)
            names[n++] = sections[j];
        return unknown_key(w, k, "", names, n);
    }
    if (is_null(v))
        return 0;
    if ((error = string_value(&value, w, key, v)) < 0)
        return error;
    dbm_array_grow((void **)&w->f->options, &w->f->capoptions, w->f->noptions + 1,
                   sizeof(*w->f->options));
    o = &w->f->options[w->f->noptions++];
    o->name = name;
    o->value = value;
    o->line = line_of(v);
    return 0;
}

/* libyaml's own message, with the line it stopped at. */
static int yaml_error(const yaml_parser_t *p, const char *path)
{
    const yaml_mark_t *m = p->problem ? &p->problem_mark : &p->context_mark;

    dbm_error_set(DBM_ECONFIG, "config file '%s' line %zu: not valid YAML: %s%s%s", path,
                  m->line + 1, p->problem ? p->problem : "cannot be read", p->context ? " " : "",
                  p->context ? p->context : "");
    dbm_error_hint("fix the YAML at that line (indentation, a missing ':' or a stray tab)");
    return DBM_ECONFIG;
}

/*
 * The settings are one document: a second one ("---" and more keys) would be
 * read by nothing, its settings silently lost. An empty one after a trailing
 * "---" holds nothing to lose.
 */
static int no_second_document(yaml_parser_t *parser, const char *path)
{
    yaml_document_t doc;
    yaml_node_t *root;
    int error = 0;

    if (!yaml_parser_load(parser, &doc))
        return yaml_error(parser, path);
    root = yaml_document_get_root_node(&doc);
    if (root && !is_null(root)) {
        error = dbm_error_set(DBM_ECONFIG,
                              "config file '%s' line %zu: a second YAML document; db-migrate.yml "
                              "holds one",
                              path, doc.start_mark.line + 1);
        dbm_error_hint("merge its keys into the first document and remove the '---' line");
    }
    yaml_document_delete(&doc);
    return error;
}

int dbm_config_file_parse(dbm_config_file **out, const char *path, const char *text, size_t len)
{
    yaml_parser_t parser;
    yaml_document_t doc;
    yaml_node_t *root;
    dbm_config_file *f = dbm_xcalloc(1, sizeof(*f));
    walk w = {&doc, f};
    int error = 0;

    *out = NULL;
    f->path = dbm_xstrdup(path);
    if (!yaml_parser_initialize(&parser)) {
        dbm_config_file_free(f);
        return dbm_error_set(DBM_ECONFIG, "config file '%s': out of memory", path);
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &doc)) {
        error = yaml_error(&parser, path);
        yaml_parser_delete(&parser);
        dbm_config_file_free(f);
        return error;
    }
    root = yaml_document_get_root_node(&doc);
    if (root && !is_null(root))
        error = each_pair(&w, root, "the file", top_pair, NULL);
    yaml_document_delete(&doc);
    if (error == 0)
        error = no_second_document(&parser, path);
    yaml_parser_delete(&parser);
    if (error < 0)
        dbm_config_file_free(f);
    else
        *out = f;
    return error;
}

int dbm_config_file_read(dbm_config_file **out, const char *path, bool optional)
{
    char *text = NULL;
    size_t len = 0;
    int error = dbm_read_file(&text, &len, path);

    *out = NULL;
    if (error == DBM_ENOTFOUND && optional) {
        dbm_error_clear();
        return 0;
    }
    if (error < 0) {
        error = dbm_error_set(DBM_ECONFIG, "cannot read config file '%s': %s", path,
                              error == DBM_ENOTFOUND ? "no such file" : dbm_error_message());
        dbm_error_hint("check the --config path, relative to the working directory");
        return error;
    }
    error = dbm_config_file_parse(out, path, text, len);
    dbm_secret_free(text);
    return error;
}

char *dbm_config_file_default_path(const char *start, const char *workdir)
{
    struct stat st;
    char *dir = start && stat(start, &st) == 0 && S_ISDIR(st.st_mode) ? realpath(start, NULL)
                                                                      : realpath(".", NULL);
    char cwd[PATH_MAX];

    while (dir) {
        char *git = dbm_xasprintf("%s/.git", dir);
        char *slash = strrchr(dir, '/');
        bool found = lstat(git, &st) == 0;
        free(git);
        if (found) {
            char *path = getcwd(cwd, sizeof(cwd)) && strcmp(cwd, dir) == 0
                             ? dbm_xstrdup("db-migrate.yml")
                             : dbm_xasprintf("%s/db-migrate.yml", dir);
            free(dir);
            return path;
        }
        if (!slash || slash == dir) {
            free(dir);
            dir = NULL;
        } else {
            *slash = '\0';
        }
    }
    return workdir ? dbm_xasprintf("%s/db-migrate.yml", workdir) : dbm_xstrdup("db-migrate.yml");
}

void dbm_config_file_free(dbm_config_file *f)
{
    if (!f)
        return;
    free(f->path);
    for (size_t i = 0; i < f->noptions; i++)
        dbm_secret_free(f->options[i].value);
    free(f->options);
    free(f->rules);
    for (size_t i = 0; i < f->ntargets; i++) {
        free(f->targets[i].name);
        free(f->targets[i].group);
        dbm_secret_free(f->targets[i].database_url);
        free(f->targets[i].url_error);
        free(f->targets[i].schemas);
        free(f->targets[i].history_schema);
        free(f->targets[i].search_path);
    }
    free(f->targets);
    for (size_t i = 0; i < f->nplaceholders; i++) {
        free(f->placeholders[i].name);
        dbm_secret_free(f->placeholders[i].value);
    }
    free(f->placeholders);
    for (size_t i = 0; i < f->nstages; i++)
        free(f->stages[i]);
    free(f->stages);
    free(f);
}

const char *const *dbm_config_file_stages(const dbm_config_file *f, size_t *n)
{
    *n = f ? f->nstages : 0;
    return *n ? (const char *const *)f->stages : NULL;
}

static const file_option *find_option(const dbm_config_file *f, const char *name)
{
    for (size_t i = 0; f && i < f->noptions; i++)
        if (strcmp(f->options[i].name, name) == 0)
            return &f->options[i];
    return NULL;
}

const char *dbm_config_file_option(const dbm_config_file *f, const char *name)
{
    const file_option *o = find_option(f, name);
    return o ? o->value : NULL;
}

int dbm_config_file_option_line(const dbm_config_file *f, const char *name)
{
    const file_option *o = find_option(f, name);
    return o ? o->line : 0;
}

const char *dbm_config_file_path(const dbm_config_file *f)
{
    return f ? f->path : NULL;
}

dbm_rule_level dbm_config_file_rule_level(const dbm_config_file *f, const char *id)
{
    for (size_t i = 0; f && i < f->nrules; i++)
        if (strcmp(f->rules[i].id, id) == 0)
            return f->rules[i].level;
    return DBM_RULE_LEVEL_DEFAULT;
}

const dbm_config_target *dbm_config_file_targets(const dbm_config_file *f, size_t *n)
{
    *n = f ? f->ntargets : 0;
    return *n ? f->targets : NULL;
}

const dbm_config_placeholder *dbm_config_file_placeholders(const dbm_config_file *f, size_t *n)
{
    *n = f ? f->nplaceholders : 0;
    return *n ? f->placeholders : NULL;
}

const char *dbm_config_file_library_version(void)
{
    return yaml_get_version_string();
}
