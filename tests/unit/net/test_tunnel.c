/*
 * test_tunnel.c - the SSH tunnel and dbm_connect against real servers.
 *
 * The group setup starts tests/integration/netfixture.sh: an OpenSSH server
 * with its own host keys on 127.0.0.1 and a PostgreSQL with TLS (test CA) and
 * SCRAM. Nothing here is mocked; the fixture is stopped in the teardown.
 */
#include "unit.h"

#include "postgres/connect.h"
#include "common/error.h"
#include "net/tunnel.h"
#include "common/util.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/*
 * libssh2 1.10 loses two BIGNUMs (56 bytes) each time it loads an ECDSA key in
 * OpenSSH format; the leak is inside the library, under this call.
 */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "fast_unwind_on_malloc=0"; /* stacks through libcrypto, for the suppression */
}

const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
    return "leak:libssh2_userauth_publickey_frommemory\n";
}

static char fixture_dir[256];
static char fixture_script[512];

/* Values from the fixture's env file (NAME='value' lines). */
static char *fixture_get(const char *name)
{
    char *path = dbm_xasprintf("%s/env", fixture_dir);
    char *text = NULL, *val = NULL;
    size_t len;
    if (dbm_read_file(&text, &len, path) == 0) {
        char *key = dbm_xasprintf("%s='", name);
        char *p = strstr(text, key);
        if (p) {
            p += strlen(key);
            val = dbm_xstrndup(p, strcspn(p, "'"));
        }
        free(key);
    }
    free(text);
    free(path);
    assert_non_null(val);
    return val;
}

/* A file of the fixture, as text. */
static char *fixture_file(const char *rel)
{
    char *path = dbm_xasprintf("%s/%s", fixture_dir, rel);
    char *text = NULL;
    size_t len;
    assert_int_equal(dbm_read_file(&text, &len, path), 0);
    free(path);
    return text;
}

/* The first line a shell command prints. */
static char *command_line(const char *cmd)
{
    FILE *f = popen(cmd, "r");
    char buf[1024] = "";
    assert_non_null(f);
    if (!fgets(buf, sizeof(buf), f))
        buf[0] = '\0';
    pclose(f);
    buf[strcspn(buf, "\n")] = '\0';
    return dbm_xstrdup(buf);
}

static int group_setup(void **state)
{
    char *cmd;
    int rc;
    const char *src = __FILE__; /* tests/unit/test_tunnel.c, relative to the repository */

    /* The PQ calls below go through db-migrate's table (pq.h), as the modules' do;
     * PQconnectdb, PQsslInUse and PQgetlength, which db-migrate never calls, are linked. */
    if (dbm_pq_load() != 0)
        return -1;

    snprintf(fixture_script, sizeof(fixture_script), "%.*s/../../integration/netfixture.sh",
             (int)(strrchr(src, '/') - src), src);
    snprintf(fixture_dir, sizeof(fixture_dir), "/tmp/dbm-net.%ld", (long)getpid());
    cmd = dbm_xasprintf("%s start %s", fixture_script, fixture_dir);
    rc = system(cmd);
    free(cmd);
    return rc == 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
    char *cmd = dbm_xasprintf("%s stop %s", fixture_script, fixture_dir);
    int rc = system(cmd);
    free(cmd);
    return rc == 0 ? 0 : -1;
}

typedef struct {
    char *bastion, *nofwd_bastion, *legacy_bastion, *pg_port;
} fixture;

static void fixture_load(fixture *f)
{
    char *user = fixture_get("SSH_USER"), *port = fixture_get("SSH_PORT");
    char *nofwd = fixture_get("SSH_PORT_NOFWD"), *legacy = fixture_get("SSH_PORT_LEGACY");
    f->bastion = dbm_xasprintf("%s@127.0.0.1:%s", user, port);
    f->nofwd_bastion = dbm_xasprintf("%s@127.0.0.1:%s", user, nofwd);
    f->legacy_bastion = dbm_xasprintf("%s@127.0.0.1:%s", user, legacy);
    free(legacy);
    f->pg_port = fixture_get("PGTEST_PORT");
    free(user);
    free(port);
    free(nofwd);
}

static void fixture_clear(fixture *f)
{
    free(f->bastion);
    free(f->nofwd_bastion);
    free(f->legacy_bastion);
    free(f->pg_port);
}

