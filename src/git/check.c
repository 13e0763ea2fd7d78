/*
 * check.c - what git says about the migrations directory, turned into report
 * entries and findings. The libgit2 work is diff.h's; which version a file is,
 * versions.c's; the checks of a pull request, pr.c's.
 *
 * A run: open the repository holding the migrations directory and find head;
 * resolve the deployed commit (deployed-ref, else the history's last
 * successful apply) and, on a pull request, the base; then the deployed
 * commit against head, the pull request against its base, and the history
 * against git.
 */
#include "git/check.h"
#include "git/check_internal.h"
#include "common/error.h"
#include "git/diff.h"
#include "common/log.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool has_finding(const dbm_report *r, const char *rule, const char *file)
{
    for (size_t i = 0; i < r->nfindings; i++)
        if (strcmp(r->findings[i].rule, rule) == 0 && r->findings[i].file && file &&
            strcmp(r->findings[i].file, file) == 0)
            return true;
    return false;
}

/* Warn, once per run, that a commit to compare with is missing: git checks were skipped. */
static void warn_shallow(gitcheck_state *c, const char *what, const char *sha)
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

int dbm_gitcheck_resolve_or_fetch(gitcheck_state *c, char out[DBM_GIT_SHA_LEN + 1],
                                  const char *spec, const char *what, bool user_given)
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

static bool same_text(gitcheck_state *c, const dbm_git_change *ch)
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

static void remember_gone(gitcheck_state *c, const char *version)
{
    dbm_array_grow((void **)&c->gone_versions, &c->capgone, c->ngone + 1,
                   sizeof(*c->gone_versions));
    c->gone_versions[c->ngone++] = dbm_xstrdup(version);
}

/*
 * The version of an edited or deleted file (m: its migration at head, if
 * any), or NULL when the file is not a migration: a README, a down file.
 * Caller frees.
 */
static char *edited_version(gitcheck_state *c, const dbm_git_change *ch, const dbm_migration *m)
{
    char *version;

    if (m)
        return dbm_xstrdup(m->version);
    if (ch->kind != DBM_GIT_DELETED)
        return NULL; /* not a migration at head */
    version = dbm_gitcheck_version_from_name(c, ch->old_path);
    if (version && dbm_gitcheck_is_down_file(c, ch->old_path)) {
        free(version);
        return NULL;
    }
    return version;
}

/*
 * Whether an edit or deletion is reported, and with what severity: not when
 * only line endings or a BOM changed (the checksum is the same), nor for a
 * version never applied to this database; a warning when the up section,
 * which ran, is unchanged.
 */
static bool edit_matters(gitcheck_state *c, const dbm_git_change *ch, const dbm_migration *m,
                         const char *version, bool on_base, dbm_severity *sev)
{
    *sev = DBM_SEV_ERROR;
    if (ch->kind != DBM_GIT_DELETED && same_text(c, ch))
        return false;
    if (!on_base && c->history && c->history->exists) {
        const dbm_history_row *h = dbm_gitcheck_hist_find(c, version);
        if (!h)
            return false; /* never applied here: deployed-not-recorded says so */
        if (m && strcmp(h->checksum, m->checksum) == 0) {
            /* repair --accept-edit recorded this very file: the edit is on purpose. */
            if (dbm_history_edit_accepted(c->history, version))
                return false;
            *sev = DBM_SEV_WARNING;
        }
    }
    return true;
}

/* The finding for an edit or deletion, with the command that undoes it. */
static void edit_finding(gitcheck_state *c, const dbm_git_change *ch, dbm_severity sev,
                         const char *version, const char *from, bool on_base,
                         const char *changed_by)
{
    bool deleted = ch->kind == DBM_GIT_DELETED;
    const char *rule = deleted ? "deleted-deployed" : "edited-deployed";
    const char *file = deleted ? ch->old_path : ch->path;
    const char *where = on_base ? "exists on the base branch" : "was deployed";
    dbm_finding *f;

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
}

/*
 * One edited or deleted file that existed at `from`: the error finding, the
 * diff and the commit that changed it on the report's row.
 */
