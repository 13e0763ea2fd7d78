#include "unit.h"

#include "common/error.h"
#include "sql/rules.h"
#include "sql/parse.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Hits for `sql` (one section); lock_timeout_configured unless said otherwise. */
static dbm_rule_hits *check(const char *sql, bool lock_timeout_configured)
{
    dbm_stmt_list *list = NULL;
    dbm_rule_hits *hits = NULL;
    dbm_rules_options opts = {lock_timeout_configured, NULL, NULL};
    int line, col;

    if (dbm_sql_split(&list, &line, &col, sql, strlen(sql)) != 0)
        fail_msg("split failed: %s: %s", sql, dbm_error_message());
    assert_int_equal(dbm_rules_check(&hits, list, sql, strlen(sql), &opts), 0);
    assert_non_null(hits);
    dbm_stmt_list_free(list);
    return hits;
}

static size_t count_rule(const dbm_rule_hits *hits, const char *rule)
{
    size_t n = 0;
    for (size_t i = 0; i < hits->count; i++)
        if (strcmp(hits->items[i].rule, rule) == 0)
            n++;
    return n;
}

static void show(const char *sql, const dbm_rule_hits *hits)
{
    fprintf(stderr, "hits for: %s\n", sql);
    for (size_t i = 0; i < hits->count; i++)
        fprintf(stderr, "  %s %d:%d %s\n", hits->items[i].rule, hits->items[i].line,
                hits->items[i].col, hits->items[i].message);
}

