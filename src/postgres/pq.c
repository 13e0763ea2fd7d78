/*
 * pq.c - loading libpq on first use (see pq.h).
 */
#define DBM_PQ_IMPL
#include "postgres/pq.h"
#include "common/error.h"
#include "common/util.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

struct dbm_pq_api dbm_pq;

static pthread_once_t load_once = PTHREAD_ONCE_INIT;
static bool loaded;
static char load_error[256];

static void load(void)
{
    static const dbm_lib_sym syms[] = {
#define DBM_PQ_SYM(f) {#f, offsetof(struct dbm_pq_api, f)},
        DBM_PQ_FUNCS(DBM_PQ_SYM)
#undef DBM_PQ_SYM
    };
    /* Lazy: libpq's own calls into its dependencies resolve as they are first made. */
    loaded = dbm_lib_load("libpq.so.5", RTLD_LAZY | RTLD_LOCAL, syms,
                          sizeof(syms) / sizeof(syms[0]), &dbm_pq, load_error, sizeof(load_error));
}

int dbm_pq_load(void)
{
    pthread_once(&load_once, load);
    if (loaded)
        return 0;
    dbm_error_set(DBM_ECONNECT, "unable to load libpq: %s", load_error);
    dbm_error_hint("install PostgreSQL's client library (Debian and Ubuntu: apt-get install "
                   "libpq5; the action's image has it)");
    return DBM_ECONNECT;
}

int dbm_pq_library_version(void)
{
    return dbm_pq_load() == 0 ? dbm_pq.PQlibVersion() : 0;
}
