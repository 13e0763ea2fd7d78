/*
 * sqlx (launchbadge/sqlx): the parts of its row that are its own.
 *
 * From sqlx-core/src/migrate/source.rs (resolve_blocking) and
 * sqlx-core/src/migrate/migration_type.rs: a migration is a file named
 * <VERSION>_<DESCRIPTION>.sql, the text before the first '_' parsed as an
 * i64 (a file whose prefix does not parse stops sqlx), ".up.sql"/".down.sql"
 * for a reversible pair; files without '_' or ".sql" are ignored; order is
 * the i64 version; a file whose text starts at its first byte with
 * "-- no-transaction" runs outside a transaction.
 */
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "migration/format.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The '_' that ends the version, when the name is <something>_<something>.sql. */
static const char *version_end(const char *entry)
{
    const char *us = strchr(entry, '_');
    return us && mig_ends_with(entry, strlen(entry), ".sql") ? us : NULL;
}

static mig_role sqlx_role(const mig_format *f, const char *entry)
{
    const char *us = version_end(entry);

    if (!us || mig_leading_digits(entry) != (size_t)(us - entry))
        return MIG_ROLE_NONE;
    return mig_ends_with(entry, strlen(entry), ".down.sql") ? MIG_ROLE_DOWN : MIG_ROLE_UP;
}

static char *sqlx_version(const mig_format *f, const char *entry)
{
    return dbm_xstrndup(entry, (size_t)(strchr(entry, '_') - entry));
}

/* The description: after the first '_', without ".up.sql" or ".sql". */
static char *sqlx_name(const mig_format *f, const char *entry)
{
    const char *start = strchr(entry, '_') + 1;
    size_t n = strlen(start);

    n -= mig_ends_with(start, n, ".up.sql") ? strlen(".up.sql") : strlen(".sql");
    return dbm_xstrndup(start, n);
}

const mig_syntax mig_syntax_sqlx = {sqlx_role, sqlx_version, sqlx_name};

/* Whether the digits s[0, n) fit an i64 (sqlx parses the version with str::parse::<i64>). */
static bool fits_i64(const char *s, size_t n)
{
    uint64_t v = 0;

    for (size_t i = 0; i < n; i++) {
        if (v > (uint64_t)INT64_MAX / 10)
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
        if (v > (uint64_t)INT64_MAX)
            return false;
    }
    return true;
}

static int bad_version(const char *dir, const char *name)
{
    char *shown = dbm_printable(name);
    int rc = dbm_error_set(DBM_ECONFIG,
                           "'%s' in '%s': sqlx reads the text before the first '_' as the "
                           "version, a 64-bit integer",
                           shown, dir);
    dbm_error_hint("name sqlx migrations <version>_<description>.sql with a numeric version "
                   "(sqlx migrate add writes them)");
    free(shown);
    return rc;
}

int mig_sqlx_each(dbm_migration *m, const mig_entry *e, const char *dir)
{
    if (!fits_i64(m->version, strlen(m->version)))
        return bad_version(dir, e->name);
    /* sqlx: sql.starts_with("-- no-transaction"), the first bytes of the file only */
    if (e->len >= 17 && memcmp(e->text, "-- no-transaction", 17) == 0)
        m->no_transaction = true;
    return 0;
}

/* A file sqlx would take for a migration but cannot parse the version of stops sqlx: refuse. */
int mig_sqlx_other(const mig_entry *e, const char *dir)
{
    if (e->is_dir || !version_end(e->name))
        return 0;
    return bad_version(dir, e->name);
}