/* For each rule, statements that trigger it and close ones that must not. */
static void each_rule_fires_only_where_it_should(void **state)
{
    static const struct {
        const char *rule;
        const char *sql;
        bool fires;
    } cases[] = {
        {"index-without-concurrently", "CREATE INDEX i ON users (email)", true},
        {"index-without-concurrently", "CREATE UNIQUE INDEX ON s.users (lower(email))", true},
        {"index-without-concurrently", "CREATE INDEX CONCURRENTLY i ON users (email)", false},
        {"index-without-concurrently",
         "CREATE TABLE users (id int, email text); CREATE INDEX i ON users (email)", false},
        {"index-without-concurrently",
         "CREATE TABLE s.users (id int); CREATE INDEX i ON users (id)", false},
        {"index-without-concurrently",
         "CREATE TABLE a.users (id int); CREATE INDEX i ON b.users (id)", true},

        {"not-null-column-without-default", "ALTER TABLE t ADD COLUMN c int NOT NULL", true},
        {"not-null-column-without-default", "ALTER TABLE t ADD COLUMN c int NOT NULL DEFAULT 0",
         false},
        {"not-null-column-without-default", "ALTER TABLE t ADD COLUMN c int", false},
        {"not-null-column-without-default",
         "CREATE TABLE t (a int); ALTER TABLE t ADD COLUMN c int NOT NULL", false},

        {"volatile-default", "ALTER TABLE t ADD COLUMN c timestamptz DEFAULT clock_timestamp()",
         true},
        {"volatile-default", "ALTER TABLE t ADD COLUMN c uuid NOT NULL DEFAULT gen_random_uuid()",
         true},
        {"volatile-default", "ALTER TABLE t ADD COLUMN c float DEFAULT (random() * 10)", true},
        {"volatile-default", "ALTER TABLE t ADD COLUMN c bigint DEFAULT nextval('s')", true},
        {"volatile-default", "ALTER TABLE t ADD COLUMN id bigserial", true},
        {"volatile-default", "ALTER TABLE t ADD COLUMN id int GENERATED ALWAYS AS IDENTITY", true},
        {"volatile-default", "ALTER TABLE t ADD COLUMN c timestamptz NOT NULL DEFAULT now()",
         false}, /* now() is stable: evaluated once, no rewrite */
        {"volatile-default", "ALTER TABLE t ADD COLUMN g int GENERATED ALWAYS AS (a * 2) STORED",
         true},
        /* PostgreSQL 18: virtual, the default kind, is computed when read */
        {"volatile-default", "ALTER TABLE t ADD COLUMN g int GENERATED ALWAYS AS (a * 2) VIRTUAL",
         false},
        {"volatile-default", "ALTER TABLE t ADD COLUMN g int GENERATED ALWAYS AS (a * 2)", false},
        {"not-null-column-without-default",
         "ALTER TABLE t ADD COLUMN g int NOT NULL GENERATED ALWAYS AS (a * 2) VIRTUAL", false},
        {"volatile-default", "ALTER TABLE t ADD COLUMN c text DEFAULT 'x'", false},
        {"volatile-default", "ALTER TABLE t ADD COLUMN c text DEFAULT lower('X')", false},
        {"volatile-default", "ALTER TABLE t ADD COLUMN c date DEFAULT CURRENT_DATE", false},
        /* a user function is VOLATILE unless declared otherwise */
        {"volatile-default", "ALTER TABLE t ADD COLUMN c text NOT NULL DEFAULT random_string(26)",
         true},

        {"set-not-null", "ALTER TABLE t ALTER COLUMN c SET NOT NULL", true},
        {"set-not-null",
         "ALTER TABLE t VALIDATE CONSTRAINT t_c_not_null; ALTER TABLE t ALTER COLUMN c SET NOT "
         "NULL",
         false},
        {"set-not-null", "ALTER TABLE t ALTER COLUMN c DROP NOT NULL", false},
        /* PostgreSQL 18: a NOT NULL table constraint, validated at once or NOT VALID */
        {"set-not-null", "ALTER TABLE t ADD CONSTRAINT c_nn NOT NULL c", true},
        {"set-not-null", "ALTER TABLE t ADD CONSTRAINT c_nn NOT NULL c NOT VALID", false},
        {"set-not-null",
         "ALTER TABLE t VALIDATE CONSTRAINT t_c_not_null; ALTER TABLE t ADD NOT NULL c", false},
        {"set-not-null", "CREATE TABLE t (c int); ALTER TABLE t ADD NOT NULL c", false},

        {"constraint-without-not-valid", "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0)", true},
        {"constraint-without-not-valid",
         "ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (u) REFERENCES u (id)", true},
        {"constraint-without-not-valid", "ALTER TABLE t ADD FOREIGN KEY (u) REFERENCES u", true},
        {"constraint-without-not-valid", "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT VALID",
         false},
        {"constraint-without-not-valid",
         "ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (u) REFERENCES u (id) NOT VALID", false},
        {"constraint-without-not-valid", "ALTER TABLE t VALIDATE CONSTRAINT c", false},

        {"unique-without-using-index", "ALTER TABLE t ADD CONSTRAINT u UNIQUE (a)", true},
        {"unique-without-using-index", "ALTER TABLE t ADD PRIMARY KEY (id)", true},
        {"unique-without-using-index", "ALTER TABLE t ADD CONSTRAINT u UNIQUE USING INDEX i",
         false},
        {"unique-without-using-index", "ALTER TABLE t ADD CONSTRAINT p PRIMARY KEY USING INDEX i",
         false},

        {"alter-column-type", "ALTER TABLE t ALTER COLUMN c TYPE bigint", true},
        {"alter-column-type", "ALTER TABLE t ALTER c SET DATA TYPE varchar(200)", true},
        {"alter-column-type", "ALTER TABLE t ALTER COLUMN c SET DEFAULT 1", false},
        {"alter-column-type", "CREATE TABLE t (c int); ALTER TABLE t ALTER COLUMN c TYPE bigint",
         false},

        {"drop-column", "ALTER TABLE t DROP COLUMN c", true},
        {"drop-column", "ALTER TABLE t DROP COLUMN IF EXISTS c CASCADE", true},
        {"drop-column", "ALTER TABLE t DROP CONSTRAINT c", false},

        {"drop-table", "DROP TABLE t", true},
        {"drop-table", "DROP TABLE IF EXISTS a, s.b", true},
        {"drop-table", "DROP VIEW v", false},
        {"drop-table", "CREATE TABLE tmp (a int); DROP TABLE tmp", false},

        {"rename-column", "ALTER TABLE t RENAME COLUMN a TO b", true},
        {"rename-column", "ALTER TABLE t RENAME a TO b", true},
        {"rename-column", "ALTER TABLE t RENAME CONSTRAINT a TO b", false},
        {"rename-column", "ALTER VIEW v RENAME COLUMN a TO b", false},

        {"rename-table", "ALTER TABLE t RENAME TO u", true},
        {"rename-table", "ALTER INDEX i RENAME TO j", false},
        {"rename-table", "CREATE TABLE t (a int); ALTER TABLE t RENAME TO u", false},

        {"enum-value-change", "ALTER TYPE mood RENAME VALUE 'sad' TO 'blue'", true},
        {"enum-value-change",
         "ALTER TYPE mood RENAME TO mood_old; CREATE TYPE mood AS ENUM ('a', 'b')", true},
        {"enum-value-change", "DROP TYPE mood; CREATE TYPE mood AS ENUM ('b', 'a')", true},
        {"enum-value-change", "ALTER TYPE mood ADD VALUE 'meh'", false},
        {"enum-value-change", "CREATE TYPE mood AS ENUM ('a')", false},
        {"enum-value-change", "DROP TYPE other; CREATE TYPE mood AS ENUM ('a')", false},

        {"vacuum-full", "VACUUM FULL t", true},
        {"vacuum-full", "VACUUM (FULL, ANALYZE) t", true},
        {"vacuum-full", "VACUUM (FULL false) t", false},
        {"vacuum-full", "VACUUM ANALYZE t", false},

        {"cluster", "CLUSTER t USING t_pkey", true},
        {"cluster", "CLUSTER", true},
        {"cluster", "ALTER TABLE t CLUSTER ON t_pkey", false},

        {"lock-table", "LOCK TABLE t IN ACCESS EXCLUSIVE MODE", true},
        {"lock-table", "LOCK t", true},
        {"lock-table", "SELECT * FROM t FOR UPDATE", false},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        dbm_rule_hits *hits = check(cases[i].sql, true);
        size_t n = count_rule(hits, cases[i].rule);
        if ((n > 0) != cases[i].fires) {
            show(cases[i].sql, hits);
            fail_msg("%s: %s %s", cases[i].rule, cases[i].fires ? "did not fire" : "fired",
                     cases[i].sql);
        }
        for (size_t k = 0; k < hits->count; k++) {
            assert_non_null(hits->items[k].message);
            assert_non_null(hits->items[k].hint);
            assert_non_null(dbm_rule_find(hits->items[k].rule));
        }
        dbm_rule_hits_free(hits);
    }
}

