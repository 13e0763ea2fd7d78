#include "migration/migration.h"
#include "common/error.h"
#include "common/log.h"
#include "common/thread.h"
#include "common/util.h"
#include "migration/read.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * Loading works in three passes over the directory, each linear: list the
 * entries once (readdir, sorted by name so errors are deterministic), read
 * every candidate file once, then build the migrations and qsort them with
 * the format's comparator. Duplicate versions are adjacent after the sort.
 */

/* The layout a directory entry belongs to, from its name (and, for folders, its files). */
typedef enum {
    LAYOUT_NONE = 0,
    LAYOUT_FLAT,     /* <digits>_<name>.sql: native, dbmate or goose */
    LAYOUT_GOOSE_GO, /* <digits>_<name>.go: goose */
    LAYOUT_GOLANG,   /* <digits>_<name>.up.sql / .down.sql */
    LAYOUT_FLYWAY,   /* V<ver>__<desc>.sql, R__<desc>.sql, U<ver>__<desc>.sql */
    LAYOUT_DIESEL,   /* <folder>/up.sql */
    LAYOUT_PRISMA,   /* <folder>/migration.sql */
    LAYOUT_COUNT
} layout;

typedef struct {
    char *name; /* entry name in the directory */
    layout kind;
    bool is_dir;
    bool read;  /* text below is loaded */
    char *text; /* normalized file text (flat layouts, read during detection) */
    size_t len;
    dbm_saved_error read_error; /* read ahead and failed: raised when the entry is loaded */
} entry;

typedef struct {
    entry *items;
    size_t count;
    size_t cap;
} entry_list;

/* A loaded migration plus what sorting needs and the migration itself does not carry. */
typedef struct {
    dbm_migration m;
    const char *sort_name; /* file or folder name, the tie-breaker */
} item;

typedef struct {
    item *items;
    size_t count;
    size_t cap;
} item_list;

static const char *layout_name(layout l)
{
    switch (l) {
    case LAYOUT_FLAT:
        return "native/dbmate/goose";
    case LAYOUT_GOOSE_GO:
        return "goose";
    case LAYOUT_GOLANG:
        return "golang-migrate";
    case LAYOUT_FLYWAY:
        return "flyway";
    case LAYOUT_DIESEL:
        return "diesel";
    case LAYOUT_PRISMA:
        return "prisma";
    default:
        return "none";
    }
}

/* ---- formats ---------------------------------------------------------------------------- */

static const struct {
    dbm_format format;
    const char *name;
} format_names[] = {
    {DBM_FORMAT_AUTO, "auto"},
    {DBM_FORMAT_NATIVE, "native"},
    {DBM_FORMAT_GOLANG_MIGRATE, "golang-migrate"},
    {DBM_FORMAT_DBMATE, "dbmate"},
    {DBM_FORMAT_GOOSE, "goose"},
    {DBM_FORMAT_FLYWAY, "flyway"},
    {DBM_FORMAT_DIESEL, "diesel"},
    {DBM_FORMAT_PRISMA, "prisma"},
};

int dbm_format_parse(dbm_format *out, const char *name)
{
    for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++) {
        if (name && strcmp(name, format_names[i].name) == 0) {
            *out = format_names[i].format;
            return 0;
        }
    }
    dbm_error_set(DBM_ECONFIG, "unknown format '%s'", name ? name : "");
    dbm_error_hint("format is one of auto, native, golang-migrate, dbmate, goose, flyway, "
                   "diesel, prisma");
    return DBM_ECONFIG;
}

const char *dbm_format_name(dbm_format format)
{
    for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++)
        if (format_names[i].format == format)
            return format_names[i].name;
    return "unknown";
}

/* ---- version order ---------------------------------------------------------------------- */

static bool all_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* Compare two digit strings as numbers of any length: strip leading zeros, longer is larger. */
static int numcmp(const char *a, size_t an, const char *b, size_t bn)
{
    int c;

    while (an > 0 && *a == '0')
        a++, an--;
    while (bn > 0 && *b == '0')
        b++, bn--;
    if (an != bn)
        return an < bn ? -1 : 1;
    c = memcmp(a, b, an);
    return c < 0 ? -1 : c > 0;
}

static int bytecmp(const char *a, const char *b)
{
    int c = strcmp(a, b);
    return c < 0 ? -1 : c > 0;
}

static int native_cmp(const char *a, const char *b)
{
    size_t an = strlen(a), bn = strlen(b);

    if (!all_digits(a, an) || !all_digits(b, bn))
        return bytecmp(a, b);
    return numcmp(a, an, b, bn);
}

/*
 * dbmate applies files in file name order, and its file names are the version
 * followed by '_': compare as if each version had a '_' appended (which sorts
 * after every digit, so "10" comes before "1").
 */
static int dbmate_cmp(const char *a, const char *b)
{
    const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;

    while (*p && *p == *q)
        p++, q++;
    {
        unsigned int x = *p ? *p : '_', y = *q ? *q : '_';
        if (x != y)
            return x < y ? -1 : 1;
    }
    if (!*p && !*q)
        return 0;
    /* one ended and its '_' equals the other's '_': compare what follows ("" < rest) */
    return !*p ? -1 : 1;
}

