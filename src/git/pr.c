/*
 * pr.c - the checks of a pull request against its base branch.
 *
 * On pull_request (and pull_request_target) events, the base commit comes
 * from the event payload. What the pull request changes is base...head, from
 * where the branches forked: edits to files that exist on the base branch are
 * errors, as for a deployed commit, and each version added here is compared
 * with the versions on the base branch (the same version twice, or one older
 * than the base's newest, which would run out of order).
 */
#include "git/check_internal.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

#include <jansson.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Pull requests: versions added here against the versions on the base branch. */
static int check_versions_against_base(gitcheck_state *c, const dbm_git_changes *changes)
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
        versions[i] = dbm_gitcheck_version_of(c, files->paths[i]);
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
        m = dbm_gitcheck_mig_by_path(c, ch->path);
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
static char *pr_base_sha(gitcheck_state *c)
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
    else if (!root) {
        char *why = dbm_printable(jerr.text); /* Jansson quotes bytes of the payload */
        dbm_warn("cannot read the event payload '%s': %s: pull request checks were skipped",
                 gh->event_path, why);
        free(why);
    } else
        dbm_warn("the event payload '%s' has no pull_request.base.sha: pull request checks were "
                 "skipped",
                 gh->event_path);
    json_decref(root);
    return out;
}

int dbm_gitcheck_pr_base(gitcheck_state *c)
{
    char *spec = pr_base_sha(c);
    int rc = 0;

    if (spec)
        rc = dbm_gitcheck_resolve_or_fetch(c, c->base, spec, "pull request base", false);
    free(spec);
    return rc;
}

int dbm_gitcheck_pr(gitcheck_state *c)
{
    dbm_git_changes *changes = NULL;
    char fork[DBM_GIT_SHA_LEN + 1];
    int rc;

    dbm_report_set(&c->report->git.base, c->base);
    if (dbm_git_merge_base(fork, c->g, c->base, c->head) < 0) {
        dbm_error_clear();
        snprintf(fork, sizeof(fork), "%s", c->base);
    }
    rc = dbm_gitcheck_changes(c, &changes, fork, true, true);
    if (rc == 0)
        rc = check_versions_against_base(c, changes);
    dbm_git_changes_free(changes);
    return rc;
}
