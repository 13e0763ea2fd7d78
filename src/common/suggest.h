/*
 * suggest.h - "did you mean": the closest of a few known words to a mistyped
 * one, by edit distance.
 *
 * Pure: no I/O, no allocation kept. What counts as close enough is here, so
 * that commands, options and versions suggest alike.
 */
#ifndef DBM_SUGGEST_H
#define DBM_SUGGEST_H

#include <stddef.h>

/*
 * Optimal string alignment distance between a and b (insertions, deletions,
 * substitutions and transpositions of adjacent characters each cost 1),
 * counted up to `limit`: any distance above it is returned as limit + 1.
 */
size_t dbm_edit_distance(const char *a, const char *b, size_t limit);

/*
 * The candidate closest to `word` (candidates[0..n), NULL entries skipped),
 * when it is close enough to be a typo of it: at most a third of the word's
 * length away (at least 1, at most 3 edits). NULL when none is, or when the
 * word is itself a candidate. The result is borrowed from candidates; ties
 * go to the earlier candidate.
 */
const char *dbm_suggest(const char *word, const char *const *candidates, size_t n);

#endif
