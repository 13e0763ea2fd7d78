/*
 * test_lease.c - the run lease's statements, as text: which of them wait for the WAL.
 * Nothing is sent: a connection that never opened is enough for libpq to quote, and the
 * take's answer is made by hand.
 */
#include "unit.h"

#include "offline_conn.h"

#include "postgres/db_internal.h"

#include <stdlib.h>
#include <string.h>

/* The take's answer: ok, direct, taken, took-over. */
static PGresult *take_answer(bool direct)
{
    PGresAttDesc attrs[4];
    const char *names[4] = {"ok", "direct", "count", "format"};
    PGresult *res = PQmakeEmptyPGresult(NULL, PGRES_TUPLES_OK);

    memset(attrs, 0, sizeof(attrs));
    for (int i = 0; i < 4; i++) {
        attrs[i].name = (char *)names[i];
        attrs[i].typlen = -1;
        attrs[i].atttypmod = -1;
    }
    assert_true(PQsetResultAttrs(res, 4, attrs));
    assert_true(PQsetvalue(res, 0, 0, "t", 1));
    assert_true(PQsetvalue(res, 0, 1, direct ? "t" : "f", 1));
    assert_true(PQsetvalue(res, 0, 2, "1", 1));
    assert_true(PQsetvalue(res, 0, 3, NULL, -1));
    return res;
}

/* A lock as the take found it: direct or through a pooler. */
static dbm_db_lock *taken(bool direct)
{
    dbm_db_lock *lock = dbm_lease_new(conn, "my schema");
    dbm_lease_try t = {0};
    PGresult *res = take_answer(direct);

    assert_int_equal(dbm_lease_read(&t, conn, lock, res, NULL), 0);
    assert_true(t.got);
    assert_int_equal(dbm_db_lock_direct(lock), direct);
    dbm_lease_try_free(&t);
    PQclear(res);
    return lock;
}

static void take_is_one_statement_that_commits_without_the_wal_only_when_direct(void **state)
{
    dbm_lease_who who = {.command = "apply", .host = "ci"};
    dbm_db_lock *lock = dbm_lease_new(conn, "my schema");
    char *sql = dbm_lease_take_sql(conn, lock, &who);

    (void)state;
    /* One statement: the holder is read only when the take did not get the lease. */
    assert_null(strstr(sql, "; SELECT"));
    const char *end = "CASE WHEN adv.direct THEN set_config('synchronous_commit', 'off', true) "
                      "END FROM adv";

    assert_true(strlen(sql) > strlen(end));
    assert_string_equal(sql + strlen(sql) - strlen(end), end);
    free(sql);
    dbm_db_lock_release(lock, NULL);
}

static void release_on_a_direct_session_is_a_block_that_does_not_wait_for_the_wal(void **state)
{
    dbm_db_lock *lock = taken(true);
    char *sql = dbm_lease_release_sql(conn, lock);
    char want[200];

    (void)state;
    snprintf(want, sizeof(want),
             "BEGIN; SET LOCAL synchronous_commit = off; DELETE FROM \"my schema\".lease WHERE "
             "name = 'run' AND token = '%s'; COMMIT; SELECT pg_advisory_unlock_all()",
             dbm_db_lock_token(lock));
    assert_string_equal(sql, want);
    free(sql);
    dbm_db_lock_release(lock, NULL);
}

static void release_through_a_pooler_is_durable(void **state)
{
    dbm_db_lock *lock = taken(false);
    char *sql = dbm_lease_release_sql(conn, lock);
    char want[200];

    (void)state;
    snprintf(want, sizeof(want),
             "DELETE FROM \"my schema\".lease WHERE name = 'run' AND token = '%s'",
             dbm_db_lock_token(lock));
    assert_string_equal(sql, want);
    free(sql);
    dbm_db_lock_release(lock, NULL);
}

static void holder_read_names_another_live_run(void **state)
{
    dbm_db_lock *lock = dbm_lease_new(conn, "my schema");
    char *sql = dbm_lease_holder_sql(conn, lock);
    char want[100];

    (void)state;
    snprintf(want, sizeof(want),
             "FROM \"my schema\".lease l WHERE l.name = 'run' AND l.token <> '%s' AND ",
             dbm_db_lock_token(lock));
    assert_non_null(strstr(sql, want));
    free(sql);
    dbm_db_lock_release(lock, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(take_is_one_statement_that_commits_without_the_wal_only_when_direct),
        cmocka_unit_test(release_on_a_direct_session_is_a_block_that_does_not_wait_for_the_wal),
        cmocka_unit_test(release_through_a_pooler_is_durable),
        cmocka_unit_test(holder_read_names_another_live_run),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
