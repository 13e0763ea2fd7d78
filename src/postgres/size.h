/*
 * size.h - how many rows a table holds, for rollback's list of what it will
 * destroy.
 *
 * A small table is counted; a large one is estimated from the planner's
 * statistics (pg_class.reltuples), since count(*) reads the whole table.
 * Reads only; takes no lock beyond count(*)'s ACCESS SHARE.
 */
#ifndef DBM_POSTGRES_SIZE_H
#define DBM_POSTGRES_SIZE_H

#include "postgres/pq.h"

#include <stdbool.h>

/* Tables up to this many bytes on disk are counted with count(*). */
#define DBM_SIZE_COUNT_MAX_BYTES (64LL << 20)

typedef struct {
    bool exists;         /* the name resolves to a table (search_path applies when unqualified) */
    bool estimated;      /* rows is pg_class.reltuples, not count(*) */
    bool never_analyzed; /* estimated, but the table was never analyzed: rows is unknown (-1) */
    long long rows;
    long long bytes; /* pg_total_relation_size */
} dbm_table_size;

/*
 * The rows of table `name` (in `schema`, NULL: as the search_path finds
 * it). A table that does not exist gives exists == false and 0. Returns 0, or
 * DBM_EGENERIC with the server's message.
 */
int dbm_db_table_size(dbm_table_size *out, PGconn *conn, const char *schema, const char *name);

#endif
