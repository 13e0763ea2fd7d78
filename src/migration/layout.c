/*
 * The directory, listed once: readdir into a sorted array (so errors come in
 * name order, the same on every file system), a layout for each entry from
 * its name or, for a folder, one or two fstatat, and the flat files read
 * ahead on a second thread.
 */
#include "migration/layout.h"
#include "common/log.h"
#include "common/thread.h"
#include "common/util.h"
#include "migration/read.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Reading ahead. Opening, reading and closing a thousand small files is most
 * of loading them, and it is system-call time a second thread halves. Each
 * thread reads every other file; a failure is kept in its entry and raised
 * when the entry is loaded, so errors come in the same order, with the same
 * words, as without reading ahead (and a file that is never loaded never
 * fails the run). Below this many files a thread costs more than it saves.
 */
#define READ_AHEAD_MIN 128

const char *mig_layout_name(mig_layout layout)
{
    switch (layout) {
    case MIG_LAYOUT_FLAT:
        return "native/dbmate/goose";
    case MIG_LAYOUT_GOOSE_GO:
        return "goose";
    case MIG_LAYOUT_GOLANG:
        return "golang-migrate";
    case MIG_LAYOUT_FLYWAY:
        return "flyway";
    case MIG_LAYOUT_DIESEL:
        return "diesel";
    case MIG_LAYOUT_PRISMA:
        return "prisma";
    default:
        return "none";
    }
}

const char *mig_layout_folder_file(mig_layout layout)
{
    switch (layout) {
    case MIG_LAYOUT_DIESEL:
        return "up.sql";
    case MIG_LAYOUT_PRISMA:
        return "migration.sql";
    default:
        return NULL;
    }
}

static bool has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

bool mig_name_unusable(const char *s)
{
    size_t bad;
    return has_control(s) || !dbm_utf8_valid(s, strlen(s), &bad);
}

bool mig_ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

size_t mig_leading_digits(const char *s)
{
    size_t i = 0;
    while (s[i] >= '0' && s[i] <= '9')
        i++;
    return i;
}

bool mig_flyway_version(const char *s, size_t *ver_len)
{
    const char *sep = strstr(s, "__");

    if (!sep || sep == s || !(s[0] >= '0' && s[0] <= '9'))
        return false;
    for (const char *p = s; p < sep; p++)
        if (!((*p >= '0' && *p <= '9') || *p == '.' || *p == '_'))
            return false;
    if (ver_len)
        *ver_len = (size_t)(sep - s);
    return true;
}

bool mig_exists_at(int dfd, const char *rel)
{
    struct stat st;
    return fstatat(dfd, rel, &st, 0) == 0 && S_ISREG(st.st_mode);
}

static mig_layout classify_file(const char *name)
{
    size_t n = strlen(name), d = mig_leading_digits(name);

    if (d > 0 && name[d] == '_') {
        if (mig_ends_with(name, n, ".up.sql") || mig_ends_with(name, n, ".down.sql"))
            return MIG_LAYOUT_GOLANG;
        if (mig_ends_with(name, n, ".sql") && n > d + 1 + 4)
            return MIG_LAYOUT_FLAT;
        if (mig_ends_with(name, n, ".go") && n > d + 1 + 3)
            return MIG_LAYOUT_GOOSE_GO;
        return MIG_LAYOUT_NONE;
    }
    if (!mig_ends_with(name, n, ".sql"))
        return MIG_LAYOUT_NONE;
    if ((name[0] == 'V' || name[0] == 'U') && mig_flyway_version(name + 1, NULL))
        return MIG_LAYOUT_FLYWAY;
    if (dbm_starts_with(name, "R__") && n > 3 + 4)
        return MIG_LAYOUT_FLYWAY;
    return MIG_LAYOUT_NONE;
}

/* A folder's layout: the first folder layout whose file it holds (Prisma's before diesel's). */
static mig_layout classify_folder(dbm_buf *rel, int dfd, const char *name)
{
    static const mig_layout order[] = {MIG_LAYOUT_PRISMA, MIG_LAYOUT_DIESEL};

    for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
        dbm_buf_truncate(rel, 0);
        dbm_buf_printf(rel, "%s/%s", name, mig_layout_folder_file(order[i]));
        if (mig_exists_at(dfd, rel->ptr))
            return order[i];
    }
    return MIG_LAYOUT_NONE;
}

static void classify_entries(mig_entry_list *list, int dfd)
{
    dbm_buf rel = DBM_BUF_INIT;

    for (size_t i = 0; i < list->count; i++) {
        mig_entry *e = &list->items[i];
        e->kind = e->is_dir ? classify_folder(&rel, dfd, e->name) : classify_file(e->name);
    }
    dbm_buf_free(&rel);
}

static int entry_name_cmp(const void *a, const void *b)
{
    return strcmp(((const mig_entry *)a)->name, ((const mig_entry *)b)->name);
}

/* What a directory entry that is neither a file nor a folder is, for a message. */
static const char *not_a_file(int err, mode_t mode)
{
    if (err == ENOENT)
        return "a symbolic link to nothing";
    if (err)
        return strerror(err);
    if (S_ISFIFO(mode))
        return "a FIFO, not a file";
    if (S_ISSOCK(mode))
        return "a socket, not a file";
    return "a device, not a file";
}

/* Keep the first (by name) entry named like a migration that cannot be read as one. */
static void note_unreadable(mig_entry_list *out, const char *name, int err, mode_t mode)
{
    if (classify_file(name) == MIG_LAYOUT_NONE)
        return;
    if (out->unreadable && strcmp(out->unreadable, name) < 0)
        return;
    free(out->unreadable);
    out->unreadable = dbm_xstrdup(name);
    out->why = not_a_file(err, mode);
}

