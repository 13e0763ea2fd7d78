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

#include "net/aws.h"

#include "postgres/pq.h"

#include <stdbool.h>

typedef struct dbm_conn dbm_conn;

/* What dbm_connect needs of the configuration; every string is borrowed. */
typedef struct {
    const char *database_url; /* libpq URI or key=value; NULL: none configured (DBM_ECONFIG) */
    const char *sslmode, *sslrootcert; /* NULL: libpq's, or the aws-iam defaults */
    bool aws_iam;                      /* the password is an RDS IAM token made with `aws` */
    dbm_aws_options aws;
    const char *ssh_bastion; /* user@host[:port], or NULL for a direct connection */
    const char *ssh_private_key, *ssh_known_hosts;
    long long wait_ms; /* keep retrying the first connection this long */
} dbm_connect_opts;

/*
 * Open the connection. application_name is "db-migrate". Run as a dbm_job
 * (common/thread.h), the `wait` retries stop once the job is abandoned.
 */
int dbm_connect(dbm_conn **out, const dbm_connect_opts *opts);

/* The libpq connection (owned by conn). */
PGconn *dbm_conn_pg(dbm_conn *conn);

/* "user@host:port/dbname", for logs and the report: never a password. */
const char *dbm_conn_describe(const dbm_conn *conn);

/*
 * Why the SSH tunnel under the connection failed, as one line ("the bastion
 * stopped answering: ..."), for a connection lost mid-run; NULL without
 * ssh-bastion or while the tunnel is sound. Caller frees. Accepts NULL.
 */
char *dbm_conn_tunnel_error(dbm_conn *conn);

/* The database and the user of the open session (libpq's PQdb, PQuser). Borrowed. */
const char *dbm_conn_database(dbm_conn *conn);
const char *dbm_conn_user(dbm_conn *conn);

/* Close the connection, then the tunnel. Accepts NULL. */
void dbm_conn_free(dbm_conn *conn);

/* RESET ALL, as the Supabase CLI does before each file, then the settings db-migrate keeps for
 * the whole session (the client check of PostgreSQL 14 on). */
void dbm_db_reset_session(PGconn *pg);

/*
 * The statements that put a session back as db-migrate keeps it, after a migration changed it
 * beyond its transaction (DBM_STMT_SETS_SESSION): RESET SESSION AUTHORIZATION, RESET ROLE,
 * RESET ALL, then the settings db-migrate keeps for the session. Sent inside the migration's
 * transaction, before its history row, they commit with it: the next migration, the history
 * row, and through a transaction pooler the next client of the server connection, find the
 * session as it was. DBM_DB_RESTORE_STATEMENTS of them, static.
 */
#define DBM_DB_RESTORE_STATEMENTS 4
const char *const *dbm_db_session_restore(PGconn *pg);

/* The same as one text ("RESET ...; RESET ...; ..."), for a session outside a transaction.
 * Caller frees. */
char *dbm_db_session_restore_sql(PGconn *pg);

#endif
