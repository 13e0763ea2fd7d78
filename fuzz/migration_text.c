/*
 * migration_text - a migration file's text as every format reads it: the
 * reader (BOM, CRLF, UTF-8 and NUL checks, on a real file), auto-detection's
 * scan, then each row of the formats table: its section splitter and the
 * key=value file beside a migration that says "no transaction". The table is
 * walked, so a format added later is fuzzed without a change here.
 */
#include "fuzz.h"

#include "common/error.h"
#include "migration/format.h"
#include "migration/read.h"
#include "migration/section.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void clear(dbm_migration *m)
{
    free(m->up);
    free(m->down);
    free(m->down_path);
    memset(m, 0, sizeof(*m));
}

static void split_as(const mig_format *f, const char *text, size_t len)
{
    dbm_migration m;

    if (f->sections) {
        memset(&m, 0, sizeof(m));
        m.path = "1_fuzz.sql";
        if (mig_sections_split(&m, text, len, f->sections) == 0) {
            /* the text holds no NUL (the reader checked), so each copy ends at its length */
            if (!m.up || strlen(m.up) != m.up_len || m.up_line < 1 ||
                (m.down && (strlen(m.down) != m.down_len || m.down_line < 1)))
                FUZZ_FAIL();
        }
        clear(&m);
    }
    if (f->tx.key) {
        char *copy = malloc(len + 1);
        memcpy(copy, text, len + 1);
        mig_config_false(copy, f->tx.key, f->tx.alias, f->tx.toml);
        free(copy);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int dfd = -1;
    char *path, *text = NULL;
    size_t len = 0;

    path = fuzz_write("migration.sql", data, size);
    free(path);
    if (dfd < 0)
        dfd = open(fuzz_dir(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (mig_read_text(&text, &len, dfd, "migrations", "migration.sql", false) == 0) {
        if (text[len] != '\0' || len > size)
            FUZZ_FAIL();
        mig_scan_traits(text, len);
        if (len)
            mig_line_of(text, len - 1);
        for (size_t i = 0; mig_format_at(i); i++)
            split_as(mig_format_at(i), text, len);
        free(text);
    }
    fuzz_error_done();
    return 0;
}