static int report_edit(gitcheck_state *c, const dbm_git_change *ch, const char *from, bool on_base,
                       dbm_git_change_info *info)
{
    bool deleted = ch->kind == DBM_GIT_DELETED;
    const char *file = deleted ? ch->old_path : ch->path;
    const dbm_migration *m = deleted ? NULL : dbm_gitcheck_mig_by_path(c, ch->path);
    char *version = edited_version(c, ch, m), *patch = NULL;
    char changed_by[DBM_GIT_SHA_LEN + 1] = "";
    dbm_severity sev;
    dbm_mig_result *row;
    int rc = 0;

    if (!version || !edit_matters(c, ch, m, version, on_base, &sev) ||
        has_finding(c->report, deleted ? "deleted-deployed" : "edited-deployed", file))
        goto done;
    rc = dbm_git_last_change(changed_by, c->g, c->head, from, file);
    if (rc == DBM_ENOTFOUND) {
        dbm_error_clear();
        rc = 0;
    }
    if (rc == 0)
        rc = dbm_git_patch(&patch, c->g, ch);
    if (rc < 0)
        goto done;
    edit_finding(c, ch, sev, version, from, on_base, changed_by);
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

int dbm_gitcheck_changes(gitcheck_state *c, dbm_git_changes **out, const char *from, bool on_base,
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

/* expect-deployed: apply is a compare-and-swap on the last successful apply's commit. */
static int check_expect_deployed(gitcheck_state *c)
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
static int check_history(gitcheck_state *c)
{
    const dbm_history *h = c->history;
    dbm_git_files *deployed_files = NULL;
    gitcheck_key *at_deployed = NULL;
    int rc = 0;

    for (size_t i = 0; i < h->count; i++) {
        const dbm_history_row *row = &h->rows[i];
        bool reported = false;
        dbm_finding *f;

        if (!row->status || strcmp(row->status, "applied") != 0 ||
            dbm_gitcheck_mig_by_version(c, row->version))
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
        const gitcheck_key *k;
        dbm_finding *f;

        /* Rolled back on purpose since that apply: pending again, not skipped by a deploy. */
        if (dbm_gitcheck_hist_find(c, m->version) ||
            dbm_history_was_rolled_back(c->history, m->version))
            continue;
        if (!deployed_files) {
            rc = dbm_git_list_dir(&deployed_files, c->g, c->deployed, c->dir);
            if (rc < 0)
                goto done;
            at_deployed = dbm_xcalloc(deployed_files->count + 1, sizeof(*at_deployed));
            for (size_t j = 0; j < deployed_files->count; j++)
                at_deployed[j] = (gitcheck_key){deployed_files->paths[j], j};
            qsort(at_deployed, deployed_files->count, sizeof(*at_deployed), dbm_gitcheck_key_cmp);
        }
        path = *c->dir ? dbm_xasprintf("%s/%s", c->dir, m->path) : dbm_xstrdup(m->path);
        k = dbm_gitcheck_key_find(at_deployed, deployed_files->count, path);
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

static void check_free(gitcheck_state *c)
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
static int find_head(gitcheck_state *c)
{
    const char *sha = c->cfg->head_sha;

    if (sha && dbm_git_resolve(c->head, c->g, sha, "GITHUB_SHA") == 0)
        return 0;
    dbm_error_clear();
    return dbm_git_head(c->head, c->g);
}

#define GIT_SKIPPED 1 /* no repository, or no commit yet: a notice says so */

/* Open the repository holding the migrations directory and find head; 0, GIT_SKIPPED or the error.
 */
static int repo_start(gitcheck_state *c, const char *path)
{
    int rc = dbm_git_open(&c->g, path);

    if (rc == DBM_ENOTFOUND) {
        dbm_report_add_finding(c->report, DBM_SEV_NOTICE, "not-a-git-repo", NULL, 0, 0,
                               "'%s' is not in a git repository: git checks were skipped", path);
        dbm_error_clear();
        return GIT_SKIPPED;
    }
    if (rc == 0)
        rc = dbm_git_relpath(&c->dir, c->g, path);
    if (rc < 0)
        return rc;
    rc = find_head(c);
    if (rc == DBM_ENOTFOUND) {
        dbm_report_add_finding(c->report, DBM_SEV_NOTICE, "not-a-git-repo", NULL, 0, 0,
                               "the repository holding '%s' has no commits yet: git checks were "
                               "skipped",
                               path);
        dbm_error_clear();
        return GIT_SKIPPED;
    }
    return rc;
}

/* The deployed commit into c->deployed: deployed-ref, else the history's last successful apply. */
static int deployed_resolve(gitcheck_state *c)
{
    const char *spec = c->cfg->deployed_ref;

    if (!spec && c->history)
        spec = c->history->last_apply_sha;
    if (!spec)
        return 0;
    return dbm_gitcheck_resolve_or_fetch(c, c->deployed, spec,
                                         c->cfg->deployed_ref ? "deployed-ref" : "deployed commit",
                                         c->cfg->deployed_ref != NULL);
}

/*
 * The deployed commit against head: the compare link, the changes (recorded
 * unless a pull request records its own), and whether the deploy is still in
 * head's history when files it had were edited or deleted.
 */
static int check_deployed(gitcheck_state *c)
{
    const dbm_gitcheck_opts *cfg = c->cfg;
    dbm_git_changes *changes = NULL;
    bool ancestor = true, suspicious = false;
    int rc;

    dbm_report_set(&c->report->git.deployed, c->deployed);
    if (cfg->server_url && cfg->repository) {
        char *url = dbm_xasprintf("%s/%s/compare/%s...%s", cfg->server_url, cfg->repository,
                                  c->deployed, c->head);
        dbm_report_set(&c->report->git.compare_url, url);
        free(url);
    }
    rc = dbm_gitcheck_changes(c, &changes, c->deployed, false, !c->base[0]);
    if (rc < 0)
        return rc;
    /*
     * Whether history was rewritten matters only to explain edits and
     * deletions, and costs a walk of deployed..head: asked only then.
     */
    for (size_t i = 0; i < changes->count && !suspicious; i++)
        suspicious = changes->items[i].kind == DBM_GIT_DELETED || changes->items[i].edited;
    if (suspicious)
        rc = dbm_git_is_ancestor(&ancestor, c->g, c->deployed, c->head);
    if (rc == 0 && suspicious && !ancestor) {
        dbm_finding *f = dbm_report_add_finding(
            c->report, DBM_SEV_WARNING, "deployed-not-ancestor", NULL, 0, 0,
            "the deployed commit %.12s is not an ancestor of %.12s: history was rewritten "
            "or this branch does not contain the deploy",
            c->deployed, c->head);
        dbm_report_set(&f->hint, "compare the trees: deploy from a branch that contains the "
                                 "deployed commit");
    }
    dbm_git_changes_free(changes);
    return rc;
}

/* Every check, once the repository is open and head is known. */
static int check_all(gitcheck_state *c)
{
    int rc;

    dbm_report_set(&c->report->git.head, c->head);
    rc = check_expect_deployed(c);
    if (rc == 0)
        rc = deployed_resolve(c);
    if (rc == 0)
        rc = dbm_gitcheck_pr_base(c);
    if (rc == 0 && c->deployed[0])
        rc = check_deployed(c);
    if (rc == 0 && c->base[0])
        rc = dbm_gitcheck_pr(c);
    if (rc == 0 && c->history && c->history->exists)
        rc = check_history(c);
    return rc;
}

int dbm_gitcheck(dbm_report *report, const dbm_gitcheck_opts *cfg, const dbm_migration_set *set,
                 const dbm_history *history)
{
    gitcheck_state c = {.report = report, .cfg = cfg, .set = set, .history = history};
    int rc = repo_start(&c, migrations_path(cfg, set));

    if (rc == GIT_SKIPPED)
        rc = check_expect_deployed(&c);
    else if (rc == 0)
        rc = check_all(&c);
    check_free(&c);
    return rc;
}
