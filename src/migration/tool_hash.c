/*
 * tool_hash.c - the hashes other tools record of a migration file, computed
 * from its bytes as they are on disk, the way each tool computes them, so a
 * file with CRLF line endings or a BOM compares with the tool's history as the
 * tool itself compares it (db-migrate's own checksum is of the normalized text).
 *
 * - sqlx (sqlx-core/src/migrate/migration.rs, source.rs): SHA-384 of the
 *   file read with fs::read_to_string, every byte kept.
 * - Drizzle (drizzle-orm/src/migrator.ts, readMigrationFiles): SHA-256 (hex)
 *   of readFileSync(...).toString(), every byte kept.
 * - Prisma (schema-engine/connectors/schema-connector/src/checksum.rs,
 *   script_matches_checksum): SHA-256 (hex) of migration.sql, accepted also
 *   with CRLF written as LF and with LF written as CRLF, "because git messes
 *   with line endings".
 */
#include "common/util.h"
#include "migration/format.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

static char *hex_digest(const EVP_MD *md, const char *data, size_t len)
{
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    char *hex;

    EVP_Digest(data, len, out, &n, md, NULL);
    hex = dbm_xmalloc(2 * (size_t)n + 1);
    for (unsigned int i = 0; i < n; i++)
        snprintf(hex + 2 * i, 3, "%02x", out[i]);
    hex[2 * n] = '\0';
    return hex;
}

char *mig_tool_hash_sqlx(const char *raw, size_t len)
{
    return hex_digest(EVP_sha384(), raw, len);
}

char *mig_tool_hash_drizzle(const char *raw, size_t len)
{
    return hex_digest(EVP_sha256(), raw, len);
}

/* raw with every `from` written as `to` (Rust's str::replace). */
static char *replaced(const char *raw, size_t len, const char *from, const char *to, size_t *out)
{
    dbm_buf b = DBM_BUF_INIT;
    size_t fl = strlen(from);

    for (size_t i = 0; i < len;) {
        if (i + fl <= len && memcmp(raw + i, from, fl) == 0) {
            dbm_buf_puts(&b, to);
            i += fl;
        } else {
            dbm_buf_putc(&b, raw[i++]);
        }
    }
    *out = b.len;
    return b.len ? dbm_buf_detach(&b) : dbm_xstrdup("");
}

char *mig_tool_hash_prisma(const char *raw, size_t len)
{
    size_t lf_len, crlf_len;
    char *lf = replaced(raw, len, "\r\n", "\n", &lf_len);
    char *crlf = replaced(raw, len, "\n", "\r\n", &crlf_len);
    char *h[3] = {hex_digest(EVP_sha256(), raw, len), hex_digest(EVP_sha256(), lf, lf_len),
                  hex_digest(EVP_sha256(), crlf, crlf_len)};
    char *all = dbm_xasprintf("%s %s %s", h[0], h[1], h[2]);

    for (int i = 0; i < 3; i++)
        free(h[i]);
    free(lf);
    free(crlf);
    return all;
}

bool dbm_tool_hash_lists(const char *list, const char *hash)
{
    size_t n = strlen(hash);

    for (const char *p = list; p && *p;) {
        size_t w = strcspn(p, " ");
        if (w == n && memcmp(p, hash, n) == 0)
            return true;
        p += w;
        p += strspn(p, " ");
    }
    return false;
}
