/*
 * test_batch.c - the text of a batch message, how items are grouped into
 * messages, and a server error position in a message as the line and column
 * of the file it came from.
 *
 * Nothing is sent: a connection that never opened is enough for libpq to
 * quote names and values.
 */
#include "unit.h"

#include "offline_conn.h"

#include "postgres/db_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    dbm_migration m[12];
    dbm_batch_item items[12];
    size_t n;
} batch_fixture;

/* Add a migration with up section `up` (split by the parser) starting at line `line`. */
static dbm_batch_item *add(batch_fixture *f, const char *version, const char *up, int line)
{
    dbm_migration *m = &f->m[f->n];
    dbm_batch_item *it = &f->items[f->n];
    dbm_stmt_list *stmts;
    int el, ec;

    memset(m, 0, sizeof(*m));
    m->version = dbm_xstrdup(version);
    m->name = dbm_xasprintf("migration %s", version);
    m->path = dbm_xasprintf("db/%s_x.sql", version);
    m->up = dbm_xstrdup(up);
    m->up_len = strlen(up);
    m->up_line = line;
    snprintf(m->checksum, sizeof(m->checksum), "sha256:%s", version);
    assert_int_equal(dbm_sql_split(&stmts, &el, &ec, m->up, m->up_len), 0);
    it->m = m;
    it->stmts = stmts;
    it->opts = (dbm_apply_opts){.schema = "db_migrate",
                                .run_id = 7,
                                .git_sha = "abc123",
                                .lock_timeout_ms = 5000,
                                .statement_timeout_ms = 0,
                                .display_path = m->path};
    f->n++;
    return it;
}

static void fixture_free(batch_fixture *f)
{
    for (size_t i = 0; i < f->n; i++) {
        free(f->m[i].version);
        free(f->m[i].name);
        free(f->m[i].path);
        free(f->m[i].up);
        dbm_stmt_list_free((dbm_stmt_list *)f->items[i].stmts);
    }
}

static void message_holds_each_step_of_the_transaction(void **state)
{
    batch_fixture f = {.n = 0};
    dbm_batch_msg b;

    add(&f, "20240101120000", "CREATE TABLE users (id int);\nINSERT INTO users VALUES (1);\n", 1)
        ->opts.replace_existing = true;
    dbm_db_batch_build(&b, conn, f.items, 0, 1, 64);
    assert_int_equal(b.end, 1);
    assert_int_equal(b.pre, 0);
    assert_string_equal(b.name, "");
    assert_string_equal(
        dbm_buf_cstr(&b.sql),
        "DO $db_migrate$BEGIN PERFORM set_config('client_min_messages', 'notice', true); "
        "RAISE NOTICE 'db-migrate: next migration'; END$db_migrate$;\n"
        "BEGIN;\n"
        "SELECT set_config('lock_timeout', '5000ms', true), set_config('statement_timeout', "
        "'0ms', true), set_config('db_migrate.started_at', extract(epoch FROM "
        "clock_timestamp())::text, true);\n"
        "CREATE TABLE users (id int)\n;\n"
        "INSERT INTO users VALUES (1)\n;\n"
        "DELETE FROM \"db_migrate\".migrations WHERE version = '20240101120000';\n"
        "INSERT INTO \"db_migrate\".migrations (version, name, checksum, applied_at, "
        "duration_ms, run_id, git_sha, transactional, status) SELECT '20240101120000', "
        "'migration 20240101120000', 'sha256:20240101120000', to_timestamp(t0::float8), "
        "((extract(epoch FROM clock_timestamp()) - t0) * 1000)::bigint, 7, 'abc123', true, "
        "'applied' FROM (SELECT coalesce(nullif(current_setting('db_migrate.started_at', "
        "true), '')::numeric, extract(epoch FROM now())) AS t0) AS start RETURNING "
        "duration_ms;\n"
        "COMMIT;\n");
    /* DO, BEGIN, settings, two statements, DELETE, INSERT, COMMIT */
    assert_int_equal(dbm_db_batch_item_results(&f.items[0]), 8);
    f.items[0].opts.replace_existing = false;
    assert_int_equal(dbm_db_batch_item_results(&f.items[0]), 7);
    dbm_db_batch_free(&b);
    fixture_free(&f);
}

