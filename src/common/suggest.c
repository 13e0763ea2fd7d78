/*
 * suggest.c - the closest known word to a mistyped one.
 */
#include "common/suggest.h"

#include <stdlib.h>
#include <string.h>

#define SUGGEST_MAX_LEN 256 /* longer words are not typed by hand: no suggestion */

static size_t min3(size_t a, size_t b, size_t c)
{
    size_t m = a < b ? a : b;
    return m < c ? m : c;
}

size_t dbm_edit_distance(const char *a, const char *b, size_t limit)
{
    size_t la = strlen(a), lb = strlen(b), result;
    size_t *prev2, *prev, *cur;

    if (la > SUGGEST_MAX_LEN || lb > SUGGEST_MAX_LEN)
        return limit + 1;
    if ((la > lb ? la - lb : lb - la) > limit)
        return limit + 1;
    /* Three rows of the dynamic programme: the one before last is for transpositions. */
    prev2 = calloc(3 * (lb + 1), sizeof(*prev2));
    if (!prev2)
        abort();
    prev = prev2 + lb + 1;
    cur = prev + lb + 1;
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t *t;
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
                prev2[j - 2] + 1 < cur[j])
                cur[j] = prev2[j - 2] + 1;
        }
        t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    result = prev[lb];
    /* prev2, prev and cur rotate through one allocation: free its start. */
    free(prev < prev2 ? (prev < cur ? prev : cur) : (prev2 < cur ? prev2 : cur));
    return result > limit ? limit + 1 : result;
}

const char *dbm_suggest(const char *word, const char *const *candidates, size_t n)
{
    size_t len = strlen(word), limit = len / 3, best_d;
    const char *best = NULL;

    if (limit < 1)
        limit = 1;
    if (limit > 3)
        limit = 3;
    best_d = limit + 1;
    for (size_t i = 0; i < n; i++) {
        size_t d;
        if (!candidates[i])
            continue;
        if (strcmp(candidates[i], word) == 0)
            return NULL;
        d = dbm_edit_distance(word, candidates[i], limit);
        if (d < best_d) {
            best_d = d;
            best = candidates[i];
        }
    }
    return best;
}
