/*
 * migration_dir - a migrations directory as every format loads it: the
 * input's lines are entry names ("name" or "folder/name", with an optional
 * TAB and the file's text, "\n" written as "\\n"); the directory is loaded
 * with auto-detection and then as each row of the formats table (walked, so a
 * format added later is covered). A loaded set must be in its format's
 * version order, and that order must be antisymmetric.
 */
#include "fuzz.h"

#include "common/error.h"
#include "common/util.h"
#include "migration/format.h"
#include "migration/migration.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAX_ENTRIES 24

static const char default_text[] = "-- migrate:up\nSELECT 1;\n-- migrate:down\nSELECT 2;\n";

static int remove_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* A name this harness may create: relative, at most one folder, no "." or "..". */
static bool usable(const char *name)
{
    const char *slash = strchr(name, '/');

    if (!*name || *name == '/' || (slash && (strchr(slash + 1, '/') || !slash[1])))
        return false;
    for (const char *p = name; *p;) {
        size_t n = strcspn(p, "/");
        if ((n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
            return false;
        p += n + (p[n] == '/');
    }
    return true;
}

static void add_entry(const char *dir, char *line)
{
    char *tab = strchr(line, '\t'), *rel;
    dbm_buf text = DBM_BUF_INIT;

    if (tab) {
        *tab = '\0';
        for (const char *p = tab + 1; *p; p++) {
            if (p[0] == '\\' && p[1] == 'n')
                dbm_buf_putc(&text, '\n'), p++;
            else
                dbm_buf_putc(&text, *p);
        }
    } else {
        dbm_buf_puts(&text, default_text);
    }
    if (usable(line)) {
        rel = dbm_xasprintf("%s/%s", dir, line);
        free(fuzz_write(rel, dbm_buf_cstr(&text), text.len));
        free(rel);
    }
    dbm_buf_free(&text);
}

static void check_order(const dbm_migration_set *set)
{
    for (size_t i = 0; i < set->count; i++) {
        const char *a = set->items[i].version;
        for (size_t j = i + 1; j < set->count && j < i + 4; j++) {
            const char *b = set->items[j].version;
            int ab = dbm_version_cmp(set->format, a, b), ba = dbm_version_cmp(set->format, b, a);
            if (ab != -ba || (j == i + 1 && ab > 0)) {
                fprintf(stderr, "fuzz: %s order: '%s' vs '%s' gives %d, reversed %d\n",
                        dbm_format_name(set->format), a, b, ab, ba);
                FUZZ_FAIL();
            }
        }
    }
}

static void load(const char *path, dbm_format format)
{
    dbm_migration_set *set = NULL;

    if (dbm_migrations_load(&set, path, format) == 0)
        check_order(set);
    dbm_migrations_free(set);
    fuzz_error_done();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *input = fuzz_strndup(data, size), *save = NULL, *line;
    char *path = dbm_xasprintf("%s/m", fuzz_dir());
    int n = 0;

    nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
    mkdir(path, 0700);
    for (line = strtok_r(input, "\n", &save); line && n < MAX_ENTRIES;
         line = strtok_r(NULL, "\n", &save), n++)
        add_entry("m", line);
    load(path, DBM_FORMAT_AUTO);
    for (size_t i = 0; mig_format_at(i); i++)
        load(path, mig_format_at(i)->format);
    free(path);
    free(input);
    return 0;
}
