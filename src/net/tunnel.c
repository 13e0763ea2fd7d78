/*
 * tunnel.c - SSH bastion tunnel: the session, from the TCP connection to the relay.
 *
 * dbm_tunnel_open does everything that can be refused on the caller's thread,
 * in blocking mode with a timeout: TCP connect, handshake, host key check
 * (known_hosts.c), public key login (ssh_key.c), and one direct-tcpip channel
 * opened eagerly, so that a bastion that forbids forwarding or cannot reach
 * the database is reported with its own message before libpq ever connects.
 * That channel is kept for the first connection the listener accepts. Then
 * the session is handed to the relay thread (relay.c) until dbm_tunnel_free.
 */
#include "net/tunnel.h"
#include "net/tunnel_internal.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

#include <libssh2.h>
#include <openssl/evp.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* libssh2_init and libssh2_exit keep their count of users without a lock of their own. */
static pthread_mutex_t init_lock = PTHREAD_MUTEX_INITIALIZER;

void dbm_bastion_addr_clear(dbm_bastion_addr *b)
{
    free(b->user);
    free(b->host);
    memset(b, 0, sizeof(*b));
}

int dbm_bastion_parse(dbm_bastion_addr *out, const char *text)
{
    const char *at = strrchr(text, '@');
    const char *h, *colon, *end;
    char *portend = NULL, *shown;
    long port = 22;

    memset(out, 0, sizeof(*out));
    if (!at || at == text || !at[1])
        goto bad;
    h = at + 1;
    if (*h == '[') {
        end = strchr(h, ']');
        if (!end || end == h + 1)
            goto bad;
        out->host = dbm_xstrndup(h + 1, (size_t)(end - h - 1));
        if (end[1] == ':')
            colon = end + 1;
        else if (end[1] == '\0')
            colon = NULL;
        else
            goto bad;
    } else {
        colon = strchr(h, ':');
        if (colon && strchr(colon + 1, ':'))
            colon = NULL; /* a bare IPv6 literal */
        out->host = dbm_xstrndup(h, colon ? (size_t)(colon - h) : strlen(h));
    }
    if (colon) {
        errno = 0;
        port = strtol(colon + 1, &portend, 10);
        if (errno || portend == colon + 1 || *portend || port < 1 || port > 65535)
            goto bad;
    }
    if (!*out->host || strpbrk(out->host, " \t\r\n/"))
        goto bad;
    out->user = dbm_xstrndup(text, (size_t)(at - text));
    out->port = (int)port;
    return 0;
bad:
    dbm_bastion_addr_clear(out);
    shown = dbm_printable(text); /* a value pasted with its line end stays one line */
    dbm_error_set(DBM_ECONFIG, "ssh-bastion '%s' is not user@host[:port]", shown);
    free(shown);
    dbm_error_hint("write it as deploy@bastion.example.com or deploy@203.0.113.10:2222 "
                   "([2001:db8::1]:2222 for an IPv6 address with a port)");
    return DBM_ECONFIG;
}

int dbm_tunnel_b64_decode(unsigned char *out, size_t cap, const char *in, size_t len)
{
    unsigned char tmp[256];
    int n;
    if (len == 0 || len > 340 || len % 4 != 0)
        return -1;
    n = EVP_DecodeBlock(tmp, (const unsigned char *)in, (int)len);
    if (n < 0)
        return -1;
    while (len > 0 && in[len - 1] == '=') {
        n--;
        len--;
    }
    if ((size_t)n > cap)
        return -1;
    memcpy(out, tmp, (size_t)n);
    return n;
}

const char *dbm_tunnel_session_error(LIBSSH2_SESSION *s, int *code)
{
    char *msg = NULL;
    int rc = libssh2_session_last_error(s, &msg, NULL, 0);
    if (code)
        *code = rc;
    return msg ? msg : "";
}

