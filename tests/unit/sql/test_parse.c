#include "unit.h"

#include "common/error.h"
#include "sql/parse.h"
#include "common/util.h"

#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAXS 6

static dbm_stmt_list *split_ok(const char *sql)
{
    dbm_stmt_list *list = NULL;
    int line = -1, col = -1;
    int rc = dbm_sql_split(&list, &line, &col, sql, strlen(sql));
    if (rc != 0)
        fail_msg("split failed: %s (line %d col %d) for: %s", dbm_error_message(), line, col, sql);
    assert_non_null(list);
    return list;
}

static char *stmt_text(const char *sql, const dbm_stmt *st)
{
    return dbm_xstrndup(sql + st->offset, st->len);
}

/* Boundaries: each case gives the exact text of each statement (first token up to
 * the ';'), so a wrong start or end shows as a string mismatch. */
static void split_finds_statement_boundaries(void **state)
{
    static const struct {
        const char *sql;
        size_t n;
        const char *text[MAXS];
    } cases[] = {
        {"SELECT 1; SELECT 2;", 2, {"SELECT 1", "SELECT 2"}},
        {"SELECT 1;\nSELECT 2", 2, {"SELECT 1", "SELECT 2"}}, /* missing final ';' */
        {"CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; SELECT 2 $$ LANGUAGE sql;",
         1,
         {"CREATE FUNCTION f() RETURNS int AS $$ SELECT 1; SELECT 2 $$ LANGUAGE sql"}},
        {"DO $body$ BEGIN PERFORM 1; END $body$; SELECT 3;",
         2,
         {"DO $body$ BEGIN PERFORM 1; END $body$", "SELECT 3"}},
        {"-- a; b\nSELECT 1; /* x; /* nested; */ y; */ SELECT 2;", 2, {"SELECT 1", "SELECT 2"}},
        {"INSERT INTO t VALUES ('a;b'); INSERT INTO t VALUES (E'c\\';d');",
         2,
         {"INSERT INTO t VALUES ('a;b')", "INSERT INTO t VALUES (E'c\\';d')"}},
        {"SELECT \"semi;colon\" FROM t;", 1, {"SELECT \"semi;colon\" FROM t"}},
        {"CREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; SELECT 2);",
         1,
         {"CREATE RULE r AS ON INSERT TO t DO ALSO (SELECT 1; SELECT 2)"}},
        {"SELECT 1;;; SELECT 2;", 2, {"SELECT 1", "SELECT 2"}},
        {"  \n\t-- only\n/* comments */\n", 0, {0}},
        {"", 0, {0}},
        {";", 0, {0}},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        dbm_stmt_list *list = split_ok(cases[i].sql);
        if (list->count != cases[i].n)
            fail_msg("case %zu: %zu statements, want %zu", i, list->count, cases[i].n);
        for (size_t j = 0; j < list->count; j++) {
            char *t = stmt_text(cases[i].sql, &list->items[j]);
            assert_string_equal(t, cases[i].text[j]);
            free(t);
        }
        dbm_stmt_list_free(list);
    }
}

