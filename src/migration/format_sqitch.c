/*
 * format_sqitch.c - a Sqitch project read with Sqitch's own rules
 * (sqitchers/sqitch lib/App/Sqitch/Plan.pm, lib/App/Sqitch/Plan/Change.pm,
 * lib/App/Sqitch/Engine/pg.pm):
 *
 * - sqitch.plan gives the order: one change per change line ("[+-]name
 *   [deps] date planner <email> # note"), tags ("@tag ...") attached to the
 *   change before them, pragmas ("%...") and comments skipped;
 * - a change is deploy/<name>.sql (the up), revert/<name>.sql (the down) and
 *   verify/<name>.sql (run after the up); an earlier instance of a reworked
 *   change reads <name><tag>.sql, the first that exists among the tags after
 *   it up to its rework (nearest the rework first), then its own tags;
 * - scripts run as psql runs them with -v registry=<registry>: the psql
 *   variables :registry, :"registry" and :'registry' are substituted;
 * - the version recorded is the change's position in the plan (Sqitch plans
 *   only grow: a rework appends a new instance), the name its change name.
 */
#include "common/error.h"
#include "common/sha1.h"
#include "common/util.h"
#include "migration/format.h"
#include "migration/read.h"
#include "migration/sqitch_id.h"

#include <stdlib.h>
#include <string.h>

#define PLAN "sqitch.plan"

bool mig_sqitch_claims(const mig_entry_list *list, int dfd)
{
    for (size_t i = 0; i < list->count; i++)
        if (!list->items[i].is_dir && strcmp(list->items[i].name, PLAN) == 0)
            return mig_exists_at(dfd, PLAN);
    return false;
}

/* One change line of the plan, with the tags that follow it. */
typedef struct {
    char *name;
    char *tags; /* "@a @b": the tag lines after it, in plan order, space-separated */
    int line;
    bool has_meta; /* the line has its date and planner: meta is set */
    mig_sqitch_meta meta;
} sq_change;

typedef struct {
    sq_change *items;
    size_t count, cap;
    char *project, *uri; /* the %project and %uri pragmas, NULL when absent */
} sq_plan;

