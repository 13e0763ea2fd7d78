#include "unit.h"

#include "common/error.h"
#include "sql/parse.h"

#include <stdio.h>
#include <string.h>

/* Each statement's documented locks, as "schema.name mode" joined by ", " ("-" for no
 * schema): the table of sql/locks.c against the statements it was written from. */
static void documented_locks_follow_the_statement_type(void **state)
{
    static const struct {
        const char *sql;
        const char *want;
    } cases[] = {
        {"CREATE INDEX i ON t (a)", "-.t ShareLock"},
        {"CREATE INDEX CONCURRENTLY i ON s.t (a)", "s.t ShareUpdateExclusiveLock"},
        {"ALTER TABLE t ALTER COLUMN a TYPE bigint", "-.t AccessExclusiveLock"},
        {"ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (a) REFERENCES p (id)",
         "-.p ShareRowExclusiveLock, -.t ShareRowExclusiveLock"},
        {"ALTER TABLE t VALIDATE CONSTRAINT f", "-.t ShareUpdateExclusiveLock"},
        {"ALTER TABLE t VALIDATE CONSTRAINT f, ADD COLUMN b int", "-.t AccessExclusiveLock"},
        {"ALTER TABLE t DISABLE TRIGGER ALL", "-.t ShareRowExclusiveLock"},
        {"CREATE TRIGGER g BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()",
         "-.t ShareRowExclusiveLock"},
        {"TRUNCATE a, s.b", "-.a AccessExclusiveLock, s.b AccessExclusiveLock"},
        {"LOCK TABLE t IN SHARE MODE", "-.t ShareLock"},
        {"LOCK t", "-.t AccessExclusiveLock"},
        {"ALTER TABLE t RENAME COLUMN a TO b", "-.t AccessExclusiveLock"},
        {"UPDATE t SET a = 1", "-.t RowExclusiveLock"},
        {"ALTER INDEX i RENAME TO j", "-.i ShareUpdateExclusiveLock"},
        {"ALTER SEQUENCE q RESTART", ""},
        {"SELECT 1", ""},
        {"CREATE TABLE n (id int)", ""},
    };

    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        dbm_stmt_list *list = NULL;
        int line, col;
        char got[512] = "";
        size_t used = 0;

        assert_int_equal(dbm_sql_split(&list, &line, &col, cases[c].sql, strlen(cases[c].sql)), 0);
        assert_int_equal(list->count, 1);
        dbm_stmt_list_drop_trees(list);
        for (size_t i = 0; i < list->items[0].nlocks; i++) {
            const dbm_stmt_lock *l = &list->items[0].locks[i];
            used += (size_t)snprintf(got + used, sizeof(got) - used, "%s%s.%s %s", i ? ", " : "",
                                     l->schema ? l->schema : "-", l->name, l->mode);
        }
        if (strcmp(got, cases[c].want) != 0)
            fail_msg("%s: got '%s', want '%s'", cases[c].sql, got, cases[c].want);
        dbm_stmt_list_free(list);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(documented_locks_follow_the_statement_type),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