/* One statement each: its flags and tag. */
static void split_classifies_statements(void **state)
{
    static const struct {
        const char *sql;
        unsigned flags;
        const char *tag;
    } cases[] = {
        /* refused inside a transaction block */
        {"CREATE INDEX CONCURRENTLY i ON t (a)", DBM_STMT_NO_TX, "CREATE INDEX"},
        {"create unique index concurrently if not exists i on t (a, b)", DBM_STMT_NO_TX,
         "CREATE INDEX"},
        {"DROP INDEX CONCURRENTLY IF EXISTS i", DBM_STMT_NO_TX, "DROP INDEX"},
        {"REINDEX INDEX CONCURRENTLY i", DBM_STMT_NO_TX, "REINDEX"},
        {"REINDEX (CONCURRENTLY) TABLE t", DBM_STMT_NO_TX, "REINDEX"},
        {"REINDEX (CONCURRENTLY false) TABLE t", 0, "REINDEX"},
        {"REINDEX TABLE t", 0, "REINDEX"},
        {"REINDEX SCHEMA s", DBM_STMT_NO_TX, "REINDEX"},
        {"REINDEX DATABASE d", DBM_STMT_NO_TX, "REINDEX"},
        {"REINDEX SYSTEM d", DBM_STMT_NO_TX, "REINDEX"},
        {"VACUUM", DBM_STMT_NO_TX, "VACUUM"},
        {"VACUUM FULL t", DBM_STMT_NO_TX, "VACUUM"},
        {"VACUUM (ANALYZE) t", DBM_STMT_NO_TX, "VACUUM"},
        {"ANALYZE t", 0, "ANALYZE"},
        {"CLUSTER", DBM_STMT_NO_TX, "CLUSTER"},
        {"CLUSTER t USING i", 0, "CLUSTER"},
        {"CREATE DATABASE d", DBM_STMT_NO_TX, "CREATE DATABASE"},
        {"DROP DATABASE IF EXISTS d", DBM_STMT_NO_TX, "DROP DATABASE"},
        {"ALTER DATABASE d SET TABLESPACE x", DBM_STMT_NO_TX, "ALTER DATABASE"},
        {"ALTER DATABASE d SET search_path = a", 0, "ALTER DATABASE"},
        {"ALTER SYSTEM SET work_mem = '64MB'", DBM_STMT_NO_TX, "ALTER SYSTEM"},
        {"CREATE TABLESPACE ts LOCATION '/x'", DBM_STMT_NO_TX, "CREATE TABLESPACE"},
        {"DROP TABLESPACE ts", DBM_STMT_NO_TX, "DROP TABLESPACE"},
        {"CREATE SUBSCRIPTION s CONNECTION 'c' PUBLICATION p", DBM_STMT_NO_TX,
         "CREATE SUBSCRIPTION"},
        {"CREATE SUBSCRIPTION s CONNECTION 'c' PUBLICATION p WITH (connect = false)", 0,
         "CREATE SUBSCRIPTION"},
        {"CREATE SUBSCRIPTION s CONNECTION 'c' PUBLICATION p WITH (create_slot = off)", 0,
         "CREATE SUBSCRIPTION"},
        {"CREATE SUBSCRIPTION s CONNECTION 'c' PUBLICATION p WITH (connect = false, "
         "create_slot)",
         DBM_STMT_NO_TX, "CREATE SUBSCRIPTION"},
        {"ALTER SUBSCRIPTION s REFRESH PUBLICATION", DBM_STMT_NO_TX, "ALTER SUBSCRIPTION"},
        {"ALTER SUBSCRIPTION s SET PUBLICATION p", DBM_STMT_NO_TX, "ALTER SUBSCRIPTION"},
        {"ALTER SUBSCRIPTION s SET PUBLICATION p WITH (refresh = false)", 0, "ALTER SUBSCRIPTION"},
        {"ALTER SUBSCRIPTION s DISABLE", 0, "ALTER SUBSCRIPTION"},
        {"DROP SUBSCRIPTION s", DBM_STMT_NO_TX, "DROP SUBSCRIPTION"},
        {"ALTER TABLE p DETACH PARTITION c CONCURRENTLY", DBM_STMT_NO_TX, "ALTER TABLE"},
        {"ALTER TABLE p DETACH PARTITION c", 0, "ALTER TABLE"},
        {"DISCARD ALL", DBM_STMT_NO_TX, "DISCARD ALL"},
        {"DISCARD PLANS", 0, "DISCARD PLANS"},
        {"COMMIT PREPARED 'g'", DBM_STMT_NO_TX, "COMMIT PREPARED"},
        {"ROLLBACK PREPARED 'g'", DBM_STMT_NO_TX, "ROLLBACK PREPARED"},
        /* allowed in a transaction block, but may end it */
        {"DO $$ BEGIN LOOP UPDATE t SET a = 1; COMMIT; EXIT; END LOOP; END $$", DBM_STMT_MAY_COMMIT,
         "DO"},
        {"do $b$ begin perform 1; rollback; end $b$", DBM_STMT_MAY_COMMIT, "DO"},
        {"DO $$ BEGIN PERFORM committed_total(); END $$", 0, "DO"},
        {"CALL refresh_all()", DBM_STMT_MAY_COMMIT, "CALL"},
        /* allowed in a transaction block */
        {"ALTER TYPE mood ADD VALUE 'meh'", 0, "ALTER TYPE"},
        {"REFRESH MATERIALIZED VIEW CONCURRENTLY v", 0, "REFRESH MATERIALIZED VIEW"},
        {"CREATE INDEX i ON t (a)", 0, "CREATE INDEX"},
        {"DROP INDEX i", 0, "DROP INDEX"},
        /* CONCURRENTLY where it is not a keyword of this statement */
        {"CREATE FUNCTION f() RETURNS void AS $$ BEGIN REFRESH MATERIALIZED VIEW CONCURRENTLY "
         "v; END $$ LANGUAGE plpgsql",
         0, "CREATE FUNCTION"},
        {"DO $x$ BEGIN EXECUTE 'CREATE INDEX CONCURRENTLY i ON t (a)'; END $x$", 0, "DO"},
        {"/* CREATE INDEX CONCURRENTLY i ON t (a); */ CREATE INDEX i ON t (a)", 0, "CREATE INDEX"},
        {"-- run CONCURRENTLY later\nSELECT 'CREATE INDEX CONCURRENTLY'", 0, "SELECT"},
        /* transaction control */
        {"BEGIN", DBM_STMT_TX_CONTROL, "BEGIN"},
        {"BEGIN ISOLATION LEVEL SERIALIZABLE", DBM_STMT_TX_CONTROL, "BEGIN"},
        {"START TRANSACTION", DBM_STMT_TX_CONTROL, "START TRANSACTION"},
        {"COMMIT", DBM_STMT_TX_CONTROL, "COMMIT"},
        {"END", DBM_STMT_TX_CONTROL, "COMMIT"},
        {"ROLLBACK", DBM_STMT_TX_CONTROL, "ROLLBACK"},
        {"ABORT", DBM_STMT_TX_CONTROL, "ROLLBACK"},
        {"PREPARE TRANSACTION 'g'", DBM_STMT_TX_CONTROL, "PREPARE TRANSACTION"},
        {"SAVEPOINT a", 0, "SAVEPOINT"},
        {"RELEASE SAVEPOINT a", 0, "RELEASE"},
        {"ROLLBACK TO SAVEPOINT a", 0, "ROLLBACK"},
        {"SET TRANSACTION ISOLATION LEVEL SERIALIZABLE", 0, "SET"},
        /* tags of common statements */
        {"CREATE TABLE t (a int)", 0, "CREATE TABLE"},
        {"CREATE TABLE t2 AS SELECT 1", 0, "CREATE TABLE AS"},
        {"CREATE MATERIALIZED VIEW v AS SELECT 1", 0, "CREATE MATERIALIZED VIEW"},
        {"ALTER TABLE t ADD COLUMN b int", 0, "ALTER TABLE"},
        {"ALTER TABLE t RENAME COLUMN a TO b", 0, "ALTER TABLE"},
        {"ALTER TABLE t RENAME TO u", 0, "ALTER TABLE"},
        {"ALTER INDEX i RENAME TO j", 0, "ALTER INDEX"},
        {"ALTER SEQUENCE s RESTART", 0, "ALTER SEQUENCE"},
        {"ALTER TABLE t OWNER TO r", 0, "ALTER TABLE"},
        {"ALTER FUNCTION f() OWNER TO r", 0, "ALTER FUNCTION"},
        {"DROP TABLE IF EXISTS t CASCADE", 0, "DROP TABLE"},
        {"DROP MATERIALIZED VIEW v", 0, "DROP MATERIALIZED VIEW"},
        {"DROP TYPE mood", 0, "DROP TYPE"},
        {"INSERT INTO t VALUES (1)", 0, "INSERT"},
        {"UPDATE t SET a = 1", 0, "UPDATE"},
        {"DELETE FROM t", 0, "DELETE"},
        {"SELECT 1", 0, "SELECT"},
        {"DO $$ BEGIN END $$", 0, "DO"},
        {"CREATE TYPE mood AS ENUM ('a')", 0, "CREATE TYPE"},
        {"CREATE EXTENSION IF NOT EXISTS pgcrypto", 0, "CREATE EXTENSION"},
        {"CREATE OR REPLACE PROCEDURE p() LANGUAGE sql AS 'SELECT 1'", 0, "CREATE PROCEDURE"},
        {"CREATE SEQUENCE s", 0, "CREATE SEQUENCE"},
        {"CREATE VIEW v AS SELECT 1", 0, "CREATE VIEW"},
        {"CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f()", 0,
         "CREATE TRIGGER"},
        {"CREATE SCHEMA s", 0, "CREATE SCHEMA"},
        {"COMMENT ON TABLE t IS 'x'", 0, "COMMENT"},
        {"GRANT SELECT ON t TO r", 0, "GRANT"},
        {"REVOKE SELECT ON t FROM r", 0, "REVOKE"},
        {"SET lock_timeout = '5s'", DBM_STMT_SETS_SESSION, "SET"},
        {"RESET lock_timeout", DBM_STMT_SETS_SESSION, "RESET"},
        /* what outlives the transaction: the runner puts the session back */
        {"SET LOCAL search_path TO s", 0, "SET"},
        {"SET SESSION search_path TO s", DBM_STMT_SETS_SESSION, "SET"},
        {"SET ROLE r", DBM_STMT_SETS_SESSION, "SET"},
        {"RESET ROLE", DBM_STMT_SETS_SESSION, "RESET"},
        {"SET SESSION AUTHORIZATION r", DBM_STMT_SETS_SESSION, "SET"},
        {"RESET ALL", DBM_STMT_SETS_SESSION, "RESET"},
        {"SET TIME ZONE 'UTC'", DBM_STMT_SETS_SESSION, "SET"},
        {"SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY", DBM_STMT_SETS_SESSION, "SET"},
        {"SELECT pg_catalog.set_config('search_path', '', false)", DBM_STMT_SETS_SESSION, "SELECT"},
        {"SELECT 1 FROM t WHERE a = (SELECT length(set_config('x.y', 'z', false)))",
         DBM_STMT_SETS_SESSION, "SELECT"},
        {"SELECT current_setting('search_path')", 0, "SELECT"},
        {"LOCK TABLE t IN ACCESS EXCLUSIVE MODE", 0, "LOCK TABLE"},
        {"TRUNCATE t", 0, "TRUNCATE TABLE"},
        {"CREATE AGGREGATE a (int) (sfunc = f, stype = int)", 0, "CREATE AGGREGATE"},
        {"CREATE ROLE r", 0, "CREATE ROLE"},
        {"CREATE USER u", 0, "CREATE USER"},
        {"CREATE SERVER s FOREIGN DATA WRAPPER w", 0, "CREATE SERVER"},
        {"CREATE PUBLICATION p FOR ALL TABLES", 0, "CREATE PUBLICATION"},
        {"ALTER DEFAULT PRIVILEGES GRANT SELECT ON TABLES TO r", 0, "ALTER DEFAULT PRIVILEGES"},
        /* generic fallback from the node name */
        {"CREATE STATISTICS st ON a, b FROM t", 0, "CREATE STATISTICS"},
        {"ALTER TEXT SEARCH CONFIGURATION c OWNER TO r", 0, "ALTER TEXT SEARCH CONFIGURATION"},
        {"CREATE CONVERSION c FOR 'LATIN1' TO 'UTF8' FROM f", 0, "CREATE CONVERSION"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        dbm_stmt_list *list = split_ok(cases[i].sql);
        if (list->count != 1)
            fail_msg("%s: %zu statements", cases[i].sql, list->count);
        if (list->items[0].flags != cases[i].flags)
            fail_msg("%s: flags %u, want %u", cases[i].sql, list->items[0].flags, cases[i].flags);
        if (strcmp(list->items[0].tag, cases[i].tag) != 0)
            fail_msg("%s: tag '%s', want '%s'", cases[i].sql, list->items[0].tag, cases[i].tag);
        assert_int_equal(list->has_no_tx, (cases[i].flags & DBM_STMT_NO_TX) != 0);
        assert_int_equal(list->manages_transaction, (cases[i].flags & DBM_STMT_TX_CONTROL) != 0);
        assert_int_equal(list->sets_session, (cases[i].flags & DBM_STMT_SETS_SESSION) != 0);
        dbm_stmt_list_free(list);
    }
}

static void tag_falls_back_to_node_name(void **state)
{
    /* CREATE ACCESS METHOD has its own entry; IMPORT FOREIGN SCHEMA too. A node without
     * one still gets a readable tag rather than NULL. */
    dbm_stmt_list *list = split_ok("ALTER OPERATOR FAMILY f USING btree ADD OPERATOR 1 < (int, "
                                   "int); CREATE OPERATOR CLASS c FOR TYPE int USING btree AS "
                                   "OPERATOR 1 <; ALTER PUBLICATION p ADD TABLE t; CHECKPOINT");
    assert_int_equal(list->count, 4);
    assert_string_equal(list->items[0].tag, "ALTER OPERATOR FAMILY");
    assert_string_equal(list->items[1].tag, "CREATE OPERATOR CLASS");
    assert_string_equal(list->items[2].tag, "ALTER PUBLICATION");
    assert_string_equal(list->items[3].tag, "CHECKPOINT");
    dbm_stmt_list_free(list);
}

static void file_with_own_transaction_is_detected(void **state)
{
    const char *sql = "BEGIN;\nCREATE TABLE a (x int);\nSAVEPOINT s;\nCOMMIT;\n";
    dbm_stmt_list *list = split_ok(sql);

    assert_int_equal(list->count, 4);
    assert_true(list->manages_transaction);
    assert_false(list->has_no_tx);
    assert_int_equal(list->items[0].flags, DBM_STMT_TX_CONTROL);
    assert_int_equal(list->items[1].flags, 0);
    assert_int_equal(list->items[2].flags, 0);
    assert_int_equal(list->items[3].flags, DBM_STMT_TX_CONTROL);
    dbm_stmt_list_free(list);
}

static void misplaced_tx_control_is_found(void **state)
{
    static const struct {
        const char *sql;
        long want; /* index of the statement, -1: none */
    } cases[] = {
        {"CREATE TABLE a (x int);", -1},
        {"BEGIN; CREATE TABLE a (x int); COMMIT;", -1},
        {"START TRANSACTION ISOLATION LEVEL SERIALIZABLE; CREATE TABLE a (x int); END;", -1},
        {"BEGIN; SAVEPOINT s; CREATE TABLE a (x int); ROLLBACK TO s; RELEASE s; COMMIT;", -1},
        {"CREATE TABLE e (i int); COMMIT; SELECT 1/0;", 1},
        {"BEGIN; CREATE TABLE a (x int); COMMIT; CREATE TABLE b (x int); SELECT 1/0;", 2},
        {"CREATE TABLE r (i int); ROLLBACK;", 1},
        {"CREATE TABLE r (i int); ABORT;", 1},
        {"BEGIN; CREATE TABLE r (i int); ROLLBACK;", 2},
        {"BEGIN; CREATE TABLE r (i int);", 0},
        {"CREATE TABLE r (i int); COMMIT;", 1},
        {"COMMIT;", 0},
        {"BEGIN; CREATE TABLE a (x int); COMMIT; BEGIN; CREATE TABLE b (x int); COMMIT;", 2},
        {"BEGIN; CREATE TABLE a (x int); PREPARE TRANSACTION 'g'; COMMIT;", 2},
        {"BEGIN; BEGIN; CREATE TABLE a (x int); COMMIT;", 1},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        dbm_stmt_list *list = split_ok(cases[i].sql);
        size_t got = dbm_sql_misplaced_tx_control(list);
        long g = got == list->count ? -1 : (long)got;
        if (g != cases[i].want)
            fail_msg("%s: %ld, want %ld", cases[i].sql, g, cases[i].want);
        dbm_stmt_list_free(list);
    }
}

static void tree_is_the_statement_node(void **state)
{
    const char *sql = "SELECT 1;\n  /* lead */ CREATE INDEX CONCURRENTLY i ON t (a);";
    dbm_stmt_list *list = split_ok(sql);
    json_t *raw, *tree, *idx, *rel;

    assert_int_equal(list->count, 2);
    assert_non_null(list->items[1].tree);
    assert_null(list->items[1].json);
    raw = dbm_stmt_tree(list, 1);
    assert_non_null(raw);
    tree = json_object_get(raw, "stmt");
    assert_int_equal(json_object_size(tree), 1);
    idx = json_object_get(tree, "IndexStmt");
    assert_non_null(idx);
    assert_true(json_is_true(json_object_get(idx, "concurrent")));
    rel = json_object_get(idx, "relation");
    assert_string_equal(json_string_value(json_object_get(rel, "relname")), "t");
    /* locations are byte offsets in the section */
    assert_int_equal(json_integer_value(json_object_get(rel, "location")), 54);
    json_decref(raw);
    /* the first statement's span is exactly its own RawStmt */
    raw = dbm_stmt_tree(list, 0);
    assert_non_null(json_object_get(json_object_get(raw, "stmt"), "SelectStmt"));
    json_decref(raw);

    /* dropping the trees keeps everything else */
    dbm_stmt_list_drop_trees(list);
    assert_null(list->items[0].tree);
    assert_null(list->items[1].tree);
    assert_null(dbm_stmt_tree(list, 1));
    assert_string_equal(list->items[1].tag, "CREATE INDEX");
    assert_int_equal(list->items[1].offset, 23);
    assert_int_equal(list->items[1].flags, DBM_STMT_NO_TX);
    dbm_stmt_list_drop_trees(list); /* twice is harmless */
    dbm_stmt_list_drop_trees(NULL);
    dbm_stmt_list_free(list);
}

static void statement_positions_skip_comments(void **state)
{
    const char *sql = "-- header\n"
                      "/* a\n"
                      "   multi-line\n"
                      "   comment */\n"
                      "CREATE TABLE a (x int);   -- trailing\n"
                      "\n"
                      "    /* é */ ALTER TABLE a ADD y int; SELECT 1;\n"
                      "INSERT INTO a VALUES (1)\n";
    dbm_stmt_list *list = split_ok(sql);

    assert_int_equal(list->count, 4);
    assert_int_equal(list->items[0].line, 5);
    assert_int_equal(list->items[0].col, 1);
    assert_int_equal(list->items[1].line, 7);
    assert_int_equal(list->items[1].col, 13); /* é is one character, two bytes */
    assert_int_equal(list->items[1].offset, strstr(sql, "ALTER") - sql);
    assert_int_equal(list->items[2].line, 7);
    assert_int_equal(list->items[2].col, 38);
    assert_int_equal(list->items[3].line, 8);
    assert_int_equal(list->items[3].col, 1);
    /* no final ';': the statement runs to the end of the text */
    assert_int_equal(list->items[3].offset + list->items[3].len, strlen(sql));
    dbm_stmt_list_free(list);
}

/* Offsets and lengths in bytes, columns in characters, as literal figures. */
static void offsets_and_lengths_are_bytes(void **state)
{
    static const struct {
        const char *sql;
        size_t n;
        struct {
            size_t offset, len;
            int line, col;
        } want[2];
    } cases[] = {
        {"SELECT 1;;; SELECT 2;", 2, {{0, 8, 1, 1}, {12, 8, 1, 13}}},
        {"SELECT 1; -- trailing\n/* and more */\n", 1, {{0, 8, 1, 1}}},
        {"-- \xc3\xa9\nSELECT '\xc3\xbc'", 1, {{6, 11, 2, 1}}}, /* no ';': to the end */
        {"/* \xc3\xb1 */ SELECT 1; /* \xc3\xbc */ SELECT '\xc3\xa9';\n",
         2,
         {{9, 8, 1, 9}, {28, 11, 1, 27}}},
        {"SELECT 1 -- no semicolon\n", 1, {{0, 25, 1, 1}}},
        {"  ;\n;  -- x\n", 0, {{0}}},
        {";;", 0, {{0}}},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        dbm_stmt_list *list = split_ok(cases[i].sql);
        if (list->count != cases[i].n)
            fail_msg("case %zu: %zu statements, want %zu", i, list->count, cases[i].n);
        for (size_t j = 0; j < list->count; j++) {
            const dbm_stmt *st = &list->items[j];
            if (st->offset != cases[i].want[j].offset || st->len != cases[i].want[j].len ||
                st->line != cases[i].want[j].line || st->col != cases[i].want[j].col)
                fail_msg("case %zu statement %zu: offset %zu len %zu at %d:%d, want %zu %zu "
                         "%d:%d",
                         i, j, st->offset, st->len, st->line, st->col, cases[i].want[j].offset,
                         cases[i].want[j].len, cases[i].want[j].line, cases[i].want[j].col);
            assert_non_null(st->tree);
        }
        dbm_stmt_list_free(list);
    }
}

static void syntax_error_reports_position(void **state)
{
    static const struct {
        const char *sql;
        const char *message;
        int line, col;
    } cases[] = {
        {"CREATE TABEL t (a int);", "syntax error at or near \"TABEL\"", 1, 8},
        {"SELECT 1;\n-- x\n  CREATE TABEL t (a int);", "syntax error at or near \"TABEL\"", 3, 10},
        {"SELECT 'ééé' FROM FROM t", "syntax error at or near \"FROM\"", 1, 19},
        {"SELECT 1;\nSELECT 'unterminated",
         "unterminated quoted string at or near "
         "\"'unterminated\"",
         2, 8},
        {"SELECT (1", "syntax error at end of input", 1, 10},
        {"SELECT '\xc3\xbc';\nSELECT '\xc3\xa9' FROM FROM t", "syntax error at or near \"FROM\"", 2,
         17},
        {"SELECT 1;\nSELECT 2;\nSELECT 3 +;\nSELECT 4;", "syntax error at or near \";\"", 3, 11},
        /* PostgreSQL quotes the text as is: the message stays one line (found by fuzz/sql) */
        {"SELECT \"x\n::warning::y\n",
         "unterminated quoted identifier at or near \"\"x?::warning::y?\"", 1, 8},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        dbm_stmt_list *list = (dbm_stmt_list *)&list; /* must be reset to NULL */
        int line = -1, col = -1;
        int rc = dbm_sql_split(&list, &line, &col, cases[i].sql, strlen(cases[i].sql));
        assert_int_equal(rc, DBM_EFAILED);
        assert_null(list);
        assert_string_equal(dbm_error_message(), cases[i].message);
        if (line != cases[i].line || col != cases[i].col)
            fail_msg("%s: at %d:%d, want %d:%d", cases[i].sql, line, col, cases[i].line,
                     cases[i].col);
    }
}

static void charpos_maps_characters_to_bytes(void **state)
{
    const char *t = "aé€😀b"; /* 1, 2, 3, 4, 1 bytes */
    size_t n = strlen(t);

    assert_int_equal(dbm_sql_charpos_to_offset(t, n, 1), 0);
    assert_int_equal(dbm_sql_charpos_to_offset(t, n, 2), 1);
    assert_int_equal(dbm_sql_charpos_to_offset(t, n, 3), 3);
    assert_int_equal(dbm_sql_charpos_to_offset(t, n, 4), 6);
    assert_int_equal(dbm_sql_charpos_to_offset(t, n, 5), 10);
    assert_int_equal(dbm_sql_charpos_to_offset(t, n, 6), n); /* past the end */
    assert_int_equal(dbm_sql_charpos_to_offset(t, n, 99), n);
    assert_int_equal(dbm_sql_charpos_to_offset(t, n, 0), 0);
    assert_int_equal(dbm_sql_charpos_to_offset(t, n, -3), 0);
}

static void linecol_counts_lines_and_characters(void **state)
{
    const char *t = "ab\nç€d\n\nx";
    size_t n = strlen(t);
    static const struct {
        size_t off;
        int line, col;
    } cases[] = {{0, 1, 1}, {1, 1, 2}, {2, 1, 3},  {3, 2, 1},  {5, 2, 2},
                 {8, 2, 3}, {9, 2, 4}, {10, 3, 1}, {11, 4, 1}, {12, 4, 2}};

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int line, col;
        dbm_sql_linecol(t, n, cases[i].off, &line, &col);
        if (line != cases[i].line || col != cases[i].col)
            fail_msg("offset %zu: %d:%d, want %d:%d", cases[i].off, line, col, cases[i].line,
                     cases[i].col);
    }
}