static void plan_free(sq_plan *p)
{
    for (size_t i = 0; i < p->count; i++) {
        free(p->items[i].name);
        free(p->items[i].tags);
        mig_sqitch_meta_free(&p->items[i].meta);
    }
    free(p->items);
    free(p->project);
    free(p->uri);
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* A pragma line after its '%': %project and %uri are kept, for the change ids. */
static void pragma(sq_plan *p, const char *line)
{
    const char *hash = strchr(line, '#'), *end = hash ? hash : line + strlen(line);
    const char *eq = memchr(line, '=', (size_t)(end - line)), *v, *name = line;
    size_t n;
    char **slot;

    while (end > line && is_space(end[-1]))
        end--;
    if (!eq)
        return;
    while (is_space(*name))
        name++;
    n = (size_t)(eq - name);
    while (n && is_space(name[n - 1]))
        n--;
    slot = n == 7 && strncmp(name, "project", 7) == 0 ? &p->project
           : n == 3 && strncmp(name, "uri", 3) == 0   ? &p->uri
                                                      : NULL;
    for (v = eq + 1; v < end && is_space(*v); v++)
        ;
    if (!slot || v >= end)
        return;
    free(*slot);
    *slot = dbm_xstrndup(v, (size_t)(end - v));
}

/* The plan's change lines in order. DBM_ECONFIG for a tag before any change or a bad name. */
static int parse_plan(sq_plan *p, char *text, const char *dir)
{
    int lineno = 0;

    for (char *line = text, *next; line; line = next) {
        size_t tok;

        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        lineno++;
        while (is_space(*line))
            line++;
        if (*line == '%') {
            pragma(p, line + 1);
            continue;
        }
        if (!*line || *line == '#')
            continue;
        tok = strcspn(line, " \t\r[#");
        if (*line == '@') {
            sq_change *c;
            if (p->count == 0) {
                int rc = dbm_error_set(DBM_ECONFIG, "'%s/%s' line %d: a tag before any change", dir,
                                       PLAN, lineno);
                dbm_error_hint("a tag names the change above it: add a change first");
                return rc;
            }
            c = &p->items[p->count - 1];
            {
                char *tags = c->tags ? dbm_xasprintf("%s %.*s", c->tags, (int)tok, line)
                                     : dbm_xstrndup(line, tok);
                free(c->tags);
                c->tags = tags;
            }
            continue;
        }
        if (*line == '+' || *line == '-') { /* the operator, blanks allowed after it */
            line++;
            while (is_space(*line))
                line++;
            tok = strcspn(line, " \t\r[#");
        }
        if (tok == 0) {
            int rc =
                dbm_error_set(DBM_ECONFIG, "'%s/%s' line %d: no change name", dir, PLAN, lineno);
            dbm_error_hint("change lines are 'name [deps] date planner <email> # note'");
            return rc;
        }
        dbm_array_grow((void **)&p->items, &p->cap, p->count + 1, sizeof(sq_change));
        memset(&p->items[p->count], 0, sizeof(sq_change));
        p->items[p->count].name = dbm_xstrndup(line, tok);
        p->items[p->count].line = lineno;
        p->items[p->count].has_meta = mig_sqitch_meta_parse(&p->items[p->count].meta, line + tok);
        p->count++;
    }
    return 0;
}

/* Sqitch's rework tags of change i: those after it up to its next instance, nearest that first,
 * then its own. NULL when it is not reworked later. Caller frees. */
static char *rework_tags(const sq_plan *p, size_t i)
{
    dbm_buf b = DBM_BUF_INIT;
    size_t j;

    for (j = i + 1; j < p->count; j++)
        if (strcmp(p->items[j].name, p->items[i].name) == 0)
            break;
    if (j == p->count)
        return NULL;
    for (size_t k = j - 1; k > i; k--)
        if (p->items[k].tags)
            dbm_buf_printf(&b, "%s%s", b.len ? " " : "", p->items[k].tags);
    if (p->items[i].tags)
        dbm_buf_printf(&b, "%s%s", b.len ? " " : "", p->items[i].tags);
    return dbm_buf_detach(&b);
}

/* The script file name of change i (without the folder): <name>.sql or <name><tag>.sql. */
static char *script_name(const sq_plan *p, size_t i, int dfd)
{
    char *tags = rework_tags(p, i), *first = NULL, *save = NULL;
    const char *name = p->items[i].name;

    if (!tags)
        return dbm_xasprintf("%s.sql", name);
    for (char *t = strtok_r(tags, " ", &save); t; t = strtok_r(NULL, " ", &save)) {
        char *fn = dbm_xasprintf("%s%s.sql", name, t), *rel = dbm_xasprintf("deploy/%s", fn);
        bool exists = mig_exists_at(dfd, rel);

        free(rel);
        if (exists) {
            free(first);
            free(tags);
            return fn;
        }
        if (!first)
            first = fn;
        else
            free(fn);
    }
    free(tags);
    return first ? first : dbm_xasprintf("%s.sql", name);
}

/* ---- psql variables --------------------------------------------------------------------- */

static bool ident_char(char c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (unsigned char)c >= 0x80;
}

/* Length of a dollar-quote tag at s ("$$", "$body$"), or 0. */
static size_t dollar_tag(const char *s)
{
    size_t i = 1;

    if (s[0] != '$')
        return 0;
    if (s[1] >= '0' && s[1] <= '9')
        return 0;
    while (ident_char(s[i]) && s[i] != '$')
        i++;
    return s[i] == '$' ? i + 1 : 0;
}

/* Length of a quoted or plain token from s that ends at `end` ('\'' or '"'), including it. */
static size_t quoted_len(const char *s, char q)
{
    size_t i = 1;

    for (;;) {
        if (!s[i])
            return i;
        if (s[i] == q) {
            if (s[i + 1] == q) {
                i += 2;
                continue;
            }
            return i + 1;
        }
        i++;
    }
}

/*
 * One variable reference at s (s[0] == ':'): *len its length when it names
 * `var`, and *how 0 (as is), '\'' (a literal) or '"' (an identifier).
 */
static bool variable_at(const char *s, const char *var, size_t *len, char *how)
{
    size_t n = strlen(var);
    char q = s[1];

    if (q == '\'' || q == '"') {
        if (strncmp(s + 2, var, n) == 0 && s[2 + n] == q) {
            *len = n + 3;
            *how = q;
            return true;
        }
        return false;
    }
    if (strncmp(s + 1, var, n) == 0 && !ident_char(s[1 + n])) {
        *len = n + 1;
        *how = 0;
        return true;
    }
    return false;
}

/* `text` with psql's :var, :'var' and :"var" replaced by value outside quotes and comments. */
static char *substitute_psql(const char *text, const char *var, const char *value)
{
    dbm_buf b = DBM_BUF_INIT;
    const char *s = text;

    while (*s) {
        size_t n = 1, vlen;
        char how;

        if (s[0] == '-' && s[1] == '-')
            n = strcspn(s, "\n");
        else if (s[0] == '/' && s[1] == '*')
            n = strstr(s + 2, "*/") ? (size_t)(strstr(s + 2, "*/") - s) + 2 : strlen(s);
        else if (s[0] == '\'' || s[0] == '"')
            n = quoted_len(s, s[0]);
        else if (s[0] == '$' && (s == text || !ident_char(s[-1])) && (n = dollar_tag(s)) > 0) {
            char *tag = dbm_xstrndup(s, n);
            const char *close = strstr(s + n, tag);
            n = close ? (size_t)(close - s) + strlen(tag) : strlen(s);
            free(tag);
        } else if (s[0] == ':' && s[1] == ':') {
            n = 2;
        } else if (s[0] == ':' && variable_at(s, var, &vlen, &how)) {
            if (how == '\'' || how == '"') {
                dbm_buf_putc(&b, how);
                for (const char *v = value; *v; v++) {
                    if (*v == how)
                        dbm_buf_putc(&b, how);
                    dbm_buf_putc(&b, *v);
                }
                dbm_buf_putc(&b, how);
            } else {
                dbm_buf_puts(&b, value);
            }
            s += vlen;
            continue;
        } else {
            n = 1;
        }
        dbm_buf_put(&b, s, n);
        s += n;
    }
    return dbm_buf_detach(&b);
}

/* ---- loading ---------------------------------------------------------------------------- */

/* The registry schema: sqitch.conf's `registry = ...`, else "sqitch". Caller frees. */
static char *registry_name(int dfd, const char *dir)
{
    char *text = NULL, *out = NULL, *save = NULL;
    size_t len;

    if (mig_read_text(&text, &len, dfd, dir, "sqitch.conf", true) < 0) {
        dbm_error_clear();
        return dbm_xstrdup("sqitch");
    }
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        while (is_space(*line))
            line++;
        if (strncmp(line, "registry", 8) == 0 && strchr(line, '=')) {
            char *v = strchr(line, '=') + 1;
            size_t n;
            while (is_space(*v))
                v++;
            n = strcspn(v, " \t\r#;");
            if (n) {
                free(out);
                out = dbm_xstrndup(v, n);
            }
        }
    }
    free(text);
    return out ? out : dbm_xstrdup("sqitch");
}

