/*
 * test_adopt_match.c - another tool's history, as read from its table, matched
 * to the migration files: which are imported, and what is reported. Flyway's
 * and Prisma's rows are replayed the way their tables are read.
 */
#include "unit.h"

#include "common/util.h"
#include "postgres/adopt_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A set of files with these versions (in apply order); "R__" ones are Flyway repeatables. */
static dbm_migration_set *set_of(dbm_format format, const char *const *versions, size_t n)
{
    dbm_migration_set *set = dbm_xcalloc(1, sizeof(*set));

    set->items = dbm_xcalloc(n, sizeof(*set->items));
    set->count = n;
    set->format = format;
    set->dir = dbm_xstrdup("db/migrations");
    for (size_t i = 0; i < n; i++) {
        dbm_migration *m = &set->items[i];
        m->version = dbm_xstrdup(versions[i]);
        m->name = dbm_xstrdup("x");
        m->path = dbm_xasprintf("%s/%s.sql", i % 2 ? "sub" : ".", versions[i]);
        m->repeatable = strncmp(versions[i], "R__", 3) == 0;
        snprintf(m->checksum, sizeof(m->checksum), "sha256:sum-%s", versions[i]);
    }
    return set;
}

static void set_free(dbm_migration_set *set)
{
    for (size_t i = 0; i < set->count; i++) {
        free(set->items[i].version);
        free(set->items[i].name);
        free(set->items[i].path);
    }
    free(set->items);
    free(set->dir);
    free(set);
}

static void source_init(dbm_adopt_source *s, const char *name)
{
    memset(s, 0, sizeof(*s));
    s->schema = dbm_xstrdup("public");
    s->name = dbm_xstrdup(name);
}

/* The plan's imports as "i,j,k". */
static char *imports(const dbm_adopt_plan *plan)
{
    dbm_buf b = DBM_BUF_INIT;

    for (size_t k = 0; k < plan->nimport; k++)
        dbm_buf_printf(&b, "%s%zu", k ? "," : "", plan->import[k]);
    return dbm_buf_detach(&b);
}

static void assert_imports(const dbm_adopt_plan *plan, const char *expected)
{
    char *got = imports(plan);
    assert_string_equal(got, expected);
    free(got);
}

static void dbmate_versions_match_files_and_a_missing_file_is_warned(void **state)
{
    static const char *const v[] = {"20240101", "20240102", "20240103"};
    dbm_migration_set *set = set_of(DBM_FORMAT_DBMATE, v, 3);
    dbm_report *r = dbm_report_new("baseline");
    dbm_adopt_source s;
    dbm_adopt_plan *plan;

    source_init(&s, "schema_migrations");
    dbm_adopt_source_add(&s, "20231231", DBM_ADOPT_APPLIED);
    dbm_adopt_source_add(&s, "20240101", DBM_ADOPT_APPLIED);
    dbm_adopt_source_add(&s, "20240103", DBM_ADOPT_APPLIED);
    plan = dbm_adopt_match(r, &s, DBM_FORMAT_DBMATE, set, NULL, NULL);
    assert_string_equal(plan->table, "public.schema_migrations");
    assert_int_equal(plan->listed, 3);
    assert_int_equal(plan->nblocked, 0);
    assert_imports(plan, "0,2");
    assert_int_equal(r->nfindings, 1);
    assert_int_equal(r->findings[0].severity, DBM_SEV_WARNING);
    assert_string_equal(r->findings[0].rule, "adopt-no-file");
    assert_string_equal(r->findings[0].message,
                        "public.schema_migrations lists version 20231231 as applied but it has "
                        "no file in 'db/migrations'; not imported");
    dbm_adopt_plan_free(plan);
    dbm_adopt_source_clear(&s);
    dbm_report_free(r);
    set_free(set);
}

static void target_version_stops_the_import_at_it(void **state)
{
    static const char *const v[] = {"20240101", "20240102", "20240103", "20240104"};
    dbm_migration_set *set = set_of(DBM_FORMAT_DBMATE, v, 4);
    dbm_report *r = dbm_report_new("baseline");
    dbm_adopt_source s;
    dbm_adopt_plan *plan;

    source_init(&s, "schema_migrations");
    for (size_t i = 0; i < 4; i++)
        dbm_adopt_source_add(&s, v[i], DBM_ADOPT_APPLIED);
    plan = dbm_adopt_match(r, &s, DBM_FORMAT_DBMATE, set, NULL, "20240102");
    assert_imports(plan, "0,1");
    assert_int_equal(plan->listed, 4);
    assert_int_equal(r->nfindings, 0);
    dbm_adopt_plan_free(plan);
    dbm_adopt_source_clear(&s);
    dbm_report_free(r);
    set_free(set);
}