static void bad_input_fails_without_crashing(void **state)
{
    static const char nul[] = "SELECT 1;\nSELECT\0 2;";
    static const char latin1[] = "SELECT 'caf\xe9';\nSELECT \xff\xfe;";
    dbm_stmt_list *list = NULL;
    int line, col, rc;

    rc = dbm_sql_split(&list, &line, &col, nul, sizeof(nul) - 1);
    assert_int_equal(rc, DBM_EFAILED);
    assert_null(list);
    assert_int_equal(line, 2);
    assert_int_equal(col, 7);

    /* not UTF-8: an error or a result, but no crash and nothing leaked */
    rc = dbm_sql_split(&list, &line, &col, latin1, sizeof(latin1) - 1);
    if (rc == 0)
        dbm_stmt_list_free(list);
    else
        assert_null(list);

    dbm_stmt_list_free(NULL);
}

static int line_at(const dbm_buf *b, size_t offset)
{
    int line = 1;
    for (size_t i = 0; i < offset; i++)
        line += b->ptr[i] == '\n';
    return line;
}

static void fill_to(dbm_buf *b, size_t bytes, size_t *n)
{
    while (b->len < bytes)
        dbm_buf_printf(b, "INSERT INTO t VALUES (%zu);\n", (*n)++);
}

