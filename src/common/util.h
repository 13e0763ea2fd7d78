/*
 * util.h - memory, growable buffers, durations, files, hashing.
 *
 * Allocation failure is not recoverable in a short-lived command-line tool:
 * the x* allocators print a message and exit(1), as git does, so callers need
 * not check them. Everything they return belongs to the caller.
 *
 * dbm_buf is git's strbuf in small: `ptr` is always NUL-terminated once
 * anything was added (use dbm_buf_cstr() to get "" for an empty buffer).
 */
#ifndef DBM_UTIL_H
#define DBM_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

void *dbm_xmalloc(size_t n);
void *dbm_xcalloc(size_t count, size_t size);
void *dbm_xrealloc(void *p, size_t n);
char *dbm_xstrdup(const char *s); /* NULL in, NULL out */
char *dbm_xstrndup(const char *s, size_t n);
char *dbm_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* dbm_xasprintf with the arguments as a va_list (which it consumes). Caller frees. */
char *dbm_xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

/* Overwrite a secret with zeros, then free it. Accepts NULL. */
void dbm_secret_free(char *secret);

/* Grow an array of `elem` sized items so that index `need - 1` fits. */
void dbm_array_grow(void **items, size_t *cap, size_t need, size_t elem);

typedef struct {
    char *ptr;
    size_t len;
    size_t cap;
} dbm_buf;

#define DBM_BUF_INIT                                                                               \
    {                                                                                              \
        NULL, 0, 0                                                                                 \
    }

void dbm_buf_grow(dbm_buf *b, size_t extra);
void dbm_buf_put(dbm_buf *b, const char *data, size_t len);
void dbm_buf_puts(dbm_buf *b, const char *s);
void dbm_buf_putc(dbm_buf *b, char c);
void dbm_buf_printf(dbm_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dbm_buf_truncate(dbm_buf *b, size_t len);
const char *dbm_buf_cstr(const dbm_buf *b);
/* Hand the NUL-terminated contents to the caller (never NULL) and reset the buffer. */
char *dbm_buf_detach(dbm_buf *b);
void dbm_buf_free(dbm_buf *b);
/* Zero the contents, then free: for buffers that held a secret. */
void dbm_buf_wipe(dbm_buf *b);

/*
 * Parse a duration: digits, optionally a point and more digits, then ms, s,
 * m (or min) or h ("500ms", "1.5s", "10m", "1h"); a bare "0" is zero. Nothing
 * else: no sign, space, exponent or hexadecimal. Writes milliseconds, rounded.
 * Returns 0, or DBM_ECONFIG with a message naming `option` and `text`.
 */
int dbm_parse_duration_ms(long long *out, const char *option, const char *text);

/* Parse a non-negative integer (digits only). Returns 0, or DBM_ECONFIG naming `option`. */
int dbm_parse_count(long *out, const char *option, const char *text);

/*
 * Read a whole file. *out is NUL-terminated (the NUL is not counted in *len).
 * Returns 0, DBM_ENOTFOUND when it does not exist, or DBM_EGENERIC; a message
 * naming the path is recorded in both error cases.
 */
int dbm_read_file(char **out, size_t *len, const char *path);

/* Monotonic milliseconds, for durations. */
int64_t dbm_now_ms(void);
/* Monotonic microseconds, for statement durations. */
int64_t dbm_now_us(void);
/* Sleep `ms` milliseconds (nothing when ms <= 0). */
void dbm_sleep_ms(long long ms);

/* A function of a library loaded on first use: its name, and where it goes in the table. */
typedef struct {
    const char *name;
    size_t offset;
} dbm_lib_sym;

/*
 * dlopen `soname` (flags as dlopen's) and fill `table` with its functions
 * syms[0..n). False, with why in err (errlen bytes), when the library or a
 * function is missing.
 */
bool dbm_lib_load(const char *soname, int flags, const dbm_lib_sym *syms, size_t n, void *table,
                  char *err, size_t errlen);

/* Lowercase hex SHA-256 of data into hex[65]. */
void dbm_sha256_hex(char hex[65], const void *data, size_t len);

/* True when s is valid UTF-8. On false, *bad_offset is the first bad byte. */
bool dbm_utf8_valid(const char *s, size_t len, size_t *bad_offset);

/* True when s starts with prefix. */
bool dbm_starts_with(const char *s, const char *prefix);

/* An environment variable that is set and non-empty, else NULL. */
const char *dbm_getenv(const char *name);

/* The loaded OpenSSL's version ("3.0.17"), for --version. Static. */
const char *dbm_openssl_version(void);

#endif
