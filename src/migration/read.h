/*
 * read.h - one migration file read as text (internal to src/migration).
 *
 * A file is read whole, normalized (a leading UTF-8 BOM dropped, CRLF turned
 * into LF, so the bytes hashed are the bytes sent and line numbers do not
 * change) and checked to be UTF-8 without NUL bytes. Which files to read is
 * layout.h's; what their text means (sections, directives) is section.h's.
 */
#ifndef DBM_MIGRATION_READ_H
#define DBM_MIGRATION_READ_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Read the file `rel` (relative to the open directory `dfd`) whole, normalize
 * it and check its encoding. *out (caller frees) is NUL-terminated, *out_len
 * its length. Messages name the file as dir/rel. Errors: DBM_ENOTFOUND (no
 * message) when it does not exist and `optional`; DBM_ECONFIG for a NUL byte
 * or invalid UTF-8 (naming the line, with a hint); DBM_EGENERIC for I/O.
 */
int mig_read_text(char **out, size_t *out_len, int dfd, const char *dir, const char *rel,
                  bool optional);

/*
 * Read the file `rel` whole as it is on disk: no BOM dropped, CRLF kept, no
 * encoding check. For the other tools' own hashes, which are of the file's
 * bytes (sqlx, Drizzle, Sqitch, Atlas). *out (caller frees) is NUL-terminated.
 * Errors: DBM_EGENERIC for I/O (a missing file included).
 */
int mig_read_raw(char **out, size_t *out_len, int dfd, const char *dir, const char *rel);

/* The 1-based line of `s` that holds byte `offset`. */
int mig_line_of(const char *s, size_t offset);

/* dir + "/" + rel, without doubling a trailing slash of dir. Caller frees. */
char *mig_join(const char *dir, const char *rel);

/*
 * Record "unable to VERB 'PATH': strerror(err)" and return its code: a path
 * this user may not read or write (EACCES, EPERM, EROFS) is the setup's to
 * change, DBM_ECONFIG with a hint naming the user; any other error is
 * DBM_EGENERIC.
 */
int mig_io_error(const char *verb, const char *path, int err);

#endif