/* Connect a socket with a timeout; returns the fd or -1 with errno set. */
static int connect_timeout(const struct addrinfo *ai, int timeout_ms)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    int fl, err = 0;
    socklen_t elen = sizeof(err);
    struct pollfd pfd;

    if (fd < 0)
        return -1;
    fl = fcntl(fd, F_GETFL);
    fcntl(fd, F_SETFL, fl | O_NONBLOCK);
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
        goto ok;
    if (errno != EINPROGRESS)
        goto fail;
    pfd.fd = fd;
    pfd.events = POLLOUT;
    pfd.revents = 0;
    for (;;) {
        int rc = poll(&pfd, 1, timeout_ms);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc == 0) {
            errno = ETIMEDOUT;
            goto fail;
        }
        if (rc < 0)
            goto fail;
        break;
    }
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) < 0)
        goto fail;
    if (err) {
        errno = err;
        goto fail;
    }
ok:
    fcntl(fd, F_SETFL, fl);
    return fd;
fail:
    err = errno;
    close(fd);
    errno = err;
    return -1;
}

static int tcp_connect(dbm_tunnel *t, const dbm_bastion_addr *b)
{
    struct addrinfo hints, *res = NULL;
    char port[16];
    int rc, err = 0;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    snprintf(port, sizeof(port), "%d", b->port);
    rc = getaddrinfo(b->host, port, &hints, &res);
    if (rc) {
        dbm_error_set(DBM_ECONNECT, "unable to resolve ssh-bastion host '%s': %s", b->host,
                      gai_strerror(rc));
        dbm_error_hint("check the host name in ssh-bastion and this machine's DNS");
        return DBM_ECONNECT;
    }
    for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        t->sock = connect_timeout(ai, TUNNEL_TIMEOUT_MS);
        if (t->sock >= 0)
            break;
        err = errno;
    }
    freeaddrinfo(res);
    if (t->sock < 0) {
        dbm_error_set(DBM_ECONNECT, "unable to reach ssh-bastion '%s': %s", t->bastion,
                      strerror(err));
        dbm_error_hint("check the host and port in ssh-bastion, and that the bastion accepts SSH "
                       "from this machine (security group, firewall)");
        return DBM_ECONNECT;
    }
    return 0;
}

static int listener_open(dbm_tunnel *t)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);

    t->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (t->listen_fd < 0)
        goto fail;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = 0;
    if (bind(t->listen_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        listen(t->listen_fd, 16) < 0 || getsockname(t->listen_fd, (struct sockaddr *)&sa, &len) < 0)
        goto fail;
    t->port = ntohs(sa.sin_port);
    if (pipe2(t->wake, O_CLOEXEC | O_NONBLOCK) < 0)
        goto fail;
    return 0;
fail:
    return dbm_error_set(DBM_EGENERIC, "unable to listen on 127.0.0.1 for the ssh tunnel: %s",
                         strerror(errno));
}

/* Open the first direct-tcpip channel, in blocking mode, to test forwarding. */
static int channel_first(dbm_tunnel *t)
{
    int code = 0;
    const char *msg;

    t->first = libssh2_channel_direct_tcpip_ex(t->session, t->dest_host, t->dest_port, "127.0.0.1",
                                               t->port);
    if (t->first)
        return 0;
    msg = dbm_tunnel_session_error(t->session, &code);
    if (strstr(msg, "prohibited")) {
        dbm_error_set(DBM_ECONNECT, "ssh-bastion '%s' refuses to forward to '%s:%d': %s",
                      t->bastion, t->dest_host, t->dest_port, msg);
        dbm_error_hint("the bastion's sshd must allow it: AllowTcpForwarding yes (or local) for "
                       "this user, and PermitOpen, if set, must list %s:%d",
                       t->dest_host, t->dest_port);
    } else if (strstr(msg, "connect failed") || strstr(msg, "Connect failed")) {
        dbm_error_set(DBM_ECONNECT, "ssh-bastion '%s' could not connect to '%s:%d': %s", t->bastion,
                      t->dest_host, t->dest_port, msg);
        dbm_error_hint("the database host and port in database-url are used from the bastion: "
                       "check them, and that the database accepts connections from the bastion");
    } else {
        dbm_error_set(DBM_ECONNECT, "ssh-bastion '%s' did not open a channel to '%s:%d': %s",
                      t->bastion, t->dest_host, t->dest_port, msg);
        dbm_error_hint("check that the bastion allows TCP forwarding (AllowTcpForwarding) and "
                       "reaches the database host and port given in database-url");
    }
    return DBM_ECONNECT;
}

