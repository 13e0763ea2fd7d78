/*
 * thread.c - work ahead on a second thread, and one job beside the main thread.
 */
#include "common/thread.h"
#include "common/error.h"
#include "common/util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

typedef struct {
    void (*fn)(void *arg, size_t k);
    void *arg;
    size_t count;
} every_other_work;

static void run_every_other(const every_other_work *work, size_t first)
{
    for (size_t k = first; k < work->count; k += 2)
        work->fn(work->arg, k);
}

static void *run_odd(void *arg)
{
    run_every_other(arg, 1);
    return NULL;
}

void dbm_thread_every_other(void (*fn)(void *arg, size_t k), void *arg, size_t count, size_t min)
{
    every_other_work work = {fn, arg, count};
    pthread_t worker;
    bool threaded;

    if (count < min)
        return;
    threaded = pthread_create(&worker, NULL, run_odd, &work) == 0;
    run_every_other(&work, 0);
    if (threaded)
        pthread_join(worker, NULL);
}

struct dbm_job {
    int (*fn)(void *arg);
    void *arg;
    pthread_t thread;
    bool threaded;
    bool at_start; /* no thread: run by dbm_job_start itself */
    _Atomic bool abandoned;
    pthread_mutex_t mu; /* with `wake`: dbm_job_wait's sleep, cut short by dbm_job_abandon */
    pthread_cond_t wake;
    int code;
    dbm_saved_error error;
};

/* The job the current thread is running, for dbm_job_abandoned. */
static _Thread_local dbm_job *current;

static void run_job(dbm_job *job)
{
    dbm_job *outer = current;

    current = job;
    job->code = job->fn(job->arg);
    if (job->code < 0) {
        dbm_error_save(&job->error);
        job->error.code = job->code;
    }
    current = outer;
}

static void *job_main(void *arg)
{
    run_job(arg);
    return NULL;
}

void dbm_job_start(dbm_job **out, int (*fn)(void *arg), void *arg)
{
    dbm_job *job = dbm_xcalloc(1, sizeof(*job));

    job->fn = fn;
    job->arg = arg;
    pthread_mutex_init(&job->mu, NULL);
    pthread_cond_init(&job->wake, NULL);
    job->threaded = pthread_create(&job->thread, NULL, job_main, job) == 0;
    if (!job->threaded) {
        job->at_start = true;
        run_job(job);
    }
    *out = job;
}

void dbm_job_abandon(dbm_job *job)
{
    if (!job)
        return;
    pthread_mutex_lock(&job->mu);
    job->abandoned = true;
    pthread_cond_broadcast(&job->wake);
    pthread_mutex_unlock(&job->mu);
}

bool dbm_job_abandoned(void)
{
    return current && current->abandoned;
}

bool dbm_job_wait(long long ms)
{
    dbm_job *job = current;
    struct timespec until;

    if (!job)
        return false;
    if (job->at_start)
        return true;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += (time_t)(ms / 1000);
    until.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&job->mu);
    while (!job->abandoned && pthread_cond_timedwait(&job->wake, &job->mu, &until) == 0)
        ;
    pthread_mutex_unlock(&job->mu);
    return job->abandoned;
}

int dbm_job_join(dbm_job *job)
{
    int code;

    if (job->threaded)
        pthread_join(job->thread, NULL);
    code = job->code;
    if (code < 0)
        dbm_error_raise(&job->error);
    dbm_saved_error_free(&job->error);
    pthread_cond_destroy(&job->wake);
    pthread_mutex_destroy(&job->mu);
    free(job);
    return code;
}
