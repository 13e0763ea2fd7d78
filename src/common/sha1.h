/*
 * sha1.h - SHA-1 as other migration tools use it to name and hash their
 * scripts (Sqitch's change ids and script hashes, graphile-migrate's hash
 * chain). Not for anything db-migrate itself needs to be collision-proof.
 */
#ifndef DBM_SHA1_H
#define DBM_SHA1_H

#include <stddef.h>

/* Lowercase hex SHA-1 of data into hex[41]. */
void dbm_sha1_hex(char hex[41], const void *data, size_t len);

#endif
