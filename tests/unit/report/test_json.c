#include "unit.h"

#include "report/report.h"
#include "sample.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* The report rendered and parsed back. Caller json_decref()s. */
static json_t *parse(const dbm_report *r)
{
    char *text = dbm_report_json(r);
    json_error_t err;
    json_t *root = json_loads(text, 0, &err);

    if (!root)
        fail_msg("report is not JSON (%s): %s", err.text, text);
    free(text);
    return root;
}

static const char *str(const json_t *obj, const char *key)
{
    const json_t *v = json_object_get(obj, key);
    if (!json_is_string(v))
        fail_msg("'%s' is not a string", key);
    return json_string_value(v);
}

static void top_level_fields_say_what_the_run_did(void **state)
{
    dbm_report *r = sample_report();
    json_t *j = parse(r);

    assert_string_equal(str(j, "command"), "apply");
    assert_string_equal(str(j, "status"), "failed");
    assert_string_equal(str(j, "database"), "app@db.example:5432/app");
    assert_string_equal(str(j, "migrations_dir"), "db/migrations");
    assert_string_equal(str(j, "format"), "plain");
    assert_int_equal(json_integer_value(json_object_get(j, "applied_count")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "pending_count")), 2);
    assert_true(json_real_value(json_object_get(j, "duration_ms")) == 1234.5);
    assert_string_equal(str(j, "error"),
                        "unable to apply '2_b.sql': relation \"users\" already exists");
    json_decref(j);
    dbm_report_free(r);
}

static void keys_keep_their_order(void **state)
{
    static const char *const keys[] = {
        "command",       "status",        "database",    "migrations_dir", "format",
        "applied_count", "pending_count", "duration_ms", "error",          "exit_code",
        "git",           "migrations",    "findings"};
    dbm_report *r = sample_report();
    char *text = dbm_report_json(r);
    const char *at = text;

    assert_true(strncmp(text, "{\n  \"command\": \"apply\",\n", 24) == 0);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char *quoted = dbm_xasprintf("\n  \"%s\": ", keys[i]);
        const char *next = strstr(at, quoted);
        if (!next)
            fail_msg("key '%s' missing or out of order", keys[i]);
        at = next + 1;
        free(quoted);
    }
    free(text);
    dbm_report_free(r);
}

static void git_facts_and_changes(void **state)
{
    dbm_report *r = sample_report();
    json_t *j = parse(r);
    json_t *git = json_object_get(j, "git");
    json_t *changes = json_object_get(git, "changes");
    json_t *c;

    assert_string_equal(str(git, "head"), SAMPLE_HEAD);
    assert_string_equal(str(git, "deployed"), SAMPLE_DEPLOYED);
    assert_true(json_is_null(json_object_get(git, "base")));
    assert_string_equal(str(git, "compare_url"), SAMPLE_COMPARE);
    assert_int_equal(json_array_size(changes), 2);
    c = json_array_get(changes, 0);
    assert_string_equal(str(c, "kind"), "modified");
    assert_string_equal(str(c, "path"), "db/migrations/4_d.sql");
    assert_true(json_is_null(json_object_get(c, "old_path")));
    assert_string_equal(str(c, "commit"), SAMPLE_CHANGED_BY);
    c = json_array_get(changes, 1);
    assert_string_equal(str(c, "kind"), "renamed");
    assert_string_equal(str(c, "old_path"), "db/migrations/3_x.sql");
    json_decref(j);
    dbm_report_free(r);
}

