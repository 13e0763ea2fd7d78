/*
 * tenants.h - the schemas a fleet target's schemas: query names (DESIGN
 * section 11: a schema per tenant, each migrated with its own history).
 *
 * The query is the user's: it runs alone (one statement, extended protocol),
 * in a read-only transaction with a statement timeout, and must return one
 * text column (text, varchar or name) of distinct, non-empty, non-NULL schema
 * names. Which of them exist is read in the same transaction. Creating a
 * tenant's schema is the application's job: nothing here writes.
 */
#ifndef DBM_POSTGRES_TENANTS_H
#define DBM_POSTGRES_TENANTS_H

#include "postgres/pq.h"

#include <stdbool.h>
#include <stddef.h>

typedef struct {
    char **names; /* in the query's order */
    bool *exists; /* per name: a schema of that name exists */
    size_t count;
} dbm_tenant_schemas;

/* How long the query may run. */
#define DBM_TENANT_QUERY_TIMEOUT_MS 30000LL

/*
 * Run `query` on `conn` (idle; left idle). Returns 0 with *out the caller's
 * (count 0 when the query returns no rows), DBM_ECONFIG when the query fails
 * or returns the wrong shape (a message saying what is wrong, and a hint), or
 * DBM_ECONNECT when the connection was lost.
 */
int dbm_db_tenant_schemas(dbm_tenant_schemas **out, PGconn *conn, const char *query);

/* Accepts NULL. */
void dbm_tenant_schemas_free(dbm_tenant_schemas *s);

#endif