static const dbm_stmt *stmt_at(const dbm_stmt_list *list, size_t offset)
{
    for (size_t i = 0; i < list->count; i++)
        if (list->items[i].offset == offset)
            return &list->items[i];
    fail_msg("no statement at offset %zu", offset);
    return NULL;
}

/*
 * Sections over DBM_SQL_TREE_MAX are parsed in pieces cut where the scanner
 * sees a statement end. A multi-action rule where a cut falls, a last
 * statement without ';', and positions in later pieces must come out exactly
 * as for a small section. The scanner cuts a BEGIN ATOMIC body at its first
 * ';': that piece does not parse, and the whole section is parsed instead.
 */
static void large_sections_parse_in_pieces(void **state)
{
    const char *atomic = "CREATE FUNCTION f() RETURNS int LANGUAGE sql\nBEGIN ATOMIC\n  SELECT 1;\n"
                         "  SELECT 2;\nEND";
    const char *rule =
        "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO a VALUES (1); INSERT INTO b "
        "VALUES (2))";
    dbm_buf b = DBM_BUF_INIT;
    dbm_stmt_list *list = NULL;
    size_t n = 0, rule_at, last_at, atomic_at;
    const dbm_stmt *st;
    int line, col;

    fill_to(&b, (256u << 10) - 60, &n);
    rule_at = b.len;
    dbm_buf_printf(&b, "%s;\n", rule);
    fill_to(&b, 700u << 10, &n);
    dbm_buf_puts(&b, "-- the last one\n");
    last_at = b.len;
    dbm_buf_puts(&b, "SELECT 'last' /* no semicolon */\n");

    assert_int_equal(dbm_sql_split(&list, &line, &col, b.ptr, b.len), 0);
    assert_int_equal(list->count, n + 2);
    for (size_t i = 1; i < list->count; i++)
        assert_true(list->items[i].offset > list->items[i - 1].offset);
    st = stmt_at(list, rule_at);
    assert_string_equal(st->tag, "CREATE RULE");
    assert_int_equal(st->len, strlen(rule));
    assert_int_equal(st->line, line_at(&b, rule_at));
    st = stmt_at(list, last_at);
    assert_string_equal(st->tag, "SELECT");
    assert_int_equal(st->len, strlen("SELECT 'last' /* no semicolon */\n"));
    assert_int_equal(st->line, line_at(&b, last_at));
    assert_int_equal(st->col, 1);
    assert_null(st->tree); /* large: kept as text */
    assert_non_null(st->json);
    dbm_stmt_list_free(list);

    /* a syntax error in a later piece, at its line in the section */
    dbm_buf_truncate(&b, last_at);
    dbm_buf_puts(&b, "SELEC 1;\n");
    fill_to(&b, 900u << 10, &n);
    list = (dbm_stmt_list *)1;
    assert_int_equal(dbm_sql_split(&list, &line, &col, b.ptr, b.len), DBM_EFAILED);
    assert_null(list);
    assert_int_equal(line, line_at(&b, last_at));
    assert_int_equal(col, 1);
    assert_non_null(strstr(dbm_error_message(), "SELEC"));

    /* BEGIN ATOMIC where a cut falls */
    dbm_buf_truncate(&b, 0);
    n = 0;
    fill_to(&b, (256u << 10) - 40, &n);
    atomic_at = b.len;
    dbm_buf_printf(&b, "%s;\n", atomic);
    fill_to(&b, 600u << 10, &n);
    assert_int_equal(dbm_sql_split(&list, &line, &col, b.ptr, b.len), 0);
    assert_int_equal(list->count, n + 1);
    st = stmt_at(list, atomic_at);
    assert_string_equal(st->tag, "CREATE FUNCTION");
    assert_int_equal(st->len, strlen(atomic));
    assert_int_equal(st->line, line_at(&b, atomic_at));
    dbm_stmt_list_free(list);
    dbm_buf_free(&b);
}

