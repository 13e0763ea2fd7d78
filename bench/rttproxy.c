/*
 * rttproxy.c - a TCP proxy on 127.0.0.1 that adds latency (the benchmarks build it).
 *
 * usage: rttproxy LISTEN_PORT TARGET_PORT RTT_MS
 *
 * Every chunk is delivered RTT_MS / 2 after it arrived, in each direction and
 * in order, so a request and its answer take RTT_MS longer than on loopback:
 * the round trip to a database in another network. The kernel here has no
 * netem, so the delay is added in user space: one thread, epoll for the
 * sockets and a timerfd (nanoseconds; epoll's own timeout rounds up to whole
 * milliseconds) for the earliest chunk due. It costs next to no CPU, so that
 * with many connections in flight on a machine of two cores the figures are
 * the tools' and the server's, not the proxy's (a Python proxy with a thread
 * per direction took a fifth of the cores at 8 connections and added 0.6 ms
 * to each round trip). Prints "ready" on stdout once it listens.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define CHUNK 65536

typedef struct chunk {
    struct chunk *next;
    uint64_t due; /* ns, CLOCK_MONOTONIC */
    size_t len, off;
    char data[]; /* len 0: the end of the stream */
} chunk;

typedef struct pair pair;

/* One way of a connection: what src sent, delivered to dst when due. */
typedef struct {
    int src, dst;
    chunk *head, *tail;
    bool eof;     /* src ended: nothing more to read */
    bool blocked; /* dst's buffer is full: wait until it is writable */
    bool watched; /* src is in the epoll set */
    pair *owner;
} way;

struct pair {
    way ways[2]; /* client -> server, server -> client */
    pair *next;
};

static int ep, timer;
static uint64_t delay;
static pair *pairs;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *what)
{
    perror(what);
    exit(1);
}

/*
 * What epoll watches on w's source socket: reading while it has not ended, and
 * writing while the other way is blocked on it (it is that way's destination).
 * With neither, it leaves the set: epoll would report a hang-up over and over.
 */
static void watch(way *w)
{
    way *back = &w->owner->ways[w == &w->owner->ways[0]];
    struct epoll_event ev = {.events = (w->eof ? 0 : EPOLLIN) | (back->blocked ? EPOLLOUT : 0),
                             .data.ptr = w};
    int op = !ev.events ? EPOLL_CTL_DEL : w->watched ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;

    if (!ev.events && !w->watched)
        return;
    if (epoll_ctl(ep, op, w->src, &ev) < 0)
        die("epoll_ctl");
    w->watched = ev.events != 0;
}

static int connect_to(int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
        return fd;
    if (fd >= 0)
        close(fd);
    return -1;
}

