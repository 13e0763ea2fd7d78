/*
 * `new`: a migration file in the layout of the directory's format: named for
 * the current second, or for the next number of a directory numbered in
 * sequence; native and dbmate files from a template with both sections.
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
static const char goose_template[] = "-- +goose Up\n"
                                     "\n"
                                     "\n"
                                     "-- +goose Down\n"
                                     "\n";

/* How a format names and fills a new migration. */
typedef struct {
    const char *prefix, *sep;      /* before the version; between it and the name */
    const char *up_ext, *down_ext; /* after the name; down_ext NULL: one file */
    const char *text;              /* the up file's template */
    bool sequence_ok;              /* numbered in sequence when the directory is */
} new_layout;

static const new_layout native_layout = {"", "_", ".sql", NULL, new_template, false};
static const new_layout goose_layout = {"", "_", ".sql", NULL, goose_template, true};
static const new_layout golang_layout = {"", "_", ".up.sql", ".down.sql", "", true};
static const new_layout flyway_layout = {"V", "__", ".sql", NULL, "", true};

/* The command that makes a new migration of a format `new` does not write. */
static const char *own_command(dbm_format format)
{
    switch (format) {
    case DBM_FORMAT_DIESEL:
        return "diesel migration generate NAME";
    case DBM_FORMAT_PRISMA:
        return "prisma migrate dev --name NAME";
    case DBM_FORMAT_SQLX:
        return "sqlx migrate add NAME";
    case DBM_FORMAT_DRIZZLE:
        return "drizzle-kit generate";
    case DBM_FORMAT_SUPABASE:
        return "supabase migration new NAME";
    case DBM_FORMAT_ATLAS:
        return "atlas migrate new NAME";
    case DBM_FORMAT_SQITCH:
        return "sqitch add NAME";
    default:
        return "graphile-migrate commit";
    }
}

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
            rc = mig_io_error("create the migrations directory", p, errno);
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

/* Whether directory d holds a migration of version `stamp` (14 digits) after `prefix`. */
static bool version_taken(DIR *d, const char *prefix, const char *stamp)
{
    size_t n = strlen(prefix);
    struct dirent *de;

    rewinddir(d);
    while ((de = readdir(d)) != NULL)
        if (strncmp(de->d_name, prefix, n) == 0 && strncmp(de->d_name + n, stamp, 14) == 0 &&
            de->d_name[n + 14] == '_')
            return true;
    return false;
}

/*
 * The first free version from `now` on, one second at a time, into stamp.
 * The caller holds the directory's lock, so two `new` at once get two.
 */
