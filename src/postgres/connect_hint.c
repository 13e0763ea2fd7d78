/*
 * connect_hint.c - what to change after a failed connection, from libpq's
 * message (the first line of it) and what libpq tried.
 */
#include "postgres/connect_hint.h"
#include "common/error.h"
#include "common/util.h"

#include <stdlib.h>
#include <string.h>

/* A duration as --wait takes it: the largest unit that writes it whole (90000 -> "90s"). */
static char *duration_text(long long ms)
{
    if (ms % 3600000 == 0)
        return dbm_xasprintf("%lldh", ms / 3600000);
    if (ms % 60000 == 0)
        return dbm_xasprintf("%lldm", ms / 60000);
    if (ms % 1000 == 0)
        return dbm_xasprintf("%llds", ms / 1000);
    return dbm_xasprintf("%lldms", ms);
}

/*
 * Give a connection failure its hint. libpq 15 does not expose the SQLSTATE
 * of a failed connection, so its message is what there is to read (English
 * unless the client locale or the server's lc_messages translate it; then the
 * generic hint is given).
 */
void dbm_connect_hint(const char *msg, const dbm_connect_opts *cfg, bool tunneled)
{
    if (strstr(msg, "no password supplied")) {
        dbm_error_hint("the server asks this user for a password and none was given: set "
                       "PGPASSWORD, or write it in database-url "
                       "(postgresql://USER:PASSWORD@HOST/DB, from a secret); for an RDS IAM "
                       "user set auth: aws-iam");
    } else if (strstr(msg, "password authentication failed") || strstr(msg, "PAM authentication")) {
        if (cfg->aws_iam)
            dbm_error_hint("the IAM token was refused: the database user needs 'GRANT rds_iam TO "
                           "<user>', the role needs rds-db:connect on it, and IAM authentication "
                           "must be enabled on the instance");
        else
            dbm_error_hint("check the user and password in database-url (or PGPASSWORD); for an "
                           "IAM user set auth: aws-iam");
    } else if (strstr(msg, "root certificate file") || strstr(msg, "could not read root cert")) {
        dbm_error_hint("sslrootcert must name a readable PEM file with the CA certificate that "
                       "signed the server's certificate (for RDS, the region's bundle)");
    } else if (strstr(msg, "certificate verify failed")) {
        dbm_error_hint("the server's certificate is not signed by the CA in sslrootcert: give the "
                       "CA that issued it (for RDS, the region's bundle)");
    } else if (strstr(msg, "does not match host name")) {
        dbm_error_hint("the certificate was issued for another name: put the name it was issued "
                       "for as the host in database-url%s, or use sslmode=verify-ca",
                       tunneled ? " (through ssh-bastion too: the tunnel keeps that name)" : "");
    } else if (strstr(msg, "does not support SSL")) {
        dbm_error_hint("the server offers no TLS while sslmode requires it: enable ssl on the "
                       "server, or lower sslmode only on a network you trust");
    } else if (strstr(msg, "no pg_hba.conf entry") &&
               (strstr(msg, "no encryption") || strstr(msg, "SSL off"))) {
        /* PostgreSQL 14 and later say "no encryption", 13 and earlier "SSL off" */
        dbm_error_hint("the server accepts this user only over TLS: set sslmode=require, or "
                       "verify-full with sslrootcert");
    } else if (strstr(msg, "no pg_hba.conf entry")) {
        dbm_error_hint("the server refuses this client address or user in pg_hba.conf; on RDS "
                       "check the security group and whether SSL is required (sslmode=require)");
    } else if (strstr(msg, "does not exist") && strstr(msg, "database")) {
        dbm_error_hint("create the database first, or fix the database name in database-url");
    } else if (strstr(msg, "role") && strstr(msg, "does not exist")) {
        dbm_error_hint("fix the user name in database-url, or create that role");
    } else if (strstr(msg, "SSL") || strstr(msg, "certificate") || strstr(msg, "server name")) {
        dbm_error_hint("check sslmode and sslrootcert: verify-full needs the CA that signed the "
                       "server's certificate and the host name the certificate was issued for");
    } else if (tunneled) {
        dbm_error_hint("the tunnel is up, but the database did not answer through it: check the "
                       "database host and port in database-url as the bastion sees them");
    } else if (cfg->wait_ms > 0) {
        /* It was retried for --wait already: suggest longer, never the same or shorter. */
        char *waited = duration_text(cfg->wait_ms), *longer = duration_text(2 * cfg->wait_ms);
        dbm_error_hint("check the host and port, and that the database accepts connections from "
                       "this machine (in a private subnet: ssh-bastion); it was retried for "
                       "--wait %s; if it is still starting, give it longer (--wait %s)",
                       waited, longer);
        free(waited);
        free(longer);
    } else {
        dbm_error_hint("check the host and port, and that the database accepts connections from "
                       "this machine; for a database in a private subnet set ssh-bastion, or use "
                       "--wait 30s when it is still starting");
    }
}

/*
 * The hint when every address of a host name refused and all were IPv6: the name resolves
 * to IPv6 only here (localhost as ::1 alone in /etc/hosts), and a server listening on
 * 127.0.0.1 alone is not reached that way. false when it does not apply.
 */
bool dbm_connect_ipv6_hint(const char *host, const char *tried)
{
    if (!host || strchr(host, ',') || strchr(host, ':') || strchr(tried, '.'))
        return false;
    dbm_error_hint("nothing accepts connections at %s: check that the server runs and the "
                   "port; '%s' resolves only to IPv6 here (/etc/hosts or DNS), so a server "
                   "listening on IPv4 alone (127.0.0.1) is not reached by that name: give its "
                   "IPv4 address in database-url, or add ::1 to the server's listen_addresses",
                   tried, host);
    return true;
}

bool dbm_connect_socket_hint(const char *msg, const char *dir, const char *port)
{
    if (!dir || dir[0] != '/' || !strstr(msg, "No such file or directory"))
        return false;
    dbm_error_hint("no server on socket %s/.s.PGSQL.%s: set host= (or PGHOST) and port to the "
                   "server's, or give database-url",
                   dir, port && *port ? port : "5432");
    return true;
}
