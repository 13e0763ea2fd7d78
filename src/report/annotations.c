/*
 * annotations.c - failed migrations and findings as annotations: workflow
 * commands under GitHub Actions, "level: file:line:col: message" lines on
 * stderr elsewhere. common/log.c writes them and escapes their properties.
 */
#include "common/log.h"
#include "report/render.h"

#include <stdlib.h>

void report_annotations(const dbm_report *r)
{
    static const char *const level[] = {"notice", "warning", "error"};

    for (size_t i = 0; i < r->nmigs; i++) {
        const dbm_error_info *e = r->migs[i].error;
        char *msg;
        if (!e)
            continue;
        msg =
            e->hint ? dbm_xasprintf("%s\nhint: %s", e->message, e->hint) : dbm_xstrdup(e->message);
        dbm_annotate("error", e->file ? e->file : r->migs[i].file, e->line, e->column,
                     "Migration failed", msg);
        free(msg);
    }
    for (size_t i = 0; i < r->nfindings; i++) {
        const dbm_finding *f = &r->findings[i];
        char *title = dbm_xasprintf("db-migrate: %s", f->rule);
        char *msg =
            f->hint ? dbm_xasprintf("%s\nhint: %s", f->message, f->hint) : dbm_xstrdup(f->message);
        dbm_annotate(level[f->severity], f->file, f->line, f->col, title, msg);
        free(title);
        free(msg);
    }
}
