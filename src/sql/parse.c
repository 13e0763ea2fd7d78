/*
 * parse.c - statement splitting with libpg_query.
 *
 * The section is parsed once with pg_query_parse (the full PostgreSQL 18
 * grammar, so dollar quotes, nested comments, E'' strings and CREATE RULE
 * bodies holding ';' are handled by the real scanner) and its JSON is read
 * element by element with Jansson. Each element of its "stmts" array is a
 * RawStmt: the statement node under "stmt", and "stmt_location" / "stmt_len"
 * in bytes (each omitted when 0; a length of 0 means "to the end of the text",
 * as for a last statement without ';'). The location starts right after the
 * previous ';', so leading whitespace and comments are skipped to find the
 * first token. Each element is loaded on its own and walked for the tag
 * (tags.c) and the flags (classify.c). A section of ordinary size keeps the
 * loaded trees for the rules; a large one keeps only each statement's span of
 * JSON text in the parser's output, and the rules load them one at a time:
 * all of its trees at once, as Jansson nodes, would cost about a hundred
 * times the SQL's size (2 GB for a 20 MB data migration). A large section is also parsed in pieces
 * (see parse_in_pieces). "location" fields are byte offsets in the parsed text.
 */
#include "sql/parse.h"
#include "sql/parse_internal.h"

#include "common/error.h"
#include "common/log.h"
#include "common/util.h"

#include <jansson.h>
#include <pg_query.h>
#include <stdlib.h>
#include <string.h>

/* A byte that starts a character (not a UTF-8 continuation byte). */
static bool is_char_start(unsigned char c)
{
    return (c & 0xC0) != 0x80;
}

size_t dbm_sql_charpos_to_offset(const char *text, size_t len, long charpos)
{
    long chars = 0;

    if (charpos <= 1)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (is_char_start((unsigned char)text[i]) && ++chars == charpos)
            return i;
    }
    return len;
}

/* Line/column cursor that only moves forward, so that many statements in a
 * large section cost one pass over it. */
typedef struct {
    size_t pos;
    int line;
    int col;
} linecol_cursor;

static void cursor_advance(linecol_cursor *c, const char *text, size_t len, size_t offset)
{
    if (offset > len)
        offset = len;
    for (; c->pos < offset; c->pos++) {
        unsigned char ch = (unsigned char)text[c->pos];
        if (ch == '\n') {
            c->line++;
            c->col = 1;
        } else if (is_char_start(ch)) {
            c->col++;
        }
    }
}

void dbm_sql_linecol(const char *text, size_t len, size_t offset, int *line, int *col)
{
    linecol_cursor c = {0, 1, 1};

    cursor_advance(&c, text, len, offset);
    *line = c.line;
    *col = c.col;
}

/*
 * The first token at or after `pos`, before `end`. What libpg_query reports as
 * a statement's location starts right after the previous ';', so it may hold
 * whitespace and comments (PostgreSQL's scanner: "--" to end of line, and
 * nested slash-star comments) before the statement proper.
 */
static size_t skip_space_and_comments(const char *s, size_t pos, size_t end)
{
    while (pos < end) {
        char c = s[pos];
        if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
            pos++;
        } else if (c == '-' && pos + 1 < end && s[pos + 1] == '-') {
            while (pos < end && s[pos] != '\n')
                pos++;
        } else if (c == '/' && pos + 1 < end && s[pos + 1] == '*') {
            int depth = 1;
            pos += 2;
            while (pos < end && depth > 0) {
                if (s[pos] == '/' && pos + 1 < end && s[pos + 1] == '*') {
                    depth++;
                    pos += 2;
                } else if (s[pos] == '*' && pos + 1 < end && s[pos + 1] == '/') {
                    depth--;
                    pos += 2;
                } else {
                    pos++;
                }
            }
        } else {
            break;
        }
    }
    return pos;
}

/* ---- splitting ---- */

/* Record a parser error at PostgreSQL's 1-based character `cursorpos` in the section. */
static int parse_error(int *err_line, int *err_col, const char *sql, size_t len,
                       const PgQueryError *e)
{
    /* PostgreSQL quotes the text near the error as is, line breaks included: keep one line. */
    char *msg = dbm_printable(e->message ? e->message : "syntax error");
    int rc;

    if (e->cursorpos > 0)
        dbm_sql_linecol(sql, len, dbm_sql_charpos_to_offset(sql, len, e->cursorpos), err_line,
                        err_col);
    rc = dbm_error_set(DBM_EFAILED, "%s", msg);
    free(msg);
    return rc;
}

