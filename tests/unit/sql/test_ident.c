#include "unit.h"

#include "sql/ident.h"

#include <stdlib.h>
#include <string.h>

static void identifiers_are_quoted_with_their_quotes_doubled(void **state)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"tenant_1", "\"tenant_1\""},
        {"Tenant A", "\"Tenant A\""},
        {"a\"b", "\"a\"\"b\""},
        {"\"; DROP SCHEMA public; --", "\"\"\"; DROP SCHEMA public; --\""},
        {"", "\"\""},
        {"ünï", "\"ünï\""},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = dbm_sql_quote_ident(cases[i].in);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
}

static void literals_double_quotes_and_escape_backslashes(void **state)
{
    static const struct {
        const char *in, *want;
    } cases[] = {
        {"\"t\", public", "'\"t\", public'"}, {"it's", "'it''s'"}, {"a\\b", "E'a\\\\b'"},
        {"a\\'; --", "E'a\\\\''; --'"},       {"", "''"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = dbm_sql_quote_literal(cases[i].in);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
}

static void schema_templates_expand_every_mark(void **state)
{
    static const struct {
        const char *tmpl, *schema;
        int quote;
        const char *want;
    } cases[] = {
        {"{schema}_db_migrate", "tenant_1", 0, "tenant_1_db_migrate"},
        {"{schema}", "Acme \"Co\"", 0, "Acme \"Co\""},
        {"{schema}, public", "Acme \"Co\"", 1, "\"Acme \"\"Co\"\"\", public"},
        {"{schema}, shared_{schema}", "t", 0, "t, shared_t"},
        {"{schema}, shared, public", "T", 1, "\"T\", shared, public"},
        {"no mark", "t", 1, "no mark"},
        {"{schem{schema}a}", "x", 0, "{schemxa}"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *got = dbm_sql_expand_schema(cases[i].tmpl, cases[i].schema, cases[i].quote);
        assert_string_equal(got, cases[i].want);
        free(got);
    }
    assert_true(dbm_sql_has_schema("x_{schema}"));
    assert_false(dbm_sql_has_schema("x_{Schema}"));
    assert_false(dbm_sql_has_schema(NULL));
}

static void history_schemas_are_told_from_their_template(void **state)
{
    assert_true(dbm_sql_schema_template_matches("{schema}_db_migrate", "t1_db_migrate"));
    assert_true(dbm_sql_schema_template_matches("dbm_{schema}", "dbm_T 1"));
    assert_true(dbm_sql_schema_template_matches("h_{schema}_x", "h_a_x"));
    assert_false(dbm_sql_schema_template_matches("{schema}_db_migrate", "_db_migrate"));
    assert_false(dbm_sql_schema_template_matches("{schema}_db_migrate", "db_migrate"));
    assert_false(dbm_sql_schema_template_matches("{schema}_db_migrate", "t1"));
    assert_false(dbm_sql_schema_template_matches("{schema}_db_migrate", "t1_db_migrate2"));
    assert_false(dbm_sql_schema_template_matches("h_{schema}_x", "h__x"));
    assert_false(dbm_sql_schema_template_matches("{schema}", "anything"));
    assert_false(dbm_sql_schema_template_matches("{schema}_{schema}", "a_a"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(identifiers_are_quoted_with_their_quotes_doubled),
        cmocka_unit_test(literals_double_quotes_and_escape_backslashes),
        cmocka_unit_test(schema_templates_expand_every_mark),
        cmocka_unit_test(history_schemas_are_told_from_their_template),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
