/*
 * connect.c - configuration to PGconn.
 *
 * The conninfo the user gave is parsed by libpq itself (PQconninfoParse), then
 * given back as keyword/value arrays with this tool's additions, so URIs and
 * key=value strings, quoting and PG* defaults all behave exactly as in psql.
 */
#include "postgres/connect.h"
#include "postgres/connect_hint.h"
#include "postgres/message.h"
#include "net/aws.h"
#include "common/error.h"
#include "common/log.h"
#include "net/tunnel.h"
#include "common/thread.h"
#include "common/util.h"

#include <errno.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_PARAMS 64

struct dbm_conn {
    PGconn *pg;
    char *describe;
    dbm_tunnel *tunnel; /* NULL without ssh-bastion; closed after pg */
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

/* A numeric parameter (0 when it is not set or not a number: libpq refuses that itself). */
static int param_int(const conn_params *p, const char *key)
{
    const char *v = params_get(p, key);
    char *end = NULL;
    long n = v ? strtol(v, &end, 10) : 0;
    return v && end != v && *end == '\0' && n > 0 && n <= 1000000000 ? (int)n : 0;
}

/* Whether a "connection to server ..." line says only that nothing answered there. */
static bool nobody_there(const char *line, size_t n)
{
    static const char *const quiet[] = {"Connection refused", "Network is unreachable",
                                        "Cannot assign requested address", "No route to host"};

    for (size_t i = 0; i < sizeof(quiet) / sizeof(quiet[0]); i++) {
        const char *at = strstr(line, quiet[i]);
        if (at && at < line + n)
            return true;
    }
    return false;
}

/*
 * Where libpq tried several addresses (localhost as ::1 then 127.0.0.1, or
 * host=a,b), its message has a "connection to server ..." line for each: the
 * attempt that tells most is the last one where a server answered (a refused
 * password, a missing database), else the last attempt.
 */
static const char *telling_attempt(const char *msg)
{
    static const char lead[] = "connection to server ";
    const char *best = msg, *line = msg;

    if (!dbm_starts_with(msg, lead))
        return msg;
    while (line && *line) {
        size_t n = strcspn(line, "\n");

        if (dbm_starts_with(line, lead) &&
            (!nobody_there(line, n) || nobody_there(best, strcspn(best, "\n"))))
            best = line;
        line = line[n] ? line + n + 1 : NULL;
    }
    return best;
}

/*
 * When no attempt was answered (every line says nobody was there): the addresses libpq
 * tried, from its lines `connection to server at "NAME" (ADDR), port P failed: ...` (or
 * `at "ADDR", port P` for a numeric host), as "A", "A and B" or "A, B and C" (caller
 * frees). NULL when a server answered, or when no line resolved a name (the addresses
 * would only repeat the hosts given).
 */
static char *tried_addresses(const char *msg)
{
    static const char lead[] = "connection to server at \"";
    const char *addr[16], *line = msg;
    size_t len[16];
    int count = 0;
    bool resolved = false;
    dbm_buf out = DBM_BUF_INIT;

    for (; line && *line;
         line = line[strcspn(line, "\n")] ? line + strcspn(line, "\n") + 1 : NULL) {
        size_t n = strcspn(line, "\n"), an;
        const char *end, *a;
        bool seen = false;

        if (dbm_starts_with(line, "connection to server ") && !nobody_there(line, n))
            return NULL; /* a server answered: its message is the one */
        if (!dbm_starts_with(line, lead) ||
            !(end = memchr(line + strlen(lead), '"', n - strlen(lead))))
            continue;
        a = line + strlen(lead);
        an = (size_t)(end - a);
        if (dbm_starts_with(end, "\" (") && memchr(end + 3, ')', n - (size_t)(end + 3 - line))) {
            a = end + 3;
            an = (size_t)((const char *)memchr(a, ')', n - (size_t)(a - line)) - a);
            resolved = true;
        }
        for (int i = 0; i < count; i++)
            seen = seen || (len[i] == an && memcmp(addr[i], a, an) == 0);
        if (!seen && count < 16) {
            addr[count] = a;
            len[count++] = an;
        }
    }
    if (!resolved)
        return NULL;
    for (int i = 0; i < count; i++)
        dbm_buf_printf(&out, "%s%.*s",
                       i == 0           ? ""
                       : i == count - 1 ? " and "
                                        : ", ",
                       (int)len[i], addr[i]);
    return dbm_buf_detach(&out);
}

/*
 * The first line of libpq's message (of the attempt that tells most), without libpq's own
 * "connection to server at "H" (A), port P failed: " prefix (our message names the database itself,
 * and through a tunnel libpq's address is the local end) nor the severity.
 */
static char *first_line(const char *msg)
{
    const char *failed;
    char *line;
    size_t n;

    if (!msg)
        msg = "";
    msg = telling_attempt(msg);
    if (dbm_starts_with(msg, "connection to server ") &&
        (failed = strstr(msg, " failed: ")) != NULL && failed < msg + strcspn(msg, "\n"))
        msg = failed + strlen(" failed: ");
    n = strcspn(msg, "\n");
    line = dbm_xmalloc(n + 1);
    dbm_db_message_clean(line, n + 1, msg, n);
    return line;
}

/* libpq refused a parameter before trying a server ("invalid sslmode value: \"x\""). */
static bool bad_parameter(const char *msg)
{
    return dbm_starts_with(msg, "invalid ") && strchr(msg, '"') != NULL;
}

/* A failure that retrying for `wait` cannot fix: credentials, names, TLS, a bad parameter. */
static bool permanent_failure(const char *msg)
{
    return bad_parameter(msg) || strstr(msg, "authentication failed") ||
           strstr(msg, "does not exist") || strstr(msg, "certificate") ||
           strstr(msg, "no pg_hba.conf entry") || strstr(msg, "does not support SSL");
}

/* real_port: the database's own port when libpq talks to a tunnel's local end. */
static char *describe(PGconn *pg, const conn_params *p, const char *real_port)
{
    const char *host = params_get(p, "host");
    const char *user = pg ? PQuser(pg) : params_get(p, "user");
    const char *port = real_port ? real_port : pg ? PQport(pg) : params_get(p, "port");
    const char *db = pg ? PQdb(pg) : params_get(p, "dbname");

    if (pg && PQhost(pg) && (!host || strchr(host, ',')))
        host = PQhost(pg);
    if (host && host[0] == '/')
        host = "localhost";
    return dbm_xasprintf("%s@%s:%s/%s", user && *user ? user : "?", host && *host ? host : "?",
                         port && *port ? port : "5432", db && *db ? db : "?");
}

/*
 * The database as libpq would reach it: host (or hostaddr) and port from the
 * conninfo, else PGHOST/PGHOSTADDR/PGPORT, else port 5432. A tunnel carries
 * one TCP destination, so a host list or a Unix socket is a configuration
 * error.
 */
static int tunnel_destination(const char **host, const char **addr, long *port,
                              const conn_params *p)
{
    const char *port_text = params_get(p, "port");
    char *end = NULL;

    *host = params_get(p, "host");
    *addr = params_get(p, "hostaddr");
    if (!*host)
        *host = dbm_getenv("PGHOST");
    if (!*addr)
        *addr = dbm_getenv("PGHOSTADDR");
    if (!port_text)
        port_text = dbm_getenv("PGPORT");
    if (!*host && !*addr) {
        dbm_error_set(DBM_ECONFIG, "ssh-bastion is set but database-url names no database host");
        dbm_error_hint("give the database host as the bastion reaches it, e.g. "
                       "postgresql://user@db.internal:5432/app");
        return DBM_ECONFIG;
    }
    if ((*host && (strchr(*host, ',') || (*host)[0] == '/')) || (*addr && strchr(*addr, ','))) {
        dbm_error_set(DBM_ECONFIG, "ssh-bastion needs one TCP database host, not '%s'",
                      *host ? *host : *addr);
        dbm_error_hint("give a single host name or address in database-url");
        return DBM_ECONFIG;
    }
    *port = 5432;
    if (port_text) {
        errno = 0;
        *port = strtol(port_text, &end, 10);
        if (errno || end == port_text || *end || *port < 1 || *port > 65535) {
            dbm_error_set(DBM_ECONFIG, "ssh-bastion needs one database port, not '%s'", port_text);
            dbm_error_hint("give a single port in database-url");
            return DBM_ECONFIG;
        }
    }
    return 0;
}

/*
 * What the keyword/value arrays given to libpq point into; it outlives the
 * connection attempts.
 */
typedef struct {
    conn_params p;
    PQconninfoOption *parsed; /* database-url as libpq parsed it */
    char local_port[16];      /* the tunnel's local end */
    char real_port[16];       /* the database's own port, through a tunnel */
    bool tunneled;
    char *iam_token; /* the password with aws-iam; wiped when freed */
} conn_setup;

static void setup_free(conn_setup *s)
{
    dbm_secret_free(s->iam_token);
    PQconninfoFree(s->parsed);
}

/*
 * Unless database-url sets them: a database gone silent without a reset (a partition, a NAT that
 * forgot the connection) is dropped after 30 s with nothing received and 3 probes 10 s apart, or
 * 60 s of unacknowledged data. A healthy server's kernel answers probes however long a statement
 * runs.
 */
static const char *const keepalive_defaults[][2] = {
    {"keepalives", "1"},       {"keepalives_idle", "30"},     {"keepalives_interval", "10"},
    {"keepalives_count", "3"}, {"tcp_user_timeout", "60000"},
};

/* Whether the loaded libpq has the parameter (tcp_user_timeout is libpq 12's). */
static bool libpq_knows(const PQconninfoOption *parsed, const char *key)
{
    while (parsed->keyword && strcmp(parsed->keyword, key) != 0)
        parsed++;
    return parsed->keyword != NULL;
}

/*
 * s->p from database-url as libpq parses it (its password registered as a
 * secret), with this tool's defaults: application_name, connect_timeout and
 * gssencmode. DBM_ECONFIG when the string does not parse; its text is not
 * repeated, as it may hold a password.
 */
static int params_from_url(conn_setup *s, const char *database_url)
{
    char *errmsg = NULL;

    s->parsed = PQconninfoParse(database_url, &errmsg);
    if (!s->parsed) {
        PQfreemem(errmsg);
        dbm_error_set(DBM_ECONFIG, "database-url is not a valid connection string");
        dbm_error_hint("use postgresql://user:password@host:5432/dbname or "
                       "'host=... dbname=...' (percent-encode special characters in a URI)");
        return DBM_ECONFIG;
    }
    for (PQconninfoOption *o = s->parsed; o->keyword; o++) {
        if (o->val && *o->val)
            params_set(&s->p, o->keyword, o->val);
        /* Before anything could print it; nothing reads the string before this. */
        if (o->val && strcmp(o->keyword, "password") == 0)
            dbm_mask(o->val);
    }
    if (!params_get(&s->p, "application_name"))
        params_set(&s->p, "application_name", "db-migrate");
    if (!params_get(&s->p, "connect_timeout"))
        params_set(&s->p, "connect_timeout", "10");
    for (size_t i = 0; i < sizeof(keepalive_defaults) / sizeof(*keepalive_defaults); i++)
        if (!params_get(&s->p, keepalive_defaults[i][0]) &&
            libpq_knows(s->parsed, keepalive_defaults[i][0]))
            params_set(&s->p, keepalive_defaults[i][0], keepalive_defaults[i][1]);
    /*
     * libpq's default gssencmode=prefer probes the Kerberos credential cache on
     * every connection; managed PostgreSQL encrypts with TLS, so the probe is
     * skipped unless the connection string or PGGSSENCMODE asks for it. GSSAPI
     * authentication itself is unaffected.
     */
    if (!params_get(&s->p, "gssencmode") && !dbm_getenv("PGGSSENCMODE"))
        params_set(&s->p, "gssencmode", "disable");
    return 0;
}

/* sslmode and sslrootcert from the options, and the aws-iam default. */
static void tls_defaults(conn_params *p, const dbm_connect_opts *cfg)
{
    if (cfg->sslmode)
        params_set(p, "sslmode", cfg->sslmode);
    if (cfg->sslrootcert)
        params_set(p, "sslrootcert", cfg->sslrootcert);
    /* An IAM token must not travel in clear: TLS by default, verified when a CA is given. */
    if (cfg->aws_iam && !params_get(p, "sslmode") && !dbm_getenv("PGSSLMODE"))
        params_set(p, "sslmode",
                   params_get(p, "sslrootcert") || dbm_getenv("PGSSLROOTCERT") ? "verify-full"
                                                                               : "require");
}

/*
 * Open the SSH tunnel to the database (conn->tunnel) and point s->p at its
 * local end. DBM_ECONFIG for a destination a tunnel cannot carry; the
 * tunnel's own errors.
 */
static int open_tunnel(dbm_conn *conn, conn_setup *s, const dbm_connect_opts *cfg)
{
    const char *host, *addr;
    long port;
    int error;

    if ((error = tunnel_destination(&host, &addr, &port, &s->p)) != 0)
        return error;
    if ((error = dbm_tunnel_open(&conn->tunnel, cfg->ssh_bastion, cfg->ssh_private_key,
                                 cfg->ssh_known_hosts, addr ? addr : host, (int)port)) != 0)
        return error;
    if ((error = dbm_tunnel_keepalive(conn->tunnel,
                                      &(dbm_tcp_keepalive){
                                          .on = param_int(&s->p, "keepalives"),
                                          .idle_s = param_int(&s->p, "keepalives_idle"),
                                          .interval_s = param_int(&s->p, "keepalives_interval"),
                                          .count = param_int(&s->p, "keepalives_count"),
                                          .user_timeout_ms = param_int(&s->p, "tcp_user_timeout"),
                                      })) != 0)
        return error;
    /* libpq dials the local end; host= keeps the real name for verify-full. */
    snprintf(s->local_port, sizeof(s->local_port), "%d", dbm_tunnel_port(conn->tunnel));
    snprintf(s->real_port, sizeof(s->real_port), "%ld", port);
    params_set(&s->p, "host", host ? host : addr);
    params_set(&s->p, "hostaddr", "127.0.0.1");
    params_set(&s->p, "port", s->local_port);
    s->tunneled = true;
    return 0;
}

/*
 * With aws-iam the password is an RDS token for the real host, port and
 * user: make it (s->iam_token) and give it to libpq. DBM_ECONFIG without a
 * host name or user; dbm_aws_rds_password's errors.
 */
static int iam_password(conn_setup *s, const dbm_connect_opts *cfg)
{
    const conn_params *p = &s->p;
    const char *host = params_get(p, "host") ? params_get(p, "host") : dbm_getenv("PGHOST");
    const char *port = s->tunneled             ? s->real_port
                       : params_get(p, "port") ? params_get(p, "port")
                                               : dbm_getenv("PGPORT");
    const char *user = params_get(p, "user") ? params_get(p, "user") : dbm_getenv("PGUSER");
    dbm_aws_options ao = cfg->aws;
    int error;

    if (!host || host[0] == '/' || !user) {
        error = dbm_error_set(DBM_ECONFIG,
                              "auth aws-iam needs the database %s in "
                              "database-url",
                              !user ? "user" : "host name");
        dbm_error_hint("write postgresql://USER@HOST:5432/DB; the IAM token is signed for "
                       "that host and user");
        return error;
    }
    error = dbm_aws_rds_password(&s->iam_token, &ao, host,
                                 port ? (int)strtol(port, NULL, 10) : 5432, user);
    if (error)
        return error;
    if (s->iam_token)
        params_set(&s->p, "password", s->iam_token);
    return 0;
}

/*
 * Connect, retrying for wait_ms while the failure may be one that waiting
 * fixes (a database still starting). NULL when it never succeeded, with
 * *errmsg (caller frees) the first line of the last failure and *tried (caller
 * frees) the addresses it tried when none answered (see tried_addresses), and
 * *failed (caller PQfinishes; NULL when out of memory) the last attempt, for
 * what libpq resolved (PQhost, PQport...).
 */
static PGconn *connect_retrying(char **errmsg, char **tried, PGconn **failed, const conn_params *p,
                                long long wait_ms)
{
    int64_t deadline = dbm_now_ms() + wait_ms;
    int64_t delay = 250, left, sleep_ms;

    *errmsg = NULL;
    *tried = NULL;
    *failed = NULL;
    for (;;) {
        PGconn *pg = PQconnectdbParams(p->keys, p->vals, 0);
        struct timespec ts;

        free(*errmsg);
        free(*tried);
        *errmsg = NULL;
        *tried = NULL;
        if (pg && PQstatus(pg) == CONNECTION_OK)
            return pg;
        *errmsg = first_line(pg ? PQerrorMessage(pg) : "out of memory");
        *tried = pg ? tried_addresses(PQerrorMessage(pg)) : NULL;
        /* Refused credentials or a missing database do not fix themselves by waiting. */
        left = deadline - dbm_now_ms();
        if (left <= 0 || permanent_failure(*errmsg) || dbm_job_abandoned()) {
            *failed = pg;
            return NULL;
        }
        PQfinish(pg);
        /* The last attempt is made at the deadline, not a backoff step before it. */
        sleep_ms = delay < left ? delay : left;
        ts.tv_sec = (time_t)(sleep_ms / 1000);
        ts.tv_nsec = (long)(sleep_ms % 1000) * 1000000L;
        nanosleep(&ts, NULL);
        if (delay < 2000)
            delay *= 2;
    }
}

/*
 * The session's settings, each only on a server that has it (one round trip; failure to set
 * them changes nothing):
 * - client_connection_check_interval (14 on): the server checks every second that the client
 *   is still there, for the whole session: a job cancelled or killed in the middle of a
 *   statement stops the server within about a second instead of letting it finish a
 *   statement that the next run, finding it unrecorded, would run again.
 * - idle_session_timeout = 0 (14 on): the session idles between lock-timeout retries and
 *   while it waits for the run lock; a role's or database's timeout must not end it there.
 * - transaction_timeout = 0 (17 on): a migration's time is bounded by statement-timeout
 *   and lock-timeout, as on older servers, not by a role's or database's transaction_timeout
 *   (pg_dump 17 turns it off for the same reason).
 */
static void session_settings(PGconn *pg)
{
    const char *const *restore = dbm_db_session_restore(pg);

    PQclear(PQexec(pg, restore[DBM_DB_RESTORE_STATEMENTS - 1]));
}

void dbm_db_reset_session(PGconn *pg)
{
    PQclear(PQexec(pg, "RESET ALL"));
    session_settings(pg);
}

/* A value libpq resolved on a failed attempt (PQhost...), else the conninfo's. */
static const char *resolved(char *(*get)(const PGconn *), PGconn *failed, const conn_params *p,
                            const char *key)
{
    const char *v = failed ? get(failed) : NULL;
    return v && *v ? v : params_get(p, key);
}

/*
 * The database a failed attempt was for, as libpq resolved it (PG* variables,
 * defaults, the Unix-socket directory): user@host:port/db.
 */
static char *describe_failed(PGconn *failed, const conn_params *p, const char *real_port)
{
    const char *user = resolved(PQuser, failed, p, "user");
    const char *host = resolved(PQhost, failed, p, "host");
    const char *port = real_port ? real_port : resolved(PQport, failed, p, "port");
    const char *db = resolved(PQdb, failed, p, "dbname");

    return dbm_xasprintf("%s@%s:%s/%s", user && *user ? user : "?", host && *host ? host : "?",
                         port && *port ? port : "5432", db && *db ? db : "?");
}

/*
 * DBM_ECONNECT for a connection that failed with `errmsg`: the database named, and a hint.
 * tried: the addresses of the host name that all refused, if known (see tried_addresses).
 * failed: libpq's last attempt, or NULL.
 */
static int connect_failed(const dbm_conn *conn, const conn_setup *s, const char *errmsg,
                          const char *tried, PGconn *failed, const dbm_connect_opts *cfg)
{
    char *who = describe_failed(failed, &s->p, s->tunneled ? s->real_port : NULL);
    char *relay = dbm_tunnel_relay_error(conn->tunnel);
    const char *host = resolved(PQhost, failed, &s->p, "host");
    int error;

    if (bad_parameter(errmsg)) {
        error = dbm_error_set(DBM_ECONFIG, "unable to connect to '%s': %s", who, errmsg);
        dbm_error_hint("fix that parameter in database-url; libpq's parameters and their values: "
                       "https://www.postgresql.org/docs/current/libpq-connect.html");
    } else if (relay) {
        error = dbm_error_set(DBM_ECONNECT, "unable to connect to '%s' through ssh-bastion: %s",
                              who, relay);
        dbm_error_hint("check that the bastion allows TCP forwarding and reaches the database "
                       "host and port given in database-url");
    } else if (tried && !s->tunneled && !params_get(&s->p, "hostaddr")) {
        error =
            dbm_error_set(DBM_ECONNECT, "unable to connect to '%s': %s at %s", who, errmsg, tried);
        if (!dbm_connect_ipv6_hint(params_get(&s->p, "host"), tried))
            dbm_connect_hint(errmsg, cfg, false);
    } else {
        error = dbm_error_set(DBM_ECONNECT, "unable to connect to '%s'%s: %s", who,
                              s->tunneled ? " through ssh-bastion" : "", errmsg);
        if (s->tunneled ||
            !dbm_connect_socket_hint(errmsg, host, resolved(PQport, failed, &s->p, "port")))
            dbm_connect_hint(errmsg, cfg, s->tunneled);
    }
    free(relay);
    free(who);
    return error;
}

int dbm_connect(dbm_conn **out, const dbm_connect_opts *cfg)
{
    conn_setup s;
    dbm_conn *conn = NULL;
    char *errmsg = NULL, *tried = NULL;
    PGconn *failed = NULL;
    int error;

    memset(&s, 0, sizeof(s));
    *out = NULL;
    if (!cfg->database_url) {
        dbm_error_set(DBM_ECONFIG, "no database configured");
        dbm_error_hint("set database-url (or DATABASE_URL, libpq's PG* variables, DB_HOST and "
                       "DB_NAME); 'plan --offline' needs none");
        return DBM_ECONFIG;
    }
    /* Before any PQ call, setup_free's included: they go through the loaded library. */
    if ((error = dbm_pq_load()) < 0)
        return error;
    if ((error = params_from_url(&s, cfg->database_url)) < 0)
        goto done;
    tls_defaults(&s.p, cfg);
    conn = dbm_xcalloc(1, sizeof(*conn));
    if (cfg->ssh_bastion && (error = open_tunnel(conn, &s, cfg)) != 0)
        goto done;
    if (cfg->aws_iam && (error = iam_password(&s, cfg)) != 0)
        goto done;
    conn->pg = connect_retrying(&errmsg, &tried, &failed, &s.p, cfg->wait_ms);
    if (!conn->pg) {
        error = connect_failed(conn, &s, errmsg, tried, failed, cfg);
        goto done;
    }
    session_settings(conn->pg);
    conn->describe = describe(conn->pg, &s.p, s.tunneled ? s.real_port : NULL);
    *out = conn;
    conn = NULL;
done:
    PQfinish(failed);
    free(errmsg);
    free(tried);
    setup_free(&s);
    dbm_conn_free(conn);
    return error;
}
PGconn *dbm_conn_pg(dbm_conn *conn)
{
    return conn->pg;
}

const char *dbm_conn_database(dbm_conn *conn)
{
    return PQdb(conn->pg);
}

const char *dbm_conn_user(dbm_conn *conn)
{
    return PQuser(conn->pg);
}

char *dbm_conn_tunnel_error(dbm_conn *conn)
{
    return conn ? dbm_tunnel_relay_error(conn->tunnel) : NULL;
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
    dbm_tunnel_free(conn->tunnel);
    free(conn->describe);
    free(conn);
}
