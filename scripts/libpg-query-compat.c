/*
 * libpg-query-compat.c - the two glibc 2.38 functions that Debian's libpg_query 18 calls,
 * for Debian 12's glibc 2.36.
 *
 * scripts/libpg-query.sh compiles this file and adds it to the static library it prepares.
 * Where glibc has them, these definitions in the static archive take precedence over the
 * shared library's, with the same behaviour for what libpg_query asks of them.
 */
#include <stddef.h>
#include <stdlib.h>

size_t strlcpy(char *dst, const char *src, size_t size);
unsigned long __isoc23_strtoul(const char *s, char **end, int base);

/* BSD strlcpy: copy at most size - 1 bytes, always terminate; return strlen(src). */
size_t strlcpy(char *dst, const char *src, size_t size)
{
    size_t len = 0;
    while (src[len] != '\0')
        len++;
    if (size > 0) {
        size_t n = len < size - 1 ? len : size - 1;
        for (size_t i = 0; i < n; i++)
            dst[i] = src[i];
        dst[n] = '\0';
    }
    return len;
}

/* C23's strtoul also reads a 0b prefix in base 0 or 2; libpg_query's scanner uses base 10. */
unsigned long __isoc23_strtoul(const char *s, char **end, int base)
{
    return strtoul(s, end, base);
}
