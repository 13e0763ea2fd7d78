/*
 * connect.c - configuration to PGconn.
 *
 * The conninfo the user gave is parsed by libpq itself (PQconninfoParse), then
 * given back as keyword/value arrays with this tool's additions, so URIs and
 * key=value strings, quoting and PG* defaults all behave exactly as in psql.
 */
#include "connect.h"
#include "error.h"
#include "log.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PARAMS 64

struct dbm_conn {
    PGconn *pg;
    char *describe;
};

typedef struct {
    const char *keys[MAX_PARAMS + 1];
    const char *vals[MAX_PARAMS + 1];
    int n;
} conn_params;

static void params_set(conn_params *p, const char *key, const char *val)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->keys[i], key) == 0) {
            p->vals[i] = val;
            return;
        }
    if (p->n < MAX_PARAMS) {
        p->keys[p->n] = key;
        p->vals[p->n] = val;
        p->n++;
    }
}

static const char *params_get(const conn_params *p, const char *key)
{
    for (int i = 0; i < p->n; i++)
        if (strcmp(p->keys[i], key) == 0)
            return p->vals[i];
    return NULL;
}

/* The first line of libpq's message, without the trailing newline. */
static char *first_line(const char *msg)
{
    size_t n = strcspn(msg ? msg : "", "\n");
    while (n > 0 && (msg[n - 1] == ' ' || msg[n - 1] == '\r'))
        n--;
    return dbm_xstrndup(msg ? msg : "", n);
}

/*
 * Give a connection failure its hint. libpq 15 does not expose the SQLSTATE
 * of a failed connection, so its message is what there is to read (English
 * unless the client locale or the server's lc_messages translate it; then the
 * generic hint is given).
 */
static void hint_for(const char *msg, const dbm_config *cfg)
{
    if (strstr(msg, "password authentication failed") || strstr(msg, "PAM authentication")) {
        if (cfg->auth == DBM_AUTH_AWS_IAM)
            dbm_error_hint("the IAM token was refused: the database user needs 'GRANT rds_iam TO "
                           "<user>', the role needs rds-db:connect on it, and IAM authentication "
                           "must be enabled on the instance");
        else
            dbm_error_hint("check the password in database-url (or PGPASSWORD); for an IAM user "
                           "set auth: aws-iam");
    } else if (strstr(msg, "does not exist") && strstr(msg, "database")) {
        dbm_error_hint("create the database first, or fix the database name in database-url");
    } else if (strstr(msg, "role") && strstr(msg, "does not exist")) {
        dbm_error_hint("fix the user name in database-url, or create that role");
    } else if (strstr(msg, "SSL") || strstr(msg, "certificate") || strstr(msg, "server name")) {
        dbm_error_hint("check sslmode and sslrootcert: verify-full needs the CA that signed the "
                       "server's certificate and the host name the certificate was issued for");
    } else if (strstr(msg, "no pg_hba.conf entry")) {
        dbm_error_hint("the server refuses this client address or user in pg_hba.conf; on RDS "
                       "check the security group and whether SSL is required (sslmode=require)");
    } else {
        dbm_error_hint("check the host and port, and that the database accepts connections from "
                       "this machine; for a database in a private subnet set ssh-bastion, or use "
                       "--wait 30s when it is still starting");
    }
}

static char *describe(PGconn *pg, const conn_params *p)
{
    const char *host = params_get(p, "host");
    const char *user = pg ? PQuser(pg) : params_get(p, "user");
    const char *port = pg ? PQport(pg) : params_get(p, "port");
    const char *db = pg ? PQdb(pg) : params_get(p, "dbname");

    if (pg && PQhost(pg) && (!host || strchr(host, ',')))
        host = PQhost(pg);
    if (host && host[0] == '/')
        host = "localhost";
    return dbm_xasprintf("%s@%s:%s/%s", user && *user ? user : "?", host && *host ? host : "?",
                         port && *port ? port : "5432", db && *db ? db : "?");
}

int dbm_connect(dbm_conn **out, const dbm_config *cfg)
{
    PQconninfoOption *opts = NULL;
    conn_params p;
    dbm_conn *conn = NULL;
    char *errmsg = NULL;
    int64_t deadline;
    int64_t delay = 250;
    int error = DBM_ECONNECT;

    memset(&p, 0, sizeof(p));
    *out = NULL;
    if (!cfg->database_url) {
        dbm_error_set(DBM_ECONFIG, "no database configured");
        dbm_error_hint("set database-url (or DATABASE_URL, libpq's PG* variables, DB_HOST and "
                       "DB_NAME); 'plan --offline' needs none");
        return DBM_ECONFIG;
    }
    opts = PQconninfoParse(cfg->database_url, &errmsg);
    if (!opts) {
        /* libpq's message may quote the string; the string may hold a password. */
        error = dbm_error_set(DBM_ECONFIG, "database-url is not a valid connection string");
        dbm_error_hint("use postgresql://user:password@host:5432/dbname or "
                       "'host=... dbname=...' (percent-encode special characters in a URI)");
        PQfreemem(errmsg);
        return error;
    }
    for (PQconninfoOption *o = opts; o->keyword; o++)
        if (o->val && *o->val)
            params_set(&p, o->keyword, o->val);
    if (!params_get(&p, "application_name"))
        params_set(&p, "application_name", "db-migrate");
    if (!params_get(&p, "connect_timeout"))
        params_set(&p, "connect_timeout", "10");
    if (cfg->sslmode)
        params_set(&p, "sslmode", cfg->sslmode);
    if (cfg->sslrootcert)
        params_set(&p, "sslrootcert", cfg->sslrootcert);

    conn = dbm_xcalloc(1, sizeof(*conn));
    deadline = dbm_now_ms() + cfg->wait_ms;
    for (;;) {
        conn->pg = PQconnectdbParams(p.keys, p.vals, 0);
        if (conn->pg && PQstatus(conn->pg) == CONNECTION_OK)
            break;
        free(errmsg);
        errmsg = first_line(conn->pg ? PQerrorMessage(conn->pg) : "out of memory");
        PQfinish(conn->pg);
        conn->pg = NULL;
        /* Refused credentials or a missing database do not fix themselves by waiting. */
        if (dbm_now_ms() + delay > deadline || strstr(errmsg, "authentication failed") ||
            strstr(errmsg, "does not exist"))
            break;
        struct timespec ts = {(time_t)(delay / 1000), (long)(delay % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        if (delay < 2000)
            delay *= 2;
    }
    if (!conn->pg) {
        char *who = describe(NULL, &p);
        error = dbm_error_set(DBM_ECONNECT, "unable to connect to '%s': %s", who, errmsg);
        hint_for(errmsg, cfg);
        free(who);
        goto done;
    }
    conn->describe = describe(conn->pg, &p);
    *out = conn;
    conn = NULL;
    error = 0;
done:
    free(errmsg);
    PQconninfoFree(opts);
    dbm_conn_free(conn);
    return error;
}

PGconn *dbm_conn_pg(dbm_conn *conn)
{
    return conn->pg;
}

const char *dbm_conn_describe(const dbm_conn *conn)
{
    return conn->describe;
}

void dbm_conn_free(dbm_conn *conn)
{
    if (!conn)
        return;
    PQfinish(conn->pg);
    free(conn->describe);
    free(conn);
}
