/*
 * message.c - libpq's and the server's error text as one clean line.
 */
#include "postgres/message.h"

#include <stdbool.h>
#include <string.h>

/* Length of a leading "SEVERITY:  " in s (upper-case letters only), else 0. */
static size_t severity_length(const char *s, size_t len)
{
    size_t i = 0;

    while (i < len && ((s[i] >= 'A' && s[i] <= 'Z') || (unsigned char)s[i] >= 0x80))
        i++;
    if (i == 0 || i + 3 > len || memcmp(s + i, ":  ", 3) != 0)
        return 0;
    return i + 3;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

size_t dbm_db_message_clean(char *out, size_t size, const char *raw, size_t len)
{
    size_t n = 0, i = 0;
    bool quoted = false, pending = false, cut = false;

    if (size == 0)
        return 0;
    if (!raw)
        len = 0;
    while (i < len && is_space(raw[i]))
        i++;
    i += severity_length(raw + i, len - i);
    for (; i < len && raw[i]; i++) {
        char c = raw[i];

        /* A quoted name keeps its spaces: it is how the object is spelled. */
        if (is_space(c) && !(quoted && c == ' ')) {
            pending = n > 0;
            continue;
        }
        if (pending && n + 1 < size)
            out[n++] = ' ';
        pending = false;
        if (n + 1 >= size) {
            cut = true;
            break;
        }
        out[n++] = c;
        quoted = c == '"' ? !quoted : quoted;
    }
    while (n > 0 && out[n - 1] == ' ')
        n--;
    if (cut && size > 4) {
        /* Room for "...", without splitting a UTF-8 sequence. */
        n = n > size - 4 ? size - 4 : n;
        while (n > 0 && ((unsigned char)out[n] & 0xC0) == 0x80)
            n--;
        memcpy(out + n, "...", 3);
        n += 3;
    }
    out[n] = '\0';
    return n;
}

const char *dbm_db_message(const PGresult *res, PGconn *conn)
{
    static _Thread_local char line[2048];
    const char *msg = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;

    if (msg)
        dbm_db_message_clean(line, sizeof(line), msg, strlen(msg));
    else {
        msg = conn ? PQerrorMessage(conn) : "";
        /* libpq's lines after the first only explain it ("This probably means ..."). */
        while (*msg == '\n')
            msg++;
        dbm_db_message_clean(line, sizeof(line), msg, strcspn(msg, "\n"));
    }
    return *line ? line : "connection lost";
}
