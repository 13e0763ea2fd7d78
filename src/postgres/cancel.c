/*
 * cancel.c - the signal handler of a run that applies migrations.
 */
#include "postgres/cancel.h"
#include "common/error.h"
#include "common/stop.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

static PGcancel *volatile cancel_req;
static volatile sig_atomic_t armed;
static struct sigaction old_term, old_int;
static bool installed;

static void on_signal(int signo)
{
    int saved = errno;
    char errbuf[256];

    dbm_stop_request(signo);
    if (armed && cancel_req)
        PQcancel(cancel_req, errbuf, sizeof(errbuf));
    errno = saved;
}

int dbm_db_cancel_install(PGconn *conn)
{
    struct sigaction sa;

    if (installed)
        dbm_db_cancel_uninstall();
    if (!(cancel_req = PQgetCancel(conn)))
        return dbm_error_set(DBM_EGENERIC, "unable to prepare a cancel request for the connection");
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    /* Restarted system calls: libpq waits in poll(), which returns EINTR and retries. */
    sa.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &sa, &old_term);
    sigaction(SIGINT, &sa, &old_int);
    armed = 0;
    installed = true;
    return 0;
}

void dbm_db_cancel_arm(bool on)
{
    armed = on;
}

void dbm_db_cancel_uninstall(void)
{
    PGcancel *c = cancel_req;

    if (!installed)
        return;
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGINT, &old_int, NULL);
    armed = 0;
    cancel_req = NULL;
    PQfreeCancel(c);
    installed = false;
}
