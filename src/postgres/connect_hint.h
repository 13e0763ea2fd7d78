/*
 * connect_hint.h - the hint line of a connection that failed (internal to
 * postgres/): what to change, read from libpq's message and what it tried.
 * Each function records its hint on the current error (common/error.h).
 */
#ifndef DBM_CONNECT_HINT_H
#define DBM_CONNECT_HINT_H

#include "postgres/connect.h"

#include <stdbool.h>

/* The hint for libpq's first line `msg`; tunneled: libpq talked to ssh-bastion's relay. */
void dbm_connect_hint(const char *msg, const dbm_connect_opts *cfg, bool tunneled);

/*
 * When every address `tried` of `host` refused and all were IPv6, the hint
 * that says so and returns true; false (nothing recorded) otherwise.
 */
bool dbm_connect_ipv6_hint(const char *host, const char *tried);

/*
 * When libpq tried the Unix socket in directory `dir` for `port` and found no
 * server file there (`msg` is its message), the hint naming the socket and
 * what sets the host, and returns true; false (nothing recorded) otherwise.
 */
bool dbm_connect_socket_hint(const char *msg, const char *dir, const char *port);

#endif
