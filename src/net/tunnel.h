/*
 * tunnel.h - an SSH bastion tunnel (libssh2) for libpq.
 *
 * Connects to the bastion, verifies its host key against known_hosts lines
 * (unknown or changed: refused, with the key's SHA256 fingerprint), logs in
 * with the private key (text, OpenSSH or PEM), and listens on 127.0.0.1 on an
 * ephemeral port. Each connection accepted there is relayed through a
 * direct-tcpip channel to the database, by a relay thread that ends when the
 * tunnel is freed. Errors are DBM_ECONNECT with one line saying what to fix.
 */
#ifndef DBM_TUNNEL_H
#define DBM_TUNNEL_H

typedef struct dbm_tunnel dbm_tunnel;

/*
 * bastion: "user@host[:port]" (port 22 by default). private_key and
 * known_hosts are the texts themselves, not paths. dest_host/dest_port: the
 * database as the bastion reaches it.
 */
int dbm_tunnel_open(dbm_tunnel **out, const char *bastion, const char *private_key,
                    const char *known_hosts, const char *dest_host, int dest_port);

/*
 * How a silent bastion is noticed: TCP keepalive probes after idle_s seconds
 * with nothing received, every interval_s, count of them unanswered; and
 * user_timeout_ms, how long sent data may go unacknowledged (0: the
 * system's). on = false turns probes off. The values libpq takes as
 * keepalives, keepalives_idle, keepalives_interval, keepalives_count and
 * tcp_user_timeout, so database-url sets both.
 */
typedef struct {
    int on;
    int idle_s, interval_s, count;
    int user_timeout_ms;
} dbm_tcp_keepalive;

/*
 * Apply k to the connection to the bastion, so a network that stops
 * delivering (no reset) ends the relay, and with it libpq's connection, in
 * bounded time. 0, or DBM_EGENERIC when the system refuses an option.
 */
int dbm_tunnel_keepalive(dbm_tunnel *t, const dbm_tcp_keepalive *k);

/* The local port libpq should connect to (hostaddr=127.0.0.1). */
int dbm_tunnel_port(const dbm_tunnel *t);

/*
 * The first failure of the relay thread (a channel the bastion refused or a
 * lost session), as one line for an error message, or NULL when there was
 * none. Caller frees. Accepts NULL.
 */
char *dbm_tunnel_relay_error(dbm_tunnel *t);

/* Stop the relay, close channels and the session. Accepts NULL. */
void dbm_tunnel_free(dbm_tunnel *t);

/* The linked libssh2's version ("1.10.0"), for --version. Static. */
const char *dbm_tunnel_library_version(void);

#endif