/*
 * Add the directory entry `de` of `d` unless it is hidden or not a file or
 * folder (noted when its name is a migration's).
 */
static void add_entry(mig_entry_list *out, DIR *d, const struct dirent *de)
{
    bool is_dir = de->d_type == DT_DIR, is_reg = de->d_type == DT_REG;
    mig_entry *e;

    if (de->d_name[0] == '.')
        return;
    if (!is_dir && !is_reg) { /* symlink or unknown: follow it */
        struct stat st;
        if (fstatat(dirfd(d), de->d_name, &st, 0) < 0) {
            note_unreadable(out, de->d_name, errno, 0);
            return;
        }
        is_dir = S_ISDIR(st.st_mode);
        is_reg = S_ISREG(st.st_mode);
        if (!is_dir && !is_reg) {
            note_unreadable(out, de->d_name, 0, st.st_mode);
            return;
        }
    }
    dbm_array_grow((void **)&out->items, &out->cap, out->count + 1, sizeof(mig_entry));
    e = &out->items[out->count++];
    memset(e, 0, sizeof(*e));
    e->name = dbm_xstrdup(de->d_name);
    e->is_dir = is_dir;
}

/* List `dir` once, sorted by name; *out_dfd is a descriptor of it. */
static int list_dir(mig_entry_list *out, int *out_dfd, const char *dir)
{
    DIR *d = NULL;
    struct dirent *de;
    int rc = 0;

    d = opendir(dir);
    if (!d) {
        if (errno == ENOENT || errno == ENOTDIR) {
            rc = dbm_error_set(DBM_ECONFIG, "migrations directory '%s' does not exist", dir);
            dbm_error_hint("set migrations-dir to the folder that holds the migrations");
        } else {
            rc = mig_io_error("read", dir, errno);
        }
        goto done;
    }
    while ((errno = 0, de = readdir(d)) != NULL)
        add_entry(out, d, de);
    if (errno) {
        rc = dbm_error_set(DBM_EGENERIC, "unable to read '%s': %s", dir, strerror(errno));
        goto done;
    }
    if (out->unreadable) {
        char *name = dbm_printable(out->unreadable), *shown = mig_join(dir, name);

        rc = dbm_error_set(DBM_ECONFIG, "unable to read '%s': %s", shown, out->why);
        dbm_error_hint("repair or remove it: skipped, it would run out of order once it is back");
        free(shown);
        free(name);
        goto done;
    }
    if (out->count > 1)
        qsort(out->items, out->count, sizeof(mig_entry), entry_name_cmp);
    *out_dfd = dup(dirfd(d));
    if (*out_dfd < 0)
        rc = dbm_error_set(DBM_EGENERIC, "unable to read '%s': %s", dir, strerror(errno));
done:
    if (d)
        closedir(d);
    return rc;
}

typedef struct {
    mig_entry **todo;
    int dfd;
    const char *dir;
} read_ahead_job;

static void read_ahead_one(void *arg, size_t k)
{
    const read_ahead_job *job = arg;
    mig_entry *e = job->todo[k];

    if (mig_read_text(&e->text, &e->len, job->dfd, job->dir, e->name, false) == 0)
        e->read = true;
    else
        dbm_error_save(&e->read_error);
}

static void read_ahead(mig_entry_list *list, int dfd, const char *dir)
{
    read_ahead_job job = {dbm_xcalloc(list->count ? list->count : 1, sizeof(mig_entry *)), dfd,
                          dir};
    size_t count = 0;

    for (size_t i = 0; i < list->count; i++) {
        mig_entry *e = &list->items[i];
        if (!e->is_dir && e->kind != MIG_LAYOUT_NONE && e->kind != MIG_LAYOUT_GOOSE_GO &&
            !mig_name_unusable(e->name))
            job.todo[count++] = e;
    }
    /* what is not read ahead (the odd files without a thread) is read when loaded */
    dbm_thread_every_other(read_ahead_one, &job, count, READ_AHEAD_MIN);
    free(job.todo);
}

int mig_layout_list(mig_entry_list *out, int *out_dfd, const char *dir)
{
    int rc = list_dir(out, out_dfd, dir);

    if (rc < 0)
        return rc;
    classify_entries(out, *out_dfd);
    read_ahead(out, *out_dfd, dir);
    return 0;
}

void mig_entry_list_free(mig_entry_list *list)
{
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].name);
        free(list->items[i].text);
        dbm_saved_error_free(&list->items[i].read_error);
    }
    free(list->items);
    free(list->unreadable);
    memset(list, 0, sizeof(*list));
}

int mig_bad_name(const char *dir, const char *name)
{
    char *shown = dbm_printable(name), *where = dbm_printable(dir);
    int rc;

    if (has_control(name)) {
        rc = dbm_error_set(DBM_ECONFIG, "migration name '%s' in '%s' contains a control character",
                           shown, where);
        dbm_error_hint("rename it without newlines or other control characters");
    } else {
        rc = dbm_error_set(DBM_ECONFIG, "migration name '%s' in '%s' is not valid UTF-8", shown,
                           where);
        dbm_error_hint("rename it in UTF-8: the name is recorded in the history as text");
    }
    free(shown);
    free(where);
    return rc;
}

int mig_entry_text(mig_entry *e, const char *rel, int dfd, const char *dir)
{
    int rc;

    if (e->read)
        return 0;
    if (mig_name_unusable(e->name))
        return mig_bad_name(dir, e->name);
    if (e->read_error.code < 0)
        return dbm_error_raise(&e->read_error);
    rc = mig_read_text(&e->text, &e->len, dfd, dir, rel ? rel : e->name, false);
    if (rc == 0)
        e->read = true;
    return rc;
}
