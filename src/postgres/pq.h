/*
 * pq.h - libpq, loaded when a run first needs a database.
 *
 * Debian's libpq links LDAP, Kerberos and GnuTLS: mapping and relocating them
 * cost every start about 2.5 ms, more than the rest of a no-op run's
 * start-up. So db-migrate does not link libpq. dbm_pq_load() opens
 * libpq.so.5 on the thread that connects, while the main thread reads the
 * migration files, and runs that never connect (plan --offline, new) never
 * map it.
 *
 * Modules include this header instead of <libpq-fe.h>. The PQ names below
 * then call through the loaded table, and since libpq is not linked, a call
 * to any other libpq function fails to link instead of running unloaded.
 * Nothing but dbm_connect runs before a connection exists, and it loads
 * libpq first.
 */
#ifndef DBM_PQ_H
#define DBM_PQ_H

#include <libpq-fe.h>

#define DBM_PQ_FUNCS(X)                                                                            \
    X(PQbackendPID)                                                                                \
    X(PQclear)                                                                                     \
    X(PQcmdStatus)                                                                                 \
    X(PQcmdTuples)                                                                                 \
    X(PQconnectdbParams)                                                                           \
    X(PQconninfo)                                                                                  \
    X(PQconninfoFree)                                                                              \
    X(PQconninfoParse)                                                                             \
    X(PQdb)                                                                                        \
    X(PQenterPipelineMode)                                                                         \
    X(PQerrorMessage)                                                                              \
    X(PQescapeIdentifier)                                                                          \
    X(PQescapeLiteral)                                                                             \
    X(PQexec)                                                                                      \
    X(PQexecParams)                                                                                \
    X(PQexitPipelineMode)                                                                          \
    X(PQcancel)                                                                                    \
    X(PQgetCancel)                                                                                 \
    X(PQfreeCancel)                                                                                \
    X(PQfinish)                                                                                    \
    X(PQfreemem)                                                                                   \
    X(PQgetCopyData)                                                                               \
    X(PQgetResult)                                                                                 \
    X(PQgetisnull)                                                                                 \
    X(PQgetvalue)                                                                                  \
    X(PQlibVersion)                                                                                \
    X(PQhost)                                                                                      \
    X(PQmakeEmptyPGresult)                                                                         \
    X(PQntuples)                                                                                   \
    X(PQnfields)                                                                                   \
    X(PQftype)                                                                                     \
    X(PQparameterStatus)                                                                           \
    X(PQpipelineSync)                                                                              \
    X(PQport)                                                                                      \
    X(PQputCopyEnd)                                                                                \
    X(PQresultErrorField)                                                                          \
    X(PQresultStatus)                                                                              \
    X(PQsendQuery)                                                                                 \
    X(PQsendQueryParams)                                                                           \
    X(PQserverVersion)                                                                             \
    X(PQsetNoticeProcessor)                                                                        \
    X(PQstatus)                                                                                    \
    X(PQtransactionStatus)                                                                         \
    X(PQuser)

struct dbm_pq_api {
#define DBM_PQ_MEMBER(f) __typeof__(f) *f;
    DBM_PQ_FUNCS(DBM_PQ_MEMBER)
#undef DBM_PQ_MEMBER
};
extern struct dbm_pq_api dbm_pq;

/*
 * Load libpq once (any thread; later calls return at once). 0, or
 * DBM_ECONNECT with a message and a hint when libpq.so.5 cannot be loaded.
 */
int dbm_pq_load(void);

/*
 * The loaded libpq's version as PQlibVersion gives it (150010 for 15.10), for
 * --version; 0 when libpq cannot be loaded, with the message recorded as
 * dbm_pq_load does.
 */
int dbm_pq_library_version(void);

#ifndef DBM_PQ_IMPL
#define PQbackendPID         dbm_pq.PQbackendPID
#define PQclear              dbm_pq.PQclear
#define PQcmdStatus          dbm_pq.PQcmdStatus
#define PQcmdTuples          dbm_pq.PQcmdTuples
#define PQconnectdbParams    dbm_pq.PQconnectdbParams
#define PQconninfo           dbm_pq.PQconninfo
#define PQconninfoFree       dbm_pq.PQconninfoFree
#define PQconninfoParse      dbm_pq.PQconninfoParse
#define PQdb                 dbm_pq.PQdb
#define PQenterPipelineMode  dbm_pq.PQenterPipelineMode
#define PQerrorMessage       dbm_pq.PQerrorMessage
#define PQescapeIdentifier   dbm_pq.PQescapeIdentifier
#define PQescapeLiteral      dbm_pq.PQescapeLiteral
#define PQexec               dbm_pq.PQexec
#define PQexecParams         dbm_pq.PQexecParams
#define PQexitPipelineMode   dbm_pq.PQexitPipelineMode
#define PQcancel             dbm_pq.PQcancel
#define PQgetCancel          dbm_pq.PQgetCancel
#define PQfreeCancel         dbm_pq.PQfreeCancel
#define PQfinish             dbm_pq.PQfinish
#define PQfreemem            dbm_pq.PQfreemem
#define PQgetCopyData        dbm_pq.PQgetCopyData
#define PQgetResult          dbm_pq.PQgetResult
#define PQgetisnull          dbm_pq.PQgetisnull
#define PQgetvalue           dbm_pq.PQgetvalue
#define PQhost               dbm_pq.PQhost
#define PQlibVersion         dbm_pq.PQlibVersion
#define PQmakeEmptyPGresult  dbm_pq.PQmakeEmptyPGresult
#define PQntuples            dbm_pq.PQntuples
#define PQnfields            dbm_pq.PQnfields
#define PQftype              dbm_pq.PQftype
#define PQparameterStatus    dbm_pq.PQparameterStatus
#define PQpipelineSync       dbm_pq.PQpipelineSync
#define PQport               dbm_pq.PQport
#define PQputCopyEnd         dbm_pq.PQputCopyEnd
#define PQresultErrorField   dbm_pq.PQresultErrorField
#define PQresultStatus       dbm_pq.PQresultStatus
#define PQsendQuery          dbm_pq.PQsendQuery
#define PQsendQueryParams    dbm_pq.PQsendQueryParams
#define PQserverVersion      dbm_pq.PQserverVersion
#define PQsetNoticeProcessor dbm_pq.PQsetNoticeProcessor
#define PQstatus             dbm_pq.PQstatus
#define PQtransactionStatus  dbm_pq.PQtransactionStatus
#define PQuser               dbm_pq.PQuser
#endif

#endif