/* Read folder/fn into *text (substituted), NULL when the file does not exist and `optional`. */
static int read_script(char **text, size_t *len, char **rel_out, char **hash, int dfd,
                       const char *dir, const char *folder, const char *fn, const char *registry,
                       bool optional)
{
    char *rel = dbm_xasprintf("%s/%s", folder, fn), *raw = NULL;
    int rc = mig_read_text(&raw, len, dfd, dir, rel, optional);

    *text = NULL;
    if (rc == DBM_ENOTFOUND) {
        free(rel);
        return 0;
    }
    if (rc < 0) {
        free(rel);
        return rc;
    }
    if (hash) { /* Change.pm's _deploy_hash: the file's bytes as they are, '<:raw' */
        char *bytes = NULL;
        size_t n = 0;
        if ((rc = mig_read_raw(&bytes, &n, dfd, dir, rel)) < 0) {
            free(raw);
            free(rel);
            return rc;
        }
        *hash = dbm_xmalloc(41);
        dbm_sha1_hex(*hash, bytes, n);
        free(bytes);
    }
    *text = substitute_psql(raw, "registry", registry);
    *len = strlen(*text);
    free(raw);
    *rel_out = rel;
    return 0;
}

static int load_change(mig_item_list *items, const sq_plan *p, size_t i, int dfd, const char *dir,
                       const char *registry, char *id)
{
    char *fn = script_name(p, i, dfd), *text = NULL, *rel = NULL, *hash = NULL;
    size_t len = 0;
    dbm_migration *m;
    int rc;

    if ((rc = read_script(&text, &len, &rel, &hash, dfd, dir, "deploy", fn, registry, true)) < 0 ||
        !text) {
        if (rc == 0) {
            rc = dbm_error_set(DBM_ECONFIG,
                               "'%s/deploy/%s' does not exist (change '%s' of %s "
                               "line %d)",
                               dir, fn, p->items[i].name, PLAN, p->items[i].line);
            dbm_error_hint("add the deploy script, or remove the change from %s", PLAN);
        }
        free(fn);
        free(id);
        return rc;
    }
    m = mig_item_add(items);
    m->version = dbm_xasprintf("%zu", i + 1);
    m->name = dbm_xstrdup(p->items[i].name);
    m->path = rel;
    m->up = text;
    m->up_len = len;
    m->up_line = 1;
    m->tool_hash = hash;
    m->tool_id = id;
    rel = NULL;
    if ((rc = read_script(&text, &len, &rel, NULL, dfd, dir, "revert", fn, registry, true)) == 0 &&
        text) {
        m->down = text;
        m->down_len = len;
        m->down_line = 1;
        m->down_path = rel;
    }
    rel = NULL;
    if (rc == 0 &&
        (rc = read_script(&text, &len, &rel, NULL, dfd, dir, "verify", fn, registry, true)) == 0 &&
        text) {
        m->verify = text;
        m->verify_len = len;
        m->verify_path = rel;
    }
    free(fn);
    return rc;
}

