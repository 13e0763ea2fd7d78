/*
 * cancel.c - the signal handler of a run that applies migrations.
 *
 * A fleet applies on several connections at once (command/fleet.c): each
 * thread that installs takes a slot of its own, and a signal cancels the
 * statement of every armed slot. The handlers are set while any slot is in use.
 */
#include "postgres/cancel.h"
#include "common/error.h"
#include "common/stop.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>

#define SLOTS 64 /* the most connections a fleet applies on at once (parallel's bound) */

static PGcancel *volatile cancel_req[SLOTS];
static volatile sig_atomic_t armed[SLOTS];
static struct sigaction old_term, old_int;
static int in_use;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local int slot = -1;

static void on_signal(int signo)
{
    int saved = errno;
    char errbuf[256];

    dbm_stop_request(signo);
    for (int i = 0; i < SLOTS; i++)
        if (armed[i] && cancel_req[i])
            PQcancel(cancel_req[i], errbuf, sizeof(errbuf));
    errno = saved;
}

int dbm_db_cancel_install(PGconn *conn)
{
    struct sigaction sa;
    PGcancel *c;

    if (slot >= 0)
        dbm_db_cancel_uninstall();
    if (!(c = PQgetCancel(conn)))
        return dbm_error_set(DBM_EGENERIC, "unable to prepare a cancel request for the connection");
    pthread_mutex_lock(&mu);
    for (int i = 0; i < SLOTS && slot < 0; i++)
        if (!cancel_req[i])
            slot = i;
    if (slot < 0) {
        pthread_mutex_unlock(&mu);
        PQfreeCancel(c);
        return dbm_error_set(DBM_EGENERIC, "more than %d connections apply at once", SLOTS);
    }
    armed[slot] = 0;
    cancel_req[slot] = c;
    if (in_use++ == 0) {
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_signal;
        sigemptyset(&sa.sa_mask);
        /* Restarted system calls: libpq waits in poll(), which returns EINTR and retries. */
        sa.sa_flags = SA_RESTART;
        dbm_stop_catch(&sa, &old_term, &old_int);
    }
    pthread_mutex_unlock(&mu);
    return 0;
}

void dbm_db_cancel_arm(bool on)
{
    if (slot >= 0)
        armed[slot] = on;
}

void dbm_db_cancel_uninstall(void)
{
    PGcancel *c;

    if (slot < 0)
        return;
    pthread_mutex_lock(&mu);
    armed[slot] = 0;
    c = cancel_req[slot];
    cancel_req[slot] = NULL;
    if (--in_use == 0) {
        dbm_stop_uncatch(&old_term, &old_int);
    }
    pthread_mutex_unlock(&mu);
    slot = -1;
    PQfreeCancel(c);
}
