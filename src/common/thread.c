/*
 * thread.c - work ahead on a second thread, and one job beside the main thread.
 */
#include "common/thread.h"
#include "common/error.h"
#include "common/util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

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
    _Atomic bool abandoned;
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
    job->threaded = pthread_create(&job->thread, NULL, job_main, job) == 0;
    if (!job->threaded)
        run_job(job);
    *out = job;
}

void dbm_job_abandon(dbm_job *job)
{
    if (job)
        job->abandoned = true;
}

bool dbm_job_abandoned(void)
{
    return current && current->abandoned;
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
    free(job);
    return code;
}
