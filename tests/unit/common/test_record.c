#include "unit.h"

#include "common/record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void new_record_names_its_command_and_nothing_else(void **state)
{
    dbm_report *r = dbm_report_new("plan");

    assert_string_equal(r->command, "plan");
    assert_null(r->status);
    assert_int_equal(r->nmigs, 0);
    assert_int_equal(r->nfindings, 0);
    assert_false(dbm_report_has_blocking(r));
    dbm_report_free(r);
    dbm_report_free(NULL);
}

static void set_copies_and_clears(void **state)
{
    dbm_report *r = dbm_report_new("apply");
    char value[] = "applied";

    dbm_report_set(&r->status, value);
    value[0] = 'X';
    assert_string_equal(r->status, "applied");
    dbm_report_set(&r->status, r->status); /* setting a field from itself is safe */
    assert_string_equal(r->status, "applied");
    dbm_report_set(&r->status, NULL);
    assert_null(r->status);
    dbm_report_free(r);
}

static void migration_rows_are_found_again_by_version(void **state)
{
    dbm_report *r = dbm_report_new("apply");
    dbm_mig_result *m;

    dbm_report_add_migration(r, "1", "a", NULL, DBM_MIG_PENDING);
    dbm_report_add_migration(r, "2", "b", "b.sql", DBM_MIG_PENDING);
    m = dbm_report_migration(r, "1", "other name", "a.sql", DBM_MIG_APPLIED);
    assert_int_equal(r->nmigs, 2);
    assert_ptr_equal(m, &r->migs[0]);
    assert_int_equal(m->status, DBM_MIG_APPLIED);
    assert_string_equal(m->name, "a");     /* the name stays */
    assert_string_equal(m->file, "a.sql"); /* a missing file is filled in */
    m = dbm_report_migration(r, "2", "b", "elsewhere.sql", DBM_MIG_FAILED);
    assert_string_equal(m->file, "b.sql"); /* a known file stays */
    m = dbm_report_migration(r, "3", "c", "c.sql", DBM_MIG_MISSING);
    assert_int_equal(r->nmigs, 3);
    assert_string_equal(m->version, "3");
    assert_string_equal(m->name, "c");
    assert_int_equal(m->status, DBM_MIG_MISSING);
    dbm_report_free(r);
}

static void rows_keep_their_order_as_the_array_grows(void **state)
{
    dbm_report *r = dbm_report_new("apply");
    char v[16];

    for (int i = 0; i < 1000; i++) {
        snprintf(v, sizeof(v), "%d", i);
        dbm_report_add_migration(r, v, "n", "f.sql", DBM_MIG_PENDING);
    }
    assert_int_equal(r->nmigs, 1000);
    assert_string_equal(r->migs[0].version, "0");
    assert_string_equal(r->migs[999].version, "999");
    assert_string_equal(dbm_report_migration(r, "500", NULL, NULL, DBM_MIG_APPLIED)->version,
                        "500");
    assert_int_equal(r->nmigs, 1000);
    dbm_report_free(r);
}

static void statements_collect_locks_and_rewrites(void **state)
{
    dbm_report *r = dbm_report_new("dry-run");
    dbm_mig_result *m = dbm_report_add_migration(r, "1", "a", "a.sql", DBM_MIG_PENDING);
    dbm_stmt_result *s = dbm_report_add_stmt(m, 4, "ALTER TABLE");

    dbm_report_add_lock(s, "public.t", "AccessExclusiveLock");
    dbm_report_add_lock(s, "public.u", "ShareLock");
    dbm_report_add_rewrite(s, "public.t", 8192);
    assert_int_equal(m->nstmts, 1);
    assert_int_equal(s->line, 4);
    assert_string_equal(s->tag, "ALTER TABLE");
    assert_int_equal(s->nlocks, 2);
    assert_string_equal(s->locks[1].relation, "public.u");
    assert_string_equal(s->locks[1].mode, "ShareLock");
    assert_int_equal(s->nrewrites, 1);
    assert_int_equal(s->rewrites[0].bytes, 8192);
    dbm_report_free(r);
}

static void set_error_replaces_the_previous_one(void **state)
{
    dbm_report *r = dbm_report_new("apply");
    dbm_mig_result *m = dbm_report_add_migration(r, "1", "a", "a.sql", DBM_MIG_FAILED);
    dbm_error_info *e = dbm_report_set_error(m, "first", "42P07");

    dbm_report_set(&e->hint, "a hint");
    e = dbm_report_set_error(m, "second", NULL);
    assert_ptr_equal(m->error, e);
    assert_string_equal(e->message, "second");
    assert_null(e->sqlstate);
    assert_null(e->hint);
    assert_int_equal(e->line, 0);
    dbm_report_free(r);
}