static void statement_ending_in_a_comment_is_closed_on_its_own_line(void **state)
{
    batch_fixture f = {.n = 0};
    dbm_batch_msg b;

    add(&f, "1", "SELECT 1 -- no semicolon after this comment", 1);
    dbm_db_batch_build(&b, conn, f.items, 0, 1, 64);
    assert_non_null(strstr(dbm_buf_cstr(&b.sql), "\nSELECT 1 -- no semicolon after this "
                                                 "comment\n;\nINSERT INTO"));
    dbm_db_batch_free(&b);
    fixture_free(&f);
}

static void statement_offsets_point_at_their_text_in_the_message(void **state)
{
    batch_fixture f = {.n = 0};
    dbm_batch_msg b;

    add(&f, "1", "CREATE TABLE a (x text);\nSELECT 'é✓𝄞';\n", 1);
    add(&f, "2", "SELECT 2; SELECT 3;\n-- a comment\nSELECT 4;", 1);
    add(&f, "3", "SELECT 5;", 1);
    dbm_db_batch_build(&b, conn, f.items, 1, 3, 64);
    assert_int_equal(b.first, 1);
    assert_int_equal(b.end, 3);
    assert_int_equal(b.base[0], 0);
    assert_int_equal(b.base[1], 3);
    for (size_t k = 1; k < 3; k++)
        for (size_t s = 0; s < f.items[k].stmts->count; s++) {
            const dbm_stmt *st = &f.items[k].stmts->items[s];
            size_t at = b.at[b.base[k - 1] + s];
            assert_memory_equal(b.sql.ptr + at, f.m[k].up + st->offset, st->len);
        }
    dbm_db_batch_free(&b);
    fixture_free(&f);
}

static void larger_messages_prepare_history_and_settings_once(void **state)
{
    batch_fixture f = {.n = 0};
    dbm_batch_msg b;
    char prefix[64], expect[256];
    const char *sql;

    for (int i = 0; i < 4; i++)
        add(&f, (const char *[]){"1", "2", "3", "4"}[i], "SELECT 1;", 1);
    /* Three to a message: no PREPARE. */
    dbm_db_batch_build(&b, conn, f.items, 0, 3, 64);
    assert_int_equal(b.pre, 0);
    assert_null(strstr(dbm_buf_cstr(&b.sql), "PREPARE"));
    dbm_db_batch_free(&b);

    dbm_db_batch_build(&b, conn, f.items, 0, 4, 64);
    sql = dbm_buf_cstr(&b.sql);
    assert_int_equal(b.pre, 2);
    snprintf(prefix, sizeof(prefix), "db_migrate_record_%ld_", (long)getpid());
    assert_true(strncmp(b.name, prefix, strlen(prefix)) == 0);
    snprintf(prefix, sizeof(prefix), "db_migrate_start_%ld_", (long)getpid());
    assert_true(strncmp(b.settings, prefix, strlen(prefix)) == 0);
    snprintf(expect, sizeof(expect),
             "PREPARE %s (text, text, text, bigint, text) AS INSERT INTO \"db_migrate\"."
             "migrations (version, name, checksum, applied_at, duration_ms, run_id, git_sha, ",
             b.name);
    assert_true(strncmp(sql, expect, strlen(expect)) == 0);
    snprintf(expect, sizeof(expect),
             ";\nPREPARE %s (text, text) AS SELECT set_config('lock_timeout', $1, true), "
             "set_config('statement_timeout', $2, true), set_config('db_migrate.started_at', ",
             b.settings);
    assert_non_null(strstr(sql, expect));
    snprintf(expect, sizeof(expect),
             "BEGIN;\nEXECUTE %s('5000ms', '0ms');\nSELECT 1\n;\nEXECUTE %s('3', 'migration 3', "
             "'sha256:3', 7, 'abc123');\nCOMMIT;\n",
             b.settings, b.name);
    assert_non_null(strstr(sql, expect));
    snprintf(expect, sizeof(expect), "COMMIT;\nDEALLOCATE %s;\nDEALLOCATE %s;\n", b.name,
             b.settings);
    assert_string_equal(sql + strlen(sql) - strlen(expect), expect);
    dbm_db_batch_free(&b);
    fixture_free(&f);
}