static void migration_rows_carry_status_error_and_diff(void **state)
{
    static const char *const status[] = {"applied", "failed",  "pending",
                                         "edited",  "skipped", "missing"};
    dbm_report *r = sample_report();
    json_t *j = parse(r);
    json_t *migs = json_object_get(j, "migrations");
    json_t *m, *e;

    assert_int_equal(json_array_size(migs), 6);
    for (size_t i = 0; i < 6; i++)
        assert_string_equal(str(json_array_get(migs, i), "status"), status[i]);

    m = json_array_get(migs, 0);
    assert_string_equal(str(m, "version"), "1");
    assert_string_equal(str(m, "name"), "create users");
    assert_string_equal(str(m, "file"), "db/migrations/1_create_users.sql");
    assert_true(json_real_value(json_object_get(m, "duration_ms")) == 12.4);
    assert_true(json_is_true(json_object_get(m, "transactional")));
    assert_int_equal(json_integer_value(json_object_get(m, "statement_count")), 3);
    assert_true(json_is_null(json_object_get(m, "note")));
    assert_true(json_is_null(json_object_get(m, "error")));
    assert_int_equal(json_array_size(json_object_get(m, "statements")), 0);
    assert_null(json_object_get(m, "diff"));
    assert_null(json_object_get(m, "changed_by"));

    m = json_array_get(migs, 1);
    assert_string_equal(str(m, "name"), "b|<x>`y`");
    assert_true(json_is_false(json_object_get(m, "transactional")));
    e = json_object_get(m, "error");
    assert_string_equal(str(e, "message"), "relation \"users\" already exists\nsecond line");
    assert_string_equal(str(e, "sqlstate"), "42P07");
    assert_string_equal(str(e, "file"), "db/migrations/2_b.sql");
    assert_int_equal(json_integer_value(json_object_get(e, "line")), 4);
    assert_int_equal(json_integer_value(json_object_get(e, "column")), 14);
    assert_string_equal(str(e, "detail"), "Key (id)=(1) & <more>");
    assert_string_equal(str(e, "hint"), "drop it: first, 100% sure");
    /* The SQL context travels too: a report read back (a remote run's) renders the summary. */
    assert_non_null(strstr(str(e, "context"), "\n"));
    assert_int_equal(json_object_size(e), 8);

    m = json_array_get(migs, 3);
    assert_true(strncmp(str(m, "diff"), "--- a/4_d.sql\n", 14) == 0);
    assert_string_equal(str(m, "changed_by"), SAMPLE_CHANGED_BY);
    assert_string_equal(str(json_array_get(migs, 4), "note"), "already applied by *flyway* [v5]");
    assert_true(json_is_null(json_object_get(json_array_get(migs, 5), "file")));
    json_decref(j);
    dbm_report_free(r);
}

static void statements_carry_locks_rewrites_and_notes(void **state)
{
    dbm_report *r = dbm_report_new("dry-run");
    dbm_mig_result *m = dbm_report_add_migration(r, "1", "a", "a.sql", DBM_MIG_PENDING);
    dbm_stmt_result *s = dbm_report_add_stmt(m, 3, "ALTER TABLE");
    json_t *j, *st, *x;

    s->duration_ms = 2.5;
    dbm_report_add_lock(s, "public.t", "AccessExclusiveLock");
    dbm_report_add_rewrite(s, "public.t", 5LL << 32);
    s = dbm_report_add_stmt(m, 7, "CREATE INDEX");
    dbm_report_set(&s->note, "not executed: runs outside a transaction");
    j = parse(r);
    st = json_object_get(json_array_get(json_object_get(j, "migrations"), 0), "statements");
    assert_int_equal(json_array_size(st), 2);
    x = json_array_get(st, 0);
    assert_int_equal(json_integer_value(json_object_get(x, "line")), 3);
    assert_string_equal(str(x, "tag"), "ALTER TABLE");
    assert_true(json_real_value(json_object_get(x, "duration_ms")) == 2.5);
    assert_true(json_is_null(json_object_get(x, "note")));
    assert_string_equal(str(json_array_get(json_object_get(x, "locks"), 0), "relation"),
                        "public.t");
    assert_string_equal(str(json_array_get(json_object_get(x, "locks"), 0), "mode"),
                        "AccessExclusiveLock");
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(x, "rewrites"), 0), "bytes")),
                     5LL << 32);
    x = json_array_get(st, 1);
    assert_string_equal(str(x, "note"), "not executed: runs outside a transaction");
    assert_int_equal(json_array_size(json_object_get(x, "locks")), 0);
    json_decref(j);
    dbm_report_free(r);
}