static void findings_format_their_message(void **state)
{
    dbm_report *r = dbm_report_new("plan");
    dbm_finding *f = dbm_report_add_finding(r, DBM_SEV_WARNING, "require-concurrent-index",
                                            "m/1.sql", 3, 7, "index on '%s' (%d%%)", "users", 50);

    assert_int_equal(r->nfindings, 1);
    assert_int_equal(f->severity, DBM_SEV_WARNING);
    assert_string_equal(f->rule, "require-concurrent-index");
    assert_string_equal(f->file, "m/1.sql");
    assert_int_equal(f->line, 3);
    assert_int_equal(f->col, 7);
    assert_string_equal(f->message, "index on 'users' (50%)");
    assert_null(f->hint);
    assert_null(f->status);
    f = dbm_report_add_finding(r, DBM_SEV_NOTICE, "n", NULL, 0, 0, "%s", "");
    assert_null(f->file);
    assert_string_equal(f->message, "");
    dbm_report_free(r);
}

static void only_error_findings_block(void **state)
{
    dbm_report *r = dbm_report_new("plan");

    dbm_report_add_finding(r, DBM_SEV_NOTICE, "a", NULL, 0, 0, "n");
    dbm_report_add_finding(r, DBM_SEV_WARNING, "b", NULL, 0, 0, "w");
    assert_false(dbm_report_has_blocking(r));
    dbm_report_add_finding(r, DBM_SEV_ERROR, "c", NULL, 0, 0, "e");
    assert_true(dbm_report_has_blocking(r));
    dbm_report_free(r);
}

static void git_changes_are_copied(void **state)
{
    dbm_report *r = dbm_report_new("plan");
    dbm_git_change_info *c = dbm_report_add_git_change(r, "renamed", "b.sql", "a.sql", "abc");

    assert_int_equal(r->git.nchanges, 1);
    assert_string_equal(c->kind, "renamed");
    assert_string_equal(c->path, "b.sql");
    assert_string_equal(c->old_path, "a.sql");
    assert_string_equal(c->commit, "abc");
    c = dbm_report_add_git_change(r, "added", "c.sql", NULL, NULL);
    assert_null(c->old_path);
    assert_null(c->commit);
    dbm_report_free(r);
}

static void status_names_are_the_reports_words(void **state)
{
    assert_string_equal(dbm_mig_status_name(DBM_MIG_PENDING), "pending");
    assert_string_equal(dbm_mig_status_name(DBM_MIG_APPLIED), "applied");
    assert_string_equal(dbm_mig_status_name(DBM_MIG_FAILED), "failed");
    assert_string_equal(dbm_mig_status_name(DBM_MIG_SKIPPED), "skipped");
    assert_string_equal(dbm_mig_status_name(DBM_MIG_EDITED), "edited");
    assert_string_equal(dbm_mig_status_name(DBM_MIG_MISSING), "missing");
}

static void excerpt_is_one_line_cut_at_a_character(void **state)
{
    static const struct {
        const char *sql;
        size_t max;
        const char *want;
    } cases[] = {
        {"CREATE TABLE t (\n    id int,\n\tname text\n)", 100,
         "CREATE TABLE t ( id int, name text )"},
        {"  SELECT 1  \r\n", 100, "SELECT 1"},
        {"SELECT 'abcdef'", 8, "SELECT '…"},
        {"SELECT 'éé'", 9, "SELECT 'é…"},
        {"SELECT 'éé'", 13, "SELECT 'éé'"},
        {"a\x01"
         "b\x7f",
         10, "a b"},
        {"", 10, ""},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *e = dbm_excerpt(cases[i].sql, strlen(cases[i].sql), cases[i].max);
        assert_string_equal(e, cases[i].want);
        free(e);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(new_record_names_its_command_and_nothing_else),
        cmocka_unit_test(set_copies_and_clears),
        cmocka_unit_test(excerpt_is_one_line_cut_at_a_character),
        cmocka_unit_test(migration_rows_are_found_again_by_version),
        cmocka_unit_test(rows_keep_their_order_as_the_array_grows),
        cmocka_unit_test(statements_collect_locks_and_rewrites),
        cmocka_unit_test(set_error_replaces_the_previous_one),
        cmocka_unit_test(findings_format_their_message),
        cmocka_unit_test(only_error_findings_block),
        cmocka_unit_test(git_changes_are_copied),
        cmocka_unit_test(status_names_are_the_reports_words),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
