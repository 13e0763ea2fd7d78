/*
 * Atlas (ariga/atlas): the parts of its row that are its own.
 *
 * From sql/migrate/dir.go: LocalDir.Files takes every *.sql file of the
 * directory in name order; LocalFile.Version is the name without ".sql" up
 * to the first '_' and Desc what follows it; file directives
 * ("-- atlas:txmode none", "atlas:delimiter", "atlas:nolint", ...) count only
 * in the comment lines at the top of the file that a blank line separates
 * from the statements (LocalFile.comments); atlas.sum (NewHashFile) holds,
 * per file, base64 of a running SHA-256 over the name and bytes (as they are
 * on disk: CRLF and a BOM count) of every file up to it, and on its first
 * line "h1:" and the SHA-256 of those lines.
 * From cmd/atlas/internal/cmdapi/migrate.go: the default --tx-mode is
 * "file", one transaction per file; "none" runs statement by statement.
 */
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "migration/format.h"
#include "migration/read.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#define SUM_FILE "atlas.sum"

static mig_role atlas_role(const mig_format *f, const char *entry)
{
    return MIG_ROLE_UP;
}

/* The name without ".sql", up to its first '_'. */
static char *atlas_version(const mig_format *f, const char *entry)
{
    size_t n = strlen(entry) - strlen(".sql");
    const char *us = memchr(entry, '_', n);
    return dbm_xstrndup(entry, us ? (size_t)(us - entry) : n);
}

static char *atlas_name(const mig_format *f, const char *entry)
{
    size_t n = strlen(entry) - strlen(".sql");
    const char *us = memchr(entry, '_', n);
    return us ? dbm_xstrndup(us + 1, n - (size_t)(us - entry) - 1) : dbm_xstrdup("");
}

const mig_syntax mig_syntax_atlas = {atlas_role, atlas_version, atlas_name};

/*
 * The argument of directive `name` in the file's leading comment block
 * (copied into arg[size]); false when the file has none. Like atlas, the
 * block counts only when a blank line ends it.
 */
static bool directive(const char *s, size_t len, const char *name, char *arg, size_t size)
{
    const char *p = s, *end = s + len, *found = NULL;
    size_t nl = strlen(name), found_len = 0;

    while (p < end && (*p == '#' || (end - p >= 2 && p[0] == '-' && p[1] == '-'))) {
        const char *eol = memchr(p, '\n', (size_t)(end - p)), *at;

        if (!eol)
            return false; /* a file of comments only: atlas sees no blank line after them */
        for (at = p; at + 6 + nl <= eol; at++) {
            if (memcmp(at, "atlas:", 6) == 0 && memcmp(at + 6, name, nl) == 0 &&
                (at + 6 + nl == eol || at[6 + nl] == ' ' || at[6 + nl] == '\r' ||
                 at[6 + nl] == '\t')) {
                const char *a = at + 6 + nl;
                while (a < eol && (*a == ' ' || *a == '\t'))
                    a++;
                found = a;
                found_len = (size_t)(eol - a);
                while (found_len > 0 &&
                       (found[found_len - 1] == ' ' || found[found_len - 1] == '\t' ||
                        found[found_len - 1] == '\r'))
                    found_len--;
            }
        }
        p = eol + 1;
    }
    if (!found || p >= end || *p != '\n')
        return false;
    if (found_len >= size)
        found_len = size - 1;
    memcpy(arg, found, found_len);
    arg[found_len] = '\0';
    return true;
}

static int bad_directive(const char *dir, const char *name, const char *what, const char *hint)
{
    char *shown = dbm_printable(name);
    int rc = dbm_error_set(DBM_ECONFIG, "'%s/%s': %s", dir, shown, what);
    dbm_error_hint("%s", hint);
    free(shown);
    return rc;
}

int mig_atlas_each(dbm_migration *m, const mig_entry *e, const char *dir)
{
    char arg[64];

    if (directive(e->text, e->len, "txmode", arg, sizeof(arg))) {
        if (strcmp(arg, "none") == 0)
            m->no_transaction = true;
        else if (strcmp(arg, "file") != 0 && strcmp(arg, "all") != 0)
            return bad_directive(dir, e->name, "unknown atlas:txmode (none, file or all)",
                                 "write '-- atlas:txmode none' followed by a blank line");
    }
    if (directive(e->text, e->len, "delimiter", arg, sizeof(arg)))
        return bad_directive(dir, e->name,
                             "atlas:delimiter is not read: statements are split by PostgreSQL's "
                             "own parser",
                             "end each statement with ';' and remove the directive");
    return 0;
}

/* ---- atlas.sum ------------------------------------------------------------------------- */

typedef struct {
    char *name; /* a file it lists */
    char *hash; /* its hash, base64, without "h1:" */
} sum_line;

typedef struct {
    char *total; /* the first line's hash, without "h1:" */
    sum_line *lines;
    size_t count, cap;
} sum_file;

static void sum_free(sum_file *s)
{
    for (size_t i = 0; i < s->count; i++) {
        free(s->lines[i].name);
        free(s->lines[i].hash);
    }
    free(s->lines);
    free(s->total);
    memset(s, 0, sizeof(*s));
}

/* Parse atlas.sum: "h1:<total>" then "<name> h1:<hash>" lines. The name is what precedes the
 * last space (file names may hold spaces). */
