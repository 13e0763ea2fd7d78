/*
 * Drizzle (drizzle-team/drizzle-orm): the parts of its row that are its own.
 *
 * From drizzle-orm/src/migrator.ts (readMigrationFiles): the migrations are
 * the entries of meta/_journal.json, in the journal's order, each the file
 * <tag>.sql (a missing one stops drizzle; a .sql file the journal does not
 * name never runs); the text, CRLF turned into LF, is split at
 * "--> statement-breakpoint" and hashed (SHA-256) for the history row, whose
 * created_at is the entry's "when". From drizzle-orm/src/pg-core/dialect.ts
 * (migrate): an entry runs when its "when" exceeds the largest created_at
 * recorded, all pending ones in one transaction.
 *
 * db-migrate keeps the journal's order and membership and records each
 * migration by version (the tag's leading digits), so an entry whose "when"
 * goes backwards still runs here; it is named in a warning, since drizzle
 * itself would skip it on a database that recorded a later one.
 */
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "migration/format.h"
#include "migration/read.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#define JOURNAL "meta/_journal.json"

static mig_role drizzle_role(const mig_format *f, const char *entry)
{
    return MIG_ROLE_UP;
}

/* The tag's leading digits (its journal index, or drizzle-kit's timestamp prefix), else the tag. */
static char *drizzle_version(const mig_format *f, const char *entry)
{
    size_t d = mig_leading_digits(entry);

    if (d > 0 && entry[d] == '_')
        return dbm_xstrndup(entry, d);
    return dbm_xstrndup(entry, strlen(entry) - strlen(".sql"));
}

static char *drizzle_name(const mig_format *f, const char *entry)
{
    size_t d = mig_leading_digits(entry), n = strlen(entry) - strlen(".sql");

    if (d > 0 && entry[d] == '_')
        return dbm_xstrndup(entry + d + 1, n - d - 1);
    return dbm_xstrndup(entry, n);
}

const mig_syntax mig_syntax_drizzle = {drizzle_role, drizzle_version, drizzle_name};

static int journal_error(const char *dir, const char *what)
{
    int rc = dbm_error_set(DBM_ECONFIG, "'%s/" JOURNAL "': %s", dir, what);
    dbm_error_hint("drizzle-kit generate writes the journal; restore it from version control");
    return rc;
}

/* The journal's text parsed; its "entries" array borrowed into *entries. */
static int read_journal(json_t **out, json_t **entries, int dfd, const char *dir)
{
    char *text = NULL, *what;
    size_t len;
    json_error_t jerr;
    int rc;

    *out = NULL;
    if ((rc = mig_read_text(&text, &len, dfd, dir, JOURNAL, false)) < 0)
        return rc;
    *out = json_loadb(text, len, 0, &jerr);
    free(text);
    if (!*out) {
        what = dbm_xasprintf("not JSON (line %d: %s)", jerr.line, jerr.text);
        rc = journal_error(dir, what);
        free(what);
        return rc;
    }
    *entries = json_object_get(*out, "entries");
    if (!json_is_array(*entries))
        return journal_error(dir, "no \"entries\" array");
    return 0;
}

/* The item loaded from `file`, by binary search (items are in entry name order), or -1. */
static long find_file(const mig_item_list *items, const char *file)
{
    size_t lo = 0, hi = items->count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(items->items[mid].sort_name, file);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

static void warn_backwards(const char *tag, const char *after)
{
    char *a = dbm_printable(tag), *b = dbm_printable(after);
    dbm_warn("'" JOURNAL "': '%s' has an earlier \"when\" than '%s' before it: drizzle skips it "
             "on a database that recorded '%s'; db-migrate runs it in journal order",
             a, b, b);
    free(a);
    free(b);
}

/* Each journal entry's item, in journal order, into `ordered`; used[] marks the items taken. */
static int take_entries(mig_item_list *ordered, bool *used, mig_item_list *items, json_t *entries,
                        const char *dir)
{
    json_int_t max_when = 0;
    const char *max_tag = NULL;
    size_t i;
    json_t *entry;

    json_array_foreach(entries, i, entry)
    {
        const char *tag = json_string_value(json_object_get(entry, "tag"));
        json_t *when = json_object_get(entry, "when");
        char *file, *what;
        long k;

        if (!tag || !*tag || strchr(tag, '/'))
            return journal_error(dir, "an entry without a plain \"tag\"");
        file = dbm_xasprintf("%s.sql", tag);
        k = find_file(items, file);
        free(file);
        if (k < 0 || used[k]) {
            char *shown = dbm_printable(tag);
            what = dbm_xasprintf(k < 0 ? "names '%s' but %s.sql is missing"
                                       : "names '%s' twice (the file %s.sql runs once)",
                                 shown, shown);
            free(shown);
            k = journal_error(dir, what);
            free(what);
            return (int)k;
        }
        used[k] = true;
        dbm_array_grow((void **)&ordered->items, &ordered->cap, ordered->count + 1,
                       sizeof(mig_item));
        if (json_is_integer(when))
            items->items[k].m.tool_stamp = (long long)json_integer_value(when);
        ordered->items[ordered->count++] = items->items[k];
        if (json_is_integer(when) && max_tag && json_integer_value(when) <= max_when)
            warn_backwards(tag, max_tag);
        if (json_is_integer(when) && (!max_tag || json_integer_value(when) > max_when)) {
            max_when = json_integer_value(when);
            max_tag = tag;
        }
    }
    return 0;
}

int mig_drizzle_order(mig_item_list *items, const mig_format *f, int dfd, const char *dir)
{
    mig_item_list ordered = {NULL, 0, 0, NULL};
    json_t *journal = NULL, *entries = NULL;
    bool *used = dbm_xcalloc(items->count ? items->count : 1, sizeof(bool));
    int rc;

    if ((rc = read_journal(&journal, &entries, dfd, dir)) < 0 ||
        (rc = take_entries(&ordered, used, items, entries, dir)) < 0)
        goto done;
    /* what the journal does not name stays out, as with drizzle */
    for (size_t k = items->count; k-- > 0;) {
        if (used[k])
            continue;
        char *shown = dbm_printable(items->items[k].sort_name);
        dbm_warn("skipping '%s': not in " JOURNAL " (drizzle does not run it)", shown);
        free(shown);
        mig_item_drop(items, k);
    }
    /* the kept items now move to `ordered`: items keeps only what is freed with it */
    free(items->items);
    *items = ordered;
    ordered.items = NULL;
    rc = 0;
    for (size_t k = 1; k < items->count && rc == 0; k++)
        if (f->cmp(items->items[k - 1].m.version, items->items[k].m.version) > 0)
            rc = journal_error(dir, "entries are not in the order of their tags' numbers");
done:
    free(ordered.items);
    free(used);
    json_decref(journal);
    return rc;
}
