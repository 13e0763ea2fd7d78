/*
 * Auto-detection: the layout of the names decides, except between the formats
 * that share flat <digits>_<name>.sql files, where the text does.
 */
#include "common/error.h"
#include "migration/format.h"

#include <stddef.h>

/* A layout as detection counts it: goose's .go files go with the flat .sql files. */
static mig_layout family(mig_layout kind)
{
    return kind == MIG_LAYOUT_GOOSE_GO ? MIG_LAYOUT_FLAT : kind;
}

/*
 * DBM_ECONFIG naming two entries of different layouts; a folder is shown with
 * the file its layout is known by ("2_b/up.sql").
 */
static int mixed(const char *dir, const mig_entry *a, const char *a_layout, const mig_entry *b,
                 const char *b_layout)
{
    const char *af = mig_layout_folder_file(a->kind), *bf = mig_layout_folder_file(b->kind);
    int rc = dbm_error_set(DBM_ECONFIG,
                           "migrations directory '%s' mixes layouts: '%s%s%s' (%s) and "
                           "'%s%s%s' (%s)",
                           dir, a->name, af ? "/" : "", af ? af : "", a_layout, b->name,
                           bf ? "/" : "", bf ? bf : "", b_layout);
    dbm_error_hint("keep one format per directory, or set format to the one to read");
    return rc;
}

/* The one layout of the entries (MIG_LAYOUT_NONE when none has one), or DBM_ECONFIG. */
static int single_layout(mig_layout *out, const mig_entry_list *list, const char *dir)
{
    const mig_entry *first = NULL;

    *out = MIG_LAYOUT_NONE;
    for (size_t i = 0; i < list->count; i++) {
        const mig_entry *e = &list->items[i];
        mig_layout k = family(e->kind);

        if (k == MIG_LAYOUT_NONE)
            continue;
        if (first && family(first->kind) != k)
            return mixed(dir, first, mig_layout_name(first->kind), e, mig_layout_name(e->kind));
        if (!first)
            first = e;
    }
    if (first)
        *out = family(first->kind);
    return 0;
}

/*
 * Flat files: goose when a .go file or a "-- +goose Up" line says so, else
 * native. Native reads dbmate's files as they are (same sections and
 * directives) and orders versions as numbers, which is dbmate's order
 * whenever versions have one length; so a dbmate directory is read as native
 * unless format: dbmate asks for dbmate's string order exactly. A goose file
 * and a dbmate file together are DBM_ECONFIG.
 */
static int flat_format(dbm_format *out, mig_entry_list *list, int dfd, const char *dir)
{
    const mig_entry *goose = NULL, *dbmate = NULL;
    int rc;

    for (size_t i = 0; i < list->count; i++) {
        mig_entry *e = &list->items[i];
        mig_flat_traits t;

        if (e->kind == MIG_LAYOUT_GOOSE_GO) {
            if (!goose)
                goose = e;
            continue;
        }
        if (e->kind != MIG_LAYOUT_FLAT)
            continue;
        if ((rc = mig_entry_text(e, NULL, dfd, dir)) < 0)
            return rc;
        t = mig_scan_traits(e->text, e->len);
        if (t.goose_up && !goose)
            goose = e;
        else if (t.migrate_up && !dbmate)
            dbmate = e;
    }
    if (goose && dbmate)
        return mixed(dir, goose, "goose", dbmate, "dbmate");
    *out = goose ? DBM_FORMAT_GOOSE : DBM_FORMAT_NATIVE;
    return 0;
}

int mig_format_detect(dbm_format *out, mig_entry_list *list, int dfd, const char *dir)
{
    const mig_format *f;
    mig_layout layout;
    int rc;

    if ((f = mig_format_claiming(list, dfd)) != NULL) {
        *out = f->format;
        return 0;
    }
    if ((rc = single_layout(&layout, list, dir)) < 0)
        return rc;
    if (layout == MIG_LAYOUT_FLAT)
        return flat_format(out, list, dfd, dir);
    f = mig_format_of_layout(layout);
    *out = f ? f->format : DBM_FORMAT_NATIVE; /* nothing to read: an empty native set */
    return 0;
}