static int sum_parse(sum_file *s, char *text, const char *dir)
{
    char *save = NULL;

    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *sp = strrchr(line, ' ');

        if (!s->total) {
            s->total = dbm_xstrdup(dbm_starts_with(line, "h1:") ? line + 3 : line);
            continue;
        }
        if (!sp || !dbm_starts_with(sp + 1, "h1:")) {
            int rc =
                dbm_error_set(DBM_ECONFIG, "'%s/" SUM_FILE "': unreadable line '%s'", dir, line);
            dbm_error_hint("atlas migrate hash writes the file again");
            return rc;
        }
        dbm_array_grow((void **)&s->lines, &s->cap, s->count + 1, sizeof(sum_line));
        s->lines[s->count].name = dbm_xstrndup(line, (size_t)(sp - line));
        s->lines[s->count++].hash = dbm_xstrdup(sp + 4);
    }
    return 0;
}

static const sum_line *sum_find(const sum_file *s, const char *name)
{
    for (size_t i = 0; i < s->count; i++)
        if (strcmp(s->lines[i].name, name) == 0)
            return &s->lines[i];
    return NULL;
}

static char *b64_digest(EVP_MD_CTX *ctx)
{
    EVP_MD_CTX *copy = EVP_MD_CTX_new();
    unsigned char md[SHA256_DIGEST_LENGTH];
    unsigned char out[4 * ((SHA256_DIGEST_LENGTH + 2) / 3) + 1];
    unsigned int mdlen = 0;

    EVP_MD_CTX_copy_ex(copy, ctx);
    EVP_DigestFinal_ex(copy, md, &mdlen);
    EVP_MD_CTX_free(copy);
    EVP_EncodeBlock(out, md, (int)mdlen);
    return dbm_xstrdup((const char *)out);
}

/*
 * Check the files against atlas.sum as atlas does: the running hash of each
 * file in name order, then the total over the lines. What differs is named
 * in items->tool_check, for plan and verify: it is atlas's own edit
 * detection (atlas refuses to run until the directory is hashed again).
 * Returns 0, or DBM_EGENERIC when a file cannot be read again.
 */
static int sum_verify(const sum_file *s, mig_item_list *items, int dfd, const char *dir)
{
    EVP_MD_CTX *run = EVP_MD_CTX_new(), *total = EVP_MD_CTX_new();
    const char *bad = NULL;
    char *h;
    int rc = 0;

    EVP_DigestInit_ex(run, EVP_sha256(), NULL);
    EVP_DigestInit_ex(total, EVP_sha256(), NULL);
    for (size_t i = 0; i < items->count; i++) {
        const mig_item *it = &items->items[i];
        const sum_line *l = sum_find(s, it->sort_name);
        char *raw = NULL;
        size_t raw_len = 0;

        /* LocalFile.Bytes(): the file as it is, CRLF and BOM kept */
        if ((rc = mig_read_raw(&raw, &raw_len, dfd, dir, it->m.path)) < 0)
            break;
        EVP_DigestUpdate(run, it->sort_name, strlen(it->sort_name));
        EVP_DigestUpdate(run, raw, raw_len);
        free(raw);
        h = b64_digest(run);
        if (!bad && (!l || strcmp(l->hash, h) != 0))
            bad = it->sort_name;
        EVP_DigestUpdate(total, it->sort_name, strlen(it->sort_name));
        EVP_DigestUpdate(total, h, strlen(h));
        free(h);
    }
    h = b64_digest(total);
    if (!bad && items->count != s->count)
        bad = SUM_FILE;
    if (!bad && strcmp(h, s->total) != 0)
        bad = SUM_FILE;
    free(h);
    if (bad && rc == 0) {
        char *shown = dbm_printable(bad);
        items->tool_check = dbm_xasprintf("'%s/" SUM_FILE "' does not match the files (first at "
                                          "'%s'): a file was edited, added or removed since "
                                          "'atlas migrate hash'",
                                          dir, shown);
        free(shown);
    }
    EVP_MD_CTX_free(run);
    EVP_MD_CTX_free(total);
    return rc;
}

int mig_atlas_order(mig_item_list *items, const mig_format *f, int dfd, const char *dir)
{
    sum_file sum = {NULL, NULL, 0, 0};
    char *text = NULL;
    size_t len;
    int rc;

    /* items are in name order already: entries are listed sorted, and loaded in that order */
    rc = mig_read_text(&text, &len, dfd, dir, SUM_FILE, true);
    if (rc == DBM_ENOTFOUND)
        rc = 0;
    else if (rc == 0 && (rc = sum_parse(&sum, text, dir)) == 0) {
        /* a .sql file atlas.sum does not list is not one of the migrations */
        for (size_t k = items->count; k-- > 0;) {
            if (sum_find(&sum, items->items[k].sort_name))
                continue;
            char *shown = dbm_printable(items->items[k].sort_name);
            dbm_warn("skipping '%s': not listed in " SUM_FILE " (run 'atlas migrate hash' if it "
                     "is a migration)",
                     shown);
            free(shown);
            mig_item_drop(items, k);
        }
        rc = sum_verify(&sum, items, dfd, dir);
    }
    free(text);
    sum_free(&sum);
    for (size_t k = 1; rc == 0 && k < items->count; k++) {
        if (f->cmp(items->items[k - 1].m.version, items->items[k].m.version) < 0)
            continue;
        rc = dbm_error_set(DBM_ECONFIG,
                           "'%s' and '%s' in '%s': atlas runs them in name order, "
                           "but their versions ('%s', '%s') do not follow it",
                           items->items[k - 1].m.path, items->items[k].m.path, dir,
                           items->items[k - 1].m.version, items->items[k].m.version);
        dbm_error_hint("give each file its own version: <version>_<name>.sql");
    }
    return rc;
}
