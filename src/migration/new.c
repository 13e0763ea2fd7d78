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
#include <sys/file.h>
#include <sys/stat.h>
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

#define NEW_MAX_BUMP 60 /* seconds ahead a version may move when earlier ones are taken */

/* Create `dir` and its missing parents (as dbmate does); 0 when it exists already. */
static int make_dir(const char *dir)
{
    char *p = dbm_xstrdup(dir);
    struct stat st;
    int rc = 0;

    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode))
            rc = dbm_error_set(DBM_ECONFIG, "migrations directory '%s' is not a directory", dir);
        goto done;
    }
    for (char *s = p + 1; rc == 0; s++) {
        bool end = *s == '\0';
        if (*s != '/' && !end)
            continue;
        *s = '\0';
        if (mkdir(p, 0755) < 0 && errno != EEXIST)
            rc = dbm_error_set(DBM_EGENERIC, "unable to create the migrations directory '%s': %s",
                               p, strerror(errno));
        if (end)
            break;
        *s = '/';
    }
    if (rc == 0)
        dbm_log("created directory %s", dir);
done:
    free(p);
    return rc;
}

/* Whether directory d holds a migration of version `stamp` (14 digits). */
static bool version_taken(DIR *d, const char *stamp)
{
    struct dirent *de;

    rewinddir(d);
    while ((de = readdir(d)) != NULL)
        if (strncmp(de->d_name, stamp, 14) == 0 && de->d_name[14] == '_')
            return true;
    return false;
}

/*
 * The first free version from `now` on, one second at a time, into stamp.
 * The caller holds the directory's lock, so two `new` at once get two.
 */
static int free_version(char stamp[32], DIR *d, time_t now)
{
    struct tm tm;

    for (int k = 0; k < NEW_MAX_BUMP; k++) {
        time_t t = now + k;
        if (!gmtime_r(&t, &tm) || strftime(stamp, 32, "%Y%m%d%H%M%S", &tm) != 14)
            return dbm_error_set(DBM_EGENERIC, "unable to format the time %lld", (long long)t);
        if (!version_taken(d, stamp))
            return 0;
    }
    dbm_error_set(DBM_ECONFIG, "the versions of the next %d seconds are all taken", NEW_MAX_BUMP);
    dbm_error_hint("wait a minute and run new again");
    return DBM_ECONFIG;
}

bool dbm_migration_is_new_template(const char *path)
{
    char *text = NULL;
    size_t len = 0;
    bool same;

    if (dbm_read_file(&text, &len, path) < 0) {
        dbm_error_clear();
        return false;
    }
    same = len == sizeof(new_template) - 1 && memcmp(text, new_template, len) == 0;
    free(text);
    return same;
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
    DIR *d = NULL;
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
    if ((rc = make_dir(dir)) < 0)
        goto done;
    if (!(d = opendir(dir))) {
        rc = dbm_error_set(DBM_EGENERIC, "unable to read '%s': %s", dir, strerror(errno));
        goto done;
    }
    /* Held until the file exists: another `new` waits, then sees the version taken. */
    if (flock(dirfd(d), LOCK_EX) < 0) {
        rc = dbm_error_set(DBM_EGENERIC, "unable to lock '%s': %s", dir, strerror(errno));
        goto done;
    }
    if ((rc = free_version(stamp, d, now)) < 0)
        goto done;
    fname = dbm_xasprintf("%s_%s.sql", stamp, reduced);
    path = mig_join(dir, fname);
    if ((rc = write_template(path)) < 0)
        goto done;
    *out_path = path;
    path = NULL;
done:
    if (d)
        closedir(d); /* releases the lock */
    free(reduced);
    free(fname);
    free(path);
    return rc;
}