static void golang_migrate_current_version_covers_every_file_up_to_it(void **state)
{
    static const char *const v[] = {"1", "2", "3", "10"};
    dbm_migration_set *set = set_of(DBM_FORMAT_GOLANG_MIGRATE, v, 4);
    dbm_report *r = dbm_report_new("baseline");
    dbm_adopt_source s;
    dbm_adopt_plan *plan;
    size_t applied, unfinished;
    const char *current;

    source_init(&s, "schema_migrations");
    dbm_adopt_source_add(&s, "3", DBM_ADOPT_UP_TO);
    plan = dbm_adopt_match(r, &s, DBM_FORMAT_GOLANG_MIGRATE, set, NULL, NULL);
    assert_imports(plan, "0,1,2");
    assert_int_equal(plan->listed, 1);
    assert_int_equal(r->nfindings, 0);
    dbm_adopt_count(&applied, &unfinished, &current, &s, set);
    assert_int_equal(applied, 3);
    assert_int_equal(unfinished, 0);
    assert_string_equal(current, "3");
    dbm_adopt_plan_free(plan);
    dbm_adopt_source_clear(&s);

    /* A current version without a file: the files below it, and a warning. */
    source_init(&s, "schema_migrations");
    dbm_adopt_source_add(&s, "5", DBM_ADOPT_UP_TO);
    plan = dbm_adopt_match(r, &s, DBM_FORMAT_GOLANG_MIGRATE, set, NULL, NULL);
    assert_imports(plan, "0,1,2");
    assert_int_equal(r->nfindings, 1);
    assert_string_equal(r->findings[0].message,
                        "public.schema_migrations records version 5, which has no file in "
                        "'db/migrations'");
    dbm_adopt_plan_free(plan);
    dbm_adopt_source_clear(&s);
    dbm_report_free(r);
    set_free(set);
}

static void unfinished_entry_blocks_and_says_how_to_clear_it(void **state)
{
    static const char *const v[] = {"1", "2", "3"};
    dbm_migration_set *set = set_of(DBM_FORMAT_GOLANG_MIGRATE, v, 3);
    dbm_report *r = dbm_report_new("baseline");
    dbm_adopt_source s;
    dbm_adopt_plan *plan;
    size_t applied, unfinished;
    const char *current;

    source_init(&s, "schema_migrations");
    dbm_adopt_source_add(&s, "2", DBM_ADOPT_UNFINISHED)->detail = dbm_xstrdup("dirty = true");
    plan = dbm_adopt_match(r, &s, DBM_FORMAT_GOLANG_MIGRATE, set, NULL, NULL);
    assert_int_equal(plan->nblocked, 1);
    assert_int_equal(plan->listed, 0);
    assert_int_equal(plan->nimport, 0);
    assert_int_equal(r->nfindings, 1);
    assert_int_equal(r->findings[0].severity, DBM_SEV_ERROR);
    assert_string_equal(r->findings[0].rule, "adopt-unfinished");
    assert_string_equal(r->findings[0].message, "public.schema_migrations records version 2 as "
                                                "not finished (dirty = true); nothing was "
                                                "imported");
    assert_non_null(strstr(r->findings[0].hint, "'migrate force'"));
    dbm_adopt_count(&applied, &unfinished, &current, &s, set);
    assert_int_equal(applied, 0);
    assert_int_equal(unfinished, 1);
    assert_string_equal(current, "2");
    dbm_adopt_plan_free(plan);
    dbm_adopt_source_clear(&s);
    dbm_report_free(r);
    set_free(set);
}

static void flyway_rows_replay_in_installed_rank_order(void **state)
{
    dbm_adopt_source s;

    source_init(&s, "flyway_schema_history");
    dbm_adopt_flyway_row(&s, NULL, "<< Flyway Schema Creation >>", "SCHEMA", "\"app\"", true);
    dbm_adopt_flyway_row(&s, "1", "init", "SQL", "V1__init.sql", true);
    dbm_adopt_flyway_row(&s, "2", "users", "SQL", "V2__users.sql", true);
    dbm_adopt_flyway_row(&s, NULL, "Jobs view", "SQL", "R__Jobs_view.sql", true);
    dbm_adopt_flyway_row(&s, "3", "java", "JDBC", "db.migration.V3__java", true);
    dbm_adopt_flyway_row(&s, NULL, "Jobs view", "SQL", "R__Jobs_view.sql", true); /* run again */
    dbm_adopt_flyway_row(&s, "2", "users", "DELETE", "V2__users.sql", true);      /* repair */
    dbm_adopt_flyway_row(&s, "4", "broken", "SQL", "V4__broken.sql", false);
    dbm_adopt_flyway_row(&s, "0.5", "<< Flyway Baseline >>", "BASELINE", NULL, true);

    assert_int_equal(s.count, 5);
    assert_string_equal(s.items[0].version, "1");
    assert_int_equal(s.items[0].state, DBM_ADOPT_APPLIED);
    assert_string_equal(s.items[1].version, "3");
    assert_null(s.items[2].version);
    assert_string_equal(s.items[2].script, "R__Jobs_view.sql");
    assert_string_equal(s.items[3].version, "4");
    assert_int_equal(s.items[3].state, DBM_ADOPT_UNFINISHED);
    assert_string_equal(s.items[3].detail, "success = false");
    assert_string_equal(s.items[4].version, "0.5");
    assert_int_equal(s.items[4].state, DBM_ADOPT_UP_TO);
    assert_true(s.items[4].baseline);
    dbm_adopt_source_clear(&s);
}

