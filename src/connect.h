/*
 * connect.h - from the configuration to an open libpq connection.
 *
 * Builds the conninfo (database-url, else libpq's PG* variables, else
 * DB_HOST/DB_PORT/DB_USER/DB_NAME/DB_PASSWORD), applies sslmode/sslrootcert
 * and their aws-iam defaults, opens the SSH tunnel when ssh-bastion is set,
 * makes the RDS IAM token when auth is aws-iam, retries the first connection
 * for `wait`, and turns every failure into one line with a hint
 * (DBM_ECONNECT). Secrets are masked before use and never appear in messages.
 */
#ifndef DBM_CONNECT_H
#define DBM_CONNECT_H

#include "config.h"

#include "pq.h"

typedef struct dbm_conn dbm_conn;

/* Open the connection. application_name is "db-migrate". */
int dbm_connect(dbm_conn **out, const dbm_config *cfg);

/*
 * Make a dbm_connect running on another thread stop retrying (the `wait`
 * loop) at its next attempt: the run has failed for another reason.
 */
void dbm_connect_abandon(void);

/* The libpq connection (owned by conn). */
PGconn *dbm_conn_pg(dbm_conn *conn);

/* "user@host:port/dbname", for logs and the report: never a password. */
const char *dbm_conn_describe(const dbm_conn *conn);

/* Close the connection, then the tunnel. Accepts NULL. */
void dbm_conn_free(dbm_conn *conn);

#endif