static void lock_timeout_rule_needs_no_config_and_no_set(void **state)
{
    static const struct {
        const char *sql;
        bool configured;
        size_t fires;
    } cases[] = {
        {"ALTER TABLE t ADD COLUMN c int", false, 1},
        {"ALTER TABLE t ADD COLUMN c int", true, 0},
        {"SET lock_timeout = '3s'; ALTER TABLE t ADD COLUMN c int", false, 0},
        {"SET LOCAL lock_timeout TO 3000; ALTER TABLE t ADD COLUMN c int", false, 0},
        {"SET lock_timeout = 0; ALTER TABLE t ADD COLUMN c int", false, 1},
        {"SET lock_timeout = '2s'; RESET lock_timeout; DROP TABLE t", false, 1},
        {"ALTER TABLE t ADD COLUMN c int; SET lock_timeout = '3s'", false, 1},
        /* once per section */
        {"ALTER TABLE t ADD COLUMN c int; ALTER TABLE t ADD COLUMN d int; TRUNCATE t", false, 1},
        /* weaker locks, or nothing old to lock */
        {"ALTER TABLE t VALIDATE CONSTRAINT c", false, 0},
        {"ALTER TABLE t ADD CONSTRAINT f FOREIGN KEY (u) REFERENCES u NOT VALID", false, 0},
        {"CREATE INDEX CONCURRENTLY i ON t (a)", false, 0},
        {"CREATE TABLE n (a int); ALTER TABLE n ADD COLUMN b int", false, 0},
        {"INSERT INTO t VALUES (1)", false, 0},
        {"DROP INDEX CONCURRENTLY i", false, 0},
        {"DROP INDEX i", false, 1},
        {"TRUNCATE t", false, 1},
        {"LOCK TABLE t IN SHARE MODE", false, 0},
        {"ALTER TABLE t RENAME TO u", false, 1},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        dbm_rule_hits *hits = check(cases[i].sql, cases[i].configured);
        size_t n = count_rule(hits, "missing-lock-timeout");
        if (n != cases[i].fires) {
            show(cases[i].sql, hits);
            fail_msg("missing-lock-timeout: %zu hits, want %zu: %s", n, cases[i].fires,
                     cases[i].sql);
        }
        dbm_rule_hits_free(hits);
    }
}

