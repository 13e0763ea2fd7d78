#include "unit.h"

#include "report/report.h"
#include "sample.h"

#include <stdlib.h>
#include <string.h>

#define CUT_TAIL "\n\n… summary cut at 900 KiB; the JSON report has everything.\n"

static char *render(const dbm_report *r)
{
    dbm_emit_opts o = {0};
    return dbm_report_markdown(r, &o);
}

/* Fails with both texts shown when `needle` is not in `hay`. */
static void assert_contains(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("expected to find\n%s\nin\n%s", needle, hay);
}

/* Fails with both texts shown when `hay` does not start with `prefix`. */
static void assert_prefix(const char *hay, const char *prefix)
{
    if (strncmp(hay, prefix, strlen(prefix)) != 0)
        fail_msg("expected\n%s\nto start with\n%s", hay, prefix);
}

static void escape_markdown_makes_file_text_inert(void **state)
{
    char *e = dbm_escape_markdown("a|b<c>`d`\ne&\"*_[]\\#\r\x01z");
    assert_string_equal(e, "a&#124;b&lt;c&gt;&#96;d&#96; e&amp;&quot;\\*\\_\\[\\]\\\\\\#  z");
    free(e);
    e = dbm_escape_markdown(NULL);
    assert_string_equal(e, "");
    free(e);
}

static void headline_gives_status_counts_database_and_compare_link(void **state)
{
    dbm_report *r = sample_report();
    char *md = render(r);

    assert_prefix(md, "### ❌ db-migrate apply: failed\n\n"
                      "**1** applied, **2** pending · database `app@db.example:5432/app` · "
                      "[`fedcba987654..0123456789ab`](" SAMPLE_COMPARE ")\n\n");
    free(md);
    dbm_report_free(r);
}

