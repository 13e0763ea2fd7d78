/*
 * tunnel_internal.h - internal to src/net/: what the parts of the SSH tunnel share.
 *
 * tunnel.c opens and frees the tunnel (the API of net/tunnel.h); known_hosts.c
 * reads the known_hosts lines and checks the bastion's host key against them;
 * ssh_key.c checks the private key and logs in with it; relay.c is the thread
 * that relays connections once the tunnel is open. Only those files include
 * this header: callers use net/tunnel.h.
 */
#ifndef DBM_TUNNEL_INTERNAL_H
#define DBM_TUNNEL_INTERNAL_H

#include "common/util.h"
#include "net/tunnel.h"

#include <libssh2.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#define TUNNEL_TIMEOUT_MS 15000 /* each blocking step of open, and the close at free */
#define CLOSE_TIMEOUT_MS  3000

typedef struct relay_conn relay_conn; /* one accepted connection: relay.c's */

struct dbm_tunnel {
    int sock;      /* TCP connection to the bastion */
    int listen_fd; /* 127.0.0.1:port */
    int port;
    int wake[2]; /* self-pipe: a byte written by dbm_tunnel_free stops the relay */
    LIBSSH2_SESSION *session;
    LIBSSH2_CHANNEL *first; /* opened by dbm_tunnel_open, for the first connection */
    char *dest_host;
    int dest_port;
    char *bastion; /* "host:port", for messages */
    relay_conn *conns;
    pthread_t thread;
    bool thread_started;
    bool libssh2_inited;
    bool handshaken;      /* a disconnect message may be sent */
    bool sock_closed;     /* the bastion closed the connection: stop polling it */
    pthread_mutex_t lock; /* guards relay_error */
    char *relay_error;
};

/* The parts of "user@host[:port]". */
typedef struct {
    char *user;
    char *host;
    int port;
} dbm_bastion_addr;

/*
 * Parse "user@host[:port]". The host may be a name, an IPv4 literal, a
 * bracketed IPv6 literal ("[::1]:2222") or a bare IPv6 literal ("::1",
 * port 22). Returns 0, or DBM_ECONFIG with *out cleared.
 */
int dbm_bastion_parse(dbm_bastion_addr *out, const char *text);
void dbm_bastion_addr_clear(dbm_bastion_addr *b);

/* ---- tunnel.c ---- */

/* libssh2's last error message for the session ("" when none); *code its code when not NULL. */
const char *dbm_tunnel_session_error(LIBSSH2_SESSION *s, int *code);

/*
 * Standard base64 of `len` bytes (a multiple of 4, at most 340) into out[cap].
 * Returns the number of bytes decoded, or -1 when the text is not base64 or
 * does not fit.
 */
int dbm_tunnel_b64_decode(unsigned char *out, size_t cap, const char *in, size_t len);

/* ---- known_hosts.c ---- */

/* The known_hosts lines that concern one bastion, read into libssh2's lists. */
typedef struct {
    LIBSSH2_KNOWNHOSTS *hosts;   /* the lines for this host */
    LIBSSH2_KNOWNHOSTS *revoked; /* "@revoked" lines, whatever their host */
    dbm_buf types;               /* host key algorithms of `hosts`, in line order */
    int matched;                 /* how many lines name this host */
} dbm_known_hosts;

/* The name known_hosts uses for host:port: "host" on 22, "[host]:port" elsewhere, lowercase. */
char *dbm_known_hosts_name(const char *host, int port);

/*
 * Does the host field of a known_hosts line (flen bytes) name `name`? Plain
 * comma-separated names compare without case; "|1|salt|hash" entries are
 * HMAC-SHA1(salt, name). Patterns with wildcards or negations never match.
 */
bool dbm_known_hosts_field_matches(const char *field, size_t flen, const char *name);

/*
 * Read the known_hosts `text` for host:port into *kh (which the caller clears
 * with dbm_known_hosts_clear, also on failure). Markers other than @revoked
 * (@cert-authority) are skipped. DBM_ECONFIG when a line libssh2 cannot read
 * concerns this host (the message names its number); DBM_EGENERIC when the
 * lists cannot be created.
 */
int dbm_known_hosts_read(dbm_known_hosts *kh, LIBSSH2_SESSION *session, const char *text,
                         const char *host, int port);
void dbm_known_hosts_clear(dbm_known_hosts *kh);

/*
 * The host key algorithms to ask for, as a list for libssh2_session_method_pref:
 * those known_hosts has for the host first, in OpenSSH's order of preference,
 * then the others (so that an unknown key can be named), keeping only those
 * `supported` (comma-separated) lists. Caller frees; "" when none is left.
 */
char *dbm_known_hosts_methods(const dbm_known_hosts *kh, const char *supported);

/*
 * Ask the session for the host key types of dbm_known_hosts_methods, among
 * those this libssh2 supports. DBM_EGENERIC when none is left.
 */
int dbm_known_hosts_prefer(const dbm_known_hosts *kh, LIBSSH2_SESSION *session);

/*
 * Check the host key the bastion sent (after the handshake) against *kh.
 * Unknown, changed or revoked: DBM_ECONNECT with the key type and its SHA256
 * fingerprint, and a hint naming ssh-keyscan for b's host and port.
 */
int dbm_known_hosts_verify(const dbm_known_hosts *kh, const dbm_tunnel *t,
                           const dbm_bastion_addr *b);

/* ---- ssh_key.c ---- */

/* A copy of the key text without leading or trailing space, CRLF made LF, one final newline. */
char *dbm_ssh_key_normalize(const char *key);

/*
 * Check the key text before libssh2 sees it, for messages that say what to do:
 * DBM_ECONFIG when it holds no private key or one protected by a passphrase.
 */
int dbm_ssh_key_precheck(const char *key);

/* The key's algorithm for messages: "rsa", "ecdsa", "ed25519" or "unknown". */
const char *dbm_ssh_key_kind(const char *key);

/*
 * Log in as b->user with the (normalized) private key. A refusal is
 * DBM_ECONNECT with what to add on the bastion; a key libssh2 cannot use is
 * DBM_ECONFIG; a connection lost during login is DBM_ECONNECT.
 */
int dbm_ssh_key_login(dbm_tunnel *t, const dbm_bastion_addr *b, const char *key);

/* ---- relay.c ---- */

/*
 * The relay thread (pthread start routine, arg the tunnel): runs until a byte
 * arrives on t->wake[0], then closes every connection and channel.
 */
void *dbm_tunnel_relay_main(void *arg);

/* Close every connection and channel, blocking with a short timeout. */
void dbm_tunnel_relay_shutdown(dbm_tunnel *t);

#endif
