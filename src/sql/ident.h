/*
 * ident.h - SQL text for names and values that come from outside the SQL:
 * a quoted identifier, a string literal, and a schema template's expansion
 * (a fleet's per-tenant history schema and search_path, DESIGN section 11).
 *
 * Pure string work: nothing here parses SQL or talks to a server. The quoting
 * holds whatever the server's settings (standard_conforming_strings on or
 * off), so a name read from the database never becomes SQL.
 */
#ifndef DBM_SQL_IDENT_H
#define DBM_SQL_IDENT_H

#include <stdbool.h>

/* `name` as a quoted identifier: "name", every " doubled. Caller frees. */
char *dbm_sql_quote_ident(const char *name);

/* `value` as a string literal: '...' with ' doubled, or E'...' (\ doubled too) when it
 * holds a backslash. Caller frees. */
char *dbm_sql_quote_literal(const char *value);

/*
 * `tmpl` with every `{schema}` replaced by `schema`, as a quoted identifier
 * when `quote` (a search_path), else as it is (a schema's name). Caller frees.
 */
char *dbm_sql_expand_schema(const char *tmpl, const char *schema, bool quote);

/* Whether `tmpl` holds `{schema}`. */
bool dbm_sql_has_schema(const char *tmpl);

/*
 * Whether `name` is what `tmpl` (holding {schema} once) makes of some
 * non-empty schema name: "t1_db_migrate" for "{schema}_db_migrate". False
 * when `tmpl` is "{schema}" alone or holds {schema} more than once.
 */
bool dbm_sql_schema_template_matches(const char *tmpl, const char *name);

#endif