/* Open a tunnel with a key file and a known_hosts file of the fixture. */
static int open_with(dbm_tunnel **t, const char *bastion, const char *key_file, const char *kh_file,
                     const char *pg_port)
{
    char *key = fixture_file(key_file), *kh = fixture_file(kh_file);
    int rc = dbm_tunnel_open(t, bastion, key, kh, "localhost", (int)strtol(pg_port, NULL, 10));
    /* No error may quote the key. */
    assert_null(strstr(dbm_error_message(), "PRIVATE KEY"));
    if (dbm_error_hint_text())
        assert_null(strstr(dbm_error_hint_text(), "PRIVATE KEY"));
    dbm_secret_free(key);
    free(kh);
    return rc;
}

/* One query through the tunnel with TLS verify-full against the real name. */
static void query_through(dbm_tunnel *t, const char *extra_sql)
{
    char *pw = fixture_get("DB_PASSWORD");
    char *conninfo =
        dbm_xasprintf("host=localhost hostaddr=127.0.0.1 port=%d user=dbm_user dbname=dbm_net "
                      "password=%s sslmode=verify-full sslrootcert=%s/ca.crt connect_timeout=10",
                      dbm_tunnel_port(t), pw, fixture_dir);
    PGconn *pg = PQconnectdb(conninfo);
    PGresult *r;

    if (PQstatus(pg) != CONNECTION_OK)
        fail_msg("connect through the tunnel: %s", PQerrorMessage(pg));
    assert_int_equal(PQsslInUse(pg), 1);
    r = PQexec(pg, extra_sql ? extra_sql : "SELECT 41 + 1");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    if (!extra_sql)
        assert_string_equal(PQgetvalue(r, 0, 0), "42");
    PQclear(r);
    PQfinish(pg);
    dbm_secret_free(pw);
    dbm_secret_free(conninfo);
}

/*
 * This process's TCP socket to 127.0.0.1:port (the bastion), and its keepalive settings:
 * on, idle, interval, count and TCP_USER_TIMEOUT. Fails the test when there is none.
 */
static void bastion_socket_options(int out[5], const char *port)
{
    for (int fd = 3; fd < 1024; fd++) {
        struct sockaddr_in peer;
        socklen_t len = sizeof(peer), ol = sizeof(int);
        static const int opts[][2] = {{SOL_SOCKET, SO_KEEPALIVE},
                                      {IPPROTO_TCP, TCP_KEEPIDLE},
                                      {IPPROTO_TCP, TCP_KEEPINTVL},
                                      {IPPROTO_TCP, TCP_KEEPCNT},
                                      {IPPROTO_TCP, TCP_USER_TIMEOUT}};

        if (getpeername(fd, (struct sockaddr *)&peer, &len) != 0 || peer.sin_family != AF_INET ||
            ntohs(peer.sin_port) != (unsigned)strtol(port, NULL, 10))
            continue;
        for (int i = 0; i < 5; i++)
            assert_int_equal(getsockopt(fd, opts[i][0], opts[i][1], &out[i], &ol), 0);
        return;
    }
    fail_msg("no connection to the bastion's port %s", port);
}

static void tunnel_relays_tls_postgres_with_each_client_key(void **state)
{
    /*
     * libssh2 1.10 (OpenSSL backend) reads every unencrypted format here, but
     * signs with RSA keys only as ssh-rsa (SHA-1): the current OpenSSH refuses
     * them unless PubkeyAcceptedAlgorithms allows ssh-rsa (the legacy server).
     */
    static const char *keys[] = {"ed25519_openssh", "ed25519_pkcs8", "ecdsa_openssh", "ecdsa_pem",
                                 "ecdsa_pkcs8",     "rsa_openssh",   "rsa_pem",       "rsa_pkcs8"};
    fixture f;

    fixture_load(&f);
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        char *file = dbm_xasprintf("keys/%s", keys[i]);
        bool rsa = dbm_starts_with(keys[i], "rsa");
        dbm_tunnel *t = NULL;
        int rc = open_with(&t, f.bastion, file, "kh_all", f.pg_port);

        if (rsa) {
            if (rc != DBM_ECONNECT)
                fail_msg("%s: got %d (%s)", keys[i], rc, dbm_error_message());
            assert_non_null(strstr(dbm_error_message(), "refused the rsa key"));
            assert_non_null(strstr(dbm_error_hint_text(), "ssh-rsa (SHA-1)"));
        } else {
            if (rc)
                fail_msg("%s: %s", keys[i], dbm_error_message());
            query_through(t, NULL);
            dbm_tunnel_free(t);
            t = NULL;
        }
        rc = open_with(&t, f.legacy_bastion, file, "kh_legacy", f.pg_port);
        if (rc)
            fail_msg("%s on the legacy server: %s", keys[i], dbm_error_message());
        query_through(t, NULL);
        dbm_tunnel_free(t);
        free(file);
    }
    fixture_clear(&f);
}

