/*
 * rules_ignore.c - the ignore comments of a section:
 *
 *     -- db-migrate:ignore RULE[,RULE...]
 *
 * Found with libpg_query's scanner, which returns comments as tokens, so
 * "--" inside a string is never mistaken for one. Its result is read here
 * straight from the protobuf bytes: only the start and end of each token
 * are needed.
 */
#include "sql/rules_internal.h"

#include "common/util.h"

#include <pg_query.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define IGNORE_MARK "db-migrate:ignore"

static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    *v = 0;
    for (int shift = 0; *p < end && shift < 64; shift += 7) {
        uint8_t b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

/* Skip a field of wire type `wt`; false on malformed input. */
static bool skip_field(const uint8_t **p, const uint8_t *end, unsigned wt)
{
    uint64_t v;
    switch (wt) {
    case 0:
        return read_varint(p, end, &v);
    case 1:
        if (end - *p < 8)
            return false;
        *p += 8;
        return true;
    case 2:
        if (!read_varint(p, end, &v) || v > (uint64_t)(end - *p))
            return false;
        *p += v;
        return true;
    case 5:
        if (end - *p < 4)
            return false;
        *p += 4;
        return true;
    default:
        return false;
    }
}

static void add_ignore(ignore_list *l, const char *sql, size_t len, size_t start, size_t end)
{
    const char *mark;
    char *text;
    ignore_comment *c;
    size_t i;

    if (end > len || start >= end || end - start < 2)
        return;
    if (!(sql[start] == '-' && sql[start + 1] == '-') &&
        !(sql[start] == '/' && sql[start + 1] == '*'))
        return;
    text = dbm_xstrndup(sql + start, end - start);
    mark = strstr(text, IGNORE_MARK);
    if (!mark) {
        free(text);
        return;
    }
    dbm_array_grow((void **)&l->items, &l->cap, l->count + 1, sizeof(*l->items));
    c = &l->items[l->count++];
    c->offset = start;
    for (; l->pos < start; l->pos++)
        if (sql[l->pos] == '\n')
            l->line++;
    c->line = l->line;
    c->alone = true;
    for (i = start; i > 0 && sql[i - 1] != '\n'; i--)
        if (sql[i - 1] != ' ' && sql[i - 1] != '\t')
            c->alone = false;
    c->rules = dbm_xstrdup(mark + strlen(IGNORE_MARK));
    if (sql[start] == '/') {
        char *close = strstr(c->rules, "*/");
        if (close)
            *close = '\0';
    }
    free(text);
}

/*
 * Comments holding the ignore mark, from libpg_query's scanner. Its result is a
 * protobuf ScanResult { repeated ScanToken tokens = 2 } with ScanToken
 * { int32 start = 1; int32 end = 2; ... }; a comment is a token whose text
 * starts with "--" or a slash-star, which no other token can. If the text does not
 * scan, there are no ignore comments (the statements were split already).
 */
void dbm_rules_ignores_find(ignore_list *l, const char *sql, size_t len)
{
    PgQueryScanResult sr;
    const uint8_t *p, *end;

    if (!strstr(sql, IGNORE_MARK))
        return;
    l->pos = 0;
    l->line = 1;
    sr = pg_query_scan(sql);
    if (sr.error)
        goto done;
    p = (const uint8_t *)sr.pbuf.data;
    end = p + sr.pbuf.len;
    while (p < end) {
        uint64_t key, n;
        if (!read_varint(&p, end, &key))
            break;
        if (key == ((2 << 3) | 2)) {
            const uint8_t *tend;
            uint64_t start = 0, stop = 0;
            if (!read_varint(&p, end, &n) || n > (uint64_t)(end - p))
                break;
            tend = p + n;
            while (p < tend) {
                uint64_t k, v;
                if (!read_varint(&p, tend, &k))
                    break;
                if ((k & 7) == 0 && ((k >> 3) == 1 || (k >> 3) == 2)) {
                    if (!read_varint(&p, tend, &v))
                        break;
                    if ((k >> 3) == 1)
                        start = v;
                    else
                        stop = v;
                } else if (!skip_field(&p, tend, (unsigned)(k & 7))) {
                    break;
                }
            }
            p = tend;
            add_ignore(l, sql, len, (size_t)start, (size_t)stop);
        } else if (!skip_field(&p, end, (unsigned)(key & 7))) {
            break;
        }
    }
done:
    pg_query_free_scan_result(sr);
}

static bool list_has_rule(const char *list, const char *rule)
{
    size_t n = strlen(rule);
    const char *p = list;

    while (*p) {
        size_t w;
        while (*p == ' ' || *p == ',' || *p == '\t')
            p++;
        w = strcspn(p, " ,\t\r\n");
        if (w == n && strncmp(p, rule, n) == 0)
            return true;
        p += w;
    }
    return false;
}

/*
 * Whether an ignore comment silences `rule` for statement `i`: a comment alone on
 * the line just above the statement, or a comment on the statement's first line
 * after the statement starts (and before any later statement on that line starts).
 */
bool dbm_rules_ignored(const ignore_list *l, const dbm_stmt_list *stmts, size_t i, const char *rule)
{
    const dbm_stmt *st = &stmts->items[i];
    size_t next = i + 1 < stmts->count ? stmts->items[i + 1].offset : SIZE_MAX;
    size_t lo = 0, hi = l->count;

    /* The comments are in text order: find the first on the line above the statement. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (l->items[mid].line < st->line - 1)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t k = lo; k < l->count && l->items[k].line <= st->line; k++) {
        const ignore_comment *c = &l->items[k];
        bool mine = (c->alone && c->line == st->line - 1) ||
                    (c->line == st->line && c->offset > st->offset && c->offset < next);
        if (mine && list_has_rule(c->rules, rule))
            return true;
    }
    return false;
}

void dbm_rules_ignores_free(ignore_list *l)
{
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i].rules);
    free(l->items);
    memset(l, 0, sizeof(*l));
}
