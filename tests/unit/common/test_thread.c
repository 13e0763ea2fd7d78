/* test_thread.c - work ahead on a second thread, and a job beside the main thread. */
#include "unit.h"

#include "common/error.h"
#include "common/thread.h"
#include "common/util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    int calls[12];
    pthread_t thread[12];
} ahead_record;

static void record_call(void *arg, size_t k)
{
    ahead_record *r = arg;
    r->calls[k]++;
    r->thread[k] = pthread_self();
}

static void thread_every_other_splits_between_two_threads(void **state)
{
    ahead_record r;

    memset(&r, 0, sizeof(r));
    dbm_thread_every_other(record_call, &r, 12, 4);
    for (size_t k = 0; k < 12; k++) {
        assert_int_equal(r.calls[k], 1);
        /* even ones on the calling thread, odd ones on the second */
        assert_int_equal(pthread_equal(r.thread[k], pthread_self()) != 0, k % 2 == 0);
    }
    memset(&r, 0, sizeof(r));
    dbm_thread_every_other(record_call, &r, 3, 4); /* below the minimum: nothing */
    for (size_t k = 0; k < 3; k++)
        assert_int_equal(r.calls[k], 0);
}

static int fails_with_a_hint(void *arg)
{
    *(pthread_t *)arg = pthread_self();
    dbm_error_set(DBM_ECONNECT, "cannot reach '%s'", "db.internal");
    dbm_error_hint("check the security group");
    return DBM_ECONNECT;
}

static void job_hands_its_error_to_the_joining_thread(void **state)
{
    pthread_t ran_on;
    dbm_job *job = NULL;

    dbm_error_clear();
    dbm_job_start(&job, fails_with_a_hint, &ran_on);
    assert_int_equal(dbm_job_join(job), DBM_ECONNECT);
    assert_false(pthread_equal(ran_on, pthread_self()));
    assert_string_equal(dbm_error_message(), "cannot reach 'db.internal'");
    assert_string_equal(dbm_error_hint_text(), "check the security group");
    dbm_error_clear();
}

static int succeeds(void *arg)
{
    dbm_error_set(DBM_EGENERIC, "a retry that failed before one that worked");
    (*(int *)arg)++;
    return 0;
}

static void job_that_succeeds_leaves_the_callers_error_alone(void **state)
{
    int calls = 0;
    dbm_job *job = NULL;

    dbm_error_set(DBM_ECONFIG, "the caller's own");
    dbm_job_start(&job, succeeds, &calls);
    assert_int_equal(dbm_job_join(job), 0);
    assert_int_equal(calls, 1);
    assert_string_equal(dbm_error_message(), "the caller's own");
    dbm_error_clear();
}

/* Waits (bounded) until its starter abandons it; returns how it ended. */
static int waits_to_be_abandoned(void *arg)
{
    atomic_int *started = arg;

    atomic_store(started, 1);
    for (int i = 0; i < 5000; i++) {
        if (dbm_job_abandoned())
            return dbm_error_set(DBM_ECONNECT, "abandoned");
        usleep(1000);
    }
    return 0;
}

static void abandoned_job_sees_it_and_others_do_not(void **state)
{
    atomic_int started = 0;
    dbm_job *job = NULL;

    assert_false(dbm_job_abandoned()); /* not inside a job */
    dbm_job_start(&job, waits_to_be_abandoned, &started);
    while (!atomic_load(&started))
        usleep(100);
    dbm_job_abandon(job);
    assert_false(dbm_job_abandoned()); /* the flag is the job's, not this thread's */
    assert_int_equal(dbm_job_join(job), DBM_ECONNECT);
    assert_string_equal(dbm_error_message(), "abandoned");
    dbm_error_clear();
    dbm_job_abandon(NULL);
}

/* Sleeps in dbm_job_wait for a minute unless abandoned; returns 1 when woken early. */
static int sleeps_until_abandoned(void *arg)
{
    atomic_int *started = arg;

    atomic_store(started, 1);
    return dbm_job_wait(60000) ? 1 : 0;
}

static void job_wait_ends_at_once_when_abandoned(void **state)
{
    atomic_int started = 0;
    dbm_job *job = NULL;
    int64_t t0;

    assert_false(dbm_job_wait(1)); /* not inside a job */
    dbm_job_start(&job, sleeps_until_abandoned, &started);
    while (!atomic_load(&started))
        usleep(100);
    t0 = dbm_now_ms();
    dbm_job_abandon(job);
    assert_int_equal(dbm_job_join(job), 1);
    assert_true(dbm_now_ms() - t0 < 5000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(thread_every_other_splits_between_two_threads),
        cmocka_unit_test(job_hands_its_error_to_the_joining_thread),
        cmocka_unit_test(job_that_succeeds_leaves_the_callers_error_alone),
        cmocka_unit_test(abandoned_job_sees_it_and_others_do_not),
        cmocka_unit_test(job_wait_ends_at_once_when_abandoned),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
