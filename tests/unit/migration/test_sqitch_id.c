/*
 * test_sqitch_id.c - Sqitch's change ids: the info text of a change line and
 * its SHA-1, the %uri pragma made canonical, and the ids of a loaded plan. The
 * expected ids are what the real sqitch prints for the same plan
 * (`sqitch plan --format raw`, Debian's sqitch 1.3.1), and the canonical URIs
 * what Perl's URI module writes (`perl -MURI -e 'print URI->new($u)->canonical'`).
 */

#include "dirfixture.h"

#include "migration/sqitch_id.h"

#include <stdlib.h>
#include <string.h>

static void info_text_of_a_change_with_everything(void **state)
{
    mig_sqitch_meta meta;
    char *info, id[41];

    (void)state;
    assert_true(mig_sqitch_meta_parse(
        &meta, " [café:items prices !other:legacy]  2024-01-04T00:00:00Z Zoë Ünal <zoe@ex.com>  "
               "# a note\\nsecond \\\\ line  "));
    assert_string_equal(meta.deps, "café:items prices !other:legacy");
    assert_string_equal(meta.date, "2024-01-04T00:00:00Z");
    assert_string_equal(meta.planner_name, "Zoë Ünal");
    assert_string_equal(meta.planner_email, "zoe@ex.com");
    assert_string_equal(meta.note, "a note\nsecond \\ line");
    info = mig_sqitch_info("café", "https://example.com/", "crème", "0123", &meta);
    /* the plan's own project is left out of a dependency, another's kept; no '!' */
    assert_string_equal(info, "project café\n"
                              "uri https://example.com/\n"
                              "change crème\n"
                              "parent 0123\n"
                              "planner Zoë Ünal <zoe@ex.com>\n"
                              "date 2024-01-04T00:00:00Z\n"
                              "requires\n  + items\n  + prices\n"
                              "conflicts\n  - other:legacy\n"
                              "\n"
                              "a note\nsecond \\ line");
    free(info);
    mig_sqitch_meta_free(&meta);

    /* the smallest change: no uri, parent, dependencies or note */
    assert_true(mig_sqitch_meta_parse(&meta, " 2013-06-24T11:10:23Z A <a@b>"));
    info = mig_sqitch_info("p", NULL, "base", NULL, &meta);
    assert_string_equal(info, "project p\nchange base\nplanner A <a@b>\ndate 2013-06-24T11:10:23Z");
    /* "change <bytes>\0" + info, as git names a blob */
    mig_sqitch_id(id, info);
    assert_string_equal(id, "1720ab380b57db08645e5e18067c348f39ea7cf1"); /* sqitch's, offline */
    free(info);
    mig_sqitch_meta_free(&meta);
}

static void planner_keeps_all_blanks_but_the_last(void **state)
{
    mig_sqitch_meta meta;

    (void)state;
    assert_true(mig_sqitch_meta_parse(&meta, "   2024-01-05T00:00:00Z   Bob  <bob@x>   #   hi  "));
    assert_string_equal(meta.planner_name, "Bob ");
    assert_string_equal(meta.note, "hi");
    mig_sqitch_meta_free(&meta);
    /* the note glued to the email, as chef-server writes it */
    assert_true(mig_sqitch_meta_parse(&meta, " 2024-01-05T00:00:00Z Ann <a@x># glued"));
    assert_string_equal(meta.planner_email, "a@x");
    assert_string_equal(meta.note, "glued");
    mig_sqitch_meta_free(&meta);
}

static void lines_without_date_or_planner_have_no_meta(void **state)
{
    mig_sqitch_meta meta;

    (void)state;
    assert_false(mig_sqitch_meta_parse(&meta, ""));
    assert_false(mig_sqitch_meta_parse(&meta, " # only a note"));
    assert_false(mig_sqitch_meta_parse(&meta, " 2024-01-05T00:00:00Z"));
    assert_false(mig_sqitch_meta_parse(&meta, " 2024-01-05 Ann <a@x>"));
    assert_false(mig_sqitch_meta_parse(&meta, " 2024-01-05T00:00:00Z Ann<a@x>"));
    assert_false(mig_sqitch_meta_parse(&meta, " [] 2024-01-05T00:00:00Z Ann <a@x>"));
    assert_false(mig_sqitch_meta_parse(&meta, " [a 2024-01-05T00:00:00Z Ann <a@x>"));
    assert_null(meta.date);
}