static void tunnel_reports_unreadable_key(void **state)
{
    fixture f;
    dbm_tunnel *t = NULL;

    fixture_load(&f);
    assert_int_equal(open_with(&t, f.bastion, "keys/damaged", "kh_all", f.pg_port), DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "ssh-private-key could not be read"));
    assert_non_null(strstr(dbm_error_hint_text(), "ssh-keygen -p"));
    fixture_clear(&f);
}

static void tunnel_accepts_hashed_and_single_type_known_hosts(void **state)
{
    static const char *files[] = {"kh_hashed", "kh_ed25519", "kh_legacy_rsa"};
    fixture f;

    fixture_load(&f);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        dbm_tunnel *t = NULL;
        /* Only the legacy server still signs with its RSA host key as ssh-rsa. */
        int rc = open_with(&t, i == 2 ? f.legacy_bastion : f.bastion, "keys/ed25519_openssh",
                           files[i], f.pg_port);
        if (rc)
            fail_msg("%s: %s", files[i], dbm_error_message());
        query_through(t, NULL);
        dbm_tunnel_free(t);
    }
    fixture_clear(&f);
}

static void tunnel_refuses_changed_host_key_with_fingerprint(void **state)
{
    fixture f;
    dbm_tunnel *t = NULL;
    char *cmd =
        dbm_xasprintf("ssh-keygen -lf %s/ssh_host_ed25519_key.pub | cut -d' ' -f2", fixture_dir);
    char *fp = command_line(cmd);

    fixture_load(&f);
    assert_true(dbm_starts_with(fp, "SHA256:"));
    assert_int_equal(open_with(&t, f.bastion, "keys/ed25519_openssh", "kh_wrong", f.pg_port),
                     DBM_ECONNECT);
    assert_null(t);
    assert_non_null(strstr(dbm_error_message(), "does not match ssh-known-hosts"));
    assert_non_null(strstr(dbm_error_message(), "ssh-ed25519"));
    if (!strstr(dbm_error_message(), fp))
        fail_msg("'%s' does not show %s", dbm_error_message(), fp);
    assert_non_null(strstr(dbm_error_hint_text(), "ssh-keyscan -p"));
    assert_null(strchr(dbm_error_message(), '\n'));
    free(cmd);
    free(fp);
    fixture_clear(&f);
}

static void tunnel_refuses_unknown_host(void **state)
{
    static const char *files[] = {"kh_empty", "kh_port22_only"};
    fixture f;
    char *cmd =
        dbm_xasprintf("ssh-keygen -lf %s/ssh_host_ed25519_key.pub | cut -d' ' -f2", fixture_dir);
    char *fp = command_line(cmd);

    fixture_load(&f);
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        dbm_tunnel *t = NULL;
        int rc = open_with(&t, f.bastion, "keys/ed25519_openssh", files[i], f.pg_port);
        if (i == 0) {
            /* An empty text is a configuration error: the option is required. */
            assert_int_equal(rc, DBM_ECONFIG);
            continue;
        }
        assert_int_equal(rc, DBM_ECONNECT);
        assert_non_null(strstr(dbm_error_message(), "is not in ssh-known-hosts"));
        if (!strstr(dbm_error_message(), fp))
            fail_msg("'%s' does not show %s", dbm_error_message(), fp);
        assert_non_null(strstr(dbm_error_hint_text(), "ssh-keyscan -p"));
    }
    free(cmd);
    free(fp);
    fixture_clear(&f);
}