static void ignore_comment_silences_named_rules(void **state)
{
    static const struct {
        const char *sql;
        size_t drop_column_hits;
    } cases[] = {
        {"ALTER TABLE t DROP COLUMN a;", 1},
        {"-- db-migrate:ignore drop-column\nALTER TABLE t DROP COLUMN a;", 0},
        {"-- db-migrate:ignore rename-table, drop-column\nALTER TABLE t DROP COLUMN a;", 0},
        {"-- db-migrate:ignore drop-column,rename-table\nALTER TABLE t DROP COLUMN a;", 0},
        {"ALTER TABLE t DROP COLUMN a; -- db-migrate:ignore drop-column\n", 0},
        {"ALTER TABLE t -- db-migrate:ignore drop-column\n  DROP COLUMN a;", 0},
        {"/* db-migrate:ignore drop-column */\nALTER TABLE t DROP COLUMN a;", 0},
        /* other rule named, or too far away, or belongs to the statement before */
        {"-- db-migrate:ignore drop-table\nALTER TABLE t DROP COLUMN a;", 1},
        {"-- db-migrate:ignore drop-column\n\nALTER TABLE t DROP COLUMN a;", 1},
        {"-- db-migrate:ignore drop-columns\nALTER TABLE t DROP COLUMN a;", 1},
        {"SELECT 1; -- db-migrate:ignore drop-column\nALTER TABLE t DROP COLUMN a;", 1},
        {"-- db-migrate:ignore drop-column\nALTER TABLE t DROP COLUMN a;\nALTER TABLE t DROP "
         "COLUMN b;",
         1},
        /* the mark inside a string is not a comment */
        {"SELECT '-- db-migrate:ignore drop-column'\n; ALTER TABLE t DROP COLUMN a;", 1},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        dbm_rule_hits *hits = check(cases[i].sql, true);
        size_t n = count_rule(hits, "drop-column");
        if (n != cases[i].drop_column_hits) {
            show(cases[i].sql, hits);
            fail_msg("%zu drop-column hits, want %zu: %s", n, cases[i].drop_column_hits,
                     cases[i].sql);
        }
        dbm_rule_hits_free(hits);
    }
}

/* Many statements and ignore comments: each comment silences only its own statement. */
static void ignores_in_a_long_section_find_their_statements(void **state)
{
    dbm_buf b = DBM_BUF_INIT;
    dbm_rule_hits *hits;

    for (int k = 0; k < 300; k++) {
        if (k % 3 == 0)
            dbm_buf_printf(&b, "-- db-migrate:ignore drop-column\nALTER TABLE t DROP COLUMN c%d;\n",
                           k);
        else if (k % 3 == 1)
            dbm_buf_printf(&b, "ALTER TABLE t DROP COLUMN c%d; -- db-migrate:ignore drop-column\n",
                           k);
        else
            dbm_buf_printf(&b, "-- db-migrate:ignore drop-table\nALTER TABLE t DROP COLUMN c%d;\n",
                           k);
    }
    hits = check(b.ptr, true);
    assert_int_equal(hits->count, 100);
    for (size_t g = 0; g < 100; g++) {
        assert_string_equal(hits->items[g].rule, "drop-column");
        assert_int_equal(hits->items[g].stmt, 3 * g + 2);
        assert_int_equal(hits->items[g].line, (int)(5 * g + 5));
    }
    dbm_rule_hits_free(hits);
    dbm_buf_free(&b);
}

/* Once the trees are dropped there is nothing to check: an error, not a crash. */
static void dropped_trees_are_an_error(void **state)
{
    const char *sql = "ALTER TABLE t DROP COLUMN a;";
    dbm_stmt_list *list = NULL;
    dbm_rule_hits *hits = NULL;
    int line, col;

    assert_int_equal(dbm_sql_split(&list, &line, &col, sql, strlen(sql)), 0);
    dbm_stmt_list_drop_trees(list);
    assert_int_equal(dbm_rules_check(&hits, list, sql, strlen(sql), NULL), DBM_EGENERIC);
    assert_null(hits);
    dbm_stmt_list_free(list);
}

