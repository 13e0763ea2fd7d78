/*
 * sample.h - a run's record built by hand for the report tests, and a way to
 * capture what the report writes on stdout or stderr.
 *
 * sample_report() holds one row of each kind (applied, failed with an error
 * at file:line:col and its SQL context, pending, edited with a diff, skipped,
 * missing), a finding of each severity, and git facts with a compare URL.
 * Text in it carries the characters each rendering must escape.
 */
#ifndef DBM_TEST_REPORT_SAMPLE_H
#define DBM_TEST_REPORT_SAMPLE_H

#include "common/record.h"
#include "common/util.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define SAMPLE_HEAD       "0123456789abcdef0123456789abcdef01234567"
#define SAMPLE_DEPLOYED   "fedcba9876543210fedcba9876543210fedcba98"
#define SAMPLE_COMPARE    "https://github.com/o/r/compare/fedcba98...01234567"
#define SAMPLE_CHANGED_BY "1234567890abcdef1234567890abcdef12345678"

static inline dbm_report *sample_report(void)
{
    dbm_report *r = dbm_report_new("apply");
    dbm_mig_result *m;
    dbm_error_info *e;
    dbm_finding *f;

    dbm_report_set(&r->status, "failed");
    dbm_report_set(&r->database, "app@db.example:5432/app");
    dbm_report_set(&r->migrations_dir, "db/migrations");
    dbm_report_set(&r->format, "plain");
    dbm_report_set(&r->git.head, SAMPLE_HEAD);
    dbm_report_set(&r->git.deployed, SAMPLE_DEPLOYED);
    dbm_report_set(&r->git.compare_url, SAMPLE_COMPARE);
    dbm_report_add_git_change(r, "modified", "db/migrations/4_d.sql", NULL, SAMPLE_CHANGED_BY);
    dbm_report_add_git_change(r, "renamed", "db/migrations/3_c.sql", "db/migrations/3_x.sql",
                              SAMPLE_HEAD);
    r->applied_count = 1;
    r->pending_count = 2;
    r->duration_ms = 1234.5;
    dbm_report_set(&r->error, "unable to apply '2_b.sql': relation \"users\" already exists");

    m = dbm_report_add_migration(r, "1", "create users", "db/migrations/1_create_users.sql",
                                 DBM_MIG_APPLIED);
    m->duration_ms = 12.4;
    m->transactional = true;
    m->statement_count = 3;

    m = dbm_report_add_migration(r, "2", "b|<x>`y`", "db/migrations/2_b.sql", DBM_MIG_FAILED);
    m->duration_ms = 3.6;
    m->statement_count = 1;
    e = dbm_report_set_error(m, "relation \"users\" already exists\nsecond line", "42P07");
    dbm_report_set(&e->detail, "Key (id)=(1) & <more>");
    dbm_report_set(&e->hint, "drop it: first, 100% sure");
    dbm_report_set(&e->file, "db/migrations/2_b.sql");
    e->line = 4;
    e->column = 14;
    dbm_report_set(&e->context,
                   "   3 | BEGIN;\n>  4 | CREATE TABLE users (id int);\n   5 | COMMIT;\n");

    dbm_report_add_migration(r, "3", "c", "db/migrations/3_c.sql", DBM_MIG_PENDING);

    m = dbm_report_add_migration(r, "4", "d", "db/migrations/4_d.sql", DBM_MIG_EDITED);
    dbm_report_set(&m->diff, "--- a/4_d.sql\n+++ b/4_d.sql\n@@ -1 +1 @@\n-SELECT 1 < 2;\n"
                             "+SELECT 1 > 2 & 3;\n");
    dbm_report_set(&m->changed_by, SAMPLE_CHANGED_BY);

    m = dbm_report_add_migration(r, "5", "e", "db/migrations/5_e.sql", DBM_MIG_SKIPPED);
    dbm_report_set(&m->note, "already applied by *flyway* [v5]");

    dbm_report_add_migration(r, "6", "f", NULL, DBM_MIG_MISSING);

    f = dbm_report_add_finding(r, DBM_SEV_ERROR, "edited-applied", "db/migrations/4_d.sql", 1, 0,
                               "'%s' was edited after deploy", "4_d.sql");
    dbm_report_set(&f->hint, "add a new migration instead");
    f = dbm_report_add_finding(r, DBM_SEV_WARNING, "require-concurrent-index",
                               "db/migrations/3_c.sql", 2, 5, "CREATE INDEX blocks writes");
    dbm_report_set(&f->status, "confirmed");
    dbm_report_add_finding(r, DBM_SEV_NOTICE, "info_rule", NULL, 0, 0,
                           "note #1 with `ticks` and 50%%");
    return r;
}

/*
 * Capture what is written on fd (1 or 2) between capture_start and
 * capture_end; capture_end returns it (caller frees) and restores the fd.
 */
typedef struct {
    int fd, saved;
    FILE *tmp;
} capture;

static inline void capture_start(capture *c, int fd)
{
    fflush(stdout);
    fflush(stderr);
    c->fd = fd;
    c->tmp = tmpfile();
    c->saved = dup(fd);
    dup2(fileno(c->tmp), fd);
}

static inline char *capture_end(capture *c)
{
    dbm_buf b = DBM_BUF_INIT;
    char chunk[4096];
    size_t n;

    fflush(stdout);
    fflush(stderr);
    dup2(c->saved, c->fd);
    close(c->saved);
    rewind(c->tmp);
    while ((n = fread(chunk, 1, sizeof(chunk), c->tmp)) > 0)
        dbm_buf_put(&b, chunk, n);
    fclose(c->tmp);
    return dbm_buf_detach(&b);
}

/* The whole content of a file, or NULL when it cannot be read. Caller frees. */
static inline char *sample_read_file(const char *path)
{
    FILE *f = fopen(path, "r");
    dbm_buf b = DBM_BUF_INIT;
    char chunk[4096];
    size_t n;

    if (!f)
        return NULL;
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        dbm_buf_put(&b, chunk, n);
    fclose(f);
    return dbm_buf_detach(&b);
}

#endif