/* Diesel: the version with dashes removed, compared as a string. */
static int diesel_cmp(const char *a, const char *b)
{
    for (;;) {
        while (*a == '-')
            a++;
        while (*b == '-')
            b++;
        if (*a != *b || !*a)
            break;
        a++, b++;
    }
    return (unsigned char)*a < (unsigned char)*b ? -1 : (unsigned char)*a > (unsigned char)*b;
}

/* Flyway: numeric dotted parts (a missing part counts as 0); R__ repeatables after, by name. */
static int flyway_cmp(const char *a, const char *b)
{
    bool ra = dbm_starts_with(a, "R__"), rb = dbm_starts_with(b, "R__");

    if (ra || rb)
        return ra && rb ? bytecmp(a, b) : ra ? 1 : -1;
    while (*a || *b) {
        size_t an = strcspn(a, "."), bn = strcspn(b, ".");
        int c;

        if (all_digits(a, an) || an == 0) {
            if (!all_digits(b, bn) && bn != 0)
                return bytecmp(a, b);
            c = numcmp(a, an, b, bn);
        } else {
            return bytecmp(a, b);
        }
        if (c)
            return c;
        a += an + (a[an] == '.');
        b += bn + (b[bn] == '.');
    }
    return 0;
}

int dbm_version_cmp(dbm_format format, const char *a, const char *b)
{
    switch (format) {
    case DBM_FORMAT_DBMATE:
        return dbmate_cmp(a, b);
    case DBM_FORMAT_DIESEL:
        return diesel_cmp(a, b);
    case DBM_FORMAT_FLYWAY:
        return flyway_cmp(a, b);
    case DBM_FORMAT_PRISMA:
        return bytecmp(a, b);
    default:
        return native_cmp(a, b);
    }
}

/* ---- directives inside files ------------------------------------------------------------ */

typedef struct {
    const char *s;
    size_t len;
    size_t pos; /* start of the next line */
} line_iter;

/* The next line [*start, *end) without its newline; false at the end of the text. */
static bool next_line(line_iter *it, size_t *start, size_t *end)
{
    const char *nl;

    if (it->pos >= it->len)
        return false;
    *start = it->pos;
    nl = memchr(it->s + it->pos, '\n', it->len - it->pos);
    *end = nl ? (size_t)(nl - it->s) : it->len;
    it->pos = nl ? *end + 1 : it->len;
    return true;
}

/* Offset just past line `end` (skipping its newline). */
static size_t after_line(const char *s, size_t len, size_t end)
{
    return end < len ? end + 1 : len;
}

/* After "--" and blanks: the rest of a comment line, or NULL if the line is not one. */
static const char *comment_body(const char *line, size_t n, size_t *rest)
{
    size_t i = 2;

    if (n < 2 || line[0] != '-' || line[1] != '-')
        return NULL;
    while (i < n && (line[i] == ' ' || line[i] == '\t'))
        i++;
    *rest = n - i;
    return line + i;
}

static bool word_at(const char *p, size_t n, const char *word, bool nocase)
{
    size_t w = strlen(word);

    if (n < w || (nocase ? strncasecmp(p, word, w) : strncmp(p, word, w)) != 0)
        return false;
    return n == w || p[w] == ' ' || p[w] == '\t';
}

enum { MARK_NONE, MARK_UP, MARK_DOWN, MARK_NO_TX };

/*
 * "-- migrate:up [options]", "-- migrate:down", "-- migrate:no-transaction".
 * The option transaction:false on the up line sets *tx_false; tx_false may be NULL.
 */
static int dbmate_mark(const char *line, size_t n, bool *tx_false)
{
    size_t rest;
    const char *p = comment_body(line, n, &rest);

    if (!p || rest < 8 || strncmp(p, "migrate:", 8) != 0)
        return MARK_NONE;
    if (word_at(p + 8, rest - 8, "up", false)) {
        /* options follow as words: transaction:false */
        const char *q = p + 10, *end = p + rest;
        while (tx_false && q < end) {
            size_t w;
            while (q < end && (*q == ' ' || *q == '\t'))
                q++;
            w = 0;
            while (q + w < end && q[w] != ' ' && q[w] != '\t')
                w++;
            if (w == 17 && strncmp(q, "transaction:false", 17) == 0)
                *tx_false = true;
            q += w;
        }
        return MARK_UP;
    }
    if (word_at(p + 8, rest - 8, "down", false))
        return MARK_DOWN;
    if (word_at(p + 8, rest - 8, "no-transaction", false))
        return MARK_NO_TX;
    return MARK_NONE;
}

/* "-- +goose Up", "-- +goose Down", "-- +goose NO TRANSACTION", any case, trailing blanks. */
static int goose_mark(const char *line, size_t n)
{
    size_t rest, i = 6;
    const char *p = comment_body(line, n, &rest);

    if (!p || rest < 7 || strncasecmp(p, "+goose", 6) != 0 || (p[6] != ' ' && p[6] != '\t'))
        return MARK_NONE;
    while (i < rest && (p[i] == ' ' || p[i] == '\t'))
        i++;
    if (word_at(p + i, rest - i, "up", true))
        return MARK_UP;
    if (word_at(p + i, rest - i, "down", true))
        return MARK_DOWN;
    if (word_at(p + i, rest - i, "no", true)) {
        i += 2;
        while (i < rest && (p[i] == ' ' || p[i] == '\t'))
            i++;
        if (word_at(p + i, rest - i, "transaction", true))
            return MARK_NO_TX;
    }
    return MARK_NONE;
}