static void huge_input_splits(void **state)
{
    dbm_buf b = DBM_BUF_INIT;
    dbm_stmt_list *list = NULL;
    size_t want = 0;
    int line, col;

    dbm_buf_puts(&b, "CREATE TABLE big (id int, v text);\n");
    want++;
    while (b.len < 24u * 1024 * 1024) {
        dbm_buf_puts(&b, "INSERT INTO big VALUES (1, '");
        for (int i = 0; i < 64; i++)
            dbm_buf_puts(&b, "0123456789abcdef;");
        dbm_buf_puts(&b, "');\n");
        want++;
    }
    assert_int_equal(dbm_sql_split(&list, &line, &col, b.ptr, b.len), 0);
    assert_int_equal(list->count, want);
    assert_int_equal(list->items[want - 1].line, (int)want);
    dbm_stmt_list_free(list);

    /* deep nesting: the parser's stack check must turn it into an error, not a crash */
    dbm_buf_truncate(&b, 0);
    dbm_buf_puts(&b, "SELECT ");
    for (int i = 0; i < 200000; i++)
        dbm_buf_putc(&b, '(');
    dbm_buf_puts(&b, "1");
    for (int i = 0; i < 200000; i++)
        dbm_buf_putc(&b, ')');
    list = NULL;
    if (dbm_sql_split(&list, &line, &col, b.ptr, b.len) == 0)
        dbm_stmt_list_free(list);
    else
        assert_null(list);
    dbm_buf_free(&b);
}