static void uri_made_canonical_as_perl_uri_does(void **state)
{
    static const char *const cases[][2] = {
        {"HTTPS://Example.COM:443", "https://example.com/"},
        {"https://github.com/opscode/oc_bifrost", "https://github.com/opscode/oc_bifrost"},
        {"http://u@Host:8080/a%7eb%2f?q", "http://u@host:8080/a~b%2F?q"},
        {"HTTP://h:80?x", "http://h?x"},
        {"https://h:", "https://h/"},
        {"URN:Example:Thing", "urn:example:Thing"},
        {"no scheme here", "no%20scheme%20here"},
        {"https://h/caf\xc3\xa9", "https://h/caf%C3%A9"},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = mig_sqitch_uri_canonical(cases[i][0]);
        assert_string_equal(got, cases[i][1]);
        free(got);
    }
}

static void loaded_plan_has_the_ids_sqitch_prints(void **state)
{
    const char *dir = *state;
    dbm_migration_set *set;
    static const char *const ids[] = {
        "0b317c70ad36984e6cf9e5ada885258c154a0f25", "37a70695592f505691a593e2c5142c37cdd0e98f",
        "7bde2f3a2e43b2b14ffe70b013dbfe14b007ee74", "1f2e9efe49db82093eb8fa4fd6915002d9259b12",
        "6df303c7ce2bf77ca1f5d3cdd1558c16be2ba99f"};

    put(dir, "sqitch.plan",
        "%syntax-version=1.0.0\n%project=café\n%uri=HTTPS://Example.COM:443\n\n"
        "items 2024-01-01T00:00:00Z Ann Lee <ann@example.com> # items table\\nsecond line \\\\ "
        "and a backslash\n"
        "prices [items] 2024-01-02T00:00:00Z Ann <ann@example.com> # prices\n"
        "@v1 2024-01-03T00:00:00Z Ann <ann@example.com> # release\n"
        "crème_brûlée [café:items prices !other:legacy] 2024-01-04T00:00:00Z Zoë Ünal "
        "<zoe@example.com>\n"
        "  +  tidy   2024-01-05T00:00:00Z   Bob  <bob@example.com>   #   spaced   \r\n"
        "prices [prices@v1] 2024-01-06T00:00:00Z Ann <ann@example.com># reworked\n");
    put(dir, "deploy/items.sql", "SELECT 1;\n");
    put(dir, "deploy/prices@v1.sql", "SELECT 1;\n");
    put(dir, "deploy/crème_brûlée.sql", "SELECT 1;\n");
    put(dir, "deploy/tidy.sql", "SELECT 1;\n");
    put(dir, "deploy/prices.sql", "SELECT 1;\n");
    set = load_ok(dir, DBM_FORMAT_SQITCH);
    assert_int_equal(set->count, 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(set->items[i].tool_id, ids[i]);
    assert_string_equal(set->items[3].name, "tidy");
    dbm_migrations_free(set);
}

static void ids_stop_where_the_plan_cannot_give_them(void **state)
{
    const char *dir = *state;
    dbm_migration_set *set;

    /* the second line has no planner: it and every change after it have no id */
    put(dir, "sqitch.plan",
        "%project=p\n\na 2024-01-01T00:00:00Z A <a@b>\nb 2024-01-01T00:00:00Z\n"
        "c 2024-01-01T00:00:00Z A <a@b>\n");
    put(dir, "deploy/a.sql", "SELECT 1;\n");
    put(dir, "deploy/b.sql", "SELECT 1;\n");
    put(dir, "deploy/c.sql", "SELECT 1;\n");
    set = load_ok(dir, DBM_FORMAT_SQITCH);
    assert_non_null(set->items[0].tool_id);
    assert_null(set->items[1].tool_id);
    assert_null(set->items[2].tool_id);
    dbm_migrations_free(set);

    /* no %project: no ids */
    put(dir, "sqitch.plan", "a 2024-01-01T00:00:00Z A <a@b>\n");
    set = load_ok(dir, DBM_FORMAT_SQITCH);
    assert_null(set->items[0].tool_id);
    dbm_migrations_free(set);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(info_text_of_a_change_with_everything),
        cmocka_unit_test(planner_keeps_all_blanks_but_the_last),
        cmocka_unit_test(lines_without_date_or_planner_have_no_meta),
        cmocka_unit_test(uri_made_canonical_as_perl_uri_does),
        cmocka_unit_test_setup_teardown(loaded_plan_has_the_ids_sqitch_prints, setup_dir,
                                        teardown_dir),
        cmocka_unit_test_setup_teardown(ids_stop_where_the_plan_cannot_give_them, setup_dir,
                                        teardown_dir),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
