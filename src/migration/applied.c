/*
 * applied.c - the history's rows as data: indexing, lookup, freeing.
 */
#include "migration/applied.h"
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
    free(h);
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