/* Take statement node `node` ({"IndexStmt": {...}}): its tag and flags. */
static int read_stmt(dbm_stmt *st, int *err_line, int *err_col, const json_t *node)
{
    void *it = json_object_iter((json_t *)node);
    const char *type = it ? json_object_iter_key(it) : NULL;
    const json_t *fields = it ? json_object_iter_value(it) : NULL;

    if (!type || !json_is_object(fields) || json_object_size(node) != 1) {
        *err_line = st->line;
        *err_col = st->col;
        return dbm_error_set(DBM_EFAILED, "unexpected parse tree for the statement at line %d",
                             st->line);
    }
    st->tag = dbm_sql_command_tag(type, fields);
    st->flags = dbm_sql_classify(type, fields);
    dbm_sql_documented_locks(st, type, fields);
    return 0;
}

/* A RawStmt's byte field (omitted when 0). */
static size_t raw_field(const json_t *raw, const char *key)
{
    json_int_t v = json_integer_value(json_object_get(raw, key));
    return v > 0 ? (size_t)v : 0;
}

static const char *skip_json_space(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
        p++;
    return p;
}

/*
 * The first element of the top-level "stmts" array in libpg_query's output
 * ({"version":180004,"stmts":[...]}; no "stmts" when there is no statement),
 * or NULL. Nothing before "stmts" is a string, so the first match is the key.
 */
static const char *stmts_array(const char *json, const char *end)
{
    const char *p = strstr(json, "\"stmts\"");

    if (!p)
        return NULL;
    p = skip_json_space(p + 7, end);
    if (p >= end || *p != ':')
        return NULL;
    p = skip_json_space(p + 1, end);
    return p < end && *p == '[' ? p + 1 : NULL;
}

/* The parser's outputs the statements' JSON spans point into (dbm_stmt_list.parsed). */
typedef struct {
    PgQueryParseResult *items;
    size_t count, cap;
} parse_outputs;

static void outputs_free(parse_outputs *o)
{
    if (!o)
        return;
    for (size_t i = 0; i < o->count; i++)
        pg_query_free_parse_result(o->items[i]);
    free(o->items);
    free(o);
}

#define PIECE_FAILED 1 /* a piece of a large section did not parse: parse it whole */

/*
 * Parse the piece [from, to) of the section and append its statements. `text`
 * is that piece, NUL-terminated; positions in the parser's output are
 * relative to it. A syntax error is recorded with its section position when
 * the piece is the whole section; a piece of a large one returns PIECE_FAILED
 * without a message, and the caller parses the whole section instead.
 */
static int parse_piece(dbm_stmt_list *list, size_t *cap, linecol_cursor *cur, int *err_line,
                       int *err_col, const char *sql, size_t len, const char *text, size_t from,
                       size_t to)
{
    parse_outputs *outs = list->parsed;
    PgQueryParseResult *pr;
    json_t *raw = NULL;
    json_error_t jerr;
    const char *p, *end;
    int rc = 0;

    dbm_array_grow((void **)&outs->items, &outs->cap, outs->count + 1, sizeof(*outs->items));
    pr = &outs->items[outs->count++];
    *pr = pg_query_parse(text);
    if (pr->error) {
        if (from > 0 || to < len)
            return PIECE_FAILED;
        return parse_error(err_line, err_col, sql, len, pr->error);
    }
    end = pr->parse_tree + strlen(pr->parse_tree);
    p = stmts_array(pr->parse_tree, end);
    while (p && (p = skip_json_space(p, end)) < end && *p != ']') {
        size_t loc, n, stop, start, used;
        dbm_stmt *st;

        raw = json_loadb(p, (size_t)(end - p), JSON_DISABLE_EOF_CHECK, &jerr);
        used = raw ? (size_t)jerr.position : 0;
        if (!raw || used == 0 || p[used - 1] != '}') {
            rc = dbm_error_set(DBM_EFAILED, "unable to read the parse tree: %s",
                               raw ? "unexpected statement list" : jerr.text);
            goto done;
        }
        loc = from + raw_field(raw, "stmt_location");
        n = raw_field(raw, "stmt_len");
        stop = n == 0 || loc > to || n > to - loc ? to : loc + n;
        start = skip_space_and_comments(sql, loc, stop);
        if (start < stop) {
            dbm_array_grow((void **)&list->items, cap, list->count + 1, sizeof(*list->items));
            st = &list->items[list->count++];
            memset(st, 0, sizeof(*st));
            st->offset = start;
            st->len = stop - start;
            cursor_advance(cur, sql, len, start);
            st->line = cur->line;
            st->col = cur->col;
            if ((rc = read_stmt(st, err_line, err_col, json_object_get(raw, "stmt"))) < 0)
                goto done;
            if (len <= DBM_SQL_TREE_MAX) {
                st->tree = raw;
                raw = NULL;
            } else {
                st->json = p;
                st->json_len = used;
            }
            if (st->flags & DBM_STMT_NO_TX)
                list->has_no_tx = true;
            if (st->flags & DBM_STMT_TX_CONTROL)
                list->manages_transaction = true;
            if (st->flags & DBM_STMT_SETS_SESSION)
                list->sets_session = true;
        }
        json_decref(raw);
        raw = NULL;
        p = skip_json_space(p + used, end);
        if (p < end && *p == ',')
            p++;
    }
done:
    json_decref(raw);
    return rc;
}

