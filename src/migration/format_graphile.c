/*
 * format_graphile.c - graphile-migrate's committed migrations, read with its
 * own rules (graphile/migrate src/migration.ts, src/hash.ts, src/header.ts):
 *
 * - committed/<digits>[-slug].sql under the migrations directory (or the
 *   files in the directory itself when it is the committed folder), in order
 *   of the number;
 * - header lines "--! Key: value" (a capital first letter), then a blank
 *   line, then the body: the migration;
 * - "--! Previous:" (the previous file's hash, "-" for the first) and
 *   "--! Hash:" (sha1 of the previous hash, a newline and the body, trimmed,
 *   plus a newline): the chain is graphile-migrate's edit detection, checked
 *   here so plan, verify and apply all refuse an edited committed file, as
 *   graphile-migrate does; "--! AllowInvalidHash" lets one file's hash differ;
 * - "--! no-transaction" as the body's first line: outside a transaction;
 * - :NAME placeholders, substituted by dbm_migrations_placeholders.
 */
#include "common/error.h"
#include "common/log.h"
#include "common/sha1.h"
#include "common/util.h"
#include "migration/format.h"
#include "migration/read.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COMMITTED "committed"

/* <digits>[-slug].sql with a slug of [-_a-zA-Z0-9]: *ndigits is the number's length. */
static bool gm_name(const char *name, size_t *ndigits)
{
    size_t d = mig_leading_digits(name), n = strlen(name);

    if (d == 0 || !mig_ends_with(name, n, ".sql"))
        return false;
    if (name[d] == '-') {
        for (size_t i = d; i < n - 4; i++) {
            char c = name[i];
            if (!(c == '-' || c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (c >= '0' && c <= '9')))
                return false;
        }
    } else if (d != n - 4) {
        return false;
    }
    if (ndigits)
        *ndigits = d;
    return true;
}

/* Whether [s, s + n) is a header line: "--! " then a capital, [a-zA-Z0-9_]*, then ':' or its end.
 */
static bool header_line(const char *s, size_t n, size_t *key_len)
{
    size_t i = 4;

    if (n < 5 || memcmp(s, "--! ", 4) != 0 || s[4] < 'A' || s[4] > 'Z')
        return false;
    while (i < n && (s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
                     (s[i] >= '0' && s[i] <= '9')))
        i++;
    if (i < n && s[i] != ':')
        return false;
    *key_len = i - 4;
    return true;
}

/* Whether a file's text starts with a header block holding "--! Previous:". */
static bool has_previous_header(const char *s, size_t len)
{
    size_t pos = 0, key;

    while (pos < len) {
        const char *nl = memchr(s + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (s + pos)) : len - pos;

        if (!header_line(s + pos, n, &key))
            return false;
        if (key == 8 && memcmp(s + pos + 4, "Previous", 8) == 0)
            return true;
        pos += n + 1;
    }
    return false;
}

/* Whether the file `rel` under dfd starts like a committed migration (its first 4 KiB). */
static bool file_has_headers(int dfd, const char *rel)
{
    char buf[4096];
    int fd = openat(dfd, rel, O_RDONLY | O_CLOEXEC);
    ssize_t n;

    if (fd < 0)
        return false;
    n = read(fd, buf, sizeof(buf));
    close(fd);
    return n > 0 && has_previous_header(buf, (size_t)n);
}

static bool is_dir_at(int dfd, const char *rel)
{
    struct stat st;
    return fstatat(dfd, rel, &st, 0) == 0 && S_ISDIR(st.st_mode);
}