/* What a flat file's text says about its format (auto-detection). */
typedef struct {
    bool goose_up;   /* a "-- +goose Up" line */
    bool migrate_up; /* a "-- migrate:up" line */
} flat_traits;

static flat_traits scan_traits(const char *s, size_t len)
{
    flat_traits t = {false, false};
    line_iter it = {s, len, 0};
    size_t a, b;

    while (next_line(&it, &a, &b)) {
        if (b - a < 2 || s[a] != '-')
            continue;
        if (goose_mark(s + a, b - a) == MARK_UP)
            t.goose_up = true;
        if (dbmate_mark(s + a, b - a, NULL) == MARK_UP)
            t.migrate_up = true;
    }
    return t;
}

/* ---- building migrations ---------------------------------------------------------------- */

static void set_section(char **text, size_t *tlen, int *line, const char *s, size_t start,
                        size_t end)
{
    *text = dbm_xstrndup(s + start, end - start);
    *tlen = end - start;
    *line = mig_line_of(s, start);
}

/* Split dbmate/native text. Returns 0, or DBM_ENOTFOUND when there is no up marker. */
static int split_dbmate(dbm_migration *m, const char *s, size_t len, bool native_directives)
{
    line_iter it = {s, len, 0};
    size_t a, b, up_at = 0, up_start = 0, down_at = 0, down_start = 0;
    bool have_up = false, have_down = false, txf = false;

    while (next_line(&it, &a, &b)) {
        int mk;

        if (b - a < 2 || s[a] != '-')
            continue;
        /* only the first up marker's options count */
        mk = dbmate_mark(s + a, b - a, have_up ? NULL : &txf);
        if (mk == MARK_UP && !have_up) {
            have_up = true;
            up_at = a;
            up_start = after_line(s, len, b);
        } else if (mk == MARK_DOWN && !have_down) {
            have_down = true;
            down_at = a;
            down_start = after_line(s, len, b);
        } else if (mk == MARK_NO_TX && native_directives) {
            m->no_transaction = true;
        }
    }
    if (txf)
        m->no_transaction = true;
    if (!have_up && !native_directives)
        return DBM_ENOTFOUND;
    if (!have_up) /* native without markers: the text before any down marker is up */
        set_section(&m->up, &m->up_len, &m->up_line, s, 0, have_down ? down_at : len);
    else
        set_section(&m->up, &m->up_len, &m->up_line, s, up_start,
                    have_down && down_at > up_at ? down_at : len);
    if (have_down) {
        set_section(&m->down, &m->down_len, &m->down_line, s, down_start,
                    have_up && up_at > down_at ? up_at : len);
        m->down_path = dbm_xstrdup(m->path);
    }
    return 0;
}

/* Split goose text. Returns 0, or DBM_ENOTFOUND when there is no Up annotation. */
static int split_goose(dbm_migration *m, const char *s, size_t len)
{
    line_iter it = {s, len, 0};
    size_t a, b, up_at = 0, up_start = 0, down_at = 0, down_start = 0;
    bool have_up = false, have_down = false;

    while (next_line(&it, &a, &b)) {
        int mk;

        if (b - a < 2 || s[a] != '-')
            continue;
        mk = goose_mark(s + a, b - a);
        if (mk == MARK_NO_TX) {
            m->no_transaction = true;
        } else if (mk == MARK_UP && !have_up) {
            have_up = true;
            up_at = a;
            up_start = after_line(s, len, b);
        } else if (mk == MARK_DOWN && !have_down) {
            have_down = true;
            down_at = a;
            down_start = after_line(s, len, b);
        }
    }
    if (!have_up)
        return DBM_ENOTFOUND;
    set_section(&m->up, &m->up_len, &m->up_line, s, up_start,
                have_down && down_at > up_at ? down_at : len);
    if (have_down) {
        set_section(&m->down, &m->down_len, &m->down_line, s, down_start,
                    up_at > down_at ? up_at : len);
        m->down_path = dbm_xstrdup(m->path);
    }
    return 0;
}

static bool has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
    size_t k = strlen(suffix);
    return n >= k && memcmp(s + n - k, suffix, k) == 0;
}

static size_t leading_digits(const char *s)
{
    size_t i = 0;
    while (s[i] >= '0' && s[i] <= '9')
        i++;
    return i;
}

/*
 * Flyway version text after V or U: up to the first "__", digits with dots or
 * underscores. *ver_len (may be NULL) is its length.
 */
static bool flyway_version(const char *s, size_t *ver_len)
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

static layout classify_file(const char *name)
{
    size_t n = strlen(name), d = leading_digits(name);

    if (d > 0 && name[d] == '_') {
        if (ends_with(name, n, ".up.sql") || ends_with(name, n, ".down.sql"))
            return LAYOUT_GOLANG;
        if (ends_with(name, n, ".sql") && n > d + 1 + 4)
            return LAYOUT_FLAT;
        if (ends_with(name, n, ".go") && n > d + 1 + 3)
            return LAYOUT_GOOSE_GO;
        return LAYOUT_NONE;
    }
    if (!ends_with(name, n, ".sql"))
        return LAYOUT_NONE;
    if ((name[0] == 'V' || name[0] == 'U') && flyway_version(name + 1, NULL))
        return LAYOUT_FLYWAY;
    if (dbm_starts_with(name, "R__") && n > 3 + 4)
        return LAYOUT_FLYWAY;
    return LAYOUT_NONE;
}

