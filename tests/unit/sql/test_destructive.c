#include "unit.h"

#include "sql/destructive.h"
#include "sql/parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The destructive statements of sql, one "WHAT object [rows] [cascade] @line" per entry. */
static char *listing(const char *sql)
{
    dbm_stmt_list *stmts = NULL;
    dbm_destructive_list *l = NULL;
    int line = 0, col = 0;
    size_t cap = 4096, off = 0;
    char *out = calloc(1, cap);

    assert_int_equal(dbm_sql_split(&stmts, &line, &col, sql, strlen(sql)), 0);
    dbm_sql_destructive(&l, stmts);
    for (size_t i = 0; i < l->count; i++) {
        const dbm_destructive *d = &l->items[i];
        off += (size_t)snprintf(out + off, cap - off, "%s%s %s%s%s%s @%d", i ? "; " : "", d->what,
                                d->object, d->all_rows ? " all-rows" : "", d->table ? " table" : "",
                                d->cascade ? " cascade" : "", d->line);
    }
    dbm_destructive_list_free(l);
    dbm_stmt_list_free(stmts);
    return out;
}

static void destructive_statements_are_found_in_the_parse_tree(void **state)
{
    static const struct {
        const char *sql, *want;
    } cases[] = {
        {"DROP TABLE users;", "DROP TABLE users all-rows table @1"},
        {"DROP TABLE IF EXISTS app.a, b CASCADE;",
         "DROP TABLE app.a all-rows table cascade @1; DROP TABLE b all-rows table cascade @1"},
        {"ALTER TABLE users DROP COLUMN email, ADD COLUMN x int;", "DROP COLUMN users.email @1"},
        {"ALTER TABLE app.users DROP COLUMN email CASCADE;",
         "DROP COLUMN app.users.email cascade @1"},
        {"TRUNCATE a, app.b;", "TRUNCATE a all-rows table @1; TRUNCATE app.b all-rows table @1"},
        {"DELETE FROM a;\nDELETE FROM a WHERE id > 1;",
         "DELETE a all-rows table @1; DELETE a table @2"},
        {"DROP SCHEMA app CASCADE;", "DROP SCHEMA app cascade @1"},
        {"DROP TYPE mood;", "DROP TYPE mood @1"},
        {"DROP MATERIALIZED VIEW mv;", "DROP MATERIALIZED VIEW mv @1"},
        {"DROP SEQUENCE s;", "DROP SEQUENCE s @1"},
        {"DROP EXTENSION pgcrypto;", "DROP EXTENSION pgcrypto @1"},
        /* What a migration rebuilds loses no data; text in comments and strings is no statement. */
        {"DROP INDEX CONCURRENTLY ix;\nDROP VIEW v;\nDROP FUNCTION f();", ""},
        {"-- DROP TABLE users;\nSELECT 'DROP TABLE users';", ""},
        {"CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);", ""},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = listing(cases[i].sql);
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("%s\n got: %s\nwant: %s", cases[i].sql, got, cases[i].want);
        free(got);
    }
}

static void no_statements_give_an_empty_list(void **state)
{
    dbm_destructive_list *l = NULL;

    dbm_sql_destructive(&l, NULL);
    assert_int_equal(l->count, 0);
    dbm_destructive_list_free(l);
    dbm_destructive_list_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(destructive_statements_are_found_in_the_parse_tree),
        cmocka_unit_test(no_statements_give_an_empty_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