static int free_version(char stamp[32], DIR *d, const char *prefix, time_t now)
{
    struct tm tm;

    for (int k = 0; k < NEW_MAX_BUMP; k++) {
        time_t t = now + k;
        if (!gmtime_r(&t, &tm) || strftime(stamp, 32, "%Y%m%d%H%M%S", &tm) != 14)
            return dbm_error_set(DBM_EGENERIC, "unable to format the time %lld", (long long)t);
        if (!version_taken(d, prefix, stamp))
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

/*
 * The version after the newest of `set` when the directory numbers its
 * migrations in sequence (the newest, or its last dotted part, is shorter
 * than a timestamp): one more, as wide as it was ("0009" -> "0010", Flyway's
 * "1.2" -> "1.3"). false for a directory of timestamps, or of none.
 */
static bool next_in_sequence(char out[48], const dbm_migration_set *set)
{
    const char *newest = NULL, *start;
    size_t n;

    for (size_t i = 0; i < set->count; i++)
        if (!set->items[i].repeatable &&
            (!newest || dbm_version_cmp(set->format, set->items[i].version, newest) > 0))
            newest = set->items[i].version;
    if (!newest)
        return false;
    start = strrchr(newest, '.') ? strrchr(newest, '.') + 1 : newest;
    n = strlen(start);
    if (n == 0 || n >= 12 || strlen(newest) >= 12 || strspn(start, "0123456789") != n)
        return false;
    snprintf(out, 48, "%.*s%0*llu", (int)(start - newest), newest, (int)n,
             strtoull(start, NULL, 10) + 1);
    return true;
}

/* Create `path` (never overwriting) holding `text`; on failure nothing is left behind. */
static int write_template(const char *path, const char *text)
{
    size_t off = 0, n = strlen(text);
    int fd, rc = 0;

    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0 && errno == EEXIST)
        return dbm_error_set(DBM_ECONFIG, "unable to create '%s': %s", path, strerror(errno));
    if (fd < 0)
        return mig_io_error("create", path, errno);
    while (off < n) {
        ssize_t w = write(fd, text + off, n - off);
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

/* The layout `new` writes for a directory read as `format`; NULL (error recorded) for none. */
static const new_layout *layout_for(dbm_format format, const char *dir)
{
    switch (format) {
    case DBM_FORMAT_AUTO:
    case DBM_FORMAT_NATIVE:
    case DBM_FORMAT_DBMATE:
        return &native_layout;
    case DBM_FORMAT_GOOSE:
        return &goose_layout;
    case DBM_FORMAT_GOLANG_MIGRATE:
        return &golang_layout;
    case DBM_FORMAT_FLYWAY:
        return &flyway_layout;
    default:
        dbm_error_set(DBM_ECONFIG, "new does not write %s migrations ('%s' is read as %s)",
                      dbm_format_name(format), dir, dbm_format_name(format));
        dbm_error_hint("create it with the tool's own command: %s", own_command(format));
        return NULL;
    }
}

/*
 * Write the new migration's file (and its down file) named for `version`, in
 * `lay`; *out is the up file's path. Nothing is left behind on failure.
 */
static int write_files(char **out, const char *dir, const new_layout *lay, const char *version,
                       const char *name)
{
    char *up = dbm_xasprintf("%s%s%s%s%s", lay->prefix, version, lay->sep, name, lay->up_ext);
    char *path = mig_join(dir, up), *down = NULL, *down_path = NULL;
    int rc;

    if ((rc = write_template(path, lay->text)) == 0 && lay->down_ext) {
        down = dbm_xasprintf("%s%s%s%s%s", lay->prefix, version, lay->sep, name, lay->down_ext);
        down_path = mig_join(dir, down);
        if ((rc = write_template(down_path, "")) < 0)
            unlink(path);
    }
    if (rc == 0) {
        *out = path;
        path = NULL;
    }
    free(up);
    free(path);
    free(down);
    free(down_path);
    return rc;
}

/* The directory's migrations, read as `format`, for its layout and its newest version. */
static int new_layout_of(const new_layout **lay, char version[48], DIR *d, const char *dir,
                         dbm_format format, time_t now)
{
    dbm_migration_set *set = NULL;
    int rc;

    if ((rc = dbm_migrations_load(&set, dir, format)) < 0)
        return rc;
    if ((*lay = layout_for(set->format, dir)) == NULL)
        rc = DBM_ECONFIG;
    else if (!(*lay)->sequence_ok || !next_in_sequence(version, set))
        rc = free_version(version, d, (*lay)->prefix, now);
    dbm_migrations_free(set);
    return rc;
}

int dbm_migration_new_file(char **out_path, const char *dir, dbm_format format, const char *name,
                           time_t now)
{
    const new_layout *lay = NULL;
    char *reduced = NULL;
    char version[48];
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
        rc = mig_io_error("read", dir, errno);
        goto done;
    }
    /* Held until the file exists: another `new` waits, then sees the version taken. */
    if (flock(dirfd(d), LOCK_EX) < 0) {
        rc = dbm_error_set(DBM_EGENERIC, "unable to lock '%s': %s", dir, strerror(errno));
        goto done;
    }
    if ((rc = new_layout_of(&lay, version, d, dir, format, now)) < 0)
        goto done;
    rc = write_files(out_path, dir, lay, version, reduced);
done:
    if (d)
        closedir(d); /* releases the lock */
    free(reduced);
    return rc;
}
