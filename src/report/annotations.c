/*
 * annotations.c - failed migrations and findings as annotations: workflow
 * commands under GitHub Actions, "level: file:line:col: message" lines on
 * stderr elsewhere. common/log.c writes them and escapes their properties.
 */
#include "common/log.h"
#include "report/render.h"

#include <stdlib.h>

/* The message with its hint on a second line, when there is one. Caller frees. */
static char *with_hint(const char *message, const char *hint)
{
    return hint ? dbm_xasprintf("%s\nhint: %s", message, hint) : dbm_xstrdup(message);
}

/*
 * A fleet's failed targets: each failed migration of a target's own report,
 * at its file and line, titled with the target; a target that failed before
 * any migration (down, locked, misconfigured) gets one annotation with its error.
 */
static void target_annotations(const dbm_report *r)
{
    for (size_t i = 0; i < r->ntargets; i++) {
        const dbm_target_result *t = &r->targets[i];
        const dbm_report *d = t->detail;
        char *title = dbm_xasprintf("db-migrate: %s %s", t->name, t->outcome);
        bool told = false;
        for (size_t k = 0; d && k < d->nmigs; k++) {
            const dbm_error_info *e = d->migs[k].error;
            char *msg;
            if (!e)
                continue;
            msg = with_hint(e->message, e->hint);
            dbm_annotate("error", e->file ? e->file : d->migs[k].file, e->line, e->column, title,
                         msg);
            free(msg);
            told = true;
        }
        if (t->exit_code != 0 && !told)
            dbm_annotate("error", NULL, 0, 0, title, t->error ? t->error : t->outcome);
        free(title);
    }
}

void report_annotations(const dbm_report *r)
{
    target_annotations(r);
    static const char *const level[] = {"notice", "warning", "error"};

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