static void tunnel_refuses_revoked_and_missing_key_types(void **state)
{
    fixture f;
    dbm_tunnel *t = NULL;
    char *all = fixture_file("kh_all"), *pub = fixture_file("ssh_host_ed25519_key.pub");
    char *key = fixture_file("keys/ed25519_openssh");
    char *kh = dbm_xasprintf("%s@revoked * %s", all, pub);

    fixture_load(&f);
    assert_int_equal(
        dbm_tunnel_open(&t, f.bastion, key, kh, "localhost", (int)strtol(f.pg_port, NULL, 10)),
        DBM_ECONNECT);
    assert_non_null(strstr(dbm_error_message(), "is revoked in ssh-known-hosts"));

    /* Only an RSA line: the server signs with Ed25519, which the text lacks. */
    assert_int_equal(open_with(&t, f.bastion, "keys/ed25519_openssh", "kh_rsa", f.pg_port),
                     DBM_ECONNECT);
    assert_non_null(strstr(dbm_error_message(), "has no ssh-ed25519 key for ssh-bastion"));
    dbm_secret_free(key);
    free(kh);
    free(all);
    free(pub);
    fixture_clear(&f);
}

static void tunnel_takes_crlf_key_and_known_hosts(void **state)
{
    fixture f;
    dbm_tunnel *t = NULL;
    char *key = fixture_file("keys/ecdsa_pem"), *kh = fixture_file("kh_hashed");
    dbm_buf k = DBM_BUF_INIT, h = DBM_BUF_INIT;

    fixture_load(&f);
    dbm_buf_puts(&k, "\r\n  ");
    for (const char *c = key; *c; c++) {
        if (*c == '\n')
            dbm_buf_puts(&k, "\r\n");
        else
            dbm_buf_putc(&k, *c);
    }
    for (const char *c = kh; *c; c++) {
        if (*c == '\n')
            dbm_buf_puts(&h, " \r\n# comment\r\n\r\n");
        else
            dbm_buf_putc(&h, *c);
    }
    if (dbm_tunnel_open(&t, f.bastion, k.ptr, h.ptr, "localhost", (int)strtol(f.pg_port, NULL, 10)))
        fail_msg("%s", dbm_error_message());
    query_through(t, NULL);
    dbm_tunnel_free(t);
    dbm_buf_wipe(&k);
    dbm_buf_free(&h);
    dbm_secret_free(key);
    free(kh);
    fixture_clear(&f);
}

static void tunnel_refuses_unauthorized_and_encrypted_keys(void **state)
{
    fixture f;
    dbm_tunnel *t = NULL;
    char *user = fixture_get("SSH_USER");

    fixture_load(&f);
    assert_int_equal(open_with(&t, f.bastion, "keys/unauthorized", "kh_all", f.pg_port),
                     DBM_ECONNECT);
    assert_non_null(strstr(dbm_error_message(), "refused the ed25519 key for user"));
    assert_non_null(strstr(dbm_error_message(), user));
    assert_non_null(strstr(dbm_error_message(), "127.0.0.1"));
    assert_non_null(strstr(dbm_error_hint_text(), "authorized_keys"));

    assert_int_equal(open_with(&t, f.bastion, "keys/ed25519_encrypted", "kh_all", f.pg_port),
                     DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "passphrase"));

    assert_int_equal(
        dbm_tunnel_open(&t, f.bastion, "/home/me/.ssh/id_ed25519", "x", "localhost", 5432),
        DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "does not hold a private key"));
    free(user);
    fixture_clear(&f);
}

static void tunnel_reports_refused_forwarding(void **state)
{
    fixture f;
    dbm_tunnel *t = NULL;

    fixture_load(&f);
    assert_int_equal(open_with(&t, f.nofwd_bastion, "keys/ed25519_openssh", "kh_nofwd", f.pg_port),
                     DBM_ECONNECT);
    assert_non_null(strstr(dbm_error_message(), "refuses to forward"));
    assert_non_null(strstr(dbm_error_hint_text(), "AllowTcpForwarding"));
    fixture_clear(&f);
}

