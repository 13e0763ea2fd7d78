#include "common/util.h"
#include "common/error.h"
#include "common/log.h"

#include <dlfcn.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void die_oom(size_t n)
{
    fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", n);
    exit(1);
}

void *dbm_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        die_oom(n);
    return p;
}

void *dbm_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        die_oom(count * size);
    return p;
}

void *dbm_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        die_oom(n);
    return q;
}

char *dbm_xstrdup(const char *s)
{
    return s ? dbm_xstrndup(s, strlen(s)) : NULL;
}

char *dbm_xstrndup(const char *s, size_t n)
{
    char *p = dbm_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *dbm_xvasprintf(const char *fmt, va_list ap)
{
    va_list again;
    char *p;
    int n;

    va_copy(again, ap);
    n = vsnprintf(NULL, 0, fmt, ap);
    if (n < 0)
        n = 0;
    p = dbm_xmalloc((size_t)n + 1);
    vsnprintf(p, (size_t)n + 1, fmt, again);
    va_end(again);
    p[n] = '\0';
    return p;
}

char *dbm_xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *p;

    va_start(ap, fmt);
    p = dbm_xvasprintf(fmt, ap);
    va_end(ap);
    return p;
}

void dbm_secret_free(char *secret)
{
    if (!secret)
        return;
    explicit_bzero(secret, strlen(secret));
    free(secret);
}

void dbm_array_grow(void **items, size_t *cap, size_t need, size_t elem)
{
    size_t n;

    if (need <= *cap)
        return;
    n = *cap ? *cap * 2 : 8;
    while (n < need)
        n *= 2;
    *items = dbm_xrealloc(*items, n * elem);
    memset((char *)*items + *cap * elem, 0, (n - *cap) * elem);
    *cap = n;
}

void dbm_buf_grow(dbm_buf *b, size_t extra)
{
    size_t need = b->len + extra + 1;
    size_t n;

    if (need <= b->cap)
        return;
    n = b->cap ? b->cap * 2 : 64;
    while (n < need)
        n *= 2;
    b->ptr = dbm_xrealloc(b->ptr, n);
    b->cap = n;
}

void dbm_buf_put(dbm_buf *b, const char *data, size_t len)
{
    dbm_buf_grow(b, len);
    if (len)
        memcpy(b->ptr + b->len, data, len);
    b->len += len;
    b->ptr[b->len] = '\0';
}

void dbm_buf_puts(dbm_buf *b, const char *s)
{
    dbm_buf_put(b, s, strlen(s));
}

void dbm_buf_putc(dbm_buf *b, char c)
{
    dbm_buf_put(b, &c, 1);
}

void dbm_buf_printf(dbm_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n <= 0)
        return;
    dbm_buf_grow(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->ptr + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void dbm_buf_truncate(dbm_buf *b, size_t len)
{
    if (len < b->len) {
        b->len = len;
        b->ptr[len] = '\0';
    }
}

const char *dbm_buf_cstr(const dbm_buf *b)
{
    return b->ptr ? b->ptr : "";
}

char *dbm_buf_detach(dbm_buf *b)
{
    char *p = b->ptr ? b->ptr : dbm_xstrdup("");
    b->ptr = NULL;
    b->len = b->cap = 0;
    return p;
}

void dbm_buf_free(dbm_buf *b)
{
    free(b->ptr);
    b->ptr = NULL;
    b->len = b->cap = 0;
}

void dbm_buf_wipe(dbm_buf *b)
{
    if (b->ptr)
        explicit_bzero(b->ptr, b->cap);
    dbm_buf_free(b);
}

/* "invalid WHAT 'TEXT' for OPTION", on one line whatever TEXT holds (a pasted line end). */
static void invalid_value(const char *what, const char *text, const char *option)
{
    char *shown = dbm_printable(text);

    dbm_error_set(DBM_ECONFIG, "invalid %s '%s' for %s", what, shown, option);
    free(shown);
}

/*
 * The length of the number at the start of text: digits, then optionally a
 * point and digits ("5", "1.5"); 0 when it does not start so. strtod alone
 * would also take "0x10", "1e3", " 5", "+5", "inf" and "nan".
 */
static size_t number_length(const char *text)
{
    size_t n = strspn(text, "0123456789"), frac;

    if (n == 0)
        return 0;
    if (text[n] != '.')
        return n;
    frac = strspn(text + n + 1, "0123456789");
    return frac ? n + 1 + frac : 0;
}

int dbm_parse_duration_ms(long long *out, const char *option, const char *text)
{
    static const struct {
        const char *unit;
        double ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60000}, {"min", 60000}, {"h", 3600000}};
    size_t n = number_length(text);
    double v, mult = -1;

    /* More digits than any duration needs would only lose precision in the double. */
    if (n == 0 || n > 20)
        goto bad;
    v = strtod(text, NULL);
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (strcmp(text + n, units[i].unit) == 0)
            mult = units[i].ms;
    if (text[n] == '\0' && v == 0)
        mult = 0; /* a bare 0: none */
    if (mult < 0 || v * mult > 9.0e15)
        goto bad;
    *out = (long long)(v * mult + 0.5);
    return 0;
bad:
    invalid_value("duration", text, option);
    dbm_error_hint("write digits, an optional decimal fraction, then a unit (ms, s, m or h): "
                   "500ms, 1.5s, 10m, 1h; 0 for none");
    return DBM_ECONFIG;
}