static int entry_name_cmp(const void *a, const void *b)
{
    return strcmp(((const entry *)a)->name, ((const entry *)b)->name);
}

static bool exists_at(int dfd, const char *rel)
{
    struct stat st;
    return fstatat(dfd, rel, &st, 0) == 0 && S_ISREG(st.st_mode);
}

/* List `dir` once: hidden entries skipped, symlinks followed, sorted by name. */
static int list_dir(entry_list *out, int *out_dfd, const char *dir)
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
            rc = dbm_error_set(DBM_EGENERIC, "unable to read '%s': %s", dir, strerror(errno));
        }
        goto done;
    }
    while ((errno = 0, de = readdir(d)) != NULL) {
        bool is_dir, is_reg;
        entry *e;

        if (de->d_name[0] == '.')
            continue;
        is_dir = de->d_type == DT_DIR;
        is_reg = de->d_type == DT_REG;
        if (!is_dir && !is_reg) { /* symlink or unknown: follow it */
            struct stat st;
            if (fstatat(dirfd(d), de->d_name, &st, 0) < 0)
                continue; /* dangling link */
            is_dir = S_ISDIR(st.st_mode);
            is_reg = S_ISREG(st.st_mode);
        }
        if (!is_dir && !is_reg)
            continue;
        dbm_array_grow((void **)&out->items, &out->cap, out->count + 1, sizeof(entry));
        e = &out->items[out->count++];
        e->name = dbm_xstrdup(de->d_name);
        e->is_dir = is_dir;
    }
    if (errno) {
        rc = dbm_error_set(DBM_EGENERIC, "unable to read '%s': %s", dir, strerror(errno));
        goto done;
    }
    if (out->count > 1)
        qsort(out->items, out->count, sizeof(entry), entry_name_cmp);
    *out_dfd = dup(dirfd(d));
    if (*out_dfd < 0)
        rc = dbm_error_set(DBM_EGENERIC, "unable to read '%s': %s", dir, strerror(errno));
done:
    if (d)
        closedir(d);
    return rc;
}

static void classify_entries(entry_list *list, int dfd)
{
    dbm_buf rel = DBM_BUF_INIT;

    for (size_t i = 0; i < list->count; i++) {
        entry *e = &list->items[i];

        if (!e->is_dir) {
            e->kind = classify_file(e->name);
            continue;
        }
        dbm_buf_truncate(&rel, 0);
        dbm_buf_printf(&rel, "%s/migration.sql", e->name);
        if (exists_at(dfd, rel.ptr)) {
            e->kind = LAYOUT_PRISMA;
            continue;
        }
        dbm_buf_truncate(&rel, 0);
        dbm_buf_printf(&rel, "%s/up.sql", e->name);
        if (exists_at(dfd, rel.ptr))
            e->kind = LAYOUT_DIESEL;
    }
    dbm_buf_free(&rel);
}

static int bad_name(const char *dir, const char *name)
{
    char *shown = dbm_printable(name);
    int rc = dbm_error_set(DBM_ECONFIG, "migration name '%s' in '%s' contains a control character",
                           shown, dir);
    dbm_error_hint("rename it without newlines or other control characters");
    free(shown);
    return rc;
}

/* Read a flat file's text into its entry, once. */
static int load_entry(entry *e, int dfd, const char *dir)
{
    int rc;

    if (e->read)
        return 0;
    if (has_control(e->name))
        return bad_name(dir, e->name);
    if (e->read_error.code < 0)
        return dbm_error_raise(&e->read_error);
    rc = mig_read_text(&e->text, &e->len, dfd, dir, e->name, false);
    if (rc == 0)
        e->read = true;
    return rc;
}

/*
 * Reading ahead. Opening, reading and closing a thousand small files is most
 * of loading them, and it is system-call time a second thread halves. Each
 * thread reads every other file; a failure is kept in its entry and raised
 * when the entry is loaded, so errors come in the same order, with the same
 * words, as without reading ahead (and a file that is never loaded never
 * fails the run).
 */
#define READ_AHEAD_MIN 128

typedef struct {
    entry **todo;
    int dfd;
    const char *dir;
} read_ahead_job;

static void read_ahead_one(void *arg, size_t k)
{
    const read_ahead_job *job = arg;
    entry *e = job->todo[k];

    if (mig_read_text(&e->text, &e->len, job->dfd, job->dir, e->name, false) == 0)
        e->read = true;
    else
        dbm_error_save(&e->read_error);
}

static void read_ahead(entry_list *list, int dfd, const char *dir)
{
    read_ahead_job job = {dbm_xcalloc(list->count ? list->count : 1, sizeof(entry *)), dfd, dir};
    size_t count = 0;

    for (size_t i = 0; i < list->count; i++) {
        entry *e = &list->items[i];
        if (!e->is_dir && e->kind != LAYOUT_NONE && e->kind != LAYOUT_GOOSE_GO &&
            !has_control(e->name))
            job.todo[count++] = e;
    }
    /* what is not read ahead (the odd files without a thread) is read when loaded */
    dbm_thread_every_other(read_ahead_one, &job, count, READ_AHEAD_MIN);
    free(job.todo);
}

