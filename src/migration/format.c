/*
 * The formats table, the names users give formats, and each format's version
 * order. The rules are those of shared/corpora/apply-with-psql.sh (the tools'
 * own behaviour); docs/formats.md has them for users. A format whose rules need
 * more than a row and the shared syntaxes keeps its parts in format_<name>.c.
 */
#include "migration/format.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

/* ---- version order ---------------------------------------------------------------------- */

static bool all_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* Compare two digit strings as numbers of any length: strip leading zeros, longer is larger. */
static int numcmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c;

    while (an > 0 && *a == '0')
        a++, an--;
    while (bn > 0 && *b == '0')
        b++, bn--;
    if (an != bn)
        return an < bn ? -1 : 1;
    c = memcmp(a, b, an);
    return c < 0 ? -1 : c > 0;
}

int mig_cmp_bytes(const char *a, const char *b)
{
    int c = strcmp(a, b);
    return c < 0 ? -1 : c > 0;
}

/* Native, golang-migrate, goose: numbers of any length; bytewise when either is not a number. */
int mig_cmp_native(const char *a, const char *b)
{
    size_t an = strlen(a), bn = strlen(b);

    if (!all_digits(a, an) || !all_digits(b, bn))
        return mig_cmp_bytes(a, b);
    return numcmp(a, an, b, bn);
}

/*
 * dbmate applies files in file name order, and its file names are the version
 * followed by '_': compare as if each version had a '_' appended (which sorts
 * after every digit, so "10" comes before "1").
 */
int mig_cmp_dbmate(const char *a, const char *b)
{
    const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;
    unsigned int x, y;

    while (*p && *p == *q)
        p++, q++;
    x = *p ? *p : '_';
    y = *q ? *q : '_';
    if (x != y)
        return x < y ? -1 : 1;
    if (!*p && !*q)
        return 0;
    /* one ended and its '_' equals the other's '_': compare what follows ("" < rest) */
    return !*p ? -1 : 1;
}

/* Diesel: the version with dashes removed, compared as a string. */
static int diesel_cmp(const char *a, const char *b)
{
    for (;;) {
        while (*a == '-')
            a++;
        while (*b == '-')
            b++;
        if (*a != *b || !*a)
            break;
        a++, b++;
    }
    return (unsigned char)*a < (unsigned char)*b ? -1 : (unsigned char)*a > (unsigned char)*b;
}

/* Flyway: numeric dotted parts (a missing part counts as 0); R__ repeatables after, by name. */
static int flyway_cmp(const char *a, const char *b)
{
    bool ra = dbm_starts_with(a, "R__"), rb = dbm_starts_with(b, "R__");

    if (ra || rb)
        return ra && rb ? mig_cmp_bytes(a, b) : ra ? 1 : -1;
    while (*a || *b) {
        size_t an = strcspn(a, "."), bn = strcspn(b, ".");
        int c;

        if (!all_digits(a, an) && an != 0)
            return mig_cmp_bytes(a, b);
        if (!all_digits(b, bn) && bn != 0)
            return mig_cmp_bytes(a, b);
        c = numcmp(a, an, b, bn);
        if (c)
            return c;
        a += an + (a[an] == '.');
        b += bn + (b[bn] == '.');
    }
    return 0;
}

/* ---- hooks ------------------------------------------------------------------------------ */

/* Native refuses golang-migrate's names and warns about .sql files it cannot name. */
static int native_other(const mig_entry *e, const char *dir)
{
    char *shown;
    int rc;

    if (e->kind == MIG_LAYOUT_GOLANG) {
        shown = dbm_printable(e->name);
        rc = dbm_error_set(DBM_ECONFIG, "'%s' is named like a golang-migrate file", shown);
        dbm_error_hint("native migrations are <version>_<name>.sql with '-- migrate:up' "
                       "and '-- migrate:down' sections; or set format: golang-migrate");
        free(shown);
        return rc;
    }
    if (!e->is_dir && mig_leading_digits(e->name) > 0 &&
        mig_ends_with(e->name, strlen(e->name), ".sql")) {
        shown = dbm_printable(e->name);
        dbm_warn("skipping '%s': not named <version>_<name>.sql", shown);
        free(shown);
    }
    return 0;
}