static void accept_all(int server, int target)
{
    for (;;) {
        int one = 1, client = accept4(server, NULL, NULL, SOCK_NONBLOCK), upstream;
        pair *p;

        if (client < 0)
            return;
        if ((upstream = connect_to(target)) < 0) {
            close(client);
            continue;
        }
        setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        setsockopt(upstream, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        fcntl(upstream, F_SETFL, O_NONBLOCK);
        if (!(p = calloc(1, sizeof(*p))))
            die("calloc");
        p->ways[0] = (way){.src = client, .dst = upstream, .owner = p};
        p->ways[1] = (way){.src = upstream, .dst = client, .owner = p};
        p->next = pairs;
        pairs = p;
        watch(&p->ways[0]);
        watch(&p->ways[1]);
    }
}

static void push(way *w, const char *data, size_t len)
{
    chunk *c = malloc(sizeof(*c) + len);

    if (!c)
        die("malloc");
    c->next = NULL;
    c->due = now_ns() + delay;
    c->len = len;
    c->off = 0;
    memcpy(c->data, data, len);
    if (w->tail)
        w->tail->next = c;
    else
        w->head = c;
    w->tail = c;
}

static void pop(way *w)
{
    chunk *c = w->head;

    w->head = c->next;
    if (!w->head)
        w->tail = NULL;
    free(c);
}

static void read_way(way *w)
{
    static char buf[CHUNK];
    ssize_t n = recv(w->src, buf, sizeof(buf), 0);

    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return;
    if (n <= 0) {
        push(w, buf, 0);
        w->eof = true;
        watch(w);
        return;
    }
    push(w, buf, (size_t)n);
}

/* Send w's chunks that are due; the end of the stream shuts dst's writing side. */
static void deliver(way *w, uint64_t now)
{
    bool was = w->blocked;

    w->blocked = false;
    while (w->head && w->head->due <= now) {
        chunk *c = w->head;
        ssize_t n;

        if (c->len == 0) {
            shutdown(w->dst, SHUT_WR);
            pop(w);
            continue;
        }
        n = send(w->dst, c->data + c->off, c->len - c->off, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
            w->blocked = true;
            break;
        }
        if (n < 0) { /* the receiver is gone: drop what it would have got */
            while (w->head)
                pop(w);
            break;
        }
        c->off += (size_t)n;
        if (c->off == c->len)
            pop(w);
    }
    if (was != w->blocked) /* dst's EPOLLOUT interest belongs to the other way's entry */
        watch(&w->owner->ways[w == &w->owner->ways[0]]);
}

/* Deliver what is due; free the pairs both of whose ways have ended; arm the timer. */
static void tick(void)
{
    uint64_t now = now_ns(), next = 0;
    struct itimerspec its;

    for (pair **pp = &pairs; *pp;) {
        pair *p = *pp;
        for (int k = 0; k < 2; k++) {
            way *w = &p->ways[k];
            if (w->head && !w->blocked)
                deliver(w, now);
            if (w->head && !w->blocked && (!next || w->head->due < next))
                next = w->head->due;
        }
        if (p->ways[0].eof && p->ways[1].eof && !p->ways[0].head && !p->ways[1].head) {
            close(p->ways[0].src);
            close(p->ways[1].src);
            *pp = p->next;
            free(p);
            continue;
        }
        pp = &p->next;
    }
    memset(&its, 0, sizeof(its));
    if (next) {
        its.it_value.tv_sec = (time_t)(next / 1000000000u);
        its.it_value.tv_nsec = (long)(next % 1000000000u);
    }
    if (timerfd_settime(timer, TFD_TIMER_ABSTIME, &its, NULL) < 0)
        die("timerfd_settime");
}

int main(int argc, char **argv)
{
    struct sockaddr_in a = {.sin_family = AF_INET};
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL}, evs[64];
    int server, one = 1, target;

    if (argc != 4) {
        fprintf(stderr, "usage: rttproxy LISTEN_PORT TARGET_PORT RTT_MS\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    a.sin_port = htons((uint16_t)atoi(argv[1]));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    target = atoi(argv[2]);
    delay = (uint64_t)(atof(argv[3]) * 1e6 / 2);
    if ((server = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0 ||
        setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
        bind(server, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(server, 512) < 0)
        die("listen");
    if ((ep = epoll_create1(0)) < 0 || (timer = timerfd_create(CLOCK_MONOTONIC, 0)) < 0)
        die("epoll");
    ev.data.ptr = &server;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, server, &ev) < 0)
        die("epoll_ctl");
    ev.data.ptr = &timer;
    if (epoll_ctl(ep, EPOLL_CTL_ADD, timer, &ev) < 0)
        die("epoll_ctl");
    printf("ready\n");
    fflush(stdout);
    for (;;) {
        int n = epoll_wait(ep, evs, 64, -1);

        if (n < 0 && errno != EINTR)
            die("epoll_wait");
        for (int i = 0; i < n; i++) {
            void *ptr = evs[i].data.ptr;
            if (ptr == &server) {
                accept_all(server, target);
            } else if (ptr == &timer) {
                uint64_t expirations;
                if (read(timer, &expirations, sizeof(expirations)) < 0 && errno != EAGAIN)
                    die("timerfd");
            } else {
                way *w = ptr;
                if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR) && !w->eof)
                    read_way(w);
                if (evs[i].events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) {
                    way *back = &w->owner->ways[w == &w->owner->ways[0]];
                    if (back->blocked)
                        deliver(back, now_ns());
                }
            }
        }
        tick();
    }
}
