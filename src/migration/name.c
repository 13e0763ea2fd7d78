/*
 * Version syntaxes: the version and name of a migration read from its file
 * or folder name. Entries reach these already classified (layout.c), so a
 * name has the shape its layout promises; the checks here only make each
 * syntax safe to reuse for a layout of a new format.
 */
#include "common/util.h"
#include "migration/format.h"

#include <string.h>

/* Copy of s[0, n) with every `from` replaced by `to`. */
static char *dup_replacing(const char *s, size_t n, char from, char to)
{
    char *out = dbm_xstrndup(s, n);

    for (char *p = out; *p; p++)
        if (*p == from)
            *p = to;
    return out;
}

/* What follows the first '_' of a folder name, or all of it without one. */
static char *name_after_underscore(const mig_format *f, const char *entry)
{
    const char *us = strchr(entry, '_');
    return dbm_xstrdup(us ? us + 1 : entry);
}

static mig_role role_up(const mig_format *f, const char *entry)
{
    return MIG_ROLE_UP;
}

/* ---- <digits>_<name><suffix>: native, dbmate, goose, golang-migrate --------------------- */

static mig_role digits_role(const mig_format *f, const char *entry)
{
    size_t d = mig_leading_digits(entry), n = strlen(entry);

    if (d == 0 || entry[d] != '_')
        return MIG_ROLE_NONE;
    if (f->down && mig_ends_with(entry, n, f->down))
        return MIG_ROLE_DOWN;
    return mig_ends_with(entry, n, f->up) ? MIG_ROLE_UP : MIG_ROLE_NONE;
}

static char *digits_version(const mig_format *f, const char *entry)
{
    return dbm_xstrndup(entry, mig_leading_digits(entry));
}

static char *digits_name(const mig_format *f, const char *entry)
{
    size_t d = mig_leading_digits(entry), n = strlen(entry);
    return dbm_xstrndup(entry + d + 1, n - d - 1 - strlen(f->up));
}

const mig_syntax mig_syntax_digits = {digits_role, digits_version, digits_name};

/* ---- Flyway: V<ver>__<desc>.sql, R__<desc>.sql, U<ver>__<desc>.sql ---------------------- */

/* Length of the version after V or U; 0 when there is none. */
static size_t flyway_version_len(const char *entry)
{
    size_t vl = 0;
    return mig_flyway_version(entry + 1, &vl) ? vl : 0;
}

static mig_role flyway_role(const mig_format *f, const char *entry)
{
    if (dbm_starts_with(entry, "R__"))
        return MIG_ROLE_REPEATABLE;
    if ((entry[0] != 'V' && entry[0] != 'U') || flyway_version_len(entry) == 0)
        return MIG_ROLE_NONE;
    return entry[0] == 'V' ? MIG_ROLE_UP : MIG_ROLE_DOWN;
}

/* A repeatable's version is its name without the suffix; a versioned one's has '_' as '.'. */
static char *flyway_version(const mig_format *f, const char *entry)
{
    if (entry[0] == 'R')
        return dbm_xstrndup(entry, strlen(entry) - strlen(f->up));
    return dup_replacing(entry + 1, flyway_version_len(entry), '_', '.');
}

/* The description, with '_' as ' '. */
static char *flyway_name(const mig_format *f, const char *entry)
{
    size_t n = strlen(entry) - strlen(f->up), start = 3;

    if (entry[0] != 'R')
        start = 1 + flyway_version_len(entry) + 2;
    return dup_replacing(entry + start, n - start, '_', ' ');
}

const mig_syntax mig_syntax_flyway = {flyway_role, flyway_version, flyway_name};

/* ---- folders: Prisma's whole name, diesel's prefix without dashes ----------------------- */

static char *folder_version(const mig_format *f, const char *entry)
{
    return dbm_xstrdup(entry);
}

const mig_syntax mig_syntax_folder = {role_up, folder_version, name_after_underscore};

static char *diesel_version(const mig_format *f, const char *entry)
{
    const char *us = strchr(entry, '_');
    size_t vl = us ? (size_t)(us - entry) : strlen(entry), w = 0;
    char *version = dbm_xmalloc(vl + 1);

    for (size_t k = 0; k < vl; k++)
        if (entry[k] != '-')
            version[w++] = entry[k];
    version[w] = '\0';
    return version;
}

const mig_syntax mig_syntax_diesel = {role_up, diesel_version, name_after_underscore};
