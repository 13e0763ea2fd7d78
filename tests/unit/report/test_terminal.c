#include "unit.h"

#include "report/report.h"
#include "sample.h"

#include <stdlib.h>
#include <string.h>

static void sample_reads_as_plain_aligned_text_change_first(void **state)
{
    dbm_report *r = sample_report();
    char *t = dbm_report_terminal(r, false);

    assert_string_equal(
        t, "db-migrate apply: failed at db/migrations/2_b.sql:4 · 1 applied · 2 pending · 1 error "
           "· 1 warning\n"
           "database app@db.example:5432/app · fedcba987654..0123456789ab\n"
           "\n"
           "  STATUS   VERSION  NAME\n"
           "  applied  1        create users  12 ms\n"
           "  failed   2        b|<x>`y`       4 ms\n"
           "  pending  3        c\n"
           "  edited   4        d\n"
           "  skipped  5        e                    already applied by *flyway* [v5]\n"
           "  missing  6        f\n"
           "\n"
           "failed: db/migrations/2_b.sql:4:14\n"
           "  relation \"users\" already exists second line (SQLSTATE 42P07)\n"
           "  detail: Key (id)=(1) & <more>\n"
           "  hint: drop it: first, 100% sure\n"
           "     3 | BEGIN;\n"
           "  >  4 | CREATE TABLE users (id int);\n"
           "     5 | COMMIT;\n"
           "\n"
           "errors (1):\n"
           "  edited-applied  db/migrations/4_d.sql:1: '4_d.sql' was edited after deploy\n"
           "    hint: add a new migration instead\n"
           "\n"
           "warnings (1):\n"
           "  require-concurrent-index  db/migrations/3_c.sql:2: CREATE INDEX blocks writes "
           "(dry-run: confirmed)\n"
           "\n"
           "notes (1):\n"
           "  info_rule: note #1 with `ticks` and 50%\n"
           "\n"
           "edited after deploy: db/migrations/4_d.sql (changed in 1234567890ab)\n"
           "  --- a/4_d.sql\n"
           "  +++ b/4_d.sql\n"
           "  @@ -1 +1 @@\n"
           "  -SELECT 1 < 2;\n"
           "  +SELECT 1 > 2 & 3;\n");
    free(t);
    dbm_report_free(r);
}

/* A dry-run of one migration after two applied by earlier runs. */
static dbm_report *dry_run_after_history(const char *command)
{
    dbm_report *r = dbm_report_new(command);
    dbm_mig_result *m;
    dbm_stmt_result *s;

    dbm_report_set(&r->status, "pending");
    r->pending_count = 1;
    for (int i = 1; i <= 2; i++) {
        char v[16], when[32];
        snprintf(v, sizeof(v), "%03d", i);
        snprintf(when, sizeof(when), "2026-12-04T21:27:1%dZ", i);
        m = dbm_report_add_migration(r, v, "add_users", "m/x.sql", DBM_MIG_APPLIED);
        m->earlier = true;
        m->duration_ms = 5;
        dbm_report_set(&m->applied_at, when);
        dbm_report_set(&m->note, "applied before");
    }
    m = dbm_report_add_migration(r, "003", "orders_bigint", "m/003_orders_bigint.sql",
                                 DBM_MIG_PENDING);
    m->duration_ms = 120;
    s = dbm_report_add_stmt(m, 1, "ALTER TABLE");
    dbm_report_set(&s->sql, "ALTER TABLE \"orders\" ALTER COLUMN id TYPE bigint");
    dbm_report_add_lock(s, "public.orders", "AccessExclusiveLock");
    dbm_report_add_rewrite(s, "public.orders", 14575206);
    s = dbm_report_add_stmt(m, 2, "CREATE INDEX");
    dbm_report_set(&s->sql, "CREATE INDEX orders_\x1b[2Jat ON orders (at)");
    return r;
}

static void history_is_one_line_and_the_change_shows_statements_locks_rewrites(void **state)
{
    dbm_report *r = dry_run_after_history("dry-run");
    char *t = dbm_report_terminal(r, false);

    assert_string_equal(
        t, "db-migrate dry-run: rewrites public.orders (13.9 MB) under AccessExclusiveLock · 1 "
           "pending\n"
           "\n"
           "  STATUS   VERSION  NAME\n"
           "  pending  003      orders_bigint  120 ms\n"
           "                    ALTER TABLE \"orders\" ALTER COLUMN id TYPE bigint\n"
           "                    CREATE INDEX orders_?[2Jat ON orders (at)\n"
           "                    lock: public.orders AccessExclusiveLock\n"
           "                    rewrite: public.orders 13.9 MB\n"
           "\n"
           "earlier: 2 migrations applied before this run; the newest is 002 add_users, applied "
           "2026-12-04T21:27:12Z\n");
    free(t);
    dbm_report_free(r);
}

