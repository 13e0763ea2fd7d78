/*
 * dirfixture.h - migration directories made in a test: a fresh directory
 * under mkdtemp per test (cmocka setup/teardown), files written into it, and
 * the assertions the migration tests share. stderr can be captured to check
 * warnings.
 */
#ifndef DBM_TEST_MIGRATION_DIRFIXTURE_H
#define DBM_TEST_MIGRATION_DIRFIXTURE_H

#include "unit.h"

#include "common/error.h"
#include "common/util.h"
#include "migration/migration.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static inline int setup_dir(void **state)
{
    char tmpl[] = "/tmp/dbm-migration-XXXXXX";
    char *d = mkdtemp(tmpl);

    if (!d)
        return -1;
    *state = dbm_xstrdup(d);
    dbm_error_clear();
    return 0;
}

static inline int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static inline int teardown_dir(void **state)
{
    nftw(*state, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(*state);
    return 0;
}

/* Write `len` bytes of `text` to dir/rel, creating the folders on the way. */
static inline void put_bytes(const char *dir, const char *rel, const char *text, size_t len)
{
    char *path = dbm_xasprintf("%s/%s", dir, rel);
    FILE *f;

    for (char *p = path + strlen(dir) + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            mkdir(path, 0755);
            *p = '/';
        }
    }
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    free(path);
}

static inline void put(const char *dir, const char *rel, const char *text)
{
    put_bytes(dir, rel, text, strlen(text));
}

static inline dbm_migration_set *load_ok(const char *dir, dbm_format format)
{
    dbm_migration_set *set = NULL;
    int rc = dbm_migrations_load(&set, dir, format);

    if (rc != 0)
        fail_msg("load failed: %s", dbm_error_message());
    assert_non_null(set);
    return set;
}

/* The paths of a set in order, joined with spaces. Caller frees. */
static inline char *order_of(const dbm_migration_set *set)
{
    dbm_buf b = DBM_BUF_INIT;

    for (size_t i = 0; i < set->count; i++) {
        if (i)
            dbm_buf_putc(&b, ' ');
        dbm_buf_puts(&b, set->items[i].path);
    }
    return dbm_buf_detach(&b);
}

static inline void assert_order(const char *dir, dbm_format format, dbm_format expect_format,
                                const char *expect)
{
    dbm_migration_set *set = load_ok(dir, format);
    char *got = order_of(set);

    assert_string_equal(got, expect);
    assert_int_equal(set->format, expect_format);
    free(got);
    dbm_migrations_free(set);
}

static inline void assert_load_fails(const char *dir, dbm_format format, int code,
                                     const char *needle1, const char *needle2)
{
    dbm_migration_set *set = (dbm_migration_set *)1;

    assert_int_equal(dbm_migrations_load(&set, dir, format), code);
    assert_null(set);
    if (needle1 && !strstr(dbm_error_message(), needle1))
        fail_msg("'%s' not in '%s'", needle1, dbm_error_message());
    if (needle2 && !strstr(dbm_error_message(), needle2))
        fail_msg("'%s' not in '%s'", needle2, dbm_error_message());
}

/* stderr sent to a file between capture_start and capture_end, outside GitHub Actions. */
typedef struct {
    int saved_fd;
    char path[32];
    char *actions; /* GITHUB_ACTIONS as it was, restored at the end */
} stderr_capture;

static inline void capture_start(stderr_capture *c)
{
    const char *a = getenv("GITHUB_ACTIONS");
    int fd;

    c->actions = a ? dbm_xstrdup(a) : NULL;
    unsetenv("GITHUB_ACTIONS");
    snprintf(c->path, sizeof(c->path), "/tmp/dbm-stderr-XXXXXX");
    fd = mkstemp(c->path);
    assert_true(fd >= 0);
    fflush(stderr);
    c->saved_fd = dup(2);
    assert_true(dup2(fd, 2) == 2);
    close(fd);
}

/* What was written to stderr since capture_start. Caller frees. */
static inline char *capture_end(stderr_capture *c)
{
    char *text = NULL;
    size_t len;

    fflush(stderr);
    dup2(c->saved_fd, 2);
    close(c->saved_fd);
    if (c->actions)
        setenv("GITHUB_ACTIONS", c->actions, 1);
    free(c->actions);
    assert_int_equal(dbm_read_file(&text, &len, c->path), 0);
    unlink(c->path);
    return text;
}

#endif
