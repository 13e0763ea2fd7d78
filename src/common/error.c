#include "common/error.h"
#include "common/stop.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Per thread: the connection is opened on a worker thread while files are read. */
static _Thread_local char message[4096];
static _Thread_local char hint[1024];
static _Thread_local int last_code;

int dbm_error_set(int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(message, sizeof(message), fmt, ap);
    va_end(ap);
    hint[0] = '\0';
    last_code = code;
    return code;
}

void dbm_error_hint(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(hint, sizeof(hint), fmt, ap);
    va_end(ap);
}

const char *dbm_error_message(void)
{
    return message;
}

const char *dbm_error_hint_text(void)
{
    return hint[0] ? hint : NULL;
}

void dbm_error_clear(void)
{
    message[0] = '\0';
    hint[0] = '\0';
    last_code = DBM_OK;
}

int dbm_error_exit_status(int code)
{
    switch (code) {
    case DBM_OK:
        return 0;
    case DBM_ECONFIG:
        return 2;
    case DBM_ECONNECT:
        return 3;
    case DBM_ELOCKED:
        return 4;
    case DBM_ECANCELLED:
        return 128 + (dbm_stop_signal() ? dbm_stop_signal() : SIGTERM);
    default:
        return 1;
    }
}

/* A copy for dbm_error_save; error.c sits below util.c, so it has its own. */
static char *copy(const char *s)
{
    char *p = strdup(s);

    if (!p) { /* as dbm_xmalloc does: out of memory ends the process */
        fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", strlen(s) + 1);
        exit(1);
    }
    return p;
}

void dbm_error_save(dbm_saved_error *out)
{
    out->code = last_code;
    out->message = copy(message);
    out->hint = hint[0] ? copy(hint) : NULL;
}

int dbm_error_raise(const dbm_saved_error *e)
{
    snprintf(message, sizeof(message), "%s", e->message ? e->message : "");
    snprintf(hint, sizeof(hint), "%s", e->hint ? e->hint : "");
    last_code = e->code;
    return e->code;
}

void dbm_saved_error_free(dbm_saved_error *e)
{
    free(e->message);
    free(e->hint);
    e->message = e->hint = NULL;
    e->code = DBM_OK;
}
