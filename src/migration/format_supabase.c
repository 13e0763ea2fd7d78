/*
 * Supabase CLI (supabase/cli): the parts of its row that are its own.
 *
 * From pkg/migration/file.go (migrateFilePattern, ExecBatch) and
 * pkg/migration/apply.go (ApplyMigrations, FindPendingMigrations): a
 * migration is supabase/migrations/<digits>_<name>.sql, its version the
 * digits, applied in file name order and compared with the history's
 * versions as strings; each file is sent with its history insert as one
 * batch (one implicit transaction), after RESET ALL. A first file
 * <14 digits>_init.sql older than 20211209000000 is the CLI's own old
 * initial schema and is skipped (pkg/migration/list.go).
 */
#include "common/log.h"
#include "common/util.h"
#include "migration/format.h"

#include <stdlib.h>
#include <string.h>

/* Whether the first migration is the CLI's old <timestamp>_init.sql, which it skips. */
static bool old_init(const dbm_migration *m)
{
    return strlen(m->version) == 14 && strcmp(m->name, "init") == 0 &&
           strcmp(m->version, "20211209000000") < 0;
}

int mig_supabase_order(mig_item_list *items, const mig_format *f, int dfd, const char *dir)
{
    mig_items_sort(items, f);
    /* apply.go: RESET ALL before each file, so no file sees another's SET */
    for (size_t i = 0; i < items->count; i++)
        items->items[i].m.reset_session = true;
    if (items->count > 0 && old_init(&items->items[0].m)) {
        char *shown = dbm_printable(items->items[0].m.path);
        dbm_warn("skipping '%s': the Supabase CLI skips an initial <timestamp>_init.sql "
                 "older than 20211209000000",
                 shown);
        free(shown);
        mig_item_drop(items, 0);
    }
    return 0;
}

/* The CLI skips .sql files not named <digits>_<name>.sql: say so. */
int mig_supabase_other(const mig_entry *e, const char *dir)
{
    size_t n = strlen(e->name);

    if (!e->is_dir && mig_ends_with(e->name, n, ".sql") && mig_leading_digits(e->name) > 0) {
        char *shown = dbm_printable(e->name);
        dbm_warn("skipping '%s': not named <version>_<name>.sql", shown);
        free(shown);
    }
    return 0;
}