int dbm_parse_count(long *out, const char *option, const char *text)
{
    char *end = NULL;
    long v;

    errno = 0;
    /* Digits only: strtol would also take " 3", "+3" and "-0". */
    v = text[0] >= '0' && text[0] <= '9' ? strtol(text, &end, 10) : -1;
    if (end == text || !end || *end || errno || v < 0) {
        invalid_value("number", text, option);
        dbm_error_hint("write a whole number, 0 or more");
        return DBM_ECONFIG;
    }
    *out = v;
    return 0;
}

int dbm_read_file(char **out, size_t *len, const char *path)
{
    FILE *f = fopen(path, "rb");
    dbm_buf b = DBM_BUF_INIT;
    char chunk[65536];
    size_t n;

    if (!f) {
        int code = errno == ENOENT ? DBM_ENOTFOUND : DBM_EGENERIC;
        return dbm_error_set(code, "unable to read '%s': %s", path, strerror(errno));
    }
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        dbm_buf_put(&b, chunk, n);
    if (ferror(f)) {
        int err = errno;
        fclose(f);
        dbm_buf_free(&b);
        return dbm_error_set(DBM_EGENERIC, "unable to read '%s': %s", path, strerror(err));
    }
    fclose(f);
    *len = b.len;
    *out = dbm_buf_detach(&b);
    return 0;
}

int64_t dbm_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t dbm_now_ms(void)
{
    return dbm_now_us() / 1000;
}

void dbm_sleep_ms(long long ms)
{
    struct timespec ts;

    if (ms <= 0)
        return;
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)(ms % 1000) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/*
 * EVP_sha256() makes every digest look the algorithm up again in the provider
 * tables, which costs more than hashing a typical migration. Fetch it once.
 */
static EVP_MD *sha256_md;
static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;

static void sha256_fetch(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
}

void dbm_sha256_hex(char hex[65], const void *data, size_t len)
{
    static const char digits[] = "0123456789abcdef";
    unsigned char md[32];
    unsigned int mdlen = 0;

    pthread_once(&sha256_once, sha256_fetch);
    EVP_Digest(data, len, md, &mdlen, sha256_md ? sha256_md : EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[md[i] >> 4];
        hex[2 * i + 1] = digits[md[i] & 15];
    }
    hex[64] = '\0';
}

bool dbm_utf8_valid(const char *s, size_t len, size_t *bad_offset)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;

    while (i < len) {
        unsigned char c = p[i];
        size_t n;
        unsigned int cp;

        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            n = 1;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            n = 2;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            n = 3;
            cp = c & 0x07;
        } else {
            goto bad;
        }
        for (size_t k = 1; k <= n; k++) {
            if (i + k >= len || (p[i + k] & 0xc0) != 0x80)
                goto bad;
            cp = (cp << 6) | (p[i + k] & 0x3f);
        }
        if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            goto bad;
        i += n + 1;
    }
    return true;
bad:
    if (bad_offset)
        *bad_offset = i;
    return false;
}

bool dbm_starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

const char *dbm_getenv(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

bool dbm_lib_load(const char *soname, int flags, const dbm_lib_sym *syms, size_t n, void *table,
                  char *err, size_t errlen)
{
    void *h = dlopen(soname, flags);

    if (!h) {
        snprintf(err, errlen, "%s", dlerror());
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        void *f = dlsym(h, syms[i].name);
        if (!f) {
            snprintf(err, errlen, "%s lacks %s", soname, syms[i].name);
            return false;
        }
        memcpy((char *)table + syms[i].offset, &f, sizeof(f));
    }
    return true;
}

const char *dbm_openssl_version(void)
{
    return OpenSSL_version(OPENSSL_VERSION_STRING);
}
