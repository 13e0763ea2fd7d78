/*
 * record_fleet.c - a fleet's record (DESIGN section 11): the rank of a
 * target's exit status, its outcome, and the closing of the record (order,
 * sums, status, the fleet's error). A fleet's run and the merge of its
 * shards' reports both close their record here, so that a merged report is
 * the report one process would have written.
 */
#include "common/error.h"
#include "common/record.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

int dbm_fleet_rank(int exit_status)
{
    if (exit_status >= 128)
        return 6;
    switch (exit_status) {
    case 2:
        return 5;
    case 1:
        return 4;
    case 3:
        return 3;
    case 4:
        return 2;
    default:
        return 0;
    }
}

const char *dbm_target_outcome(int exit_status, const char *status)
{
    switch (exit_status) {
    case 0:
        return status ? status : "up-to-date";
    case 2:
        return "error";
    case 3:
        return "unreachable";
    case 4:
        return "locked";
    default:
        if (exit_status >= 128)
            return "cancelled";
        return status && !strcmp(status, "blocked") ? "blocked" : "failed";
    }
}

static bool skipped(const dbm_target_result *t)
{
    return t->outcome && strcmp(t->outcome, "skipped") == 0;
}

static int row_rank(const dbm_target_result *t)
{
    return skipped(t) ? 1 : dbm_fleet_rank(t->exit_code);
}

/* The worst rank first, then the config file's order: stage, position, then the name. */
static int by_rank(const void *a, const void *b)
{
    const dbm_target_result *x = a, *y = b;
    int rx = row_rank(x), ry = row_rank(y);

    if (rx != ry)
        return ry - rx;
    if (x->stage != y->stage)
        return x->stage < y->stage ? -1 : 1;
    if (x->position != y->position)
        return x->position < y->position ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* The fleet's status: its worst failure, else applied, rolled-back, pending or up-to-date. */
static const char *fleet_status(const dbm_report *r)
{
    bool applied = false, pending = false, undone = false;

    for (size_t i = 0; i < r->ntargets; i++) {
        const char *o = r->targets[i].outcome;
        if (!strcmp(o, "cancelled") || !strcmp(o, "blocked"))
            return o;
        if (r->targets[i].exit_code != 0)
            return "failed";
        applied |= !strcmp(o, "applied");
        pending |= !strcmp(o, "pending");
        undone |= !strcmp(o, "rolled-back");
    }
    return applied ? "applied" : undone ? "rolled-back" : pending ? "pending" : "up-to-date";
}

/* The error code whose exit status a target had (error.h's dbm_error_exit_status, reversed). */
static int code_of(const dbm_target_result *t)
{
    if (t->exit_code >= 128)
        return DBM_ECANCELLED;
    switch (t->exit_code) {
    case 0:
        return DBM_OK;
    case 2:
        return DBM_ECONFIG;
    case 3:
        return DBM_ECONNECT;
    case 4:
        return DBM_ELOCKED;
    default:
        return !strcmp(t->outcome, "blocked") ? DBM_EBLOCKED : DBM_EFAILED;
    }
}

int dbm_report_fleet_close(dbm_report *r)
{
    int worst = DBM_OK, worst_rank = 0;
    size_t bad = 0;
    dbm_buf which = DBM_BUF_INIT;

    dbm_report_drop_drift(r); /* the rows move: a drift kept from before points into them */
    if (r->ntargets > 1)
        qsort(r->targets, r->ntargets, sizeof(*r->targets), by_rank);
    r->applied_count = 0;
    r->pending_count = 0;
    r->rolled_back_count = 0;
    for (size_t i = 0; i < r->ntargets; i++) {
        const dbm_target_result *t = &r->targets[i];
        r->applied_count += t->applied_count;
        r->pending_count += t->pending_count;
        r->rolled_back_count += t->detail ? t->detail->rolled_back_count : 0;
        if (t->exit_code == 0)
            continue;
        dbm_buf_printf(&which, "%s%s (%s)", bad++ ? ", " : "", t->name, t->outcome);
        if (worst == DBM_OK || dbm_fleet_rank(t->exit_code) > worst_rank) {
            worst = code_of(t);
            worst_rank = dbm_fleet_rank(t->exit_code);
        }
    }
    dbm_report_set(&r->status, fleet_status(r));
    if (worst != DBM_OK)
        dbm_error_set(worst, "%zu of %zu targets did not succeed: %s", bad, r->ntargets,
                      dbm_buf_cstr(&which));
    dbm_buf_free(&which);
    return worst;
}

bool dbm_report_is_fleet(const dbm_report *r)
{
    return r->ntargets > 0 || r->parallel > 0;
}

size_t dbm_report_shards_missing(const dbm_report *r, long *out, size_t max)
{
    size_t n = 0;
    bool *held;

    if (r->shard.index || r->shard.count < 1)
        return 0; /* a shard's own run, or no shard at all */
    held = dbm_xcalloc((size_t)r->shard.count + 1, sizeof(*held));
    for (size_t k = 0; k < r->shard.nmerged; k++)
        if (r->shard.merged[k] >= 1 && r->shard.merged[k] <= r->shard.count)
            held[r->shard.merged[k]] = true;
    for (long i = 1; i <= r->shard.count; i++) {
        if (held[i])
            continue;
        if (n < max)
            out[n] = i;
        n++;
    }
    free(held);
    return n;
}