static int goose_other(const mig_entry *e, const char *dir)
{
    if (e->kind == MIG_LAYOUT_GOOSE_GO) {
        char *shown = dbm_printable(e->name);
        dbm_warn("skipping Go migration '%s': only SQL migrations are run", shown);
        free(shown);
    }
    return 0;
}

/*
 * dbmate orders versions as strings. When that differs from numeric order
 * (versions of different lengths), say so once: it is what dbmate does, but
 * rarely what a set of 1_, 2_, 10_ files means.
 */
static void dbmate_check(const mig_item_list *items)
{
    for (size_t i = 1; i < items->count; i++) {
        const dbm_migration *a = &items->items[i - 1].m, *b = &items->items[i].m;
        if (mig_cmp_native(a->version, b->version) > 0) {
            char *x = dbm_printable(a->path), *y = dbm_printable(b->path);
            dbm_warn("dbmate order runs '%s' before '%s' (versions compare as strings); set "
                     "format: native for numeric order",
                     x, y);
            free(x);
            free(y);
            return;
        }
    }
}

/* ---- the table -------------------------------------------------------------------------- */

/* In dbm_format order: the first row of a layout is what auto-detection reads it as. */
static const mig_format formats[] = {
    {.format = DBM_FORMAT_NATIVE,
     .name = "native",
     .layout = MIG_LAYOUT_FLAT,
     .up = ".sql",
     .syntax = &mig_syntax_digits,
     .sections = &mig_sections_native,
     .cmp = mig_cmp_native,
     .other = native_other},
    {.format = DBM_FORMAT_GOLANG_MIGRATE,
     .name = "golang-migrate",
     .layout = MIG_LAYOUT_GOLANG,
     .up = ".up.sql",
     .down = ".down.sql",
     .syntax = &mig_syntax_digits,
     .cmp = mig_cmp_native},
    {.format = DBM_FORMAT_DBMATE,
     .name = "dbmate",
     .layout = MIG_LAYOUT_FLAT,
     .up = ".sql",
     .syntax = &mig_syntax_digits,
     .sections = &mig_sections_dbmate,
     .cmp = mig_cmp_dbmate,
     .check = dbmate_check},
    {.format = DBM_FORMAT_GOOSE,
     .name = "goose",
     .layout = MIG_LAYOUT_FLAT,
     .up = ".sql",
     .syntax = &mig_syntax_digits,
     .sections = &mig_sections_goose,
     .cmp = mig_cmp_native,
     .other = goose_other},
    {.format = DBM_FORMAT_FLYWAY,
     .name = "flyway",
     .layout = MIG_LAYOUT_FLYWAY,
     .up = ".sql", /* U<ver>__ files are the downs: the syntax tells them by their prefix */
     .syntax = &mig_syntax_flyway,
     .tx = {".conf", "executeInTransaction", "flyway.executeInTransaction", false},
     .cmp = flyway_cmp},
    {.format = DBM_FORMAT_DIESEL,
     .name = "diesel",
     .layout = MIG_LAYOUT_DIESEL,
     .folders = true,
     .up = "up.sql",
     .down = "down.sql",
     .syntax = &mig_syntax_diesel,
     .tx = {"/metadata.toml", "run_in_transaction", NULL, true},
     .cmp = diesel_cmp},
    {.format = DBM_FORMAT_PRISMA,
     .name = "prisma",
     .layout = MIG_LAYOUT_PRISMA,
     .folders = true,
     .up = "migration.sql",
     .syntax = &mig_syntax_folder,
     .cmp = mig_cmp_bytes,
     .tool_hash = mig_tool_hash_prisma},
    {.format = DBM_FORMAT_SQLX, /* format_sqlx.c */
     .name = "sqlx",
     .layout = MIG_LAYOUT_FLAT,
     .also = MIG_LAYOUT_GOLANG,
     .up = ".sql",
     .down = ".down.sql",
     .syntax = &mig_syntax_sqlx,
     .cmp = mig_cmp_native,
     .other = mig_sqlx_other,
     .each = mig_sqlx_each,
     .tool_hash = mig_tool_hash_sqlx},
    {.format = DBM_FORMAT_DRIZZLE, /* format_drizzle.c */
     .name = "drizzle",
     .layout = MIG_LAYOUT_FLAT,
     .all_sql = true,
     .marker = "meta/_journal.json",
     .up = ".sql",
     .syntax = &mig_syntax_drizzle,
     .cmp = mig_cmp_native,
     .order = mig_drizzle_order,
     .tool_hash = mig_tool_hash_drizzle},
    {.format = DBM_FORMAT_SUPABASE, /* format_supabase.c */
     .name = "supabase",
     .layout = MIG_LAYOUT_FLAT,
     .up = ".sql",
     .syntax = &mig_syntax_digits,
     .cmp = mig_cmp_dbmate,
     .order = mig_supabase_order,
     .other = mig_supabase_other},
    {.format = DBM_FORMAT_ATLAS, /* format_atlas.c */
     .name = "atlas",
     .layout = MIG_LAYOUT_FLAT,
     .all_sql = true,
     .marker = "atlas.sum",
     .up = ".sql",
     .syntax = &mig_syntax_atlas,
     .cmp = mig_cmp_dbmate,
     .order = mig_atlas_order,
     .each = mig_atlas_each},
    {.format = DBM_FORMAT_SQITCH,
     .name = "sqitch",
     .cmp = mig_cmp_native, /* the version is the change's position in sqitch.plan */
     .load = mig_sqitch_load,
     .claims = mig_sqitch_claims},
    {.format = DBM_FORMAT_GRAPHILE_MIGRATE,
     .name = "graphile-migrate",
     .cmp = mig_cmp_native,
     .load = mig_graphile_load,
     .claims = mig_graphile_claims},
};