/*
 * The inputs that need no network: the bastion's address into *b (cleared by
 * the caller), both texts given, a database to reach. DBM_ECONFIG otherwise.
 */
static int check_inputs(dbm_bastion_addr *b, const char *bastion, const char *private_key,
                        const char *known_hosts, const char *dest_host, int dest_port)
{
    int error = dbm_bastion_parse(b, bastion);

    if (error)
        return error;
    if (!private_key || !*private_key || !known_hosts || !*known_hosts) {
        error = dbm_error_set(DBM_ECONFIG, "ssh-bastion is set but ssh-%s is empty",
                              !private_key || !*private_key ? "private-key" : "known-hosts");
        dbm_error_hint("ssh-private-key takes the key's text; ssh-known-hosts takes the bastion's "
                       "known_hosts lines (ssh-keyscan -p %d %s, checked with its owner)",
                       b->port, b->host);
        return error;
    }
    if (!dest_host || !*dest_host || dest_port < 1 || dest_port > 65535) {
        error = dbm_error_set(DBM_ECONFIG, "the ssh tunnel needs the database host and port");
        dbm_error_hint("give the database host in database-url as the bastion sees it");
        return error;
    }
    return 0;
}

static dbm_tunnel *tunnel_new(const dbm_bastion_addr *b, const char *dest_host, int dest_port)
{
    dbm_tunnel *t = dbm_xcalloc(1, sizeof(*t));

    t->sock = t->listen_fd = t->wake[0] = t->wake[1] = -1;
    pthread_mutex_init(&t->lock, NULL);
    t->dest_host = dbm_xstrdup(dest_host);
    t->dest_port = dest_port;
    t->bastion = strchr(b->host, ':') ? dbm_xasprintf("[%s]:%d", b->host, b->port)
                                      : dbm_xasprintf("%s:%d", b->host, b->port);
    return t;
}

/* libssh2 and a session in blocking mode, each step bounded by TUNNEL_TIMEOUT_MS. */
static int session_new(dbm_tunnel *t)
{
    int rc;

    pthread_mutex_lock(&init_lock);
    rc = libssh2_init(0);
    pthread_mutex_unlock(&init_lock);
    if (rc)
        return dbm_error_set(DBM_EGENERIC, "unable to initialize libssh2");
    t->libssh2_inited = true;
    t->session = libssh2_session_init();
    if (!t->session)
        return dbm_error_set(DBM_EGENERIC, "unable to create an ssh session");
    libssh2_session_set_blocking(t->session, 1);
    libssh2_session_set_timeout(t->session, TUNNEL_TIMEOUT_MS);
    return 0;
}

/* TCP connection and SSH handshake with the bastion. */
static int session_connect(dbm_tunnel *t, const dbm_bastion_addr *b)
{
    int error = tcp_connect(t, b);

    if (error)
        return error;
    if (libssh2_session_handshake(t->session, t->sock)) {
        error = dbm_error_set(DBM_ECONNECT, "ssh handshake with ssh-bastion '%s' failed: %s",
                              t->bastion, dbm_tunnel_session_error(t->session, NULL));
        dbm_error_hint("check that '%s' is an SSH server that offers Ed25519, ECDSA or "
                       "RSA (SHA-2) host keys",
                       t->bastion);
        return error;
    }
    t->handshaken = true;
    return 0;
}

/* The listener, the first channel, then the session goes to the relay thread. */
static int relay_start(dbm_tunnel *t)
{
    int error = listener_open(t);

    if (error)
        return error;
    error = channel_first(t);
    if (error)
        return error;
    libssh2_session_set_blocking(t->session, 0);
    if (pthread_create(&t->thread, NULL, dbm_tunnel_relay_main, t))
        return dbm_error_set(DBM_EGENERIC, "unable to start the ssh relay thread");
    t->thread_started = true;
    return 0;
}