static void tunnel_reports_unreachable_bastion_and_bad_address(void **state)
{
    fixture f;
    dbm_tunnel *t = NULL;
    char *closed = command_line("python3 -c 'import socket; s=socket.socket(); "
                                "s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])'");
    char *bastion = dbm_xasprintf("someone@127.0.0.1:%s", closed);

    fixture_load(&f);
    assert_int_equal(open_with(&t, bastion, "keys/ed25519_openssh", "kh_all", f.pg_port),
                     DBM_ECONNECT);
    assert_non_null(strstr(dbm_error_message(), "unable to reach ssh-bastion"));
    assert_non_null(strstr(dbm_error_message(), "refused"));

    assert_int_equal(open_with(&t, "no-user-here", "keys/ed25519_openssh", "kh_all", f.pg_port),
                     DBM_ECONFIG);
    assert_non_null(strstr(dbm_error_message(), "user@host[:port]"));
    assert_int_equal(open_with(&t, "u@h:99999", "keys/ed25519_openssh", "kh_all", f.pg_port),
                     DBM_ECONFIG);
    /* a value pasted with its line end is named on one line (found by fuzz/url) */
    assert_int_equal(open_with(&t, "u@\r\n", "keys/ed25519_openssh", "kh_all", f.pg_port),
                     DBM_ECONFIG);
    assert_string_equal(dbm_error_message(), "ssh-bastion 'u@?\?' is not user@host[:port]");
    free(closed);
    free(bastion);
    fixture_clear(&f);
}

static void tunnel_relays_concurrent_connections_and_large_results(void **state)
{
    fixture f;
    dbm_tunnel *t = NULL;
    char *pw = fixture_get("DB_PASSWORD");
    PGconn *pg[3];

    fixture_load(&f);
    assert_int_equal(open_with(&t, f.bastion, "keys/ed25519_openssh", "kh_all", f.pg_port), 0);
    for (int i = 0; i < 3; i++) {
        char *ci = dbm_xasprintf("host=localhost hostaddr=127.0.0.1 port=%d user=dbm_user "
                                 "dbname=dbm_net password=%s sslmode=verify-full "
                                 "sslrootcert=%s/ca.crt",
                                 dbm_tunnel_port(t), pw, fixture_dir);
        pg[i] = PQconnectdb(ci);
        if (PQstatus(pg[i]) != CONNECTION_OK)
            fail_msg("connection %d: %s", i, PQerrorMessage(pg[i]));
        dbm_secret_free(ci);
    }
    /* 8 MB each way on interleaved connections: windows fill and drain. */
    for (int i = 0; i < 3; i++) {
        PGresult *r = PQexec(pg[i], "SELECT length(repeat('x', 8000000) || $$$$), "
                                    "md5(repeat('y', 8000000))");
        assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
        assert_string_equal(PQgetvalue(r, 0, 0), "8000000");
        PQclear(r);
        r = PQexec(pg[i], "SELECT repeat('z', 8000000)");
        assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
        assert_int_equal(PQgetlength(r, 0, 0), 8000000);
        PQclear(r);
    }
    for (int i = 0; i < 3; i++)
        PQfinish(pg[i]);
    dbm_tunnel_free(t);
    dbm_secret_free(pw);
    fixture_clear(&f);
}

/* The options a test sets for dbm_connect, owned by the test. */
typedef struct {
    char *database_url, *sslmode, *sslrootcert, *ssh_bastion, *ssh_private_key, *ssh_known_hosts;
} conn_cfg;

/* dbm_connect with the options of `cfg` (borrowed for the call). */
static int connect_with(dbm_conn **conn, const conn_cfg *cfg)
{
    dbm_connect_opts opts = {.database_url = cfg->database_url,
                             .sslmode = cfg->sslmode,
                             .sslrootcert = cfg->sslrootcert,
                             .ssh_bastion = cfg->ssh_bastion,
                             .ssh_private_key = cfg->ssh_private_key,
                             .ssh_known_hosts = cfg->ssh_known_hosts};
    return dbm_connect(conn, &opts);
}

/* Connection options for the fixture's database. */
static conn_cfg *config_for(const char *url_fmt_user, const char *dbname, const char *password)
{
    conn_cfg *cfg = dbm_xcalloc(1, sizeof(*cfg));
    char *port = fixture_get("PGTEST_PORT");
    cfg->database_url = dbm_xasprintf("postgresql://%s:%s@%s:%s/%s", "dbm_user", password,
                                      url_fmt_user, port, dbname);
    free(port);
    return cfg;
}