/* The migration file names of the folder `sub` (relative to dfd), sorted by number then name. */
static int list_committed(char ***out, size_t *count, int dfd, const char *sub, const char *dir)
{
    int fd = openat(dfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    struct dirent *de;
    size_t cap = 0;

    *out = NULL;
    *count = 0;
    if (!d) {
        if (fd >= 0)
            close(fd);
        return dbm_error_set(DBM_EGENERIC, "unable to read '%s/%s'", dir, sub);
    }
    while ((de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.' || !gm_name(de->d_name, NULL))
            continue;
        dbm_array_grow((void **)out, &cap, *count + 1, sizeof(char *));
        (*out)[(*count)++] = dbm_xstrdup(de->d_name);
    }
    closedir(d);
    return 0;
}

static int name_cmp(const void *a, const void *b)
{
    const char *x = *(const char *const *)a, *y = *(const char *const *)b;
    size_t dx = mig_leading_digits(x), dy = mig_leading_digits(y);
    const char *px = x, *py = y;
    int c;

    while (dx > 1 && *px == '0')
        px++, dx--;
    while (dy > 1 && *py == '0')
        py++, dy--;
    if (dx != dy)
        return dx < dy ? -1 : 1;
    if ((c = memcmp(px, py, dx)) != 0)
        return c;
    return strcmp(x, y);
}

bool mig_graphile_claims(const mig_entry_list *list, int dfd)
{
    for (size_t i = 0; i < list->count; i++) {
        const mig_entry *e = &list->items[i];
        char **names = NULL;
        size_t n = 0;
        bool found = false;

        if (!e->is_dir && gm_name(e->name, NULL) && file_has_headers(dfd, e->name))
            return true;
        if (!e->is_dir || strcmp(e->name, COMMITTED) != 0)
            continue;
        if (list_committed(&names, &n, dfd, COMMITTED, "") < 0) {
            dbm_error_clear();
            continue;
        }
        for (size_t k = 0; k < n; k++) {
            char *rel = dbm_xasprintf("%s/%s", COMMITTED, names[k]);
            found = found || file_has_headers(dfd, rel);
            free(rel);
            free(names[k]);
        }
        free(names);
        if (found)
            return true;
    }
    return false;
}

/* What one committed file's headers say. */
typedef struct {
    char *previous; /* NULL for "-" */
    char *hash;
    bool allow_invalid;
    size_t body; /* offset of the body: after the headers and their blank line */
} gm_headers;

static int bad_file(const char *dir, const char *rel, const char *what, const char *hint)
{
    char *shown = mig_join(dir, rel);
    int rc = dbm_error_set(DBM_ECONFIG, "'%s' %s", shown, what);

    dbm_error_hint("%s", hint);
    free(shown);
    return rc;
}

/* The value of a header line (after "Key:"), trimmed, as a copy. */
static char *header_value(const char *s, size_t n, size_t key)
{
    size_t a = 4 + key + 1, b = n;

    if (4 + key >= n)
        return dbm_xstrdup("");
    while (a < b && (s[a] == ' ' || s[a] == '\t'))
        a++;
    while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
        b--;
    return dbm_xstrndup(s + a, b - a);
}

/* Store a header's value in h; DBM_ECONFIG for a header given twice. */
static int take_header(gm_headers *h, const char *line, size_t n, size_t key, const char *dir,
                       const char *rel)
{
    const char *k = line + 4;
    char **slot = NULL;

    if (key == 8 && memcmp(k, "Previous", 8) == 0)
        slot = &h->previous;
    else if (key == 4 && memcmp(k, "Hash", 4) == 0)
        slot = &h->hash;
    else if (key == 16 && memcmp(k, "AllowInvalidHash", 16) == 0)
        h->allow_invalid = true;
    if (!slot)
        return 0;
    if (*slot)
        return bad_file(dir, rel, "gives a header twice",
                        "keep one '--! Previous:' and one '--! Hash:' line");
    *slot = header_value(line, n, key);
    return 0;
}

static int parse_headers(gm_headers *h, const char *s, size_t len, const char *dir, const char *rel)
{
    size_t pos = 0, key;
    int rc;

    memset(h, 0, sizeof(*h));
    for (;;) {
        const char *nl = memchr(s + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (s + pos)) : len - pos;

        if (pos >= len || !header_line(s + pos, n, &key)) {
            if (pos >= len || n != 0)
                return bad_file(dir, rel, "has no blank line after its '--!' headers",
                                "graphile-migrate needs an empty line between the headers and "
                                "the migration");
            h->body = pos + 1;
            break;
        }
        if ((rc = take_header(h, s + pos, n, key, dir, rel)) < 0)
            return rc;
        pos += n + 1;
    }
    if (!h->previous)
        return bad_file(dir, rel, "has no '--! Previous:' header",
                        "committed graphile-migrate files start with '--! Previous:' and "
                        "'--! Hash:' lines; commit it with graphile-migrate");
    if (!h->hash)
        return bad_file(dir, rel, "has no '--! Hash:' header",
                        "committed graphile-migrate files start with '--! Previous:' and "
                        "'--! Hash:' lines; commit it with graphile-migrate");
    if (strcmp(h->previous, "-") == 0 || !*h->previous) {
        free(h->previous);
        h->previous = NULL;
    }
    return 0;
}

static bool js_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* graphile-migrate's hash: "sha1:" + sha1 of trim(previous + "\n" + body) + "\n". out[46]. */
static void chain_hash(char out[46], const char *previous, const char *body, size_t len)
{
    dbm_buf b = DBM_BUF_INIT;
    size_t a = 0, z;

    dbm_buf_puts(&b, previous ? previous : "");
    dbm_buf_putc(&b, '\n');
    dbm_buf_put(&b, body, len);
    z = b.len;
    while (a < z && js_space(b.ptr[a]))
        a++;
    while (z > a && js_space(b.ptr[z - 1]))
        z--;
    b.ptr[z] = '\n';
    memcpy(out, "sha1:", 5);
    dbm_sha1_hex(out + 5, b.ptr + a, z - a + 1);
    dbm_buf_free(&b);
}

/*
 * The body as graphile-migrate hashes it: the file's bytes after the headers, a CRLF body's
 * CRs kept (it splits lines at LF only). Headers ending in CRLF are no headers to it: it
 * refuses the file, and so does this. *raw (caller frees) holds the body at *off.
 */
static int raw_body(char **raw, size_t *off, size_t *len, int dfd, const char *dir, const char *rel,
                    const char *text, const gm_headers *h)
{
    size_t n = 0, bom;
    int rc = mig_read_raw(raw, &n, dfd, dir, rel);

    if (rc < 0)
        return rc;
    bom = n >= 3 && memcmp(*raw, "\xef\xbb\xbf", 3) == 0 ? 3 : 0;
    if (n - bom < h->body || memcmp(*raw + bom, text, h->body) != 0)
        return bad_file(dir, rel,
                        "has '--!' header lines ending in CRLF, which graphile-migrate "
                        "does not read as headers",
                        "check the file out with LF line endings, as graphile-migrate wrote it "
                        "(.gitattributes: *.sql text eol=lf)");
    *off = bom + h->body;
    *len = n - *off;
    return 0;
}

/* The chain at one file: its Previous names the last file's Hash, its Hash its body's. */
static int check_chain(const gm_headers *h, const char *last_hash, const char *last_rel,
                       const char *body, size_t body_len, const char *dir, const char *rel)
{
    char computed[46], *what;
    int rc;

    if ((last_hash == NULL) != (h->previous == NULL) ||
        (last_hash && strcmp(last_hash, h->previous) != 0)) {
        what = last_hash
                   ? dbm_xasprintf("does not follow '%s': its '--! Previous:' is '%s', the "
                                   "hash of '%s' is '%s'",
                                   last_rel, h->previous ? h->previous : "-", last_rel, last_hash)
                   : dbm_xasprintf("is the first migration but its '--! Previous:' is '%s'",
                                   h->previous);
        rc = bad_file(dir, rel, what,
                      "committed migrations form a chain: restore the committed files as "
                      "graphile-migrate wrote them");
        free(what);
        return rc;
    }
    chain_hash(computed, h->previous, body, body_len);
    if (strcmp(computed, h->hash) != 0 && !h->allow_invalid) {
        what = dbm_xasprintf("was edited after it was committed: its body hashes to %s, its "
                             "'--! Hash:' header says %s",
                             computed, h->hash);
        rc = bad_file(dir, rel, what,
                      "graphile-migrate refuses an edited committed migration: restore the file "
                      "(git checkout), put the change in a new migration, or add "
                      "'--! AllowInvalidHash' to its headers");
        free(what);
        return rc;
    }
    if (strcmp(computed, h->hash) == 0 && h->allow_invalid)
        return bad_file(dir, rel, "allows an invalid hash, but its hash matches",
                        "remove the '--! AllowInvalidHash' header, as graphile-migrate asks");
    return 0;
}

/* The item for one committed file whose headers end at h->body. */
static void add_migration(mig_item_list *items, const char *rel, const char *name, char *text,
                          size_t len, const gm_headers *h)
{
    dbm_migration *m = mig_item_add(items);
    size_t d = mig_leading_digits(name), n = strlen(name);
    const char *body = text + h->body;
    size_t first = strcspn(body, "\n");
    size_t i = 3;

    m->version = dbm_xstrndup(name, d);
    m->name = name[d] == '-' ? dbm_xstrndup(name + d + 1, n - d - 1 - 4)
                             : dbm_xasprintf("%.*s.sql", (int)d, name);
    m->path = dbm_xstrdup(rel);
    m->tool_hash = dbm_xstrdup(h->hash);
    mig_set_section(&m->up, &m->up_len, &m->up_line, text, h->body, len);
    /* /^--!\s*no-transaction\b/ on the body's first line */
    if (first >= 3 && memcmp(body, "--!", 3) == 0) {
        while (i < first && js_space(body[i]))
            i++;
        if (first - i >= 14 && memcmp(body + i, "no-transaction", 14) == 0 &&
            (i + 14 == first ||
             !(body[i + 14] == '_' || (body[i + 14] >= 'a' && body[i + 14] <= 'z') ||
               (body[i + 14] >= 'A' && body[i + 14] <= 'Z') ||
               (body[i + 14] >= '0' && body[i + 14] <= '9'))))
            m->no_transaction = true;
    }
}

int mig_graphile_load(mig_item_list *items, const mig_format *f, int dfd, const char *dir)
{
    const char *sub = is_dir_at(dfd, COMMITTED) ? COMMITTED : ".";
    char **names = NULL, *last_hash = NULL, *last_rel = NULL;
    size_t count = 0;
    int rc;

    (void)f;
    if ((rc = list_committed(&names, &count, dfd, sub, dir)) < 0)
        return rc;
    if (count > 1)
        qsort(names, count, sizeof(char *), name_cmp);
    for (size_t i = 0; i < count && rc == 0; i++) {
        char *rel =
            strcmp(sub, ".") == 0 ? dbm_xstrdup(names[i]) : dbm_xasprintf("%s/%s", sub, names[i]);
        char *text = NULL, *raw = NULL;
        size_t len = 0, off = 0, body_len = 0;
        gm_headers h;

        memset(&h, 0, sizeof(h));
        if ((rc = mig_read_text(&text, &len, dfd, dir, rel, false)) == 0 &&
            (rc = parse_headers(&h, text, len, dir, rel)) == 0 &&
            (rc = raw_body(&raw, &off, &body_len, dfd, dir, rel, text, &h)) == 0 &&
            (rc = check_chain(&h, last_hash, last_rel, raw + off, body_len, dir, rel)) == 0)
            add_migration(items, rel, names[i], text, len, &h);
        free(text);
        free(raw);
        free(h.previous);
        free(last_hash);
        free(last_rel);
        last_hash = h.hash;
        last_rel = rel;
    }
    free(last_hash);
    free(last_rel);
    for (size_t i = 0; i < count; i++)
        free(names[i]);
    free(names);
    return rc;
}

/* ---- placeholders ----------------------------------------------------------------------- */

typedef struct {
    char *name; /* with its ':' */
    char *value;
} gm_placeholder;

typedef struct {
    gm_placeholder *items;
    size_t count, cap;
} gm_placeholders;

static void ph_add(gm_placeholders *l, const char *name, size_t name_len, const char *value)
{
    bool colon = name_len > 0 && name[0] == ':';

    for (size_t i = 0; i < l->count; i++)
        if (strlen(l->items[i].name) == name_len + !colon &&
            strncmp(l->items[i].name + !colon, name, name_len) == 0)
            return; /* the first source to give a name wins */
    dbm_array_grow((void **)&l->items, &l->cap, l->count + 1, sizeof(gm_placeholder));
    l->items[l->count].name = dbm_xasprintf("%s%.*s", colon ? "" : ":", (int)name_len, name);
    l->items[l->count++].value = dbm_xstrdup(value);
}

static void ph_free(gm_placeholders *l)
{
    for (size_t i = 0; i < l->count; i++) {
        free(l->items[i].name);
        free(l->items[i].value);
    }
    free(l->items);
}

/* .gmrc text with comments blanked out (JSON5 allows // and slash-star comments). In place. */
static void blank_comments(char *s)
{
    for (char *p = s; *p; p++) {
        if (*p == '"' || *p == '\'') {
            char q = *p;
            for (p++; *p && *p != q; p++)
                if (*p == '\\' && p[1])
                    p++;
            if (!*p)
                return;
        } else if (p[0] == '/' && p[1] == '/') {
            while (*p && *p != '\n')
                *p++ = ' ';
            if (!*p)
                return;
        } else if (p[0] == '/' && p[1] == '*') {
            while (*p && !(p[0] == '*' && p[1] == '/'))
                *p++ = ' ';
            if (!*p)
                return;
            p[0] = p[1] = ' ';
            p++;
        }
    }
}

static const char *skip_ws(const char *p)
{
    while (*p && (js_space(*p) || *p == ','))
        p++;
    return p;
}

/* A JSON5 key or string at p: *out (caller frees) without quotes; returns the end, or NULL. */
static const char *read_token(const char *p, char **out)
{
    dbm_buf b = DBM_BUF_INIT;

    if (*p == '"' || *p == '\'') {
        char q = *p++;
        for (; *p && *p != q; p++) {
            if (*p == '\\' && p[1])
                p++;
            dbm_buf_putc(&b, *p);
        }
        if (!*p) {
            dbm_buf_free(&b);
            return NULL;
        }
        *out = dbm_buf_detach(&b);
        return p + 1;
    }
    while (*p == '_' || *p == '$' || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
           (*p >= '0' && *p <= '9'))
        dbm_buf_putc(&b, *p++);
    if (b.len == 0) {
        dbm_buf_free(&b);
        return NULL;
    }
    *out = dbm_buf_detach(&b);
    return p;
}

static const char *skip_blank(const char *p)
{
    while (*p && js_space(*p))
        p++;
    return p;
}

/* One member "key": value of the placeholders object at p; returns the end, or NULL at '}'. */
static const char *gmrc_member(gm_placeholders *l, const char *p, const char *path)
{
    char *key = NULL, *value = NULL;

    p = skip_ws(p);
    if (*p == '}' || !*p || !(p = read_token(p, &key)))
        return NULL;
    p = skip_blank(p);
    if (*p != ':') {
        free(key);
        return NULL;
    }
    p = skip_blank(p + 1);
    if (*p == '"' || *p == '\'') {
        p = read_token(p, &value);
        if (value && strcmp(value, "!ENV") == 0) {
            const char *env = getenv(key + (key[0] == ':'));
            if (env)
                ph_add(l, key, strlen(key), env);
            else
                dbm_warn("'%s': placeholder '%s' is \"!ENV\" but %s is not set", path, key,
                         key + (key[0] == ':'));
        } else if (value) {
            ph_add(l, key, strlen(key), value);
        }
    } else {
        p += strcspn(p, ",}");
    }
    free(key);
    free(value);
    return p;
}

/* The "placeholders" object of a .gmrc (JSON5): its string members, added to l. */
static void gmrc_placeholders(gm_placeholders *l, char *text, const char *path)
{
    const char *p = text;

    blank_comments(text);
    while ((p = strstr(p, "placeholders")) != NULL) {
        const char *q = p + 12;

        p = q;
        if (*q == '"' || *q == '\'')
            q++;
        q = skip_blank(q);
        if (*q != ':')
            continue;
        q = skip_blank(q + 1);
        if (*q != '{')
            continue;
        q++;
        while ((q = gmrc_member(l, q, path)) != NULL)
            ;
        return;
    }
}

/* A .gmrc in the migrations directory or the one above it (graphile-migrate's project root). */
static void read_gmrc(gm_placeholders *l, const char *dir)
{
    static const char *const where[] = {".gmrc", "../.gmrc", "../../.gmrc"};

    for (size_t i = 0; i < sizeof(where) / sizeof(where[0]); i++) {
        char *path = mig_join(dir, where[i]), *text = NULL;
        size_t len;

        if (i == 2 && !(strlen(dir) >= 9 && strstr(dir, COMMITTED))) {
            free(path);
            break; /* two levels up only from the committed folder itself */
        }
        if (mig_read_text(&text, &len, AT_FDCWD, "", path, true) == 0) {
            gmrc_placeholders(l, text, path);
            free(text);
            free(path);
            return;
        }
        dbm_error_clear();
        free(path);
    }
}

static bool word_char(char c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* graphile-migrate's replacement: at each position the first placeholder (in order) followed by a
 * word boundary is replaced. NULL when the text holds none. */
static char *replace_all(const char *text, size_t len, const gm_placeholders *l)
{
    dbm_buf b = DBM_BUF_INIT;
    const char *p = text, *end = text + len, *c;
    bool any = false;

    while ((c = memchr(p, ':', (size_t)(end - p))) != NULL) {
        const gm_placeholder *hit = NULL;

        for (size_t i = 0; i < l->count && !hit; i++) {
            size_t n = strlen(l->items[i].name);
            if ((size_t)(end - c) >= n && memcmp(c, l->items[i].name, n) == 0 &&
                (c + n == end || !word_char(c[n]) || !word_char(c[n - 1])))
                hit = &l->items[i];
        }
        dbm_buf_put(&b, p, (size_t)(c - p));
        if (hit) {
            dbm_buf_puts(&b, hit->value);
            p = c + strlen(hit->name);
            any = true;
        } else {
            dbm_buf_putc(&b, ':');
            p = c + 1;
        }
    }
    if (!any) {
        dbm_buf_free(&b);
        return NULL;
    }
    dbm_buf_put(&b, p, (size_t)(end - p));
    return dbm_buf_detach(&b);
}

int dbm_migrations_placeholders(dbm_migration_set *set, const dbm_placeholder *given, size_t n,
                                const char *database, const char *owner)
{
    gm_placeholders l = {NULL, 0, 0};

    if (!set || set->format != DBM_FORMAT_GRAPHILE_MIGRATE)
        return 0;
    for (size_t i = 0; i < n; i++)
        ph_add(&l, given[i].name, strlen(given[i].name), given[i].value);
    if (n == 0 && !database && !owner)
        read_gmrc(&l, set->dir);
    if (database)
        ph_add(&l, ":DATABASE_NAME", 14, database);
    if (owner)
        ph_add(&l, ":DATABASE_OWNER", 15, owner);
    for (size_t i = 0; l.count && i < set->count; i++) {
        dbm_migration *m = &set->items[i];
        char *out = replace_all(m->up, m->up_len, &l);
        if (out) {
            free(m->up);
            m->up = out;
            m->up_len = strlen(out);
        }
    }
    ph_free(&l);
    return 0;
}
