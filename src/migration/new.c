/*
 * `new`: a migration file named for the current second, from a template in
 * the native format.
 */
#include "migration/migration.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "migration/read.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NEW_NAME_MAX 200

static const char new_template[] = "-- migrate:up\n"
                                   "\n"
                                   "\n"
                                   "-- migrate:down\n"
                                   "\n";

/* NAME reduced to [a-z0-9_]: lowercase, runs of anything else as one '_', none at the ends. */
static char *reduce_name(const char *name)
{
    dbm_buf b = DBM_BUF_INIT;

    for (const unsigned char *p = (const unsigned char *)name; *p && b.len < NEW_NAME_MAX; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
            dbm_buf_putc(&b, (char)*p);
        else if (*p >= 'A' && *p <= 'Z')
            dbm_buf_putc(&b, (char)(*p - 'A' + 'a'));
        else if (b.len > 0 && b.ptr[b.len - 1] != '_')
            dbm_buf_putc(&b, '_');
    }
    while (b.len > 0 && b.ptr[b.len - 1] == '_')
        b.len--;
    if (b.ptr)
        b.ptr[b.len] = '\0';
    return dbm_buf_detach(&b);
}

/* DBM_ECONFIG when `dir` is missing or already has a migration of version `stamp` (14 digits). */
static int check_version_free(const char *dir, const char *stamp)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int rc = 0;

    if (!d) {
        if (errno == ENOENT || errno == ENOTDIR) {
            rc = dbm_error_set(DBM_ECONFIG, "migrations directory '%s' does not exist", dir);
            dbm_error_hint("create it, or set migrations-dir");
            return rc;
        }
        return dbm_error_set(DBM_EGENERIC, "unable to read '%s': %s", dir, strerror(errno));
    }
    while ((de = readdir(d)) != NULL) {
        if (strncmp(de->d_name, stamp, 14) == 0 && de->d_name[14] == '_') {
            char *shown = dbm_printable(de->d_name);
            rc = dbm_error_set(DBM_ECONFIG, "a migration with version '%s' already exists: '%s'",
                               stamp, shown);
            dbm_error_hint("wait a second and run new again");
            free(shown);
            break;
        }
    }
    closedir(d);
    return rc;
}

/* Create `path` (never overwriting) holding the template; on failure nothing is left behind. */
static int write_template(const char *path)
{
    size_t off = 0, n = sizeof(new_template) - 1;
    int fd, rc = 0;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return dbm_error_set(errno == EEXIST ? DBM_ECONFIG : DBM_EGENERIC,
                             "unable to create '%s': %s", path, strerror(errno));
    while (off < n) {
        ssize_t w = write(fd, new_template + off, n - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = dbm_error_set(DBM_EGENERIC, "unable to write '%s': %s", path,
                               w < 0 ? strerror(errno) : "short write");
            break;
        }
        off += (size_t)w;
    }
    if (close(fd) < 0 && rc == 0)
        rc = dbm_error_set(DBM_EGENERIC, "unable to write '%s': %s", path, strerror(errno));
    if (rc < 0)
        unlink(path);
    return rc;
}

int dbm_migration_new_file(char **out_path, const char *dir, const char *name, time_t now)
{
    char *reduced = NULL, *path = NULL, *fname = NULL;
    char stamp[32];
    struct tm tm;
    int rc = 0;

    *out_path = NULL;
    reduced = reduce_name(name ? name : "");
    if (reduced[0] == '\0') {
        rc = dbm_error_set(DBM_ECONFIG, "migration name '%s' has no letters or digits",
                           name ? name : "");
        dbm_error_hint("name the migration with letters, digits, spaces or hyphens, e.g. "
                       "'add users table'");
        goto done;
    }
    if (!gmtime_r(&now, &tm) || strftime(stamp, sizeof(stamp), "%Y%m%d%H%M%S", &tm) != 14) {
        rc = dbm_error_set(DBM_EGENERIC, "unable to format the time %lld", (long long)now);
        goto done;
    }
    if ((rc = check_version_free(dir, stamp)) < 0)
        goto done;
    fname = dbm_xasprintf("%s_%s.sql", stamp, reduced);
    path = mig_join(dir, fname);
    if ((rc = write_template(path)) < 0)
        goto done;
    *out_path = path;
    path = NULL;
done:
    free(reduced);
    free(fname);
    free(path);
    return rc;
}
