/*
 * rules-dump FILE... - print the rule hits for each SQL file, one per line:
 * FILE<TAB>RULE<TAB>LINE<TAB>MESSAGE. The whole file is one section and no
 * lock_timeout is configured. Used by squawk-compare.sh; exits 1 when a file
 * cannot be read or split.
 */
#include "common/error.h"
#include "sql/rules.h"
#include "sql/parse.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    int status = 0;

    for (int i = 1; i < argc; i++) {
        char *text = NULL;
        size_t len;
        dbm_stmt_list *list = NULL;
        dbm_rule_hits *hits = NULL;
        dbm_rules_options opts = {false, NULL, NULL};
        int line, col;

        if (dbm_read_file(&text, &len, argv[i]) != 0 ||
            dbm_sql_split(&list, &line, &col, text, len) != 0 ||
            dbm_rules_check(&hits, list, text, len, &opts) != 0) {
            fprintf(stderr, "%s:%d:%d: %s\n", argv[i], line, col, dbm_error_message());
            status = 1;
        } else {
            for (size_t k = 0; k < hits->count; k++)
                printf("%s\t%s\t%d\t%s\n", argv[i], hits->items[k].rule, hits->items[k].line,
                       hits->items[k].message);
        }
        dbm_rule_hits_free(hits);
        dbm_stmt_list_free(list);
        free(text);
    }
    return status;
}
