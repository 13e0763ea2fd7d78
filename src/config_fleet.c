/*
 * config_fleet.c - the fleet options read beside the targets: of
 * db-migrate.yml (DESIGN section 11): shard I/N, and the check that the fleet
 * options have targets to choose from.
 */
#include "config_fleet.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "config_file.h"

#include <stdlib.h>
#include <string.h>

#define SHARD_MAX 1000 /* shards of one fleet: a GitHub Actions matrix has at most 256 jobs */

/*
 * The number at *p: decimal digits, no sign, space or leading zero, at most
 * SHARD_MAX (a longer one is read as SHARD_MAX + 1, without overflowing). *p
 * moves past it. -1 when *p holds no such number.
 */
static long shard_number(const char **p)
{
    const char *s = *p;
    long v = 0;

    if (*s < '0' || *s > '9' || (s[0] == '0' && s[1] >= '0' && s[1] <= '9'))
        return -1;
    for (; *s >= '0' && *s <= '9'; s++)
        v = v > SHARD_MAX ? v : v * 10 + (*s - '0');
    *p = s;
    return v;
}

int dbm_config_read_shard(dbm_config *cfg, const char *v)
{
    const char *p = v, *why = NULL;
    long i, n;
    char *shown;

    if (!v || !*v)
        return 0;
    if ((i = shard_number(&p)) < 0 || *p++ != '/' || (n = shard_number(&p)) < 0 || *p)
        why = "write I/N with digits only (no space, sign or leading zero)";
    else if (n < 1 || i < 1)
        why = "I and N count from 1";
    else if (n > SHARD_MAX)
        why = "N is more than 1000"; /* SHARD_MAX */
    else if (i > n)
        why = "I is greater than N";
    if (!why) {
        cfg->shard_index = i;
        cfg->shard_count = n;
        return 0;
    }
    shown = dbm_printable(v);
    dbm_error_set(DBM_ECONFIG, "invalid value '%s' for shard: %s", shown, why);
    dbm_error_hint("give I/N, this job's index from 1 to N (N at most %d), e.g. "
                   "shard: ${{ matrix.shard }}/4",
                   SHARD_MAX);
    free(shown);
    return DBM_ECONFIG;
}

int dbm_config_check_fleet(const dbm_config *cfg, dbm_config_lookup_fn lookup, const void *pa)
{
    static const char *const names[] = {"targets", "shard", "parallel", "fail-fast"};
    const char *name = NULL;
    size_t n = 0;
    int error;

    if (!cfg->config_path)
        return 0;
    dbm_config_file_targets(cfg->file, &n);
    if (n > 0)
        return 0;
    /* fail-fast: false asks for nothing; every other value given chooses among targets */
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]) && !name; i++) {
        const char *v = lookup(pa, names[i]);
        if (v && *v && (strcmp(names[i], "fail-fast") || cfg->fail_fast))
            name = names[i];
    }
    if (!name)
        return 0;
    error = dbm_error_set(DBM_ECONFIG,
                          "option '%s' chooses among the targets: of the config file, and none "
                          "were loaded from '%s'%s; nothing was run",
                          name, cfg->config_path, cfg->file ? "" : ": no such file");
    dbm_error_hint("list the databases under targets: (docs/fleets.md), give --config FILE if "
                   "the file is elsewhere, or drop %s to run against database-url",
                   name);
    return error;
}