/*
 * A large section in pieces of about PIECE_BYTES, cut after a ';' that
 * libpg_query's scanner finds: the parser's peak memory is then that of one
 * piece, not of the whole section (about 28 times its size). The scanner can
 * misplace a boundary inside CREATE RULE or BEGIN ATOMIC bodies; a piece cut
 * there does not parse, and then the whole section is parsed instead.
 */
#define PIECE_BYTES (256u << 10)

static int parse_in_pieces(dbm_stmt_list *list, size_t *cap, linecol_cursor *cur, int *err_line,
                           int *err_col, const char *sql, size_t len)
{
    PgQuerySplitResult sr = pg_query_split_with_scanner(sql);
    size_t from = 0;
    int rc = 0;

    if (sr.error) {
        rc = PIECE_FAILED;
        goto done;
    }
    for (int i = 0; i < sr.n_stmts && rc == 0; i++) {
        size_t next = i + 1 < sr.n_stmts ? (size_t)sr.stmts[i + 1]->stmt_location : len;
        char *text;

        if (next > len || next < from)
            next = len;
        if (next < len && next - from < PIECE_BYTES)
            continue;
        text = dbm_xstrndup(sql + from, next - from);
        rc = parse_piece(list, cap, cur, err_line, err_col, sql, len, text, from, next);
        free(text);
        from = next;
    }
    if (rc == 0 && from < len) {
        char *text = dbm_xstrndup(sql + from, len - from);
        rc = parse_piece(list, cap, cur, err_line, err_col, sql, len, text, from, len);
        free(text);
    }
done:
    pg_query_free_split_result(sr);
    return rc;
}

static dbm_stmt_list *list_new(void)
{
    dbm_stmt_list *list = dbm_xcalloc(1, sizeof(*list));
    list->parsed = dbm_xcalloc(1, sizeof(parse_outputs));
    return list;
}

int dbm_sql_split(dbm_stmt_list **out, int *err_line, int *err_col, const char *sql, size_t len)
{
    dbm_stmt_list *list = NULL;
    linecol_cursor cur = {0, 1, 1};
    const char *nul;
    size_t cap = 0;
    int rc = 0;

    *out = NULL;
    *err_line = 0;
    *err_col = 0;

    /* The parser reads up to the first NUL: one inside the text would hide the rest. */
    nul = memchr(sql, '\0', len);
    if (nul) {
        dbm_sql_linecol(sql, len, (size_t)(nul - sql), err_line, err_col);
        return dbm_error_set(DBM_EFAILED, "the SQL text contains a NUL byte");
    }

    list = list_new();
    rc = len > DBM_SQL_TREE_MAX ? parse_in_pieces(list, &cap, &cur, err_line, err_col, sql, len)
                                : PIECE_FAILED;
    if (rc == PIECE_FAILED) {
        /* small, or a piece did not parse: the whole section, from an empty list */
        if (len > DBM_SQL_TREE_MAX) {
            dbm_stmt_list_free(list);
            list = list_new();
            cap = 0;
            cur = (linecol_cursor){0, 1, 1};
        }
        rc = parse_piece(list, &cap, &cur, err_line, err_col, sql, len, sql, 0, len);
    }
    if (rc < 0)
        goto done;
    *out = list;
    list = NULL;

done:
    dbm_stmt_list_free(list);
    return rc;
}

void dbm_stmt_list_free(dbm_stmt_list *list)
{
    if (!list)
        return;
    dbm_stmt_list_drop_trees(list);
    for (size_t i = 0; i < list->count; i++) {
        free(list->items[i].tag);
        dbm_stmt_locks_free(&list->items[i]);
    }
    free(list->items);
    free(list);
}

void dbm_stmt_list_drop_trees(dbm_stmt_list *list)
{
    if (!list)
        return;
    for (size_t i = 0; i < list->count; i++) {
        json_decref(list->items[i].tree);
        list->items[i].tree = NULL;
        list->items[i].json = NULL;
        list->items[i].json_len = 0;
    }
    outputs_free(list->parsed);
    list->parsed = NULL;
}

json_t *dbm_stmt_tree(const dbm_stmt_list *list, size_t i)
{
    const dbm_stmt *st = &list->items[i];

    if (st->tree)
        return json_incref(st->tree);
    return st->json ? json_loadb(st->json, st->json_len, 0, NULL) : NULL;
}

const char *dbm_sql_parser_version(void)
{
    return PG_VERSION;
}
