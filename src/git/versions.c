/*
 * versions.c - which migration a file of the repository is.
 *
 * Files are mapped to versions through the migration set loaded at head (by
 * path relative to the migrations directory). A file that is not in that set
 * -- deleted since, or only on the base branch -- gets its version from its
 * name with the same naming rules, read here without loading the file.
 */
#include "git/check_internal.h"
#include "common/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int dbm_gitcheck_key_cmp(const void *a, const void *b)
{
    return strcmp(((const gitcheck_key *)a)->key, ((const gitcheck_key *)b)->key);
}

const gitcheck_key *dbm_gitcheck_key_find(const gitcheck_key *idx, size_t n, const char *key)
{
    gitcheck_key k = {key, 0};
    return idx && key ? bsearch(&k, idx, n, sizeof(*idx), dbm_gitcheck_key_cmp) : NULL;
}

static gitcheck_key *sorted_index(size_t n, const char *(*key)(const gitcheck_state *, size_t),
                                  const gitcheck_state *c)
{
    gitcheck_key *idx = dbm_xcalloc(n ? n : 1, sizeof(*idx));

    for (size_t i = 0; i < n; i++)
        idx[i] = (gitcheck_key){key(c, i), i};
    qsort(idx, n, sizeof(*idx), dbm_gitcheck_key_cmp);
    return idx;
}

static const char *item_path(const gitcheck_state *c, size_t i)
{
    return c->set->items[i].path;
}

static const char *item_version(const gitcheck_state *c, size_t i)
{
    return c->set->items[i].version;
}

static const char *row_version(const gitcheck_state *c, size_t i)
{
    return c->history->rows[i].version;
}

/* Indexes are built on first use: a deploy that only adds files never needs them. */
static const gitcheck_key *index_of(gitcheck_state *c, gitcheck_key **idx, size_t n,
                                    const char *(*key)(const gitcheck_state *, size_t))
{
    if (!*idx && n)
        *idx = sorted_index(n, key, c);
    return *idx;
}

const char *dbm_gitcheck_in_dir(const gitcheck_state *c, const char *repo_path)
{
    size_t n = strlen(c->dir);

    if (!n)
        return repo_path;
    if (strncmp(repo_path, c->dir, n) == 0 && repo_path[n] == '/')
        return repo_path + n + 1;
    return NULL;
}

const dbm_migration *dbm_gitcheck_mig_by_path(gitcheck_state *c, const char *repo_path)
{
    size_t n = c->set ? c->set->count : 0;
    const gitcheck_key *k = dbm_gitcheck_key_find(index_of(c, &c->by_path, n, item_path), n,
                                                  dbm_gitcheck_in_dir(c, repo_path));
    return k ? &c->set->items[k->index] : NULL;
}

const dbm_migration *dbm_gitcheck_mig_by_version(gitcheck_state *c, const char *version)
{
    size_t n = c->set ? c->set->count : 0;
    const gitcheck_key *k =
        dbm_gitcheck_key_find(index_of(c, &c->by_version, n, item_version), n, version);
    return k ? &c->set->items[k->index] : NULL;
}

const dbm_history_row *dbm_gitcheck_hist_find(gitcheck_state *c, const char *version)
{
    size_t n = c->history ? c->history->count : 0;
    const gitcheck_key *k =
        dbm_gitcheck_key_find(index_of(c, &c->hist, n, row_version), n, version);
    return k ? &c->history->rows[k->index] : NULL;
}

bool dbm_gitcheck_is_down_file(const gitcheck_state *c, const char *repo_path)
{
    const char *rel = dbm_gitcheck_in_dir(c, repo_path);

    for (size_t i = 0; rel && c->set && i < c->set->count; i++)
        if (c->set->items[i].down_path && strcmp(c->set->items[i].down_path, rel) == 0 &&
            strcmp(c->set->items[i].path, rel) != 0)
            return true;
    return false;
}

char *dbm_gitcheck_version_from_name(const gitcheck_state *c, const char *repo_path)
{
    const char *rel = dbm_gitcheck_in_dir(c, repo_path), *base, *slash;
    dbm_format format = c->set ? c->set->format : DBM_FORMAT_NATIVE;
    dbm_buf v = DBM_BUF_INIT;

    if (!rel)
        return NULL;
    slash = strrchr(rel, '/');
    base = slash ? slash + 1 : rel;

    switch (format) {
    case DBM_FORMAT_PRISMA:
        if (!slash || strcmp(base, "migration.sql") != 0)
            return NULL;
        return dbm_xstrndup(rel, (size_t)(strchr(rel, '/') - rel));
    case DBM_FORMAT_DIESEL:
        if (!slash || strcmp(base, "up.sql") != 0)
            return NULL;
        for (const char *p = rel; p < slash && (isdigit((unsigned char)*p) || *p == '-'); p++)
            if (*p != '-')
                dbm_buf_putc(&v, *p);
        return v.len ? dbm_buf_detach(&v) : NULL;
    case DBM_FORMAT_FLYWAY: {
        const char *sep = strstr(base, "__");
        if (!sep || !strstr(base, ".sql"))
            return NULL;
        if (base[0] == 'R' && sep == base + 1)
            return dbm_xstrndup(base, (size_t)(strstr(base, ".sql") - base));
        if (base[0] != 'V')
            return NULL;
        for (const char *p = base + 1; p < sep; p++)
            dbm_buf_putc(&v, *p == '_' ? '.' : *p);
        return v.len ? dbm_buf_detach(&v) : NULL;
    }
    case DBM_FORMAT_ATLAS: /* the name without .sql up to its first '_' */
    {
        size_t n = strlen(base), us = strcspn(base, "_");
        if (slash || n <= 4 || strcmp(base + n - 4, ".sql") != 0)
            return NULL;
        return dbm_xstrndup(base, us < n - 4 ? us : n - 4);
    }
    default:
        if (strstr(base, ".down.") || strstr(base, "_down.") || strstr(base, ".undo."))
            return NULL;
        for (const char *p = base; isdigit((unsigned char)*p); p++)
            dbm_buf_putc(&v, *p);
        if (!v.len || (base[v.len] != '_' && base[v.len] != '.' && base[v.len] != '-')) {
            dbm_buf_free(&v);
            return NULL;
        }
        return dbm_buf_detach(&v);
    }
}

char *dbm_gitcheck_version_of(gitcheck_state *c, const char *repo_path)
{
    const dbm_migration *m = dbm_gitcheck_mig_by_path(c, repo_path);

    if (m)
        return dbm_xstrdup(m->version);
    if (dbm_gitcheck_is_down_file(c, repo_path))
        return NULL;
    return dbm_gitcheck_version_from_name(c, repo_path);
}
