/*
 * sqitch_id.c - Sqitch's change ids, computed as App::Sqitch::Plan::Change
 * computes them (its `info` and `id`), from the change lines of sqitch.plan
 * as App::Sqitch::Plan parses them.
 */
#include "migration/sqitch_id.h"
#include "common/sha1.h"
#include "common/util.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

/* Perl's \s: what Line.pm's note trimming removes. */
static bool perl_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* The note after the first '#': trimmed, then "\\n", "\\r", "\\\\" unescaped (Line.pm). */
static char *note_of(const char *hash)
{
    const char *a = hash ? hash + 1 : "", *z;
    dbm_buf b = DBM_BUF_INIT;

    while (perl_space(*a))
        a++;
    z = a + strlen(a);
    while (z > a && perl_space(z[-1]))
        z--;
    for (const char *p = a; p < z; p++) {
        if (p[0] == '\\' && p + 1 < z && (p[1] == 'n' || p[1] == 'r' || p[1] == '\\')) {
            dbm_buf_putc(&b, p[1] == 'n' ? '\n' : p[1] == 'r' ? '\r' : '\\');
            p++;
        } else {
            dbm_buf_putc(&b, *p);
        }
    }
    return b.len ? dbm_buf_detach(&b) : dbm_xstrdup("");
}

/* "YYYY-MM-DDTHH:MM:SSZ" at s. */
static bool is_date(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:ddZ";

    for (size_t i = 0; i < sizeof(shape) - 1; i++)
        if (shape[i] == 'd' ? !isdigit((unsigned char)s[i]) : s[i] != shape[i])
            return false;
    return true;
}

bool mig_sqitch_meta_parse(mig_sqitch_meta *meta, const char *rest)
{
    const char *hash = strchr(rest, '#'), *end = hash ? hash : rest + strlen(rest);
    const char *p = rest, *lt, *gt;

    memset(meta, 0, sizeof(*meta));
    while (end > p && blank(end[-1]))
        end--;
    while (p < end && blank(*p))
        p++;
    if (p < end && *p == '[') {
        const char *close = memchr(p, ']', (size_t)(end - p));
        if (!close || close == p + 1)
            return false;
        meta->deps = dbm_xstrndup(p + 1, (size_t)(close - p - 1));
        p = close + 1;
        while (p < end && blank(*p))
            p++;
    }
    if (end - p < 20 || !is_date(p))
        goto bad;
    meta->date = dbm_xstrndup(p, 20);
    p += 20;
    while (p < end && blank(*p))
        p++;
    /* (?<planner_name>[^<]+)[[:blank:]]+<(?<planner_email>[^>]+)>$ : the name is greedy, so it
     * keeps every blank before the '<' but the last */
    lt = memchr(p, '<', (size_t)(end - p));
    gt = end - 1;
    if (!lt || lt - p < 2 || !blank(lt[-1]) || *gt != '>' || gt == lt + 1 ||
        memchr(lt + 1, '>', (size_t)(gt - lt - 1)))
        goto bad;
    meta->planner_name = dbm_xstrndup(p, (size_t)(lt - 1 - p));
    meta->planner_email = dbm_xstrndup(lt + 1, (size_t)(gt - lt - 1));
    meta->note = note_of(hash);
    return true;
bad:
    mig_sqitch_meta_free(meta);
    return false;
}

void mig_sqitch_meta_free(mig_sqitch_meta *meta)
{
    free(meta->deps);
    free(meta->date);
    free(meta->planner_name);
    free(meta->planner_email);
    free(meta->note);
    memset(meta, 0, sizeof(*meta));
}

/* The dependencies of one kind (conflicts: those written with '!') as Depend->as_string. */
static void put_deps(dbm_buf *b, const char *deps, const char *project, bool conflicts)
{
    char *copy = dbm_xstrdup(deps), *save = NULL;
    bool first = true;

    for (char *d = strtok_r(copy, " \t", &save); d; d = strtok_r(NULL, " \t", &save)) {
        bool neg = *d == '!';
        char *colon;
        size_t n = strlen(project);

        if (neg != conflicts)
            continue;
        if (neg)
            d++;
        colon = strchr(d, ':');
        /* "proj:name" names another project's change; the plan's own project is left out */
        if (colon && (size_t)(colon - d) == n && strncmp(d, project, n) == 0)
            d = colon + 1;
        if (first)
            dbm_buf_puts(b, conflicts ? "\nconflicts" : "\nrequires");
        dbm_buf_printf(b, "\n  %c %s", conflicts ? '-' : '+', d);
        first = false;
    }
    free(copy);
}

