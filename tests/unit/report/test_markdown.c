#include "unit.h"

#include "report/render.h"
#include "report/report.h"
#include "sample.h"

#include <stdlib.h>
#include <string.h>

#define CUT_TAIL "\n\n… summary cut; the JSON report has everything.\n"

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

static void html_text_escapes_entities_and_no_markdown(void **state)
{
    dbm_buf b = DBM_BUF_INIT;

    report_html_text(&b, "20240401_deployments_duration.sql <a href=\"x\">&*[#]\n`|");
    assert_string_equal(dbm_buf_cstr(&b),
                        "20240401_deployments_duration.sql &lt;a href=&quot;x&quot;"
                        "&gt;&amp;*[#] `|");
    dbm_buf_free(&b);
}

static void headline_leads_with_the_failure_then_counts_database_and_compare_link(void **state)
{
    dbm_report *r = sample_report();
    char *md = render(r);

    assert_prefix(md, "### ❌ db-migrate apply: failed at `db/migrations/2_b.sql:4` · 1 applied · "
                      "2 pending · 1 error · 1 warning\n\n"
                      "database `app@db.example:5432/app` · "
                      "[`fedcba987654..0123456789ab`](" SAMPLE_COMPARE ")\n\n"
                      "> **Error:** unable to apply '2\\_b.sql': relation &quot;users&quot; "
                      "already exists\n\n"
                      "| | Version |");
    free(md);
    dbm_report_free(r);
}

