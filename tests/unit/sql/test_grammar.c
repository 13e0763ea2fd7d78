/*
 * The grammar the checks read with: what PostgreSQL 16, 17 and 18 accept beyond 15 (and 15's
 * own additions) parses, gets PostgreSQL's command tag and transaction flags, and draws no
 * rule hit that the statement does not deserve. Each case fails with libpg_query 15, whose
 * grammar refused these statements or read them as something else.
 */
#include "unit.h"

#include "common/error.h"
#include "sql/parse.h"
#include "sql/rules.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *since; /* the PostgreSQL version whose grammar added it */
    const char *sql;
    const char *tag;
    unsigned flags;
    const char *tree; /* a piece of the statement's parse tree (JSON), or NULL */
} grammar_case;

static const grammar_case cases[] = {
    /* 15 */
    {"15", "CREATE UNIQUE INDEX CONCURRENTLY i ON t (a) NULLS NOT DISTINCT", "CREATE INDEX",
     DBM_STMT_NO_TX, "\"nulls_not_distinct\":true"},
    {"15", "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v", "MERGE", 0,
     NULL},
    /* 16 */
    {"16", "SELECT * FROM (SELECT 1)", "SELECT", 0, "\"RangeSubselect\""},
    {"16", "SELECT x FROM (SELECT 1 AS x) JOIN (VALUES (1)) ON true", "SELECT", 0, NULL},
    {"16", "SELECT 0x1F, 0o17, 0b101, 1_000_000", "SELECT", 0, "{\"ival\":1000000}"},
    {"16", "SELECT JSON_OBJECT('a': 1, 'b' VALUE 2 ABSENT ON NULL), JSON_ARRAY(1, 2)", "SELECT", 0,
     "\"JsonObjectConstructor\""},
    {"16", "SELECT '{}' IS JSON OBJECT, '[]' IS NOT JSON SCALAR WITH UNIQUE KEYS", "SELECT", 0,
     "\"JsonIsPredicate\""},
    {"16", "SELECT JSON_OBJECTAGG(k : v), JSON_ARRAYAGG(v ORDER BY v) FROM t", "SELECT", 0,
     "\"JsonArrayAgg\""},
    {"16", "GRANT r TO u WITH INHERIT TRUE, SET FALSE", "GRANT", 0, NULL},
    {"16", "REINDEX DATABASE", "REINDEX", DBM_STMT_NO_TX, NULL},
    /* 17 */
    {"17",
     "MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN UPDATE SET v = s.v "
     "WHEN NOT MATCHED BY SOURCE THEN DELETE RETURNING merge_action(), t.*",
     "MERGE", 0, "\"returningClause\""},
    {"17", "SELECT * FROM JSON_TABLE('[1,2]'::jsonb, '$[*]' COLUMNS (x int PATH '$'))", "SELECT", 0,
     "\"JsonTable\""},
    {"17", "SELECT JSON_QUERY(j, '$.a'), JSON_VALUE(j, '$.b' RETURNING int) FROM t", "SELECT", 0,
     "\"JsonFuncExpr\""},
    {"17", "SELECT JSON_EXISTS(j, '$.c'), JSON('{}'), JSON_SCALAR(1), JSON_SERIALIZE('{}')",
     "SELECT", 0, "\"JsonParseExpr\""},
    {"17", "ALTER TABLE t ALTER COLUMN c SET EXPRESSION AS (a * 2)", "ALTER TABLE", 0,
     "\"AT_SetExpression\""},
    {"17", "ALTER TABLE t SET ACCESS METHOD DEFAULT", "ALTER TABLE", 0, NULL},
    /* 18 */
    {"18", "ALTER TABLE t ADD COLUMN g int GENERATED ALWAYS AS (a * 2) VIRTUAL", "ALTER TABLE", 0,
     "\"generated_kind\":\"v\""},
    {"18", "UPDATE t SET v = v + 1 RETURNING WITH (OLD AS o, NEW AS n) o.v, n.v", "UPDATE", 0,
     "\"ReturningOption\""},
    {"18", "ALTER TABLE t ADD CONSTRAINT c CHECK (a > 0) NOT ENFORCED", "ALTER TABLE", 0, NULL},
    {"18", "ALTER TABLE t ADD CONSTRAINT c NOT NULL a NOT VALID", "ALTER TABLE", 0,
     "\"CONSTR_NOTNULL\""},
    {"18", "ALTER TABLE t ALTER CONSTRAINT c NOT ENFORCED", "ALTER TABLE", 0, NULL},
    {"18", "CREATE TABLE r (id int, during tstzrange, PRIMARY KEY (id, during WITHOUT OVERLAPS))",
     "CREATE TABLE", 0, "\"without_overlaps\":true"},
    {"18",
     "CREATE TABLE f (id int, during tstzrange, "
     "FOREIGN KEY (id, PERIOD during) REFERENCES r (id, PERIOD during))",
     "CREATE TABLE", 0, "\"fk_with_period\":true"},
    {"18", "ANALYZE ONLY parent", "ANALYZE", 0, NULL},
    {"18", "VACUUM ONLY parent", "VACUUM", DBM_STMT_NO_TX, NULL},
};

