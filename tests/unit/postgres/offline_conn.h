/*
 * offline_conn.h - a libpq connection that never opened, for tests of code
 * that only quotes names and values through one (PQescapeIdentifier and
 * PQescapeLiteral work without a server). Use setup/teardown as the group's.
 */
#ifndef DBM_TEST_OFFLINE_CONN_H
#define DBM_TEST_OFFLINE_CONN_H

#include "postgres/pq.h"

static PGconn *conn;

static int setup(void **state)
{
    const char *keys[] = {"host", "dbname", NULL};
    const char *vals[] = {"/nonexistent/db-migrate-test", "x", NULL};

    (void)state;
    if (dbm_pq_load() < 0)
        return -1;
    conn = PQconnectdbParams(keys, vals, 0);
    return conn ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    PQfinish(conn);
    return 0;
}

#endif
