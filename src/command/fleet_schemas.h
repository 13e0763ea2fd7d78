/*
 * fleet_schemas.h - a fleet target with a schemas: query (DESIGN section 11):
 * one item per schema the query names, each with its own history schema and
 * search_path.
 *
 * Internal to src/command/ (fleet.c). The query runs once per target at the
 * fleet's start (postgres/tenants.h); what each schema then gets comes from
 * the target's templates: history-schema: (default "{schema}_" and the run's
 * history-schema, so "{schema}_db_migrate") and search-path: (default
 * "{schema}, public", the schema quoted as an identifier).
 */
#ifndef DBM_COMMAND_FLEET_SCHEMAS_H
#define DBM_COMMAND_FLEET_SCHEMAS_H

#include "config.h"
#include "config_file.h"
#include "postgres/tenants.h"

#include <stdbool.h>
#include <stddef.h>

/* The search_path a schema gets when its target does not say. */
#define DBM_FLEET_SEARCH_PATH "{schema}, public"

/* What a schemas: query gave (postgres/tenants.h): the names to migrate, whether each exists. */
typedef dbm_tenant_schemas dbm_fleet_schemas;

/*
 * Connect to target t's database (cfg's other connection options) and run its
 * schemas: query. Names that are history schemas by the target's template
 * ("t1_db_migrate") are left out, so a query over pg_namespace does not take
 * them for tenants. Returns 0 with *out the caller's, or DBM_ECONFIG (no
 * database-url, a bad query), DBM_ECONNECT (unreachable), with a message
 * naming the target.
 */
int dbm_fleet_schemas_read(dbm_fleet_schemas **out, const dbm_config *cfg,
                           const dbm_config_target *t);

/* The history schema template of target t: its history-schema:, else "{schema}_" and cfg's.
 * Caller frees. */
char *dbm_fleet_history_template(const dbm_config *cfg, const dbm_config_target *t);

/*
 * The history schema and search_path of `schema` of target t (callers free
 * both), or DBM_ECONFIG when the history schema's name is longer than
 * PostgreSQL's 63 bytes (with a hint), *history and *search_path then NULL.
 */
int dbm_fleet_schema_settings(char **history, char **search_path, const dbm_config *cfg,
                              const dbm_config_target *t, const char *schema);

/*
 * The selection's "TARGET/SCHEMA" globs (from the targets option; NULL: none),
 * each to match a schema of a target its TARGET part names: a typo is exit 2,
 * as a glob that names no target is. _match is told each schemas: target's
 * schemas as read (before the shard takes its share); _check_free returns
 * DBM_ECONFIG (a hint listing some of the target's schemas) for a glob whose
 * targets were read and hold no match, else 0, and frees f.
 */
typedef struct dbm_fleet_globs dbm_fleet_globs;
dbm_fleet_globs *dbm_fleet_globs_new(const char *targets);
void dbm_fleet_globs_match(dbm_fleet_globs *f, const char *target, char *const *names, size_t n);
int dbm_fleet_globs_check_free(dbm_fleet_globs *f);

#endif
