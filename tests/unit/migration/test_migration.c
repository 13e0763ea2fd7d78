/*
 * test_migration.c - the public contract on real sets: every corpus loads in the
 * order, with the transaction flags, of the reference script.
 */

#include "unit.h"

#include "common/error.h"
#include "common/util.h"
#include "migration/migration.h"

#include <dirent.h>
#include <pg_query.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- the corpora: same order and transaction flags as the reference script -------------- */

/* Whether PostgreSQL's parser finds a CONCURRENTLY statement in `sql` (Flyway's own rule). */
static bool parser_finds_concurrently(const char *sql)
{
    PgQueryParseResult r = pg_query_parse(sql);
    bool found = !r.error && r.parse_tree && strstr(r.parse_tree, "\"concurrent\":true");

    pg_query_free_parse_result(r);
    return found;
}

static char *shell_quote(const char *s)
{
    dbm_buf b = DBM_BUF_INIT;

    dbm_buf_putc(&b, '\'');
    for (; *s; s++) {
        if (*s == '\'')
            dbm_buf_puts(&b, "'\\''");
        else
            dbm_buf_putc(&b, *s);
    }
    dbm_buf_putc(&b, '\'');
    return dbm_buf_detach(&b);
}

/*
 * Whether db-migrate reads the format that a corpus's SOURCE.txt names on its
 * "format:" line. Sets in formats not yet read are skipped, with a line saying so.
 */
static bool source_format_is_read(const char *dir)
{
    char *path = dbm_xasprintf("%s/SOURCE.txt", dir);
    FILE *f = fopen(path, "r");
    char line[512];
    bool known = false, named = false;

    free(path);
    if (!f)
        return true; /* no SOURCE.txt: let the loader decide */
    while (fgets(line, sizeof(line), f)) {
        dbm_format fmt;

        if (strncmp(line, "format:", 7) != 0)
            continue;
        line[strcspn(line, "\r\n")] = '\0';
        named = true;
        known = dbm_format_parse(&fmt, line + 7 + strspn(line + 7, " \t")) == 0;
        if (!known)
            print_message("%-28s %-15s format not read yet: skipped\n", strrchr(dir, '/') + 1,
                          line + 7 + strspn(line + 7, " \t"));
        break;
    }
    fclose(f);
    dbm_error_clear();
    return known || !named;
}

static void corpora_match_the_reference_order(void **state)
{
    const char *root = getenv("DBM_CORPORA");
    DIR *d;

    /* default: beside the repository; a worktree under wt/ sits one level deeper */
    if (!root)
        root =
            access("../shared/corpora", F_OK) == 0 ? "../shared/corpora" : "../../shared/corpora";
    d = opendir(root);
    struct dirent *de;
    int sets = 0;

    if (!d) {
        /* the corpora sit beside the clone; a clone alone has none to walk */
        print_message("corpora not found at '%s' (set DBM_CORPORA): skipped\n", root);
        skip();
    }
    while ((de = readdir(d)) != NULL) {
        char *dir, *q, *script, *cmd;
        dbm_migration_set *set = NULL;
        dbm_buf want = DBM_BUF_INIT, got = DBM_BUF_INIT;
        char line[4096];
        FILE *p;
        struct stat st;

        if (de->d_name[0] == '.')
            continue;
        dir = dbm_xasprintf("%s/%s", root, de->d_name);
        if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
            free(dir);
            continue;
        }
        if (!source_format_is_read(dir)) {
            free(dir);
            continue;
        }
        script = dbm_xasprintf("%s/apply-with-psql.sh", root);
        q = shell_quote(dir);
        {
            char *qs = shell_quote(script);
            cmd = dbm_xasprintf("%s --list %s 2>/dev/null", qs, q);
            free(qs);
        }
        p = popen(cmd, "r");
        assert_non_null(p);
        while (fgets(line, sizeof(line), p))
            dbm_buf_puts(&want, line);
        assert_int_equal(pclose(p), 0);

        if (dbm_migrations_load(&set, dir, DBM_FORMAT_AUTO) != 0)
            fail_msg("%s: %s", dir, dbm_error_message());
        for (size_t i = 0; i < set->count; i++) {
            const dbm_migration *m = &set->items[i];
            bool no_tx = m->no_transaction;
            /* Flyway runs a migration holding CONCURRENTLY outside a transaction by itself */
            if (set->format == DBM_FORMAT_FLYWAY)
                no_tx = no_tx || parser_finds_concurrently(m->up);
            dbm_buf_printf(&got, "%s%s\n", m->path, no_tx ? "\t[no-transaction]" : "");
        }
        if (strcmp(dbm_buf_cstr(&want), dbm_buf_cstr(&got)) != 0)
            fail_msg("%s (%s): order differs\n--- reference\n%s--- db-migrate\n%s", dir,
                     dbm_format_name(set->format), dbm_buf_cstr(&want), dbm_buf_cstr(&got));
        assert_true(set->count > 0);
        print_message("%-28s %-15s %zu migrations match\n", de->d_name,
                      dbm_format_name(set->format), set->count);
        sets++;
        dbm_migrations_free(set);
        dbm_buf_free(&want);
        dbm_buf_free(&got);
        free(cmd);
        free(q);
        free(script);
        free(dir);
    }
    closedir(d);
    assert_true(sets >= 6);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(corpora_match_the_reference_order),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