/* ---- auto-detection --------------------------------------------------------------------- */

static int detect(dbm_format *out, entry_list *list, int dfd, const char *dir)
{
    const entry *first[LAYOUT_COUNT] = {NULL};
    const entry *goose = NULL, *dbmate = NULL;
    layout seen = LAYOUT_NONE;
    int rc;

    for (size_t i = 0; i < list->count; i++) {
        layout k = list->items[i].kind == LAYOUT_GOOSE_GO ? LAYOUT_FLAT : list->items[i].kind;

        if (k == LAYOUT_NONE)
            continue;
        if (!first[k])
            first[k] = &list->items[i];
        if (seen != LAYOUT_NONE && seen != k) {
            const entry *a = first[seen], *b = first[k];
            const char *an = a->name, *bn = b->name;
            rc = dbm_error_set(DBM_ECONFIG,
                               "migrations directory '%s' mixes layouts: '%s%s' (%s) and "
                               "'%s%s' (%s)",
                               dir, an,
                               a->kind == LAYOUT_PRISMA   ? "/migration.sql"
                               : a->kind == LAYOUT_DIESEL ? "/up.sql"
                                                          : "",
                               layout_name(a->kind), bn,
                               b->kind == LAYOUT_PRISMA   ? "/migration.sql"
                               : b->kind == LAYOUT_DIESEL ? "/up.sql"
                                                          : "",
                               layout_name(b->kind));
            dbm_error_hint("keep one format per directory, or set format to the one to read");
            return rc;
        }
        seen = k;
    }
    switch (seen) {
    case LAYOUT_NONE:
        *out = DBM_FORMAT_NATIVE;
        return 0;
    case LAYOUT_GOLANG:
        *out = DBM_FORMAT_GOLANG_MIGRATE;
        return 0;
    case LAYOUT_FLYWAY:
        *out = DBM_FORMAT_FLYWAY;
        return 0;
    case LAYOUT_DIESEL:
        *out = DBM_FORMAT_DIESEL;
        return 0;
    case LAYOUT_PRISMA:
        *out = DBM_FORMAT_PRISMA;
        return 0;
    default:
        break;
    }
    /* Flat files: the text decides between goose, dbmate and native. */
    for (size_t i = 0; i < list->count; i++) {
        entry *e = &list->items[i];
        flat_traits t;

        if (e->kind == LAYOUT_GOOSE_GO) {
            if (!goose)
                goose = e;
            continue;
        }
        if (e->kind != LAYOUT_FLAT)
            continue;
        if ((rc = load_entry(e, dfd, dir)) < 0)
            return rc;
        t = scan_traits(e->text, e->len);
        if (t.goose_up && !goose)
            goose = e;
        else if (t.migrate_up && !dbmate)
            dbmate = e;
    }
    if (goose && dbmate) {
        rc = dbm_error_set(DBM_ECONFIG,
                           "migrations directory '%s' mixes layouts: '%s' (goose) and '%s' "
                           "(dbmate)",
                           dir, goose->name, dbmate->name);
        dbm_error_hint("keep one format per directory, or set format to the one to read");
        return rc;
    }
    /*
     * Native reads dbmate's files as they are (same sections and directives) and
     * orders versions as numbers, which is dbmate's order whenever versions have
     * one length; so a dbmate directory is read as native unless format: dbmate
     * asks for dbmate's string order exactly.
     */
    *out = goose ? DBM_FORMAT_GOOSE : DBM_FORMAT_NATIVE;
    return 0;
}

/* ---- per-format loading ----------------------------------------------------------------- */

static dbm_migration *add_item(item_list *items, const char *sort_name)
{
    item *it;

    dbm_array_grow((void **)&items->items, &items->cap, items->count + 1, sizeof(item));
    it = &items->items[items->count++];
    it->sort_name = sort_name;
    return &it->m;
}

/* An item for a file named <digits>_<name><suffix>: version, name and path from the name. */
static dbm_migration *add_versioned(item_list *items, const char *file, size_t suffix_len)
{
    size_t d = leading_digits(file), n = strlen(file);
    dbm_migration *m = add_item(items, file);

    m->version = dbm_xstrndup(file, d);
    m->name = dbm_xstrndup(file + d + 1, n - d - 1 - suffix_len);
    m->path = dbm_xstrdup(file);
    return m;
}

static void migration_clear(dbm_migration *m)
{
    free(m->version);
    free(m->name);
    free(m->path);
    free(m->up);
    free(m->down);
    free(m->down_path);
    memset(m, 0, sizeof(*m));
}

static int no_up_marker(const char *dir, const char *name, const char *what)
{
    int rc = dbm_error_set(DBM_ECONFIG, "'%s/%s' has no '%s' line", dir, name, what);
    dbm_error_hint("the up section starts after a '%s' line", what);
    return rc;
}

static bool blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)s[i]))
            return false;
    return true;
}

