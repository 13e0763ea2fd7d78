/*
 * digest.h - the fingerprint of a set of migrations that expect-migrations
 * carries (DESIGN section 10), so a remote run (an ECS task, a Lambda
 * function) refuses to apply when its image holds other files than the ones
 * the Action saw at the commit: a stale image.
 *
 * The form is "sha256:HEX:COUNT:NEWEST": the SHA-256 of one line
 * "VERSION<TAB>CHECKSUM<LF>" per migration in apply order (the checksums of
 * DESIGN section 4, so line endings and a BOM never count), the number of
 * migrations, and the newest versioned one ("" for none). COUNT and NEWEST
 * are there so a mismatch can say what differs. The Action computes it with
 * dbm_migrations_digest over the set it loaded (the JSON report of every
 * command that reads the files carries it as "migrations_digest"), and
 * passes it as the expect-migrations option or the Lambda event's
 * "expect-migrations"; the remote run checks it with dbm_migrations_expect.
 */
#ifndef DBM_MIGRATION_DIGEST_H
#define DBM_MIGRATION_DIGEST_H

#include "migration/migration.h"

/* The digest of `set` in the form above. Caller frees. */
char *dbm_migrations_digest(const dbm_migration_set *set);

/*
 * Whether `set` is the set `expected` (a dbm_migrations_digest) describes:
 * 0 when it is. DBM_ECONFIG when expected is not of that form; DBM_EBLOCKED
 * when the sets differ, the message naming how (how many migrations each
 * has, up to which version) and the hint saying to deploy the image built
 * from the commit.
 */
int dbm_migrations_expect(const dbm_migration_set *set, const char *expected);

#endif