static void headline_icon_follows_the_status(void **state)
{
    static const struct {
        const char *status, *want;
    } cases[] = {
        {"applied", "### ✅ db-migrate status: applied\n\n\n\n"},
        {"up-to-date", "### ✅ db-migrate status: up-to-date\n\n\n\n"},
        {"pending", "### 🟡 db-migrate status: pending\n\n\n\n"},
        {"blocked", "### ❌ db-migrate status: blocked\n\n\n\n"},
        {NULL, "### ❔ db-migrate status: unknown\n\n\n\n"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        dbm_report *r = dbm_report_new("status");
        char *md;
        dbm_report_set(&r->status, cases[i].status);
        md = render(r);
        assert_string_equal(md, cases[i].want);
        free(md);
        dbm_report_free(r);
    }
}

static void headline_without_counts_names_the_database_alone(void **state)
{
    dbm_report *r = dbm_report_new("apply");
    char *md;

    dbm_report_set(&r->status, "up-to-date");
    dbm_report_set(&r->database, "u@h:1/d|x`");
    md = render(r);
    assert_string_equal(md, "### ✅ db-migrate apply: up-to-date\n\ndatabase `u@h:1/d\\|x'`\n\n");
    free(md);
    dbm_report_free(r);
}

static void git_line_falls_back_without_compare_url_or_deployed_commit(void **state)
{
    dbm_report *r = sample_report();
    char *md;

    dbm_report_set(&r->git.compare_url, NULL);
    md = render(r);
    assert_contains(md, "database `app@db.example:5432/app` · `fedcba987654..0123456789ab`\n\n");
    free(md);

    dbm_report_set(&r->git.base, "1111111111111111222222222222222233333333");
    md = render(r);
    assert_contains(md, " · `111111111111..0123456789ab`\n\n");
    free(md);

    dbm_report_set(&r->git.base, NULL);
    dbm_report_set(&r->git.deployed, NULL);
    md = render(r);
    assert_contains(md, " · head `0123456789ab`\n\n");
    free(md);
    dbm_report_free(r);
}

static void run_error_is_a_quote_with_escaped_text(void **state)
{
    dbm_report *r = sample_report();
    char *md = render(r);

    assert_contains(md, "\n\n> **Error:** unable to apply '2\\_b.sql': relation &quot;users&quot; "
                        "already exists\n\n");
    free(md);
    dbm_report_free(r);
}

static void table_has_one_row_per_migration(void **state)
{
    dbm_report *r = sample_report();
    char *md = render(r);

    assert_contains(
        md, "| | Version | Name | Status | Duration | Statements |\n"
            "|---|---|---|---|---:|---:|\n"
            "| ✅ | `1` | create users | applied | 12 ms | 3 |\n"
            "| ❌ | `2` | b&#124;&lt;x&gt;&#96;y&#96; | failed | 4 ms | 1 |\n"
            "| 🕓 | `3` | c | pending |  |  |\n"
            "| ✏️ | `4` | d | edited |  |  |\n"
            "| ⏭️ | `5` | e | skipped: already applied by \\*flyway\\* \\[v5\\] |  |  |\n"
            "| ❓ | `6` | f | missing |  |  |\n\n");
    assert_null(strstr(md, "Locks"));
    free(md);
    dbm_report_free(r);
}

static void code_spans_keep_backticks_pipes_and_newlines_out(void **state)
{
    dbm_report *r = dbm_report_new("apply");
    char *md;

    dbm_report_add_migration(r, "1`|\n2", "n\r\nm", "f.sql", DBM_MIG_PENDING);
    md = render(r);
    assert_contains(md, "| 🕓 | `1'\\| 2` | n  m | pending |  |  |\n");
    free(md);
    dbm_report_free(r);
}

static void failed_migration_shows_position_message_and_context(void **state)
{
    dbm_report *r = sample_report();
    char *md = render(r);

    assert_contains(md, "#### ❌ db/migrations/2\\_b.sql:4:14\n\n"
                        "relation &quot;users&quot; already exists second line (SQLSTATE 42P07)\n\n"
                        "Detail: Key (id)=(1) &amp; &lt;more&gt;\n\n"
                        "Hint: drop it: first, 100% sure\n\n"
                        "<pre>   3 | BEGIN;\n"
                        "&gt;  4 | CREATE TABLE users (id int);\n"
                        "   5 | COMMIT;\n"
                        "</pre>\n\n");
    free(md);
    dbm_report_free(r);
}

static void error_without_position_names_the_migration_file(void **state)
{
    dbm_report *r = dbm_report_new("apply");
    dbm_mig_result *m = dbm_report_add_migration(r, "1", "a", "m/1_a.sql", DBM_MIG_FAILED);
    char *md;

    dbm_report_set_error(m, "boom", NULL);
    md = render(r);
    assert_contains(md, "#### ❌ m/1\\_a.sql\n\nboom\n\n\n");
    free(md);
    dbm_report_free(r);
}

static void findings_list_severity_location_verdict_and_hint(void **state)
{
    dbm_report *r = sample_report();
    char *md = render(r);

    assert_contains(md,
                    "#### Findings\n\n"
                    "- ❌ **edited-applied** `db/migrations/4_d.sql:1`: '4\\_d.sql' was edited "
                    "after deploy — add a new migration instead\n"
                    "- ⚠️ **require-concurrent-index** `db/migrations/3_c.sql:2`: CREATE INDEX "
                    "blocks writes (dry-run: confirmed)\n"
                    "- ℹ️ **info\\_rule**: note \\#1 with &#96;ticks&#96; and 50%\n\n");
    free(md);
    dbm_report_free(r);
}

static void edited_migration_shows_its_diff(void **state)
{
    dbm_report *r = sample_report();
    char *md = render(r);
    const char *want = "<details><summary>Edited after deploy: db/migrations/4\\_d.sql (changed in "
                       "1234567890ab)</summary>\n\n"
                       "<pre>--- a/4_d.sql\n+++ b/4_d.sql\n@@ -1 +1 @@\n"
                       "-SELECT 1 &lt; 2;\n+SELECT 1 &gt; 2 &amp; 3;\n</pre>\n"
                       "</details>\n\n";

    /* the diff block is the summary's last part */
    assert_true(strlen(md) > strlen(want));
    assert_string_equal(md + strlen(md) - strlen(want), want);
    free(md);
    dbm_report_free(r);
}

/* A dry-run's record: statements with locks, rewrites, a note, and findings on their lines. */
static dbm_report *dry_run_report(void)
{
    dbm_report *r = dbm_report_new("dry-run");
    dbm_mig_result *m;
    dbm_stmt_result *s;
    dbm_finding *f;
    static const long long sizes[] = {0, 1023, 1024, 1536, 5LL << 20, 3LL << 30, 7LL << 40};

    dbm_report_set(&r->status, "pending");
    r->pending_count = 1;
    m = dbm_report_add_migration(r, "10", "ten", "m/10_ten.sql", DBM_MIG_PENDING);
    m->duration_ms = 44.4;
    m->statement_count = 3;
    s = dbm_report_add_stmt(m, 1, "CREATE TABLE");
    s->duration_ms = 1.5;
    dbm_report_add_lock(s, "public.t|x", "AccessExclusiveLock");
    dbm_report_add_lock(s, "`odd`", "RowExclusiveLock");
    for (size_t i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
        dbm_report_add_rewrite(s, "public.big", sizes[i]);
    s = dbm_report_add_stmt(m, 3, "CREATE INDEX");
    dbm_report_set(&s->note, "not executed: runs outside a transaction");
    s = dbm_report_add_stmt(m, 5, "ALTER TABLE");
    s->duration_ms = 0.04;
    f = dbm_report_add_finding(r, DBM_SEV_ERROR, "adding-not-null", "m/10_ten.sql", 5, 1, "x");
    dbm_report_set(&f->status, "confirmed");
    f = dbm_report_add_finding(r, DBM_SEV_WARNING, "lock_rule", "m/10_ten.sql", 5, 1, "y");
    dbm_report_set(&f->status, "refuted*");
    dbm_report_add_finding(r, DBM_SEV_WARNING, "plain", "m/10_ten.sql", 1, 1, "z");
    m = dbm_report_add_migration(r, "11", "eleven", "m/11.sql", DBM_MIG_FAILED);
    m->duration_ms = 2;
    dbm_report_add_stmt(m, 1, "DROP");
    dbm_report_set(&m->note, "stopped here");
    return r;
}

static void dry_run_adds_a_locks_column(void **state)
{
    dbm_report *r = dry_run_report();
    char *md = render(r);

    assert_contains(md, "| | Version | Name | Status | Duration | Statements | Locks |\n"
                        "|---|---|---|---|---:|---:|---|\n"
                        "| 🕓 | `10` | ten | pending | 44 ms | 3 | public.t&#124;x "
                        "AccessExclusiveLock<br>&#96;odd&#96; RowExclusiveLock |\n"
                        "| ❌ | `11` | eleven | failed: stopped here | 2 ms |  |  |\n\n");
    free(md);
    dbm_report_free(r);
}

static void dry_run_lists_statements_with_locks_rewrites_and_findings(void **state)
{
    dbm_report *r = dry_run_report();
    char *md = render(r);

    assert_contains(
        md,
        "<details><summary>🕓 m/10\\_ten.sql: 3 statements, 44 ms, 2 locks, 7 rewrites"
        "</summary>\n\n"
        "| Line | Statement | Duration | Locks taken | Rewrites | Findings |\n"
        "|---:|---|---:|---|---|---|\n"
        "| 1 | CREATE TABLE | 1.5 ms | `public.t\\|x` AccessExclusiveLock<br>`'odd'` "
        "RowExclusiveLock | `public.big` 0 B<br>`public.big` 1023 B<br>`public.big` 1.0 kB<br>"
        "`public.big` 1.5 kB<br>`public.big` 5.0 MB<br>`public.big` 3.0 GB<br>`public.big` "
        "7.0 TB | ⚠️ plain |\n"
        "| 3 | CREATE INDEX | not executed: runs outside a transaction | | |  |\n"
        "| 5 | ALTER TABLE | 0.0 ms |  |  | ❌ adding-not-null (confirmed)<br>⚠️ lock\\_rule "
        "(refuted\\*) |\n\n</details>\n\n");
    /* a failed migration's statements are open; its note replaces the counts */
    assert_contains(md, "<details open><summary>❌ m/11.sql: stopped here</summary>\n\n");
    free(md);
    dbm_report_free(r);
}

/* n applied migrations named long enough to fill the summary. */
static dbm_report *many_rows(int n)
{
    dbm_report *r = dbm_report_new("apply");
    char v[32], name[80];

    dbm_report_set(&r->status, "applied");
    for (int i = 0; i < n; i++) {
        snprintf(v, sizeof(v), "%08d", i);
        snprintf(name, sizeof(name), "migration_number_%d_with_a_rather_long_name", i);
        dbm_report_add_migration(r, v, name, "f.sql", DBM_MIG_APPLIED);
    }
    return r;
}

static void rows_past_half_the_limit_point_to_the_json(void **state)
{
    dbm_report *r = many_rows(20000);
    char *md = render(r);
    const char *more = strstr(md, " more rows in the JSON report | | |\n");
    const char *line;

    assert_non_null(more);
    for (line = more; line > md && line[-1] != '\n'; line--)
        ;
    assert_true(strncmp(line, "| | … | ", strlen("| | … | ")) == 0);
    /* the rows shown and the rows counted add up */
    {
        long rest = strtol(line + strlen("| | … | "), NULL, 10);
        long shown = 0;
        for (const char *p = md; (p = strstr(p, "| ✅ | `")) != NULL; p++)
            shown++;
        assert_int_equal(shown + rest, 20000);
    }
    assert_true(strlen(md) < 900u * 1024u);
    free(md);
    dbm_report_free(r);
}

static void statements_past_the_limit_point_to_the_json(void **state)
{
    dbm_report *r = dbm_report_new("dry-run");
    char *md;

    for (int i = 0; i < 3; i++) {
        dbm_mig_result *m = dbm_report_add_migration(r, "1", "n", "f.sql", DBM_MIG_PENDING);
        for (int k = 0; k < 9000; k++)
            dbm_report_add_lock(dbm_report_add_stmt(m, k + 1, "INSERT"),
                                "public.table_with_a_long_name", "RowExclusiveLock");
    }
    md = render(r);
    assert_non_null(strstr(md, " more in the JSON report | | | | |\n"));
    assert_non_null(strstr(md, "… statements of the other migrations are in the JSON report\n\n"));
    assert_true(strlen(md) < 900u * 1024u);
    free(md);
    dbm_report_free(r);
}

static void summary_is_cut_at_900_kib(void **state)
{
    dbm_report *r = dbm_report_new("apply");
    char *md;

    for (int i = 0; i < 30; i++) {
        dbm_mig_result *m = dbm_report_add_migration(r, "1", "n", "f.sql", DBM_MIG_EDITED);
        dbm_buf b = DBM_BUF_INIT;
        for (int k = 0; k < 640; k++)
            dbm_buf_puts(&b, "+ a line of diff text that is sixty-four characters long ....\n");
        m->diff = dbm_buf_detach(&b);
    }
    md = render(r);
    assert_int_equal(strlen(md), 900u * 1024u + strlen(CUT_TAIL));
    assert_string_equal(md + 900u * 1024u, CUT_TAIL);
    free(md);
    dbm_report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escape_markdown_makes_file_text_inert),
        cmocka_unit_test(headline_gives_status_counts_database_and_compare_link),
        cmocka_unit_test(headline_icon_follows_the_status),
        cmocka_unit_test(headline_without_counts_names_the_database_alone),
        cmocka_unit_test(git_line_falls_back_without_compare_url_or_deployed_commit),
        cmocka_unit_test(run_error_is_a_quote_with_escaped_text),
        cmocka_unit_test(table_has_one_row_per_migration),
        cmocka_unit_test(code_spans_keep_backticks_pipes_and_newlines_out),
        cmocka_unit_test(failed_migration_shows_position_message_and_context),
        cmocka_unit_test(error_without_position_names_the_migration_file),
        cmocka_unit_test(findings_list_severity_location_verdict_and_hint),
        cmocka_unit_test(edited_migration_shows_its_diff),
        cmocka_unit_test(dry_run_adds_a_locks_column),
        cmocka_unit_test(dry_run_lists_statements_with_locks_rewrites_and_findings),
        cmocka_unit_test(rows_past_half_the_limit_point_to_the_json),
        cmocka_unit_test(statements_past_the_limit_point_to_the_json),
        cmocka_unit_test(summary_is_cut_at_900_kib),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
