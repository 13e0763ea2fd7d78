/*
 * gitcheck.c - what git says about the migrations directory, turned into
 * report entries and findings. The libgit2 work is gitdiff's.
 *
 * Files are mapped to versions through the migration set loaded at head (by
 * path relative to the migrations directory). A file that is not in that set
 * -- deleted since, or only on the base branch -- gets its version from its
 * name with the same naming rules, read here without loading the file.
 */
#include "git/check.h"
#include "common/error.h"
#include "git/diff.h"
#include "common/log.h"
#include "common/util.h"

#include <jansson.h>

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef struct {
    const char *key;
    size_t index;
} key_index;

typedef struct {
    dbm_report *report;
    const dbm_gitcheck_opts *cfg;
    const dbm_migration_set *set;
    const dbm_history *history;
    dbm_git *g;
    char *dir; /* migrations dir relative to the repository root, "" for the root */
    char head[DBM_GIT_SHA_LEN + 1];
    char deployed[DBM_GIT_SHA_LEN + 1];
    char base[DBM_GIT_SHA_LEN + 1];
    bool shallow_warned;
    key_index *by_path;    /* set items by path, sorted */
    key_index *by_version; /* set items by version, sorted */
    key_index *hist;       /* history rows by version, sorted */
    char **gone_versions;  /* versions reported deleted, so applied-file-missing is not repeated */
    size_t ngone, capgone;
} check;

static int key_cmp(const void *a, const void *b)
{
    return strcmp(((const key_index *)a)->key, ((const key_index *)b)->key);
}

static const key_index *key_find(const key_index *idx, size_t n, const char *key)
{
    key_index k = {key, 0};
    return idx && key ? bsearch(&k, idx, n, sizeof(*idx), key_cmp) : NULL;
}

static key_index *sorted_index(size_t n, const char *(*key)(const check *, size_t), const check *c)
{
    key_index *idx = dbm_xcalloc(n ? n : 1, sizeof(*idx));

    for (size_t i = 0; i < n; i++)
        idx[i] = (key_index){key(c, i), i};
    qsort(idx, n, sizeof(*idx), key_cmp);
    return idx;
}

static const char *item_path(const check *c, size_t i)
{
    return c->set->items[i].path;
}

static const char *item_version(const check *c, size_t i)
{
    return c->set->items[i].version;
}

static const char *row_version(const check *c, size_t i)
{
    return c->history->rows[i].version;
}

/* Indexes are built on first use: a deploy that only adds files never needs them. */
static const key_index *index_of(check *c, key_index **idx, size_t n,
                                 const char *(*key)(const check *, size_t))
{
    if (!*idx && n)
        *idx = sorted_index(n, key, c);
    return *idx;
}

/* A repository path relative to the migrations directory, or NULL when outside it. */
static const char *in_dir(const check *c, const char *repo_path)
{
    size_t n = strlen(c->dir);

    if (!n)
        return repo_path;
    if (strncmp(repo_path, c->dir, n) == 0 && repo_path[n] == '/')
        return repo_path + n + 1;
    return NULL;
}

static const dbm_migration *mig_by_path(check *c, const char *repo_path)
{
    size_t n = c->set ? c->set->count : 0;
    const key_index *k = key_find(index_of(c, &c->by_path, n, item_path), n, in_dir(c, repo_path));
    return k ? &c->set->items[k->index] : NULL;
}

static const dbm_migration *mig_by_version(check *c, const char *version)
{
    size_t n = c->set ? c->set->count : 0;
    const key_index *k = key_find(index_of(c, &c->by_version, n, item_version), n, version);
    return k ? &c->set->items[k->index] : NULL;
}

static const dbm_history_row *hist_find(check *c, const char *version)
{
    size_t n = c->history ? c->history->count : 0;
    const key_index *k = key_find(index_of(c, &c->hist, n, row_version), n, version);
    return k ? &c->history->rows[k->index] : NULL;
}