static void messages_are_limited_by_items_and_bytes(void **state)
{
    batch_fixture f = {.n = 0};
    dbm_batch_msg b;
    char *big = malloc(120 * 1024 + 16);

    for (int i = 0; i < 5; i++)
        add(&f, (const char *[]){"1", "2", "3", "4", "5"}[i], "SELECT 1;", 1);
    dbm_db_batch_build(&b, conn, f.items, 0, 5, 3);
    assert_int_equal(b.end, 3);
    dbm_db_batch_free(&b);
    dbm_db_batch_build(&b, conn, f.items, 3, 5, 3);
    assert_int_equal(b.end, 5);
    dbm_db_batch_free(&b);
    fixture_free(&f);

    /* 120 KB each: two fit in 256 KB, a third does not. */
    f.n = 0;
    memcpy(big, "SELECT '", 8);
    memset(big + 8, 'x', 120 * 1024);
    memcpy(big + 8 + 120 * 1024, "';", 3);
    for (int i = 0; i < 3; i++)
        add(&f, (const char *[]){"1", "2", "3"}[i], big, 1);
    dbm_db_batch_build(&b, conn, f.items, 0, 3, 64);
    assert_int_equal(b.end, 2);
    dbm_db_batch_free(&b);
    fixture_free(&f);
    free(big);
}

/* What PostgreSQL reports for byte `at` of the message: its 1-based character position. */
static void server_position(char out[16], const dbm_batch_msg *b, size_t at)
{
    long chars = 1;

    for (size_t i = 0; i < at; i++)
        if (((unsigned char)b->sql.ptr[i] & 0xc0) != 0x80)
            chars++;
    snprintf(out, 16, "%ld", chars);
}

static void error_in_a_message_points_at_the_file_line_and_column(void **state)
{
    static const char second[] = "-- ünïcode before the statements\n"
                                 "SELECT 'é✓𝄞';\n"
                                 "SELECT 'ü', nope\n"
                                 "  FROM t;\n";
    static const struct {
        const char *token; /* where the server points, first found after the statement's start */
        size_t stmt;
        int line, column; /* in the file, whose up section starts at line 3 */
    } cases[] = {
        {"nope", 1, 5, 13},
        {"FROM", 1, 6, 3},
        {"'é", 0, 4, 8},
        {"COMMIT", 1, 5, 1}, /* outside the statement: its start */
    };
    batch_fixture f = {.n = 0};
    dbm_batch_msg b;

    add(&f, "1", "CREATE TABLE a (x int);\n", 1);
    add(&f, "2", second, 3);
    add(&f, "3", "SELECT 'ß';\n", 1);
    dbm_db_batch_build(&b, conn, f.items, 0, 3, 64);
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t at = b.at[b.base[1] + cases[i].stmt];
        const char *tok = strstr(b.sql.ptr + at, cases[i].token);
        char pos[16];
        size_t offset;
        dbm_error_info e;

        assert_non_null(tok);
        server_position(pos, &b, (size_t)(tok - b.sql.ptr));
        offset =
            dbm_db_batch_error_offset(&b, f.items, 1, DBM_BATCH_ITEM_PREFIX + cases[i].stmt, pos);
        memset(&e, 0, sizeof(e));
        dbm_db_error_at(&e, NULL, NULL, f.m[1].up, f.m[1].up_len, offset, f.m[1].up_line,
                        f.m[1].path);
        assert_int_equal(e.line, cases[i].line);
        assert_int_equal(e.column, cases[i].column);
        free(e.file);
        free(e.context);
    }
    /* A failure that was not one of the statements (BEGIN, the history row): the section. */
    assert_int_equal(dbm_db_batch_error_offset(&b, f.items, 1, 0, "1"), 0);
    assert_int_equal(dbm_db_batch_error_offset(&b, f.items, 1, DBM_BATCH_ITEM_PREFIX + 2, "1"), 0);
    /* Without a position: the statement's start. */
    assert_int_equal(dbm_db_batch_error_offset(&b, f.items, 2, DBM_BATCH_ITEM_PREFIX, NULL),
                     f.items[2].stmts->items[0].offset);
    dbm_db_batch_free(&b);
    fixture_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(message_holds_each_step_of_the_transaction),
        cmocka_unit_test(statement_ending_in_a_comment_is_closed_on_its_own_line),
        cmocka_unit_test(statement_offsets_point_at_their_text_in_the_message),
        cmocka_unit_test(larger_messages_prepare_history_and_settings_once),
        cmocka_unit_test(messages_are_limited_by_items_and_bytes),
        cmocka_unit_test(error_in_a_message_points_at_the_file_line_and_column),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
