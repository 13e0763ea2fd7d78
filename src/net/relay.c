/*
 * relay.c - the tunnel's relay thread: local connections to direct-tcpip channels.
 *
 * After dbm_tunnel_open returns, the session belongs to this thread: libssh2
 * is not thread-safe per session, so no other thread calls into it. The
 * thread runs the session non-blocking and multiplexes the listener, the SSH
 * socket and every accepted connection with poll(). Since libssh2 may read
 * packets for one channel while serving another, every pass tries every
 * channel, and the thread only sleeps in poll() after a pass that moved
 * nothing. It records no dbm_error (that is per thread): its first failure is
 * kept for dbm_tunnel_relay_error.
 */
#include "net/tunnel_internal.h"
#include "common/util.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RELAY_BUF 32768

struct relay_conn {
    int fd;              /* accepted client socket; -1 once closed */
    LIBSSH2_CHANNEL *ch; /* NULL until the channel is open */
    char up[RELAY_BUF];  /* client -> channel */
    size_t up_len, up_off;
    char down[RELAY_BUF]; /* channel -> client */
    size_t down_len, down_off;
    bool client_eof, eof_sent, channel_eof, shut_wr;
    bool done; /* nothing more to relay: close the channel */
    struct relay_conn *next;
};

char *dbm_tunnel_relay_error(dbm_tunnel *t)
{
    char *msg;
    if (!t)
        return NULL;
    pthread_mutex_lock(&t->lock);
    msg = dbm_xstrdup(t->relay_error);
    pthread_mutex_unlock(&t->lock);
    return msg;
}

/* Record the relay's first failure, `line`, for dbm_tunnel_relay_error. */
static void relay_fail_as(dbm_tunnel *t, const char *line)
{
    pthread_mutex_lock(&t->lock);
    if (!t->relay_error)
        t->relay_error = dbm_xstrdup(line);
    pthread_mutex_unlock(&t->lock);
}

/* Record the relay's first failure: `what`, then libssh2's message. */
static void relay_fail(dbm_tunnel *t, const char *what)
{
    int code = 0;
    const char *msg = dbm_tunnel_session_error(t->session, &code);
    char *line = dbm_xasprintf("%s: %s", what, *msg ? msg : "connection lost");

    relay_fail_as(t, line);
    free(line);
}

static void conn_close_fd(relay_conn *c)
{
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
}

/*
 * Open the connection's channel (the first connection has the one open made).
 * False while libssh2 would block; true when it opened, or failed (c->done).
 */
static bool relay_channel_open(dbm_tunnel *t, relay_conn *c)
{
    char *msg = NULL;

    c->ch = libssh2_channel_direct_tcpip_ex(t->session, t->dest_host, t->dest_port, "127.0.0.1",
                                            t->port);
    if (c->ch)
        return true;
    if (libssh2_session_last_error(t->session, &msg, NULL, 0) == LIBSSH2_ERROR_EAGAIN)
        return false;
    relay_fail(t, "the bastion did not open a channel to the database");
    c->done = true;
    return true;
}

/*
 * Client -> channel: read from the client once the last read is written,
 * write to the channel, and pass the client's EOF on once all is written.
 * True when something moved; a failed channel sets c->done.
 */
static bool relay_up(dbm_tunnel *t, relay_conn *c)
{
    bool progress = false;
    ssize_t n;

    if (c->up_off == c->up_len && !c->client_eof) {
        n = recv(c->fd, c->up, sizeof(c->up), 0);
        if (n > 0) {
            c->up_len = (size_t)n;
            c->up_off = 0;
            progress = true;
        } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            c->client_eof = true;
            progress = true;
        }
    }
    while (c->up_off < c->up_len) {
        n = libssh2_channel_write(c->ch, c->up + c->up_off, c->up_len - c->up_off);
        if (n == LIBSSH2_ERROR_EAGAIN)
            break;
        if (n < 0) {
            relay_fail(t, "the ssh channel to the database failed");
            c->done = true;
            return true;
        }
        c->up_off += (size_t)n;
        progress = true;
    }
    if (c->up_off == c->up_len)
        c->up_off = c->up_len = 0;
    if (c->client_eof && c->up_len == 0 && !c->eof_sent &&
        libssh2_channel_send_eof(c->ch) != LIBSSH2_ERROR_EAGAIN) {
        c->eof_sent = true;
        progress = true;
    }
    return progress;
}

/*
 * Channel -> client: read from the channel once the last read is delivered,
 * send to the client, and shut the client's side for writing after the
 * channel's EOF. True when something moved.
 */
static bool relay_down(dbm_tunnel *t, relay_conn *c)
{
    bool progress = false;
    ssize_t n;

    if (c->down_off == c->down_len && !c->channel_eof) {
        n = libssh2_channel_read(c->ch, c->down, sizeof(c->down));
        if (n > 0) {
            c->down_len = (size_t)n;
            c->down_off = 0;
            progress = true;
        } else if (n == 0 || (n < 0 && n != LIBSSH2_ERROR_EAGAIN)) {
            if (n < 0)
                relay_fail(t, "the ssh channel to the database failed");
            if (n < 0 || libssh2_channel_eof(c->ch)) {
                c->channel_eof = true;
                progress = true;
            }
        }
    }
    while (c->down_off < c->down_len && c->fd >= 0) {
        n = send(c->fd, c->down + c->down_off, c->down_len - c->down_off, MSG_NOSIGNAL);
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
            break;
        if (n <= 0) {
            /* The client went away: nothing more can be delivered. */
            c->down_off = c->down_len;
            c->client_eof = c->channel_eof = true;
            progress = true;
            break;
        }
        c->down_off += (size_t)n;
        progress = true;
    }
    if (c->down_off == c->down_len)
        c->down_off = c->down_len = 0;
    if (c->channel_eof && c->down_len == 0 && !c->shut_wr && c->fd >= 0) {
        shutdown(c->fd, SHUT_WR);
        c->shut_wr = true;
        progress = true;
    }
    return progress;
}