static void status_lists_every_row(void **state)
{
    dbm_report *r = dry_run_after_history("status");
    char *t;

    r->migs[2].nstmts = 0;
    t = dbm_report_terminal(r, false);
    assert_string_equal(t, "db-migrate status: 1 pending\n"
                           "\n"
                           "  STATUS   VERSION  NAME\n"
                           "  applied  001      add_users      5 ms  applied "
                           "2026-12-04T21:27:11Z\n"
                           "  applied  002      add_users      5 ms  applied "
                           "2026-12-04T21:27:12Z\n"
                           "  pending  003      orders_bigint\n");
    r->migs[2].nstmts = 2;
    free(t);
    dbm_report_free(r);
}

static void colour_marks_the_headline_and_statuses_only_when_asked(void **state)
{
    dbm_report *r = dry_run_after_history("status");
    char *t;

    r->migs[2].nstmts = 0;
    t = dbm_report_terminal(r, true);
    assert_string_equal(t, "\033[33mdb-migrate status: 1 pending\033[0m\n"
                           "\n"
                           "  STATUS   VERSION  NAME\n"
                           "  \033[32mapplied\033[0m  001      add_users      5 ms  applied "
                           "2026-12-04T21:27:11Z\n"
                           "  \033[32mapplied\033[0m  002      add_users      5 ms  applied "
                           "2026-12-04T21:27:12Z\n"
                           "  \033[33mpending\033[0m  003      orders_bigint\n");
    r->migs[2].nstmts = 2;
    free(t);
    dbm_report_free(r);
}

static void nothing_is_escaped_for_markdown_or_html(void **state)
{
    dbm_report *r = dbm_report_new("plan");
    dbm_mig_result *m = dbm_report_add_migration(r, "1", "add_users \"x\" `y` <br> a|b",
                                                 "m/1_add_users.sql", DBM_MIG_PENDING);
    char *t;

    r->pending_count = 1;
    dbm_report_set(&r->status, "pending");
    dbm_report_set(&m->excerpt, "CREATE TABLE \"users\" (note_text text)");
    dbm_report_add_finding(r, DBM_SEV_WARNING, "r_1", "m/1_add_users.sql", 1, 1, "a \"b\" & <c>");
    t = dbm_report_terminal(r, false);
    assert_string_equal(t, "db-migrate plan: 1 pending · 1 warning\n"
                           "\n"
                           "  STATUS   VERSION  NAME\n"
                           "  pending  1        add_users \"x\" `y` <br> a|b\n"
                           "                    CREATE TABLE \"users\" (note_text text)\n"
                           "\n"
                           "warnings (1):\n"
                           "  r_1  m/1_add_users.sql:1: a \"b\" & <c>\n");
    free(t);
    dbm_report_free(r);
}

static void sql_lines_are_cut_to_the_terminal_width(void **state)
{
    dbm_report *r = dry_run_after_history("dry-run");
    char *t = dbm_report_terminal_cut(r, false, 40);

    /* the excerpts start at column 20: 19 characters and the ellipsis fill the 40 */
    assert_non_null(strstr(t, "                    ALTER TABLE \"orders…\n"));
    assert_non_null(strstr(t, "                    CREATE INDEX orders…\n"));
    /* what is not SQL is left whole; 0 is no limit */
    assert_non_null(strstr(t, "  pending  003      orders_bigint  120 ms\n"));
    free(t);
    t = dbm_report_terminal_cut(r, false, 0);
    assert_non_null(strstr(t, "ALTER TABLE \"orders\" ALTER COLUMN id TYPE bigint\n"));
    free(t);
    dbm_report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sample_reads_as_plain_aligned_text_change_first),
        cmocka_unit_test(history_is_one_line_and_the_change_shows_statements_locks_rewrites),
        cmocka_unit_test(status_lists_every_row),
        cmocka_unit_test(colour_marks_the_headline_and_statuses_only_when_asked),
        cmocka_unit_test(nothing_is_escaped_for_markdown_or_html),
        cmocka_unit_test(sql_lines_are_cut_to_the_terminal_width),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
