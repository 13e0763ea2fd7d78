/*
 * stop.c - the stop flag, written by a signal handler, read by the run.
 */
#include "common/stop.h"

#include <signal.h>

static volatile sig_atomic_t stop_signo;

void dbm_stop_request(int signo)
{
    stop_signo = signo;
}

int dbm_stop_signal(void)
{
    return stop_signo;
}

void dbm_stop_reset(void)
{
    stop_signo = 0;
}

const char *dbm_stop_signal_name(int signo)
{
    return signo == SIGTERM ? "SIGTERM" : signo == SIGINT ? "SIGINT" : "a signal";
}
