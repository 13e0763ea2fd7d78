/*
 * test_history.c - the history statements other files of postgres/ send, as
 * text, and the run lock's key. Nothing is sent: a connection that never
 * opened is enough for libpq to quote names and values.
 */
#include "unit.h"

#include "offline_conn.h"

#include "postgres/history_internal.h"

#include <stdlib.h>
#include <string.h>

static void lock_key_is_stable_across_releases(void **state)
{
    /* FNV-1a 64 of "db-migrate:" and the schema, signed: what engine.bats's run_lock_key computes.
     */
    assert_true(dbm_history_lock_key("db_migrate") == -6399690053484709935LL);
    assert_true(dbm_history_lock_key("my schema") == 2567139981775041042LL);
    assert_true(dbm_history_lock_key("ü") == -8060829352706566830LL);
}

static void ddl_key_differs_from_the_run_lock_key(void **state)
{
    /* Creating the tables must not wait for a run that holds the run lock's advisory lock. */
    assert_true(dbm_history_ddl_key("db_migrate") != dbm_history_lock_key("db_migrate"));
    assert_true(dbm_history_ddl_key("db_migrate") == dbm_history_ddl_key("db_migrate"));
    assert_true(dbm_history_ddl_key("a") != dbm_history_ddl_key("b"));
}

static void claim_done_ends_only_this_runs_claim_in_its_transaction(void **state)
{
    char *sql = dbm_history_sql_claim_done(conn, "My \"Schema\"", "1'2", 3, 42);

    assert_non_null(strstr(sql, "UPDATE \"My \"\"Schema\"\"\".statements SET outcome = 'done'"));
    assert_non_null(strstr(sql, "WHERE version = '1''2' AND statement = 3 AND run_id = 42 AND "
                                "outcome IS NULL"));
    /* Not this run's any more: the cast fails, and the statement's transaction with it. */
    assert_non_null(strstr(sql, "ELSE 'statement 3 of version ' || '1''2' || ' was claimed by "
                                "another run' END)::int"));
    free(sql);
}

static void delete_quotes_schema_and_version(void **state)
{
    char *sql = dbm_history_sql_delete(conn, "My \"Schema\"", "1'2");

    assert_string_equal(sql, "DELETE FROM \"My \"\"Schema\"\"\".migrations WHERE version = '1''2'");
    free(sql);
}

static void prepared_insert_takes_the_values_as_parameters(void **state)
{
    dbm_migration m;
    char *sql;

    sql = dbm_history_sql_prepare(conn, "db_migrate", "rec_1");
    assert_string_equal(
        sql, "PREPARE rec_1 (text, text, text, bigint, text) AS INSERT INTO \"db_migrate\"."
             "migrations (version, name, checksum, applied_at, duration_ms, run_id, git_sha, "
             "transactional, status) SELECT $1, $2, $3, to_timestamp(t0::float8), ((extract(epoch "
             "FROM clock_timestamp()) - t0) * 1000)::bigint, $4, $5, true, 'applied' FROM (SELECT "
             "coalesce(nullif(current_setting('db_migrate.started_at', true), '')::numeric, "
             "extract(epoch FROM now())) AS t0) AS start RETURNING duration_ms");
    free(sql);

    memset(&m, 0, sizeof(m));
    m.version = "20240101";
    m.name = "it's";
    memcpy(m.checksum, "sha256:ab", 10);
    sql = dbm_history_sql_execute(conn, "rec_1", &m, 42, NULL);
    assert_string_equal(sql, "EXECUTE rec_1('20240101', 'it''s', 'sha256:ab', 42, NULL)");
    free(sql);
}

static void history_reads_rows_then_the_last_deployed_commit(void **state)
{
    char *sql = dbm_history_read_sql(conn, "db_migrate");

    assert_string_equal(
        sql, "SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO'; SELECT version, name, "
             "checksum, applied_at, duration_ms, run_id, git_sha, transactional, status, "
             "failed_statement, error FROM \"db_migrate\".migrations ORDER BY applied_at, "
             "version; SELECT git_sha FROM \"db_migrate\".runs WHERE command = 'apply' AND "
             "outcome IN ('applied', 'up-to-date') AND git_sha IS NOT NULL ORDER BY id DESC "
             "LIMIT 1; SELECT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = "
             "'\"db_migrate\".runs'::regclass AND attname = 'detail' AND NOT attisdropped), "
             "(SELECT json_agg(DISTINCT v)::text FROM \"db_migrate\".runs AS r, "
             "jsonb_array_elements_text(coalesce(to_jsonb(r) -> 'detail' -> 'rolled_back', "
             "'[]'::jsonb)) AS v WHERE r.command = 'rollback' AND r.id > coalesce((SELECT "
             "max(id) FROM \"db_migrate\".runs WHERE command = 'apply' AND outcome IN "
             "('applied', 'up-to-date')), 0)), (SELECT json_agg(DISTINCT to_jsonb(r) -> "
             "'detail' -> 'accepted_edit' ->> 'version')::text FROM \"db_migrate\".runs AS r "
             "WHERE r.command = 'repair' AND r.outcome = 'applied' AND to_jsonb(r) -> 'detail' ? "
             "'accepted_edit' AND r.id > coalesce((SELECT max(id) FROM \"db_migrate\".runs "
             "WHERE command = 'apply' AND outcome IN ('applied', 'up-to-date')), 0))");
    free(sql);
}

static void rolled_back_note_joins_the_delete_transaction_quoted(void **state)
{
    char *sql = dbm_history_sql_rolled_back(conn, "my schema", 7, "it's");

    assert_string_equal(sql, "UPDATE \"my schema\".runs SET detail = jsonb_set(coalesce(detail, "
                             "'{}'::jsonb), '{rolled_back}', coalesce(detail -> 'rolled_back', "
                             "'[]'::jsonb) || to_jsonb('it''s'::text)) WHERE id = 7");
    free(sql);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(lock_key_is_stable_across_releases),
        cmocka_unit_test(ddl_key_differs_from_the_run_lock_key),
        cmocka_unit_test(claim_done_ends_only_this_runs_claim_in_its_transaction),
        cmocka_unit_test(delete_quotes_schema_and_version),
        cmocka_unit_test(prepared_insert_takes_the_values_as_parameters),
        cmocka_unit_test(history_reads_rows_then_the_last_deployed_commit),
        cmocka_unit_test(rolled_back_note_joins_the_delete_transaction_quoted),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