/* ---- the real corpora ---- */

static char *corpora_dir(void)
{
    const char *env = dbm_getenv("DBM_CORPORA");
    struct stat sb;

    if (env)
        return stat(env, &sb) == 0 ? dbm_xstrdup(env) : NULL;
    if (stat("../shared/corpora", &sb) == 0)
        return dbm_xstrdup("../shared/corpora");
    if (stat("../../shared/corpora", &sb) == 0) /* from a worktree under wt/ */
        return dbm_xstrdup("../../shared/corpora");
    return NULL;
}

static bool is_up_sql(const char *set, const char *rel)
{
    size_t n = strlen(rel);
    if (strcmp(set, "rust-lang-crates.io") == 0)
        return n >= 7 && strcmp(rel + n - 7, "/up.sql") == 0;
    if (strcmp(set, "goharbor-harbor") == 0)
        return n >= 7 && strcmp(rel + n - 7, ".up.sql") == 0;
    if (strcmp(set, "umami-software-umami") == 0)
        return n >= 14 && strcmp(rel + n - 14, "/migration.sql") == 0;
    if (strcmp(set, "openfga-openfga") == 0 || strcmp(set, "measure-sh-measure") == 0)
        return false; /* goose / dbmate annotations: the loader's sections, not plain SQL */
    if (strcmp(set, "MarquezProject-marquez") == 0)
        return n > 4 && strcmp(rel + n - 4, ".sql") == 0 && strchr(rel, '/') == NULL &&
               strcmp(rel, "expected-schema.sql") != 0;
    return false;
}