/* Change i's Sqitch id, its parent's being `parent`; NULL when the plan does not give it (no
 * %project, a line without its date or planner, or a parent without an id). Caller frees. */
static char *change_id(const sq_plan *p, size_t i, const char *parent)
{
    const sq_change *c = &p->items[i];
    char *info, *id;

    if (!p->project || !c->has_meta || (i > 0 && !parent))
        return NULL;
    info = mig_sqitch_info(p->project, p->uri, c->name, parent, &c->meta);
    id = dbm_xmalloc(41);
    mig_sqitch_id(id, info);
    free(info);
    return id;
}

int mig_sqitch_load(mig_item_list *items, const mig_format *f, int dfd, const char *dir)
{
    sq_plan plan = {NULL, 0, 0, NULL, NULL};
    char *text = NULL, *registry = NULL;
    size_t len;
    int rc;

    (void)f;
    if ((rc = mig_read_text(&text, &len, dfd, dir, PLAN, false)) < 0)
        return rc;
    if ((rc = parse_plan(&plan, text, dir)) < 0)
        goto done;
    registry = registry_name(dfd, dir);
    for (size_t i = 0; i < plan.count && rc == 0; i++) {
        char *id = change_id(&plan, i, i > 0 ? items->items[items->count - 1].m.tool_id : NULL);
        rc = load_change(items, &plan, i, dfd, dir, registry, id); /* takes id */
    }
done:
    plan_free(&plan);
    free(registry);
    free(text);
    return rc;
}