static void hit_names_statement_position(void **state)
{
    const char *sql = "CREATE TABLE a (x int);\n\n-- add it\n   ALTER TABLE b\n  DROP COLUMN c;";
    dbm_rule_hits *hits = check(sql, true);

    assert_int_equal(hits->count, 1);
    assert_string_equal(hits->items[0].rule, "drop-column");
    assert_int_equal(hits->items[0].stmt, 1);
    assert_int_equal(hits->items[0].line, 4);
    assert_int_equal(hits->items[0].col, 4);
    assert_string_equal(hits->items[0].message, "column \"b\".\"c\" is dropped");
    dbm_rule_hits_free(hits);
}

/*
 * A section over DBM_SQL_TREE_MAX keeps its statements as JSON text, loaded one
 * at a time: the rules must find the same hits, at the same statements, as in
 * a small one.
 */
static void large_section_is_checked_from_text(void **state)
{
    dbm_buf b = DBM_BUF_INIT;
    dbm_stmt_list *list = NULL;
    dbm_rule_hits *hits = NULL;
    dbm_rules_options opts = {true, NULL, NULL};
    size_t n = 0;
    int line, col;

    dbm_buf_printf(&b, "CREATE TABLE t (id int, c int);\n");
    while (b.len <= DBM_SQL_TREE_MAX)
        dbm_buf_printf(&b, "INSERT INTO t (id) VALUES (%zu);\n", n++);
    dbm_buf_printf(&b, "ALTER TABLE u DROP COLUMN c;\n");
    assert_int_equal(dbm_sql_split(&list, &line, &col, b.ptr, b.len), 0);
    assert_int_equal(list->count, n + 2);
    assert_null(list->items[n + 1].tree);
    assert_non_null(list->items[n + 1].json);
    assert_int_equal(dbm_rules_check(&hits, list, b.ptr, b.len, &opts), 0);
    assert_int_equal(hits->count, 1);
    assert_string_equal(hits->items[0].rule, "drop-column");
    assert_int_equal(hits->items[0].stmt, n + 1);
    assert_int_equal(hits->items[0].line, (int)n + 2);
    dbm_rule_hits_free(hits);
    dbm_stmt_list_drop_trees(list);
    assert_null(list->items[n + 1].json);
    assert_int_equal(dbm_rules_check(&hits, list, b.ptr, b.len, &opts), DBM_EGENERIC);
    dbm_stmt_list_free(list);
    dbm_buf_free(&b);
}

static bool new_if_fresh(void *ctx, const char *schema, const char *name)
{
    return strcmp(name, (const char *)ctx) == 0;
}

static void callback_marks_tables_from_earlier_migrations(void **state)
{
    const char *sql = "CREATE INDEX i ON fresh (a); CREATE INDEX j ON old (a);";
    dbm_stmt_list *list = NULL;
    dbm_rule_hits *hits = NULL;
    dbm_rules_options opts = {true, new_if_fresh, (void *)"fresh"};
    int line, col;

    assert_int_equal(dbm_sql_split(&list, &line, &col, sql, strlen(sql)), 0);
    assert_int_equal(dbm_rules_check(&hits, list, sql, strlen(sql), &opts), 0);
    assert_int_equal(hits->count, 1);
    assert_int_equal(hits->items[0].stmt, 1);
    dbm_rule_hits_free(hits);
    dbm_stmt_list_free(list);
}

static void rule_table_is_complete(void **state)
{
    size_t n = 0;
    for (const struct dbm_rule_info *r = dbm_rules; r->id; r++, n++) {
        assert_non_null(r->summary);
        assert_non_null(r->safe_alternative);
        assert_ptr_equal(dbm_rule_find(r->id), r);
    }
    assert_int_equal(n, 16);
    assert_null(dbm_rule_find("no-such-rule"));
    dbm_rule_hits_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(each_rule_fires_only_where_it_should),
        cmocka_unit_test(lock_timeout_rule_needs_no_config_and_no_set),
        cmocka_unit_test(ignore_comment_silences_named_rules),
        cmocka_unit_test(ignores_in_a_long_section_find_their_statements),
        cmocka_unit_test(dropped_trees_are_an_error),
        cmocka_unit_test(large_section_is_checked_from_text),
        cmocka_unit_test(hit_names_statement_position),
        cmocka_unit_test(callback_marks_tables_from_earlier_migrations),
        cmocka_unit_test(rule_table_is_complete),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