/* One case: 0, or 1 with what is wrong printed. */
static int check_case(const grammar_case *c)
{
    dbm_rules_options opts = {true, NULL, NULL};
    dbm_stmt_list *list = NULL;
    dbm_rule_hits *hits = NULL;
    json_t *tree = NULL;
    char *json = NULL;
    int line, col, bad = 1;

    if (dbm_sql_split(&list, &line, &col, c->sql, strlen(c->sql)) != 0) {
        print_error("PostgreSQL %s: refused at %d:%d: %s: %s\n", c->since, line, col,
                    dbm_error_message(), c->sql);
        goto done;
    }
    if (list->count != 1 || strcmp(list->items[0].tag, c->tag) != 0 ||
        list->items[0].flags != c->flags) {
        print_error("PostgreSQL %s: %zu statements, tag \"%s\" flags %u; want 1, \"%s\" %u: %s\n",
                    c->since, list->count, list->count ? list->items[0].tag : "",
                    list->count ? list->items[0].flags : 0, c->tag, c->flags, c->sql);
        goto done;
    }
    tree = dbm_stmt_tree(list, 0);
    json = json_dumps(tree, JSON_COMPACT);
    if (c->tree && (!json || !strstr(json, c->tree))) {
        print_error("PostgreSQL %s: no %s in the tree of: %s\n%s\n", c->since, c->tree, c->sql,
                    json ? json : "(none)");
        goto done;
    }
    assert_int_equal(dbm_rules_check(&hits, list, c->sql, strlen(c->sql), &opts), 0);
    if (hits->count > 0) {
        print_error("PostgreSQL %s: rule %s: %s: %s\n", c->since, hits->items[0].rule,
                    hits->items[0].message, c->sql);
        goto done;
    }
    bad = 0;
done:
    dbm_rule_hits_free(hits);
    free(json);
    json_decref(tree);
    dbm_stmt_list_free(list);
    return bad;
}

/* Each case parses as one statement with its tag, flags and tree, and draws no rule hit. */
static void newer_grammar_parses_and_is_not_refused(void **state)
{
    int bad = 0;

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        bad += check_case(&cases[i]);
    if (bad)
        fail_msg("%d of %zu statements not read as PostgreSQL 18 reads them", bad,
                 sizeof(cases) / sizeof(cases[0]));
}

/* The statements of a migration valid on 18 only, in one section: all found, in order. */
static void newer_grammar_in_one_section(void **state)
{
    const char *sql = "CREATE TABLE t (a int, b int GENERATED ALWAYS AS (a + 1));\n"
                      "SELECT * FROM (SELECT a FROM t)\n"
                      "  WHERE a IS JSON;\n"
                      "MERGE INTO t USING (SELECT 1 AS a) ON t.a = 1\n"
                      "  WHEN NOT MATCHED THEN INSERT (a) VALUES (1) RETURNING *;\n";
    static const char *const tags[] = {"CREATE TABLE", "SELECT", "MERGE"};
    static const int lines[] = {1, 2, 4};
    dbm_stmt_list *list = NULL;
    int line, col;

    if (dbm_sql_split(&list, &line, &col, sql, strlen(sql)) != 0)
        fail_msg("refused at %d:%d: %s", line, col, dbm_error_message());
    assert_int_equal(list->count, 3);
    for (size_t i = 0; i < 3; i++) {
        assert_string_equal(list->items[i].tag, tags[i]);
        assert_int_equal(list->items[i].line, lines[i]);
        assert_int_equal(list->items[i].col, 1);
    }
    dbm_stmt_list_free(list);
}

/* What 18 still refuses is refused, with the position of the error. */
static void newer_grammar_still_reports_errors(void **state)
{
    const char *sql = "SELECT 1;\nSELECT * FROM (SELECT 1) WHERE;\n";
    dbm_stmt_list *list = NULL;
    int line = 0, col = 0;

    assert_int_not_equal(dbm_sql_split(&list, &line, &col, sql, strlen(sql)), 0);
    assert_null(list);
    assert_string_equal(dbm_error_message(), "syntax error at or near \";\"");
    assert_int_equal(line, 2);
    assert_int_equal(col, 31);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(newer_grammar_parses_and_is_not_refused),
        cmocka_unit_test(newer_grammar_in_one_section),
        cmocka_unit_test(newer_grammar_still_reports_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
