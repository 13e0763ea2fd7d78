/*
 * Sections and directives: marker lines found with a line iterator, then the
 * text between them copied out. Markers are comment lines, so only lines
 * starting with '-' are looked at.
 */
#include "migration/section.h"
#include "common/error.h"
#include "common/util.h"
#include "migration/read.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

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
static size_t after_line(size_t len, size_t end)
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

/* Whether the blank-separated words [p, end) include "transaction:false". */
static bool has_tx_false(const char *p, const char *end)
{
    bool found = false;

    while (p < end) {
        size_t w = 0;

        while (p < end && (*p == ' ' || *p == '\t'))
            p++;
        while (p + w < end && p[w] != ' ' && p[w] != '\t')
            w++;
        if (w == 17 && strncmp(p, "transaction:false", 17) == 0)
            found = true;
        p += w;
    }
    return found;
}

/* "-- migrate:up [options]", "-- migrate:down", "-- migrate:no-transaction". */
static mig_mark dbmate_mark(const char *line, size_t n, bool *tx_false)
{
    size_t rest;
    const char *p = comment_body(line, n, &rest);

    if (!p || rest < 8 || strncmp(p, "migrate:", 8) != 0)
        return MIG_MARK_NONE;
    if (word_at(p + 8, rest - 8, "up", false)) {
        if (tx_false && has_tx_false(p + 10, p + rest))
            *tx_false = true;
        return MIG_MARK_UP;
    }
    if (word_at(p + 8, rest - 8, "down", false))
        return MIG_MARK_DOWN;
    if (word_at(p + 8, rest - 8, "no-transaction", false))
        return MIG_MARK_NO_TX;
    return MIG_MARK_NONE;
}

/* "-- +goose Up", "-- +goose Down", "-- +goose NO TRANSACTION", any case, trailing blanks. */
static mig_mark goose_mark(const char *line, size_t n, bool *tx_false)
{
    size_t rest, i = 6;
    const char *p = comment_body(line, n, &rest);

    if (!p || rest < 7 || strncasecmp(p, "+goose", 6) != 0 || (p[6] != ' ' && p[6] != '\t'))
        return MIG_MARK_NONE;
    while (i < rest && (p[i] == ' ' || p[i] == '\t'))
        i++;
    if (word_at(p + i, rest - i, "up", true))
        return MIG_MARK_UP;
    if (word_at(p + i, rest - i, "down", true))
        return MIG_MARK_DOWN;
    if (word_at(p + i, rest - i, "no", true)) {
        i += 2;
        while (i < rest && (p[i] == ' ' || p[i] == '\t'))
            i++;
        if (word_at(p + i, rest - i, "transaction", true))
            return MIG_MARK_NO_TX;
    }
    return MIG_MARK_NONE;
}

const mig_sections mig_sections_native = {dbmate_mark, "-- migrate:up", true, true};
const mig_sections mig_sections_dbmate = {dbmate_mark, "-- migrate:up", false, false};
const mig_sections mig_sections_goose = {goose_mark, "-- +goose Up", false, true};

/* Where the first up and first down markers are, and what the directives say. */
typedef struct {
    bool have_up, have_down, no_tx;
    size_t up_at, up_start;     /* the up marker line, and the line after it */
    size_t down_at, down_start; /* the same for the down marker */
} marks;

static marks find_marks(const char *s, size_t len, const mig_sections *syntax)
{
    marks k = {false, false, false, 0, 0, 0, 0};
    line_iter it = {s, len, 0};
    size_t a, b;

    while (next_line(&it, &a, &b)) {
        mig_mark mk;

        if (b - a < 2 || s[a] != '-')
            continue;
        /* only the first up marker's options count */
        mk = syntax->mark(s + a, b - a, k.have_up ? NULL : &k.no_tx);
        if (mk == MIG_MARK_UP && !k.have_up) {
            k.have_up = true;
            k.up_at = a;
            k.up_start = after_line(len, b);
        } else if (mk == MIG_MARK_DOWN && !k.have_down) {
            k.have_down = true;
            k.down_at = a;
            k.down_start = after_line(len, b);
        } else if (mk == MIG_MARK_NO_TX && syntax->no_tx_directive) {
            k.no_tx = true;
        }
    }
    return k;
}

void mig_set_section(char **text, size_t *tlen, int *line, const char *s, size_t start, size_t end)
{
    *text = dbm_xstrndup(s + start, end - start);
    *tlen = end - start;
    *line = mig_line_of(s, start);
}

int mig_sections_split(dbm_migration *m, const char *s, size_t len, const mig_sections *syntax)
{
    marks k = find_marks(s, len, syntax);

    if (!k.have_up && !syntax->up_optional)
        return DBM_ENOTFOUND;
    if (k.no_tx)
        m->no_transaction = true;
    if (!k.have_up) /* the text before any down marker is up */
        mig_set_section(&m->up, &m->up_len, &m->up_line, s, 0, k.have_down ? k.down_at : len);
    else
        mig_set_section(&m->up, &m->up_len, &m->up_line, s, k.up_start,
                        k.have_down && k.down_at > k.up_at ? k.down_at : len);
    if (k.have_down) {
        mig_set_section(&m->down, &m->down_len, &m->down_line, s, k.down_start,
                        k.have_up && k.up_at > k.down_at ? k.up_at : len);
        m->down_path = dbm_xstrdup(m->path);
    }
    return 0;
}

bool mig_blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)s[i]))
            return false;
    return true;
}

mig_flat_traits mig_scan_traits(const char *s, size_t len)
{
    mig_flat_traits t = {false, false};
    line_iter it = {s, len, 0};
    size_t a, b;

    while (next_line(&it, &a, &b)) {
        if (b - a < 2 || s[a] != '-')
            continue;
        if (goose_mark(s + a, b - a, NULL) == MIG_MARK_UP)
            t.goose_up = true;
        if (dbmate_mark(s + a, b - a, NULL) == MIG_MARK_UP)
            t.migrate_up = true;
    }
    return t;
}

/* Trim blanks, drop a '#' comment, and split "key = value". False if the line is not one. */
static bool config_pair(char *line, char **key, char **value)
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

bool mig_config_false(char *text, const char *key, const char *alias, bool toml)
{
    char *save = NULL, *line;
    bool result = false;

    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *k, *v;
        const char *p = line;

        while (*p == ' ' || *p == '\t')
            p++;
        if (toml && *p == '[')
            break;
        if (!config_pair(line, &k, &v))
            continue;
        if (strcmp(k, key) == 0 || (alias && strcmp(k, alias) == 0))
            result = strcasecmp(v, "false") == 0;
    }
    return result;
}
