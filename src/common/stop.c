/*
 * stop.c - the stop flag, written by a signal handler, read by the run.
 */
#include "common/stop.h"

#include <stddef.h>

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

void dbm_stop_catch(const struct sigaction *sa, struct sigaction *old_term,
                    struct sigaction *old_int)
{
    sigaction(SIGTERM, sa, old_term);
    sigaction(SIGINT, NULL, old_int);
    if (old_int->sa_handler != SIG_IGN)
        sigaction(SIGINT, sa, NULL);
}

void dbm_stop_uncatch(const struct sigaction *old_term, const struct sigaction *old_int)
{
    sigaction(SIGTERM, old_term, NULL);
    sigaction(SIGINT, old_int, NULL);
}
