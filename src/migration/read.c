/*
 * Reading migration files: one read into a stack buffer for the usual small
 * file, normalization in place, the encoding checks, and the checksum.
 */
#include "migration/read.h"
#include "common/error.h"
#include "common/log.h"
#include "common/util.h"
#include "migration/migration.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Size of the first read: most migrations fit, so most files take one read and no fstat. */
#define FIRST_READ 65536

void dbm_checksum(char out[72], const char *text, size_t len)
{
    char hex[65];

    dbm_sha256_hex(hex, text, len);
    memcpy(out, "sha256:", 7);
    memcpy(out + 7, hex, 65);
}

/* Drop a leading UTF-8 BOM and turn CRLF into LF, in place. Returns the new length. */
static size_t normalize(char *s, size_t len)
{
    size_t r = 0, w = 0;
    char *cr;

    if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
        r = 3;
    cr = memchr(s + r, '\r', len - r);
    if (!cr) {
        if (r)
            memmove(s, s + r, len - r);
        s[len - r] = '\0';
        return len - r;
    }
    while (r < len) {
        char *next = memchr(s + r, '\r', len - r);
        size_t chunk = next ? (size_t)(next - (s + r)) : len - r;

        memmove(s + w, s + r, chunk);
        w += chunk;
        r += chunk;
        if (r < len) { /* at a CR */
            if (r + 1 < len && s[r + 1] == '\n')
                r++;
            else
                s[w++] = s[r++];
        }
    }
    s[w] = '\0';
    return w;
}

int mig_line_of(const char *s, size_t offset)
{
    int line = 1;
    const char *p = s, *end = s + offset;

    while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
        line++;
        p++;
    }
    return line;
}

char *mig_join(const char *dir, const char *rel)
{
    size_t n = strlen(dir);
    return n && dir[n - 1] == '/' ? dbm_xasprintf("%s%s", dir, rel)
                                  : dbm_xasprintf("%s/%s", dir, rel);
}

int mig_io_error(const char *verb, const char *path, int err)
{
    char *shown = dbm_printable(path);
    bool denied = err == EACCES || err == EPERM || err == EROFS;
    int rc = dbm_error_set(denied ? DBM_ECONFIG : DBM_EGENERIC, "unable to %s '%s': %s", verb,
                           shown, strerror(err));

    if (denied)
        dbm_error_hint("db-migrate runs as uid %u, which may not %s it: change its owner or "
                       "mode (chown, chmod)%s",
                       (unsigned)geteuid(), verb,
                       err == EROFS ? ", or use a writable migrations-dir" : "");
    free(shown);
    return rc;
}

static int read_failed(const char *dir, const char *rel, int err)
{
    char *shown = mig_join(dir, rel);
    int rc = mig_io_error("read", shown, err);
    free(shown);
    return rc;
}

/*
 * The first read, into a stack buffer. A short read of a regular file is its
 * end: then *out is the whole text and *cap is 0. Otherwise *out holds what
 * was read in a heap buffer of *cap bytes (sized from fstat) for read_rest.
 */
static int read_first(char **out, size_t *len, size_t *cap, int fd, const char *dir,
                      const char *rel)
{
    char first[FIRST_READ];
    struct stat st;
    ssize_t n;

    do
        n = read(fd, first, sizeof(first));
    while (n < 0 && errno == EINTR);
    if (n < 0)
        return read_failed(dir, rel, errno);
    *len = (size_t)n;
    if (*len < sizeof(first)) {
        *out = dbm_xstrndup(first, *len);
        *cap = 0;
        return 0;
    }
    *cap = fstat(fd, &st) == 0 && (size_t)st.st_size >= *len ? (size_t)st.st_size + 1
                                                             : 2 * sizeof(first);
    *out = dbm_xmalloc(*cap);
    memcpy(*out, first, *len);
    return 0;
}

/* Read the rest of a file that filled the first read, growing *buf (of *cap bytes) as needed. */
static int read_rest(char **buf, size_t *len, size_t cap, int fd, const char *dir, const char *rel)
{
    for (;;) {
        ssize_t n;

        if (*len + 1 >= cap) {
            cap *= 2;
            *buf = dbm_xrealloc(*buf, cap);
        }
        n = read(fd, *buf + *len, cap - *len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return read_failed(dir, rel, errno);
        if (n == 0)
            return 0;
        *len += (size_t)n;
    }
}

/* DBM_ECONFIG naming the line when normalized text holds a NUL byte or is not UTF-8. */
static int check_text(const char *buf, size_t len, const char *dir, const char *rel)
{
    const char *nul = memchr(buf, '\0', len);
    char *shown;
    size_t bad;
    int rc;

    if (nul) {
        shown = mig_join(dir, rel);
        rc = dbm_error_set(DBM_ECONFIG, "'%s' holds a NUL byte at line %d", shown,
                           mig_line_of(buf, (size_t)(nul - buf)));
        dbm_error_hint("migrations are UTF-8 text; remove the NUL byte");
        free(shown);
        return rc;
    }
    if (!dbm_utf8_valid(buf, len, &bad)) {
        shown = mig_join(dir, rel);
        rc = dbm_error_set(DBM_ECONFIG, "'%s' is not valid UTF-8 at line %d", shown,
                           mig_line_of(buf, bad));
        dbm_error_hint("convert the file to UTF-8, e.g. iconv -f LATIN1 -t UTF-8");
        free(shown);
        return rc;
    }
    return 0;
}

/* The file's bytes as they are on disk, NUL-terminated. */
static int read_bytes(char **out, size_t *out_len, int dfd, const char *dir, const char *rel,
                      bool optional)
{
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int fd, rc = 0;

    fd = openat(dfd, rel, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT && optional)
            return DBM_ENOTFOUND;
        return read_failed(dir, rel, errno);
    }
    if ((rc = read_first(&buf, &len, &cap, fd, dir, rel)) < 0)
        goto done;
    if (cap > 0 && (rc = read_rest(&buf, &len, cap, fd, dir, rel)) < 0)
        goto done;
    buf[len] = '\0';
    *out = buf;
    *out_len = len;
    buf = NULL;
done:
    close(fd);
    free(buf);
    return rc;
}

/*
 * Syscalls dominate loading thousands of small files: one read into a stack
 * buffer usually gets the whole file, so there is no fstat and no second read.
 * The path shown in messages is built only when there is something to say.
 */
int mig_read_text(char **out, size_t *out_len, int dfd, const char *dir, const char *rel,
                  bool optional)
{
    char *buf = NULL;
    size_t len = 0;
    int rc = read_bytes(&buf, &len, dfd, dir, rel, optional);

    if (rc < 0)
        return rc;
    len = normalize(buf, len);
    if ((rc = check_text(buf, len, dir, rel)) < 0) {
        free(buf);
        return rc;
    }
    *out = buf;
    *out_len = len;
    return 0;
}

int mig_read_raw(char **out, size_t *out_len, int dfd, const char *dir, const char *rel)
{
    return read_bytes(out, out_len, dfd, dir, rel, false);
}
