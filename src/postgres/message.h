/*
 * message.h - libpq's and the server's error text as one clean line.
 *
 * PQerrorMessage() holds what libpq gathered for the last failure: the
 * server's message behind its severity ("FATAL:  terminating connection due
 * to administrator command"), often followed by libpq's own lines ("server
 * closed the connection unexpectedly", "\tThis probably means ...") and a
 * newline. A result's primary message (PG_DIAG_MESSAGE_PRIMARY) has no
 * severity, but a RAISE can put newlines in it. Every error this tool records
 * is one line, so every such text goes through these functions first.
 *
 * Retrying, hints and exit codes are the callers' business.
 */
#ifndef DBM_POSTGRES_MESSAGE_H
#define DBM_POSTGRES_MESSAGE_H

#include "postgres/pq.h"

#include <stddef.h>

/*
 * The first `len` bytes of `raw` as one line in out (size bytes, always
 * terminated): a leading severity ("FATAL:  ", "ERROR:  ", any upper-case
 * word then a colon and two spaces, as libpq writes it, translated or not)
 * removed, every run of spaces, tabs and newlines outside double quotes made
 * one space, and none at either end. A text longer than out is cut at a
 * character boundary and ends in "...". Returns the length written.
 */
size_t dbm_db_message_clean(char *out, size_t size, const char *raw, size_t len);

/*
 * Why `res` failed, as one line: its primary message, else the first line
 * of the connection's (a lost connection leaves no result fields, and res may
 * be NULL), else "connection lost". Points to a buffer of this thread's,
 * valid until its next call; copy it (dbm_error_set does) to keep it.
 */
const char *dbm_db_message(const PGresult *res, PGconn *conn);

#endif
