/*
 * gitfixture.h - real git repositories for the git tests, built with the git
 * command line in mkdtemp directories. Every helper fails the test on error.
 */
#ifndef DBM_TEST_GITFIXTURE_H
#define DBM_TEST_GITFIXTURE_H

#include "unit.h"

#include "common/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Run a shell command built from fmt; the test fails unless it exits 0. */
static inline void fx_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline void fx_sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    int rc;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    rc = system(cmd);
    if (rc != 0)
        fail_msg("command failed (%d): %s", rc, cmd);
}

/* The first line a shell command prints, without its newline. Caller frees. */
static inline char *fx_out(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static inline char *fx_out(const char *fmt, ...)
{
    char cmd[4096], line[4096] = "";
    va_list ap;
    FILE *p;

    va_start(ap, fmt);
    vsnprintf(cmd, sizeof(cmd), fmt, ap);
    va_end(ap);
    p = popen(cmd, "r");
    assert_non_null(p);
    if (!fgets(line, sizeof(line), p))
        line[0] = '\0';
    if (pclose(p) != 0)
        fail_msg("command failed: %s", cmd);
    line[strcspn(line, "\n")] = '\0';
    return dbm_xstrdup(line);
}

/* A git environment that ignores the machine's configuration. */
static inline void fx_git_env(void)
{
    setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
    setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
    setenv("GIT_AUTHOR_NAME", "Test Author", 1);
    setenv("GIT_AUTHOR_EMAIL", "author@example.com", 1);
    setenv("GIT_COMMITTER_NAME", "Test Committer", 1);
    setenv("GIT_COMMITTER_EMAIL", "committer@example.com", 1);
}

/* A new empty repository (branch main) in a temp dir. Caller frees; fx_rm removes it. */
static inline char *fx_repo(void)
{
    char tmpl[] = "/tmp/dbm-git-test-XXXXXX";
    char *dir;

    fx_git_env();
    assert_non_null(mkdtemp(tmpl));
    dir = dbm_xstrdup(tmpl);
    fx_sh("git -C %s init -q -b main", dir);
    return dir;
}

static inline void fx_rm(char *dir)
{
    if (dir && strncmp(dir, "/tmp/dbm-git-test-", 18) == 0)
        fx_sh("rm -rf '%s'", dir);
    free(dir);
}

/* Write `text` to dir/rel, creating parent directories. */
static inline void fx_write(const char *dir, const char *rel, const char *text)
{
    char *path = dbm_xasprintf("%s/%s", dir, rel);
    char *parent = dbm_xstrdup(path);
    FILE *f;

    *strrchr(parent, '/') = '\0';
    fx_sh("mkdir -p '%s'", parent);
    f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(parent);
    free(path);
}

/* Commit everything; returns the new commit's sha (caller frees). */
static inline char *fx_commit(const char *dir, const char *message)
{
    fx_sh("git -C %s add -A && git -C %s commit -q --allow-empty -m '%s'", dir, dir, message);
    return fx_out("git -C %s rev-parse HEAD", dir);
}

/* A migration body long enough for rename detection to see similarity. */
static inline char *fx_sql(const char *table)
{
    return dbm_xasprintf("-- create %s\nCREATE TABLE %s (\n    id bigint PRIMARY KEY,\n"
                         "    name text NOT NULL,\n    created_at timestamptz NOT NULL,\n"
                         "    updated_at timestamptz,\n    note text\n);\n"
                         "CREATE INDEX %s_name ON %s (name);\n",
                         table, table, table, table);
}

#endif
