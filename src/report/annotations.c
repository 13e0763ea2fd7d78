/*
 * annotations.c - failed migrations and findings as annotations: workflow
 * commands under GitHub Actions, "level: file:line:col: message" lines on
 * stderr elsewhere. common/log.c writes them and escapes their properties.
 * A fleet's are a line per target (fleet.c).
 */
#include "common/log.h"
#include "report/render.h"

#include <stdlib.h>

/* The message with its hint on a second line, when there is one. Caller frees. */
static char *with_hint(const char *message, const char *hint)
{
    return hint ? dbm_xasprintf("%s\nhint: %s", message, hint) : dbm_xstrdup(message);
}

void report_annotations(const dbm_report *r)
{
    static const char *const level[] = {"notice", "warning", "error"};

    if (r->ntargets) {
        report_fleet_annotations(r);
        return;
    }

    for (size_t i = 0; i < r->nmigs; i++) {
        const dbm_error_info *e = r->migs[i].error;
        char *msg;
        if (!e)
            continue;
        msg = with_hint(e->message, e->hint);
        dbm_annotate("error", e->file ? e->file : r->migs[i].file, e->line, e->column,
                     "Migration failed", msg);
        free(msg);
    }
    for (size_t i = 0; i < r->nfindings; i++) {
        const dbm_finding *f = &r->findings[i];
        char *title = dbm_xasprintf("db-migrate: %s", f->rule);
        char *msg = with_hint(f->message, f->hint);
        /* A finding a dry-run refuted is a note, not a warning on the pull request. */
        dbm_annotate(level[report_finding_level(f)], f->file, f->line, f->col, title, msg);
        free(title);
        free(msg);
    }
}