static void headline_tone_follows_status_counts_and_findings(void **state)
{
    static const struct {
        const char *status;
        int pending;
        dbm_severity finding; /* DBM_SEV_NOTICE: none */
        const char *want;
    } cases[] = {
        {"applied", 0, DBM_SEV_NOTICE, "### ✅ db-migrate status: applied\n\n"},
        {"up-to-date", 0, DBM_SEV_NOTICE, "### ✅ db-migrate status: up-to-date\n\n"},
        {"pending", 2, DBM_SEV_NOTICE, "### 🟡 db-migrate status: 2 pending\n\n"},
        {"up-to-date", 0, DBM_SEV_WARNING,
         "### 🟡 db-migrate status: up-to-date · 1 warning\n\n"},
        {"applied", 0, DBM_SEV_WARNING, "### ✅ db-migrate status: applied · 1 warning\n\n"},
        {"pending", 1, DBM_SEV_ERROR, "### 🔴 db-migrate status: 1 pending · 1 error\n\n"},
        {"blocked", 1, DBM_SEV_ERROR,
         "### ❌ db-migrate status: blocked by 1 problem · 1 pending\n\n"},
        {"failed", 0, DBM_SEV_NOTICE, "### ❌ db-migrate status: failed\n\n"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        dbm_report *r = dbm_report_new("status");
        char *md;
        dbm_report_set(&r->status, cases[i].status);
        r->pending_count = cases[i].pending;
        if (cases[i].finding != DBM_SEV_NOTICE)
            dbm_report_add_finding(r, cases[i].finding, "rule", NULL, 0, 0, "m");
        md = render(r);
        assert_prefix(md, cases[i].want);
        free(md);
        dbm_report_free(r);
    }
}

/* A dry-run that takes a ShareLock on one table and rewrites another under AccessExclusiveLock. */
static dbm_report *risky_dry_run(void)
{
    dbm_report *r = dbm_report_new("dry-run");
    dbm_mig_result *m;
    dbm_stmt_result *s;

    dbm_report_set(&r->status, "pending");
    r->pending_count = 3;
    m = dbm_report_add_migration(r, "1", "old", "m/1_old.sql", DBM_MIG_APPLIED);
    m->earlier = true;
    /* An earlier run's row never counts as this change's risk. */
    s = dbm_report_add_stmt(m, 1, "ALTER TABLE");
    dbm_report_add_rewrite(s, "public.huge", 1LL << 40);
    m = dbm_report_add_migration(r, "2", "index", "m/2_index.sql", DBM_MIG_PENDING);
    s = dbm_report_add_stmt(m, 1, "CREATE INDEX");
    dbm_report_add_lock(s, "public.events", "ShareLock");
    m = dbm_report_add_migration(r, "3", "type", "m/3_type.sql", DBM_MIG_PENDING);
    s = dbm_report_add_stmt(m, 1, "ALTER TABLE");
    dbm_report_add_lock(s, "public.orders", "ShareLock");
    dbm_report_add_lock(s, "public.orders", "AccessExclusiveLock");
    dbm_report_add_lock(s, "public.users", "AccessExclusiveLock");
    dbm_report_add_rewrite(s, "public.orders", 14575206);
    dbm_report_add_rewrite(s, "public.orders_pkey", 4096);
    dbm_report_add_migration(r, "4", "later", "m/4_later.sql", DBM_MIG_PENDING);
    return r;
}

static void headline_leads_with_the_biggest_rewrite_then_the_strongest_lock(void **state)
{
    dbm_report *r = risky_dry_run();
    char *md = render(r);

    assert_prefix(md, "### 🔴 db-migrate dry-run: rewrites `public.orders` (13.9 MB) under "
                      "AccessExclusiveLock · 3 pending\n\n| | Version |");
    free(md);
    /* Without the rewrite: the strongest lock, on the first relation to take it. */
    r->migs[2].stmts[0].nrewrites = 0;
    md = render(r);
    assert_prefix(md, "### 🔴 db-migrate dry-run: takes AccessExclusiveLock on `public.orders` · "
                      "3 pending\n\n");
    free(md);
    /* A ShareLock blocks writes: named, in a yellow headline. */
    r->migs[2].nstmts = 0;
    md = render(r);
    assert_prefix(
        md, "### 🟡 db-migrate dry-run: takes ShareLock on `public.events` · 3 pending\n\n");
    free(md);
    r->migs[2].nstmts = 1;
    r->migs[2].stmts[0].nrewrites = 2;
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

static void table_has_one_row_per_migration_of_the_change(void **state)
{
    dbm_report *r = sample_report();
    char *md = render(r);

    assert_contains(
        md, "| | Version | Name | Status | Duration | Statements |\n"
            "|---|---|---|---|---:|---|\n"
            "| ✅ | `1` | create users | applied | 12 ms | 3 |\n"
            "| ❌ | `2` | b&#124;&lt;x&gt;&#96;y&#96; | failed | 4 ms | 1 |\n"
            "| 🕓 | `3` | c | pending |  |  |\n"
            "| ✏️ | `4` | d | edited |  |  |\n"
            "| ⏭️ | `5` | e | skipped: already applied by \\*flyway\\* \\[v5\\] |  |  |\n"
            "| ❓ | `6` | f | missing |  |  |\n\n");
    assert_null(strstr(md, "Locks"));
    assert_null(strstr(md, "Earlier"));
    free(md);
    dbm_report_free(r);
}

static void statements_cell_shows_an_excerpt_of_each_statement(void **state)
{
    dbm_report *r = dbm_report_new("plan");
    dbm_mig_result *m;
    dbm_stmt_result *s;
    char *md;

    m = dbm_report_add_migration(r, "1", "a", "m/1_a.sql", DBM_MIG_PENDING);
    m->statement_count = 7;
    dbm_report_set(&m->excerpt, "CREATE TABLE \"t\" (a int)\nALTER TABLE t ADD b `x`|y\n… 5 more");
    m = dbm_report_add_migration(r, "2", "b", "m/2_b.sql", DBM_MIG_PENDING);
    dbm_report_set(&m->excerpt, "SELECT 1"); /* a dry-run's statements come first */
    s = dbm_report_add_stmt(m, 1, "ALTER TABLE");
    dbm_report_set(&s->sql, "ALTER TABLE orders ALTER COLUMN id TYPE bigint");
    s = dbm_report_add_stmt(m, 2, "ALTER TABLE");
    dbm_report_set(&s->sql, "ALTER TABLE orders ADD COLUMN c int");
    md = render(r);
    assert_contains(md, "| 🕓 | `1` | a | pending |  | `CREATE TABLE \"t\" (a int)`<br>"
                        "`ALTER TABLE t ADD b 'x'\\|y`<br>… 5 more |\n"
                        "| 🕓 | `2` | b | pending | 0 ms | "
                        "`ALTER TABLE orders ALTER COLUMN id TYPE bigint`<br>"
                        "`ALTER TABLE orders ADD COLUMN c int` |\n\n");
    assert_contains(md, "| 1 | `ALTER TABLE orders ALTER COLUMN id TYPE bigint` | 0.0 ms |");
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

static void findings_are_grouped_by_level_errors_first(void **state)
{
    dbm_report *r = sample_report();
    char *md = render(r);

    assert_contains(md, "#### ❌ Errors (1)\n\n"
                        "- **edited-applied** `db/migrations/4_d.sql:1`: '4\\_d.sql' was edited "
                        "after deploy\\\n  ↳ _add a new migration instead_\n\n"
                        "#### ⚠️ Warnings (1)\n\n"
                        "- **require-concurrent-index** `db/migrations/3_c.sql:2`: CREATE INDEX "
                        "blocks writes (dry-run: confirmed)\n\n"
                        "#### ℹ️ Notes (1)\n\n"
                        "- **info\\_rule**: note \\#1 with &#96;ticks&#96; and 50%\n\n");
    free(md);
    dbm_report_free(r);
}

static void a_refuted_finding_is_a_note(void **state)
{
    dbm_report *r = dbm_report_new("dry-run");
    dbm_finding *f = dbm_report_add_finding(r, DBM_SEV_WARNING, "alter-column-type", "m/1.sql", 3,
                                            1, "rewrites");
    char *md;

    dbm_report_set(&f->status, "refuted");
    dbm_report_set(&r->status, "up-to-date");
    md = render(r);
    assert_string_equal(md, "### ✅ db-migrate dry-run: up-to-date\n\n"
                            "#### ℹ️ Notes (1)\n\n"
                            "- **alter-column-type** `m/1.sql:3`: rewrites (dry-run: refuted)\n\n");
    free(md);
    dbm_report_free(r);
}

static void edited_migration_shows_its_diff(void **state)
{
    dbm_report *r = sample_report();
    char *md = render(r);
    const char *want = "<details><summary>Edited after deploy: db/migrations/4_d.sql (changed in "
                       "1234567890ab)</summary>\n\n"
                       "<pre>--- a/4_d.sql\n+++ b/4_d.sql\n@@ -1 +1 @@\n"
                       "-SELECT 1 &lt; 2;\n+SELECT 1 &gt; 2 &amp; 3;\n</pre>\n"
                       "</details>\n\n";

    /* the diff block is the summary's last part (no earlier migrations here) */
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
    dbm_report_set(&f->status, "refuted");
    dbm_report_add_finding(r, DBM_SEV_WARNING, "plain", "m/10_ten.sql", 1, 1, "z");
    m = dbm_report_add_migration(r, "11", "eleven", "m/11_<b>.sql", DBM_MIG_FAILED);
    m->duration_ms = 2;
    dbm_report_add_stmt(m, 1, "DROP");
    dbm_report_set(&m->note, "stopped_here");
    return r;
}

static void dry_run_adds_a_locks_column(void **state)
{
    dbm_report *r = dry_run_report();
    char *md = render(r);

    assert_contains(md, "| | Version | Name | Status | Duration | Statements | Locks |\n"
                        "|---|---|---|---|---:|---|---|\n"
                        "| 🕓 | `10` | ten | pending | 44 ms | 3 | `public.t\\|x` "
                        "AccessExclusiveLock<br>`'odd'` RowExclusiveLock |\n"
                        "| ❌ | `11` | eleven | failed: stopped\\_here | 2 ms |  |  |\n\n");
    free(md);
    dbm_report_free(r);
}

static void dry_run_lists_statements_with_locks_rewrites_and_findings(void **state)
{
    dbm_report *r = dry_run_report();
    char *md = render(r);

    assert_contains(
        md,
        "<details><summary>🕓 m/10_ten.sql: 3 statements, 44 ms, 2 locks, 7 rewrites"
        "</summary>\n\n"
        "| Line | Statement | Duration | Locks taken | Rewrites | Findings |\n"
        "|---:|---|---:|---|---|---|\n"
        "| 1 | CREATE TABLE | 1.5 ms | `public.t\\|x` AccessExclusiveLock<br>`'odd'` "
        "RowExclusiveLock | `public.big` 0 B<br>`public.big` 1023 B<br>`public.big` 1.0 kB<br>"
        "`public.big` 1.5 kB<br>`public.big` 5.0 MB<br>`public.big` 3.0 GB<br>`public.big` "
        "7.0 TB | ⚠️ plain |\n"
        "| 3 | CREATE INDEX | not executed: runs outside a transaction | | |  |\n"
        "| 5 | ALTER TABLE | 0.0 ms |  |  | ❌ adding-not-null (confirmed)<br>ℹ️ lock\\_rule "
        "(refuted) |\n\n</details>\n\n");
    /* a failed migration's statements are open; its note replaces the counts; HTML only */
    assert_contains(md, "<details open><summary>❌ m/11_&lt;b&gt;.sql: stopped_here</summary>\n\n");
    free(md);
    dbm_report_free(r);
}

/* One pending migration with a finding after n applied by earlier runs, with long names. */
static dbm_report *long_history(int n)
{
    dbm_report *r = dbm_report_new("plan");
    char v[32], name[80], when[32];
    dbm_mig_result *m;

    dbm_report_set(&r->status, "pending");
    r->pending_count = 1;
    for (int i = 0; i < n; i++) {
        snprintf(v, sizeof(v), "%08d", i);
        snprintf(name, sizeof(name), "migration_number_%d_with_a_rather_long_name", i);
        snprintf(when, sizeof(when), "2026-01-01T00:%02d:%02dZ", i / 60 % 60, i % 60);
        m = dbm_report_add_migration(r, v, name, "f.sql", DBM_MIG_APPLIED);
        m->earlier = true;
        m->duration_ms = 3;
        dbm_report_set(&m->applied_at, when);
    }
    m = dbm_report_add_migration(r, "99999999", "new_index", "m/99999999_new_index.sql",
                                 DBM_MIG_PENDING);
    dbm_report_set(&m->excerpt, "CREATE INDEX i ON t (c)");
    dbm_report_add_finding(r, DBM_SEV_WARNING, "index-without-concurrently",
                           "m/99999999_new_index.sql", 1, 1, "blocks writes");
    return r;
}

static void history_is_one_line_and_a_collapsed_list_newest_first(void **state)
{
    dbm_report *r = long_history(2);
    char *md = render(r);

    assert_string_equal(
        md, "### 🟡 db-migrate plan: 1 pending · 1 warning\n\n"
            "| | Version | Name | Status | Duration | Statements |\n"
            "|---|---|---|---|---:|---|\n"
            "| 🕓 | `99999999` | new\\_index | pending |  | `CREATE INDEX i ON t (c)` |\n\n"
            "#### ⚠️ Warnings (1)\n\n"
            "- **index-without-concurrently** `m/99999999_new_index.sql:1`: blocks writes\n\n"
            "**Earlier:** 2 migrations applied before this run; the newest is `00000001` "
            "migration\\_number\\_1\\_with\\_a\\_rather\\_long\\_name, applied "
            "2026-01-01 00:00 UTC.\n\n"
            "<details><summary>2 earlier migrations</summary>\n\n"
            "| Version | Name | Applied | Duration |\n|---|---|---|---:|\n"
            "| `00000001` | migration\\_number\\_1\\_with\\_a\\_rather\\_long\\_name | "
            "2026-01-01T00:00:01Z | 3 ms |\n"
            "| `00000000` | migration\\_number\\_0\\_with\\_a\\_rather\\_long\\_name | "
            "2026-01-01T00:00:00Z | 3 ms |\n\n"
            "</details>\n\n");
    free(md);
    dbm_report_free(r);
}

static void a_long_history_keeps_the_summary_under_the_limit_and_the_change_first(void **state)
{
    static const size_t limits[] = {0, 60000 - 1024};
    dbm_report *r = long_history(20000);

    for (size_t l = 0; l < sizeof(limits) / sizeof(limits[0]); l++) {
        dbm_emit_opts o = {.limit = limits[l]};
        char *md = dbm_report_markdown(r, &o);
        const char *more = strstr(md, " older in the JSON report | | |\n");
        long shown = 0;

        assert_true(strlen(md) <= (limits[l] ? limits[l] : DBM_SUMMARY_LIMIT));
        assert_true(strlen(md) > (limits[l] ? limits[l] : DBM_SUMMARY_LIMIT) - 1024);
        assert_non_null(strstr(md, "| 🕓 | `99999999` |"));
        assert_true(strstr(md, "| 🕓 | `99999999` |") - md < 4096);
        assert_true(strstr(md, "**index-without-concurrently**") - md < 4096);
        /* the rows shown and the rows counted add up */
        assert_non_null(more);
        while (more > md && more[-1] != '|')
            more--;
        for (const char *p = md; (p = strstr(p, "\n| `000")) != NULL; p++)
            shown++;
        assert_int_equal(shown + strtol(more + 1, NULL, 10), 20000);
        free(md);
    }
    dbm_report_free(r);
}

static void a_change_past_the_limit_is_compact_then_points_to_the_json(void **state)
{
    dbm_report *r = dbm_report_new("plan");
    char v[32], name[80];
    char *md;
    const char *more;
    long full = 0, compact = 0;

    for (int i = 0; i < 5000; i++) {
        dbm_mig_result *m;
        snprintf(v, sizeof(v), "%08d", i);
        snprintf(name, sizeof(name), "migration_number_%d_with_a_rather_long_name", i);
        m = dbm_report_add_migration(r, v, name, "f.sql", DBM_MIG_PENDING);
        m->statement_count = 1;
        dbm_report_set(&m->excerpt, "CREATE TABLE a_table_with_a_name (id int)");
    }
    md = render(r);
    assert_true(strlen(md) <= DBM_SUMMARY_LIMIT);
    for (const char *p = md; (p = strstr(p, "| `CREATE TABLE")) != NULL; p++)
        full++;
    for (const char *p = md; (p = strstr(p, "| pending |  | 1 |\n")) != NULL; p++)
        compact++;
    assert_true(full > 0 && compact > 0);
    more = strstr(md, "| | … | ");
    assert_non_null(more);
    assert_int_equal(full + compact + strtol(more + strlen("| | … | "), NULL, 10), 5000);
    free(md);
    dbm_report_free(r);
}

/*
 * An apply of 1,003 migrations on a fresh database, the last failing, with warnings: the
 * table cannot hold every row, and the applied rows are what gives way. The failed row, its
 * error and every finding stay, all under the limit.
 */
static void a_long_apply_keeps_the_failed_row_and_findings_and_cuts_applied_rows(void **state)
{
    dbm_report *r = dbm_report_new("apply");
    char v[32], name[80], row[64];
    dbm_mig_result *m = NULL;
    char *md;
    const char *more;
    long shown = 0;

    dbm_report_set(&r->status, "failed");
    for (int i = 1; i <= 1003; i++) {
        snprintf(v, sizeof(v), "%08d", i);
        snprintf(name, sizeof(name), "create_table_number_%d", i);
        m = dbm_report_add_migration(r, v, name, "f.sql",
                                     i < 1003 ? DBM_MIG_APPLIED : DBM_MIG_FAILED);
        m->statement_count = 1;
        m->duration_ms = 2;
        dbm_report_set(&m->excerpt, "CREATE TABLE a_table_with_a_rather_long_name (id int)");
    }
    dbm_report_set_error(m, "relation \"t\" already exists", "42P07");
    r->applied_count = 1002;
    dbm_report_add_finding(r, DBM_SEV_WARNING, "require-lock-timeout", "migrations/00000010.sql", 1,
                           1, "the first warning");
    dbm_report_add_finding(r, DBM_SEV_WARNING, "prefer-bigint", "migrations/00000900.sql", 1, 1,
                           "the second warning");
    dbm_report_add_finding(r, DBM_SEV_ERROR, "ban-drop-table", "migrations/00001003.sql", 1, 1,
                           "the error finding");
    md = render(r);
    assert_true(strlen(md) <= DBM_SUMMARY_LIMIT);
    assert_contains(md, "| ❌ | `00001003` | create\\_table\\_number\\_1003 | failed |");
    assert_contains(md, "already exists (SQLSTATE 42P07)");
    assert_contains(md, "#### ⚠️ Warnings (2)");
    assert_contains(md, "the first warning");
    assert_contains(md, "the second warning");
    assert_contains(md, "the error finding");
    assert_null(strstr(md, "more in the JSON report\n"));
    /* the first applied rows are shown, then one line for the rest, before the failed row */
    assert_contains(md, "| ✅ | `00000001` |");
    more = strstr(md, "| | … | ");
    assert_non_null(more);
    assert_contains(more, " more applied in the JSON report: `");
    assert_true(more < strstr(md, "| ❌ | `00001003`"));
    for (int i = 1; i <= 1003; i++) {
        snprintf(row, sizeof(row), "| `%08d` |", i);
        shown += strstr(md, row) != NULL;
    }
    assert_int_equal(shown + strtol(more + strlen("| | … | "), NULL, 10), 1003);
    free(md);
    dbm_report_free(r);
}

static void statements_past_the_limit_point_to_the_json(void **state)
{
    dbm_report *r = dbm_report_new("dry-run");
    char *md;

    for (int i = 0; i < 3; i++) {
        dbm_mig_result *m = dbm_report_add_migration(r, "1", "n", "f.sql", DBM_MIG_PENDING);
        for (int k = 0; k < 900; k++)
            dbm_report_add_lock(dbm_report_add_stmt(m, k + 1, "INSERT"),
                                "public.table_with_a_long_name", "RowExclusiveLock");
    }
    md = render(r);
    /* a row's Locks cell names the first few */
    assert_non_null(
        strstr(md, "`public.table_with_a_long_name` RowExclusiveLock<br>… 895 more |\n"));
    assert_non_null(strstr(md, " more in the JSON report | | | | |\n"));
    assert_non_null(strstr(md, "… statements of the other migrations are in the JSON report\n\n"));
    assert_true(strlen(md) <= DBM_SUMMARY_LIMIT);
    free(md);
    dbm_report_free(r);
}

static void summary_is_cut_at_the_limit_as_a_last_resort(void **state)
{
    dbm_report *r = dbm_report_new("apply");
    dbm_emit_opts o = {.limit = 10000};
    char *md;

    for (int i = 0; i < 3; i++) {
        dbm_mig_result *m = dbm_report_add_migration(r, "1", "n", "f.sql", DBM_MIG_EDITED);
        dbm_buf b = DBM_BUF_INIT;
        for (int k = 0; k < 640; k++)
            dbm_buf_puts(&b, "+ a line of diff text with ünïcödé in it, sixty-four bytes ...\n");
        m->diff = dbm_buf_detach(&b);
    }
    md = dbm_report_markdown(r, &o);
    assert_true(strlen(md) <= 10000);
    assert_true(strlen(md) > 9900);
    assert_string_equal(md + strlen(md) - strlen(CUT_TAIL), CUT_TAIL);
    assert_true(dbm_utf8_valid(md, strlen(md), NULL));
    free(md);
    dbm_report_free(r);
}

/* Whichever byte of a character the limit falls on, the cut keeps the text UTF-8. */
static void summary_cut_never_splits_a_character(void **state)
{
    dbm_report *r = dbm_report_new("apply");
    dbm_mig_result *m = dbm_report_add_migration(r, "1", "n", "f.sql", DBM_MIG_EDITED);
    dbm_buf b = DBM_BUF_INIT;

    /* One long line of 4-, 3- and 2-byte characters: no line end to cut at. */
    dbm_buf_puts(&b, "+ ");
    for (int k = 0; k < 4000; k++)
        dbm_buf_puts(&b, "𝄞✓é");
    m->diff = dbm_buf_detach(&b);
    for (size_t limit = 5000; limit < 5018; limit++) {
        dbm_emit_opts o = {.limit = limit};
        char *md = dbm_report_markdown(r, &o);

        assert_true(strlen(md) <= limit);
        assert_true(strlen(md) > limit - 8 - strlen(CUT_TAIL));
        assert_true(dbm_utf8_valid(md, strlen(md), NULL));
        free(md);
    }
    dbm_report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escape_markdown_makes_file_text_inert),
        cmocka_unit_test(html_text_escapes_entities_and_no_markdown),
        cmocka_unit_test(headline_leads_with_the_failure_then_counts_database_and_compare_link),
        cmocka_unit_test(headline_tone_follows_status_counts_and_findings),
        cmocka_unit_test(headline_leads_with_the_biggest_rewrite_then_the_strongest_lock),
        cmocka_unit_test(headline_without_counts_names_the_database_alone),
        cmocka_unit_test(git_line_falls_back_without_compare_url_or_deployed_commit),
        cmocka_unit_test(run_error_is_a_quote_with_escaped_text),
        cmocka_unit_test(table_has_one_row_per_migration_of_the_change),
        cmocka_unit_test(statements_cell_shows_an_excerpt_of_each_statement),
        cmocka_unit_test(code_spans_keep_backticks_pipes_and_newlines_out),
        cmocka_unit_test(failed_migration_shows_position_message_and_context),
        cmocka_unit_test(error_without_position_names_the_migration_file),
        cmocka_unit_test(findings_are_grouped_by_level_errors_first),
        cmocka_unit_test(a_refuted_finding_is_a_note),
        cmocka_unit_test(edited_migration_shows_its_diff),
        cmocka_unit_test(dry_run_adds_a_locks_column),
        cmocka_unit_test(dry_run_lists_statements_with_locks_rewrites_and_findings),
        cmocka_unit_test(history_is_one_line_and_a_collapsed_list_newest_first),
        cmocka_unit_test(a_long_history_keeps_the_summary_under_the_limit_and_the_change_first),
        cmocka_unit_test(a_change_past_the_limit_is_compact_then_points_to_the_json),
        cmocka_unit_test(a_long_apply_keeps_the_failed_row_and_findings_and_cuts_applied_rows),
        cmocka_unit_test(statements_past_the_limit_point_to_the_json),
        cmocka_unit_test(summary_is_cut_at_the_limit_as_a_last_resort),
        cmocka_unit_test(summary_cut_never_splits_a_character),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
