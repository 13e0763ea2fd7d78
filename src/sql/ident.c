/*
 * ident.c - quoted identifiers, string literals and schema templates.
 */
#include "sql/ident.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

#define SCHEMA_MARK "{schema}"

char *dbm_sql_quote_ident(const char *name)
{
    dbm_buf b = DBM_BUF_INIT;

    dbm_buf_putc(&b, '"');
    for (const char *p = name; *p; p++) {
        if (*p == '"')
            dbm_buf_putc(&b, '"');
        dbm_buf_putc(&b, *p);
    }
    dbm_buf_putc(&b, '"');
    return dbm_buf_detach(&b);
}

char *dbm_sql_quote_literal(const char *value)
{
    dbm_buf b = DBM_BUF_INIT;
    bool backslash = strchr(value, '\\') != NULL;

    /* E'' reads \ as an escape whatever standard_conforming_strings says: doubled, it is one. */
    dbm_buf_puts(&b, backslash ? "E'" : "'");
    for (const char *p = value; *p; p++) {
        if (*p == '\'' || (*p == '\\' && backslash))
            dbm_buf_putc(&b, *p);
        dbm_buf_putc(&b, *p);
    }
    dbm_buf_putc(&b, '\'');
    return dbm_buf_detach(&b);
}

char *dbm_sql_expand_schema(const char *tmpl, const char *schema, bool quote)
{
    dbm_buf b = DBM_BUF_INIT;
    char *q = quote ? dbm_sql_quote_ident(schema) : NULL;
    const char *p = tmpl, *hit;

    while ((hit = strstr(p, SCHEMA_MARK)) != NULL) {
        dbm_buf_put(&b, p, (size_t)(hit - p));
        dbm_buf_puts(&b, q ? q : schema);
        p = hit + strlen(SCHEMA_MARK);
    }
    dbm_buf_puts(&b, p);
    free(q);
    return dbm_buf_detach(&b);
}

bool dbm_sql_has_schema(const char *tmpl)
{
    return tmpl && strstr(tmpl, SCHEMA_MARK) != NULL;
}

bool dbm_sql_schema_template_matches(const char *tmpl, const char *name)
{
    const char *hit = strstr(tmpl, SCHEMA_MARK);
    size_t pre, post, n = strlen(name);

    if (!hit || strstr(hit + 1, SCHEMA_MARK))
        return false;
    pre = (size_t)(hit - tmpl);
    post = strlen(hit + strlen(SCHEMA_MARK));
    return pre + post > 0 && n > pre + post && strncmp(name, tmpl, pre) == 0 &&
           strcmp(name + n - post, hit + strlen(SCHEMA_MARK)) == 0;
}