/*
 * Move what can move for one connection without blocking. Returns true when
 * something happened (bytes moved, a state changed), so the caller loops
 * again before sleeping.
 */
static bool relay_step(dbm_tunnel *t, relay_conn *c)
{
    bool progress = false;

    if (c->done)
        return false;
    if (!c->ch) {
        if (!relay_channel_open(t, c))
            return false;
        if (c->done)
            return true;
        progress = true;
    }
    progress |= relay_up(t, c);
    if (c->done)
        return true;
    progress |= relay_down(t, c);
    if (c->client_eof && c->eof_sent && c->channel_eof && c->down_len == 0) {
        c->done = true;
        progress = true;
    }
    return progress;
}

/* Free finished connections whose channel closed; true when one was freed. */
static bool relay_reap(dbm_tunnel *t)
{
    bool progress = false;
    for (relay_conn **pp = &t->conns; *pp;) {
        relay_conn *c = *pp;
        if (c->done) {
            conn_close_fd(c);
            if (c->ch && libssh2_channel_free(c->ch) == LIBSSH2_ERROR_EAGAIN) {
                pp = &c->next;
                continue;
            }
            *pp = c->next;
            free(c);
            progress = true;
            continue;
        }
        pp = &c->next;
    }
    return progress;
}

static bool relay_accept(dbm_tunnel *t)
{
    bool progress = false;
    for (;;) {
        int fd = accept4(t->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        relay_conn *c;
        if (fd < 0)
            return progress;
        c = dbm_xcalloc(1, sizeof(*c));
        c->fd = fd;
        c->ch = t->first;
        t->first = NULL;
        c->next = t->conns;
        t->conns = c;
        progress = true;
    }
}

static bool relay_stopping(dbm_tunnel *t)
{
    char byte;
    return read(t->wake[0], &byte, 1) == 1;
}

static void relay_wait(dbm_tunnel *t)
{
    struct pollfd *pfd;
    size_t n = 0, cap = 3;
    int dirs = libssh2_session_block_directions(t->session);

    for (relay_conn *c = t->conns; c; c = c->next)
        cap++;
    pfd = dbm_xcalloc(cap, sizeof(*pfd));
    pfd[n].fd = t->wake[0];
    pfd[n++].events = POLLIN;
    pfd[n].fd = t->listen_fd;
    pfd[n++].events = POLLIN;
    /* A closed socket stays readable: polling it would spin. */
    pfd[n].fd = t->sock_closed ? -1 : t->sock;
    pfd[n++].events =
        (short)(POLLIN | POLLRDHUP | (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND ? POLLOUT : 0));
    for (relay_conn *c = t->conns; c; c = c->next) {
        if (c->fd < 0 || c->done)
            continue;
        pfd[n].fd = c->fd;
        pfd[n].events = 0;
        if (c->up_len == 0 && !c->client_eof && c->ch)
            pfd[n].events |= POLLIN;
        if (c->down_len > 0)
            pfd[n].events |= POLLOUT;
        n++;
    }
    /* A timeout, in case libssh2 holds data that no socket announces. */
    if (poll(pfd, n, 1000) > 0 && (pfd[2].revents & (POLLRDHUP | POLLHUP | POLLERR))) {
        int err = 0;
        socklen_t len = sizeof(err);

        t->sock_closed = true;
        /* ETIMEDOUT: keepalives or tcp_user_timeout gave up on a bastion gone silent. */
        if (getsockopt(t->sock, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == ETIMEDOUT)
            relay_fail_as(t, "the bastion stopped answering: the connection timed out");
        else
            relay_fail(t, "the bastion closed the ssh connection");
    }
    free(pfd);
}

void dbm_tunnel_relay_shutdown(dbm_tunnel *t)
{
    libssh2_session_set_timeout(t->session, CLOSE_TIMEOUT_MS);
    libssh2_session_set_blocking(t->session, 1);
    while (t->conns) {
        relay_conn *c = t->conns;
        t->conns = c->next;
        conn_close_fd(c);
        if (c->ch)
            libssh2_channel_free(c->ch);
        free(c);
    }
    if (t->first) {
        libssh2_channel_free(t->first);
        t->first = NULL;
    }
}

void *dbm_tunnel_relay_main(void *arg)
{
    dbm_tunnel *t = arg;

    while (!relay_stopping(t)) {
        bool progress = relay_accept(t);
        for (relay_conn *c = t->conns; c; c = c->next)
            progress |= relay_step(t, c);
        progress |= relay_reap(t);
        if (!progress)
            relay_wait(t);
    }
    dbm_tunnel_relay_shutdown(t);
    return NULL;
}