static void flyway_baseline_and_repeatables_find_their_files(void **state)
{
    static const char *const v[] = {"1", "1.1", "2", "3", "R__Jobs_view", "R__Other"};
    dbm_migration_set *set = set_of(DBM_FORMAT_FLYWAY, v, 6);
    dbm_report *r = dbm_report_new("baseline");
    dbm_adopt_source s;
    dbm_adopt_plan *plan;

    /* The repeatable's file is found by its description when the script differs. */
    source_init(&s, "flyway_schema_history");
    dbm_adopt_flyway_row(&s, "1.5", "<< Flyway Baseline >>", "BASELINE", NULL, true);
    dbm_adopt_flyway_row(&s, "3", "three", "SQL", "V3__three.sql", true);
    dbm_adopt_flyway_row(&s, NULL, "Jobs view", "SQL", "moved/R__Jobs_view.sql", true);
    plan = dbm_adopt_match(r, &s, DBM_FORMAT_FLYWAY, set, NULL, NULL);
    /* 1 and 1.1 under the baseline (whose own version has no file, without a warning), 3, the
     * repeatable; not 2. */
    assert_imports(plan, "0,1,3,4");
    assert_int_equal(r->nfindings, 0);
    dbm_adopt_plan_free(plan);

    /* With a target version no repeatable is imported. */
    plan = dbm_adopt_match(r, &s, DBM_FORMAT_FLYWAY, set, NULL, "3");
    assert_imports(plan, "0,1,3");
    dbm_adopt_plan_free(plan);
    dbm_adopt_source_clear(&s);
    dbm_report_free(r);
    set_free(set);
}

static void prisma_finished_row_wins_and_an_edited_file_is_warned(void **state)
{
    static const char *const v[] = {"20240101_a", "20240102_b", "20240103_c"};
    char *display[] = {"prisma/migrations/20240101_a/migration.sql",
                       "prisma/migrations/20240102_b/migration.sql",
                       "prisma/migrations/20240103_c/migration.sql"};
    dbm_migration_set *set = set_of(DBM_FORMAT_PRISMA, v, 3);
    dbm_report *r = dbm_report_new("baseline");
    dbm_adopt_source s;
    dbm_adopt_plan *plan;

    source_init(&s, "_prisma_migrations");
    dbm_adopt_prisma_row(&s, "20240101_a", NULL, false, false, "\n  Error: boom\nmore");
    dbm_adopt_prisma_row(&s, "20240101_a", "sum-20240101_a", true, false, NULL);
    dbm_adopt_prisma_row(&s, "20240102_b", "sum-20240102_b", true, true, NULL); /* rolled back */
    dbm_adopt_prisma_row(&s, "20240102_b", "old", true, false, NULL);
    dbm_adopt_prisma_row(&s, "20240102_b", "older", true, false, NULL); /* the first one stays */
    assert_int_equal(s.count, 2);
    assert_string_equal(s.items[0].checksum, "sum-20240101_a");
    assert_string_equal(s.items[1].checksum, "old");

    plan = dbm_adopt_match(r, &s, DBM_FORMAT_PRISMA, set, display, NULL);
    assert_imports(plan, "0,1");
    assert_int_equal(r->nfindings, 1);
    assert_string_equal(r->findings[0].rule, "adopt-edited");
    assert_string_equal(r->findings[0].file, display[1]);
    assert_string_equal(r->findings[0].message,
                        "'prisma/migrations/20240102_b/migration.sql' differs from the file "
                        "prisma applied (checksum old); imported with the current file's "
                        "checksum");
    dbm_adopt_plan_free(plan);

    /* An unfinished row with its log's first line; a later unfinished one adds nothing. */
    dbm_adopt_prisma_row(&s, "20240103_c", NULL, false, false, "\n  Error: boom\nmore");
    dbm_adopt_prisma_row(&s, "20240103_c", NULL, false, false, NULL);
    assert_int_equal(s.count, 3);
    assert_string_equal(s.items[2].detail, "finished_at and rolled_back_at are NULL: Error: boom");
    dbm_adopt_source_clear(&s);
    dbm_report_free(r);
    set_free(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dbmate_versions_match_files_and_a_missing_file_is_warned),
        cmocka_unit_test(target_version_stops_the_import_at_it),
        cmocka_unit_test(golang_migrate_current_version_covers_every_file_up_to_it),
        cmocka_unit_test(unfinished_entry_blocks_and_says_how_to_clear_it),
        cmocka_unit_test(flyway_rows_replay_in_installed_rank_order),
        cmocka_unit_test(flyway_baseline_and_repeatables_find_their_files),
        cmocka_unit_test(prisma_finished_row_wins_and_an_edited_file_is_warned),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