typedef struct {
    size_t files, statements;
    char **no_tx; /* crates.io up.sql folders with a NO_TX statement */
    size_t n_no_tx, cap_no_tx;
} corpus_stats;

static void split_corpus_file(corpus_stats *st, const char *set, const char *dir, const char *rel)
{
    char *path = dbm_xasprintf("%s/%s/%s", dir, set, rel);
    char *text = NULL;
    size_t len;
    dbm_stmt_list *list = NULL;
    int line, col;

    assert_int_equal(dbm_read_file(&text, &len, path), 0);
    if (dbm_sql_split(&list, &line, &col, text, len) != 0)
        fail_msg("%s:%d:%d: %s", path, line, col, dbm_error_message());
    st->files++;
    st->statements += list->count;
    if (list->has_no_tx && strcmp(set, "rust-lang-crates.io") == 0) {
        dbm_array_grow((void **)&st->no_tx, &st->cap_no_tx, st->n_no_tx + 1, sizeof(char *));
        st->no_tx[st->n_no_tx++] = dbm_xstrndup(rel, strlen(rel) - strlen("/up.sql"));
    }
    dbm_stmt_list_free(list);
    free(text);
    free(path);
}

static void walk(corpus_stats *st, const char *set, const char *dir, const char *rel)
{
    char *full = dbm_xasprintf("%s/%s%s%s", dir, set, rel[0] ? "/" : "", rel);
    DIR *d = opendir(full);
    struct dirent *e;

    assert_non_null(d);
    while ((e = readdir(d)) != NULL) {
        char *sub;
        struct stat sb;
        char *subfull;
        if (e->d_name[0] == '.')
            continue;
        sub = rel[0] ? dbm_xasprintf("%s/%s", rel, e->d_name) : dbm_xstrdup(e->d_name);
        subfull = dbm_xasprintf("%s/%s", full, e->d_name);
        if (stat(subfull, &sb) == 0 && S_ISDIR(sb.st_mode))
            walk(st, set, dir, sub);
        else if (is_up_sql(set, sub))
            split_corpus_file(st, set, dir, sub);
        free(subfull);
        free(sub);
    }
    closedir(d);
    free(full);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Every plain-SQL up migration of the corpora splits. For crates.io, the
 * folders with a statement refused in a transaction are compared with the
 * folders whose metadata.toml says run_in_transaction = false.
 */
static void corpora_split_and_match_metadata(void **state)
{
    static const char *const sets[] = {"rust-lang-crates.io", "goharbor-harbor",
                                       "umami-software-umami", "MarquezProject-marquez"};
    char *dir = corpora_dir();
    corpus_stats st = {0};
    char **marked = NULL;
    size_t n_marked = 0, cap_marked = 0;
    DIR *d;
    struct dirent *e;

    if (!dir) {
        print_message("corpora not found (set DBM_CORPORA): skipped\n");
        skip();
    }
    for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++)
        walk(&st, sets[i], dir, "");
    print_message("corpora: %zu files, %zu statements\n", st.files, st.statements);
    assert_true(st.files > 400);

    {
        char *crates = dbm_xasprintf("%s/rust-lang-crates.io", dir);
        d = opendir(crates);
        assert_non_null(d);
        while ((e = readdir(d)) != NULL) {
            char *meta = dbm_xasprintf("%s/%s/metadata.toml", crates, e->d_name);
            char *text = NULL;
            size_t len;
            if (e->d_name[0] != '.' && dbm_read_file(&text, &len, meta) == 0 &&
                strstr(text, "run_in_transaction = false")) {
                dbm_array_grow((void **)&marked, &cap_marked, n_marked + 1, sizeof(char *));
                marked[n_marked++] = dbm_xstrdup(e->d_name);
            }
            free(text);
            free(meta);
        }
        closedir(d);
        free(crates);
    }
    dbm_error_clear();
    qsort(marked, n_marked, sizeof(char *), cmp_str);
    qsort(st.no_tx, st.n_no_tx, sizeof(char *), cmp_str);
    assert_int_equal(n_marked, 7);
    assert_int_equal(st.n_no_tx, n_marked);
    for (size_t i = 0; i < n_marked; i++)
        assert_string_equal(st.no_tx[i], marked[i]);

    for (size_t i = 0; i < n_marked; i++)
        free(marked[i]);
    for (size_t i = 0; i < st.n_no_tx; i++)
        free(st.no_tx[i]);
    free(marked);
    free(st.no_tx);
    free(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(split_finds_statement_boundaries),
        cmocka_unit_test(split_classifies_statements),
        cmocka_unit_test(tag_falls_back_to_node_name),
        cmocka_unit_test(file_with_own_transaction_is_detected),
        cmocka_unit_test(tree_is_the_statement_node),
        cmocka_unit_test(statement_positions_skip_comments),
        cmocka_unit_test(offsets_and_lengths_are_bytes),
        cmocka_unit_test(syntax_error_reports_position),
        cmocka_unit_test(charpos_maps_characters_to_bytes),
        cmocka_unit_test(misplaced_tx_control_is_found),
        cmocka_unit_test(linecol_counts_lines_and_characters),
        cmocka_unit_test(bad_input_fails_without_crashing),
        cmocka_unit_test(large_sections_parse_in_pieces),
        cmocka_unit_test(huge_input_splits),
        cmocka_unit_test(corpora_split_and_match_metadata),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