static void config_release(conn_cfg *cfg)
{
    dbm_secret_free(cfg->database_url);
    free(cfg->sslmode);
    free(cfg->sslrootcert);
    free(cfg->ssh_bastion);
    dbm_secret_free(cfg->ssh_private_key);
    free(cfg->ssh_known_hosts);
    free(cfg);
}

static void connect_checks_tls_and_reports_each_failure(void **state)
{
    char *pw = fixture_get("DB_PASSWORD");
    char *ca = dbm_xasprintf("%s/ca.crt", fixture_dir);
    char *other = dbm_xasprintf("%s/other-ca.crt", fixture_dir);
    char *missing = dbm_xasprintf("%s/nope.crt", fixture_dir);
    char *closed = command_line("python3 -c 'import socket; s=socket.socket(); "
                                "s.bind((\"127.0.0.1\",0)); print(s.getsockname()[1])'");
    static const struct {
        const char *host, *db, *sslmode;
        int ca; /* 0 right CA, 1 other CA, 2 missing file */
        bool wrong_pw;
        const char *want_msg, *want_hint;
    } cases[] = {
        {"localhost", "dbm_net", "verify-full", 0, false, NULL, NULL},
        {"localhost", "dbm_net", "verify-full", 1, false, "certificate verify failed",
         "not signed"},
        {"127.0.0.1", "dbm_net", "verify-full", 0, false, "does not match host name",
         "issued for another name"},
        {"localhost", "dbm_net", "verify-full", 2, false, "root certificate file", "sslrootcert"},
        {"localhost", "dbm_net", "require", 0, true, "password authentication failed", "password"},
        {"localhost", "no_such_db", "require", 0, false, "database \"no_such_db\" does not exist",
         "create the database"},
        {"localhost", "dbm_net", "disable", 0, false, "no pg_hba.conf entry", "only over TLS"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        conn_cfg *cfg = config_for(cases[i].host, cases[i].db, cases[i].wrong_pw ? "nope" : pw);
        dbm_conn *conn = NULL;
        int rc;

        cfg->sslmode = dbm_xstrdup(cases[i].sslmode);
        cfg->sslrootcert = dbm_xstrdup(cases[i].ca == 0 ? ca : cases[i].ca == 1 ? other : missing);
        rc = connect_with(&conn, cfg);
        if (!cases[i].want_msg) {
            if (rc)
                fail_msg("case %zu: %s", i, dbm_error_message());
            char *port = fixture_get("PGTEST_PORT");
            char *want = dbm_xasprintf("dbm_user@localhost:%s/dbm_net", port);
            assert_string_equal(dbm_conn_describe(conn), want);
            free(want);
            free(port);
            assert_int_equal(PQsslInUse(dbm_conn_pg(conn)), 1);
        } else {
            assert_int_equal(rc, DBM_ECONNECT);
            if (!strstr(dbm_error_message(), cases[i].want_msg) ||
                !strstr(dbm_error_hint_text(), cases[i].want_hint))
                fail_msg("case %zu: '%s' / '%s'", i, dbm_error_message(), dbm_error_hint_text());
            assert_null(strchr(dbm_error_message(), '\n'));
            assert_null(strstr(dbm_error_message(), pw));
            assert_null(strstr(dbm_error_message(), "connection to server at"));
        }
        dbm_conn_free(conn);
        config_release(cfg);
    }

    /* A closed port: exit 3 with the database named. */
    {
        conn_cfg *cfg = dbm_xcalloc(1, sizeof(*cfg));
        dbm_conn *conn = NULL;
        cfg->database_url = dbm_xasprintf("postgresql://dbm_user@127.0.0.1:%s/dbm_net", closed);
        assert_int_equal(connect_with(&conn, cfg), DBM_ECONNECT);
        assert_non_null(strstr(dbm_error_message(), "Connection refused"));
        assert_non_null(strstr(dbm_error_message(), closed));
        config_release(cfg);
    }
    dbm_secret_free(pw);
    free(ca);
    free(other);
    free(missing);
    free(closed);
}

static void connect_through_bastion_verifies_the_real_host_name(void **state)
{
    fixture f;
    char *pw = fixture_get("DB_PASSWORD");
    conn_cfg *cfg;
    dbm_conn *conn = NULL;
    PGresult *r;
    char *want;

    fixture_load(&f);
    cfg = config_for("localhost", "dbm_net", pw);
    cfg->sslmode = dbm_xstrdup("verify-full");
    cfg->sslrootcert = dbm_xasprintf("%s/ca.crt", fixture_dir);
    cfg->ssh_bastion = dbm_xstrdup(f.bastion);
    cfg->ssh_private_key = fixture_file("keys/ecdsa_pem");
    cfg->ssh_known_hosts = fixture_file("kh_hashed");
    if (connect_with(&conn, cfg))
        fail_msg("%s / %s", dbm_error_message(), dbm_error_hint_text());
    want = dbm_xasprintf("dbm_user@localhost:%s/dbm_net", f.pg_port);
    assert_string_equal(dbm_conn_describe(conn), want);
    /* libpq's keepalive defaults hold for the bastion's connection too. */
    {
        int got[5], want_opts[5] = {1, 30, 10, 3, 60000};
        char *port = fixture_get("SSH_PORT");

        bastion_socket_options(got, port);
        assert_memory_equal(got, want_opts, sizeof(got));
        dbm_conn_free(conn);
        conn = NULL;
        /* database-url's own values win, for both */
        dbm_secret_free(cfg->database_url);
        cfg->database_url = dbm_xasprintf("postgresql://dbm_user:%s@localhost:%s/dbm_net?"
                                          "keepalives_idle=7&keepalives_interval=2&"
                                          "keepalives_count=5&tcp_user_timeout=9000",
                                          pw, f.pg_port);
        if (connect_with(&conn, cfg))
            fail_msg("%s / %s", dbm_error_message(), dbm_error_hint_text());
        bastion_socket_options(got, port);
        assert_memory_equal(got, ((int[]){1, 7, 2, 5, 9000}), sizeof(got));
        free(port);
    }
    r = PQexec(dbm_conn_pg(conn), "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");
    assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
    assert_string_equal(PQgetvalue(r, 0, 0), "t");
    PQclear(r);
    dbm_conn_free(conn);
    conn = NULL;
    free(want);

    /* The certificate is for localhost: the IP through the tunnel is refused. */
    dbm_secret_free(cfg->database_url);
    cfg->database_url =
        dbm_xasprintf("postgresql://dbm_user:%s@127.0.0.1:%s/dbm_net", pw, f.pg_port);
    assert_int_equal(connect_with(&conn, cfg), DBM_ECONNECT);
    assert_non_null(strstr(dbm_error_message(), "through ssh-bastion"));
    assert_non_null(strstr(dbm_error_message(), "does not match host name"));

    /* Forwarding refused: the bastion's own reason, before libpq runs. */
    free(cfg->ssh_bastion);
    cfg->ssh_bastion = dbm_xstrdup(f.nofwd_bastion);
    free(cfg->ssh_known_hosts);
    cfg->ssh_known_hosts = fixture_file("kh_nofwd");
    assert_int_equal(connect_with(&conn, cfg), DBM_ECONNECT);
    assert_non_null(strstr(dbm_error_message(), "refuses to forward"));
    assert_null(strstr(dbm_error_message(), pw));

    config_release(cfg);
    dbm_secret_free(pw);
    fixture_clear(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(tunnel_relays_tls_postgres_with_each_client_key),
        cmocka_unit_test(tunnel_reports_unreadable_key),
        cmocka_unit_test(tunnel_accepts_hashed_and_single_type_known_hosts),
        cmocka_unit_test(tunnel_refuses_changed_host_key_with_fingerprint),
        cmocka_unit_test(tunnel_refuses_unknown_host),
        cmocka_unit_test(tunnel_refuses_revoked_and_missing_key_types),
        cmocka_unit_test(tunnel_takes_crlf_key_and_known_hosts),
        cmocka_unit_test(tunnel_refuses_unauthorized_and_encrypted_keys),
        cmocka_unit_test(tunnel_reports_refused_forwarding),
        cmocka_unit_test(tunnel_reports_unreachable_bastion_and_bad_address),
        cmocka_unit_test(tunnel_relays_concurrent_connections_and_large_results),
        cmocka_unit_test(connect_checks_tls_and_reports_each_failure),
        cmocka_unit_test(connect_through_bastion_verifies_the_real_host_name),
    };
    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