#define FORMAT_COUNT (sizeof(formats) / sizeof(formats[0]))

/* One name a line. */
/* clang-format off */
const char *const dbm_format_names[] = {
    "auto",
    "native",
    "golang-migrate",
    "dbmate",
    "goose",
    "flyway",
    "diesel",
    "prisma",
    "sqlx",
    "drizzle",
    "supabase",
    "atlas",
    "sqitch",
    "graphile-migrate",
    NULL};
/* clang-format on */
_Static_assert(sizeof(dbm_format_names) / sizeof(dbm_format_names[0]) == FORMAT_COUNT + 2,
               "dbm_format_names names every row of formats[], and auto");

const mig_format *mig_format_of(dbm_format format)
{
    for (size_t i = 0; i < FORMAT_COUNT; i++)
        if (formats[i].format == format)
            return &formats[i];
    return NULL;
}

const mig_format *mig_format_at(size_t i)
{
    return i < FORMAT_COUNT ? &formats[i] : NULL;
}

const mig_format *mig_format_claiming(const mig_entry_list *list, int dfd)
{
    for (size_t i = 0; i < FORMAT_COUNT; i++)
        if (formats[i].claims && formats[i].claims(list, dfd))
            return &formats[i];
    return NULL;
}

const mig_format *mig_format_of_layout(mig_layout layout)
{
    for (size_t i = 0; i < FORMAT_COUNT; i++)
        if (layout != MIG_LAYOUT_NONE && formats[i].layout == layout)
            return &formats[i];
    return NULL;
}

/* ---- names ------------------------------------------------------------------------------ */

int dbm_format_parse(dbm_format *out, const char *name)
{
    dbm_buf names = DBM_BUF_INIT;
    char *shown;
    int rc;

    if (name && strcmp(name, "auto") == 0) {
        *out = DBM_FORMAT_AUTO;
        return 0;
    }
    for (size_t i = 0; i < FORMAT_COUNT; i++) {
        if (name && strcmp(name, formats[i].name) == 0) {
            *out = formats[i].format;
            return 0;
        }
    }
    dbm_buf_puts(&names, "auto");
    for (size_t i = 0; i < FORMAT_COUNT; i++)
        dbm_buf_printf(&names, ", %s", formats[i].name);
    shown = dbm_printable(name);
    rc = dbm_error_set(DBM_ECONFIG, "unknown format '%s'", shown);
    dbm_error_hint("format is one of %s", dbm_buf_cstr(&names));
    dbm_buf_free(&names);
    free(shown);
    return rc;
}

const char *dbm_format_name(dbm_format format)
{
    const mig_format *f = mig_format_of(format);

    if (format == DBM_FORMAT_AUTO)
        return "auto";
    return f ? f->name : "unknown";
}

int dbm_version_cmp(dbm_format format, const char *a, const char *b)
{
    const mig_format *f = mig_format_of(format);
    return f ? f->cmp(a, b) : mig_cmp_native(a, b);
}
