/*
 * sql - a migration section's SQL through libpg_query and everything db-migrate
 * reads from its output: statement splitting (offsets, lines, command tags,
 * transaction and lock classification), destructive-change detection and the
 * safety rules with their ignore comments.
 */
#include "fuzz.h"

#include "common/error.h"
#include "sql/destructive.h"
#include "sql/parse.h"
#include "sql/rules.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *sql = fuzz_strndup(data, size);
    size_t len = strlen(sql);
    dbm_stmt_list *stmts = NULL;
    dbm_destructive_list *destructive = NULL;
    dbm_rule_hits *hits = NULL;
    int line = 0, col = 0;

    if (dbm_sql_split(&stmts, &line, &col, sql, len) == 0) {
        for (size_t i = 0; i < stmts->count; i++) {
            json_t *tree = dbm_stmt_tree(stmts, i);
            const dbm_stmt *st = &stmts->items[i];
            if (st->offset > len || st->len > len - st->offset || st->line < 1)
                FUZZ_FAIL();
            json_decref(tree);
        }
        dbm_sql_destructive(&destructive, stmts);
        dbm_destructive_list_free(destructive);
        dbm_rules_check(&hits, stmts, sql, len, NULL);
        dbm_rule_hits_free(hits);
        dbm_rules_check(&hits, stmts, sql, len,
                        &(dbm_rules_options){.lock_timeout_configured = true});
        dbm_rule_hits_free(hits);
        dbm_stmt_list_drop_trees(stmts);
    }
    dbm_stmt_list_free(stmts);
    fuzz_error_done();
    free(sql);
    return 0;
}
