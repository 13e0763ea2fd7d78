/*
 * test_format_sqitch.c - a Sqitch project: plan order, tags, reworked changes'
 * files, revert and verify scripts, psql variables, detection and bad plans.
 */

#include "dirfixture.h"

#define PLAN_HEAD "%syntax-version=1.0.0\n%project=app\n\n"
#define WHO       " 2024-01-01T00:00:00Z Ann <ann@example.com>"

static void plan_order_with_reworked_changes(void **state)
{
    const char *dir = *state;
    dbm_migration_set *set;

    put(dir, "sqitch.plan",
        PLAN_HEAD "users" WHO " # users\n"
                  "fn [users]" WHO " # fn\n"
                  "@v1.0" WHO " # release\n"
                  "other" WHO "\n"
                  "@v1.1" WHO "\n"
                  "@v1.2" WHO "\n"
                  "fn [fn@v1.0]" WHO "# reworked, note glued to the email\n");
    put(dir, "deploy/users.sql", "BEGIN;\nCREATE TABLE users (id int);\nCOMMIT;\n");
    put(dir, "deploy/fn.sql", "-- newest fn\n");
    /* the first instance: the tags after it up to the rework, nearest the rework first */
    put(dir, "deploy/fn@v1.1.sql", "-- first fn\n");
    put(dir, "deploy/fn@v1.0.sql", "-- not this one: v1.1 comes first\n");
    put(dir, "deploy/other.sql", "SELECT 1;\n");
    put(dir, "revert/users.sql", "DROP TABLE users;\n");
    put(dir, "verify/users.sql", "SELECT id FROM users WHERE false;\n");

    assert_order(dir, DBM_FORMAT_AUTO, DBM_FORMAT_SQITCH,
                 "deploy/users.sql deploy/fn@v1.1.sql deploy/other.sql deploy/fn.sql");
    set = load_ok(dir, DBM_FORMAT_SQITCH);
    assert_string_equal(set->items[0].version, "1");
    assert_string_equal(set->items[0].name, "users");
    assert_string_equal(set->items[3].version, "4");
    assert_string_equal(set->items[3].name, "fn");
    assert_string_equal(set->items[1].up, "-- first fn\n");
    assert_false(set->items[0].no_transaction);
    assert_string_equal(set->items[0].down_path, "revert/users.sql");
    assert_string_equal(set->items[0].down, "DROP TABLE users;\n");
    assert_string_equal(set->items[0].verify_path, "verify/users.sql");
    assert_null(set->items[1].down);
    assert_null(set->items[1].verify);
    assert_non_null(dbm_migrations_find(set, "4"));
    dbm_migrations_free(set);
}

static void psql_registry_variable_is_substituted_outside_quotes(void **state)
{
    const char *dir = *state;
    dbm_migration_set *set;

    put(dir, "sqitch.plan", PLAN_HEAD "a" WHO "\n");
    put(dir, "sqitch.conf", "[engine \"pg\"]\n\tregistry = reg\n");
    put(dir, "deploy/a.sql",
        "SET search_path = :\"registry\";\n"
        "SELECT :'registry', x::text, ':registry', $$ :registry $$;\n"
        "-- :registry in a comment\n"
        "SELECT :registry_other, :registry;\n");
    set = load_ok(dir, DBM_FORMAT_AUTO);
    assert_string_equal(set->items[0].up, "SET search_path = \"reg\";\n"
                                          "SELECT 'reg', x::text, ':registry', $$ :registry $$;\n"
                                          "-- :registry in a comment\n"
                                          "SELECT :registry_other, reg;\n");
    dbm_migrations_free(set);
}

static void missing_deploy_script_is_an_error_naming_the_change(void **state)
{
    const char *dir = *state;

    put(dir, "sqitch.plan", PLAN_HEAD "a" WHO "\nb" WHO "\n");
    put(dir, "deploy/a.sql", "SELECT 1;\n");
    assert_load_fails(dir, DBM_FORMAT_SQITCH, DBM_ECONFIG, "deploy/b.sql", "line 5");
}

static void tag_before_any_change_is_an_error(void **state)
{
    const char *dir = *state;

    put(dir, "sqitch.plan", PLAN_HEAD "@v1" WHO "\n");
    assert_load_fails(dir, DBM_FORMAT_SQITCH, DBM_ECONFIG, "line 4", "tag before any change");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(plan_order_with_reworked_changes, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(psql_registry_variable_is_substituted_outside_quotes,
                                        setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(missing_deploy_script_is_an_error_naming_the_change,
                                        setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(tag_before_any_change_is_an_error, setup_dir, teardown_dir),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