/* native, dbmate, goose: <digits>_<name>.sql directly in the directory. */
static int load_flat(item_list *items, entry_list *list, int dfd, const char *dir,
                     dbm_format format)
{
    int rc = 0;

    for (size_t i = 0; i < list->count; i++) {
        entry *e = &list->items[i];
        dbm_migration *m;

        if (format == DBM_FORMAT_GOOSE && e->kind == LAYOUT_GOOSE_GO) {
            char *shown = dbm_printable(e->name);
            dbm_warn("skipping Go migration '%s': only SQL migrations are run", shown);
            free(shown);
            continue;
        }
        if (e->kind == LAYOUT_GOLANG && format == DBM_FORMAT_NATIVE) {
            char *shown = dbm_printable(e->name);
            rc = dbm_error_set(DBM_ECONFIG, "'%s' is named like a golang-migrate file", shown);
            dbm_error_hint("native migrations are <version>_<name>.sql with '-- migrate:up' "
                           "and '-- migrate:down' sections; or set format: golang-migrate");
            free(shown);
            return rc;
        }
        if (e->kind != LAYOUT_FLAT) {
            if (format == DBM_FORMAT_NATIVE && !e->is_dir && leading_digits(e->name) > 0 &&
                ends_with(e->name, strlen(e->name), ".sql")) {
                char *shown = dbm_printable(e->name);
                dbm_warn("skipping '%s': not named <version>_<name>.sql", shown);
                free(shown);
            }
            continue;
        }
        if ((rc = load_entry(e, dfd, dir)) < 0)
            return rc;
        m = add_versioned(items, e->name, strlen(".sql"));
        if (format == DBM_FORMAT_GOOSE)
            rc = split_goose(m, e->text, e->len);
        else
            rc = split_dbmate(m, e->text, e->len, format == DBM_FORMAT_NATIVE);
        if (rc == DBM_ENOTFOUND) {
            if (!blank(e->text, e->len))
                return no_up_marker(dir, e->name,
                                    format == DBM_FORMAT_GOOSE ? "-- +goose Up" : "-- migrate:up");
            rc = 0;
            set_section(&m->up, &m->up_len, &m->up_line, e->text, 0, e->len);
        }
    }
    return rc;
}

/* golang-migrate: <digits>_<name>.up.sql with an optional .down.sql of the same version. */
static int load_golang(item_list *items, entry_list *list, int dfd, const char *dir)
{
    int rc = 0;

    for (size_t i = 0; i < list->count; i++) {
        entry *e = &list->items[i];
        dbm_migration *m;

        if (e->kind != LAYOUT_GOLANG || !ends_with(e->name, strlen(e->name), ".up.sql"))
            continue;
        if ((rc = load_entry(e, dfd, dir)) < 0)
            return rc;
        m = add_versioned(items, e->name, strlen(".up.sql"));
        set_section(&m->up, &m->up_len, &m->up_line, e->text, 0, e->len);
    }
    return rc;
}

static int item_cmp_format;

static int item_cmp(const void *a, const void *b)
{
    const item *x = a, *y = b;
    int c = dbm_version_cmp((dbm_format)item_cmp_format, x->m.version, y->m.version);
    return c ? c : strcmp(x->sort_name, y->sort_name);
}

