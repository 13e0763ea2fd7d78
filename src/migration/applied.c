/*
 * applied.c - the history's rows as data: indexing, lookup, freeing.
 */
#include "migration/applied.h"
#include "common/error.h"
#include "common/suggest.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

static int cmp_row_version(const void *a, const void *b)
{
    return strcmp((*(dbm_history_row *const *)a)->version, (*(dbm_history_row *const *)b)->version);
}

void dbm_history_index(dbm_history *h)
{
    free(h->by_version);
    h->by_version = dbm_xcalloc(h->count ? h->count : 1, sizeof(*h->by_version));
    for (size_t i = 0; i < h->count; i++)
        h->by_version[i] = &h->rows[i];
    qsort(h->by_version, h->count, sizeof(*h->by_version), cmp_row_version);
}

void dbm_history_free(dbm_history *h)
{
    if (!h)
        return;
    for (size_t i = 0; i < h->count; i++) {
        dbm_history_row *r = &h->rows[i];
        free(r->version);
        free(r->name);
        free(r->checksum);
        free(r->git_sha);
        free(r->status);
        free(r->applied_at);
        free(r->error);
    }
    free(h->rows);
    free(h->by_version);
    free(h->last_apply_sha);
    for (size_t i = 0; i < h->nrolled_back; i++)
        free(h->rolled_back[i]);
    free(h->rolled_back);
    for (size_t i = 0; i < h->naccepted_edits; i++)
        free(h->accepted_edits[i]);
    free(h->accepted_edits);
    free(h);
}

bool dbm_history_was_rolled_back(const dbm_history *h, const char *version)
{
    for (size_t i = 0; h && i < h->nrolled_back; i++)
        if (strcmp(h->rolled_back[i], version) == 0)
            return true;
    return false;
}

bool dbm_history_edit_accepted(const dbm_history *h, const char *version)
{
    for (size_t i = 0; h && i < h->naccepted_edits; i++)
        if (strcmp(h->accepted_edits[i], version) == 0)
            return true;
    return false;
}

const dbm_history_row *dbm_history_find(const dbm_history *h, const char *version)
{
    size_t lo = 0, hi;

    if (!h)
        return NULL;
    if (!h->by_version) {
        /* A history built by hand (tests, adoption) has no index. */
        for (size_t i = 0; i < h->count; i++)
            if (strcmp(h->rows[i].version, version) == 0)
                return &h->rows[i];
        return NULL;
    }
    hi = h->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(h->by_version[mid]->version, version);
        if (c == 0)
            return h->by_version[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* The recorded versions but repeatables, sorted in the format's order. Caller frees the array. */
static const char **sorted_versions(size_t *n, const dbm_history *h, dbm_format format)
{
    const char **v = dbm_xcalloc(h && h->count ? h->count : 1, sizeof(*v));

    *n = 0;
    for (size_t i = 0; h && i < h->count; i++) {
        const char *x = h->rows[i].version;
        size_t k;
        if (dbm_starts_with(x, "R__"))
            continue;
        /* Insertion sort: a rollback reads the history once. */
        for (k = (*n)++; k > 0 && dbm_version_cmp(format, v[k - 1], x) > 0; k--)
            v[k] = v[k - 1];
        v[k] = x;
    }
    return v;
}

/*
 * The hint of a target that is not recorded: the likely version, the nearest
 * ones. rollback undoes what is newer than the target, so a version is only
 * offered when it undoes no more than the target would: none older than an
 * applied version below the target (a typo's "did you mean 1?" for 5 would
 * undo 2 and 3 too).
 */
static void hint_nearest(const char *target, const char **v, size_t n, dbm_format format)
{
    const char *likely = dbm_suggest(target, v, n);
    size_t len = strlen(target), below = 0;
    bool numeric = len > 0 && strspn(target, "0123456789.") == len;
    dbm_buf b = DBM_BUF_INIT;

    while (numeric && below < n && dbm_version_cmp(format, v[below], target) < 0)
        below++;
    if (likely && numeric && below > 0 && dbm_version_cmp(format, likely, v[below - 1]) < 0)
        likely = NULL;
    if (likely)
        dbm_buf_printf(&b, "did you mean %s? ", likely);
    if (numeric) {
        if (below == 0)
            dbm_buf_printf(&b, "it is older than every applied version; the oldest is %s", v[0]);
        else if (below < n)
            dbm_buf_printf(&b, "the applied versions nearest to it are %s and %s", v[below - 1],
                           v[below]);
    } else {
        dbm_buf_printf(&b, "the newest applied versions are %s", v[n - 1]);
        for (size_t k = n - 1; k > 0 && k + 3 > n; k--)
            dbm_buf_printf(&b, ", %s", v[k - 1]);
    }
    dbm_buf_puts(&b, "; 0 rolls back every one");
    dbm_error_hint("%s", dbm_buf_cstr(&b));
    dbm_buf_free(&b);
}

/* Whether target is newer than every recorded version (v sorted, n > 0). */
static bool newer_than_all(const char *target, const char **v, size_t n, dbm_format format)
{
    size_t len = strlen(target);

    return len > 0 && strspn(target, "0123456789.") == len &&
           dbm_version_cmp(format, v[n - 1], target) < 0;
}

int dbm_history_rollback_boundary(const char **out, const dbm_history *h, dbm_format format,
                                  const char *target)
{
    size_t n;
    const char **v = sorted_versions(&n, h, format);
    int error = 0;

    *out = NULL;
    if (!target || strcmp(target, "0") == 0) {
        for (size_t k = 0; target && k < n; k++)
            if (dbm_version_cmp(format, v[k], target) == 0)
                *out = v[k]; /* a recorded version 0 is a version like any */
        if (n == 0)
            error = DBM_ENOTFOUND;
        else if (!target && n > 1)
            *out = v[n - 2];
        goto done;
    }
    for (size_t k = 0; k < n; k++)
        if (dbm_version_cmp(format, v[k], target) == 0) {
            *out = v[k];
            goto done;
        }
    if (n == 0) {
        error = dbm_error_set(DBM_ECONFIG,
                              "target-version %s is not an applied version: none is applied; "
                              "nothing was rolled back",
                              target);
        dbm_error_hint("run 'db-migrate status' to see the history");
        goto done;
    }
    if (newer_than_all(target, v, n, format)) {
        /* Nothing is newer than it: any version offered here would undo more than asked. */
        error = dbm_error_set(DBM_ECONFIG,
                              "target-version %s is newer than every applied version (the newest "
                              "is %s): there is nothing to roll back; nothing was rolled back",
                              target, v[n - 1]);
        dbm_error_hint("rollback undoes the migrations newer than --target-version; run "
                       "'db-migrate status' to see which are applied");
        goto done;
    }
    error = dbm_error_set(DBM_ECONFIG,
                          "target-version %s is not an applied version; nothing was rolled back",
                          target);
    hint_nearest(target, v, n, format);
done:
    free(v);
    return error;
}