/* Whether the file is the separate down file of a migration at head. */
static bool is_down_file(const check *c, const char *repo_path)
{
    const char *rel = in_dir(c, repo_path);

    for (size_t i = 0; rel && c->set && i < c->set->count; i++)
        if (c->set->items[i].down_path && strcmp(c->set->items[i].down_path, rel) == 0 &&
            strcmp(c->set->items[i].path, rel) != 0)
            return true;
    return false;
}

/*
 * The version a file would have, from its name alone, in the set's format;
 * NULL when the name is not a migration's (README.md, a down file). Caller frees.
 */
static char *version_from_name(const check *c, const char *repo_path)
{
    const char *rel = in_dir(c, repo_path), *base, *slash;
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

/* The version of a file: from the set when it is there at head, else from its name. */
static char *version_of(check *c, const char *repo_path)
{
    const dbm_migration *m = mig_by_path(c, repo_path);

    if (m)
        return dbm_xstrdup(m->version);
    if (is_down_file(c, repo_path))
        return NULL;
    return version_from_name(c, repo_path);
}

static bool has_finding(const dbm_report *r, const char *rule, const char *file)
{
    for (size_t i = 0; i < r->nfindings; i++)
        if (strcmp(r->findings[i].rule, rule) == 0 && r->findings[i].file && file &&
            strcmp(r->findings[i].file, file) == 0)
            return true;
    return false;
}

/* The report's row for `version`, added when the run has none yet. */
static void warn_shallow(check *c, const char *what, const char *sha)
{
    dbm_finding *f;

    if (c->shallow_warned)
        return;
    c->shallow_warned = true;
    f = dbm_report_add_finding(
        c->report, DBM_SEV_WARNING, "shallow-clone", NULL, 0, 0,
        "%s %.12s is not in this %sclone: git checks were skipped, only checksums are compared",
        what, sha, dbm_git_is_shallow(c->g) ? "shallow " : "");
    dbm_report_set(&f->hint, "fetch the whole history: actions/checkout with fetch-depth: 0");
}

/* Resolve a commit that git checks compare with; out[0] is '\0' when it is missing. */
static int resolve_or_fetch(check *c, char out[DBM_GIT_SHA_LEN + 1], const char *spec,
                            const char *what, bool user_given)
{
    int rc = dbm_git_resolve(out, c->g, spec, what);

    if (rc == DBM_ENOTFOUND && dbm_git_can_fetch_shallow() &&
        dbm_git_fetch_commit(c->g, "origin", spec) == 0)
        rc = dbm_git_resolve(out, c->g, spec, what);
    if (rc == DBM_ENOTFOUND || (rc == DBM_ECONFIG && !user_given)) {
        /* A history sha that is not a commit here cannot be the user's to fix in a flag. */
        warn_shallow(c, what, spec);
        dbm_error_clear();
        out[0] = '\0';
        return 0;
    }
    return rc;
}

/* Text with a leading BOM dropped and CRLF as LF, as checksums see it. */
static void normalize(char *s, size_t *len)
{
    size_t r = 0, w = 0;

    if (*len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        r = 3;
    for (; r < *len; r++) {
        if (s[r] == '\r' && r + 1 < *len && s[r + 1] == '\n')
            continue;
        s[w++] = s[r];
    }
    *len = w;
}

static bool same_text(check *c, const dbm_git_change *ch)
{
    char *a = NULL, *b = NULL;
    size_t la, lb;
    bool same = false;

    if (dbm_git_blob_read(&a, &la, c->g, ch->old_blob) == 0 &&
        dbm_git_blob_read(&b, &lb, c->g, ch->new_blob) == 0) {
        normalize(a, &la);
        normalize(b, &lb);
        same = la == lb && memcmp(a, b, la) == 0;
    }
    dbm_error_clear();
    free(a);
    free(b);
    return same;
}

static void remember_gone(check *c, const char *version)
{
    dbm_array_grow((void **)&c->gone_versions, &c->capgone, c->ngone + 1,
                   sizeof(*c->gone_versions));
    c->gone_versions[c->ngone++] = dbm_xstrdup(version);
}

/*
 * One edited or deleted file that existed at `from`: the error finding, the
 * diff and the commit that changed it on the report's row.
 */
static int report_edit(check *c, const dbm_git_change *ch, const char *from, bool on_base,
                       dbm_git_change_info *info)
{
    bool deleted = ch->kind == DBM_GIT_DELETED;
    const char *rule = deleted ? "deleted-deployed" : "edited-deployed";
    const char *file = deleted ? ch->old_path : ch->path;
    const dbm_migration *m = deleted ? NULL : mig_by_path(c, ch->path);
    dbm_severity sev = DBM_SEV_ERROR;
    char *version = NULL, *patch = NULL;
    char changed_by[DBM_GIT_SHA_LEN + 1] = "";
    const char *where = on_base ? "exists on the base branch" : "was deployed";
    dbm_finding *f;
    dbm_mig_result *row;
    int rc = 0;

    if (m) {
        version = dbm_xstrdup(m->version);
    } else if (deleted) {
        version = version_from_name(c, ch->old_path);
        if (!version || is_down_file(c, ch->old_path))
            goto done; /* not a migration: a README, a down file */
    } else {
        goto done; /* not a migration at head */
    }
    if (!deleted && same_text(c, ch))
        goto done; /* only line endings or a BOM changed: the checksum is the same */

    if (!on_base && c->history && c->history->exists) {
        const dbm_history_row *h = hist_find(c, version);
        if (!h)
            goto done; /* never applied here: deployed-not-recorded says so */
        if (m && strcmp(h->checksum, m->checksum) == 0)
            sev = DBM_SEV_WARNING; /* the up section, which ran, is unchanged */
    }
    if (has_finding(c->report, rule, file))
        goto done;

    rc = dbm_git_last_change(changed_by, c->g, c->head, from, deleted ? ch->old_path : ch->path);
    if (rc == DBM_ENOTFOUND) {
        dbm_error_clear();
        rc = 0;
    }
    if (rc == 0)
        rc = dbm_git_patch(&patch, c->g, ch);
    if (rc < 0)
        goto done;

    if (deleted)
        f = dbm_report_add_finding(c->report, sev, rule, file, 0, 0,
                                   "'%s' (version %s) %s at %.12s and was deleted%s%.12s", file,
                                   version, where, from, changed_by[0] ? " in " : "", changed_by);
    else if (sev == DBM_SEV_WARNING)
        f = dbm_report_add_finding(c->report, sev, rule, file, 0, 0,
                                   "'%s' (version %s) %s at %.12s and was edited%s%.12s outside "
                                   "its up section; its recorded checksum still matches",
                                   file, version, where, from, changed_by[0] ? " in " : "",
                                   changed_by);
    else
        f = dbm_report_add_finding(c->report, sev, rule, file, 0, 0,
                                   "'%s' (version %s) %s at %.12s and was edited%s%.12s", file,
                                   version, where, from, changed_by[0] ? " in " : "", changed_by);
    f->hint = dbm_xasprintf("%s: git checkout %.12s -- '%s'",
                            deleted ? "restore it and undo its effect with a new migration"
                                    : "revert the edit and put the change in a new migration",
                            from, file);

    row = dbm_report_migration(c->report, version, m ? m->name : NULL, file,
                               deleted ? DBM_MIG_MISSING : DBM_MIG_EDITED);
    dbm_report_set(&row->diff, patch);
    if (changed_by[0]) {
        dbm_report_set(&row->changed_by, changed_by);
        if (info)
            dbm_report_set(&info->commit, changed_by);
    }
    if (deleted)
        remember_gone(c, version);
done:
    free(version);
    free(patch);
    return rc;
}

/* Changes from `from` to head; findings for edits to files that existed at `from`. */
static int check_changes(check *c, dbm_git_changes **out, const char *from, bool on_base,
                         bool record)
{
    dbm_git_changes *changes = NULL;
    int rc;

    rc = dbm_git_diff_dir(&changes, c->g, from, c->head, c->dir);
    if (rc < 0)
        return rc;
    for (size_t i = 0; i < changes->count; i++) {
        const dbm_git_change *ch = &changes->items[i];
        dbm_git_change_info *info = NULL;

        if (record)
            info = dbm_report_add_git_change(c->report, dbm_git_kind_name(ch->kind), ch->path,
                                             ch->old_path, NULL);
        if (ch->kind == DBM_GIT_ADDED || (ch->kind == DBM_GIT_RENAMED && !ch->edited))
            continue;
        rc = report_edit(c, ch, from, on_base, info);
        if (rc < 0)
            break;
    }
    if (rc == 0 && out)
        *out = changes;
    else
        dbm_git_changes_free(changes);
    return rc;
}

/* Pull requests: versions added here against the versions on the base branch. */
static int check_versions_against_base(check *c, const dbm_git_changes *changes)
{
    dbm_git_files *files = NULL;
    char **versions = NULL;
    const char *newest = NULL, *newest_path = NULL;
    dbm_format format = c->set ? c->set->format : DBM_FORMAT_NATIVE;
    int rc;

    rc = dbm_git_list_dir(&files, c->g, c->base, c->dir);
    if (rc < 0)
        return rc;
    versions = dbm_xcalloc(files->count + 1, sizeof(*versions));
    for (size_t i = 0; i < files->count; i++) {
        versions[i] = version_of(c, files->paths[i]);
        if (versions[i] && (!newest || dbm_version_cmp(format, versions[i], newest) > 0)) {
            newest = versions[i];
            newest_path = files->paths[i];
        }
    }

    for (size_t i = 0; i < changes->count; i++) {
        const dbm_git_change *ch = &changes->items[i];
        const dbm_migration *m;
        bool collided = false;
        dbm_finding *f;

        if (ch->kind != DBM_GIT_ADDED && ch->kind != DBM_GIT_RENAMED)
            continue;
        m = mig_by_path(c, ch->path);
        if (!m || m->repeatable)
            continue;
        for (size_t k = 0; k < files->count && !collided; k++) {
            if (!versions[k] || strcmp(versions[k], m->version) != 0 ||
                strcmp(files->paths[k], ch->path) == 0 ||
                (ch->old_path && strcmp(files->paths[k], ch->old_path) == 0))
                continue;
            collided = true;
            f = dbm_report_add_finding(c->report, DBM_SEV_ERROR, "version-collision", ch->path, 0,
                                       0,
                                       "version %s of '%s' is also the version of '%s' on the "
                                       "base branch",
                                       m->version, ch->path, files->paths[k]);
            dbm_report_set(&f->hint, "give this migration a new version (db-migrate new NAME "
                                     "makes one) and move its SQL there");
        }
        if (!collided && ch->kind == DBM_GIT_ADDED && newest &&
            dbm_version_cmp(format, m->version, newest) < 0) {
            bool allow = c->cfg && c->cfg->out_of_order_allow;
            f = dbm_report_add_finding(
                c->report, allow ? DBM_SEV_WARNING : DBM_SEV_ERROR, "older-than-base", ch->path, 0,
                0,
                "version %s of '%s' is older than the newest migration on the base branch, %s "
                "('%s'): it would run out of order",
                m->version, ch->path, newest, newest_path);
            dbm_report_set(&f->hint, allow ? "out-of-order: allow is set, so it will be applied"
                                           : "give it a version newer than the base branch's "
                                             "newest, or set out-of-order: allow");
        }
    }
    for (size_t i = 0; i < files->count; i++)
        free(versions[i]);
    free(versions);
    dbm_git_files_free(files);
    return 0;
}

/* The base commit of a pull_request event, from the payload; NULL when not one. */
static char *pr_base_sha(check *c)
{
    const dbm_gitcheck_opts *gh = c->cfg;
    json_t *root = NULL, *sha;
    json_error_t jerr;
    char *out = NULL;

    if (!gh->event_name || (strcmp(gh->event_name, "pull_request") != 0 &&
                            strcmp(gh->event_name, "pull_request_target") != 0))
        return NULL;
    if (!gh->event_path) {
        dbm_warn("%s event without GITHUB_EVENT_PATH: pull request checks were skipped",
                 gh->event_name);
        return NULL;
    }
    root = json_load_file(gh->event_path, 0, &jerr);
    sha = json_object_get(json_object_get(json_object_get(root, "pull_request"), "base"), "sha");
    if (json_is_string(sha))
        out = dbm_xstrdup(json_string_value(sha));
    else if (!root)
        dbm_warn("cannot read the event payload '%s': %s: pull request checks were skipped",
                 gh->event_path, jerr.text);
    else
        dbm_warn("the event payload '%s' has no pull_request.base.sha: pull request checks were "
                 "skipped",
                 gh->event_path);
    json_decref(root);
    return out;
}

/* expect-deployed: apply is a compare-and-swap on the last successful apply's commit. */
static int check_expect_deployed(check *c)
{
    const char *want_spec = c->cfg->expect_deployed;
    const char *have_spec = c->history ? c->history->last_apply_sha : NULL;
    char want[DBM_GIT_SHA_LEN + 1] = "", have[DBM_GIT_SHA_LEN + 1] = "";
    dbm_severity sev = c->cfg->expect_blocks ? DBM_SEV_ERROR : DBM_SEV_WARNING;
    bool match;
    dbm_finding *f;
    int rc;

    if (!want_spec || !c->history)
        return 0; /* nothing to compare with without a database */
    if (c->g) {
        rc = dbm_git_resolve(want, c->g, want_spec, "expect-deployed");
        if (rc == DBM_ECONFIG)
            return rc;
        if (rc == DBM_ENOTFOUND)
            dbm_error_clear();
        if (have_spec && dbm_git_resolve(have, c->g, have_spec, "the last apply's git_sha") < 0)
            dbm_error_clear();
    }
    if (!want[0]) {
        size_t n = strlen(want_spec);
        if (n < 7 || n > DBM_GIT_SHA_LEN || strspn(want_spec, "0123456789abcdefABCDEF") != n)
            return dbm_error_set(DBM_ECONFIG,
                                 "expect-deployed '%s' cannot be resolved without the "
                                 "repository's history",
                                 want_spec);
        snprintf(want, sizeof(want), "%s", want_spec);
    }
    if (!have[0] && have_spec)
        snprintf(have, sizeof(have), "%s", have_spec);

    match = have[0] && strlen(want) <= strlen(have) && strncasecmp(want, have, strlen(want)) == 0;
    if (match)
        return 0;
    if (!have[0])
        f = dbm_report_add_finding(c->report, sev, "expect-deployed", NULL, 0, 0,
                                   "expect-deployed is %.12s but no successful apply is recorded "
                                   "in the history",
                                   want);
    else
        f = dbm_report_add_finding(c->report, sev, "expect-deployed", NULL, 0, 0,
                                   "expect-deployed is %.12s but the last successful apply was at "
                                   "%.12s: another deploy ran in between",
                                   want, have);
    dbm_report_set(&f->hint, "plan again against the database as it is now, then set "
                             "expect-deployed to its deployed commit");
    return 0;
}

/* History against git: applied files gone at head, pending files that were deployed. */
static int check_history(check *c)
{
    const dbm_history *h = c->history;
    dbm_git_files *deployed_files = NULL;
    key_index *at_deployed = NULL;
    int rc = 0;

    for (size_t i = 0; i < h->count; i++) {
        const dbm_history_row *row = &h->rows[i];
        bool reported = false;
        dbm_finding *f;

        if (!row->status || strcmp(row->status, "applied") != 0 || mig_by_version(c, row->version))
            continue;
        for (size_t k = 0; k < c->ngone && !reported; k++)
            reported = strcmp(c->gone_versions[k], row->version) == 0;
        if (reported)
            continue;
        f = dbm_report_add_finding(c->report, DBM_SEV_WARNING, "applied-file-missing", NULL, 0, 0,
                                   "version %s (%s) is recorded as applied but no file has it at "
                                   "%.12s",
                                   row->version, row->name ? row->name : "", c->head);
        if (row->git_sha)
            f->hint = dbm_xasprintf("restore the file from the commit that applied it (%.12s)",
                                    row->git_sha);
        else
            dbm_report_set(&f->hint, "restore the file from the commit that applied it");
    }

    if (!c->deployed[0] || !c->set)
        return 0;
    for (size_t i = 0; i < c->set->count; i++) {
        const dbm_migration *m = &c->set->items[i];
        char *path;
        const key_index *k;
        dbm_finding *f;

        if (hist_find(c, m->version))
            continue;
        if (!deployed_files) {
            rc = dbm_git_list_dir(&deployed_files, c->g, c->deployed, c->dir);
            if (rc < 0)
                goto done;
            at_deployed = dbm_xcalloc(deployed_files->count + 1, sizeof(*at_deployed));
            for (size_t j = 0; j < deployed_files->count; j++)
                at_deployed[j] = (key_index){deployed_files->paths[j], j};
            qsort(at_deployed, deployed_files->count, sizeof(*at_deployed), key_cmp);
        }
        path = *c->dir ? dbm_xasprintf("%s/%s", c->dir, m->path) : dbm_xstrdup(m->path);
        k = key_find(at_deployed, deployed_files->count, path);
        if (k) {
            f = dbm_report_add_finding(c->report, DBM_SEV_WARNING, "deployed-not-recorded", path, 0,
                                       0,
                                       "'%s' (version %s) was in the deployed commit %.12s but is "
                                       "not recorded as applied",
                                       path, m->version, c->deployed);
            dbm_report_set(&f->hint,
                           "check whether the deploy skipped it; if its changes are already "
                           "in the database, record it with baseline or repair");
        }
        free(path);
    }
done:
    free(at_deployed);
    dbm_git_files_free(deployed_files);
    return rc;
}

static void check_free(check *c)
{
    dbm_git_free(c->g);
    free(c->dir);
    free(c->by_path);
    free(c->by_version);
    free(c->hist);
    for (size_t i = 0; i < c->ngone; i++)
        free(c->gone_versions[i]);
    free(c->gone_versions);
}

static const char *migrations_path(const dbm_gitcheck_opts *cfg, const dbm_migration_set *set)
{
    if (cfg && cfg->migrations_dir)
        return cfg->migrations_dir;
    if (set && set->dir)
        return set->dir;
    return "migrations";
}

/* HEAD, or GITHUB_SHA when it is a commit of this repository. */
static int find_head(check *c)
{
    const char *sha = c->cfg->head_sha;

    if (sha && dbm_git_resolve(c->head, c->g, sha, "GITHUB_SHA") == 0)
        return 0;
    dbm_error_clear();
    return dbm_git_head(c->head, c->g);
}

int dbm_gitcheck(dbm_report *report, const dbm_gitcheck_opts *cfg, const dbm_migration_set *set,
                 const dbm_history *history)
{
    check c = {.report = report, .cfg = cfg, .set = set, .history = history};
    const char *path = migrations_path(cfg, set);
    const char *deployed_spec = cfg->deployed_ref;
    dbm_git_changes *base_changes = NULL, *deployed_changes = NULL;
    char *base_spec = NULL;
    int rc;

    rc = dbm_git_open(&c.g, path);
    if (rc == DBM_ENOTFOUND) {
        dbm_report_add_finding(report, DBM_SEV_NOTICE, "not-a-git-repo", NULL, 0, 0,
                               "'%s' is not in a git repository: git checks were skipped", path);
        dbm_error_clear();
        rc = check_expect_deployed(&c);
        goto done;
    }
    if (rc < 0)
        goto done;
    rc = dbm_git_relpath(&c.dir, c.g, path);
    if (rc < 0)
        goto done;
    rc = find_head(&c);
    if (rc == DBM_ENOTFOUND) {
        dbm_report_add_finding(report, DBM_SEV_NOTICE, "not-a-git-repo", NULL, 0, 0,
                               "the repository holding '%s' has no commits yet: git checks were "
                               "skipped",
                               path);
        dbm_error_clear();
        rc = check_expect_deployed(&c);
        goto done;
    }
    if (rc < 0)
        goto done;
    dbm_report_set(&report->git.head, c.head);

    rc = check_expect_deployed(&c);
    if (rc < 0)
        goto done;

    if (!deployed_spec && history)
        deployed_spec = history->last_apply_sha;
    if (deployed_spec) {
        rc = resolve_or_fetch(&c, c.deployed, deployed_spec,
                              cfg->deployed_ref ? "deployed-ref" : "deployed commit",
                              cfg->deployed_ref != NULL);
        if (rc < 0)
            goto done;
    }
    base_spec = pr_base_sha(&c);
    if (base_spec) {
        rc = resolve_or_fetch(&c, c.base, base_spec, "pull request base", false);
        if (rc < 0)
            goto done;
    }

    if (c.deployed[0]) {
        bool ancestor = true, suspicious = false;

        dbm_report_set(&report->git.deployed, c.deployed);
        if (cfg->server_url && cfg->repository) {
            char *url = dbm_xasprintf("%s/%s/compare/%s...%s", cfg->server_url, cfg->repository,
                                      c.deployed, c.head);
            dbm_report_set(&report->git.compare_url, url);
            free(url);
        }
        rc = check_changes(&c, &deployed_changes, c.deployed, false, !c.base[0]);
        if (rc < 0)
            goto done;
        /*
         * Whether history was rewritten matters only to explain edits and
         * deletions, and costs a walk of deployed..head: asked only then.
         */
        for (size_t i = 0; i < deployed_changes->count && !suspicious; i++)
            suspicious = deployed_changes->items[i].kind == DBM_GIT_DELETED ||
                         deployed_changes->items[i].edited;
        if (suspicious)
            rc = dbm_git_is_ancestor(&ancestor, c.g, c.deployed, c.head);
        if (rc < 0)
            goto done;
        if (suspicious && !ancestor) {
            dbm_finding *f = dbm_report_add_finding(
                report, DBM_SEV_WARNING, "deployed-not-ancestor", NULL, 0, 0,
                "the deployed commit %.12s is not an ancestor of %.12s: history was rewritten "
                "or this branch does not contain the deploy",
                c.deployed, c.head);
            dbm_report_set(&f->hint, "compare the trees: deploy from a branch that contains the "
                                     "deployed commit");
        }
    }
    if (c.base[0]) {
        char fork[DBM_GIT_SHA_LEN + 1];

        /* What the pull request changes is base...head: from where the branches forked. */
        dbm_report_set(&report->git.base, c.base);
        if (dbm_git_merge_base(fork, c.g, c.base, c.head) < 0) {
            dbm_error_clear();
            snprintf(fork, sizeof(fork), "%s", c.base);
        }
        rc = check_changes(&c, &base_changes, fork, true, true);
        if (rc == 0)
            rc = check_versions_against_base(&c, base_changes);
        if (rc < 0)
            goto done;
    }
    if (history && history->exists)
        rc = check_history(&c);
done:
    dbm_git_changes_free(deployed_changes);
    dbm_git_changes_free(base_changes);
    free(base_spec);
    check_free(&c);
    return rc;
}