static item *find_item(item_list *items, dbm_format format, const char *version)
{
    size_t lo = 0, hi = items->count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = dbm_version_cmp(format, items->items[mid].m.version, version);
        if (c == 0)
            return &items->items[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int duplicate_down(const char *dir, const char *a, const char *b, const char *version)
{
    int rc = dbm_error_set(DBM_ECONFIG, "'%s' and '%s' in '%s' are both the down of version '%s'",
                           a, b, dir, version);
    dbm_error_hint("keep one down file per version");
    return rc;
}

/* Attach golang-migrate .down.sql files to the (sorted) up migrations of their version. */
static int attach_golang_downs(item_list *items, entry_list *list, int dfd, const char *dir)
{
    int rc = 0;

    for (size_t i = 0; i < list->count; i++) {
        entry *e = &list->items[i];
        char *version;
        item *it;

        if (e->kind != LAYOUT_GOLANG || !ends_with(e->name, strlen(e->name), ".down.sql"))
            continue;
        version = dbm_xstrndup(e->name, leading_digits(e->name));
        it = find_item(items, DBM_FORMAT_GOLANG_MIGRATE, version);
        free(version);
        if (!it)
            continue; /* a down without its up: nothing to roll back */
        if (it->m.down_path)
            return duplicate_down(dir, it->m.down_path, e->name, it->m.version);
        if ((rc = load_entry(e, dfd, dir)) < 0)
            return rc;
        set_section(&it->m.down, &it->m.down_len, &it->m.down_line, e->text, 0, e->len);
        it->m.down_path = dbm_xstrdup(e->name);
    }
    return rc;
}

/* Trim blanks, drop a '#' comment, and split "key = value". False if the line is not one. */
static bool toml_pair(char *line, char **key, char **value)
{
    char *eq, *hash, *end;

    hash = strchr(line, '#');
    if (hash)
        *hash = '\0';
    eq = strchr(line, '=');
    if (!eq)
        return false;
    *eq = '\0';
    *key = line;
    *value = eq + 1;
    while (**key == ' ' || **key == '\t')
        (*key)++;
    while (**value == ' ' || **value == '\t')
        (*value)++;
    for (end = *key + strlen(*key); end > *key && (end[-1] == ' ' || end[-1] == '\t');)
        *--end = '\0';
    for (end = *value + strlen(*value); end > *value && (end[-1] == ' ' || end[-1] == '\t');)
        *--end = '\0';
    return **key != '\0';
}

/*
 * Whether a key=value config text sets `key` to false (case-insensitive value).
 * `tables` stops at the first [table] header (TOML: the key must be top-level).
 */
static bool config_false(char *text, const char *key, bool tables)
{
    char *save = NULL, *line;
    bool result = false;

    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *k, *v;
        const char *p = line;

        while (*p == ' ' || *p == '\t')
            p++;
        if (tables && *p == '[')
            break;
        if (!toml_pair(line, &k, &v))
            continue;
        if (strcmp(k, key) == 0 ||
            (!tables && dbm_starts_with(k, "flyway.") && strcmp(k + 7, key) == 0))
            result = strcasecmp(v, "false") == 0;
    }
    return result;
}

/* Flyway: V<ver>__<desc>.sql, R__<desc>.sql; U<ver>__<desc>.sql as the down of V<ver>. */
static int load_flyway(item_list *items, entry_list *list, int dfd, const char *dir)
{
    int rc = 0;

    for (size_t i = 0; i < list->count; i++) {
        entry *e = &list->items[i];
        size_t n = strlen(e->name), vl = 0;
        dbm_migration *m;
        char *conf_name, *conf = NULL;
        size_t conf_len;

        if (e->kind != LAYOUT_FLYWAY || e->name[0] == 'U')
            continue;
        if ((rc = load_entry(e, dfd, dir)) < 0)
            return rc;
        m = add_item(items, e->name);
        m->path = dbm_xstrdup(e->name);
        if (e->name[0] == 'R') {
            m->version = dbm_xstrndup(e->name, n - 4);
            m->name = dbm_xstrndup(e->name + 3, n - 3 - 4);
            m->repeatable = true;
        } else {
            flyway_version(e->name + 1, &vl);
            m->version = dbm_xstrndup(e->name + 1, vl);
            for (char *p = m->version; *p; p++)
                if (*p == '_')
                    *p = '.';
            m->name = dbm_xstrndup(e->name + 1 + vl + 2, n - 1 - vl - 2 - 4);
        }
        for (char *p = m->name; *p; p++)
            if (*p == '_')
                *p = ' ';
        set_section(&m->up, &m->up_len, &m->up_line, e->text, 0, e->len);

        conf_name = dbm_xasprintf("%s.conf", e->name);
        rc = mig_read_text(&conf, &conf_len, dfd, dir, conf_name, true);
        free(conf_name);
        if (rc == DBM_ENOTFOUND) {
            rc = 0;
            continue;
        }
        if (rc < 0)
            return rc;
        m->no_transaction = config_false(conf, "executeInTransaction", false);
        free(conf);
    }
    return rc;
}

static int attach_flyway_undos(item_list *items, entry_list *list, int dfd, const char *dir)
{
    int rc = 0;

    for (size_t i = 0; i < list->count; i++) {
        entry *e = &list->items[i];
        size_t vl = 0;
        char *version;
        item *it;

        if (e->kind != LAYOUT_FLYWAY || e->name[0] != 'U')
            continue;
        flyway_version(e->name + 1, &vl);
        version = dbm_xstrndup(e->name + 1, vl);
        for (char *p = version; *p; p++)
            if (*p == '_')
                *p = '.';
        it = find_item(items, DBM_FORMAT_FLYWAY, version);
        free(version);
        if (!it)
            continue;
        if (it->m.down_path)
            return duplicate_down(dir, it->m.down_path, e->name, it->m.version);
        if ((rc = load_entry(e, dfd, dir)) < 0)
            return rc;
        set_section(&it->m.down, &it->m.down_len, &it->m.down_line, e->text, 0, e->len);
        it->m.down_path = dbm_xstrdup(e->name);
    }
    return rc;
}

/* diesel and Prisma: one folder per migration. */
static int load_folders(item_list *items, entry_list *list, int dfd, const char *dir,
                        dbm_format format)
{
    layout want = format == DBM_FORMAT_DIESEL ? LAYOUT_DIESEL : LAYOUT_PRISMA;
    int rc = 0;

    for (size_t i = 0; i < list->count; i++) {
        entry *e = &list->items[i];
        const char *us;
        char *rel = NULL, *text = NULL;
        size_t len;
        dbm_migration *m;

        if (e->kind != want && !(want == LAYOUT_DIESEL && e->is_dir && e->kind == LAYOUT_PRISMA))
            continue;
        if (want == LAYOUT_DIESEL && e->kind == LAYOUT_PRISMA) {
            /* a folder with migration.sql may still hold up.sql */
            char *probe = dbm_xasprintf("%s/up.sql", e->name);
            bool ok = exists_at(dfd, probe);
            free(probe);
            if (!ok)
                continue;
        }
        if (has_control(e->name))
            return bad_name(dir, e->name);
        us = strchr(e->name, '_');
        m = add_item(items, e->name);
        m->path =
            dbm_xasprintf("%s/%s", e->name, want == LAYOUT_DIESEL ? "up.sql" : "migration.sql");
        m->name = dbm_xstrdup(us ? us + 1 : e->name);
        if (want == LAYOUT_DIESEL) {
            size_t vl = us ? (size_t)(us - e->name) : strlen(e->name), w = 0;
            m->version = dbm_xmalloc(vl + 1);
            for (size_t k = 0; k < vl; k++)
                if (e->name[k] != '-')
                    m->version[w++] = e->name[k];
            m->version[w] = '\0';
        } else {
            m->version = dbm_xstrdup(e->name);
        }
        rc = mig_read_text(&text, &len, dfd, dir, m->path, false);
        if (rc < 0)
            return rc;
        m->up = text;
        m->up_len = len;
        m->up_line = 1;
        if (want != LAYOUT_DIESEL)
            continue;

        rel = dbm_xasprintf("%s/down.sql", e->name);
        rc = mig_read_text(&text, &len, dfd, dir, rel, true);
        if (rc == 0) {
            m->down = text;
            m->down_len = len;
            m->down_line = 1;
            m->down_path = rel;
            rel = NULL;
        }
        free(rel);
        if (rc < 0 && rc != DBM_ENOTFOUND)
            return rc;

        rel = dbm_xasprintf("%s/metadata.toml", e->name);
        rc = mig_read_text(&text, &len, dfd, dir, rel, true);
        free(rel);
        if (rc == 0) {
            m->no_transaction = config_false(text, "run_in_transaction", true);
            free(text);
        }
        if (rc < 0 && rc != DBM_ENOTFOUND)
            return rc;
        rc = 0;
    }
    return rc;
}

/*
 * dbmate orders versions as strings. When that differs from numeric order
 * (versions of different lengths), say so once: it is what dbmate does, but
 * rarely what a set of 1_, 2_, 10_ files means.
 */
static void warn_dbmate_order(const item_list *items)
{
    for (size_t i = 1; i < items->count; i++) {
        const dbm_migration *a = &items->items[i - 1].m, *b = &items->items[i].m;
        if (native_cmp(a->version, b->version) > 0) {
            char *x = dbm_printable(a->path), *y = dbm_printable(b->path);
            dbm_warn("dbmate order runs '%s' before '%s' (versions compare as strings); set "
                     "format: native for numeric order",
                     x, y);
            free(x);
            free(y);
            return;
        }
    }
}

int dbm_migrations_load(dbm_migration_set **out, const char *dir, dbm_format format)
{
    entry_list list = {NULL, 0, 0};
    item_list items = {NULL, 0, 0};
    dbm_migration_set *set = NULL;
    int dfd = -1, rc;

    *out = NULL;
    if ((rc = list_dir(&list, &dfd, dir)) < 0)
        goto done;
    classify_entries(&list, dfd);
    read_ahead(&list, dfd, dir);
    if (format == DBM_FORMAT_AUTO && (rc = detect(&format, &list, dfd, dir)) < 0)
        goto done;

    switch (format) {
    case DBM_FORMAT_GOLANG_MIGRATE:
        rc = load_golang(&items, &list, dfd, dir);
        break;
    case DBM_FORMAT_FLYWAY:
        rc = load_flyway(&items, &list, dfd, dir);
        break;
    case DBM_FORMAT_DIESEL:
    case DBM_FORMAT_PRISMA:
        rc = load_folders(&items, &list, dfd, dir, format);
        break;
    default:
        rc = load_flat(&items, &list, dfd, dir, format);
        break;
    }
    if (rc < 0)
        goto done;

    item_cmp_format = (int)format;
    if (items.count > 1)
        qsort(items.items, items.count, sizeof(item), item_cmp);
    for (size_t i = 1; i < items.count; i++) {
        const dbm_migration *a = &items.items[i - 1].m, *b = &items.items[i].m;
        if (dbm_version_cmp(format, a->version, b->version) == 0) {
            rc = dbm_error_set(DBM_ECONFIG, "'%s' and '%s' in '%s' have the same version '%s'",
                               a->path, b->path, dir, b->version);
            dbm_error_hint("give each migration its own version");
            goto done;
        }
    }
    if (format == DBM_FORMAT_GOLANG_MIGRATE &&
        (rc = attach_golang_downs(&items, &list, dfd, dir)) < 0)
        goto done;
    if (format == DBM_FORMAT_FLYWAY && (rc = attach_flyway_undos(&items, &list, dfd, dir)) < 0)
        goto done;
    if (format == DBM_FORMAT_DBMATE)
        warn_dbmate_order(&items);

    set = dbm_xcalloc(1, sizeof(*set));
    set->format = format;
    set->dir = dbm_xstrdup(dir);
    set->count = items.count;
    set->items = dbm_xcalloc(items.count ? items.count : 1, sizeof(dbm_migration));
    for (size_t i = 0; i < items.count; i++) {
        dbm_migration *m = &set->items[i];
        *m = items.items[i].m;
        dbm_checksum(m->checksum, m->up, m->up_len);
    }
    items.count = 0; /* moved into the set */
    *out = set;
done:
    for (size_t i = 0; i < items.count; i++)
        migration_clear(&items.items[i].m);
    free(items.items);
    for (size_t i = 0; i < list.count; i++) {
        free(list.items[i].name);
        free(list.items[i].text);
        dbm_saved_error_free(&list.items[i].read_error);
    }
    free(list.items);
    if (dfd >= 0)
        close(dfd);
    return rc;
}

void dbm_migrations_free(dbm_migration_set *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->count; i++)
        migration_clear(&set->items[i]);
    free(set->items);
    free(set->dir);
    free(set);
}

const dbm_migration *dbm_migrations_find(const dbm_migration_set *set, const char *version)
{
    size_t lo = 0, hi;

    if (!set || !version)
        return NULL;
    hi = set->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = dbm_version_cmp(set->format, set->items[mid].version, version);
        if (c == 0)
            return &set->items[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