int dbm_tunnel_open(dbm_tunnel **out, const char *bastion, const char *private_key,
                    const char *known_hosts, const char *dest_host, int dest_port)
{
    dbm_bastion_addr b = {0};
    dbm_known_hosts kh = {0};
    dbm_tunnel *t = NULL;
    char *key = NULL;
    int error;

    *out = NULL;
    error = check_inputs(&b, bastion, private_key, known_hosts, dest_host, dest_port);
    if (error)
        goto done;
    key = dbm_ssh_key_normalize(private_key);
    error = dbm_ssh_key_precheck(key);
    if (error)
        goto done;

    t = tunnel_new(&b, dest_host, dest_port);
    error = session_new(t);
    if (error == 0)
        error = dbm_known_hosts_read(&kh, t->session, known_hosts, b.host, b.port);
    if (error == 0)
        error = dbm_known_hosts_prefer(&kh, t->session);
    if (error == 0)
        error = session_connect(t, &b);
    if (error == 0)
        error = dbm_known_hosts_verify(&kh, t, &b);
    if (error == 0)
        error = dbm_ssh_key_login(t, &b, key);
    if (error == 0)
        error = relay_start(t);
    if (error)
        goto done;
    *out = t;
    t = NULL;
done:
    dbm_known_hosts_clear(&kh);
    dbm_secret_free(key);
    dbm_bastion_addr_clear(&b);
    dbm_tunnel_free(t);
    return error;
}

int dbm_tunnel_keepalive(dbm_tunnel *t, const dbm_tcp_keepalive *k)
{
    int on = k->on != 0, rc = setsockopt(t->sock, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));

    /* A value of 0 leaves the system's default, as libpq does. */
    if (rc == 0 && on && k->idle_s > 0)
        rc = setsockopt(t->sock, IPPROTO_TCP, TCP_KEEPIDLE, &k->idle_s, sizeof(k->idle_s));
    if (rc == 0 && on && k->interval_s > 0)
        rc = setsockopt(t->sock, IPPROTO_TCP, TCP_KEEPINTVL, &k->interval_s, sizeof(k->interval_s));
    if (rc == 0 && on && k->count > 0)
        rc = setsockopt(t->sock, IPPROTO_TCP, TCP_KEEPCNT, &k->count, sizeof(k->count));
    if (rc == 0 && k->user_timeout_ms > 0)
        rc = setsockopt(t->sock, IPPROTO_TCP, TCP_USER_TIMEOUT, &k->user_timeout_ms,
                        sizeof(k->user_timeout_ms));
    if (rc != 0)
        return dbm_error_set(DBM_EGENERIC,
                             "unable to set keepalives on the ssh-bastion connection: %s",
                             strerror(errno));
    return 0;
}

int dbm_tunnel_port(const dbm_tunnel *t)
{
    return t->port;
}

/* Stop the relay thread, or close what open left when it never started. */
static void relay_stop(dbm_tunnel *t)
{
    if (t->thread_started) {
        char byte = 1;
        while (write(t->wake[1], &byte, 1) < 0 && errno == EINTR)
            ;
        pthread_join(t->thread, NULL);
    } else if (t->session) {
        dbm_tunnel_relay_shutdown(t);
    }
}

void dbm_tunnel_free(dbm_tunnel *t)
{
    if (!t)
        return;
    relay_stop(t);
    if (t->session) {
        libssh2_session_set_timeout(t->session, CLOSE_TIMEOUT_MS);
        libssh2_session_set_blocking(t->session, 1);
        if (t->handshaken)
            libssh2_session_disconnect(t->session, "db-migrate done");
        libssh2_session_free(t->session);
    }
    if (t->libssh2_inited) {
        pthread_mutex_lock(&init_lock);
        libssh2_exit();
        pthread_mutex_unlock(&init_lock);
    }
    if (t->sock >= 0)
        close(t->sock);
    if (t->listen_fd >= 0)
        close(t->listen_fd);
    if (t->wake[0] >= 0)
        close(t->wake[0]);
    if (t->wake[1] >= 0)
        close(t->wake[1]);
    pthread_mutex_destroy(&t->lock);
    free(t->relay_error);
    free(t->dest_host);
    free(t->bastion);
    free(t);
}

const char *dbm_tunnel_library_version(void)
{
    return libssh2_version(0);
}