static void findings_name_severity_and_dry_run_verdict(void **state)
{
    dbm_report *r = sample_report();
    json_t *j = parse(r);
    json_t *fs = json_object_get(j, "findings");
    json_t *f;

    assert_int_equal(json_array_size(fs), 3);
    f = json_array_get(fs, 0);
    assert_string_equal(str(f, "severity"), "error");
    assert_string_equal(str(f, "rule"), "edited-applied");
    assert_string_equal(str(f, "file"), "db/migrations/4_d.sql");
    assert_int_equal(json_integer_value(json_object_get(f, "line")), 1);
    assert_int_equal(json_integer_value(json_object_get(f, "column")), 0);
    assert_string_equal(str(f, "message"), "'4_d.sql' was edited after deploy");
    assert_string_equal(str(f, "hint"), "add a new migration instead");
    assert_true(json_is_null(json_object_get(f, "dry_run")));
    f = json_array_get(fs, 1);
    assert_string_equal(str(f, "severity"), "warning");
    assert_int_equal(json_integer_value(json_object_get(f, "column")), 5);
    assert_string_equal(str(f, "dry_run"), "confirmed");
    f = json_array_get(fs, 2);
    assert_string_equal(str(f, "severity"), "notice");
    assert_true(json_is_null(json_object_get(f, "file")));
    assert_string_equal(str(f, "message"), "note #1 with `ticks` and 50%");
    json_decref(j);
    dbm_report_free(r);
}

static void empty_record_gives_nulls_and_empty_lists(void **state)
{
    dbm_report *r = dbm_report_new("status");
    json_t *j = parse(r);

    assert_true(json_is_null(json_object_get(j, "status")));
    assert_true(json_is_null(json_object_get(j, "database")));
    assert_true(json_is_null(json_object_get(j, "error")));
    assert_true(json_is_null(json_object_get(json_object_get(j, "git"), "head")));
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "git"), "changes")), 0);
    assert_int_equal(json_array_size(json_object_get(j, "migrations")), 0);
    assert_int_equal(json_array_size(json_object_get(j, "findings")), 0);
    json_decref(j);
    dbm_report_free(r);
}

static void invalid_utf8_from_files_becomes_question_marks(void **state)
{
    dbm_report *r = dbm_report_new("apply");
    json_t *j;

    dbm_report_set(&r->migrations_dir, "bad\xff\xfe_dir");
    dbm_report_set(&r->error, "caf\xc3 (cut)");
    dbm_report_add_migration(r, "1", "na\xe9me", "f\xe9.sql", DBM_MIG_PENDING);
    j = parse(r);
    assert_string_equal(str(j, "migrations_dir"), "bad??_dir");
    assert_string_equal(str(j, "error"), "caf? (cut)");
    assert_string_equal(str(json_array_get(json_object_get(j, "migrations"), 0), "name"), "na?me");
    assert_string_equal(str(json_array_get(json_object_get(j, "migrations"), 0), "file"), "f?.sql");
    json_decref(j);
    dbm_report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(top_level_fields_say_what_the_run_did),
        cmocka_unit_test(keys_keep_their_order),
        cmocka_unit_test(git_facts_and_changes),
        cmocka_unit_test(migration_rows_carry_status_error_and_diff),
        cmocka_unit_test(statements_carry_locks_rewrites_and_notes),
        cmocka_unit_test(findings_name_severity_and_dry_run_verdict),
        cmocka_unit_test(empty_record_gives_nulls_and_empty_lists),
        cmocka_unit_test(invalid_utf8_from_files_becomes_question_marks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
