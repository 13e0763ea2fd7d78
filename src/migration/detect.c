/*
 * Auto-detection: a format's own file (atlas.sum, meta/_journal.json) decides
 * first; then the layout of the names, except between the formats that share
 * flat <digits>_<name>.sql files, where the text and the directory's place
 * (supabase/migrations) do.
 */
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "migration/format.h"

#include <limits.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

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
    /* Names come from the directory: a newline in one must not make a second line. */
    char *d = dbm_printable(dir), *an = dbm_printable(a->name), *bn = dbm_printable(b->name);
    int rc = dbm_error_set(DBM_ECONFIG,
                           "migrations directory '%s' mixes layouts: '%s%s%s' (%s) and "
                           "'%s%s%s' (%s)",
                           d, an, af ? "/" : "", af ? af : "", a_layout, bn, bf ? "/" : "",
                           bf ? bf : "", b_layout);
    dbm_error_hint("keep one format per directory, or set format to the one to read");
    free(d);
    free(an);
    free(bn);
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

/* DBM_ECONFIG: the directory reads as two formats; a hint names the --format choices. */
static int ambiguous(const char *dir, const char *a, const char *why_a, const char *b,
                     const char *why_b)
{
    int rc = dbm_error_set(DBM_ECONFIG, "migrations directory '%s' reads as %s (%s) and as %s (%s)",
                           dir, a, why_a, b, why_b);
    dbm_error_hint("set format (--format %s or --format %s) to the tool that wrote it", a, b);
    return rc;
}

/* The row whose marker file the directory holds; DBM_ECONFIG when two rows' do. */
static int marked_format(const mig_format **out, int dfd, const char *dir)
{
    *out = NULL;
    for (int k = DBM_FORMAT_NATIVE; mig_format_of((dbm_format)k); k++) {
        const mig_format *f = mig_format_of((dbm_format)k);

        if (!f->marker || !mig_exists_at(dfd, f->marker))
            continue;
        if (*out)
            return ambiguous(dir, (*out)->name, (*out)->marker, f->name, f->marker);
        *out = f;
    }
    return 0;
}

/* Whether `dir` is a Supabase project's supabase/migrations folder. */
static bool in_supabase_project(const char *dir)
{
    char real[PATH_MAX];
    size_t n;

    if (!realpath(dir, real))
        return false;
    n = strlen(real);
    return mig_ends_with(real, n, "/supabase/migrations");
}

/*
 * The flat directory's format once its markers are known: `marked` (a goose
 * or dbmate file, named `marked_as`), a sqlx file, a supabase/migrations place.
 */
static int flat_plain(dbm_format *out, const char *dir, const mig_entry *marked,
                      const char *marked_as, const mig_entry *sqlx, bool supabase)
{
    char *why = NULL;
    int rc = 0;

    if (sqlx && (supabase || marked)) {
        why = dbm_xasprintf("'%s' starts with '-- no-transaction'", sqlx->name);
        rc = supabase ? ambiguous(dir, "sqlx", why, "supabase", "its place, supabase/migrations")
                      : mixed(dir, sqlx, "sqlx", marked, marked_as);
    } else if (supabase && marked) {
        why = dbm_xasprintf("'%s' has %s markers", marked->name, marked_as);
        rc = ambiguous(dir, "supabase", "its place, supabase/migrations", marked_as, why);
    }
    free(why);
    if (rc < 0)
        return rc;
    *out = sqlx                                        ? DBM_FORMAT_SQLX
           : supabase                                  ? DBM_FORMAT_SUPABASE
           : marked && strcmp(marked_as, "goose") == 0 ? DBM_FORMAT_GOOSE
                                                       : DBM_FORMAT_NATIVE;
    return 0;
}

/*
 * Flat files: goose when a .go file or a "-- +goose Up" line says so, else
 * native. Plain files are also what sqlx and the Supabase CLI write: a file
 * starting with sqlx's "-- no-transaction" reads as sqlx, a directory at
 * supabase/migrations as supabase; both at once, or either with dbmate's or
 * goose's markers, is DBM_ECONFIG (auto must ask). Elsewhere native reads
 * their plain files with the same order and transactions. Native reads dbmate's files as they are
 * (same sections and directives) and orders versions as numbers, which is dbmate's order whenever
 * versions have one length; so a dbmate directory is read as native unless format: dbmate asks for
 * dbmate's string order exactly. A goose file and a dbmate file together are DBM_ECONFIG.
 */
static int flat_format(dbm_format *out, mig_entry_list *list, int dfd, const char *dir)
{
    const mig_entry *goose = NULL, *dbmate = NULL, *sqlx = NULL;
    bool supabase = in_supabase_project(dir);
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
        else if (!sqlx && e->len >= 17 && memcmp(e->text, "-- no-transaction", 17) == 0)
            sqlx = e;
    }
    if (goose && dbmate)
        return mixed(dir, goose, "goose", dbmate, "dbmate");
    return flat_plain(out, dir, goose ? goose : dbmate, goose ? "goose" : "dbmate", sqlx, supabase);
}

int mig_format_detect(dbm_format *out, mig_entry_list *list, int dfd, const char *dir)
{
    const mig_format *f;
    mig_layout layout;
    int rc;

    if ((f = mig_format_claiming(list, dfd)) == NULL && (rc = marked_format(&f, dfd, dir)) < 0)
        return rc;
    if (f) {
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