char *mig_sqitch_info(const char *project, const char *uri, const char *name, const char *parent,
                      const mig_sqitch_meta *meta)
{
    dbm_buf b = DBM_BUF_INIT;

    dbm_buf_printf(&b, "project %s", project);
    if (uri) {
        char *canonical = mig_sqitch_uri_canonical(uri);
        dbm_buf_printf(&b, "\nuri %s", canonical);
        free(canonical);
    }
    dbm_buf_printf(&b, "\nchange %s", name);
    if (parent)
        dbm_buf_printf(&b, "\nparent %s", parent);
    dbm_buf_printf(&b, "\nplanner %s <%s>\ndate %s", meta->planner_name, meta->planner_email,
                   meta->date);
    if (meta->deps) {
        put_deps(&b, meta->deps, project, false);
        put_deps(&b, meta->deps, project, true);
    }
    /* Perl's truth: a note "0" counts as none */
    if (meta->note && *meta->note && strcmp(meta->note, "0") != 0)
        dbm_buf_printf(&b, "\n\n%s", meta->note);
    return dbm_buf_detach(&b);
}

void mig_sqitch_id(char out[41], const char *info)
{
    size_t n = strlen(info);
    char *head = dbm_xasprintf("change %zu", n);
    size_t h = strlen(head) + 1; /* with its NUL */
    char *text = dbm_xmalloc(h + n);

    memcpy(text, head, h);
    memcpy(text + h, info, n);
    dbm_sha1_hex(out, text, h + n);
    free(text);
    free(head);
}

static bool unreserved(int c)
{
    return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

static int hexval(char c)
{
    return isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10;
}

/* %xx escapes: unreserved characters unescaped, the others' hex digits uppercased (URI.pm). */
static void put_unescaped(dbm_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1]) &&
            isxdigit((unsigned char)s[i + 2])) {
            int c = hexval(s[i + 1]) * 16 + hexval(s[i + 2]);
            if (unreserved(c))
                dbm_buf_putc(b, (char)c);
            else
                dbm_buf_printf(b, "%%%c%c", toupper((unsigned char)s[i + 1]),
                               toupper((unsigned char)s[i + 2]));
            i += 2;
        } else if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f ||
                   strchr("\"<>\\^`{|}", s[i])) {
            dbm_buf_printf(b, "%%%02X", (unsigned char)s[i]); /* URI->new escapes them */
        } else {
            dbm_buf_putc(b, s[i]);
        }
    }
}

char *mig_sqitch_uri_canonical(const char *uri)
{
    dbm_buf b = DBM_BUF_INIT;
    size_t s = 0;
    const char *rest;

    if (isalpha((unsigned char)uri[0])) {
        s = 1;
        while (isalnum((unsigned char)uri[s]) || uri[s] == '+' || uri[s] == '-' || uri[s] == '.')
            s++;
        if (uri[s] != ':')
            s = 0;
    }
    for (size_t i = 0; i < s; i++)
        dbm_buf_putc(&b, (char)tolower((unsigned char)uri[i]));
    rest = uri + s;
    if (s &&
        ((s == 4 && strncasecmp(uri, "http", 4) == 0) ||
         (s == 5 && strncasecmp(uri, "https", 5) == 0)) &&
        strncmp(rest, "://", 3) == 0) {
        const char *auth = rest + 3, *auth_end = auth + strcspn(auth, "/?#");
        const char *at = NULL, *host, *colon;
        const char *def = s == 4 ? "80" : "443";

        for (const char *p = auth; p < auth_end; p++)
            if (*p == '@')
                at = p;
        host = at ? at + 1 : auth;
        colon = memchr(host, ':', (size_t)(auth_end - host));
        dbm_buf_puts(&b, "://");
        put_unescaped(&b, auth, (size_t)(host - auth));
        for (const char *p = host; p < (colon ? colon : auth_end); p++)
            dbm_buf_putc(&b, (char)tolower((unsigned char)*p));
        if (colon && colon + 1 < auth_end &&
            !((size_t)(auth_end - colon - 1) == strlen(def) &&
              strncmp(colon + 1, def, strlen(def)) == 0))
            dbm_buf_put(&b, colon, (size_t)(auth_end - colon));
        if (*auth_end != '/' && *auth_end != '?')
            dbm_buf_putc(&b, '/');
        put_unescaped(&b, auth_end, strlen(auth_end));
    } else if (s == 3 && strncasecmp(uri, "urn", 3) == 0) { /* URI::urn: the NID lowercased */
        size_t nid = strcspn(rest + 1, ":");
        dbm_buf_putc(&b, ':');
        for (size_t i = 0; i < nid; i++)
            dbm_buf_putc(&b, (char)tolower((unsigned char)rest[1 + i]));
        put_unescaped(&b, rest + 1 + nid, strlen(rest + 1 + nid));
    } else {
        put_unescaped(&b, rest, strlen(rest));
    }
    return dbm_buf_detach(&b);
}
