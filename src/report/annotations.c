/*
 * annotations.c - failed migrations and findings as annotations: workflow
 * commands under GitHub Actions, "level: file:line:col: message" lines on
 * stderr elsewhere. common/log.c writes them and escapes their properties.
 * A fleet's targets are annotated each (fleet.c) and their files once: the
 * same failure or finding on many targets is one annotation.
 */
#include "common/log.h"
#include "report/render.h"

#include <stdlib.h>
#include <string.h>

/* The annotations written so far, to write each once; NULL: no such bookkeeping. */
typedef struct {
    char **keys;
    size_t n, cap;
} seen_set;

/* Whether this annotation is new (and now seen). */
static bool first_time(seen_set *s, const char *level, const char *file, int line, int col,
                       const char *title, const char *msg)
{
    char *key;

    if (!s)
        return true;
    key = dbm_xasprintf("%s\x1f%s\x1f%d\x1f%d\x1f%s\x1f%s", level, file ? file : "", line, col,
                        title, msg);
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->keys[i], key)) {
            free(key);
            return false;
        }
    dbm_array_grow((void **)&s->keys, &s->cap, s->n + 1, sizeof(*s->keys));
    s->keys[s->n++] = key;
    return true;
}

static void annotate(seen_set *s, const char *level, const char *file, int line, int col,
                     const char *title, const char *msg)
{
    if (first_time(s, level, file, line, col, title, msg))
        dbm_annotate(level, file, line, col, title, msg);
}

/* The message with its hint on a second line, when there is one. Caller frees. */
static char *with_hint(const char *message, const char *hint)
{
    return hint ? dbm_xasprintf("%s\nhint: %s", message, hint) : dbm_xstrdup(message);
}

static void annotate_run(const dbm_report *r, seen_set *s)
{
    static const char *const level[] = {"notice", "warning", "error"};

    for (size_t i = 0; i < r->nmigs; i++) {
        const dbm_error_info *e = r->migs[i].error;
        char *msg;
        if (!e)
            continue;
        msg = with_hint(e->message, e->hint);
        annotate(s, "error", e->file ? e->file : r->migs[i].file, e->line, e->column,
                 "Migration failed", msg);
        free(msg);
    }
    for (size_t i = 0; i < r->nfindings; i++) {
        const dbm_finding *f = &r->findings[i];
        char *title = dbm_xasprintf("db-migrate: %s", f->rule);
        char *msg = with_hint(f->message, f->hint);
        /* A finding a dry-run refuted is a note, not a warning on the pull request. */
        annotate(s, level[report_finding_level(f)], f->file, f->line, f->col, title, msg);
        free(title);
        free(msg);
    }
}

void report_annotations(const dbm_report *r)
{
    seen_set seen = {0};

    if (!r->ntargets) {
        annotate_run(r, NULL);
        return;
    }
    report_fleet_annotations(r);
    for (size_t i = 0; i < r->ntargets; i++)
        if (r->targets[i].detail)
            annotate_run(r->targets[i].detail, &seen);
    for (size_t i = 0; i < seen.n; i++)
        free(seen.keys[i]);
    free(seen.keys);
}
