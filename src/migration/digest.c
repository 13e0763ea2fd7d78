/*
 * digest.c - expect-migrations: versions and checksums, hashed in one place.
 */
#include "migration/digest.h"
#include "common/error.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PREFIX     "sha256:"
#define PREFIX_LEN 7
#define HEX_LEN    64

/* The newest versioned migration (repeatables run after them and carry no order). */
static const char *newest_version(const dbm_migration_set *set)
{
    for (size_t i = set->count; i > 0; i--)
        if (!set->items[i - 1].repeatable)
            return set->items[i - 1].version;
    return "";
}

char *dbm_migrations_digest(const dbm_migration_set *set)
{
    dbm_buf b = DBM_BUF_INIT;
    char hex[65];

    for (size_t i = 0; i < set->count; i++)
        dbm_buf_printf(&b, "%s\t%s\n", set->items[i].version, set->items[i].checksum);
    dbm_sha256_hex(hex, dbm_buf_cstr(&b), b.len);
    dbm_buf_free(&b);
    return dbm_xasprintf(PREFIX "%s:%zu:%s", hex, set->count, newest_version(set));
}

typedef struct {
    char hex[HEX_LEN + 1];
    unsigned long long count;
    const char *newest; /* into the parsed string */
} parsed_digest;

static int parse(parsed_digest *out, const char *s)
{
    char *end = NULL;

    if (strncmp(s, PREFIX, PREFIX_LEN) != 0 || strlen(s) < PREFIX_LEN + HEX_LEN + 2 ||
        s[PREFIX_LEN + HEX_LEN] != ':')
        goto bad;
    for (size_t i = 0; i < HEX_LEN; i++)
        if (!strchr("0123456789abcdef", s[PREFIX_LEN + i]))
            goto bad;
    memcpy(out->hex, s + PREFIX_LEN, HEX_LEN);
    out->hex[HEX_LEN] = '\0';
    s += PREFIX_LEN + HEX_LEN + 1;
    if (*s < '0' || *s > '9')
        goto bad;
    out->count = strtoull(s, &end, 10);
    if (*end != ':')
        goto bad;
    out->newest = end + 1;
    return 0;
bad:
    dbm_error_set(DBM_ECONFIG, "invalid value for expect-migrations: not a migrations digest");
    dbm_error_hint("pass the migrations_digest of the JSON report of a run on the same commit "
                   "(sha256:HEX:COUNT:NEWEST)");
    return DBM_ECONFIG;
}

/* "3 migrations up to 20240102000000", "no migrations". Caller frees. */
static char *describe(unsigned long long count, const char *newest)
{
    if (count == 0)
        return dbm_xstrdup("no migrations");
    return dbm_xasprintf("%llu migration%s up to %s", count, count == 1 ? "" : "s",
                         *newest ? newest : "(repeatables only)");
}

int dbm_migrations_expect(const dbm_migration_set *set, const char *expected)
{
    parsed_digest want, have;
    char *mine = dbm_migrations_digest(set);
    char *a = NULL, *b = NULL;
    int error;

    if ((error = parse(&want, expected)) < 0 || (error = parse(&have, mine)) < 0)
        goto done;
    if (strcmp(want.hex, have.hex) == 0 && want.count == have.count &&
        strcmp(want.newest, have.newest) == 0)
        goto done;
    a = describe(have.count, have.newest);
    b = describe(want.count, want.newest);
    if (want.count == have.count && strcmp(want.newest, have.newest) == 0)
        error = dbm_error_set(DBM_EBLOCKED,
                              "these migrations are not the ones expected: %s here as expected, "
                              "but a version or a file's content differs",
                              a);
    else
        error = dbm_error_set(
            DBM_EBLOCKED, "these migrations are not the ones expected: %s here, %s expected", a, b);
    dbm_error_hint("this image or directory holds other migration files than the commit "
                   "(a stale image?): deploy the image built from the commit, then run again");
done:
    free(a);
    free(b);
    free(mine);
    return error;
}
